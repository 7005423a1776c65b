"""Training of the built-in default model: float, then quantization-aware fine-tuning stage by stage.

The model (:class:`~wccgen.golden.denoiser.Denoiser`) learns to remove
Gaussian noise (sigma 25/255) from grey-scale patches of the training
photographs; the held-out photographs never enter training. Following the WCC
paper, the float model is fine-tuned to 8/8 quantization, then to WCC at
50 %, 25 % and 12.5 % (each rate from the previous one), with the first and
last layers untouched; the plain low-bit baselines (8/4, 8/2) and the WCC
variants selecting by sum of magnitudes are fine-tuned the same way. Every
stage is seeded: the same seed, steps and machine give the same checkpoints.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from .checkpoints import Stage, build_model, save_checkpoint
from .denoiser import Denoiser
from .photographs import grey_photograph

__all__ = ["HELD_OUT", "NOISE_SIGMA", "STAGES", "TRAINING_PHOTOGRAPHS", "TrainingPlan", "noisy", "train", "train_stages",
           "train_stage"]

#: Photographs the model is trained on.
TRAINING_PHOTOGRAPHS = ("camera", "coffee", "rocket", "brick", "grass", "coins", "clock", "hubble_deep_field",
                        "immunohistochemistry", "page")
#: Photographs kept out of training, for evaluation.
HELD_OUT = ("astronaut", "chelsea", "moon", "gravel")
#: Standard deviation of the noise, on grey levels in [0, 1].
NOISE_SIGMA = 25 / 255

#: The stages of the default model, each trained from its parent's weights.
STAGES = (
    Stage("fp32", "float"),
    Stage("q8a8", "quant", "fp32", bit_w=8, bit_a=8),
    Stage("q8a4", "quant", "q8a8", bit_w=8, bit_a=4),
    Stage("q8a2", "quant", "q8a4", bit_w=8, bit_a=2),
    Stage("wcc50", "wcc", "q8a8", rate=0.5),
    Stage("wcc25", "wcc", "wcc50", rate=0.25),
    Stage("wcc12", "wcc", "wcc25", rate=0.125),
    Stage("wcc50abs", "wcc", "q8a8", rate=0.5, energy="abs"),
    Stage("wcc25abs", "wcc", "wcc50abs", rate=0.25, energy="abs"),
    Stage("wcc12abs", "wcc", "wcc25abs", rate=0.125, energy="abs"),
)


class TrainingPlan:
    """Steps, batch, patch size and learning rates of a training run.

    Parameters
    ----------
    float_steps, tune_steps : int
        Optimizer steps of the float stage and of every fine-tuning stage.
    batch, patch : int
        Patches per step and their side (a multiple of 8, for 3 Haar levels).
    float_lr, tune_lr : float
        Peak learning rates (Adam, cosine decay to zero).
    seed : int
    """

    def __init__(self, float_steps=4000, tune_steps=300, batch=8, patch=48, float_lr=2e-3, tune_lr=2e-4, seed=0):
        for name, value in (("float_steps", float_steps), ("tune_steps", tune_steps), ("batch", batch),
                            ("patch", patch)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be a positive integer, got {value!r}")
        if patch % 8:
            raise ValueError(f"patch: must be a multiple of 8 (3 Haar levels), got {patch}")
        self.float_steps, self.tune_steps, self.batch, self.patch = float_steps, tune_steps, batch, patch
        self.float_lr, self.tune_lr, self.seed = float(float_lr), float(tune_lr), int(seed)

    def record(self):
        return {"float_steps": self.float_steps, "tune_steps": self.tune_steps, "batch": self.batch,
                "patch": self.patch, "float_lr": self.float_lr, "tune_lr": self.tune_lr, "seed": self.seed,
                "photographs": list(TRAINING_PHOTOGRAPHS), "noise_sigma": NOISE_SIGMA}


def noisy(clean, generator):
    """``clean`` plus Gaussian noise of :data:`NOISE_SIGMA` drawn from ``generator`` (not clipped)."""
    return clean + NOISE_SIGMA * torch.randn(clean.shape, generator=generator)


class PatchSampler:
    """Random patches of the training photographs, flipped and rotated at random, from a seeded generator."""

    def __init__(self, patch, batch, seed):
        self.images = [grey_photograph(name)[0, 0] for name in TRAINING_PHOTOGRAPHS]
        self.patch, self.batch = patch, batch
        self.generator = torch.Generator().manual_seed(seed)

    def _int(self, high):
        return int(torch.randint(high, (1,), generator=self.generator))

    def sample(self):
        """``(noisy, clean)`` batches, each (batch, 1, patch, patch)."""
        patches = []
        for _ in range(self.batch):
            image = self.images[self._int(len(self.images))]
            top = self._int(image.shape[0] - self.patch + 1)
            left = self._int(image.shape[1] - self.patch + 1)
            patch = image[top:top + self.patch, left:left + self.patch]
            patch = torch.rot90(patch, self._int(4))
            if self._int(2):
                patch = patch.flip(1)
            patches.append(patch)
        clean = torch.stack(patches)[:, None]
        return noisy(clean, self.generator), clean


def _transfer(model, parent_state, stage):
    """Load the parent stage's weights; only quantizer clips the parent lacks may stay fresh."""
    missing, unexpected = model.load_state_dict(parent_state, strict=False)
    fresh = [key for key in missing if "quant." not in key]
    if fresh or unexpected:
        raise RuntimeError(f"stage {stage.name}: parent weights do not fit (missing {fresh[:3]}, "
                           f"unexpected {unexpected[:3]})")


def train_stage(stage, plan, architecture, parent_state=None, progress=None):
    """Train one stage and return its model (float, or converted as the stage says).

    The stage's seed is the plan's seed plus the stage's position in
    :data:`STAGES`, for the initial weights and for the patches.
    """
    index = next((i for i, s in enumerate(STAGES) if s.name == stage.name), len(STAGES))
    seed = plan.seed + index
    torch.manual_seed(seed)
    model = build_model(architecture, stage)
    if parent_state is not None:
        _transfer(model, parent_state, stage)
    steps = plan.float_steps if stage.kind == "float" else plan.tune_steps
    peak = plan.float_lr if stage.kind == "float" else plan.tune_lr
    sampler = PatchSampler(plan.patch, plan.batch, seed)
    # The first batch sets the activation clips that are still fresh (as calibration would).
    model.train()
    with torch.no_grad():
        model(sampler.sample()[0])
    optimizer = torch.optim.Adam(model.parameters(), lr=peak)
    loss_fn = nn.MSELoss()
    started = time.monotonic()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = peak * 0.5 * (1 + math.cos(math.pi * step / steps))
        noisy_batch, clean = sampler.sample()
        loss = loss_fn(model(noisy_batch), clean)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if progress is not None and (step + 1) % max(1, steps // 10) == 0:
            psnr = -10 * math.log10(max(loss.item(), 1e-12))
            progress(f"{stage.name}: step {step + 1}/{steps}, training PSNR {psnr:.2f} dB "
                     f"({time.monotonic() - started:.0f} s)")
    model.eval()
    return model


def train(out_dir, plan=None, stages=STAGES, architecture=None, progress=None):
    """Train every stage in order and write ``<out_dir>/<stage>.pt``; return the paths.

    A stage's parent must come before it in ``stages``.
    """
    plan = plan or TrainingPlan()
    architecture = architecture or Denoiser().architecture
    states, paths = {}, []
    for stage in stages:
        if stage.parent is not None and stage.parent not in states:
            raise ValueError(f"stages: {stage.name!r} starts from {stage.parent!r}, which is not trained before it")
        model = train_stage(stage, plan, architecture, states.get(stage.parent), progress)
        states[stage.name] = model.state_dict()
        path = f"{out_dir}/{stage.name}.pt"
        save_checkpoint(path, model, architecture, stage, {**plan.record(), "parent": stage.parent})
        paths.append(path)
        if progress is not None:
            progress(f"{stage.name}: wrote {path}")
    return paths


def train_stages(out_dir, *, float_steps=4000, tune_steps=300, seed=0, threads=1, progress=lambda message: None):
    """Train every stage from scratch with ``threads`` PyTorch threads (results depend on it); return a summary."""
    torch.set_num_threads(threads)
    plan = TrainingPlan(float_steps=float_steps, tune_steps=tune_steps, seed=seed)
    progress(f"training {float_steps} float steps, then {tune_steps} steps per stage, seed {seed}, "
             f"{threads} thread(s), into {out_dir}")
    paths = train(out_dir, plan, progress=progress)
    return {"command": "train", "out": str(out_dir), "checkpoints": paths, "plan": plan.record(), "threads": threads}
