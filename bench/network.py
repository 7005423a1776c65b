"""The whole denoiser through its generated Verilog, on the held-out photographs at their own size.

Writes bench/results/network.json. Run with `.venv/bin/python bench/network.py` (about an hour on 2
cores: generation, two Verilator builds into a simulator cache of the run's own, so that the first
photograph's row counts them, every 16x16 tile of each photograph through the engines' Verilog, then
synthesis, placement and routing of the network's top on the ECP5-85F).

The network is `wccgen generate --network` of the shipped WCC 25 % checkpoint: six WCC layers on two
engines (the three 16 -> 64 expansions on one, the three 64 -> 16 projections on the other, each holding
its three layers' weights and tables), 16x16 tiles. Each held-out photograph (never seen in training)
gets Gaussian noise of sigma 25/255 and goes through `wccgen simulate` of the network: every WCC layer's
tiles through its engine's Verilog (Verilator) with the engine's layer input set to that layer, the
hardware's outputs feeding the next layers, the head, tail, depthwise 3x3 layers and residual adds in
the integer model between them. A row per photograph: bit-exactness of every layer on every tile, PSNR
and SSIM of the hardware's output, of the integer model's (the same computation) and of the float
PyTorch model's on the same noisy input, and the wall time of the simulation. Two more rows take the
first photograph at 96x128 and 256x256 once the simulator builds are cached: the time a user waits for
one photograph through the whole network, and the cycles the engines take per image at those sizes.
`wccgen synth` of the network (both engines in one design) gives its resources and Fmax, and with the
simulated cycles the images per second of the WCC layers (the layers between them run in software and
are not counted).
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from wccgen.gen.network import generate_network, simulate_network
from wccgen.gen.synth import synthesize_generated
from wccgen.golden.training import HELD_OUT

sys.path.insert(0, str(Path(__file__).resolve().parent))
from haar import write_summary  # noqa: E402
from sim import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent


def progress(message):
    print(f"[bench/network] {message}", file=sys.stderr, flush=True)


def row(name, summary, size):
    layers = summary["layers"]
    return {
        "name": name, "size": summary["size"], "resized": size is not None, "tiles_per_layer": next(iter(layers.values()))["tiles"],
        "bit_exact": summary["bit_exact"], "hardware_equals_integer_model": summary["hardware_equals_integer_model"],
        "psnr_hardware": summary["psnr"]["hardware"], "psnr_integer": summary["psnr"]["integer"],
        "psnr_float": summary["psnr"].get("float"), "psnr_noisy": summary["psnr"]["noisy"],
        "ssim_hardware": summary["ssim"]["hardware"], "ssim_integer": summary["ssim"]["integer"],
        "ssim_float": summary["ssim"].get("float"),
        "seconds": summary["seconds"], "build_seconds": summary["build_seconds"],
        "simulated_cycles": summary["simulated_cycles"],
        "layers": {layer: {key: value[key] for key in ("engine", "layer_setting", "bit_exact", "tiles",
                                                        "simulated_cycles", "frame_interval_cycles", "run_seconds")}
                   for layer, value in layers.items()},
    }


#: What the JSON keeps of a synthesis summary.
SYNTHESIS_KEYS = ("target", "luts", "ffs", "dsps", "brams", "lutrams", "carries", "fmax_mhz", "seed", "fmax_by_seed",
                  "clock_constraint_mhz", "seconds", "reused_from")


def earlier_synthesis(directory, out, manifest):
    """The summary of `wccgen synth` run on ``directory``, refused unless its network Verilog is this run's (the
    comment lines of its header aside)."""
    import hashlib

    def digest(path):
        lines = Path(path).read_text().splitlines(keepends=True)
        return hashlib.sha256("".join(line for line in lines if not line.startswith("// ")).encode()).hexdigest()

    theirs, ours = Path(directory) / manifest["verilog"], out / manifest["verilog"]
    if digest(theirs) != digest(ours):
        raise SystemExit(f"--synthesis-from: {theirs} is not the design of this run's {manifest['verilog']}")
    summary = json.loads((Path(directory) / "synth" / manifest["device"] / "summary.json").read_text())
    return {**summary, "reused_from": f"`wccgen synth` of the same {manifest['verilog']} (comments aside, sha256 "
                                      f"{digest(ours)[:16]}...)"}


def images_per_second(results, fmax_mhz):
    """Images per second of the WCC layers at ``fmax_mhz``, per resized row (cycles simulated, layer after layer)."""
    return {f"{r['size'][0]}x{r['size'][1]}": {"cycles_per_image": r["simulated_cycles"],
                                              "images_per_second": round(fmax_mhz * 1e6 / r["simulated_cycles"], 1)}
            for r in results if r["resized"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "network.json")
    parser.add_argument("--photographs", nargs="+", default=list(HELD_OUT))
    parser.add_argument("--seeds", type=int, default=3, help="placer seeds of the network's synthesis (0: none)")
    parser.add_argument("--synthesis-from", type=Path, default=None, metavar="DIR",
                        help="take the synthesis from `wccgen synth DIR` of a network generated the same way, "
                             "when its wcc_network.v is this run's, comments aside (place and route take an hour)")
    args = parser.parse_args()
    if args.synthesis_from and not (args.synthesis_from / "synth" / "ecp5-85f" / "summary.json").is_file():
        parser.error(f"--synthesis-from: {args.synthesis_from} has no finished `wccgen synth` (synth/ecp5-85f/"
                     "summary.json)")
    with tempfile.TemporaryDirectory(prefix="wccgen-bench-network-") as workdir:
        os.environ["WCCGEN_SIM_CACHE"] = str(Path(workdir) / "sim-cache")  # the builds are part of the first row
        out = Path(workdir) / "network"
        start = time.monotonic()
        manifest = generate_network(out=out, progress=progress)
        generate_seconds = time.monotonic() - start
        results, synthesis = [], None

        def write():
            # After each row: a long run leaves what it has measured.
            write_summary(args.out, "the whole network through its generated Verilog", {
                "checkpoint": manifest["source"]["label"], "tile": manifest["tile"],
                "noise": "Gaussian, sigma 25/255, seeded (wccgen.gen.network.NOISE_SEED)",
                "photographs": "held out of training, at their own size (the last two rows resized to 96x128 and "
                               "256x256)",
                "simulator": "verilator", "schedule": manifest["schedule"],
                "engines": [{key: engine[key] for key in ("name", "layers", "channels_in", "channels_out",
                                                          "parameters", "cycles", "hard_multipliers")}
                            for engine in manifest["engines"]],
                "synthesis": synthesis,
                "generate_seconds": round(generate_seconds, 1), "machine": machine(),
            }, {"bit_exact": "every WCC layer on every tile", "seconds_96x128": "<= 600 with cached builds",
                "fits": "the network's engines on one ECP5-85F"}, results)

        for name in args.photographs:
            summary = simulate_network(out, image=name, size=None, progress=progress)
            results.append(row(name, summary, None))
            progress(f"{name}: {'bit-exact' if summary['bit_exact'] else 'MISMATCH'}, PSNR hardware "
                     f"{summary['psnr']['hardware']} integer {summary['psnr']['integer']} float "
                     f"{summary['psnr'].get('float')} dB, {summary['seconds']} s")
            write()
        for size in ((96, 128), (256, 256)):
            summary = simulate_network(out, image=args.photographs[0], size=size, progress=progress)
            results.append(row(args.photographs[0], summary, size))
            write()
        if args.synthesis_from:
            synthesis = earlier_synthesis(args.synthesis_from, out, manifest)
        elif args.seeds:
            start = time.monotonic()
            synthesis = synthesize_generated(out, seeds=args.seeds, progress=progress)
            synthesis["seconds"] = round(time.monotonic() - start, 1)
        if synthesis:
            synthesis = {key: synthesis.get(key) for key in SYNTHESIS_KEYS}
            synthesis["images_per_second"] = images_per_second(results, synthesis["fmax_mhz"])
            write()
    progress(f"wrote {args.out}")
    return 0 if all(r["bit_exact"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
