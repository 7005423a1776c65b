"""Benchmark of the encoder and decoder: resources and Fmax on ECP5-85F, cycles per frame in simulation.

Writes bench/results/select.json. Run with `make bench` (or `.venv/bin/python bench/selection.py`).
Targets the JSON reports against: after a frame has arrived, the selector and
packer take at most 3 passes over the frame's positions (plus pipeline
latency and the value words themselves), and Fmax >= 200 MHz. Each block is
placed with placer seeds 1..N (``--seeds``, default 3) and the fastest
placement reported, with every seed's Fmax.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from wccgen.gen.synth import synthesize
from wccgen.golden import compressor, haar_forward, photograph_codes, scatter
from wccgen.hw.compressor import Compressor, CompressorSpec
from wccgen.hw.decompressor import Decompressor
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.harness import run_block, toplevel_name
from wccgen.sim.streams import bytes_to_words

sys.path.insert(0, str(Path(__file__).resolve().parent))
from haar import FMAX_TARGET_MHZ, add_seeds_argument, write_summary  # noqa: E402

ROOT = Path(__file__).resolve().parent
PASSES_TARGET = 3
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "camera", "brick"]

CONFIGS = [
    # block, height, width, channels, lanes, levels, rate
    ("Compressor", 32, 32, 16, 4, 3, 0.5),
    ("Compressor", 32, 32, 16, 4, 3, 0.25),
    ("Compressor", 32, 32, 16, 4, 3, 0.125),
    ("Compressor", 64, 64, 16, 4, 3, 0.25),
    ("Decompressor", 32, 32, 16, 4, 3, 0.25),
    ("Decompressor", 64, 64, 16, 4, 3, 0.25),
]
QUICK = [CONFIGS[1], CONFIGS[4]]


def progress(message):
    print(f"[bench/select] {message}", file=sys.stderr, flush=True)


def quantizer_factors(levels, in_bits=8, bit_a=8, seed=0):
    rng = np.random.default_rng(seed)
    return ([int(m) for m in rng.integers(1 << 14, 1 << 15, size=levels)],
            [15 + in_bits - bit_a + level for level in range(1, levels + 1)])


def workload(block, height, width, channels, lanes, levels, rate, count=4):
    """Parameters, input frames and expected output of a configuration, from real photographs."""
    multipliers, shifts = quantizer_factors(levels)
    coefficients = [haar_forward(photograph_codes(PHOTOS[i % len(PHOTOS)], height, width, channels, seed=i), levels)
                    for i in range(count)]
    geometry = dict(height=height, width=width, channels=channels, lanes=lanes, levels=levels, rate=rate, bit_a=8)
    encoder = CompressorSpec(**geometry, in_bits=8, multipliers=multipliers, shifts=shifts)
    encoded = [compressor(c, levels, encoder.keep, multipliers, shifts, 8) for c in coefficients]
    streams = [bytes_to_words(e.stream, encoder.word_bits, encoder.words_per_frame) for e in encoded]
    if block == "Compressor":
        return dict(geometry, in_bits=8, multipliers=multipliers, shifts=shifts), coefficients, streams, encoded
    frames = [scatter(e.indices, e.codes, c.shape[1], c.shape[2]) for e, c in zip(encoded, coefficients)]
    return geometry, streams, frames, encoded


def measure(config, workdir, seeds=(1,)):
    block, height, width, channels, lanes, levels, rate = config
    name = f"{toplevel_name(block)}_{height}x{width}x{channels}_l{lanes}_L{levels}_r{rate}"
    params, inputs, expected, encoded = workload(*config)
    unit = {"Compressor": Compressor, "Decompressor": Decompressor}[block](**params)
    progress(f"{name}: simulating {len(inputs)} frames")
    started = time.monotonic()
    report = run_block(block, params, inputs, expected, workdir / name / "sim", target="ecp5")
    simulated = time.monotonic() - started
    progress(f"{name}: synthesis and place-and-route")
    top = toplevel_name(block)
    verilog_path = workdir / name / f"{top}.v"
    verilog_path.write_text(emit_verilog(unit, top, params, target="ecp5"))
    resources = synthesize(verilog_path, top, workdir / name / "synth", clock_mhz=FMAX_TARGET_MHZ, seeds=seeds)
    positions, groups = unit.positions, unit.groups
    cycles = report.get("cycles_per_frame")
    energy_kept = float(np.mean([e.energy[e.mask].sum() / max(e.energy.sum(), 1) for e in encoded]))
    result = {
        "name": name, "block": block, "params": params, "bit_exact": report["passed"],
        "positions": positions, "keep": unit.keep, "words_per_frame": unit.words_per_frame,
        "compressed_bits": unit.compressed_bits, "uncompressed_bits": height * width * channels * 8,
        "bits_per_activation": unit.compressed_bits / (height * width * channels),
        "energy_kept": energy_kept,
        "cycles_per_frame": cycles, "cycles_per_frame_expected": unit.cycles_per_frame,
        "latency_cycles": report.get("latency"),
        "simulation_seconds": round(simulated, 2),
        **{k: v for k, v in resources.items() if k != "cells"}, "cells": resources["cells"],
    }
    if block == "Compressor":
        # After the frame's arrival: selection, the bitmap and the value words.
        after_arrival = cycles - positions * groups if cycles else None
        value_words = unit.keep * groups
        result.update({
            "arrival_cycles": positions * groups, "select_cycles": unit.selector.select_cycles,
            "digit_bits": unit.digit_bits, "passes_over_positions": unit.passes,
            "value_words": value_words,
            "selector_packer_passes": (after_arrival - value_words) / positions if cycles else None,
        })
        result["targets"] = {"passes_over_positions": unit.passes <= PASSES_TARGET,
                             "fmax_200mhz": (resources["fmax_mhz"] or 0) >= FMAX_TARGET_MHZ}
    else:
        result["targets"] = {"fmax_200mhz": (resources["fmax_mhz"] or 0) >= FMAX_TARGET_MHZ}
    progress(f"{name}: {resources['luts']} LUT, {resources['ffs']} FF, {resources['brams']} BRAM, "
             f"{resources['dsps']} DSP, {resources['fmax_mhz']} MHz, {cycles} cycles/frame")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one configuration per block")
    parser.add_argument("--only", type=int, action="append", help="index of a configuration to run (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "select.json")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "select")
    add_seeds_argument(parser)
    args = parser.parse_args(argv)
    configs = [CONFIGS[i] for i in args.only] if args.only else QUICK if args.quick else CONFIGS
    results = [measure(config, args.workdir, range(1, args.seeds + 1)) for config in configs]
    write_summary(args.out, "select",
                  "Haar coefficients of skimage.data photograph activations (seeded 3x3 convolution + ReLU6)",
                  {"passes_over_positions_max": PASSES_TARGET, "fmax_mhz_min": FMAX_TARGET_MHZ}, results)
    progress(f"wrote {args.out}")
    return 0 if all(r["bit_exact"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
