"""Requantization of the spatial output to ``out_bits`` pixels (block ``Requantizer``)."""

from __future__ import annotations

import numpy as np

from ..spec.fixed_point import as_int64, round_shift

__all__ = ["requantize"]


def requantize(values, multiplier, shift, bias, out_min, out_max):
    """Scale, add bias, round and clamp, per output channel.

    ``out[o] = clamp(round_shift(values[o] * multiplier[o] + bias[o], shift[o]), out_min, out_max)``.
    The bias carries the scale of the product (it is pre-shifted), the rounding
    is half up, and the clamp bounds also implement ReLU (``out_min = 0``) and
    ReLU6 (``out_max = round(6 / output_scale)``).

    Parameters
    ----------
    values : array_like of int, shape (C_out, H, W)
        Inverse Haar output.
    multiplier, shift, bias : array_like of int, shape (C_out,)
    out_min, out_max : int

    Returns
    -------
    numpy.ndarray of int64, shape (C_out, H, W)
    """
    values = as_int64(values, "values")
    multiplier = as_int64(multiplier, "multiplier")
    shift = as_int64(shift, "shift")
    bias = as_int64(bias, "bias")
    channels = values.shape[0]
    for name, vector in (("multiplier", multiplier), ("shift", shift), ("bias", bias)):
        if vector.shape != (channels,):
            raise ValueError(f"{name}: must have shape ({channels},), got {vector.shape}")
    if out_min > out_max:
        raise ValueError(f"out_min, out_max: empty range [{out_min}, {out_max}]")
    per_channel = (slice(None),) + (None,) * (values.ndim - 1)
    scaled = round_shift(values * multiplier[per_channel] + bias[per_channel], shift[per_channel])
    return np.clip(scaled, out_min, out_max)
