"""The WCC 1x1 convolution as a trainable PyTorch layer (float reference)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..spec.checks import check_bits, check_levels, check_positive_int, check_rate
from ..spec.fixed_point import MAX_SHIFT, quantize_multiplier, symmetric_limit
from ..spec.frame import keep_count, level_map, padded_size
from ..spec.wcc_config import ENERGY_MODES
from .quantizers import ActivationQuantizer, activation_quantizer, quantize_weight
from .torch_haar import haar_pyramid_float, haar_pyramid_inverse, pyramid_order

__all__ = ["WCCConv2d", "select_positions"]


def select_positions(energy, keep):
    """Indices of the ``keep`` largest energies per image, ascending; ties go to the lower index.

    Parameters
    ----------
    energy : torch.Tensor, shape (N, P)
    keep : int

    Returns
    -------
    torch.Tensor of int64, shape (N, keep)
    """
    order = torch.argsort(-energy, dim=1, stable=True)
    return torch.sort(order[:, :keep], dim=1).values


class WCCConv2d(nn.Module):
    """Wavelet Compressed Convolution: a 1x1 convolution on kept Haar coefficients.

    Forward pass, per image: quantize the input to ``in_bits`` (the format
    activations travel in between layers), orthonormal ``levels``-level Haar
    transform, energy of every position summed over channels, keep the
    ``k = floor(H'W' * rate)`` strongest positions (one mask for all channels),
    quantize the kept coefficients to ``bit_a`` bits, apply the ``bit_w``-bit
    1x1 convolution to them, scatter them back into a zero frame, inverse
    transform, crop, add the bias.

    Parameters
    ----------
    in_channels, out_channels : int
    levels : int
        Haar levels (default 3).
    rate : float
        Kept fraction of positions, ``(0, 1]``.
    bit_w, bit_a : int
        Weight and coefficient-code widths.
    in_bits : int
        Width of the input activations (default 8).
    bias : bool
        Add a learnable bias after the inverse transform.
    energy : {"square", "abs"}
        Sum of squares (the reference) or of magnitudes over channels.
    quantizer : {"pact", "lsq"}
        How the coefficient codes' scale is learned (see
        :func:`~wccgen.golden.quantizers.activation_quantizer`; the codes are
        symmetric either way, as the hardware's). The input quantizer is the
        8-bit format between layers, always ``"pact"``.
    """

    def __init__(self, in_channels, out_channels, levels=3, rate=0.5, bit_w=8, bit_a=8, in_bits=8,
                 bias=True, energy="square", quantizer="pact"):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.levels = check_levels(levels)
        self.rate = check_rate(rate)
        self.bit_w = check_bits(bit_w, "bit_w")
        self.bit_a = check_bits(bit_a, "bit_a")
        self.in_bits = check_bits(in_bits, "in_bits")
        if energy not in ENERGY_MODES:
            raise ValueError(f"energy: must be one of {ENERGY_MODES}, got {energy!r}")
        self.energy = energy
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.input_quant = ActivationQuantizer(self.in_bits)
        self.coef_quant = activation_quantizer(quantizer, self.bit_a, signed=True)

    @classmethod
    def from_conv(cls, conv, **kwargs):
        """A WCC layer with the weights and bias of a 1x1, stride-1, ungrouped ``nn.Conv2d``."""
        if conv.kernel_size != (1, 1) or conv.stride != (1, 1) or conv.groups != 1 or conv.padding not in ((0, 0), "valid"):
            raise ValueError(
                f"conv: WCC replaces 1x1, stride-1, ungrouped, unpadded convolutions only; got kernel {conv.kernel_size}, "
                f"stride {conv.stride}, groups {conv.groups}, padding {conv.padding}"
            )
        layer = cls(conv.in_channels, conv.out_channels, bias=conv.bias is not None, **kwargs)
        with torch.no_grad():
            layer.weight.copy_(conv.weight)
            if conv.bias is not None:
                layer.bias.copy_(conv.bias)
        return layer

    def keep(self, height, width):
        """Positions kept of an ``height x width`` input."""
        return keep_count(padded_size(height, self.levels) * padded_size(width, self.levels), self.rate)

    def coefficient_factors(self):
        """Per-level multiplier and shift of the coefficient quantizer.

        A level-``l`` integer coefficient times ``input_scale / 2**l`` is the
        orthonormal coefficient, so its code is
        ``round(coef * input_scale / (2**l * coef_scale))``: one multiplier,
        and a shift that grows by one per level.

        Returns
        -------
        (list of int, list of int)
            Multiplier and shift for levels ``1..levels``.
        """
        real = self.input_quant.scale / self.coef_quant.scale
        multiplier, shift = quantize_multiplier(real, "coef_multiplier")
        if shift + self.levels > MAX_SHIFT:
            raise ValueError(f"coef_multiplier: {real:.6g} is too small to encode")
        return [multiplier] * self.levels, [shift + level for level in range(1, self.levels + 1)]

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x: must have shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if x.numel() == 0:
            raise ValueError(f"x: empty tensor, shape {tuple(x.shape)}")
        batch, _, height, width = x.shape
        keep = self.keep(height, width)  # refuse a frame too small for the rate before touching any state
        x = self.input_quant(x)
        padded_height, padded_width = padded_size(height, self.levels), padded_size(width, self.levels)
        # Coefficients in pyramid order (fast); `mallat` maps each to its Mallat raster index.
        flat = haar_pyramid_float(x, self.levels)  # (N, C, P)
        mallat = pyramid_order(padded_height, padded_width, self.levels)
        with torch.no_grad():
            # The transform of the integer input codes is exact in float64, so the
            # energies, their ties and the codes come out exactly as in the
            # integer model and the hardware.
            # A level-l coefficient is a sum of 4**l codes over 2**l: exact in
            # float32 while 4**L codes of in_bits bits fit its 24-bit mantissa.
            dtype = torch.float32 if self.in_bits + 2 * self.levels <= 25 else torch.float64
            exact = haar_pyramid_float(self.input_quant.codes(x).to(dtype), self.levels).double()
            energy = exact.square().sum(1) if self.energy == "square" else exact.abs().sum(1)
            in_mallat_order = torch.empty_like(energy).scatter_(1, mallat.expand(batch, -1), energy)
        indices = select_positions(in_mallat_order, keep)  # (N, k), Mallat indices ascending
        slots = torch.argsort(mallat)[indices]  # their pyramid positions
        gather_index = slots[:, None, :].expand(-1, self.in_channels, -1)
        kept = torch.gather(flat, 2, gather_index)  # (N, C_in, k)
        self.coef_quant.initialize(kept)
        codes = self._coefficient_codes(torch.gather(exact, 2, gather_index), indices, padded_height, padded_width)
        kept = self.coef_quant(kept, codes)
        weight = quantize_weight(self.weight, self.bit_w).flatten(1)  # (C_out, C_in)
        out_kept = torch.einsum("oc,nck->nok", weight, kept)
        frame = flat.new_zeros(batch, self.out_channels, padded_height * padded_width)
        frame = frame.scatter(2, slots[:, None, :].expand(-1, self.out_channels, -1), out_kept)
        out = haar_pyramid_inverse(frame, self.levels, height, width)
        if self.bias is not None:
            out = out + self.bias[None, :, None, None]
        return out

    @torch.no_grad()
    def _coefficient_codes(self, exact_kept, indices, padded_height, padded_width):
        """Codes of the kept coefficients, computed as the integer quantizer does (float64, exact)."""
        multiplier, shift = self.coefficient_factors()
        levels = torch.from_numpy(level_map(padded_height, padded_width, self.levels).ravel())[indices]  # (N, k)
        integer = exact_kept * torch.pow(2.0, levels.double())[:, None, :]  # level-l coefficient = 2**l * orthonormal
        multiplier = torch.tensor(multiplier, dtype=torch.float64)[levels - 1][:, None, :]
        divisor = torch.pow(2.0, torch.tensor(shift, dtype=torch.float64)[levels - 1])[:, None, :]
        limit = symmetric_limit(self.bit_a)
        return torch.clamp(torch.floor((integer * multiplier + divisor / 2) / divisor), -limit, limit)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, levels={self.levels}, rate={self.rate}, "
                f"bit_w={self.bit_w}, bit_a={self.bit_a}, in_bits={self.in_bits}, energy={self.energy!r}")
