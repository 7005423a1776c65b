"""Geometry of a frame, of its Haar subbands and of its compressed stream: one definition for every block."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .checks import check_bits, check_keep, check_lanes, check_levels, check_positive_int, check_rate, set_validated

__all__ = ["BankedFrame", "CompressedFrame", "CompressedWords", "FrameGeometry", "MAX_FRAME_SIDE", "PaddedFrame",
           "keep_count", "level_map", "padded_size"]

#: Largest side of a hardware frame (tile): a stage holds two frames, and a 256 x 256 frame of 64 channels is
#: already more than an ECP5-85F's block RAM.
MAX_FRAME_SIDE = 256


def padded_size(size, levels):
    """Round ``size`` up to a multiple of ``2**levels`` (zeros pad bottom/right)."""
    block = 1 << levels
    return -(-size // block) * block


def keep_count(positions, rate):
    """Number of positions kept: ``floor(positions * rate)``.

    A product within floating-point rounding of an integer counts as that
    integer (``|positions * rate - n| <= positions * 2**-50``), so ``0.29`` of
    100 positions keeps 29 and ``1 / 768`` of 768 keeps 1, although binary
    floating point puts both products just below the integer.
    """
    rate = check_rate(rate)
    positions = check_positive_int(positions, "positions")
    product = positions * Fraction(rate)
    nearest = round(product)
    keep = nearest if abs(product - nearest) <= Fraction(positions, 2**50) else math.floor(product)
    if keep < 1:
        raise ValueError(
            f"rate: {rate} keeps no position of {positions}; the smallest usable rate is 1/{positions}"
        )
    return keep


def level_map(padded_height, padded_width, levels):
    """Haar level of every position of the Mallat layout.

    Detail subbands of level ``l`` hold ``l``; the final LL subband holds
    ``levels`` (it carries the same scale as the level-``levels`` details).

    Returns
    -------
    numpy.ndarray of int64, shape (padded_height, padded_width)
    """
    out = np.zeros((padded_height, padded_width), dtype=np.int64)
    for level in range(1, levels + 1):
        # Paint the level-l square; deeper levels then overwrite its LL corner.
        h, w = padded_height >> (level - 1), padded_width >> (level - 1)
        out[:h, :w] = level
    return out


class PaddedFrame:
    """Facts of a frame of ``height`` x ``width`` pixels transformed over ``levels`` Haar levels."""

    @property
    def padded_height(self):
        """Height after zero padding at the bottom to a multiple of ``2**levels``."""
        return padded_size(self.height, self.levels)

    @property
    def padded_width(self):
        """Width after zero padding on the right to a multiple of ``2**levels``."""
        return padded_size(self.width, self.levels)

    @property
    def positions(self):
        """Positions of the padded frame, ``H' * W'``."""
        return self.padded_height * self.padded_width


@dataclass(frozen=True)
class FrameGeometry(PaddedFrame):
    """A frame as a stream carries it: ``lanes`` of its ``channels`` per beat, transformed over ``levels``.

    Parameters
    ----------
    height, width : int
        Pixels of the frame before padding.
    channels : int
    lanes : int
        Channels per beat, a divisor of ``channels``.
    levels : int
        Haar levels, ``1..MAX_LEVELS``.
    """

    height: int
    width: int
    channels: int
    lanes: int = 1
    levels: int = 3

    def __post_init__(self):
        set_validated(self, **{name: check_positive_int(getattr(self, name), name)
                               for name in ("height", "width", "channels")})
        set_validated(self, lanes=check_lanes(self.lanes, self.channels), levels=check_levels(self.levels))

    @property
    def groups(self):
        """Beats per pixel or position: ``channels / lanes``."""
        return self.channels // self.lanes

    def subband_depth(self, level):
        """Entries of one level-``level`` subband of one frame."""
        return (self.padded_height >> level) * (self.padded_width >> level) * self.groups


class CompressedWords:
    """Facts of a compressed frame (``positions``, ``keep``, ``channels``, ``lanes``, ``bit_a``) on its word stream.

    A frame is its bitmap (a bit per position) followed by the codes of its
    kept positions, cut into words of one beat of codes (docs/numerics.md).
    """

    @property
    def word_bits(self):
        """Width of a stream word: one beat of codes, ``lanes * bit_a``."""
        return self.lanes * self.bit_a

    @property
    def tail_bits(self):
        """Bitmap bits in the word shared with the first codes: ``positions mod word_bits``."""
        return self.positions % self.word_bits

    @property
    def mask_words(self):
        """Words of the bitmap, the one shared with the first codes included."""
        return -(-self.positions // self.word_bits)

    @property
    def code_words(self):
        """Beats of codes of a frame: ``keep * channels / lanes``."""
        return self.keep * (self.channels // self.lanes)

    @property
    def compressed_bits(self):
        """Bits of one compressed frame: ``positions + keep * channels * bit_a``."""
        return self.positions + self.keep * self.channels * self.bit_a

    @property
    def words_per_frame(self):
        """Words of one compressed frame (the last one zero-padded)."""
        return -(-self.compressed_bits // self.word_bits)


@dataclass(frozen=True)
class CompressedFrame(CompressedWords):
    """A compressed frame known by its position count, without its shape (what the decoder's memories hold).

    Parameters
    ----------
    positions : int
    keep : int
        Kept positions, ``1..positions``.
    channels, lanes : int
        ``lanes`` channels per beat, a divisor of ``channels``.
    bit_a : int
        Code width.
    """

    positions: int
    keep: int
    channels: int
    lanes: int
    bit_a: int

    def __post_init__(self):
        set_validated(self, positions=check_positive_int(self.positions, "positions"),
                      channels=check_positive_int(self.channels, "channels"), bit_a=check_bits(self.bit_a, "bit_a"))
        set_validated(self, keep=check_keep(self.keep, self.positions), lanes=check_lanes(self.lanes, self.channels))


@dataclass(frozen=True, kw_only=True)
class BankedFrame(FrameGeometry):
    """A frame geometry held in ``banks`` frame banks (at least two: one fills while another drains)."""

    banks: int = 3

    def __post_init__(self):
        super().__post_init__()
        banks = check_positive_int(self.banks, "banks")
        if banks < 2:
            raise ValueError(f"banks: must be >= 2, got {banks}")
        set_validated(self, banks=banks)
