"""Benchmark of the whole WCC layer in hardware on ECP5-85F: cycles against the bound, resources, Fmax.

Writes bench/results/layer.json. Run with `make bench` (or `.venv/bin/python bench/layer.py`).
Stimulus: layers of the shipped default model (`wccgen generate` from its
WCC checkpoints), fed the activations the model gives them when it denoises
held-out skimage.data photographs; every internal stream and the output are
compared with the integer model. Targets the JSON reports against: the frame
interval within 10 % of the bound (the slowest stage's cycles per frame:
Haar beats, the compressor's arrival and passes, kept positions *
ceil(Cin/SIMD) * ceil(Cout/PE), scatter and inverse Haar beats), Fmax >= 150 MHz.
Each layer is placed with placer seeds 1..N (``--seeds``, default 3): the
JSON holds every seed's Fmax and reports the fastest placement, as
``wccgen synth --seeds N`` does. Each row records the date it was measured
(``measured``), so rows of separate ``--only`` runs can share one file.
"""

import argparse
import sys
import time
from pathlib import Path

from wccgen.gen.layer import default_checkpoint, generate, layer_from_checkpoint, simulate
from wccgen.gen.synth import synthesize

sys.path.insert(0, str(Path(__file__).resolve().parent))
from haar import write_summary  # noqa: E402

ROOT = Path(__file__).resolve().parent
FMAX_TARGET_MHZ = 150.0
INTERVAL_TARGET = 1.10
# Frames per run: with two compressors frames leave in pairs, so an even count of intervals.
FRAMES = 5

CONFIGS = [
    # checkpoint stage, layer, height, width, pe, simd
    ("wcc25", "blocks.0.expand", 16, 16, 8, 8),
    ("wcc25", "blocks.0.project", 16, 16, 4, 16),
    ("wcc50", "blocks.0.expand", 16, 16, 8, 8),
    ("wcc12", "blocks.0.expand", 16, 16, 8, 8),
]


def progress(message):
    print(f"[bench/layer] {message}", file=sys.stderr, flush=True)


def measure(config, workdir, seeds=3):
    stage, layer_name, height, width, pe, simd = config
    name = f"{stage}_{layer_name}_{height}x{width}_pe{pe}_simd{simd}"
    out = workdir / name
    checkpoint = Path(default_checkpoint()).with_name(f"{stage}.pt")
    source = layer_from_checkpoint(checkpoint, layer_name, height, width)
    manifest = generate(source, out, pe=pe, simd=simd, device="ecp5-85f", force=True, progress=progress)
    progress(f"{name}: simulating {FRAMES} frames")
    sim = simulate(out, frames=FRAMES, progress=progress)
    progress(f"{name}: {'bit-exact' if sim['bit_exact'] else 'MISMATCH'}, interval {sim['cycles']} cycles "
             f"(bound {sim['cycle_bound']}); synthesizing")
    synth = synthesize(out / manifest["verilog"], manifest["top"], out / "synth", target="ecp5-85f",
                       seeds=range(1, seeds + 1))
    progress(f"{name}: {synth['luts']} LUT, {synth['dsps']} DSP, {synth['brams']} DP16KD, {synth['fmax_mhz']} MHz "
             f"(by seed: {synth['fmax_by_seed']})")
    cfg = manifest["parameters"]["config"]
    first_in, last_out = sim["first_in_cycle"], sim["last_out_cycles"]
    return {
        "checkpoint": stage, "layer": layer_name, "height": height, "width": width,
        "channels_in": cfg["channels_in"], "channels_out": cfg["channels_out"], "levels": cfg["levels"],
        "rate": cfg["rate"], "pe": pe, "simd": simd, "lanes_in": manifest["parameters"]["lanes_in"],
        "lanes_out": manifest["parameters"]["lanes_out"], "compressors": manifest["parameters"]["compressors"],
        "bit_exact": sim["bit_exact"], "mismatches": sim["mismatches"], "frames": sim["frames"], "images": sim["images"],
        "frame_interval_cycles": sim["cycles"], "cycle_bound": sim["cycle_bound"],
        "interval_over_bound": round(sim["cycles"] / sim["cycle_bound"], 4),
        "stage_cycles": sim["stage_cycles"], "mac_bound": manifest["cycles"]["mac_bound"],
        "latency_cycles": sim["latency"],
        "first_frame_cycles": last_out[0] - first_in if last_out and first_in is not None else None,
        "compressed_bits": sim["compressed_bits"], "uncompressed_bits": sim["uncompressed_bits"],
        "max_float_difference_lsb": sim["max_float_difference_lsb"],
        **{key: synth[key] for key in ("luts", "ffs", "dsps", "brams", "lutrams", "lut_multipliers", "fmax_mhz",
                                       "seed", "fmax_by_seed")},
        "fmax_target_met": synth["fmax_mhz"] is not None and synth["fmax_mhz"] >= FMAX_TARGET_MHZ,
        "interval_target_met": sim["cycles"] <= INTERVAL_TARGET * sim["cycle_bound"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", type=int, action="append", help="index of a configuration to run (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "layer.json")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "layer")
    parser.add_argument("--seeds", type=int, default=3, help="placer seeds 1..N per layer (default 3)")
    args = parser.parse_args(argv)
    configs = [CONFIGS[i] for i in args.only] if args.only else CONFIGS
    results = []
    for config in configs:
        # Each row carries its own date: rows of separate runs may be merged into one file.
        results.append({**measure(config, args.workdir, args.seeds), "measured": time.strftime("%Y-%m-%d")})
        # Written after each configuration: a long run leaves what it has measured.
        write_summary(args.out, "layer",
                      f"layers of the shipped default model, fed the activations it gives them on held-out "
                      f"skimage.data photographs ({FRAMES} frames each, noisy, sigma 25/255)",
                      {"frame_interval_over_bound_max": INTERVAL_TARGET, "fmax_mhz_min": FMAX_TARGET_MHZ}, results)
        progress(f"wrote {args.out} ({len(results)} of {len(configs)} configurations)")
    return 0 if all(r["bit_exact"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
