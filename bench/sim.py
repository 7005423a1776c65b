"""Simulation speed of the demo layer: simulated cycles per second and build seconds, per simulator and testbench.

Writes bench/results/sim.json. Run with `.venv/bin/python bench/sim.py` (about 15 minutes on 2 cores, most
of it the per-cycle testbench on Icarus).

The layer is the demo's (`wccgen demo`: blocks.0.expand of the shipped WCC 25 % model, 16x16, 16 -> 64
channels, PE 8 x SIMD 8, ECP5 primitives), fed the activations of photographs as `wccgen simulate` feeds it,
every internal stream and the output compared with the integer model. Rows, all measured in this one run on
this machine, each with a build cache of its own (so build seconds are a fresh build):

- ``testbench: python-per-cycle``: the testbench as it was before the HDL players and recorders (commit
  ``OLD_TESTBENCH``, its cocotb sources, sinks and seven tap monitors doing Python work every cycle, with
  that commit's DP16KD model), on Icarus and on Verilator (built by this version's build step);
- ``testbench: hdl``: this version's, on Icarus and Verilator, for the demo's 3 frames, and on Verilator for
  every 16x16 tile of a 96x128 photograph (48 frames).

``cycles_per_second`` is the simulated cycles over the simulator run's wall time (start-up included);
``build_seconds`` is the compilation of the design for the simulator.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
#: The last commit with the per-cycle Python testbench.
OLD_TESTBENCH = "736f333"
LAYER = ("wcc25", "blocks.0.expand", 16, 16)


def progress(message):
    print(f"[bench/sim] {message}", file=sys.stderr, flush=True)


def machine():
    """What this run was measured on."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"hostname": platform.node(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": platform.platform()}


def old_package(workdir):
    """The package of commit ``OLD_TESTBENCH`` laid out for import (``wccgen`` with its four subpackages)."""
    tree = workdir / "old_tree"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", OLD_TESTBENCH], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    package = workdir / "old_package"
    shutil.copytree(tree / "wccgen", package / "wccgen")
    for sub in ("hw", "gen", "sim", "golden"):
        (package / "wccgen" / sub).symlink_to(tree / sub)
    return package


def run_old(out, simulator, frames, package, cache):
    """The old testbench on ``out`` in a process that imports the old package; its summary and timings."""
    env = {**os.environ, "PYTHONPATH": str(package), "WCCGEN_SIM_CACHE": str(cache)}
    command = [sys.executable, str(Path(__file__).resolve()), "--old-worker", str(out), simulator, str(frames)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=str(out.parent))
    if done.returncode:
        raise RuntimeError(f"old testbench on {simulator} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def old_worker(out, simulator, frames):
    """Runs inside the old package: its ``simulate``, on Verilator through this version's build step."""
    import importlib.util

    import wccgen.sim.harness as old_harness
    from wccgen.gen.layer import simulate

    timings = {}
    if simulator == "verilator":
        # The old harness knows only Icarus; its cocotb testbench runs unchanged on a Verilator build.
        spec = importlib.util.spec_from_file_location("new_simulators", REPO / "sim" / "simulators.py")
        simulators = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(simulators)

        class VerilatorAdapter:
            def build(self, sources, hdl_toplevel, build_dir, **_):
                self.made = simulators.build_simulation("verilator", sources, hdl_toplevel)
                timings["build_seconds"] = self.made.build_seconds

            def test(self, build_dir, **options):
                start = time.monotonic()
                try:
                    self.made.runner.test(build_dir=self.made.build_dir, test_dir=build_dir,
                                          hdl_toplevel_lang="verilog", **options)
                finally:
                    timings["run_seconds"] = time.monotonic() - start

        old_harness.get_runner = lambda name: VerilatorAdapter()
    else:
        runner_class = old_harness.get_runner("icarus").__class__

        class TimedIcarus(runner_class):
            def build(self, **options):
                start = time.monotonic()
                super().build(**options)
                timings["build_seconds"] = time.monotonic() - start

            def test(self, **options):
                start = time.monotonic()
                try:
                    return super().test(**options)
                finally:
                    timings["run_seconds"] = time.monotonic() - start

        old_harness.get_runner = lambda name: TimedIcarus()
    summary = simulate(out, frames=frames)
    cycles = json.loads((Path(out) / "sim" / "report.json").read_text())
    simulated = cycles["last_out_cycles"][-1] if cycles.get("last_out_cycles") else None
    print(json.dumps({"bit_exact": summary["bit_exact"], "cycles": simulated, **timings}))


def row(testbench, simulator, frames, bit_exact, cycles, run_seconds, build_seconds):
    return {"testbench": testbench, "simulator": simulator, "frames": frames, "bit_exact": bit_exact,
            "cycles": cycles, "run_seconds": round(run_seconds, 2),
            "cycles_per_second": round(cycles / run_seconds) if cycles and run_seconds else None,
            "build_seconds": round(build_seconds, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "sim.json")
    parser.add_argument("--frames", type=int, default=3, help="frames of the testbench comparison (default 3)")
    parser.add_argument("--full-frames", type=int, default=48, help="frames of the long Verilator run (default 48)")
    parser.add_argument("--skip-old", action="store_true", help="leave out the per-cycle testbench")
    parser.add_argument("--old-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.old_worker:
        out, simulator, frames = args.old_worker
        old_worker(Path(out), simulator, int(frames))
        return 0

    from wccgen.gen.layer import default_checkpoint, generate, layer_from_checkpoint, simulate

    workdir = Path(tempfile.mkdtemp(prefix="wccgen-bench-sim-"))
    stage, layer_name, height, width = LAYER
    checkpoint = Path(default_checkpoint()).with_name(f"{stage}.pt")
    out = workdir / "layer"
    # PE 8 x SIMD 8, as the rows of bench/results/sim.json and docs/verification.md were measured (the layer's
    # default array is now the balanced PE 8 x SIMD 4).
    generate(layer_from_checkpoint(checkpoint, layer_name, height, width), out, pe=8, simd=8, device="ecp5-85f",
             force=True, progress=progress)
    rows = []
    if not args.skip_old:
        package = old_package(workdir)
        for simulator in ("icarus", "verilator"):
            copy = workdir / f"old_{simulator}"
            shutil.copytree(out, copy)
            progress(f"per-cycle testbench on {simulator}, {args.frames} frames")
            result = run_old(copy, simulator, args.frames, package, workdir / f"cache_old_{simulator}")
            rows.append(row("python-per-cycle", simulator, args.frames, result["bit_exact"], result["cycles"],
                            result["run_seconds"], result["build_seconds"]))
            progress(f"  {rows[-1]}")
    for simulator, frames in (("icarus", args.frames), ("verilator", args.frames), ("verilator", args.full_frames)):
        os.environ["WCCGEN_SIM_CACHE"] = str(workdir / f"cache_{simulator}_{frames}")
        progress(f"HDL testbench on {simulator}, {frames} frames")
        summary = simulate(out, frames=frames, simulator=simulator)
        rows.append(row("hdl", simulator, frames, summary["bit_exact"], summary["simulated_cycles"],
                        summary["run_seconds"], summary["build_seconds"]))
        progress(f"  {rows[-1]}")
    result = {
        "benchmark": "simulation speed of the demo layer",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "layer": {"checkpoint": stage, "layer": layer_name, "height": height, "width": width,
                  "target": "ecp5-85f", "streams_compared": "output and six taps"},
        "old_testbench_commit": OLD_TESTBENCH,
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(workdir, ignore_errors=True)
    progress(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
