"""Validation of component parameters, shared by every block."""

from contextlib import contextmanager

import numpy as np

from ..golden.config import check_bits, check_levels, check_positive_int

__all__ = ["MAX_WORD_BITS", "check_bits", "check_keep", "check_lanes", "check_levels", "check_positive_int",
           "check_word_bits", "for_inspection", "validating"]

#: Widest internal word (coefficients, accumulators) a block accepts.
MAX_WORD_BITS = 48


def check_lanes(lanes, channels):
    """Validate ``lanes`` (channels per beat): a positive divisor of ``channels``."""
    lanes = check_positive_int(lanes, "lanes")
    if channels % lanes:
        raise ValueError(f"lanes: must divide channels ({channels}), got {lanes}")
    return lanes


def check_keep(keep, positions):
    """Validate ``keep`` (kept positions per frame): an integer in ``[1, positions]``."""
    keep = check_positive_int(keep, "keep")
    if keep > positions:
        raise ValueError(f"keep: must lie in [1, {positions}], got {keep}")
    return keep


def check_word_bits(bits, name):
    """Validate an internal word width: an integer in ``[2, MAX_WORD_BITS]``."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError(f"{name}: must be an integer, got {type(bits).__name__}")
    if not 2 <= bits <= MAX_WORD_BITS:
        raise ValueError(f"{name}: must lie in [2, {MAX_WORD_BITS}], got {bits}")
    return int(bits)


def for_inspection(component):
    """Mark a component built only to read its properties or signature, never elaborated."""
    component._MustUse__silence = True
    return component


@contextmanager
def validating(component):
    """Validate a component's parameters; one refused by validation is not reported as unused."""
    component._MustUse__silence = True
    yield
    component._MustUse__silence = False
