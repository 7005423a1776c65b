"""Benchmark of the whole WCC layer in hardware on ECP5-85F: cycles against the bound, resources, Fmax.

Writes bench/results/layer.json. Run with `make bench` (or `.venv/bin/python bench/layer.py`).
Stimulus: layers of the shipped default model (`wccgen generate` from its
WCC checkpoints), fed the activations the model gives them when it denoises
held-out skimage.data photographs; every internal stream and the output are
compared with the integer model. Targets the JSON reports against: the frame
interval within 5 % of the bound (the slowest stage's cycles per frame:
Haar beats, the compressor's arrival and passes, kept positions *
ceil(Cin/SIMD) * ceil(Cout/PE), scatter and inverse Haar beats), Fmax >= 200
MHz with placer seed 1, block RAM at most 3x the tile's 8-bit payload (the
wider side's activations, in DP16KD), and the MAC array busy >= 0.9 of the
frame interval (multiplies needed over the array's multipliers x cycles).
Each layer is placed with placer seeds 1..N (``--seeds``, default 3): the
JSON holds every seed's Fmax and reports the fastest placement, as
``wccgen synth --seeds N`` does. Each block of the layer is also placed
alone from the layer's Verilog, with the same seeds (``blocks_alone``):
the slowest block alone says how much of the layer's gap to the target is
in its blocks, the rest is in placing them together. Each row records the
date it was measured (``measured``); a run with ``--only`` replaces its
rows in the file and keeps the others.
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

from wccgen.gen.layer import default_checkpoint, generate, layer_from_checkpoint, simulate
from wccgen.gen.synth import child_modules, synthesize
from wccgen.spec.wcc_config import WccConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from haar import write_summary  # noqa: E402

ROOT = Path(__file__).resolve().parent
FMAX_TARGET_MHZ = 200.0
INTERVAL_TARGET = 1.05
BRAM_TARGET = 3.0
MAC_BUSY_TARGET = 0.9
# Frames per run: with two compressors frames leave in pairs, so an even count of intervals.
FRAMES = 5
#: Bits of a DP16KD (its 9-, 18- and 36-bit modes, parity bits included).
DP16KD_BITS = 18 * 1024

CONFIGS = [
    # checkpoint stage, layer, height, width, pe, simd (None: the layer's default, the balanced array)
    ("wcc25", "blocks.0.expand", 16, 16, None, None),
    ("wcc25", "blocks.0.expand", 16, 16, 8, 8),  # the largest array, beside the balanced one
    ("wcc25", "blocks.0.project", 16, 16, None, None),
    ("wcc50", "blocks.0.expand", 16, 16, None, None),
    ("wcc12", "blocks.0.expand", 16, 16, None, None),
    ("wcc25", "blocks.0.expand", 32, 32, None, None),  # a 32x32 tile: four times the memories' frames
]


def progress(message):
    print(f"[bench/layer] {message}", file=sys.stderr, flush=True)


def measure(config, workdir, seeds=3):
    stage, layer_name, height, width, pe, simd = config
    array = "default" if pe is None and simd is None else f"pe{pe}_simd{simd}"
    name = f"{stage}_{layer_name}_{height}x{width}_{array}"
    out = workdir / name
    checkpoint = Path(default_checkpoint()).with_name(f"{stage}.pt")
    source = layer_from_checkpoint(checkpoint, layer_name, height, width)
    manifest = generate(source, out, pe=pe, simd=simd, device="ecp5-85f", force=True, progress=progress)
    pe, simd = manifest["parameters"]["pe"], manifest["parameters"]["simd"]
    progress(f"{name}: simulating {FRAMES} frames")
    sim = simulate(out, frames=FRAMES, progress=progress)
    progress(f"{name}: {'bit-exact' if sim['bit_exact'] else 'MISMATCH'}, interval {sim['cycles']} cycles "
             f"(bound {sim['cycle_bound']}); synthesizing")
    synth = synthesize(out / manifest["verilog"], manifest["top"], out / "synth", target="ecp5-85f",
                       seeds=range(1, seeds + 1))
    progress(f"{name}: {synth['luts']} LUT, {synth['dsps']} DSP, {synth['brams']} DP16KD, {synth['fmax_mhz']} MHz "
             f"(by seed: {synth['fmax_by_seed']})")
    blocks_alone = measure_blocks(out / manifest["verilog"], manifest["top"], out / "synth" / "blocks", seeds)
    cfg = manifest["parameters"]["config"]
    first_in, last_out = sim["first_in_cycle"], sim["last_out_cycles"]
    # The tile's 8-bit activations on the wider side of the layer, in DP16KD: what a frame buffer must hold.
    payload_brams = height * width * max(cfg["channels_in"], cfg["channels_out"]) * 8 / DP16KD_BITS
    # Multiplies the layer needs per frame (each kept position's C_in x C_out) over what its array could do in
    # the frame interval measured.
    keep = WccConfig(**cfg).keep
    mac_busy = keep * cfg["channels_in"] * cfg["channels_out"] / (pe * simd * sim["cycles"])
    fmax_seed1 = synth["fmax_by_seed"].get("1")
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
        "fmax_mhz_seed1": fmax_seed1, "blocks_alone": blocks_alone, "payload_brams": round(payload_brams, 2),
        "brams_over_payload": round(synth["brams"] / payload_brams, 2),
        # Where they go (the manifest's memory map, which counts what the Verilog instantiates).
        "brams_by_block": {block: use["dp16kd"] for block, use in manifest["block_ram"]["by_block"].items()
                           if use["dp16kd"]},
        "array_multipliers": pe * simd,
        "mac_busy": round(mac_busy, 4),
        "fmax_target_met": fmax_seed1 is not None and fmax_seed1 >= FMAX_TARGET_MHZ,
        "interval_target_met": sim["cycles"] <= INTERVAL_TARGET * sim["cycle_bound"],
        "bram_target_met": synth["brams"] <= BRAM_TARGET * payload_brams,
        "mac_busy_target_met": mac_busy >= MAC_BUSY_TARGET,
    }


def measure_blocks(verilog, top, workdir, seeds):
    """Each block of the layer placed alone, from the layer's own Verilog, with the same seeds.

    A block's Fmax alone is about the most the layer can reach; the layer's
    own Fmax below its slowest block's is what placing them together costs.
    The stream relays between blocks (``relay<n>``) are left out: a register
    slice each, no logic of a block's.
    """
    # AXI4-Stream ports wrap the layer as `inner`; with its native ports the blocks sit under the top itself.
    names = [name for name in child_modules(verilog, f"{top}.inner") or child_modules(verilog, top)
             if not re.fullmatch(r"relay\d+", name.rsplit(".", 1)[1])]
    blocks = {}
    for module in names:
        block = module.rsplit(".", 1)[1]
        synth = synthesize(verilog, module, workdir / block, target="ecp5-85f", seeds=range(1, seeds + 1))
        blocks[block] = {"fmax_mhz_seed1": synth["fmax_by_seed"].get("1"), "fmax_by_seed": synth["fmax_by_seed"],
                         **{key: synth[key] for key in ("luts", "ffs", "lutrams", "brams", "dsps")}}
        progress(f"  {block} alone: {synth['fmax_by_seed']} MHz by seed, {synth['luts']} LUT")
    return blocks


def _row_key(row):
    return tuple(row[key] for key in ("checkpoint", "layer", "height", "width", "pe", "simd"))


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
        row = {**measure(config, args.workdir, args.seeds), "measured": time.strftime("%Y-%m-%d")}
        results.append(row)
        # Rows of another run stay (each carries its own date) unless this run measures them again; the file is
        # read again here, so that runs of other rows side by side keep each other's.
        kept = json.loads(args.out.read_text())["results"] if args.only and args.out.exists() else []
        measured = {_row_key(new) for new in results}
        kept = [old for old in kept if _row_key(old) not in measured]
        # Written after each configuration: a long run leaves what it has measured.
        write_summary(args.out, "layer",
                      f"layers of the shipped default model, fed the activations it gives them on held-out "
                      f"skimage.data photographs ({FRAMES} frames each, noisy, sigma 25/255)",
                      {"frame_interval_over_bound_max": INTERVAL_TARGET, "fmax_mhz_seed1_min": FMAX_TARGET_MHZ,
                       "brams_over_payload_max": BRAM_TARGET, "mac_busy_min": MAC_BUSY_TARGET}, kept + results)
        progress(f"wrote {args.out} ({len(results)} of {len(configs)} configurations)")
    return 0 if all(r["bit_exact"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
