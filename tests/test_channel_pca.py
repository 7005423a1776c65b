"""The channel transform of transform coding against numpy.linalg.svd and the plain convolution."""

import numpy as np
import pytest

from wccgen.golden.channel_pca import ChannelPCA, fit_channel_pca, fold_into_consumer


def correlated_activations(seed, channels=6, rank=3):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(channels, rank))
    hidden = rng.normal(size=(4, rank, 9, 7)) * np.array([3.0, 1.5, 0.5])[:rank, None, None]
    x = np.einsum("cr,nrhw->nchw", mixing, hidden) + rng.normal(size=(channels,))[None, :, None, None]
    return np.clip(x, 0, None) + 0.01 * rng.normal(size=x.shape)  # ReLU-like, then a little noise


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_components_match_the_singular_vectors_of_the_centred_pixels(seed):
    x = correlated_activations(seed)
    pca = fit_channel_pca(x)
    pixels = x.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)
    centred = pixels - pixels.mean(axis=1, keepdims=True)
    u, singular, _ = np.linalg.svd(centred, full_matrices=False)  # the oracle: SVD of the data, not its covariance
    np.testing.assert_allclose(pca.variances, singular**2 / centred.shape[1], rtol=1e-9, atol=1e-12)
    for row, vector in zip(pca.basis, u.T):
        assert abs(abs(row @ vector) - 1) < 1e-9  # the same direction, up to sign
        assert row[np.abs(row).argmax()] > 0
    np.testing.assert_allclose(pca.basis @ pca.basis.T, np.eye(x.shape[1]), atol=1e-12)


def test_truncation_error_is_the_variance_left_out():
    x = correlated_activations(3)
    pca = fit_channel_pca(x)
    pixels = x.transpose(1, 0, 2, 3)
    for k in range(1, x.shape[1] + 1):
        back = pca.reconstruct(pca.project(pixels, k))
        error = ((back - pixels) ** 2).sum(axis=0).mean()
        assert error == pytest.approx(pca.variances[k:].sum(), rel=1e-9, abs=1e-12)


def test_the_folded_convolution_on_the_coefficients_is_the_convolution_on_the_activations():
    rng = np.random.default_rng(4)
    x = correlated_activations(4)
    pca = fit_channel_pca(x)
    weight, bias = rng.normal(size=(5, x.shape[1], 1, 1)), rng.normal(size=5)
    plain = np.einsum("oc,nchw->nohw", weight[:, :, 0, 0], x) + bias[None, :, None, None]
    folded_weight, folded_bias = fold_into_consumer(pca, weight, bias)
    coefficients = pca.project(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    folded = np.einsum("ok,nkhw->nohw", folded_weight, coefficients) + folded_bias[None, :, None, None]
    np.testing.assert_allclose(folded, plain, atol=1e-9)
    # Keeping k components is the convolution of the rank-k reconstruction.
    truncated_weight, truncated_bias = fold_into_consumer(pca, weight, bias, components=2)
    reconstructed = pca.reconstruct(pca.project(x.transpose(1, 0, 2, 3), 2)).transpose(1, 0, 2, 3)
    want = np.einsum("oc,nchw->nohw", weight[:, :, 0, 0], reconstructed) + bias[None, :, None, None]
    got = np.einsum("ok,nkhw->nohw", truncated_weight, coefficients[:, :2]) + truncated_bias[None, :, None, None]
    np.testing.assert_allclose(got, want, atol=1e-9)


@pytest.mark.parametrize("call,message", [
    (lambda: fit_channel_pca(np.zeros((2, 3, 4))), "activations: must be"),
    (lambda: fit_channel_pca(np.full((1, 2, 3, 3), np.nan)), "non-finite"),
    (lambda: fit_channel_pca(np.zeros((1, 2, 1, 1))), "at least two pixels"),
    (lambda: fold_into_consumer(fit_channel_pca(correlated_activations(0)), np.zeros((3, 5))), "takes 5 channels"),
    (lambda: fit_channel_pca(correlated_activations(0)).project(np.zeros((6, 2)), 7), "components"),
    (lambda: ChannelPCA(np.zeros(3), np.eye(2), np.zeros(3)), "basis: must be"),
])
def test_bad_shapes_are_refused_naming_the_field(call, message):
    with pytest.raises(ValueError, match=message):
        call()
