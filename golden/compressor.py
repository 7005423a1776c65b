"""The encoder half of a WCC layer: coefficients to the compressed stream (block ``Compressor``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spec.fixed_point import as_int64
from ..spec.frame import level_map
from .packer import pack
from .position_energy import energy
from .quantizer import quantize
from .topk_selector import topk_select

__all__ = ["Compressed", "compressor"]


@dataclass
class Compressed:
    """What the encoder makes of one coefficient frame."""

    energy: np.ndarray  #: (H', W') Energy output
    mask: np.ndarray  #: (H', W') bool, TopKSelector output
    indices: np.ndarray  #: (k,) kept raster indices, ascending
    codes: np.ndarray  #: (C, k) Quantizer output
    stream: np.ndarray  #: uint8 Packer output


def compressor(coefficients, levels, keep, multipliers, shifts, bits, mode="square"):
    """Energy, top-k selection, quantization and packing of one Haar coefficient frame.

    Parameters
    ----------
    coefficients : array_like of int, shape (C, H', W')
        Output of :func:`haar_forward` (or any frame on its scales).
    levels : int
    keep : int
        Positions kept.
    multipliers, shifts : array_like of int, shape (levels,)
        The quantizer's per-level factors.
    bits : int
        Code width.
    mode : {"square", "abs"}
        Energy mode.

    Returns
    -------
    Compressed
    """
    coefficients = as_int64(coefficients, "coefficients")
    position_energy = energy(coefficients, levels, mode)
    mask, indices = topk_select(position_energy, keep)
    channels, padded_height, padded_width = coefficients.shape
    value_levels = level_map(padded_height, padded_width, levels).ravel()[indices]
    kept = coefficients.reshape(channels, -1)[:, indices]
    codes = quantize(kept, value_levels, multipliers, shifts, bits)
    return Compressed(energy=position_energy, mask=mask, indices=indices, codes=codes, stream=pack(mask, codes, bits))
