"""The channel DCT of DCT-CM against scipy.fft.dct, and its calibrated mask against a brute-force energy ranking."""

import numpy as np
import pytest
import scipy.fft

from wccgen.golden.channel_dct import dct_mask_rows, dct_matrix, grouped_dct


@pytest.mark.parametrize("size", [1, 2, 3, 8, 16])
def test_dct_matrix_is_scipys_orthonormal_dct(size):
    x = np.random.default_rng(size).normal(size=(size, 5))
    np.testing.assert_allclose(dct_matrix(size) @ x, scipy.fft.dct(x, axis=0, norm="ortho"), atol=1e-12)
    np.testing.assert_allclose(dct_matrix(size) @ dct_matrix(size).T, np.eye(size), atol=1e-12)


def test_grouped_dct_transforms_each_group_alone():
    x = np.random.default_rng(1).normal(size=(24, 7))
    expected = np.concatenate([scipy.fft.dct(x[g:g + 8], axis=0, norm="ortho") for g in range(0, 24, 8)])
    np.testing.assert_allclose(grouped_dct(24, 8) @ x, expected, atol=1e-12)


def test_mask_keeps_the_strongest_coefficients_of_the_calibration_data():
    rng = np.random.default_rng(2)
    activations = rng.normal(size=(3, 16, 5, 6)) * rng.uniform(0.1, 3, size=(1, 16, 1, 1)) + 2.0
    rows, mean = dct_mask_rows(activations, 5, 8)
    # Brute force: every coefficient's mean square, pixel by pixel, with scipy's DCT.
    energy = np.zeros(16)
    for n in range(3):
        for y in range(5):
            for x in range(6):
                pixel = activations[n, :, y, x] - activations.mean(axis=(0, 2, 3))
                energy += np.concatenate([scipy.fft.dct(pixel[g:g + 8], norm="ortho") for g in (0, 8)]) ** 2
    expected = sorted(np.argsort(-energy)[:5])
    np.testing.assert_allclose(rows, grouped_dct(16, 8)[expected], atol=1e-12)
    np.testing.assert_allclose(mean, activations.mean(axis=(0, 2, 3)))


@pytest.mark.parametrize("call, message", [
    (lambda: grouped_dct(12, 8), "group: must divide the channels"),
    (lambda: dct_mask_rows(np.zeros((1, 8, 2, 2)), 9, 8), "components: must lie in"),
    (lambda: dct_mask_rows(np.zeros((8, 2, 2)), 2, 8), "activations: must be"),
    (lambda: dct_matrix(0), "group: must be >= 1"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
