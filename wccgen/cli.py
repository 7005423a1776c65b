"""The ``wccgen`` command line.

Every command prints a human summary, or with ``--json`` one JSON object on
standard output; progress goes to standard error. Bad input ends with one
``wccgen: error: ...`` line and exit status 2, never a traceback.
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


def run_demo(args, progress):
    """The default model's WCC layer on a real photograph: float layer, export, integer model, at each keep rate."""
    import numpy as np
    import torch

    from . import golden
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
        seen = []
        handle = layer.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0]))
        with torch.no_grad():
            denoised = model(x)
        handle.remove()
        features = seen[0]
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
        "command": "demo",
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


def print_demo(summary):
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


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


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
    demo = commands.add_parser("demo", help="run the default model's WCC layer on a real photograph and report what "
                                             "it stores")
    from .golden.photographs import PHOTOGRAPHS

    demo.add_argument("--image", default="astronaut", choices=PHOTOGRAPHS, help="photograph from scikit-image")
    demo.add_argument("--size", type=_size, default=(96, 128), metavar="HxW", help="frame size (default 96x128)")
    demo.add_argument("--rates", type=_rates, default=[0.5, 0.25, 0.125], help="keep rates (default 0.5,0.25,0.125)")
    demo.add_argument("--layer", default="blocks.0.expand", help="WCC layer of the model (default blocks.0.expand)")
    demo.add_argument("--checkpoints", default=None, help="directory of checkpoints (default: the shipped ones)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the noise added to the photograph (default 0)")
    demo.add_argument("--json", action="store_true", help="print a JSON summary instead of the table")
    demo.set_defaults(run=run_demo, show=print_demo)

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


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    progress = _progress(enabled=True)
    try:
        summary = args.run(args, progress)
    except (CommandError, ValueError, TypeError, OSError) as error:
        print(f"wccgen: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        args.show(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
