"""Benchmark of the transform codecs' hardware blocks: bit-exactness and cycles in simulation, resources and Fmax.

Writes bench/results/codecs.json. Run with `.venv/bin/python bench/codecs.py`
(part of `make bench`). Each block is driven with the input codes of the
shipped DCT-CM model's layers on two noisy held-out photographs, simulated on
the ECP5 primitives against the integer model, then placed on the ECP5-85F
with placer seeds 1..N (``--seeds``, default 3), the fastest reported with
every seed's Fmax. The blocks are DCT-CM's channel DCT, TCI's Huffman encoder
and decoder (on the TCI 25 % model's coefficient codes; the table is built from
them on the noisy training photographs, ``golden.network_export.calibration_images``)
DCT-CM's zero-flag encoder and decoder (on the DCT-CM 25 % model's) and CAP's
fixed-width encoder and decoder (on the CAP 25 % model's); then the whole TCI,
DCT-CM and CAP layers (``CodecLayer``) on 16x16 crops, every internal stream
compared, as bench/layer.py measures WCC's.
"""

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import torch

from wccgen.gen.synth import synthesize
from wccgen.golden.channel_dct import grouped_dct
from wccgen.golden.channel_transform import channel_transform, fixed_point_rows
from wccgen.golden.checkpoints import default_checkpoint_dir, load_checkpoint
from wccgen.golden.codec_conv import ChannelCodecConv2d
from wccgen.golden.codec_export import codec_input_frames, export_codec_layer
from wccgen.golden.codec_layer import codec_layer
from wccgen.golden.evaluation import noisy_photograph
from wccgen.golden.network_export import calibration_images
from wccgen.hw.channel_dct import ChannelDCT
from wccgen.hw.codec_layer import CODERS, CodecLayer
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.harness import run_block, toplevel_name
from wccgen.sim.layer_streams import codec_layer_expectation

sys.path.insert(0, str(Path(__file__).resolve().parent))
from haar import FMAX_TARGET_MHZ, add_seeds_argument, write_summary  # noqa: E402

ROOT = Path(__file__).resolve().parent
PHOTOGRAPHS, CROP = ("astronaut", "chelsea"), 32

CONFIGS = [
    # block, layer of the shipped DCT-CM 50 % model, lanes
    ("ChannelDCT", "blocks.0.expand", 8),
    ("ChannelDCT", "blocks.0.project", 16),
]

CODER_CONFIGS = [
    # block, shipped model, layer (its coefficient codes are the symbols)
    ("HuffmanEncoder", "tci25", "blocks.0.expand"),
    ("HuffmanDecoder", "tci25", "blocks.0.expand"),
    ("ZeroFlagEncoder", "dctcm25", "blocks.0.expand"),
    ("ZeroFlagDecoder", "dctcm25", "blocks.0.expand"),
    ("FixedWidthEncoder", "cap25", "blocks.0.expand"),
    ("FixedWidthDecoder", "cap25", "blocks.0.expand"),
]


LAYER_CONFIGS = [
    # shipped model, layer, photograph crop (the layer's frame; WCC's rows in layer.json are 16x16 too)
    ("tci25", "blocks.0.expand", 16),
    ("dctcm25", "blocks.0.expand", 16),
    ("cap25", "blocks.0.expand", 16),
]


def progress(message):
    print(f"[bench/codecs] {message}", file=sys.stderr, flush=True)


def simulate_and_place(block, unit, params, inputs, expected, workdir, seeds):
    """``(report, seconds, resources)``: ``unit`` simulated on the ECP5 primitives against ``expected``, then
    synthesized and placed with each of ``seeds``."""
    progress(f"{workdir.name}: simulating {len(inputs)} frame(s)")
    started = time.monotonic()
    report = run_block(block, params, inputs, expected, workdir / "sim", target="ecp5")
    simulated = time.monotonic() - started
    progress(f"{workdir.name}: synthesis and place-and-route")
    top = toplevel_name(block)
    verilog_path = workdir / f"{top}.v"
    verilog_path.write_text(emit_verilog(unit, top, params, target="ecp5"))
    return report, simulated, synthesize(verilog_path, top, workdir / "synth", clock_mhz=FMAX_TARGET_MHZ,
                                         seeds=seeds)


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
    report, simulated, resources = simulate_and_place(block, unit, params, inputs, expected, workdir / name, seeds)
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


def codec_inputs(checkpoint, layer_name, noisy):
    """The shipped model ``checkpoint``'s layer ``layer_name`` exported (calibrated, and its Huffman table built,
    on the calibration photographs), and its input codes on each image of ``noisy``."""
    model, _, _ = load_checkpoint(default_checkpoint_dir() / f"{checkpoint}.pt")
    layer = dict(model.named_modules())[layer_name]
    assert isinstance(layer, ChannelCodecConv2d), layer_name
    seen = []
    hook = layer.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    with torch.no_grad():
        model(calibration_images())
        model(noisy)
    hook.remove()
    bundle = export_codec_layer(layer, output_scale=0.05, calibration=seen[0], name=layer_name)
    return bundle, list(layer.input_quant.codes(layer.input_quant(seen[1])).to(torch.int64).numpy())


def coder_unit(block, bundle, shape):
    """``(unit, params)``: the coder ``block`` for frames of ``shape`` in ``bundle``'s format."""
    components, height, width = shape
    encoder, _, decoder, _ = CODERS[bundle.codec]
    unit = encoder if block == encoder.__name__ else decoder
    assert block == unit.__name__, (block, bundle.codec)
    if bundle.codec == "tci":
        params = dict(table=dataclasses.asdict(bundle.huffman), channels=components, height=height, width=width)
    else:
        params = dict(components=components, height=height, width=width, bits=bundle.bit_a)
    return unit(**params), params


def measure_coder(config, noisy, workdir, seeds=(1,)):
    block, checkpoint, layer = config
    bundle, codes = codec_inputs(checkpoint, layer, noisy)
    traces = [codec_layer(frame, bundle) for frame in codes]
    shape = traces[0].codes.shape
    unit, params = coder_unit(block, bundle, shape)
    name = f"{toplevel_name(block)}_{layer.replace('.', '_')}_{shape[1]}x{shape[2]}x{shape[0]}"
    streams = [trace.stream.reshape(-1, 1) for trace in traces]
    symbols = [trace.codes for trace in traces]
    inputs, expected = (symbols, streams) if block.endswith("Encoder") else (streams, symbols)
    report, simulated, resources = simulate_and_place(block, unit, params, inputs, expected, workdir / name, seeds)
    count = int(np.prod(shape))
    stream_bits = [int(trace.stream_bits) for trace in traces]
    shown = dict(params)
    if "table" in shown:
        shown["table"] = f"{len(bundle.huffman.symbols)} symbols, max_length {bundle.huffman.max_length}"
    result = {
        "name": name, "block": block, "model": checkpoint, "layer": layer, "params": shown,
        "bit_exact": report["passed"], "frames": len(inputs), "cycles_per_frame": report.get("cycles_per_frame"),
        "symbols_per_frame": count, "bits_per_symbol": round(float(np.mean(stream_bits)) / count, 3),
        "nonzero_fraction": round(float(np.mean([np.count_nonzero(t.codes) for t in traces])) / count, 3),
        "frame_bytes": [int(trace.stream.size) for trace in traces], "max_frame_bytes": unit.max_frame_bytes,
        "simulation_seconds": round(simulated, 2),
        **{k: v for k, v in resources.items() if k != "cells"}, "cells": resources["cells"],
        "targets": {"fmax_200mhz": (resources["fmax_mhz"] or 0) >= FMAX_TARGET_MHZ,
                    "one_symbol_per_cycle": (report.get("cycles_per_frame") or 0) <= 1.05 * count},
    }
    progress(f"{name}: {resources['luts']} LUT, {resources['ffs']} FF, {resources['brams']} BRAM, "
             f"{resources['fmax_mhz']} MHz (seeds {resources['fmax_by_seed']}), {result['cycles_per_frame']} "
             f"cycles/frame for {count} symbols")
    return result


def measure_layer(config, workdir, seeds=(1,)):
    """A whole codec layer (``CodecLayer``) on two noisy photographs, every internal stream compared, then
    placed: the row to set beside WCC's (bench/results/layer.json, measured the same way)."""
    checkpoint, layer, size = config
    noisy = torch.cat([noisy_photograph(index, name, size)[0] for index, name in enumerate(PHOTOGRAPHS)])
    bundle, codes = codec_inputs(checkpoint, layer, noisy)
    _, height, width = codes[0].shape
    params = dict(bundle=bundle, height=height, width=width)
    unit = CodecLayer(**params)
    name = f"codec_layer_{checkpoint}_{layer.replace('.', '_')}_{height}x{width}"
    stem = workdir / name / "bundle" / "layer"
    bundle.save(stem)
    traces, outputs, taps = codec_layer_expectation(bundle, codes)
    progress(f"{name}: simulating {len(codes)} frame(s)")
    started = time.monotonic()
    report = run_block("CodecLayer", {**params, "bundle": str(stem)}, codes, outputs,
                       workdir / name / "sim", target="ecp5", taps_expected=taps)
    simulated = time.monotonic() - started
    progress(f"{name}: synthesis and place-and-route")
    top = toplevel_name("CodecLayer")
    verilog_path = workdir / name / f"{top}.v"
    verilog_path.write_text(emit_verilog(unit, top, unit.spec.header_parameters(), target="ecp5"))
    resources = synthesize(verilog_path, top, workdir / name / "synth", clock_mhz=FMAX_TARGET_MHZ, seeds=seeds)
    activations = bundle.channels_in * height * width
    interval = report.get("cycles_per_frame")
    result = {
        "name": name, "block": "CodecLayer", "codec": bundle.codec, "model": checkpoint, "layer": layer,
        "height": height, "width": width, "channels_in": bundle.channels_in, "components": bundle.components,
        "channels_out": bundle.channels_out, "bit_a": bundle.bit_a, "pe": unit.pe, "lanes_in": unit.lanes_in,
        "lanes_out": unit.lanes_out, "bit_exact": report["passed"],
        "streams_compared": report.get("streams_compared"), "frames": len(codes),
        "cycles_per_frame": interval, "cycle_bound": unit.cycle_bound, "stage_cycles": unit.stage_cycles,
        "interval_over_bound": round(interval / unit.cycle_bound, 4) if interval else None,
        "stream_bits": [int(t.stream_bits) for t in traces],
        "bits_per_activation": round(float(np.mean([t.stream_bits for t in traces])) / activations, 3),
        "simulation_seconds": round(simulated, 2),
        **{k: v for k, v in resources.items() if k != "cells"}, "cells": resources["cells"],
        "targets": {"fmax_200mhz": (resources["fmax_mhz"] or 0) >= FMAX_TARGET_MHZ,
                    "interval_within_1_05_of_bound": bool(interval) and interval <= 1.05 * unit.cycle_bound},
    }
    progress(f"{name}: {resources['luts']} LUT, {resources['ffs']} FF, {resources['dsps']} DSP, {resources['brams']} "
             f"BRAM, {resources['fmax_mhz']} MHz (seeds {resources['fmax_by_seed']}), {interval} cycles/frame "
             f"(bound {unit.cycle_bound}), {result['bits_per_activation']} bits/activation")
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
    seeds = range(1, args.seeds + 1)
    results = [measure(config, frames, args.workdir, seeds) for config in CONFIGS]
    results += [measure_coder(config, noisy, args.workdir, seeds) for config in CODER_CONFIGS]
    results += [measure_layer(config, args.workdir, seeds) for config in LAYER_CONFIGS]
    write_summary(args.out, "codecs",
                  f"input codes of the shipped DCT-CM 50 % model's layers (ChannelDCT) and coefficient codes of the "
                  f"shipped TCI 25 % (Huffman), DCT-CM 25 % (zero flags) and CAP 25 % (fixed width) models' on "
                  f"{' and '.join(PHOTOGRAPHS)} (central {CROP}x{CROP}, seeded noise)",
                  {"fmax_mhz_min": FMAX_TARGET_MHZ, "cycles_per_frame": "beats (symbols) per frame"}, results)
    progress(f"wrote {args.out}")
    return 0 if all(r["bit_exact"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
