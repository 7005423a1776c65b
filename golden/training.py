"""Training of the built-in default model: float, then quantization-aware fine-tuning stage by stage.

The model (:class:`~wccgen.golden.denoiser.Denoiser`) learns to remove
Gaussian noise (sigma 25/255) from grey-scale patches of the training
photographs; the held-out photographs never enter training. The float model
is fine-tuned to 8/8 quantization; from that one parent every compressed
stage (WCC at 50, 25 and 12.5 %, selecting by squares or magnitudes; the
plain low-bit baselines 8/4 and 8/2; TCI, DCT-CM and CAP at about 4, 2 and 1
bits) is fine-tuned quantization-aware with the
same number of steps, several times with different seeds, the first and last
layers untouched. Every run is seeded: the same seed, steps and machine give
the same checkpoints.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from .cap_allocation import greedy_allocation
from .checkpoints import Stage, build_model, save_checkpoint
from .codec_bundle import CODECS
from .codec_conv import ChannelCodecConv2d
from .denoiser import Denoiser
from .photographs import grey_photograph
from .processes import in_processes
from .quantizers import ACTIVATION_QUANTIZERS

__all__ = ["CODEC_STAGES", "HELD_OUT", "METHODS", "NOISE_SIGMA", "STAGES", "TRAINING_PHOTOGRAPHS", "TrainingPlan",
           "cap_rows", "checkpoint_name", "noisy", "select_stages", "train", "train_stages", "train_stage"]

#: Photographs the model is trained on.
TRAINING_PHOTOGRAPHS = ("camera", "coffee", "rocket", "brick", "grass", "coins", "clock", "hubble_deep_field",
                        "immunohistochemistry", "page")
#: Photographs kept out of training, for evaluation.
HELD_OUT = ("astronaut", "chelsea", "moon", "gravel")
#: Standard deviation of the noise, on grey levels in [0, 1].
NOISE_SIGMA = 25 / 255
#: Steps of every fine-tuning stage.
TUNE_STEPS = 600
#: Training runs (seeds) of every compressed stage.
REPLICAS = 3
#: Replicas are seeded 100 apart; the stages in between.
MAX_REPLICAS = 10
#: Points of a stage's learning curve.
CURVE_POINTS = 20
#: The fixed validation batch of the learning curves: patches of the training photographs.
VALIDATION_PATCHES, VALIDATION_SEED = 32, 999

#: The three other published methods beside WCC, each at about 4, 2 and 1 bits per activation (measured on a
#: held-out photograph before training): TCI with Huffman-coded codes, DCT-CM with zero flags at 4 bits, CAP
#: with its greedy rows at 8 bits (its budget ``rate * bit_a``). Every one fine-tuned from the same 8/8 parent
#: with the same budget as WCC and the low-bit baseline; their learned code steps are LSQ's.
CODEC_STAGES = (
    Stage("tci100", "tci", "q8a8", bit_a=8, rate=1.0),
    Stage("tci50", "tci", "q8a8", bit_a=6, rate=0.5),
    Stage("tci25", "tci", "q8a8", bit_a=6, rate=0.25),
    Stage("dctcm100", "dctcm", "q8a8", bit_a=4, rate=1.0),
    Stage("dctcm50", "dctcm", "q8a8", bit_a=4, rate=0.5),
    Stage("dctcm25", "dctcm", "q8a8", bit_a=4, rate=0.25),
    Stage("cap50", "cap", "q8a8", bit_a=8, rate=0.5),
    Stage("cap25", "cap", "q8a8", bit_a=8, rate=0.25),
    Stage("cap12", "cap", "q8a8", bit_a=8, rate=0.125),
)

#: The stages of the default model. The float model and its 8/8 version are the parents; every compressed
#: stage is fine-tuned from the same 8/8 parent with the same number of steps. Each compression is trained
#: with the strong quantizer (LSQ: learned step from an MSE-optimal start, unsigned codes for non-negative
#: inputs) and, as it was first published, with PACT (a clip learned through the clipping, started at the max);
#: then the three other published methods (:data:`CODEC_STAGES`).
STAGES = (
    Stage("fp32", "float"),
    Stage("q8a8", "quant", "fp32", bit_w=8, bit_a=8),
    Stage("q8a4", "quant", "q8a8", bit_w=8, bit_a=4, quantizer="lsq"),
    Stage("q8a2", "quant", "q8a8", bit_w=8, bit_a=2, quantizer="lsq"),
    Stage("wcc50", "wcc", "q8a8", rate=0.5, quantizer="lsq"),
    Stage("wcc25", "wcc", "q8a8", rate=0.25, quantizer="lsq"),
    Stage("wcc12", "wcc", "q8a8", rate=0.125, quantizer="lsq"),
    Stage("wcc50abs", "wcc", "q8a8", rate=0.5, energy="abs", quantizer="lsq"),
    Stage("wcc25abs", "wcc", "q8a8", rate=0.25, energy="abs", quantizer="lsq"),
    Stage("wcc12abs", "wcc", "q8a8", rate=0.125, energy="abs", quantizer="lsq"),
    Stage("q8a4pact", "quant", "q8a8", bit_w=8, bit_a=4),
    Stage("q8a2pact", "quant", "q8a8", bit_w=8, bit_a=2),
    Stage("wcc50pact", "wcc", "q8a8", rate=0.5),
    Stage("wcc25pact", "wcc", "q8a8", rate=0.25),
    Stage("wcc12pact", "wcc", "q8a8", rate=0.125),
) + CODEC_STAGES

#: The compression methods a stage list can be chosen by.
METHODS = ("quant", "wcc") + CODECS


def select_stages(methods=None):
    """The stages of the compression ``methods`` (a subset of :data:`METHODS`) from :data:`STAGES`, after the
    parents they start from; ``None``: :data:`STAGES`."""
    if methods is None:
        return STAGES
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or not methods:
        raise ValueError(f"codecs: must name some of {', '.join(METHODS)}, got {', '.join(methods) or 'none'}")
    chosen = [stage for stage in STAGES if stage.kind in methods and stage.compressed]
    by_name, needed = {stage.name: stage for stage in STAGES}, set()
    for stage in chosen:
        while stage.parent is not None:
            needed.add(stage.parent)
            stage = by_name[stage.parent]
    return tuple(stage for stage in STAGES if stage.name in needed or stage in chosen)


class TrainingPlan:
    """Steps, batch, patch size, learning rates and seeds of a training run.

    Parameters
    ----------
    float_steps, tune_steps : int
        Optimizer steps of the float stage and of every fine-tuning stage.
    batch, patch : int
        Patches per step and their side (a multiple of 8, for 3 Haar levels).
    float_lr, tune_lr : float
        Peak learning rates (Adam, cosine decay to zero).
    seed : int
        Base seed; replica ``r`` of the stage at position ``i`` of
        :data:`STAGES` uses ``seed + 100 * r + i``.
    replicas : int
        Training runs of every compressed stage, with seeds differing (the
        parents are trained once).
    calibration : int
        Patches of the batch that sets a stage's fresh quantizers before training.
    """

    def __init__(self, float_steps=4000, tune_steps=TUNE_STEPS, batch=8, patch=48, float_lr=2e-3, tune_lr=1e-3, seed=0,
                 replicas=REPLICAS, calibration=32):
        for name, value in (("float_steps", float_steps), ("tune_steps", tune_steps), ("batch", batch),
                            ("patch", patch), ("replicas", replicas), ("calibration", calibration)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: must be a positive integer, got {value!r}")
        if patch % 8:
            raise ValueError(f"patch: must be a multiple of 8 (3 Haar levels), got {patch}")
        if replicas > MAX_REPLICAS:
            raise ValueError(f"replicas: at most {MAX_REPLICAS} (seeds of neighbouring stages would meet), got {replicas}")
        self.float_steps, self.tune_steps, self.batch, self.patch = float_steps, tune_steps, batch, patch
        self.float_lr, self.tune_lr, self.seed = float(float_lr), float(tune_lr), int(seed)
        self.replicas, self.calibration = replicas, calibration

    def record(self):
        return {"float_steps": self.float_steps, "tune_steps": self.tune_steps, "batch": self.batch,
                "patch": self.patch, "float_lr": self.float_lr, "tune_lr": self.tune_lr, "seed": self.seed,
                "calibration": self.calibration, "photographs": list(TRAINING_PHOTOGRAPHS), "noise_sigma": NOISE_SIGMA}

    def stage_seed(self, stage, replica):
        """The seed of replica ``replica`` of ``stage`` (its initial weights, calibration and patches)."""
        index = next((i for i, s in enumerate(STAGES) if s.name == stage.name), len(STAGES))
        return self.seed + 100 * replica + index


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

    def sample(self, count=None):
        """``(noisy, clean)`` batches of ``count`` patches (default the batch), each (count, 1, patch, patch)."""
        patches = []
        for _ in range(self.batch if count is None else count):
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
    """Load the parent stage's weights into ``model``.

    A quantizer of another kind than the parent's (a learned step where the
    parent learned a clip) stays fresh, to be calibrated; a quantizer of the
    same kind inherits the parent's scale; a channel codec's transform and
    mean are set on the calibration batch. Anything else that does not fit is
    an error.
    """
    parent_state = dict(parent_state)
    quantizers = [name for name, module in model.named_modules() if isinstance(module, tuple(ACTIVATION_QUANTIZERS.values()))]
    # State a layer sets on its calibration batch (a channel codec's transform) starts fresh too.
    calibrated = [f"{name}.{key}" for name, module in model.named_modules()
                  for key in getattr(module, "CALIBRATED_STATE", ())]
    own = model.state_dict()
    for name in quantizers:
        prefix = f"{name}."
        mine = {key for key in own if key.startswith(prefix)}
        theirs = {key for key in parent_state if key.startswith(prefix)}
        if mine != theirs:
            for key in theirs:
                del parent_state[key]
    missing, unexpected = model.load_state_dict(parent_state, strict=False)
    fresh = [key for key in missing if key not in calibrated and not any(key.startswith(f"{name}.") for name in quantizers)]
    if fresh or unexpected:
        raise RuntimeError(f"stage {stage.name}: parent weights do not fit (missing {fresh[:3]}, "
                           f"unexpected {unexpected[:3]})")


def _psnr(mse):
    return -10 * math.log10(max(mse, 1e-12))


def cap_rows(architecture, stage, parent_state, calibration):
    """CAP's greedy rows for ``stage`` (its budget ``rate * bit_a`` bits per activation), chosen on the parent's
    weights in float and the ``calibration`` batch (:func:`~wccgen.golden.cap_allocation.greedy_allocation`)."""
    if parent_state is None:
        raise ValueError(f"stage {stage.name}: CAP chooses its rows on the parent's weights; it has no parent")
    model = Denoiser(**architecture)
    model.load_state_dict({key: value for key, value in parent_state.items() if key in model.state_dict()})
    layers = [name for name, module in build_model(architecture, replace(stage, kind="tci")).named_modules()
              if isinstance(module, ChannelCodecConv2d)]
    return greedy_allocation(model, layers, *calibration, stage.bit_a, stage.rate * stage.bit_a)


def train_stage(stage, plan, architecture, parent_state=None, progress=None, replica=0):
    """Train one stage and return ``(model, curve)``: the model (float, or converted as the stage says) and its
    learning curve; ``model.stage`` is the stage with CAP's rows chosen.

    The stage's seed is :meth:`TrainingPlan.stage_seed`. Before training,
    ``plan.calibration`` patches are drawn; a CAP stage chooses its rows on
    them (:func:`cap_rows`), and one forward pass over them sets every
    quantizer and transform that is still fresh. The curve holds, about every twentieth step, the step, the
    PSNR of the mean training loss since the last point, and the PSNR on a
    fixed validation batch (32 patches of the training photographs with their
    noise, drawn apart from the training stream by a seed of their own).
    """
    seed = plan.stage_seed(stage, replica)
    torch.manual_seed(seed)
    sampler = PatchSampler(plan.patch, plan.batch, seed)
    calibration = sampler.sample(plan.calibration)
    if stage.kind == "cap" and not stage.components:
        stage = replace(stage, components=cap_rows(architecture, stage, parent_state, calibration).components)
    model = build_model(architecture, stage)
    model.stage = stage
    if parent_state is not None:
        _transfer(model, parent_state, stage)
    steps = plan.float_steps if stage.kind == "float" else plan.tune_steps
    peak = plan.float_lr if stage.kind == "float" else plan.tune_lr
    validation = PatchSampler(plan.patch, VALIDATION_PATCHES, VALIDATION_SEED).sample()
    model.train()
    with torch.no_grad():
        model(calibration[0])
    optimizer = torch.optim.Adam(model.parameters(), lr=peak)
    loss_fn = nn.MSELoss()
    every = max(1, steps // CURVE_POINTS)

    def validation_psnr():
        model.eval()
        with torch.no_grad():
            value = _psnr(loss_fn(model(validation[0]), validation[1]).item())
        model.train()
        return round(value, 4)

    curve, window = [[0, None, validation_psnr()]], []
    started = time.monotonic()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = peak * 0.5 * (1 + math.cos(math.pi * step / steps))
        noisy_batch, clean = sampler.sample()
        loss = loss_fn(model(noisy_batch), clean)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        window.append(loss.item())
        if (step + 1) % every == 0 or step + 1 == steps:
            curve.append([step + 1, round(_psnr(sum(window) / len(window)), 4), validation_psnr()])
            window = []
            if progress is not None and (step + 1) % max(1, steps // 4) == 0:
                progress(f"{stage.name} (replica {replica}): step {step + 1}/{steps}, training PSNR {curve[-1][1]:.2f} "
                         f"dB, validation {curve[-1][2]:.2f} dB ({time.monotonic() - started:.0f} s)")
    model.eval()
    return model, curve


def checkpoint_name(stage, replica=0):
    """File name of a stage's checkpoint: ``<stage>.pt`` for replica 0, ``<stage>.seed<r>.pt`` for the others."""
    return f"{stage.name}.pt" if replica == 0 else f"{stage.name}.seed{replica}.pt"


def _parents(stages):
    return {stage.parent for stage in stages if stage.parent is not None}


def _train_one(task):
    """One (stage, replica): train from the parent's checkpoint and write the checkpoint (runs in a worker)."""
    stage, replica, plan, architecture, out_dir, threads = task
    torch.set_num_threads(threads)
    parent_state = None
    if stage.parent is not None:
        parent_state = torch.load(f"{out_dir}/{stage.parent}.pt", map_location="cpu", weights_only=True)["state"]
    started = time.monotonic()
    model, curve = train_stage(stage, plan, architecture, parent_state, replica=replica)
    path = f"{out_dir}/{checkpoint_name(stage, replica)}"
    save_checkpoint(path, model, architecture, model.stage, {**_training_record(stage, replica, plan), "curve": curve})
    return path, curve, time.monotonic() - started


def train(out_dir, plan=None, stages=STAGES, architecture=None, progress=None, jobs=1, threads=1, keep=False,
          force=False):
    """Train every stage (the parents once, the others ``plan.replicas`` times) into ``out_dir``; return the paths.

    A stage's parent must come before it in ``stages``. Replicas and stages
    of one parent train in ``jobs`` worker processes of ``threads`` PyTorch
    threads each; the checkpoints do not depend on ``jobs``. With ``keep``, a
    checkpoint already in ``out_dir`` that this plan would write (same stage,
    model and training record) is kept instead of trained again. A
    checkpoint in ``out_dir`` the run would replace (another plan's, or any
    without ``keep``) is an error unless ``force``, before any work.
    """
    plan = plan or TrainingPlan()
    architecture = architecture or Denoiser().architecture
    progress = progress or (lambda message: None)
    parents, done = _parents(stages), set()
    for stage in stages:
        if stage.parent is not None and stage.parent not in {s.name for s in stages[:stages.index(stage)]}:
            raise ValueError(f"stages: {stage.name!r} starts from {stage.parent!r}, which is not trained before it")
    if not force:
        every = [(stage, replica, plan, architecture, str(out_dir), threads) for stage in stages
                 for replica in range(1 if stage.name in parents else plan.replicas)]
        replaced = [checkpoint_name(stage, replica) for stage, replica, *rest in every
                    if (Path(out_dir) / checkpoint_name(stage, replica)).exists()
                    and not (keep and _already_trained(stage, replica, *rest))]
        if replaced:
            raise ValueError(f"out: {out_dir} holds {len(replaced)} checkpoint(s) this run would replace "
                             f"({', '.join(replaced[:3])}{', ...' if len(replaced) > 3 else ''}); give --force to "
                             "replace them" + ("" if keep else ", or --keep to keep those this plan trained"))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    paths, pending = [], list(stages)
    # Waves: every stage whose parent is trained goes into one pool; a stage others start from trains once.
    while pending:
        wave = [stage for stage in pending if stage.parent is None or stage.parent in done]
        tasks = [(stage, replica, plan, architecture, str(out_dir), threads) for stage in wave
                 for replica in range(1 if stage.name in parents else plan.replicas)]
        if keep:
            kept = [task for task in tasks if _already_trained(*task)]
            paths += [f"{out_dir}/{checkpoint_name(stage, replica)}" for stage, replica, *_ in kept]
            if kept:
                progress(f"keeping {len(kept)} checkpoint(s) this plan trained already")
            tasks = [task for task in tasks if task not in kept]
        if tasks:
            progress(f"training {len(tasks)} run(s) in {min(jobs, len(tasks))} process(es): "
                     f"{', '.join(sorted({stage.name for stage, *_ in tasks}))}")
        for (stage, replica, *_), (path, curve, seconds) in zip(tasks, in_processes(_train_one, tasks, jobs)):
            paths.append(path)
            progress(f"{stage.name} (replica {replica}): validation PSNR {curve[-1][2]:.2f} dB after "
                     f"{curve[-1][0]} steps ({seconds:.0f} s); wrote {path}")
        done |= {stage.name for stage in wave}
        pending = [stage for stage in pending if stage not in wave]
    return paths


def _training_record(stage, replica, plan):
    return {**plan.record(), "parent": stage.parent, "replica": replica, "stage_seed": plan.stage_seed(stage, replica)}


def _already_trained(stage, replica, plan, architecture, out_dir, threads):
    """Whether ``out_dir`` holds the checkpoint this run would write (its learning curve aside)."""
    from .checkpoints import CheckpointError, load_checkpoint

    path = Path(out_dir) / checkpoint_name(stage, replica)
    if not path.is_file():
        return False
    try:
        model, _, training = load_checkpoint(path, stage)
    except CheckpointError:
        return False
    training = {key: value for key, value in training.items() if key != "curve"}
    return training == _training_record(stage, replica, plan) and model.architecture == architecture


def train_stages(out_dir, *, float_steps=4000, tune_steps=TUNE_STEPS, seed=0, replicas=REPLICAS, threads=1, jobs=1,
                 keep=False, force=False, methods=None, progress=lambda message: None):
    """Train every stage of ``methods`` (:func:`select_stages`; default :data:`STAGES`) from scratch with
    ``threads`` PyTorch threads per process (results depend on it) in ``jobs`` processes; return a summary."""
    stages = select_stages(methods)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: {out} is a file, not a directory")
    plan = TrainingPlan(float_steps=float_steps, tune_steps=tune_steps, seed=seed, replicas=replicas)
    progress(f"training {float_steps} float steps, then {tune_steps} steps per stage, {replicas} replica(s) of each "
             f"compressed stage, seed {seed}, {jobs} process(es) of {threads} thread(s), into {out_dir}")
    paths = train(out_dir, plan, stages, progress=progress, jobs=jobs, threads=threads, keep=keep, force=force)
    return {"command": "train", "out": str(out_dir), "checkpoints": paths, "plan": plan.record(), "threads": threads,
            "replicas": replicas}
