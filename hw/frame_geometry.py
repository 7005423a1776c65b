"""Geometry of a frame held in banked subband memories, shared by the Haar units."""

from ..golden.config import padded_size
from .params import check_lanes, check_levels, check_positive_int

__all__ = ["FrameGeometry"]


class FrameGeometry:
    """Validated frame size, channel grouping, Haar levels and frame banks, with the facts derived from them."""

    def _init_geometry(self, height, width, channels, lanes, levels, banks):
        self.height = check_positive_int(height, "height")
        self.width = check_positive_int(width, "width")
        self.channels = check_positive_int(channels, "channels")
        self.lanes = check_lanes(lanes, self.channels)
        self.levels = check_levels(levels)
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
    def groups(self):
        """Beats per pixel or position: ``channels / lanes``."""
        return self.channels // self.lanes

    def subband_depth(self, level):
        """Entries of one level-``level`` subband of one frame."""
        return (self.padded_height >> level) * (self.padded_width >> level) * self.groups
