"""Scatter of kept vectors back into a coefficient frame (block ``Scatter``)."""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_positive_int
from ..spec.fixed_point import as_int64

__all__ = ["scatter"]


def scatter(indices, values, padded_height, padded_width):
    """Place each kept vector at its position; every other position is zero.

    Parameters
    ----------
    indices : array_like of int, shape (k,)
        Raster indices of the kept positions, ascending and distinct.
    values : array_like of int, shape (C, k)
    padded_height, padded_width : int

    Returns
    -------
    numpy.ndarray of int64, shape (C, padded_height, padded_width)
    """
    padded_height = check_positive_int(padded_height, "padded_height")
    padded_width = check_positive_int(padded_width, "padded_width")
    indices = as_int64(indices, "indices")
    values = as_int64(values, "values")
    positions = padded_height * padded_width
    if indices.ndim != 1 or values.ndim != 2 or values.shape[1] != indices.size:
        raise ValueError(f"indices, values: shapes {indices.shape} and {values.shape} do not match (k,) and (C, k)")
    if np.any(np.diff(indices) <= 0) or indices[0] < 0 or indices[-1] >= positions:
        raise ValueError(f"indices: must be strictly ascending within [0, {positions})")
    out = np.zeros((values.shape[0], positions), dtype=np.int64)
    out[:, indices] = values
    return out.reshape(values.shape[0], padded_height, padded_width)
