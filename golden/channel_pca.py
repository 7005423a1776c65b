"""Per-pixel principal components across channels: the transform of transform coding (TCI).

Every pixel of an activation map is a vector of ``C`` channels. Calibration
activations give their mean and covariance; the covariance's eigenvectors,
strongest first, are the rows of an orthonormal basis ``P``. The transform
is ``y = P (x - mean)``, frozen after calibration (the reference recomputes
it on every batch, which hardware cannot). Since a 1x1 convolution is linear,
the inverse transform folds into the convolution that consumes the
activations: ``W x + b = (W P^T) y + (W mean + b)``, so that convolution runs
directly on the (quantized, possibly truncated) coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ChannelPCA", "fit_channel_pca", "fold_into_consumer"]


@dataclass(frozen=True)
class ChannelPCA:
    """A frozen channel transform.

    Parameters
    ----------
    mean : numpy.ndarray, shape (C,)
    basis : numpy.ndarray, shape (C, C)
        Orthonormal rows, the principal directions in order of decreasing variance.
    variances : numpy.ndarray, shape (C,)
        Variance of the calibration activations along each row.
    """

    mean: np.ndarray
    basis: np.ndarray
    variances: np.ndarray

    def __post_init__(self):
        channels = self.mean.shape[0] if np.ndim(self.mean) == 1 else None
        if channels is None or np.shape(self.basis) != (channels, channels) or np.shape(self.variances) != (channels,):
            raise ValueError(f"basis: must be (C, C) with a mean and variances of C values, got mean "
                             f"{np.shape(self.mean)}, basis {np.shape(self.basis)}, variances {np.shape(self.variances)}")

    @property
    def channels(self):
        return self.mean.shape[0]

    def project(self, x, components=None):
        """Coefficients of ``x`` (channels first, ``(C, ...)``) on the first ``components`` rows (default all)."""
        rows = self.basis[:self._components(components)]
        return np.tensordot(rows, np.asarray(x, dtype=np.float64) - self.mean.reshape((-1,) + (1,) * (np.ndim(x) - 1)),
                            axes=1)

    def reconstruct(self, y):
        """Activations ``(C, ...)`` from coefficients ``(k, ...)`` on the first ``k`` rows."""
        rows = self.basis[:np.shape(y)[0]]
        return np.tensordot(rows.T, np.asarray(y, dtype=np.float64), axes=1) + self.mean.reshape(
            (-1,) + (1,) * (np.ndim(y) - 1))

    def _components(self, components):
        components = self.channels if components is None else components
        if isinstance(components, bool) or not isinstance(components, (int, np.integer)) or \
                not 1 <= components <= self.channels:
            raise ValueError(f"components: must be an integer in [1, {self.channels}], got {components!r}")
        return int(components)


def fit_channel_pca(activations):
    """The principal components across channels of calibration ``activations`` ``(N, C, H, W)``.

    The covariance is mean-centred and divided by the number of pixels;
    eigenvectors come from ``numpy.linalg.eigh``, each signed so that its
    largest entry is positive (a deterministic basis), strongest first.
    """
    activations = np.asarray(activations, dtype=np.float64)
    if activations.ndim != 4 or activations.shape[1] < 1 or activations.shape[0] * activations.shape[2] * \
            activations.shape[3] < 2:
        raise ValueError(f"activations: must be (N, C, H, W) with at least two pixels, got {activations.shape}")
    if not np.isfinite(activations).all():
        raise ValueError("activations: hold non-finite values")
    pixels = activations.transpose(1, 0, 2, 3).reshape(activations.shape[1], -1)  # (C, pixels)
    mean = pixels.mean(axis=1)
    centred = pixels - mean[:, None]
    covariance = centred @ centred.T / centred.shape[1]
    variances, vectors = np.linalg.eigh(covariance)
    order = np.argsort(-variances, kind="stable")
    basis = vectors[:, order].T
    signs = np.where(basis[np.arange(basis.shape[0]), np.abs(basis).argmax(axis=1)] < 0, -1.0, 1.0)
    return ChannelPCA(mean=mean, basis=basis * signs[:, None], variances=np.clip(variances[order], 0.0, None))


def fold_into_consumer(pca, weight, bias=None, components=None):
    """The 1x1 convolution that consumes the activations, rewritten to take their first ``components`` coefficients.

    Parameters
    ----------
    pca : ChannelPCA
    weight : numpy.ndarray, shape (C_out, C) or (C_out, C, 1, 1)
    bias : numpy.ndarray, shape (C_out,), optional
    components : int, optional

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Weight ``(C_out, k)`` and bias ``(C_out,)``: ``W P_k^T`` and ``W mean + b``.
    """
    weight = np.asarray(weight, dtype=np.float64)
    weight = weight.reshape(weight.shape[0], -1)
    if weight.shape[1] != pca.channels:
        raise ValueError(f"weight: takes {weight.shape[1]} channels, the transform has {pca.channels}")
    rows = pca.basis[:pca._components(components)]
    bias = np.zeros(weight.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64)
    return weight @ rows.T, weight @ pca.mean + bias
