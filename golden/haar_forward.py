"""Integer multi-level 2-D Haar forward transform (block ``HaarForward``)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..spec.checks import check_levels, check_positive_int
from ..spec.fixed_point import as_int64
from ..spec.frame import padded_size

__all__ = ["emission_order", "haar_forward", "pad_frame"]


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


def emission_order(padded_height, padded_width, levels):
    """The Mallat positions of a padded frame in the order ``HaarForward`` emits them.

    The transform sends each coefficient once its 2x2 block is complete,
    so the order follows the level-1 blocks in raster order. The pixel that
    completes level-1 block ``(i, j)`` also completes the level-``l`` block
    ``(i >> (l-1), j >> (l-1))`` whenever the low ``l - 1`` bits of ``i``
    and of ``j`` are all ones; that block's top-right, bottom-left and
    bottom-right details follow the level-1 ones, level by level, and the
    coarsest level's LL comes last. Every position carries all channels
    (``channels / lanes`` beats, group 0 first) before the next one.

    Parameters
    ----------
    padded_height, padded_width : int
        Frame size after padding, multiples of ``2**levels``.
    levels : int
        Haar levels.

    Returns
    -------
    numpy.ndarray of int64, shape (padded_height * padded_width,)
        Position indices (``row * padded_width + col`` of the Mallat layout), in emission order;
        a read-only array.
    """
    levels = check_levels(levels)
    height, width = (check_positive_int(v, n) for v, n in ((padded_height, "padded_height"),
                                                            (padded_width, "padded_width")))
    side = 1 << levels
    if height % side or width % side:
        raise ValueError(f"padded size {height}x{width}: must be multiples of 2**levels = {side}")
    return _emission_order(height, width, levels)


@lru_cache(maxsize=32)
def _emission_order(height, width, levels):
    order = []
    for i in range(height // 2):
        for j in range(width // 2):
            level = 1
            while True:
                row, col = i >> (level - 1), j >> (level - 1)
                rows, cols = height >> level, width >> level
                order += [row * width + cols + col, (rows + row) * width + col, (rows + row) * width + cols + col]
                if level == levels:
                    order.append(row * width + col)
                    break
                if not (row & 1 and col & 1):
                    break
                level += 1
    out = np.array(order, dtype=np.int64)
    out.flags.writeable = False
    return out
