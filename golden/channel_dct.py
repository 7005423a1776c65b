"""The channel transform of DCT-CM: a 1-D DCT along the channel axis, in groups, with a calibrated mask.

DCT-CM (Shi et al., ISCAS 2021) compresses a feature map by a DCT across
channels and masks. Only the abstract is public; the choices below are
wccgen's: the channels are cut into consecutive groups of ``group`` (8 by
default), each group gets an orthonormal DCT-II, and one mask per layer keeps
the ``components`` coefficients (over all groups) with the largest mean
square on calibration activations, after the calibration mean is subtracted
from every channel (the subtraction folds into the consumer's bias, as in
transform coding, so the DC coefficients carry only the deviations).
"""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_positive_int

__all__ = ["dct_matrix", "dct_mask_rows", "grouped_dct"]


def dct_matrix(size):
    """The orthonormal DCT-II matrix of ``size`` points: row ``u`` is frequency ``u``.

    ``D[u, n] = a(u) cos(pi (2n + 1) u / (2 size))`` with ``a(0) = sqrt(1/size)``
    and ``a(u) = sqrt(2/size)`` otherwise, so ``D @ x`` equals
    ``scipy.fft.dct(x, norm="ortho")``.
    """
    size = check_positive_int(size, "group")
    u = np.arange(size)[:, None]
    n = np.arange(size)[None, :]
    matrix = np.cos(np.pi * (2 * n + 1) * u / (2 * size)) * np.sqrt(2.0 / size)
    matrix[0] /= np.sqrt(2.0)
    return matrix


def grouped_dct(channels, group):
    """The block-diagonal transform of ``channels`` channels: a ``group``-point DCT per consecutive group.

    Returns
    -------
    numpy.ndarray, shape (channels, channels)
        Row ``g * group + u`` is frequency ``u`` of group ``g``.
    """
    channels = check_positive_int(channels, "channels")
    group = check_positive_int(group, "group")
    if channels % group:
        raise ValueError(f"group: must divide the channels ({channels}), got {group}")
    matrix = np.zeros((channels, channels))
    block = dct_matrix(group)
    for start in range(0, channels, group):
        matrix[start:start + group, start:start + group] = block
    return matrix


def dct_mask_rows(activations, components, group):
    """The calibrated DCT-CM transform of ``activations`` (N, C, H, W): ``(rows, mean)``.

    The mean of every channel is subtracted, the grouped DCT applied, and the
    ``components`` rows of largest mean-square coefficient kept, in ascending
    row order (ties to the lower row).

    Returns
    -------
    rows : numpy.ndarray, shape (components, C)
    mean : numpy.ndarray, shape (C,)
    """
    activations = np.asarray(activations, dtype=np.float64)
    if activations.ndim != 4:
        raise ValueError(f"activations: must be (N, C, H, W), got {activations.shape}")
    channels = activations.shape[1]
    components = check_positive_int(components, "components")
    if components > channels:
        raise ValueError(f"components: must lie in [1, {channels}], got {components}")
    pixels = activations.transpose(1, 0, 2, 3).reshape(channels, -1)
    mean = pixels.mean(axis=1)
    transform = grouped_dct(channels, group)
    energy = ((transform @ (pixels - mean[:, None])) ** 2).mean(axis=1)
    kept = np.sort(np.argsort(-energy, kind="stable")[:components])
    return transform[kept], mean
