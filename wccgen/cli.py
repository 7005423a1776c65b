"""The ``wccgen`` command line.

Every command prints a human summary, or with ``--json`` one JSON object on
standard output; progress goes to standard error. Exit status (:data:`~wccgen.exit_status.EXIT_STATUS`):
0 success; 1 the hardware differs from the integer model (or the Verilog from
the bundle's); 2 bad input, with one ``wccgen: error: ...`` line naming it and
never a traceback; 3 a tool failed or is missing (simulator, Yosys, nextpnr),
with the path of its log. The work is done in
:mod:`wccgen.gen` (and :mod:`wccgen.golden` for training and evaluation);
this module parses options and prints.
"""

from __future__ import annotations

import json
import sys
import time

from . import summaries
from .arguments import NON_NEGATIVE, POSITIVE, RATES, SIZE, Parser, add_eval_options, add_train_options
from .exit_status import EXIT_STATUS, exit_status

__all__ = ["main"]

def _progress(enabled):
    start = time.monotonic()

    def report(message):
        if enabled:
            print(f"[{time.monotonic() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    return report


def run_rates(args, progress):
    from .gen.rates import rates_table

    return {"command": "rates", **rates_table(image=args.image, size=args.size, rates=args.rates, layer=args.layer,
                                              checkpoints=args.checkpoints, seed=args.seed, progress=progress)}


def run_demo(args, progress):
    from .gen.demo import demo

    return demo(args.out, image=args.image, hw_size=args.hw_size, hw_rate=args.hw_rate, frames=args.frames,
                simulator=args.sim, synthesize=not args.no_synth, seeds=args.seeds, size=args.size, rates=args.rates,
                layer=args.layer, checkpoints=args.checkpoints, seed=args.seed, network=not args.no_network,
                force=args.force, progress=progress)


def run_generate(args, progress):
    from .gen.layer import check_output_directory, generate
    from .gen.options import GenerateOptions

    options = GenerateOptions.combine(args.config, **{key: getattr(args, key) for key in (
        "checkpoint", "layer", "bundle", "size", "image", "lanes_in", "pe", "simd", "lanes_out", "compressors",
        "target", "out", "network", "codec", "ports", "model", "images")})
    check_output_directory(options.out, args.force)  # before the model is loaded and calibrated
    if options.model:
        # Without --layer (on the command line or in the config file), every converted layer.
        layer = args.layer or (GenerateOptions.read_file(args.config).get("layer") if args.config else None)
        return _generate_from_model(options, layer, args.force, progress)
    if options.codec:
        from .gen.codec import generate_codec

        manifest = generate_codec(options.codec, options.out, checkpoint=options.checkpoint, layer=options.layer,
                                  size=options.size, image=options.image, pe=options.pe,
                                  lanes_out=options.lanes_out, device=options.target, force=args.force,
                                  progress=progress)
        return {"command": "generate", "out": str(options.out), **manifest}
    if options.network:
        from .gen.network import generate_network

        manifest = generate_network(options.checkpoint, options.out, size=options.size, **{key: getattr(
            options, key) for key in ("lanes_in", "pe", "simd", "lanes_out", "compressors")},
            device=options.target, force=args.force, progress=progress)
        return {"command": "generate", "out": str(options.out), **manifest}
    manifest = generate(options.source(progress), options.out, lanes_in=options.lanes_in, pe=options.pe,
                        simd=options.simd, lanes_out=options.lanes_out, compressors=options.compressors,
                        device=options.target, ports=options.ports or "axi", force=args.force, progress=progress)
    return {"command": "generate", "out": str(options.out), **manifest}


def _generate_from_model(options, one, force, progress):
    """``generate --model``: the program's 1x1 convolutions converted and calibrated, hardware for ``--layer``
    (into ``--out``) or for every converted layer (into ``--out/<layer>/``)."""
    from .gen.convert import convert, load_exported
    from .gen.layer import atomic_directory, check_output_directory, generate

    module, example = load_exported(options.model)
    conversion = convert(module, example, images=options.images, tile=options.size,
                         layers=[one] if one else None, progress=progress)
    settings = dict(lanes_in=options.lanes_in, pe=options.pe, simd=options.simd, lanes_out=options.lanes_out,
                    compressors=options.compressors, device=options.target, ports=options.ports or "axi",
                    progress=progress)
    if one:
        manifest = generate(conversion.source(one), options.out, force=force, **settings)
        return {"command": "generate", "out": str(options.out), **manifest}
    out = check_output_directory(options.out, force)
    with atomic_directory(out) as partial:
        manifests = conversion.generate(partial, force=False, **settings)
    layers = {name: str(out / name.replace(".", "_")) for name in manifests}
    progress(f"{len(layers)} layer(s): {', '.join(layers)}; skipped: "
             f"{'; '.join(f'{n} {why}' for n, why in conversion.skipped.items()) or 'none'}")
    return {"command": "generate", "out": str(out), "layers": layers, "skipped": conversion.skipped}


def run_simulate(args, progress):
    from .gen.codec import is_codec, simulate_codec
    from .gen.layer import simulate
    from .gen.network import is_network, simulate_network

    if is_codec(args.dir):
        given = [name for name, value in (("--full", args.full), ("--native", args.native or None),
                                          ("--coverage-frames", args.coverage_frames)) if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: options of a WCC layer; {args.dir} holds a TCI or DCT-CM layer")
        return simulate_codec(args.dir, image=args.image, frames=args.frames or 3, seed=args.seed, idle=args.idle,
                              backpressure=args.backpressure, waves=args.waves, simulator=args.sim,
                              progress=progress)

    if is_network(args.dir):
        given = [name for name, value in (("--frames", args.frames), ("--waves", args.waves or None),
                                          ("--coverage-frames", args.coverage_frames)) if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)}: options of one layer; {args.dir} holds a network")
        return simulate_network(args.dir, image=args.image or "astronaut", size=None if args.native else
                                args.full or (96, 128), seed=args.seed, idle=args.idle, backpressure=args.backpressure,
                                simulator=args.sim, progress=progress)

    if args.native:
        raise ValueError(f"--native: an option of a network; {args.dir} holds one layer (give --full HxW)")
    return simulate(args.dir, image=args.image, frames=args.frames or 3, seed=args.seed, idle=args.idle,
                    backpressure=args.backpressure, waves=args.waves, simulator=args.sim, full=args.full,
                    coverage_frames=12 if args.coverage_frames is None else args.coverage_frames, progress=progress)


def run_synth(args, progress):
    from .gen.synth import synthesize_generated

    return synthesize_generated(args.dir, target=args.target, clock_mhz=args.clock, seeds=args.seeds,
                                progress=progress)


def run_sweep(args, progress):
    from .gen.sweep import run_sweep as sweep

    return sweep(args.config, args.out, scheduler=args.scheduler, workers=args.workers, progress=progress)


def run_bitstream(args, progress):
    from .gen.board import build_bitstream

    progress(f"building a {args.board} bitstream of the layer in {args.dir} (Yosys, nextpnr, ecppack; minutes)")
    return {"command": "bitstream", **build_bitstream(args.dir, args.board)}


def run_train(args, progress):
    from .golden.training import train_stages

    return train_stages(args.out, float_steps=args.float_steps, tune_steps=args.tune_steps, seed=args.seed,
                        replicas=args.replicas, threads=args.threads, jobs=args.jobs, keep=args.keep,
                        force=args.force, methods=args.codecs, progress=progress)


def run_eval(args, progress):
    from .golden.evaluation import evaluate_and_plot

    return evaluate_and_plot(args.checkpoints, photographs=args.photographs, crop=args.crop, tiles=args.tiles,
                             replicas=args.replicas, quick=args.quick, jobs=args.jobs, plot=args.plot,
                             methods=args.codecs, progress=progress)


def _model_options(parser, layer="blocks.0.expand"):
    parser.add_argument("--layer", default=layer, help=f"WCC layer of the model (default {layer})")
    parser.add_argument("--checkpoints", default=None, help="directory of checkpoints (default: the shipped ones)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the noise added to the photograph (default 0)")


def _simulator_option(parser):
    from .sim.simulators import SIMULATOR_CHOICES

    parser.add_argument("--sim", choices=SIMULATOR_CHOICES, default="auto",
                        help="simulator (default auto: Verilator for a layer when installed, builds cached by hash)")


def build_parser():
    from . import __version__
    from .gen.devices import BOARDS, DEVICES, SYNTHESIS_DEVICES
    from .gen.options import PORT_STYLES
    from .gen.rates import DEFAULT_RATES
    from .golden.codec_bundle import CODECS
    from .golden.photographs import PHOTOGRAPHS

    parser = Parser(prog="wccgen", description="Hardware for CNN layers that keep their "
                                     "activations compressed, proven bit-exact against an integer model.",
                                     epilog="exit status: " + "; ".join(f"{code} {meaning}" for code, meaning
                                                                        in EXIT_STATUS.items()))
    parser.add_argument("--version", action="version", version=f"wccgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rates_default = ",".join(f"{rate:g}" for rate in DEFAULT_RATES)

    def command(name, run, show, help):
        sub = commands.add_parser(name, help=help)
        sub.set_defaults(run=run, show=show)
        return sub

    rates = command("rates", run_rates, summaries.print_rates_table,
                    "the integer model of the default model's WCC layer at several keep rates on a real photograph: "
                    "what it stores and how well it denoises")
    rates.add_argument("--image", default="astronaut", choices=PHOTOGRAPHS, help="photograph from scikit-image")
    rates.add_argument("--size", type=SIZE, default=(96, 128), metavar="HxW", help="frame size (default 96x128)")
    rates.add_argument("--rates", type=RATES, default=list(DEFAULT_RATES), help=f"keep rates (default {rates_default})")
    _model_options(rates)

    demo = command("demo", run_demo, summaries.print_demo,
                   "the default model: a photograph through the whole network's Verilog; one WCC layer generated, "
                   "simulated, synthesized; report")
    demo.add_argument("--out", default="wccgen-demo", help="output directory (default ./wccgen-demo)")
    demo.add_argument("--force", action="store_true", help="replace what the output directory holds")
    demo.add_argument("--image", default="astronaut", choices=PHOTOGRAPHS, help="photograph from scikit-image")
    demo.add_argument("--hw-size", type=SIZE, default=(16, 16), metavar="HxW",
                      help="frame size of the hardware layer (default 16x16)")
    demo.add_argument("--hw-rate", type=float, default=0.25, help="keep rate of the hardware layer (default 0.25)")
    demo.add_argument("--frames", type=POSITIVE, default=3, help="frames simulated (default 3)")
    _simulator_option(demo)
    demo.add_argument("--no-synth", action="store_true", help="skip synthesis and place-and-route")
    demo.add_argument("--no-network", action="store_true", help="skip the whole network's photograph")
    demo.add_argument("--seeds", type=POSITIVE, default=1,
                      help="placements to try, with placer seeds 1..N; the fastest is reported (default 1)")
    demo.add_argument("--size", type=SIZE, default=(96, 128), metavar="HxW",
                      help="frame size of the keep-rate table (default 96x128)")
    demo.add_argument("--rates", type=RATES, default=list(DEFAULT_RATES),
                      help=f"keep rates of the table (default {rates_default})")
    _model_options(demo)

    generate = command("generate", run_generate, summaries.print_generate,
                       "Verilog, memory files and manifest.json of one WCC layer")
    generate.add_argument("--out", default=None, help="output directory (empty or new)")
    generate.add_argument("--force", action="store_true", help="replace what the output directory holds")
    generate.add_argument("--checkpoint", default=None, help="model checkpoint (default: the shipped WCC 25 %% one)")
    generate.add_argument("--layer", default=None, help="WCC layer of the model (default blocks.0.expand)")
    generate.add_argument("--bundle", default=None, help="a saved LayerBundle (its .json, .npz or stem) instead")
    generate.add_argument("--model", default=None,
                          help="a model of one's own, a torch.export program (.pt2): its 1x1 convolutions become "
                               "WCC layers; hardware for --layer, or for each into OUT/<layer>/")
    generate.add_argument("--images", default=None,
                          help="--model's calibration images: a folder of image files or a .npy of inputs "
                               "(default: scikit-image photographs)")
    generate.add_argument("--network", action="store_true", default=None,
                          help="every WCC layer of the checkpoint, and the network bundle between them")
    generate.add_argument("--codec", default=None, choices=CODECS,
                          help="a TCI, DCT-CM or CAP layer of a model of that codec (default checkpoint: the shipped "
                               "25 %% one) instead of a WCC layer")
    generate.add_argument("--config", default=None, help="a JSON file of these options (command-line options win)")
    generate.add_argument("--size", type=SIZE, default=None, metavar="HxW", help="frame size (default 16x16)")
    generate.add_argument("--image", default=None, help="photograph (scikit-image name or image file) the output "
                                                        "scale is calibrated on (default astronaut)")
    array = "; by default with SIMD, the fewest multipliers that keep the frame interval of an 8 x 8 array"
    for name, meaning in (("lanes-in", "input channels per beat"),
                          ("pe", "output channels per step of the MAC array" + array),
                          ("simd", "input channels per step of the MAC array (see --pe)"),
                          ("lanes-out", "output channels per beat"),
                          ("compressors", "compressors taking frames in turn (default 2)")):
        generate.add_argument(f"--{name}", type=POSITIVE, default=None, dest=name.replace("-", "_"), help=meaning)
    generate.add_argument("--target", default=None, choices=DEVICES, help="device (default ecp5-85f)")
    generate.add_argument("--ports", default=None, choices=PORT_STYLES,
                          help="a WCC layer's input and output: axi (s_axis_*/m_axis_*: tdata, tvalid, tready, "
                               "tlast at a frame's end, tuser at its start; the default) or native "
                               "(pixels__payload/__valid/__ready, output__...)")

    simulate = command("simulate", run_simulate, summaries.print_simulate,
                       "the generated layer in simulation against the integer model, bit for bit, on a real "
                       "photograph")
    simulate.add_argument("dir", help="directory written by `wccgen generate`")
    simulate.add_argument("--image", default=None, help="photograph (scikit-image name or image file; default: the "
                                                        "calibration photograph)")
    frames = simulate.add_mutually_exclusive_group()
    frames.add_argument("--frames", type=POSITIVE, default=None, help="frames (default 3; the others are further "
                                                                   "photographs)")
    frames.add_argument("--full", type=SIZE, nargs="?", const=(96, 128), default=None, metavar="HxW",
                        help="every tile of the photograph at HxW (default 96x128, a multiple of the layer's frame) "
                        "instead of --frames; writes DIR/sim/photograph.npz and .png. For a network: the "
                        "photograph's size (default 96x128)")
    frames.add_argument("--native", action="store_true", help="a network: the photograph at its own size")
    simulate.add_argument("--seed", type=int, default=0, help="seed of the noise and of idle/backpressure")
    simulate.add_argument("--idle", type=float, default=0.0, help="probability the source idles a cycle")
    simulate.add_argument("--backpressure", type=float, default=0.0, help="probability the sink refuses a beat")
    simulate.add_argument("--waves", action="store_true", help="dump a waveform (DIR/sim/run/waves.fst on Icarus, "
                          "dump.vcd on Verilator)")
    _simulator_option(simulate)
    simulate.add_argument("--coverage-frames", type=NON_NEGATIVE, default=None, metavar="N",
                          help="seeded frames after the photograph's that reach every weight and table entry "
                          "(default 12; 0 for none)")

    synth = command("synth", run_synth, summaries.print_synth,
                    "Yosys + nextpnr: resources and Fmax of the generated layer")
    synth.add_argument("dir", help="directory written by `wccgen generate`")
    synth.add_argument("--target", default=None, choices=SYNTHESIS_DEVICES,
                       help="device (default: the one generated for)")
    synth.add_argument("--clock", type=float, default=200.0, help="clock constraint in MHz (default 200)")
    synth.add_argument("--seeds", type=POSITIVE, default=1,
                       help="placements to try, with placer seeds 1..N; the fastest is reported (default 1)")

    sweep = command("sweep", run_sweep, summaries.print_sweep,
                    "a grid of generate + simulate + synth jobs on Dask: one table (JSON, markdown) and a Pareto "
                    "plot")
    sweep.add_argument("config", help="JSON file: base, grid, simulate, frames, synth, seeds (docs/sweeps.md)")
    sweep.add_argument("--out", default="sweep", help="output directory; a re-run skips its finished jobs "
                                                      "(default ./sweep)")
    sweep.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="a running Dask scheduler (tcp://host:8786); default: a LocalCluster on this machine")
    sweep.add_argument("--workers", type=POSITIVE, default=2,
                       help="worker processes of the LocalCluster (default 2; a job's tools use the cores too)")

    bitstream = command("bitstream", run_bitstream, summaries.print_bitstream,
                        "a board bitstream of the generated layer (amaranth-boards)")
    bitstream.add_argument("dir", help="directory written by `wccgen generate`")
    bitstream.add_argument("--board", default=next(iter(BOARDS)), choices=BOARDS,
                           help=f"board (default {next(iter(BOARDS))})")

    train = command("train", run_train, summaries.print_train,
                    "train the default denoiser's stages (float, 8/b, WCC) from scratch")
    add_train_options(train)

    evaluate = command("eval", run_eval, summaries.print_eval,
                       "PSNR/SSIM vs bits per activation of FP32, 8/b and WCC on held-out photographs")
    add_eval_options(evaluate)

    for sub in commands.choices.values():
        sub.add_argument("--json", action="store_true", help="print a JSON summary instead of the text")
    return parser


def _one_line(text):
    """``text`` with every character that would break or hide a line (newlines, carriage returns, separators)
    written as its escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    progress = _progress(enabled=True)
    try:
        summary = args.run(args, progress)
    except Exception as error:
        status = exit_status(error)
        if status is None:
            raise
        # Bad input is one line, whatever text it quotes; a tool's failure may add the end of its log.
        message = _one_line(str(error)) if status == 2 else str(error)
        print(f"wccgen: error: {message}", file=sys.stderr)
        return status
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        args.show(summary)
    # A simulation that is not bit-exact, or Verilog that is not the bundle's, fails the command.
    return 1 if summary.get("bit_exact") is False or summary.get("verilog_from_bundle") is False else 0


if __name__ == "__main__":
    sys.exit(main())
