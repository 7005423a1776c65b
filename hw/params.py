"""Validation of component parameters, shared by every block."""

from ..golden.config import MAX_LEVELS, check_bits, check_levels, check_positive_int

__all__ = ["check_bits", "check_lanes", "check_levels", "check_positive_int", "MAX_LEVELS"]


def check_lanes(lanes, channels):
    """Validate ``lanes`` (channels per beat): a positive divisor of ``channels``."""
    lanes = check_positive_int(lanes, "lanes")
    if channels % lanes:
        raise ValueError(f"lanes: must divide channels ({channels}), got {lanes}")
    return lanes
