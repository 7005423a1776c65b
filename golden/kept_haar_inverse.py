"""Inverse Haar transform of a frame given by its kept vectors, in block order (block ``KeptHaarInverse``)."""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_levels, check_positive_int
from ..spec.fixed_point import as_int64
from .haar_inverse import haar_inverse
from .scatter import scatter

__all__ = ["block_order", "morton_offsets", "kept_haar_inverse"]


def morton_offsets(levels):
    """Row and column offsets of the pixels of a ``2**levels`` square block, in Morton (Z) order.

    Pixel ``k`` takes its row from the odd bits of ``k`` and its column from
    the even bits, so the ``4**l`` pixels of every level-``l`` sub-block follow
    one another: a level's coefficients stay the same over a run of pixels.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Rows and columns, ``4**levels`` each.
    """
    levels = check_levels(levels)
    k = np.arange(4 ** levels)
    rows, cols = np.zeros_like(k), np.zeros_like(k)
    for bit in range(levels):
        rows |= ((k >> (2 * bit + 1)) & 1) << bit
        cols |= ((k >> (2 * bit)) & 1) << bit
    return rows, cols


def block_order(frame, levels, lanes):
    """A ``(C, H', W')`` frame as beats in block order.

    The frame is cut into ``2**levels`` square blocks, taken in raster order;
    each block is emitted once per channel group (``lanes`` channels), its
    pixels in Morton order (:func:`morton_offsets`).

    Returns
    -------
    numpy.ndarray of int64, shape (beats, lanes)
    """
    frame = as_int64(frame, "frame")
    levels, lanes = check_levels(levels), check_positive_int(lanes, "lanes")
    channels, height, width = frame.shape
    side = 1 << levels
    if height % side or width % side or channels % lanes:
        raise ValueError(f"frame: shape {frame.shape} is not made of {side}x{side} blocks of {lanes}-channel groups")
    rows, cols = morton_offsets(levels)
    beats = []
    for top in range(0, height, side):
        for left in range(0, width, side):
            for group in range(0, channels, lanes):
                beats.append(frame[group:group + lanes, top + rows, left + cols].T)
    return np.concatenate(beats)


def kept_haar_inverse(indices, values, padded_height, padded_width, levels, lanes):
    """Kept vectors scattered into their frame (:func:`scatter`), inverse-transformed (:func:`haar_inverse`, no
    crop) and emitted in block order (:func:`block_order`).

    Parameters
    ----------
    indices : array_like of int, shape (k,)
        Raster indices of the kept positions of the padded frame, ascending.
    values : array_like of int, shape (C, k)
        The kept vectors, on the uniform scale :func:`haar_inverse` takes.
    padded_height, padded_width, levels, lanes : int

    Returns
    -------
    numpy.ndarray of int64, shape (C * padded_height * padded_width / lanes, lanes)
    """
    frame = haar_inverse(scatter(indices, values, padded_height, padded_width), levels)
    return block_order(frame, levels, lanes)
