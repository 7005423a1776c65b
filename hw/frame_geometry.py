"""Geometry of a frame (shared by the Haar units and the encoder and decoder), and of its compressed stream."""

from ..golden.config import padded_size
from .params import check_lanes, check_levels, check_positive_int

__all__ = ["CompressedFrame", "FrameGeometry"]


class FrameGeometry:
    """Validated frame size, channel grouping, Haar levels and frame banks, with the facts derived from them."""

    def _init_geometry(self, height, width, channels, lanes, levels, banks=None):
        self.height = check_positive_int(height, "height")
        self.width = check_positive_int(width, "width")
        self.channels = check_positive_int(channels, "channels")
        self.lanes = check_lanes(lanes, self.channels)
        self.levels = check_levels(levels)
        if banks is not None:  # blocks that hold frames in banks
            self.banks = check_positive_int(banks, "banks")
            if self.banks < 2:
                raise ValueError(f"banks: must be >= 2, got {banks}")

    @property
    def padded_height(self):
        """Height padded at the bottom to a multiple of ``2**levels``."""
        return padded_size(self.height, self.levels)

    @property
    def padded_width(self):
        """Width padded on the right to a multiple of ``2**levels``."""
        return padded_size(self.width, self.levels)

    @property
    def positions(self):
        """Positions of the padded frame, ``H' * W'``."""
        return self.padded_height * self.padded_width

    @property
    def groups(self):
        """Beats per pixel or position: ``channels / lanes``."""
        return self.channels // self.lanes

    def subband_depth(self, level):
        """Entries of one level-``level`` subband of one frame."""
        return (self.padded_height >> level) * (self.padded_width >> level) * self.groups


class CompressedFrame(FrameGeometry):
    """A frame's compressed stream on a bus of one beat of codes: needs ``bit_a`` and ``keep`` besides the geometry."""

    @property
    def word_bits(self):
        """Width of a stream word: one beat of codes, ``lanes * bit_a``."""
        return self.lanes * self.bit_a

    @property
    def compressed_bits(self):
        """Bits of one compressed frame: ``positions + keep * channels * bit_a``."""
        return self.positions + self.keep * self.channels * self.bit_a

    @property
    def words_per_frame(self):
        """Words of one compressed frame (the last one zero-padded)."""
        return -(-self.compressed_bits // self.word_bits)
