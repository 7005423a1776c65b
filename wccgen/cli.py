"""The ``wccgen`` command line.

Every command prints a human summary, or with ``--json`` one JSON object on
standard output; progress goes to standard error. Bad input ends with one
``wccgen: error: ...`` line and exit status 2, never a traceback; a simulation
that is not bit-exact ends with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

__all__ = ["main"]


class CommandError(Exception):
    """An error to report as one line, without a traceback."""


def _progress(enabled):
    start = time.monotonic()

    def report(message):
        if enabled:
            print(f"[{time.monotonic() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    return report


def _size(text):
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size: expected HEIGHTxWIDTH such as 96x128, got {text!r}") from None
    if height < 1 or width < 1:
        raise argparse.ArgumentTypeError(f"size: both sides must be >= 1, got {text!r}")
    return height, width


def _rates(text):
    try:
        rates = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"rates: expected numbers separated by commas, got {text!r}") from None
    for rate in rates:
        if not 0.0 < rate <= 1.0:
            raise argparse.ArgumentTypeError(f"rates: each rate must lie in (0, 1], got {rate}")
    return rates


def rates_table(args, progress):
    """The default model's WCC layer on a real photograph: float layer, export, integer model, at each keep rate."""
    import numpy as np
    import torch

    from . import golden
    from .gen.layer import layer_input
    from .golden.checkpoints import default_checkpoint_dir, load_checkpoint
    from .golden.denoiser import Denoiser
    from .golden.evaluation import psnr_ssim
    from .golden.training import STAGES, noisy

    stages = {stage.rate: stage for stage in STAGES if stage.kind == "wcc" and stage.energy == "square"}
    for rate in args.rates:
        if rate not in stages:
            raise CommandError(f"rates: the default model has WCC checkpoints for "
                               f"{', '.join(f'{r:g}' for r in stages)}; got {rate:g}")
    height, width = args.size
    progress(f"photograph {args.image!r} at {height}x{width}, grey, with noise (sigma 25/255, seed {args.seed})")
    clean = golden.grey_photograph(args.image, height, width)
    x = noisy(clean, torch.Generator().manual_seed(args.seed))
    directory = args.checkpoints or default_checkpoint_dir()
    results = []
    for rate in args.rates:
        stage = stages[rate]
        progress(f"rate {rate:g}: checkpoint {stage.name}, layer {args.layer}: float layer, export, integer model")
        model, _, _ = load_checkpoint(f"{directory}/{stage.name}.pt", stage)
        if args.layer not in model.wcc_layers:
            raise CommandError(f"layer: {args.layer!r} is not a WCC layer of the default model; its WCC layers are "
                               f"{', '.join(model.wcc_layers)}")
        layer = model.get_submodule(args.layer)
        denoised, features = layer_input(model, layer, x)
        activation = Denoiser.activation_after(args.layer)
        scale = golden.calibrate_output_scale(layer, features, activation=activation)
        bundle = golden.export_layer(layer, height, width, output_scale=scale, activation=activation,
                                     name=f"{stage.name}.{args.layer}")
        with torch.no_grad():
            reference = (golden.apply_tail(layer(features), activation=activation) / scale).double().numpy()[0]
        trace = golden.wcc_layer(golden.input_codes(layer, features)[0], bundle)
        cfg = bundle.config
        orthonormal_energy = trace.energy.astype(np.float64)
        psnr, ssim = psnr_ssim(denoised, clean)
        results.append({
            "rate": rate,
            "checkpoint": stage.name,
            "positions": cfg.positions,
            "kept_positions": cfg.keep,
            "kept_per_level": {str(level): int(count) for level, count in zip(
                *np.unique(golden.level_map(cfg.padded_height, cfg.padded_width, cfg.levels)[trace.mask],
                           return_counts=True))},
            "energy_kept": float(orthonormal_energy[trace.mask].sum() / max(orthonormal_energy.sum(), 1.0)),
            "compressed_bits": cfg.compressed_bits,
            "stream_bytes": int(trace.stream.size),
            "uncompressed_bits": cfg.uncompressed_bits,
            "bits_per_activation": cfg.bits_per_activation,
            "compression_ratio": cfg.uncompressed_bits / cfg.compressed_bits,
            "macs": cfg.macs,
            "dense_macs": cfg.channels_in * cfg.channels_out * height * width,
            "max_float_difference_lsb": float(np.abs(trace.output - reference).max()),
            "denoised_psnr": psnr,
            "denoised_ssim": ssim,
        })
    noisy_psnr, _ = psnr_ssim(x, clean)
    return {
        "image": args.image,
        "height": height,
        "width": width,
        "layer": args.layer,
        "channels_in": cfg.channels_in,
        "channels_out": cfg.channels_out,
        "levels": cfg.levels,
        "bit_w": cfg.bit_w,
        "bit_a": cfg.bit_a,
        "noisy_psnr": noisy_psnr,
        "network": "the default model: a denoiser of MobileNetV2 inverted residual blocks, trained on skimage.data "
                   "photographs (docs/results.md)",
        "results": results,
    }


def print_rates_table(summary):
    print(f"WCC layer {summary['layer']} of the default model on {summary['image']!r} ({summary['height']}x"
          f"{summary['width']}, {summary['channels_in']} -> {summary['channels_out']} channels, {summary['levels']} "
          f"Haar levels, {summary['bit_w']}-bit weights, {summary['bit_a']}-bit codes)")
    print(f"  network: {summary['network']}")
    header = (f"  {'rate':>6} {'kept':>11} {'energy kept':>11} {'stored bits':>11} {'bits/act':>8} {'ratio':>6} "
              f"{'MACs':>7} {'|int-float|':>11} {'denoised':>9}")
    print(header)
    for r in summary["results"]:
        print(f"  {r['rate']:>6.3f} {r['kept_positions']:>5}/{r['positions']:<5} {100 * r['energy_kept']:>10.2f}% "
              f"{r['compressed_bits']:>11} {r['bits_per_activation']:>8.3f} {r['compression_ratio']:>5.2f}x "
              f"{100 * r['macs'] / r['dense_macs']:>6.1f}% {r['max_float_difference_lsb']:>8.3f} LSB "
              f"{r['denoised_psnr']:>6.2f} dB")
    print("  stored bits = channels * kept * bit_a + bitmap; plain storage is "
          f"{summary['results'][0]['uncompressed_bits']} bits at 8 bits per activation; denoised = PSNR of the "
          f"whole model's output (noisy input: {summary['noisy_psnr']:.2f} dB)")


# -- hardware: generate, simulate, synth, bitstream -------------------------------------------------------------
#: Options a generate config file may set, with how to read each.
CONFIG_KEYS = ("checkpoint", "layer", "bundle", "size", "image", "lanes_in", "pe", "simd", "lanes_out", "compressors",
               "target", "out")


def _config_file(path):
    """The options of a JSON config file, checked: an object with known keys only."""
    try:
        with open(path) as f:
            config = json.load(f)
    except FileNotFoundError:
        raise CommandError(f"config: {path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CommandError(f"config: {path}: not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise CommandError(f"config: {path}: must hold a JSON object of options")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise CommandError(f"config: {path}: unknown option(s) {', '.join(unknown)}; known: {', '.join(CONFIG_KEYS)}")
    if "size" in config:
        size = config["size"]
        try:
            config["size"] = _size(size) if isinstance(size, str) else tuple(_positive(str(v)) for v in size)
        except (argparse.ArgumentTypeError, TypeError) as error:
            raise CommandError(f"config: {path}: size: {error}") from None
        if len(config["size"]) != 2:
            raise CommandError(f"config: {path}: size must be [height, width] or \"HxW\"")
    for key in ("lanes_in", "pe", "simd", "lanes_out", "compressors"):
        if key in config and (isinstance(config[key], bool) or not isinstance(config[key], int) or config[key] < 1):
            raise CommandError(f"config: {path}: {key} must be a positive integer, got {config[key]!r}")
    return config


def _generate_options(args):
    """Command-line options over the config file's over the defaults."""
    options = {"checkpoint": None, "layer": "blocks.0.expand", "bundle": None, "size": (16, 16),
               "image": "astronaut", "lanes_in": None, "pe": None, "simd": None, "lanes_out": None,
               "compressors": 2, "target": "ecp5-85f", "out": None}
    if args.config:
        options.update(_config_file(args.config))
    for key in options:
        value = getattr(args, key, None)
        if value is not None:
            options[key] = value
    if options["out"] is None:
        raise CommandError("out: give the output directory (--out DIR, or \"out\" in the config file)")
    if options["bundle"] and options["checkpoint"]:
        raise CommandError("bundle, checkpoint: give one source of the layer, not both")
    return options


def _layer_source(options, progress):
    from .gen.layer import default_checkpoint, layer_from_bundle, layer_from_checkpoint

    if options["bundle"]:
        progress(f"layer from the bundle {options['bundle']}")
        return layer_from_bundle(options["bundle"])
    checkpoint = options["checkpoint"] or default_checkpoint()
    height, width = options["size"]
    progress(f"layer {options['layer']} of {checkpoint}, {height}x{width}, output scale calibrated on "
             f"{options['image']!r}")
    return layer_from_checkpoint(checkpoint, options["layer"], height, width, image=options["image"])


def run_generate(args, progress):
    """A model checkpoint + layer, a bundle or a config file -> Verilog, memory files and manifest."""
    from .gen.layer import generate

    options = _generate_options(args)
    source = _layer_source(options, progress)
    manifest = generate(source, options["out"], lanes_in=options["lanes_in"], pe=options["pe"],
                        simd=options["simd"], lanes_out=options["lanes_out"], compressors=options["compressors"],
                        device=options["target"],
                        progress=progress)
    return {"command": "generate", "out": str(options["out"]), **manifest}


def print_generate(summary):
    cfg = summary["parameters"]["config"]
    print(f"wrote {summary['out']}/{summary['verilog']} ({summary['device']}), the bundle, "
          f"{len(summary['memories']['files'])} memory files and manifest.json")
    print(f"  layer: {cfg['channels_in']} -> {cfg['channels_out']} channels, {cfg['height']}x{cfg['width']}, "
          f"{cfg['levels']} levels, rate {cfg['rate']:g}; PE {summary['parameters']['pe']} x SIMD "
          f"{summary['parameters']['simd']}")
    print(f"  cycles per frame: bound {summary['cycles']['bound']} (slowest stage of "
          + ", ".join(f"{k} {v}" for k, v in summary["cycles"]["stages"].items()) + ")")


def run_simulate(args, progress):
    """The generated Verilog in the HDL testbench against the integer model, every stream, bit for bit."""
    from .gen.layer import simulate

    for name in ("idle", "backpressure"):
        value = getattr(args, name)
        if not 0.0 <= value < 1.0:
            raise CommandError(f"{name}: must lie in [0, 1), got {value}")
    if args.full and args.frames is not None:
        raise CommandError("frames: --full sends every tile of the photograph; leave out --frames")
    return simulate(args.dir, image=args.image, frames=args.frames or 3, seed=args.seed, idle=args.idle,
                    backpressure=args.backpressure, waves=args.waves, simulator=args.sim, full=args.full,
                    coverage_frames=args.coverage_frames, progress=progress)


def _share(part):
    return f"{part['caught']}/{part['total']}"


def print_simulate(summary):
    verdict = "bit-exact" if summary["bit_exact"] else "MISMATCH"
    print(f"{verdict}: {summary['frames']} frame(s) ({', '.join(summary['images'])}), streams compared: "
          f"{', '.join(summary['streams_compared'])}")
    if summary["first_mismatch"]:
        print(f"  first mismatch: {summary['first_mismatch']['message']}")
    if summary["verilog_difference"]:
        print(f"  the Verilog is not the one the bundle generates: {summary['verilog_difference']['message']}")
    for error in summary["protocol_errors"]:
        print(f"  stream protocol: {error}")
    if summary.get("full"):
        full = summary["full"]
        print(f"  full photograph: {full['image']} at {full['size'][0]}x{full['size'][1]}, {full['tiles']} tiles; "
              f"output map {full['maps']}, figure {full['figure']}")
    coverage = summary["coverage"]
    print(f"  coverage ({summary['coverage_frames']} coverage frames): weights {_share(coverage['weights'])}, "
          f"quantizer entries {_share(coverage['quantizer'])}, requantizer entries "
          f"{_share(coverage['requantizer'])}, code extremes {_share(coverage['code_extremes'])}")
    for entry in coverage["uncaught"][:5]:
        print(f"    not reached: {entry}")
    build = "build taken from the cache" if summary["build_cached"] else f"built in {summary['build_seconds']:.0f} s"
    print(f"  {summary['simulated_cycles']} cycles in {summary['run_seconds']:.1f} s on {summary['simulator_name']} "
          f"({build})")
    interval = summary["cycles"] if summary["cycles"] is not None else "not measured (too few frames)"
    print(f"  cycles per frame {interval} (bound {summary['cycle_bound']}), latency {summary['latency']}")
    print(f"  compressed frame {summary['compressed_bits']} bits vs {summary['uncompressed_bits']} uncompressed")
    print(f"  report: {summary['out']}/sim/summary.json")


def run_synth(args, progress):
    """Yosys + nextpnr on the generated Verilog: resources and Fmax."""
    from .gen.layer import DEVICES, read_manifest
    from .gen.synth import synthesize

    manifest = read_manifest(args.dir)
    target = args.target or manifest["device"]
    if target not in DEVICES or target == "generic":
        raise CommandError(f"target: choose ecp5-85f or ice40-up5k, got {target!r}")
    if DEVICES[target] != manifest["verilog_target"]:
        raise CommandError(f"target: the Verilog in {args.dir} was generated for {manifest['device']}; "
                           f"run `wccgen generate --target {target}` for {target}")
    from pathlib import Path

    workdir = Path(args.dir) / "synth" / target
    placements = "" if args.seeds == 1 else f" with seeds 1..{args.seeds}, two at a time"
    progress(f"synthesizing {manifest['verilog']} for {target} (Yosys, then nextpnr{placements}; minutes)")
    result = synthesize(Path(args.dir) / manifest["verilog"], manifest["top"], workdir, target=target,
                        clock_mhz=args.clock, seeds=range(1, args.seeds + 1))
    summary = {"command": "synth", "dir": str(args.dir), **result, "reports": str(workdir)}
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def print_synth(summary):
    from .gen.synth import seeds_text

    print(f"{summary['target']}: {summary['luts']} LUTs, {summary['ffs']} FFs, {summary['dsps']} DSPs, "
          f"{summary['brams']} block RAMs, Fmax {summary['fmax_mhz']} MHz{seeds_text(summary)} (constraint "
          f"{summary['clock_constraint_mhz']:g} MHz); reports in {summary['reports']}")


def run_bitstream(args, progress):
    """A board bitstream of the generated layer, with an on-chip test pattern source, through amaranth-boards."""
    from .gen.board import build_bitstream

    progress(f"building a {args.board} bitstream of the layer in {args.dir} (Yosys, nextpnr, ecppack; minutes)")
    return {"command": "bitstream", **build_bitstream(args.dir, args.board)}


def print_bitstream(summary):
    print(f"wrote {summary['bitstream']} for {summary['board']} ({summary['bytes']} bytes); the layer runs on the "
          f"board clock, {summary['clock_mhz']:g} MHz (nextpnr: {summary['fmax_mhz']} MHz reachable in this build)")


def run_demo(args, progress):
    """The main job on the default model: generate, simulate, synthesize, report; and the keep-rate table."""
    from pathlib import Path

    from . import golden
    from .gen.layer import generate, layer_from_checkpoint, simulate
    from .gen.report import write_layer_report
    from .gen.synth import synthesize
    from .golden.checkpoints import default_checkpoint_dir
    from .golden.training import STAGES

    stages = {stage.rate: stage for stage in STAGES if stage.kind == "wcc" and stage.energy == "square"}
    if args.hw_rate not in stages:
        raise CommandError(f"hw-rate: the default model has WCC checkpoints for {', '.join(f'{r:g}' for r in stages)}; "
                           f"got {args.hw_rate:g}")
    out = Path(args.out)
    height, width = args.hw_size
    checkpoint = Path(args.checkpoints or default_checkpoint_dir()) / f"{stages[args.hw_rate].name}.pt"
    progress(f"1/4 generate: layer {args.layer} of {checkpoint.name}, {height}x{width}, into {out}")
    source = layer_from_checkpoint(checkpoint, args.layer, height, width, image=args.image, seed=args.seed)
    manifest = generate(source, out, device="ecp5-85f", progress=progress)
    progress("2/4 simulate")
    simulation = simulate(out, frames=args.frames, seed=args.seed, simulator=args.sim, progress=progress)
    synthesis = None
    if not args.no_synth:
        progress("3/4 synthesize for ecp5-85f (Yosys, nextpnr: several minutes)")
        synthesis = synthesize(out / manifest["verilog"], manifest["top"], out / "synth" / "ecp5-85f",
                               target="ecp5-85f", seeds=range(1, args.seeds + 1))
    else:
        progress("3/4 synthesis skipped")
    progress("4/4 the integer model at each keep rate, and the report")
    rates = rates_table(args, progress)
    photograph = golden.grey_photograph(args.image, height, width)[0, 0].numpy()
    report = write_layer_report(out, manifest=manifest, simulation=simulation, synthesis=synthesis, rates=rates,
                                photograph=photograph)
    resources = ({key: synthesis[key] for key in ("luts", "ffs", "dsps", "brams", "fmax_mhz", "seed", "fmax_by_seed")}
                 if synthesis else {})
    return {
        "command": "demo",
        "out": str(out),
        "report": str(report),
        "layer": args.layer,
        "checkpoint": str(checkpoint),
        "image": args.image,
        "hw_size": [height, width],
        "hw_rate": args.hw_rate,
        **{key: simulation[key] for key in ("bit_exact", "verilog_from_bundle", "mismatches", "first_mismatch",
                                             "cycles", "cycle_bound",
                                             "latency", "compressed_bits", "uncompressed_bits",
                                             "max_float_difference_lsb", "frames", "images", "coverage_frames",
                                             "coverage", "simulator", "simulated_cycles", "run_seconds",
                                             "build_seconds", "build_cached")},
        "target": "ecp5-85f" if synthesis else None,
        **resources,
        "rates": rates,
    }


def print_demo(summary):
    from .gen.synth import seeds_text

    print_rates_table(summary["rates"])
    print()
    print(f"Hardware: WCC layer {summary['layer']} at {summary['hw_size'][0]}x{summary['hw_size'][1]}, rate "
          f"{summary['hw_rate']:g} ({summary['out']})")
    verdict = "bit-exact" if summary["bit_exact"] else f"MISMATCH ({summary['first_mismatch']['message']})"
    print(f"  simulation: {verdict} on {summary['frames']} frames of real activations ({', '.join(summary['images'])})"
          f" and {summary['coverage_frames']} coverage frames, {summary['mismatches']} mismatching streams")
    coverage = summary["coverage"]
    print(f"  caught if corrupted: weights {_share(coverage['weights'])}, quantizer bits "
          f"{_share(coverage['quantizer'])}, requantizer bits {_share(coverage['requantizer'])}; "
          f"{summary['simulated_cycles']} cycles in {summary['run_seconds']:.1f} s on {summary['simulator']}")
    print(f"  cycles per frame {summary['cycles']} (bound {summary['cycle_bound']}), latency {summary['latency']}; "
          f"compressed frame {summary['compressed_bits']} bits vs {summary['uncompressed_bits']}")
    if summary.get("fmax_mhz") is not None:
        print(f"  ECP5-85F: {summary['luts']} LUTs, {summary['ffs']} FFs, {summary['dsps']} DSPs, {summary['brams']} "
              f"block RAMs, Fmax {summary['fmax_mhz']} MHz{seeds_text(summary)}")
    print(f"  report: {summary['report']}")


def _simulator_option(parser):
    parser.add_argument("--sim", choices=["auto", "icarus", "verilator"], default="auto",
                        help="simulator (default auto: Verilator for a layer when installed, builds cached by hash)")


def _at_least(minimum, what):
    """An argparse type: an integer of at least ``minimum``, named ``what`` in its error."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {value}")
        return value
    return parse


_non_negative = _at_least(0, "non-negative")
_positive = _at_least(1, "positive")


def run_train(args, progress):
    """Train the default model's stages and write their checkpoints."""
    import torch

    from .golden.training import TrainingPlan, train

    torch.set_num_threads(args.threads)
    plan = TrainingPlan(float_steps=args.float_steps, tune_steps=args.tune_steps, seed=args.seed)
    progress(f"training {args.float_steps} float steps, then {args.tune_steps} steps per stage, seed {args.seed}, "
             f"{args.threads} thread(s), into {args.out}")
    paths = train(args.out, plan, progress=progress)
    return {"command": "train", "out": str(args.out), "checkpoints": paths, "plan": plan.record(),
            "threads": args.threads}


def print_train(summary):
    print(f"wrote {len(summary['checkpoints'])} checkpoints to {summary['out']}")


def run_eval(args, progress):
    """PSNR and SSIM against bits per activation of every stage, on held-out photographs."""
    from .golden.evaluation import evaluate
    from .golden.training import HELD_OUT

    photographs = args.photographs or list(HELD_OUT)
    progress(f"evaluating the checkpoints in {args.checkpoints or 'the shipped set'} on {', '.join(photographs)}"
             + (f" (central {args.crop}x{args.crop})" if args.crop else ""))
    result = evaluate(args.checkpoints, photographs=photographs, crop=args.crop, progress=progress)
    summary = {"command": "eval", **result}
    if args.plot:
        from .golden.report import plot_quality

        plot_quality(result, args.plot)
        summary["plot"] = str(args.plot)
        progress(f"wrote {args.plot}")
    return summary


def print_eval(summary):
    from .golden.report import quality_table

    print(quality_table(summary))
    if summary.get("plot"):
        print(f"plot: {summary['plot']}")


def build_parser():
    parser = argparse.ArgumentParser(prog="wccgen", description=__doc__.splitlines()[0])
    from . import __version__

    parser.add_argument("--version", action="version", version=f"wccgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from .gen.layer import DEVICES
    from .gen.board import BOARDS
    from .golden.photographs import PHOTOGRAPHS

    rates = commands.add_parser("rates", help="the integer model of the default model's WCC layer at several keep "
                                              "rates on a real photograph: what it stores and how well it denoises")
    rates.add_argument("--image", default="astronaut", choices=PHOTOGRAPHS, help="photograph from scikit-image")
    rates.add_argument("--size", type=_size, default=(96, 128), metavar="HxW", help="frame size (default 96x128)")
    rates.add_argument("--rates", type=_rates, default=[0.5, 0.25, 0.125], help="keep rates (default 0.5,0.25,0.125)")
    rates.add_argument("--layer", default="blocks.0.expand", help="WCC layer of the model (default blocks.0.expand)")
    rates.add_argument("--checkpoints", default=None, help="directory of checkpoints (default: the shipped ones)")
    rates.add_argument("--seed", type=int, default=0, help="seed of the noise added to the photograph (default 0)")
    rates.add_argument("--json", action="store_true", help="print a JSON summary instead of the table")
    rates.set_defaults(run=lambda args, progress: {"command": "rates", **rates_table(args, progress)},
                       show=print_rates_table)

    demo = commands.add_parser("demo", help="the default model's WCC layer: generate, simulate, synthesize, report")
    demo.add_argument("--out", default="wccgen-demo", help="output directory (default ./wccgen-demo)")
    demo.add_argument("--image", default="astronaut", choices=PHOTOGRAPHS, help="photograph from scikit-image")
    demo.add_argument("--hw-size", type=_size, default=(16, 16), metavar="HxW",
                      help="frame size of the hardware layer (default 16x16)")
    demo.add_argument("--hw-rate", type=float, default=0.25, help="keep rate of the hardware layer (default 0.25)")
    demo.add_argument("--frames", type=_positive, default=3, help="frames simulated (default 3)")
    _simulator_option(demo)
    demo.add_argument("--no-synth", action="store_true", help="skip synthesis and place-and-route")
    demo.add_argument("--seeds", type=_positive, default=1,
                      help="placements to try, with placer seeds 1..N; the fastest is reported (default 1)")
    demo.add_argument("--size", type=_size, default=(96, 128), metavar="HxW",
                      help="frame size of the keep-rate table (default 96x128)")
    demo.add_argument("--rates", type=_rates, default=[0.5, 0.25, 0.125], help="keep rates of the table "
                      "(default 0.5,0.25,0.125)")
    demo.add_argument("--layer", default="blocks.0.expand", help="WCC layer of the model (default blocks.0.expand)")
    demo.add_argument("--checkpoints", default=None, help="directory of checkpoints (default: the shipped ones)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the noise added to the photograph (default 0)")
    demo.add_argument("--json", action="store_true", help="print a JSON summary instead of the table")
    demo.set_defaults(run=run_demo, show=print_demo)

    generate = commands.add_parser("generate", help="Verilog, memory files and manifest.json of one WCC layer")
    generate.add_argument("--out", default=None, help="output directory")
    generate.add_argument("--checkpoint", default=None, help="model checkpoint (default: the shipped WCC 25 %% one)")
    generate.add_argument("--layer", default=None, help="WCC layer of the model (default blocks.0.expand)")
    generate.add_argument("--bundle", default=None, help="a saved LayerBundle (its .json, .npz or stem) instead")
    generate.add_argument("--config", default=None, help="a JSON file of these options (command-line options win)")
    generate.add_argument("--size", type=_size, default=None, metavar="HxW", help="frame size (default 16x16)")
    generate.add_argument("--image", default=None, help="photograph (scikit-image name or image file) the output "
                                                        "scale is calibrated on (default astronaut)")
    for name, meaning in (("lanes-in", "input channels per beat"), ("pe", "output channels per step of the MAC array"),
                          ("simd", "input channels per step of the MAC array"),
                          ("lanes-out", "output channels per beat"),
                          ("compressors", "compressors taking frames in turn (default 2)")):
        generate.add_argument(f"--{name}", type=_positive, default=None, dest=name.replace("-", "_"), help=meaning)
    generate.add_argument("--target", default=None, choices=DEVICES, help="device (default ecp5-85f)")
    generate.add_argument("--json", action="store_true", help="print the manifest as JSON")
    generate.set_defaults(run=run_generate, show=print_generate)

    simulate = commands.add_parser("simulate", help="the generated layer in simulation against the "
                                                    "integer model, bit for bit, on a real photograph")
    simulate.add_argument("dir", help="directory written by `wccgen generate`")
    simulate.add_argument("--image", default=None, help="photograph (scikit-image name or image file; default: the "
                                                        "calibration photograph)")
    simulate.add_argument("--frames", type=_positive, default=None, help="frames (default 3; the others are further "
                                                                         "photographs)")
    simulate.add_argument("--seed", type=int, default=0, help="seed of the noise and of idle/backpressure")
    simulate.add_argument("--idle", type=float, default=0.0, help="probability the source idles a cycle")
    simulate.add_argument("--backpressure", type=float, default=0.0, help="probability the sink refuses a beat")
    simulate.add_argument("--waves", action="store_true", help="dump a waveform (DIR/sim/run/waves.fst on Icarus, "
                          "dump.vcd on Verilator)")
    _simulator_option(simulate)
    simulate.add_argument("--full", type=_size, nargs="?", const=(96, 128), default=None, metavar="HxW",
                          help="every tile of the photograph at HxW (default 96x128, a multiple of the layer's "
                          "frame) instead of --frames; writes DIR/sim/photograph.npz and .png")
    simulate.add_argument("--coverage-frames", type=_non_negative, default=12, metavar="N",
                          help="seeded frames after the photograph's that reach every weight and table entry "
                          "(default 12; 0 for none)")
    simulate.add_argument("--json", action="store_true", help="print a JSON summary")
    simulate.set_defaults(run=run_simulate, show=print_simulate)

    synth = commands.add_parser("synth", help="Yosys + nextpnr: resources and Fmax of the generated layer")
    synth.add_argument("dir", help="directory written by `wccgen generate`")
    synth.add_argument("--target", default=None, choices=("ecp5-85f", "ice40-up5k"),
                       help="device (default: the one generated for)")
    synth.add_argument("--clock", type=float, default=200.0, help="clock constraint in MHz (default 200)")
    synth.add_argument("--seeds", type=_positive, default=1,
                       help="placements to try, with placer seeds 1..N; the fastest is reported (default 1)")
    synth.add_argument("--json", action="store_true", help="print a JSON summary")
    synth.set_defaults(run=run_synth, show=print_synth)

    bitstream = commands.add_parser("bitstream", help="a board bitstream of the generated layer (amaranth-boards)")
    bitstream.add_argument("dir", help="directory written by `wccgen generate`")
    bitstream.add_argument("--board", default="ulx3s-85f", choices=BOARDS, help="board (default ulx3s-85f)")
    bitstream.add_argument("--json", action="store_true", help="print a JSON summary")
    bitstream.set_defaults(run=run_bitstream, show=print_bitstream)

    from .golden.training import HELD_OUT

    train = commands.add_parser("train", help="train the default denoiser's stages (float, 8/b, WCC) from scratch")
    train.add_argument("--out", default="trained", help="directory for the checkpoints (default ./trained)")
    train.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    train.add_argument("--float-steps", type=_positive, default=4000, help="steps of the float stage (default 4000)")
    train.add_argument("--tune-steps", type=_positive, default=300,
                       help="steps of every fine-tuning stage (default 300)")
    train.add_argument("--threads", type=_positive, default=1,
                       help="PyTorch threads (default 1; results depend on it)")
    train.add_argument("--json", action="store_true", help="print a JSON summary")
    train.set_defaults(run=run_train, show=print_train)

    evaluate = commands.add_parser("eval", help="PSNR/SSIM vs bits per activation of FP32, 8/b and WCC on held-out "
                                                "photographs")
    evaluate.add_argument("--checkpoints", default=None, help="directory of checkpoints (default: the shipped ones)")
    evaluate.add_argument("--photographs", nargs="+", choices=PHOTOGRAPHS, default=None,
                          help=f"photographs to denoise (default: the held-out {' '.join(HELD_OUT)})")
    evaluate.add_argument("--crop", type=_positive, default=None, help="use the central CROPxCROP pixels only")
    evaluate.add_argument("--plot", default=None, help="write the PSNR/SSIM plot to this PNG")
    evaluate.add_argument("--json", action="store_true", help="print a JSON summary instead of the table")
    evaluate.set_defaults(run=run_eval, show=print_eval)
    return parser


def _reported_errors():
    """Errors that end a command with one line: bad input, missing files, tools that failed."""
    from .gen.synth import SynthesisError
    from .sim.harness import SimulationError, SimulatorMissing

    return CommandError, ValueError, TypeError, OSError, SynthesisError, SimulationError, SimulatorMissing


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    progress = _progress(enabled=True)
    try:
        summary = args.run(args, progress)
    except _reported_errors() as error:
        print(f"wccgen: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        args.show(summary)
    # A simulation that is not bit-exact, or Verilog that is not the bundle's, fails the command.
    return 1 if summary.get("bit_exact") is False or summary.get("verilog_from_bundle") is False else 0


if __name__ == "__main__":
    sys.exit(main())
