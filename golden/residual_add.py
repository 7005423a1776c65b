"""The residual add of an inverted residual block, in integers: the skip rescaled, the branch added, clamped."""

from __future__ import annotations

import numpy as np

from ..spec.fixed_point import as_int64, round_shift

__all__ = ["residual_add"]


def residual_add(skip, branch, multiplier, shift, out_min, out_max):
    """``clamp(round_shift(skip * multiplier, shift) + branch, out_min, out_max)``.

    ``skip`` (the block's input codes) is brought to the scale of ``branch``
    (the projection's output codes, already in the scale of the block's
    output) by ``multiplier / 2**shift``, rounded half up as every block of
    the layer rounds.

    Parameters
    ----------
    skip, branch : array_like of int, same shape
    multiplier, shift : int
    out_min, out_max : int

    Returns
    -------
    numpy.ndarray of int64
    """
    skip = as_int64(skip, "skip")
    branch = as_int64(branch, "branch")
    if skip.shape != branch.shape:
        raise ValueError(f"branch: has shape {branch.shape}, the skip {skip.shape}")
    if out_min > out_max:
        raise ValueError(f"out_min, out_max: empty range [{out_min}, {out_max}]")
    return np.clip(round_shift(skip * int(multiplier), int(shift)) + branch, out_min, out_max)
