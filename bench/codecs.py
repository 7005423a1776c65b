"""Benchmark of the transform codecs' hardware blocks: bit-exactness and cycles in simulation, resources and Fmax.

Writes bench/results/codecs.json. Run with `.venv/bin/python bench/codecs.py`
(part of `make bench`). Each block is driven with the input codes of the
shipped DCT-CM model's layers on two noisy held-out photographs, simulated on
the ECP5 primitives against the integer model, then placed on the ECP5-85F
with placer seeds 1..N (``--seeds``, default 3), the fastest reported with
every seed's Fmax. So far the blocks are DCT-CM's channel DCT.
"""

import argparse
import sys
import time
from pathlib import Path

import torch

from wccgen.gen.synth import synthesize
from wccgen.golden.channel_dct import grouped_dct
from wccgen.golden.channel_transform import channel_transform, fixed_point_rows
from wccgen.golden.checkpoints import default_checkpoint_dir, load_checkpoint
from wccgen.golden.codec_export import codec_input_frames
from wccgen.golden.evaluation import noisy_photograph
from wccgen.hw.channel_dct import ChannelDCT
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.harness import run_block, toplevel_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
from haar import FMAX_TARGET_MHZ, add_seeds_argument, write_summary  # noqa: E402

ROOT = Path(__file__).resolve().parent
PHOTOGRAPHS, CROP = ("astronaut", "chelsea"), 32

CONFIGS = [
    # block, layer of the shipped DCT-CM 50 % model, lanes
    ("ChannelDCT", "blocks.0.expand", 8),
    ("ChannelDCT", "blocks.0.project", 16),
]


def progress(message):
    print(f"[bench/codecs] {message}", file=sys.stderr, flush=True)


def measure(config, frames, workdir, seeds=(1,)):
    block, layer, lanes = config
    codes = frames[layer]
    channels, height, width = codes.shape[1:]
    params = dict(channels=channels, lanes=lanes, in_bits=8)
    unit = ChannelDCT(**params)
    name = f"{toplevel_name(block)}_{layer.replace('.', '_')}_{height}x{width}x{channels}_l{lanes}"
    rows = fixed_point_rows(grouped_dct(channels, unit.group))
    inputs = list(codes)
    expected = [channel_transform(rows, frame) for frame in inputs]
    progress(f"{name}: simulating {len(inputs)} frame(s)")
    started = time.monotonic()
    report = run_block(block, params, inputs, expected, workdir / name / "sim", target="ecp5")
    simulated = time.monotonic() - started
    progress(f"{name}: synthesis and place-and-route")
    top = toplevel_name(block)
    verilog_path = workdir / name / f"{top}.v"
    verilog_path.write_text(emit_verilog(unit, top, params, target="ecp5"))
    resources = synthesize(verilog_path, top, workdir / name / "synth", clock_mhz=FMAX_TARGET_MHZ, seeds=seeds)
    beats = height * width * channels // lanes
    result = {
        "name": name, "block": block, "layer": layer, "params": params, "bit_exact": report["passed"],
        "frames": len(inputs), "cycles_per_frame": report.get("cycles_per_frame"), "beats_per_frame": beats,
        "latency_cycles": unit.latency, "sum_bits": unit.sum_bits, "simulation_seconds": round(simulated, 2),
        **{k: v for k, v in resources.items() if k != "cells"}, "cells": resources["cells"],
        "targets": {"fmax_200mhz": (resources["fmax_mhz"] or 0) >= FMAX_TARGET_MHZ,
                    "one_beat_per_cycle": report.get("cycles_per_frame") == beats,
                    "no_multiplier": resources["dsps"] == 0 and resources["lut_multipliers"] == 0},
    }
    progress(f"{name}: {resources['luts']} LUT, {resources['ffs']} FF, {resources['dsps']} DSP, "
             f"{resources['fmax_mhz']} MHz (seeds {resources['fmax_by_seed']}), {result['cycles_per_frame']} "
             f"cycles/frame for {beats} beats")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "codecs.json")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "codecs")
    add_seeds_argument(parser)
    args = parser.parse_args(argv)
    model, _, _ = load_checkpoint(default_checkpoint_dir() / "dctcm50.pt")
    noisy = torch.cat([noisy_photograph(index, name, CROP)[0] for index, name in enumerate(PHOTOGRAPHS)])
    frames = codec_input_frames(model, noisy)
    results = [measure(config, frames, args.workdir, range(1, args.seeds + 1)) for config in CONFIGS]
    write_summary(args.out, "codecs",
                  f"input codes of the shipped DCT-CM 50 % model's layers on {' and '.join(PHOTOGRAPHS)} "
                  f"(central {CROP}x{CROP}, seeded noise)",
                  {"fmax_mhz_min": FMAX_TARGET_MHZ, "cycles_per_frame": "beats per frame"}, results)
    progress(f"wrote {args.out}")
    return 0 if all(r["bit_exact"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
