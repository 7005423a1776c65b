"""Integer arithmetic shared by every block: rounding shifts, multipliers, widths.

docs/numerics.md is the contract these helpers implement; the hardware uses the
same rounding (add half, arithmetic shift right), so nothing here may change
without the hardware changing with it.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "BIAS_LIMIT",
    "MULTIPLIER_BITS",
    "MAX_SHIFT",
    "round_shift",
    "quantize_multiplier",
    "signed_range",
    "symmetric_limit",
    "signed_width",
    "as_int64",
]

#: Width of every integer multiplier (signed): magnitudes lie in [2**14, 2**15).
MULTIPLIER_BITS = 16
#: Largest right shift any block applies; keeps every product inside int64.
MAX_SHIFT = 62
#: Largest magnitude of the pre-shifted output bias; with the product it stays inside int64.
BIAS_LIMIT = 1 << 61


def round_shift(value, shift):
    """Divide by ``2**shift`` and round half up (toward +infinity).

    This is ``(value + 2**(shift-1)) >> shift`` with an arithmetic shift; for
    ``shift == 0`` the value passes unchanged.

    Parameters
    ----------
    value : int or numpy.ndarray of int64
    shift : int or numpy.ndarray of int
        Broadcasts against ``value``; each entry in ``[0, MAX_SHIFT]``.
    """
    value = np.asarray(value, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    if np.any(shift < 0) or np.any(shift > MAX_SHIFT):
        raise ValueError(f"shift: must lie in [0, {MAX_SHIFT}], got {shift}")
    half = np.where(shift > 0, np.left_shift(np.int64(1), np.maximum(shift - 1, 0)), 0)
    return np.right_shift(value + half, shift)


def quantize_multiplier(real, name="multiplier"):
    """Express a real factor as ``multiplier / 2**shift``.

    The magnitude of ``multiplier`` is normalised into
    ``[2**(MULTIPLIER_BITS-2), 2**(MULTIPLIER_BITS-1))`` so every multiplier
    fits a signed ``MULTIPLIER_BITS``-bit operand with 15 significant bits; the
    sign of ``real`` goes into the multiplier. Zero maps to ``(0, 1)``.

    Parameters
    ----------
    real : float
        The factor, finite.
    name : str
        Named in the error message.

    Returns
    -------
    (int, int)
        ``(multiplier, shift)`` with ``1 <= shift <= MAX_SHIFT``.
    """
    real = float(real)
    if not math.isfinite(real):
        raise ValueError(f"{name}: must be finite, got {real}")
    if real == 0.0:
        return 0, 1
    mantissa, exponent = math.frexp(abs(real))  # abs(real) = mantissa * 2**exponent, mantissa in [0.5, 1)
    frac_bits = MULTIPLIER_BITS - 1
    multiplier = round(mantissa * (1 << frac_bits))
    shift = frac_bits - exponent
    if multiplier == 1 << frac_bits:  # rounding carried into the next power of two
        multiplier >>= 1
        shift -= 1
    if shift < 1:
        raise ValueError(
            f"{name}: {real:.6g} is too large to encode; at most {2.0 ** (frac_bits - 1):.6g}"
        )
    if shift > MAX_SHIFT:
        raise ValueError(
            f"{name}: {real:.6g} is too small to encode; at least {2.0 ** (frac_bits - 1 - MAX_SHIFT):.6g}"
        )
    return int(math.copysign(multiplier, real)), int(shift)


def signed_range(bits):
    """Two's-complement range ``(lo, hi)`` of a ``bits``-wide signed integer."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def symmetric_limit(bits):
    """Largest magnitude of a symmetric ``bits``-bit code: ``2**(bits-1) - 1``."""
    return (1 << (bits - 1)) - 1


def signed_width(lo, hi):
    """Fewest two's-complement bits that hold every integer in ``[lo, hi]``."""
    lo, hi = int(lo), int(hi)
    if lo > hi:
        raise ValueError(f"signed_width: empty range [{lo}, {hi}]")
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits


def as_int64(array, name):
    """Return ``array`` as an int64 NumPy array, refusing floats and empties."""
    array = np.asarray(array)
    if array.size == 0:
        raise ValueError(f"{name}: empty tensor, shape {array.shape}")
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name}: must hold integers, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)
