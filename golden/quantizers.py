"""Fake quantization for training, per tensor, with straight-through gradients.

Two activation quantizers share one interface (``bits``, ``scale``,
``initialize``, ``codes``, ``forward(x, codes=None)``):

- :class:`ActivationQuantizer`: symmetric codes, a clip learned through the
  clipping only (PACT), started at the largest magnitude of the first batch.
  The hardware's 8-bit activations and the WCC stages before the quality
  study used it.
- :class:`LearnedStepQuantizer`: a learned step (LSQ, Esser et al. 2020)
  started at the step that minimizes the quantization error on calibration
  data, with unsigned codes when the calibration data has no negative value.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..spec.checks import check_bits
from ..spec.fixed_point import symmetric_limit

__all__ = ["ACTIVATION_QUANTIZERS", "ActivationQuantizer", "LearnedStepQuantizer", "activation_quantizer",
           "code_range", "fake_quantize", "mse_optimal_step", "weight_scale", "quantize_weight"]


def fake_quantize(x, scale, bits):
    """``clamp(round(x / scale), -Q, Q) * scale`` with a straight-through gradient for ``x``."""
    limit = symmetric_limit(bits)
    q = torch.clamp(torch.round(x / scale), -limit, limit) * scale
    return x + (q - x).detach()


def weight_scale(weight, bits):
    """Per-tensor weight scale ``max|w| / Q`` (1 for an all-zero tensor)."""
    peak = weight.detach().abs().max()
    return torch.where(peak > 0, peak / symmetric_limit(bits), torch.ones_like(peak))


def quantize_weight(weight, bits):
    """Fake-quantize a weight tensor symmetrically per tensor to ``bits`` bits."""
    return fake_quantize(weight, weight_scale(weight, bits), bits)


class ActivationQuantizer(nn.Module):
    """Symmetric per-tensor activation quantizer with a learnable clip (PACT-style).

    Values are clipped to ``[-clip, clip]``, so ``clip`` learns through the clip,
    and rounded to ``2**(bits-1) - 1`` steps per side with a straight-through
    gradient. The clip starts at the largest magnitude of the first batch seen.

    Parameters
    ----------
    bits : int
        Code width, ``2..16``.
    """

    def __init__(self, bits):
        super().__init__()
        self.bits = check_bits(bits, "bits")
        self.clip = nn.Parameter(torch.tensor(1.0))
        self.register_buffer("initialized", torch.tensor(False))

    @property
    def scale(self):
        """Quantization step ``clip / (2**(bits-1) - 1)`` as a float."""
        return float(self.clip.detach().abs()) / symmetric_limit(self.bits)

    def initialize(self, x):
        """Set the clip to the largest magnitude of ``x`` unless it is set already."""
        if not bool(self.initialized):
            with torch.no_grad():
                peak = float(x.detach().abs().max())
                self.clip.fill_(peak if peak > 0 else 1.0)
                self.initialized.fill_(True)

    def codes(self, x):
        """The integer codes (as float64) of ``x``, which must be this quantizer's output."""
        step = self.clip.detach().abs() / symmetric_limit(self.bits)
        return torch.round(x.detach() / step).double()

    def forward(self, x, codes=None):
        """Fake-quantize ``x``.

        ``codes``, when given, are the integer codes of ``x`` computed exactly
        elsewhere (as the hardware computes them); they replace ``round(x / step)``
        in the forward value while gradients still flow as for the rounding.
        """
        self.initialize(x)
        clip = self.clip.abs()
        step = clip / symmetric_limit(self.bits)
        clipped = torch.maximum(torch.minimum(x, clip), -clip)
        if codes is None:
            return fake_quantize(clipped, step, self.bits)
        return clipped + (codes.to(x.dtype) * step - clipped).detach()

    def extra_repr(self):
        return f"bits={self.bits}"


def code_range(bits, unsigned):
    """``(lowest, highest)`` code of a ``bits``-bit quantizer: ``[0, 2**bits - 1]`` unsigned, symmetric signed."""
    if unsigned:
        return 0, (1 << bits) - 1
    limit = symmetric_limit(bits)
    return -limit, limit


#: Candidate clips of :func:`mse_optimal_step`, as fractions of the largest magnitude.
MSE_CANDIDATES = 200


def mse_optimal_step(x, bits, unsigned):
    """The step whose quantization of ``x`` has the least squared error, among :data:`MSE_CANDIDATES` clips.

    The candidates are the clips ``peak * i / MSE_CANDIDATES`` (``i = 1 ..``),
    ``peak`` the largest magnitude of ``x``; the step of a clip is the clip
    over the highest code. An all-zero ``x`` gives step 1.
    """
    x = x.detach().double().flatten()
    peak = float(x.abs().max()) if x.numel() else 0.0
    if peak == 0:
        return 1.0
    lowest, highest = code_range(bits, unsigned)
    best_step, best_error = None, None
    for i in range(1, MSE_CANDIDATES + 1):
        step = peak * i / MSE_CANDIDATES / highest
        error = float(((torch.clamp(torch.round(x / step), lowest, highest) * step - x) ** 2).sum())
        if best_error is None or error < best_error:
            best_step, best_error = step, error
    return best_step


def _scaled_gradient(value, factor):
    """``value`` in the forward pass; its gradient multiplied by ``factor`` in the backward pass."""
    return (value - value * factor).detach() + value * factor


def _round_straight_through(value):
    return value + (torch.round(value) - value).detach()


class LearnedStepQuantizer(nn.Module):
    """Per-tensor activation quantizer with a learned step (LSQ), calibrated before training.

    The forward value is ``clamp(round(x / step), lowest, highest) * step``;
    gradients follow LSQ: straight through the rounding for ``x`` inside the
    range, and for the step the rounding error inside the range and the
    range's end outside it, scaled by ``1 / sqrt(numel * highest)``. On the
    first batch (the calibration batch) the codes become unsigned,
    ``[0, 2**bits - 1]``, if ``signed`` is ``None`` and the batch has no
    negative value (ReLU outputs), symmetric ``[-(2**(bits-1) - 1), 2**(bits-1) - 1]``
    otherwise; the step starts at :func:`mse_optimal_step` of the batch.

    Parameters
    ----------
    bits : int
        Code width, ``2..16``.
    signed : bool or None
        ``True`` or ``False`` to fix the codes' sign; ``None`` decides on the first batch.
    """

    def __init__(self, bits, signed=None):
        super().__init__()
        self.bits = check_bits(bits, "bits")
        if signed not in (None, True, False):
            raise ValueError(f"signed: must be True, False or None, got {signed!r}")
        self.signed = signed
        self.step = nn.Parameter(torch.tensor(1.0))
        self.register_buffer("initialized", torch.tensor(False))
        self.register_buffer("unsigned", torch.tensor(False))

    @property
    def range(self):
        """``(lowest, highest)`` code."""
        return code_range(self.bits, bool(self.unsigned))

    @property
    def scale(self):
        """The step, as a float."""
        return float(self.step.detach().abs())

    def initialize(self, x):
        """Choose the sign and the MSE-optimal step on ``x`` unless done already."""
        if not bool(self.initialized):
            with torch.no_grad():
                unsigned = self.signed is False or (self.signed is None and bool((x >= 0).all()))
                self.unsigned.fill_(unsigned)
                self.step.fill_(mse_optimal_step(x, self.bits, unsigned))
                self.initialized.fill_(True)

    def codes(self, x):
        """The integer codes (as float64) of ``x``, which must be this quantizer's output."""
        return torch.round(x.detach() / self.step.detach().abs()).double()

    def forward(self, x, codes=None):
        """Fake-quantize ``x``; ``codes``, when given, replace the forward value's codes (see
        :meth:`ActivationQuantizer.forward`)."""
        self.initialize(x)
        lowest, highest = self.range
        step = _scaled_gradient(self.step.abs(), 1.0 / math.sqrt(x.numel() * highest))
        quantized = torch.clamp(_round_straight_through(x / step), lowest, highest) * step
        if codes is None:
            return quantized
        return quantized + (codes.to(x.dtype) * step - quantized).detach()

    def extra_repr(self):
        return f"bits={self.bits}, signed={self.signed}"


#: The activation quantizers a stage can train with, by name.
ACTIVATION_QUANTIZERS = {"pact": ActivationQuantizer, "lsq": LearnedStepQuantizer}


def activation_quantizer(kind, bits, signed=None):
    """A fresh activation quantizer of ``kind`` (a key of :data:`ACTIVATION_QUANTIZERS`); ``signed`` for LSQ only
    (PACT's codes are always signed)."""
    if kind not in ACTIVATION_QUANTIZERS:
        raise ValueError(f"quantizer: must be one of {sorted(ACTIVATION_QUANTIZERS)}, got {kind!r}")
    return ActivationQuantizer(bits) if kind == "pact" else LearnedStepQuantizer(bits, signed)
