"""Checkpoints of the built-in default model: one file per training stage, validated on load.

A checkpoint is a ``torch.save`` dictionary of plain values and tensors (it
loads with ``weights_only=True``): ``format`` (:data:`CHECKPOINT_FORMAT`),
``model`` (the architecture), ``stage`` (how the model is converted: float,
plainly quantized, or WCC, with its widths, rate and energy), ``training``
(seed, steps, data, the stage it started from) and ``state`` (the state dict).
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from .codec_bundle import CODECS
from .conversion import codecify, quantize_model, wccify
from .denoiser import Denoiser
from .quantizers import ACTIVATION_QUANTIZERS

__all__ = ["CHECKPOINT_FORMAT", "CODEC_NAMES", "CheckpointError", "KINDS", "Stage", "build_model",
           "default_checkpoint_dir", "load_checkpoint", "save_checkpoint"]

#: How a stage converts the float model: not at all, plain quantization, WCC, or a channel codec.
KINDS = ("float", "quant", "wcc") + CODECS
#: How labels name the channel codecs.
CODEC_NAMES = {"tci": "TCI", "dctcm": "DCT-CM", "cap": "CAP"}

#: Identifies the dictionary layout; a checkpoint of another format is refused.
CHECKPOINT_FORMAT = "wccgen-denoiser-1"


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, of another format, or does not match its model."""


@dataclass(frozen=True)
class Stage:
    """How one training stage converts the float model.

    Parameters
    ----------
    name : str
        File stem of its checkpoint (``<name>.pt``).
    kind : {"float", "quant", "wcc", "tci", "dctcm", "cap"}
        Float, plain quantization, WCC, or a channel codec
        (:class:`~wccgen.golden.codec_conv.ChannelCodecConv2d`).
    parent : str or None
        Stage whose weights it starts from.
    bit_w, bit_a : int
        Weight width, and the width of the activations entering the 1x1
        convolutions (plain codes for ``quant``, coefficient codes for
        ``wcc``); the other inner convolutions take 8-bit inputs. Not for
        ``float``.
    rate : float
        Kept fraction of positions (``wcc``), or of channels as transform rows (a channel codec).
    levels : int
        Haar levels (``wcc`` only).
    energy : {"square", "abs"}
        Position energy (``wcc`` only).
    components : tuple of int
        Transform rows of every compressed layer, in module order, instead
        of ``rate`` (CAP's greedy choice, made when the stage trains; empty
        until then).
    quantizer : {"pact", "lsq"}
        How the compressed activations' scale is learned: the ``bit_a``-bit
        inputs of a ``quant`` stage's 1x1 convolutions, the coefficient codes
        of a ``wcc`` stage (see :func:`~wccgen.golden.quantizers.activation_quantizer`).
    """

    name: str
    kind: str
    parent: str | None = None
    bit_w: int = 8
    bit_a: int = 8
    rate: float = 1.0
    levels: int = 3
    energy: str = "square"
    quantizer: str = "pact"
    components: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind: must be one of {KINDS}, got {self.kind!r}")
        if not isinstance(self.components, (tuple, list)) or not all(
                isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in self.components):
            raise ValueError(f"components: must be a sequence of positive integers, got {self.components!r}")
        if self.components and self.kind not in CODECS:
            raise ValueError(f"components: only a channel codec's stage has them, not a {self.kind!r} stage")
        object.__setattr__(self, "components", tuple(self.components))
        if self.quantizer not in ACTIVATION_QUANTIZERS:
            raise ValueError(f"quantizer: must be one of {sorted(ACTIVATION_QUANTIZERS)}, got {self.quantizer!r}")

    @property
    def compressed(self):
        """Whether the stage compresses the 1x1 convolutions' inputs below 8 bits or by a transform."""
        return self.kind not in ("float", "quant") or self.bit_a < 8

    @property
    def label(self):
        """How tables and plots name it: ``FP32``, ``8/8``, ``8/4 LSQ``, ``WCC 8/8 25% PACT`` (``|c|`` energy
        marked), ``TCI 8/6 50%``.

        A compressed stage of plain quantization or WCC names the quantizer its
        compressed activations learn with; the channel codecs learn theirs with LSQ.
        """
        if self.kind == "float":
            return "FP32"
        quantizer = f" {self.quantizer.upper()}" if self.compressed else ""
        if self.kind == "quant":
            return f"{self.bit_w}/{self.bit_a}{quantizer}"
        if self.kind in CODECS:
            return f"{CODEC_NAMES[self.kind]} {self.bit_w}/{self.bit_a} {100 * self.rate:g}%"
        energy = "" if self.energy == "square" else ", |c|"
        return f"WCC {self.bit_w}/{self.bit_a} {100 * self.rate:g}%{quantizer}{energy}"

    def convert(self, model):
        """The float ``model`` converted as this stage trains and runs it (a copy)."""
        if self.kind == "float":
            return model
        if self.kind == "quant":
            return quantize_model(model, self.bit_w, 8, pointwise_bit_a=self.bit_a, pointwise_quantizer=self.quantizer)
        if self.kind in CODECS:
            return codecify(model, self.kind, rate=self.rate, bit_w=self.bit_w, bit_a=self.bit_a,
                            components=self.components)
        return wccify(model, levels=self.levels, rate=self.rate, bit_w=self.bit_w, bit_a=self.bit_a,
                      energy=self.energy, quantizer=self.quantizer)


def build_model(architecture, stage):
    """A fresh model of ``architecture`` (a :attr:`Denoiser.architecture` dict) converted for ``stage``.

    A CAP stage's rows must be chosen (``stage.components``) before its model is built.
    """
    try:
        model = Denoiser(**architecture)
    except TypeError as error:
        raise CheckpointError(f"model: architecture {architecture!r} is not a Denoiser's: {error}") from None
    return stage.convert(model)


def default_checkpoint_dir():
    """The shipped checkpoints: ``golden/checkpoints/`` beside this module."""
    return Path(__file__).resolve().parent / "checkpoints"


def save_checkpoint(path, model, architecture, stage, training):
    """Write ``model`` (converted for ``stage``) with its metadata to ``path``, atomically (a run stopped while
    writing leaves the previous file or none, never a cut one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().clone() for key, value in model.state_dict().items()}
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as f:
            torch.save({"format": CHECKPOINT_FORMAT, "model": dict(architecture), "stage": asdict(stage),
                        "training": dict(training), "state": state}, f)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def load_checkpoint(path, stage=None):
    """Load a checkpoint into a fresh model.

    Parameters
    ----------
    path : path
    stage : Stage, optional
        The stage the caller expects; a checkpoint of another stage is refused
        (one whose ``components`` are empty matches any rows chosen in training).

    Returns
    -------
    (torch.nn.Module, Stage, dict)
        The model in eval mode, its stage and the checkpoint's training record.

    Raises
    ------
    CheckpointError
        Naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, KeyError,
            pickle.UnpicklingError) as error:
        # PyTorch's own text advises loading untrusted files with weights_only=False: not repeated here.
        kind = "not a PyTorch file" if isinstance(error, (pickle.UnpicklingError, zipfile.BadZipFile, EOFError)) \
            else type(error).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({kind}; wccgen reads the checkpoints "
                              "`wccgen train` writes)") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise CheckpointError(f"{path}: format {found!r}, expected {CHECKPOINT_FORMAT!r}")
    for key in ("model", "stage", "training", "state"):
        if not isinstance(data.get(key), dict):
            raise CheckpointError(f"{path}: field {key!r} missing or not a dictionary")
    try:
        found = Stage(**data["stage"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: stage {data['stage']!r} is not valid: {error}") from None
    # A stage planned without its greedy rows matches its checkpoint, which records the rows chosen.
    if stage is not None and found != (stage if stage.components else replace(stage, components=found.components)):
        raise CheckpointError(f"{path}: holds stage {found.name!r} ({found.label}), expected {stage.name!r} "
                              f"({stage.label})")
    model = build_model(data["model"], found)
    expected = model.state_dict()
    state = data["state"]
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{path}: does not match a {found.label} model of {data['model']}: "
                              f"missing {missing[:3]}, unexpected {extra[:3]}")
    for key, value in expected.items():
        if not isinstance(state[key], torch.Tensor) or state[key].shape != value.shape:
            got = tuple(state[key].shape) if isinstance(state[key], torch.Tensor) else type(state[key]).__name__
            raise CheckpointError(f"{path}: {key} has shape {got}, the model needs {tuple(value.shape)}")
        if state[key].is_floating_point() and not torch.isfinite(state[key]).all():
            raise CheckpointError(f"{path}: {key} holds non-finite values")
    model.load_state_dict(state)
    model.eval()
    return model, found, data["training"]
