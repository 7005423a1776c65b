"""Geometry, widths and derived facts of one WCC layer.

:class:`WccConfig` is validated once, here; golden/, hw/, sim/ and gen/ read
its properties (padded size, keep count, every declared width, stream size)
rather than recomputing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks import check_bits, check_levels, check_positive_int, check_rate
from .fixed_point import MULTIPLIER_BITS, signed_range, signed_width, symmetric_limit
from .frame import PaddedFrame, keep_count

__all__ = ["ENERGY_MODES", "WccConfig"]

#: Position energy: sum of squares (the reference) or sum of magnitudes (cheaper).
ENERGY_MODES = ("square", "abs")


@dataclass(frozen=True)
class WccConfig(PaddedFrame):
    """One WCC layer: geometry, keep rate and word widths.

    Parameters
    ----------
    height, width : int
        Spatial size of the input frame, before padding.
    channels_in, channels_out : int
        Channels of the 1x1 convolution.
    levels : int
        Haar levels, ``1..MAX_LEVELS``.
    rate : float
        Fraction of the padded positions kept, in ``(0, 1]``.
    in_bits : int
        Width of the input pixels (two's complement).
    bit_a : int
        Width of the kept coefficient codes (symmetric).
    bit_w : int
        Width of the weights (symmetric).
    out_bits : int
        Width of the output pixels (symmetric).
    energy : {"square", "abs"}
        Position energy: sum over channels of squares or of magnitudes.
    """

    height: int
    width: int
    channels_in: int
    channels_out: int
    levels: int = 3
    rate: float = 0.5
    in_bits: int = 8
    bit_a: int = 8
    bit_w: int = 8
    out_bits: int = 8
    energy: str = "square"

    def __post_init__(self):
        for name in ("height", "width", "channels_in", "channels_out"):
            check_positive_int(getattr(self, name), name)
        check_levels(self.levels)
        object.__setattr__(self, "rate", check_rate(self.rate))
        for name in ("in_bits", "bit_a", "bit_w", "out_bits"):
            check_bits(getattr(self, name), name)
        if self.energy not in ENERGY_MODES:
            raise ValueError(f"energy: must be one of {ENERGY_MODES}, got {self.energy!r}")
        keep_count(self.positions, self.rate)  # raises when nothing would be kept
        if self.energy_width > 63:
            raise ValueError(
                f"levels: {self.levels} levels of {self.in_bits}-bit input over {self.channels_in} channels "
                f"need a {self.energy_width}-bit energy word; at most 63 bits are supported"
            )

    # -- geometry (padded_height, padded_width, positions: see PaddedFrame) --
    @property
    def keep(self):
        """Positions kept per frame, ``k = floor(H' * W' * rate)``."""
        return keep_count(self.positions, self.rate)

    # -- declared widths (two's complement, tight for the full input range) --
    def coef_range(self, level):
        """Range ``(lo, hi)`` of a level-``level`` forward Haar coefficient."""
        lo, hi = signed_range(self.in_bits)
        for _ in range(level):
            # Details span 2*(hi-lo) around zero; LL spans 4*lo..4*hi and dominates.
            lo, hi = 4 * lo, 4 * hi
        return lo, hi

    def coef_width(self, level):
        """Width of a level-``level`` forward Haar coefficient: ``in_bits + 2*level``."""
        return signed_width(*self.coef_range(level))

    @property
    def coef_width_max(self):
        """Width of the coefficient word, shared by all levels."""
        return self.coef_width(self.levels)

    @property
    def energy_max(self):
        """Largest position energy (on the common ``4**levels`` or ``2**levels`` scale)."""
        worst = 0
        for level in range(1, self.levels + 1):
            lo, hi = self.coef_range(level)
            mag = max(-lo, hi)
            if self.energy == "square":
                term = mag * mag << (2 * (self.levels - level))
            else:
                term = mag << (self.levels - level)
            worst = max(worst, term)
        return worst * self.channels_in

    @property
    def energy_width(self):
        """Width of the (unsigned) energy word."""
        return max(1, self.energy_max.bit_length())

    @property
    def code_limit(self):
        """Largest magnitude of a kept coefficient code, ``2**(bit_a-1) - 1``."""
        return symmetric_limit(self.bit_a)

    @property
    def weight_limit(self):
        """Largest magnitude of a weight, ``2**(bit_w-1) - 1``."""
        return symmetric_limit(self.bit_w)

    @property
    def acc_width(self):
        """Width of a MAC accumulator: ``channels_in`` products of code and weight."""
        bound = self.channels_in * self.code_limit * self.weight_limit
        return signed_width(-bound, bound)

    @property
    def inverse_gain(self):
        """Largest ratio between an inverse Haar output and its largest input: ``3*2**L - 2``."""
        return 3 * (1 << self.levels) - 2

    @property
    def inverse_width(self):
        """Width of an inverse Haar output pixel (uniformly scaled coefficients in)."""
        bound = self.channels_in * self.code_limit * self.weight_limit * self.inverse_gain
        return signed_width(-bound, bound)

    @property
    def requant_width(self):
        """Width of ``v * multiplier`` before the bias and the rounding shift."""
        bound = (1 << (self.inverse_width - 1)) * (1 << (MULTIPLIER_BITS - 1))
        return signed_width(-bound, bound)

    @property
    def out_limit(self):
        """Largest magnitude of an output pixel, ``2**(out_bits-1) - 1``."""
        return symmetric_limit(self.out_bits)

    # -- memory traffic ------------------------------------------------------
    @property
    def bitmap_bits(self):
        """Bits of the kept-position bitmap, one per padded position."""
        return self.positions

    @property
    def compressed_bits(self):
        """Bits of one compressed frame: ``C_in * k * bit_a + H' * W'``."""
        return self.channels_in * self.keep * self.bit_a + self.bitmap_bits

    @property
    def uncompressed_bits(self):
        """Bits of the same activation map stored plainly: ``C_in * H * W * in_bits``."""
        return self.channels_in * self.height * self.width * self.in_bits

    @property
    def bits_per_activation(self):
        """Compressed bits per activation of the (unpadded) input map."""
        return self.compressed_bits / (self.channels_in * self.height * self.width)

    @property
    def macs(self):
        """Multiply-accumulates of the compressed 1x1 convolution per frame."""
        return self.keep * self.channels_in * self.channels_out
