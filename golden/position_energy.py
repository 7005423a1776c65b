"""Per-position energy over all channels (block ``PositionEnergy``)."""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_levels
from ..spec.fixed_point import as_int64
from ..spec.frame import level_map
from ..spec.wcc_config import ENERGY_MODES

__all__ = ["energy"]


def energy(coeffs, levels, mode="square"):
    """Energy of every position of a Haar coefficient frame, summed over channels.

    A level-``l`` coefficient is ``2**l`` times the orthonormal one, so each is
    first brought to the common ``2**levels`` scale. With ``mode="square"`` the
    energy is ``sum_c coef**2 * 4**(levels-l)``, exactly ``4**levels`` times the
    orthonormal sum of squares; with ``mode="abs"`` it is
    ``sum_c |coef| * 2**(levels-l)``, ``2**levels`` times the orthonormal sum of
    magnitudes. Either way the order of positions equals the orthonormal order.

    Parameters
    ----------
    coeffs : array_like of int, shape (C, H', W')
        Output of :func:`haar_forward`.
    levels : int
        Levels of that transform.
    mode : {"square", "abs"}

    Returns
    -------
    numpy.ndarray of int64, shape (H', W')
    """
    levels = check_levels(levels)
    coeffs = as_int64(coeffs, "coeffs")
    if coeffs.ndim != 3:
        raise ValueError(f"coeffs: must have shape (C, H', W'), got {coeffs.shape}")
    if mode not in ENERGY_MODES:
        raise ValueError(f"mode: must be one of {ENERGY_MODES}, got {mode!r}")
    gain = levels - level_map(coeffs.shape[1], coeffs.shape[2], levels)
    if mode == "square":
        return np.left_shift((coeffs * coeffs).sum(axis=0), 2 * gain)
    return np.left_shift(np.abs(coeffs).sum(axis=0), gain)
