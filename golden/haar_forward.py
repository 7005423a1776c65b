"""Integer multi-level 2-D Haar forward transform (block ``HaarForward``)."""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_levels
from ..spec.fixed_point import as_int64
from ..spec.frame import padded_size

__all__ = ["haar_forward", "pad_frame"]


def pad_frame(x, levels):
    """Zero-pad a ``(C, H, W)`` frame at the bottom and right to multiples of ``2**levels``."""
    channels, height, width = x.shape
    out = np.zeros(
        (channels, padded_size(height, levels), padded_size(width, levels)), dtype=np.int64
    )
    out[:, :height, :width] = x
    return out


def haar_forward(x, levels):
    """Multi-level 2-D Haar transform without rounding, Mallat layout in place.

    For each 2x2 block ``a=x[2i,2j], b=x[2i,2j+1], c=x[2i+1,2j], d=x[2i+1,2j+1]``
    one level writes ``a+b+c+d`` (LL, top-left quadrant), ``a+b-c-d`` (top-right),
    ``a-b+c-d`` (bottom-left) and ``a-b-c+d`` (bottom-right); only LL is
    decomposed again. A level-``l`` coefficient is therefore exactly ``2**l``
    times the orthonormal one.

    Parameters
    ----------
    x : array_like of int, shape (C, H, W)
        Input frame.
    levels : int
        Number of levels, ``1..MAX_LEVELS``.

    Returns
    -------
    numpy.ndarray of int64, shape (C, H', W')
        Coefficients of the zero-padded frame (``H'``, ``W'`` multiples of ``2**levels``).
    """
    levels = check_levels(levels)
    x = as_int64(x, "x")
    if x.ndim != 3:
        raise ValueError(f"x: must have shape (C, H, W), got {x.shape}")
    out = pad_frame(x, levels)
    height, width = out.shape[1:]
    for level in range(levels):
        h, w = height >> level, width >> level
        block = out[:, :h, :w]
        a, b = block[:, 0::2, 0::2], block[:, 0::2, 1::2]
        c, d = block[:, 1::2, 0::2], block[:, 1::2, 1::2]
        ll, top_right = a + b + c + d, a + b - c - d
        bottom_left, bottom_right = a - b + c - d, a - b - c + d
        out[:, : h // 2, : w // 2] = ll
        out[:, : h // 2, w // 2 : w] = top_right
        out[:, h // 2 : h, : w // 2] = bottom_left
        out[:, h // 2 : h, w // 2 : w] = bottom_right
    return out

