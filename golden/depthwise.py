"""Depthwise 3x3 convolution with its requantization, in integers (the layer between a block's two WCC layers)."""

from __future__ import annotations

import numpy as np

from ..spec.fixed_point import as_int64
from .requantizer import requantize

__all__ = ["depthwise_sums", "depthwise"]


def depthwise_sums(codes, weights):
    """Per-channel 3x3 sums over a zero-padded frame.

    ``sums[c, y, x] = sum_{i, j} weights[c, i, j] * codes[c, y + i - 1, x + j - 1]``,
    with ``codes`` zero outside the frame (PyTorch's ``padding=1``; a
    cross-correlation, as ``nn.Conv2d`` computes).

    Parameters
    ----------
    codes : array_like of int, shape (C, H, W)
    weights : array_like of int, shape (C, 3, 3)

    Returns
    -------
    numpy.ndarray of int64, shape (C, H, W)
    """
    codes = as_int64(codes, "codes")
    weights = as_int64(weights, "weights")
    if codes.ndim != 3:
        raise ValueError(f"codes: must have shape (C, H, W), got {codes.shape}")
    channels, height, width = codes.shape
    if weights.shape != (channels, 3, 3):
        raise ValueError(f"weights: must have shape ({channels}, 3, 3), got {weights.shape}")
    padded = np.pad(codes, ((0, 0), (1, 1), (1, 1)))
    sums = np.zeros_like(codes)
    for i in range(3):
        for j in range(3):
            sums += weights[:, i, j, None, None] * padded[:, i:i + height, j:j + width]
    return sums


def depthwise(codes, weights, multiplier, shift, bias, out_min, out_max):
    """:func:`depthwise_sums`, then the requantizer (scale, bias, round, clamp) per channel.

    The clamp carries the ReLU6 that follows the convolution, and the
    requantizer's scale turns the sums into the next layer's input codes.

    Returns
    -------
    numpy.ndarray of int64, shape (C, H, W)
    """
    return requantize(depthwise_sums(codes, weights), multiplier, shift, bias, out_min, out_max)
