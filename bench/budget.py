"""Control of the training budget: the 8/8 model fine-tuned for the same steps every compressed stage gets.

Every compressed stage of the default model is fine-tuned from the 8/8 parent
for 600 steps, so it has trained 600 steps longer than the 8/8 row it is
compared with. This bench trains that uncompressed control (the 8/8 stage
fine-tuned again, same plan, three seeds) from the shipped parents and
evaluates it on the held-out photographs as `wccgen eval` does, so a
compressed stage's gain over 8/8 can be told apart from its extra steps.

Writes bench/results/budget.json. Run with `.venv/bin/python bench/budget.py`
(about 10 minutes on 2 cores; not part of `make bench`).
"""

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from wccgen.golden.checkpoints import Stage, default_checkpoint_dir
from wccgen.golden.evaluation import evaluate
from wccgen.golden.training import STAGES, TrainingPlan, train

ROOT = Path(__file__).resolve().parent
PARENTS = [stage for stage in STAGES if stage.name in ("fp32", "q8a8")]
#: The 8/8 model fine-tuned once more, as every compressed stage is: same quantizers, same steps.
CONTROL = Stage("q8a8tuned", "quant", "q8a8", bit_w=8, bit_a=8)


def progress(message):
    print(f"[bench/budget] {message}", file=sys.stderr, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "budget.json")
    args = parser.parse_args(argv)
    started = time.time()
    with tempfile.TemporaryDirectory() as directory:
        for stage in PARENTS:
            shutil.copy(default_checkpoint_dir() / f"{stage.name}.pt", directory)
        stages = PARENTS + [CONTROL]
        train(directory, TrainingPlan(), stages, progress=progress, jobs=args.jobs, keep=True)
        result = evaluate(directory, stages, tiles=(), jobs=args.jobs, progress=progress)
    rows = [{key: row[key] for key in ("stage", "label", "seeds", "psnr", "psnr_std", "psnr_min", "psnr_max", "ssim",
                                       "ssim_std")} for row in result["rows"]]
    summary = {"benchmark": "budget", "date": time.strftime("%Y-%m-%d"),
               "machine": f"{platform.node()} ({platform.machine()}, {platform.processor() or 'cpu'})",
               "plan": TrainingPlan().record(), "control": CONTROL.name,
               "minutes": round((time.time() - started) / 60, 1), "noisy": result["noisy"], "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    for row in rows:
        progress(f"{row['label']}: PSNR {row['psnr']:.2f} +- {row['psnr_std']:.2f} dB, SSIM {row['ssim']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
