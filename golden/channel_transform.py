"""A fixed-point channel transform of every pixel (block ``ChannelTransform``).

TCI, DCT-CM and CAP all start by multiplying every pixel's channel vector by
a matrix of ``k x C`` rows: principal directions, DCT rows or a learned
projection. Hardware holds the rows as signed fixed-point integers with
:data:`TRANSFORM_FRACTION_BITS` fraction bits and sums the products exactly;
the requantizer that follows turns the sums into coefficient codes.
"""

from __future__ import annotations

import numpy as np

from ..spec.fixed_point import as_int64

__all__ = ["TRANSFORM_FRACTION_BITS", "channel_transform", "fixed_point_rows"]

#: Fraction bits of the transform's rows: an entry of magnitude <= 1 takes 14 signed bits (an 18x18 multiplier
#: with room for the 8-bit activations).
TRANSFORM_FRACTION_BITS = 12


def fixed_point_rows(rows, fraction_bits=TRANSFORM_FRACTION_BITS):
    """``round(rows * 2**fraction_bits)`` (half away from zero) as int64; entries must be finite, |entry| <= 2."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or not np.isfinite(rows).all():
        raise ValueError(f"rows: must be a finite (k, C) matrix, got shape {rows.shape}")
    if np.abs(rows).max(initial=0.0) > 2.0:
        raise ValueError(f"rows: entries must lie in [-2, 2], got {np.abs(rows).max():.4g}")
    scaled = rows * (1 << fraction_bits)
    return (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int64)


def channel_transform(rows, pixels):
    """``acc[j, y, x] = sum_c rows[j, c] * pixels[c, y, x]``, exact in int64.

    Parameters
    ----------
    rows : array_like of int, shape (k, C)
    pixels : array_like of int, shape (C, H, W)

    Returns
    -------
    numpy.ndarray of int64, shape (k, H, W)
    """
    rows = as_int64(rows, "rows")
    pixels = as_int64(pixels, "pixels")
    if rows.ndim != 2 or pixels.ndim != 3 or rows.shape[1] != pixels.shape[0]:
        raise ValueError(f"rows, pixels: shapes {rows.shape} and {pixels.shape} do not match (k, C) and (C, H, W)")
    return np.tensordot(rows, pixels, axes=1)
