"""Soak of the whole layer on Verilator: random geometries, frames, traffic and resets; every stream bit-exact.

Writes bench/results/soak.json. Run with `.venv/bin/python bench/soak.py` (defaults: 100,000 frames over 60
geometries, two trials at a time). Each trial is drawn from its seed (`wccgen.sim.soak.draw_trial`): a geometry
(1 to 24 rows and columns, 1 to 16 channels in and out, 1 to 3 Haar levels, keep rates from 5 % to 100 %,
4- to 8-bit widths, PE x SIMD, lanes, 1 to 3 compressors, generic or ECP5 Verilog), a random bundle, frames of
four kinds (uniform codes, extremes, small codes full of equal energies, crops of photograph activations),
idle and backpressure probabilities in [0, 0.6], and in about a third of the trials a reset in the middle of a
frame. Frames are dealt to the trials in inverse proportion to their cycles per frame, so small geometries
carry most of the count. `--replay SEED` runs one trial again and prints it.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from sim import machine  # noqa: E402

#: Frames a trial is given at least, whatever its size.
MIN_FRAMES = 200


def progress(message):
    print(f"[bench/soak] {message}", file=sys.stderr, flush=True)


def _trial(seed, frames, cache):
    os.environ["WCCGEN_SIM_CACHE"] = cache
    from wccgen.sim.soak import draw_trial, run_trial

    return run_trial(draw_trial(seed, frames))


def _weights(seeds):
    """Cycles per frame of each trial's layer (its slowest stage), from which frames are dealt."""
    from wccgen.golden.bundle import random_bundle
    from wccgen.hw.wcc_layer import WccLayerSpec
    from wccgen.sim.soak import draw_trial
    from wccgen.spec.wcc_config import WccConfig

    bounds = []
    for seed in seeds:
        trial = draw_trial(seed, 1)
        bundle = random_bundle(WccConfig(**trial.config), seed=seed, activation=trial.activation)
        bounds.append(WccLayerSpec(bundle=bundle, **trial.params).cycle_bound)
    return bounds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=100_000, help="frames in all (default 100000)")
    parser.add_argument("--geometries", type=int, default=60, help="trials, one geometry each (default 60)")
    parser.add_argument("--seed", type=int, default=1000, help="seed of the first trial (default 1000)")
    parser.add_argument("--jobs", type=int, default=2, help="trials at a time (default 2)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "soak.json")
    parser.add_argument("--replay", type=int, default=None, metavar="SEED", help="run the trial of SEED again")
    parser.add_argument("--replay-frames", type=int, default=MIN_FRAMES)
    args = parser.parse_args(argv)
    if args.replay is not None:
        from wccgen.sim.soak import draw_trial, run_trial

        print(json.dumps(run_trial(draw_trial(args.replay, args.replay_frames)), indent=2))
        return 0
    seeds = list(range(args.seed, args.seed + args.geometries))
    bounds = _weights(seeds)
    inverse = [1 / b for b in bounds]
    share = max(0, args.frames - MIN_FRAMES * len(seeds))
    frames = [MIN_FRAMES + int(share * w / sum(inverse)) for w in inverse]
    frames[0] += args.frames - sum(frames)  # rounding: exactly the frames asked for
    cache = tempfile.mkdtemp(prefix="wccgen-soak-cache-")
    start = time.monotonic()
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(_trial, seed, count, cache): seed for seed, count in zip(seeds, frames)}
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            progress(f"{len(results)}/{len(seeds)} seed {result['seed']}: {result['geometry']}; {result['frames']} "
                     f"frames, {result['cycles']} cycles: {'bit-exact' if result['passed'] else result['mismatch']} "
                     f"({result['seconds']:.0f} s)")
    seconds = time.monotonic() - start
    shutil.rmtree(cache, ignore_errors=True)
    results.sort(key=lambda r: r["seed"])
    failed = [r for r in results if not r["passed"]]
    summary = {
        "benchmark": "soak of the whole layer: random geometries, frames, traffic and resets",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "simulator": "verilator",
        "jobs": args.jobs,
        "frames": sum(r["frames"] for r in results),
        "cycles": sum(r["cycles"] for r in results),
        "geometries": len({r["geometry"] for r in results}),
        "trials_with_reset": sum(r["reset_after_beats"] is not None for r in results),
        "trials_with_traffic": sum(r["idle"] > 0 or r["backpressure"] > 0 for r in results),
        "frame_kinds": {kind: sum(r["frame_kinds"][kind] for r in results) for kind in results[0]["frame_kinds"]},
        "mismatching_trials": len(failed),
        "mismatches": [{"seed": r["seed"], "geometry": r["geometry"], "mismatch": r["mismatch"]} for r in failed],
        "seconds": round(seconds, 1),
        "build_seconds": round(sum(r["build_seconds"] for r in results), 1),
        "targets": {"frames": 100_000, "geometries": 50, "minutes": 30, "mismatches": 0},
        "targets_met": {"frames": sum(r["frames"] for r in results) >= 100_000,
                        "geometries": len({r["geometry"] for r in results}) >= 50,
                        "minutes": seconds <= 30 * 60, "mismatches": not failed},
        "trials": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    progress(f"{summary['frames']} frames, {summary['cycles']} cycles, {summary['geometries']} geometries, "
             f"{len(failed)} mismatching trial(s) in {seconds / 60:.1f} min; wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
