"""TCI, DCT-CM and CAP as one trainable PyTorch layer: a 1x1 convolution on channel-transform codes.

The three methods compress the input of a 1x1 convolution the same way up
to the coder: every pixel's channel vector ``x`` (``C`` values) loses a
calibrated mean and is multiplied by ``k`` rows, ``y = T (x - mean)``; ``y``
is quantized to ``bit_a``-bit codes and the convolution runs on the codes
with its weights folded, ``W T^T y + (W mean + b)``. They differ in ``T``:

- ``"tci"`` (transform coding, Chmiel et al.): the ``k`` strongest principal
  directions of the calibration activations, frozen; the codes are entropy
  coded (Huffman) by the integer model.
- ``"dctcm"`` (Shi et al.): ``k`` rows of a grouped DCT along the channels,
  chosen by their calibration energy, frozen
  (:func:`~wccgen.golden.channel_dct.dct_mask_rows`); the codes are written
  as zero flags and non-zero values.
- ``"cap"`` (compression-aware projection, Tai et al.): ``k`` rows started
  at the principal directions and trained with the network; the codes are
  sent at their fixed width.

The transform and the mean are set on the first batch the layer sees (the
calibration batch) and saved with the weights. The codes are computed as
the integer model computes them (fixed-point rows, one multiplier, a
rounding shift), exactly, in float64; gradients pass straight through.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..spec.checks import check_bits, check_positive_int, check_rate
from ..spec.fixed_point import quantize_multiplier, symmetric_limit
from .channel_dct import dct_mask_rows
from .channel_pca import fit_channel_pca
from .channel_transform import TRANSFORM_FRACTION_BITS, fixed_point_rows
from .codec_bundle import CODECS
from .quantizers import ActivationQuantizer, LearnedStepQuantizer, weight_scale

__all__ = ["CODECS", "ChannelCodecConv2d", "DCT_GROUP", "codec_components"]

#: Channels of one DCT group (DCT-CM).
DCT_GROUP = 8


def codec_components(channels, rate):
    """Rows kept of ``channels`` at ``rate``: ``max(1, round(channels * rate))``."""
    return max(1, round(check_positive_int(channels, "channels") * check_rate(rate)))


class ChannelCodecConv2d(nn.Module):
    """A 1x1 convolution whose input travels as ``bit_a``-bit codes of a channel transform.

    Parameters
    ----------
    in_channels, out_channels : int
    codec : {"tci", "dctcm", "cap"}
    rate : float
        Fraction of the channels kept as transform rows, ``(0, 1]``.
    bit_w, bit_a : int
        Weight width and coefficient-code width.
    in_bits : int
        Width of the input activations, the 8-bit format between layers.
    bias : bool
    group : int
        DCT group of ``"dctcm"``; must divide ``in_channels``.
    components : int, optional
        Transform rows, ``[1, in_channels]``, instead of ``rate`` (CAP's greedy choice).
    """

    def __init__(self, in_channels, out_channels, codec, rate=1.0, bit_w=8, bit_a=8, in_bits=8, bias=True,
                 group=DCT_GROUP, components=None):
        super().__init__()
        if codec not in CODECS:
            raise ValueError(f"codec: must be one of {CODECS}, got {codec!r}")
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.codec, self.rate = codec, check_rate(rate)
        self.bit_w = check_bits(bit_w, "bit_w")
        self.bit_a = check_bits(bit_a, "bit_a")
        self.in_bits = check_bits(in_bits, "in_bits")
        self.group = check_positive_int(group, "group")
        if codec == "dctcm" and in_channels % group:
            raise ValueError(f"group: must divide in_channels ({in_channels}), got {group}")
        self.components = codec_components(in_channels, rate) if components is None else \
            check_positive_int(components, "components")
        if self.components > in_channels:
            raise ValueError(f"components: must lie in [1, in_channels = {in_channels}], got {self.components}")
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        rows = torch.zeros(self.components, in_channels)
        if codec == "cap":
            self.rows = nn.Parameter(rows)
        else:
            self.register_buffer("rows", rows)
        self.register_buffer("mean", torch.zeros(in_channels))
        self.register_buffer("calibrated", torch.tensor(False))
        self.input_quant = ActivationQuantizer(self.in_bits)
        self.coef_quant = LearnedStepQuantizer(self.bit_a, signed=True)

    #: State a parent checkpoint cannot hold: set by :meth:`calibrate`.
    CALIBRATED_STATE = ("rows", "mean", "calibrated")

    @classmethod
    def from_conv(cls, conv, codec, **kwargs):
        """A codec layer with the weights and bias of a 1x1, stride-1, ungrouped, unpadded ``nn.Conv2d``."""
        if conv.kernel_size != (1, 1) or conv.stride != (1, 1) or conv.groups != 1 or \
                conv.padding not in ((0, 0), "valid"):
            raise ValueError(f"conv: a channel codec replaces 1x1, stride-1, ungrouped, unpadded convolutions only; got "
                             f"kernel {conv.kernel_size}, stride {conv.stride}, groups {conv.groups}, padding "
                             f"{conv.padding}")
        layer = cls(conv.in_channels, conv.out_channels, codec, bias=conv.bias is not None, **kwargs)
        with torch.no_grad():
            layer.weight.copy_(conv.weight)
            if conv.bias is not None:
                layer.bias.copy_(conv.bias)
        return layer

    @torch.no_grad()
    def calibrate(self, x):
        """Set the mean and the rows from calibration activations ``x`` (N, C, H, W) unless set already."""
        if bool(self.calibrated):
            return
        activations = x.detach().double().numpy()
        if self.codec == "dctcm":
            rows, mean = dct_mask_rows(activations, self.components, self.group)
        else:
            pca = fit_channel_pca(activations)
            rows, mean = pca.basis[:self.components], pca.mean
        self.rows.copy_(torch.from_numpy(rows))
        self.mean.copy_(torch.from_numpy(mean))
        self.calibrated.fill_(True)

    def fixed_point_rows(self):
        """The rows as the hardware holds them: int64 ``(k, C)`` with :data:`TRANSFORM_FRACTION_BITS` fraction bits."""
        return fixed_point_rows(self.rows.detach().double().numpy())

    def coefficient_factors(self):
        """``(multiplier, shift, bias)`` of the coefficient requantizer.

        A transform sum ``acc = T_int @ codes`` of input codes (scale ``s_x``)
        is ``T (x - mean) / s_y`` in coefficient codes (scale ``s_y``) up to
        rounding as ``round_shift(acc * multiplier + bias[j], shift)``, with
        ``multiplier / 2**shift = s_x / (2**F s_y)`` and ``bias[j]`` the
        pre-shifted ``-(T_int mean)[j] / (2**F s_y)``.

        Returns
        -------
        (int, int, numpy.ndarray of int64)
        """
        scale = self.coef_quant.scale * (1 << TRANSFORM_FRACTION_BITS)
        multiplier, shift = quantize_multiplier(self.input_quant.scale / scale, "coef_multiplier")
        offset = self.fixed_point_rows() @ self.mean.double().numpy() / scale
        return multiplier, shift, np.round(-offset * 2.0 ** shift).astype(np.int64)

    @torch.no_grad()
    def coefficient_codes(self, x):
        """The integer coefficient codes of a quantized input ``x`` (N, C, H, W), exactly as the integer model
        computes them (float64, every step exact)."""
        multiplier, shift, bias = self.coefficient_factors()
        rows = torch.from_numpy(self.fixed_point_rows()).double()
        acc = torch.einsum("kc,nchw->nkhw", rows, self.input_quant.codes(x))
        value = acc * multiplier + torch.from_numpy(bias).double()[None, :, None, None]
        limit = symmetric_limit(self.bit_a)
        return torch.clamp(torch.floor((value + 2.0 ** (shift - 1)) / 2.0 ** shift), -limit, limit)

    @torch.no_grad()
    def stream_codes(self, x):
        """The coefficient codes the layer's stream carries for a raw input ``x`` (N, C, H, W), as int64 NumPy."""
        return self.coefficient_codes(self.input_quant(x)).to(torch.int64).numpy()

    def folded(self):
        """``(weight, bias)`` of the convolution on the coefficients: ``W T^T`` (C_out, k) and ``W mean + b``."""
        weight = self.weight.flatten(1)
        bias = weight @ self.mean
        return weight @ self.rows.t(), bias if self.bias is None else bias + self.bias

    def weight_codes(self):
        """``(codes, scale)`` of the folded weight, ``bit_w`` bits symmetric per tensor, computed in float64 (as
        the export computes them, so the forward pass uses the hardware's weights)."""
        with torch.no_grad():
            weight = self.folded()[0].double()
            scale = float(weight_scale(weight, self.bit_w))
            limit = symmetric_limit(self.bit_w)
            return torch.clamp(torch.round(weight / scale), -limit, limit), scale

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x: must have shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if x.numel() == 0:
            raise ValueError(f"x: empty tensor, shape {tuple(x.shape)}")
        x = self.input_quant(x)
        self.calibrate(x)
        y = torch.einsum("kc,nchw->nkhw", self.rows, x - self.mean[None, :, None, None])
        self.coef_quant.initialize(y)
        y = self.coef_quant(y, self.coefficient_codes(x))
        weight, bias = self.folded()
        codes, scale = self.weight_codes()
        weight = weight + (codes.to(weight.dtype) * scale - weight).detach()  # straight through the rounding
        out = torch.einsum("ok,nkhw->nohw", weight, y)
        return out + bias[None, :, None, None]

    def macs_per_pixel(self):
        """Multiply-accumulates per pixel: the transform (``k C``) and the convolution on the codes (``C_out k``)."""
        return self.components * (self.in_channels + self.out_channels)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, codec={self.codec!r}, rate={self.rate}, "
                f"components={self.components}, bit_w={self.bit_w}, bit_a={self.bit_a}, in_bits={self.in_bits}")
