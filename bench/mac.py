"""Benchmark of the compute blocks: the PE x SIMD MAC array and the requantizer, on ECP5-85F.

Writes bench/results/mac.json. Run with `make bench` (or `.venv/bin/python bench/mac.py`).
Stimulus: layers calibrated on skimage.data photographs and exported
(``golden.calibrated_layer``): their weights, the kept codes of the
photographs' activations, and the inverse Haar output for the requantizer.
Targets the JSON reports against: cycles per kept position equal to the bound
ceil(Cin/SIMD) * ceil(Cout/PE), MAC utilization >= 95 % over whole frames
(useful MACs / (MULT18X18D * cycles)), PE*SIMD MULT18X18D and no multiplier
built from LUTs, Fmax >= 200 MHz. Each block is placed with placer seeds 1..N
(``--seeds``, default 3) and the fastest placement reported, with every seed's Fmax.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from wccgen.gen.synth import synthesize
from wccgen.golden import calibrated_layer, pointwise_mac, requantize
from wccgen.hw.pointwise_mac import PointwiseMACSpec
from wccgen.hw.requantizer import RequantizerSpec
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.harness import run_block, toplevel_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
from haar import FMAX_TARGET_MHZ, add_seeds_argument, write_summary  # noqa: E402

ROOT = Path(__file__).resolve().parent
UTILIZATION_TARGET = 0.95
PHOTOS = ["astronaut", "coffee", "chelsea"]
HEIGHT, WIDTH, LEVELS, RATE = 32, 32, 3, 0.25

CONFIGS = [
    # block, channels_in, channels_out, pe, simd, writable (MAC) / lanes (requantizer)
    ("PointwiseMAC", 16, 16, 4, 4, False),
    ("PointwiseMAC", 32, 32, 8, 8, False),
    ("PointwiseMAC", 64, 64, 8, 16, False),
    ("PointwiseMAC", 24, 24, 5, 8, False),
    ("PointwiseMAC", 16, 24, 4, 4, True),
    ("Requantizer", 16, 16, None, None, 4),
    ("Requantizer", 64, 64, None, None, 8),
]
QUICK = [CONFIGS[0], CONFIGS[5]]


def progress(message):
    print(f"[bench/mac] {message}", file=sys.stderr, flush=True)


def layer_traces(channels_in, channels_out):
    """One exported layer (calibrated on the first photograph) and its traces on every photograph."""
    bundle, _ = calibrated_layer(PHOTOS[0], HEIGHT, WIDTH, channels_in, channels_out, levels=LEVELS, rate=RATE)
    traces = []
    for photo in PHOTOS:
        other, trace = calibrated_layer(photo, HEIGHT, WIDTH, channels_in, channels_out, levels=LEVELS, rate=RATE)
        # Each photograph gets its own clips; the weights are the same seeded ones.
        assert np.array_equal(other.weights, bundle.weights)
        traces.append(trace)
    return bundle, traces


def measure_mac(config, workdir, seeds=(1,)):
    block, channels_in, channels_out, pe, simd, writable = config
    name = f"pointwise_mac_{channels_in}x{channels_out}_pe{pe}_simd{simd}" + ("_writable" if writable else "")
    bundle, traces = layer_traces(channels_in, channels_out)
    params = dict(channels_in=channels_in, channels_out=channels_out, pe=pe, simd=simd,
                  weights=bundle.weights.tolist(), writable=writable)
    unit = PointwiseMACSpec(**params)
    frames = [trace.codes for trace in traces]
    expected = [pointwise_mac(bundle.weights, codes) for codes in frames]
    progress(f"{name}: simulating {len(frames)} frames of {frames[0].shape[1]} kept positions")
    started = time.monotonic()
    report = run_block(block, params, frames, expected, workdir / name / "sim", target="ecp5")
    simulated = time.monotonic() - started
    resources = place(unit, block, params, workdir / name, seeds)
    kept = sum(codes.shape[1] for codes in frames)
    # Whole run: from the first code accepted to the last sum delivered.
    total_cycles = report["last_out_cycles"][-1] - report["first_in_cycle"] + 1 if report["passed"] else None
    useful_macs = channels_in * channels_out * kept
    cycles = report.get("cycles_per_frame")
    result = {
        "name": name, "block": block, "params": {k: v for k, v in params.items() if k != "weights"},
        "bit_exact": report["passed"], "kept_per_frame": frames[0].shape[1], "frames": len(frames),
        "cycle_bound_per_position": unit.folds, "cycles_per_position_expected": unit.cycles_per_vector,
        "cycles_per_position": cycles / frames[0].shape[1] if cycles else None,
        "cycles_per_frame": cycles, "total_cycles": total_cycles,
        "total_cycle_bound": unit.folds * kept,
        "mac_utilization": useful_macs / (unit.hard_multipliers * total_cycles) if total_cycles else None,
        "lanes_in": unit.lanes_in, "lanes_out": unit.lanes_out, "acc_bits": unit.acc_bits,
        "simulation_seconds": round(simulated, 2), **resources,
    }
    result["targets"] = {
        "cycles_at_bound": result["cycles_per_position"] == unit.folds,
        "mac_utilization_95": (result["mac_utilization"] or 0) >= UTILIZATION_TARGET,
        "pe_simd_mult18x18d": resources["dsps"] == unit.hard_multipliers and resources["lut_multipliers"] == 0,
        "fmax_200mhz": (resources["fmax_mhz"] or 0) >= FMAX_TARGET_MHZ,
    }
    progress(f"{name}: {resources['luts']} LUT, {resources['ffs']} FF, {resources['dsps']} DSP, "
             f"{resources['fmax_mhz']} MHz, {result['cycles_per_position']} cycles/position "
             f"(bound {unit.folds}), utilization {result['mac_utilization']}")
    return result


def measure_requantizer(config, workdir, seeds=(1,)):
    block, channels_in, channels_out, _, _, lanes = config
    bundle, traces = layer_traces(channels_in, channels_out)
    name = f"requantizer_{channels_out}ch_l{lanes}_v{bundle.config.inverse_width}"
    params = dict(channels=channels_out, lanes=lanes, value_bits=bundle.config.inverse_width,
                  out_bits=bundle.config.out_bits, multipliers=bundle.out_multiplier.tolist(),
                  shifts=bundle.out_shift.tolist(), biases=bundle.out_bias.tolist(), out_min=bundle.out_min,
                  out_max=bundle.out_max)
    unit = RequantizerSpec(**params)
    # The first photograph's layer: its own requantizer table on its own inverse Haar output.
    frames, expected = [traces[0].inverse], [traces[0].output]
    frames.append(traces[0].inverse[:, ::-1, :].copy())  # a second frame, rows reversed
    expected.append(requantize(frames[1], bundle.out_multiplier, bundle.out_shift, bundle.out_bias,
                               bundle.out_min, bundle.out_max))
    progress(f"{name}: simulating {len(frames)} frames")
    started = time.monotonic()
    report = run_block(block, params, frames, expected, workdir / name / "sim", target="ecp5")
    simulated = time.monotonic() - started
    resources = place(unit, block, params, workdir / name, seeds)
    beats = HEIGHT * WIDTH * unit.groups
    cycles = report.get("cycles_per_frame")
    result = {
        "name": name, "block": block, "params": params, "bit_exact": report["passed"],
        "beats_per_frame": beats, "cycles_per_frame": cycles, "latency_cycles": unit.latency,
        "hard_multipliers_per_lane": resources["dsps"] / lanes, "simulation_seconds": round(simulated, 2),
        **resources,
    }
    result["targets"] = {"one_beat_per_clock": cycles == beats,
                         "no_lut_multipliers": resources["lut_multipliers"] == 0,
                         "fmax_200mhz": (resources["fmax_mhz"] or 0) >= FMAX_TARGET_MHZ}
    progress(f"{name}: {resources['luts']} LUT, {resources['ffs']} FF, {resources['dsps']} DSP, "
             f"{resources['fmax_mhz']} MHz, {cycles} cycles/frame for {beats} beats")
    return result


def place(unit, block, params, workdir, seeds):
    """Synthesize and place the block's ECP5 Verilog; the resources without the raw cell list."""
    progress(f"{workdir.name}: synthesis and place-and-route")
    top = toplevel_name(block)
    verilog_path = workdir / f"{top}.v"
    verilog_path.parent.mkdir(parents=True, exist_ok=True)
    verilog_path.write_text(emit_verilog(unit, top, params, target="ecp5"))
    resources = synthesize(verilog_path, top, workdir / "synth", clock_mhz=FMAX_TARGET_MHZ, seeds=seeds)
    return {**{k: v for k, v in resources.items() if k != "cells"}, "cells": resources["cells"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one configuration per block")
    parser.add_argument("--only", type=int, action="append", help="index of a configuration to run (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "mac.json")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "mac")
    add_seeds_argument(parser)
    args = parser.parse_args(argv)
    configs = [CONFIGS[i] for i in args.only] if args.only else (QUICK if args.quick else CONFIGS)
    results = [(measure_mac if c[0] == "PointwiseMAC" else measure_requantizer)(c, args.workdir, range(1, args.seeds + 1))
               for c in configs]
    write_summary(args.out, "mac",
                  f"layers calibrated on skimage.data photographs ({', '.join(PHOTOS)}) and exported: their weights, "
                  f"the kept codes of the photographs' activations ({HEIGHT}x{WIDTH}, {LEVELS} levels, rate {RATE}), "
                  f"and the inverse Haar output",
                  {"cycles_per_position": "ceil(Cin/SIMD) * ceil(Cout/PE)", "mac_utilization_min": UTILIZATION_TARGET,
                   "mult18x18d": "PE * SIMD", "fmax_mhz_min": FMAX_TARGET_MHZ}, results)
    progress(f"wrote {args.out}")
    return 0 if all(r["bit_exact"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
