"""Quantization of the kept coefficients to ``bit_a``-bit codes (block ``Quantizer``)."""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_bits
from ..spec.fixed_point import as_int64, round_shift, symmetric_limit

__all__ = ["quantize"]


def quantize(values, value_levels, multiplier, shift, bits):
    """Quantize coefficients symmetrically with a per-level multiplier and shift.

    ``code = clamp(round_shift(value * multiplier[l-1], shift[l-1]), -Q, Q)``
    with ``Q = 2**(bits-1) - 1`` and ``l`` the Haar level of the value's
    position; ``round_shift`` rounds half up.

    Parameters
    ----------
    values : array_like of int, shape (C, k)
        Kept coefficients, one column per kept position.
    value_levels : array_like of int, shape (k,)
        Haar level (``1..L``) of each kept position.
    multiplier, shift : array_like of int, shape (L,)
        Per-level multiplier (``>= 0``) and right shift.
    bits : int
        Code width.

    Returns
    -------
    numpy.ndarray of int64, shape (C, k)
    """
    bits = check_bits(bits, "bits")
    values = as_int64(values, "values")
    value_levels = as_int64(value_levels, "value_levels")
    multiplier = as_int64(multiplier, "multiplier")
    shift = as_int64(shift, "shift")
    if values.ndim != 2 or value_levels.shape != values.shape[1:]:
        raise ValueError(
            f"values, value_levels: shapes {values.shape} and {value_levels.shape} do not match (C, k) and (k,)"
        )
    if multiplier.ndim != 1 or multiplier.shape != shift.shape:
        raise ValueError(f"multiplier, shift: must be vectors of one length per level, got {multiplier.shape} and {shift.shape}")
    if np.any(value_levels < 1) or np.any(value_levels > multiplier.size):
        raise ValueError(f"value_levels: must lie in [1, {multiplier.size}]")
    if np.any(multiplier < 0):
        raise ValueError("multiplier: must be >= 0")
    limit = symmetric_limit(bits)
    index = value_levels - 1
    scaled = round_shift(values * multiplier[index], shift[index])
    return np.clip(scaled, -limit, limit)
