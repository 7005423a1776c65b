"""Fake quantization for training: symmetric, per tensor, straight-through gradients."""

from __future__ import annotations

import torch
from torch import nn

from ..spec.checks import check_bits
from ..spec.fixed_point import symmetric_limit

__all__ = ["ActivationQuantizer", "fake_quantize", "weight_scale", "quantize_weight"]


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
