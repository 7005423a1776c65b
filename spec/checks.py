"""Validators shared by every config and block: each returns the value checked, or raises naming the parameter."""

import math

import numpy as np

__all__ = ["MAX_BITS", "MAX_LEVELS", "MAX_WORD_BITS", "check_bits", "check_keep", "check_lanes", "check_levels",
           "check_positive_int", "check_rate", "check_word_bits", "set_validated"]

#: Widest input, coefficient-code, weight or output word a layer accepts.
MAX_BITS = 16
#: Deepest Haar decomposition; deeper ones overflow the 63-bit energy word.
MAX_LEVELS = 6
#: Widest internal word (coefficients, accumulators) a block accepts.
MAX_WORD_BITS = 48


def _check_integer(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: must be an integer, got {type(value).__name__}")
    return int(value)


def check_positive_int(value, name):
    """Return ``value`` as an int >= 1, or raise naming ``name``."""
    value = _check_integer(value, name)
    if value < 1:
        raise ValueError(f"{name}: must be >= 1, got {value}")
    return value


def check_levels(levels):
    """Validate a Haar level count: an integer in ``[1, MAX_LEVELS]``."""
    levels = check_positive_int(levels, "levels")
    if levels > MAX_LEVELS:
        raise ValueError(f"levels: must lie in [1, {MAX_LEVELS}], got {levels}")
    return levels


def _check_width(bits, name, widest):
    bits = _check_integer(bits, name)
    if not 2 <= bits <= widest:
        raise ValueError(f"{name}: must lie in [2, {widest}], got {bits}")
    return bits


def check_bits(bits, name):
    """Validate a layer's word width: an integer in ``[2, MAX_BITS]``."""
    return _check_width(bits, name, MAX_BITS)


def check_word_bits(bits, name):
    """Validate an internal word width: an integer in ``[2, MAX_WORD_BITS]``."""
    return _check_width(bits, name, MAX_WORD_BITS)


def check_rate(rate):
    """Validate a keep rate: a finite number in ``(0, 1]``."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise TypeError(f"rate: must be a number, got {type(rate).__name__}")
    rate = float(rate)
    if not (math.isfinite(rate) and 0.0 < rate <= 1.0):
        raise ValueError(f"rate: must lie in (0, 1], got {rate}")
    return rate


def check_lanes(lanes, channels, name="lanes"):
    """Validate ``lanes`` (channels per beat): a positive divisor of ``channels``."""
    lanes = check_positive_int(lanes, name)
    if channels % lanes:
        raise ValueError(f"{name}: must divide channels ({channels}), got {lanes}")
    return lanes


def check_keep(keep, positions):
    """Validate ``keep`` (kept positions per frame): an integer in ``[1, positions]``."""
    keep = check_positive_int(keep, "keep")
    if keep > positions:
        raise ValueError(f"keep: must lie in [1, {positions}], got {keep}")
    return keep


def set_validated(spec, **values):
    """Store validated ``values`` on a frozen dataclass ``spec`` (from its ``__post_init__``)."""
    for name, value in values.items():
        object.__setattr__(spec, name, value)
