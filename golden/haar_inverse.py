"""Integer multi-level 2-D Haar inverse transform (block ``HaarInverse``)."""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_levels, check_positive_int
from ..spec.fixed_point import as_int64
from ..spec.frame import level_map

__all__ = ["haar_inverse", "align_levels"]


def _check_frame(coeffs, levels):
    if coeffs.ndim != 3:
        raise ValueError(f"coeffs: must have shape (C, H', W'), got {coeffs.shape}")
    block = 1 << levels
    for axis, name in ((1, "height"), (2, "width")):
        if coeffs.shape[axis] % block:
            raise ValueError(
                f"coeffs: padded {name} {coeffs.shape[axis]} is not a multiple of 2**levels = {block}"
            )


def align_levels(coeffs, levels):
    """Bring forward-transform coefficients onto one scale.

    Multiplies every level-``l`` coefficient of :func:`haar_forward`'s output by
    ``2**(levels-l)``, so all of them carry ``2**levels`` times the orthonormal
    value: the uniform scale :func:`haar_inverse` takes.
    """
    levels = check_levels(levels)
    coeffs = as_int64(coeffs, "coeffs")
    _check_frame(coeffs, levels)
    shift = levels - level_map(coeffs.shape[1], coeffs.shape[2], levels)
    return np.left_shift(coeffs, shift[None, :, :])


def haar_inverse(coeffs, levels, height=None, width=None):
    """Inverse multi-level Haar transform of uniformly scaled coefficients, without rounding.

    Every coefficient is taken on one common scale (as the quantized, convolved
    coefficients of a WCC layer are). Each level rebuilds a 2x2 block as
    ``a=LL+H+V+D, b=LL+H-V-D, c=LL-H+V-D, d=LL-H-V+D`` (``H`` top-right,
    ``V`` bottom-left, ``D`` bottom-right) without halving; to keep one scale,
    level-``l`` details enter multiplied by ``2**(levels-l)``. The result is
    exactly ``2**levels`` times the orthonormal inverse.

    Parameters
    ----------
    coeffs : array_like of int, shape (C, H', W')
        Coefficients in the Mallat layout; ``H'``, ``W'`` multiples of ``2**levels``.
    levels : int
        Number of levels.
    height, width : int, optional
        Crop the result to ``height x width`` (the unpadded frame); default no crop.

    Returns
    -------
    numpy.ndarray of int64, shape (C, height, width)
    """
    levels = check_levels(levels)
    coeffs = as_int64(coeffs, "coeffs")
    _check_frame(coeffs, levels)
    padded_height, padded_width = coeffs.shape[1:]
    height = padded_height if height is None else check_positive_int(height, "height")
    width = padded_width if width is None else check_positive_int(width, "width")
    if height > padded_height or width > padded_width:
        raise ValueError(
            f"height, width: crop {height}x{width} exceeds the padded frame {padded_height}x{padded_width}"
        )
    out = coeffs.copy()
    for level in range(levels, 0, -1):
        h, w = padded_height >> level, padded_width >> level
        gain = levels - level
        ll = out[:, :h, :w]
        top_right = out[:, :h, w : 2 * w] << gain
        bottom_left = out[:, h : 2 * h, :w] << gain
        bottom_right = out[:, h : 2 * h, w : 2 * w] << gain
        block = np.empty((coeffs.shape[0], 2 * h, 2 * w), dtype=np.int64)
        block[:, 0::2, 0::2] = ll + top_right + bottom_left + bottom_right
        block[:, 0::2, 1::2] = ll + top_right - bottom_left - bottom_right
        block[:, 1::2, 0::2] = ll - top_right + bottom_left - bottom_right
        block[:, 1::2, 1::2] = ll - top_right - bottom_left + bottom_right
        out[:, : 2 * h, : 2 * w] = block
    return out[:, :height, :width]
