"""Exact top-k position selection (block ``TopKSelector``)."""

from __future__ import annotations

import numpy as np

from ..spec.fixed_point import as_int64

__all__ = ["topk_select"]


def topk_select(energy, keep):
    """Keep the ``keep`` positions of largest energy, one mask for all channels.

    Positions are numbered in raster order over the Mallat layout
    (``index = row * W' + column``). Among equal energies the lower index wins.

    Parameters
    ----------
    energy : array_like of int, shape (H', W')
        Output of :func:`energy`.
    keep : int
        Positions to keep, ``1 <= keep <= H' * W'``.

    Returns
    -------
    mask : numpy.ndarray of bool, shape (H', W')
        True where a position is kept.
    indices : numpy.ndarray of int64, shape (keep,)
        The kept indices in ascending order (the order the packer emits them).
    """
    energy = as_int64(energy, "energy")
    if energy.ndim != 2:
        raise ValueError(f"energy: must have shape (H', W'), got {energy.shape}")
    if np.any(energy < 0):
        raise ValueError("energy: must be non-negative")
    positions = energy.size
    if isinstance(keep, bool) or not isinstance(keep, (int, np.integer)):
        raise TypeError(f"keep: must be an integer, got {type(keep).__name__}")
    if not 1 <= keep <= positions:
        raise ValueError(f"keep: must lie in [1, {positions}], got {keep}")
    # A stable sort of the negated energies puts ties in ascending index order.
    order = np.argsort(-energy.ravel(), kind="stable")
    indices = np.sort(order[: int(keep)]).astype(np.int64)
    mask = np.zeros(positions, dtype=bool)
    mask[indices] = True
    return mask.reshape(energy.shape), indices
