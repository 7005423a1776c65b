"""Haar forward / inverse against PyWavelets, and their exact scaling."""

import numpy as np
import pytest
import pywt
import torch

from wccgen.golden import align_levels, haar_forward, haar_inverse, level_map
from wccgen.golden.haar_forward import pad_frame
from wccgen.golden.torch_haar import haar_forward_float, haar_inverse_float

GEOMETRIES = [(13, 10), (16, 16), (17, 31), (5, 9), (40, 24)]


def pywt_mallat(frame, levels):
    """Orthonormal coefficients of one zero-padded 2-D frame, laid out as Mallat by hand."""
    padded_h = -(-frame.shape[0] // 2**levels) * 2**levels
    padded_w = -(-frame.shape[1] // 2**levels) * 2**levels
    padded = np.zeros((padded_h, padded_w))
    padded[: frame.shape[0], : frame.shape[1]] = frame
    bands = pywt.wavedec2(padded, "haar", level=levels, mode="periodization")
    out = np.zeros_like(padded)
    h, w = padded_h >> levels, padded_w >> levels
    out[:h, :w] = bands[0]
    for level, (horizontal, vertical, diagonal) in zip(range(levels, 0, -1), bands[1:]):
        h, w = padded_h >> level, padded_w >> level
        out[:h, w : 2 * w] = horizontal
        out[h : 2 * h, :w] = vertical
        out[h : 2 * h, w : 2 * w] = diagonal
    return out


def from_mallat(coeffs, levels):
    """The inverse mapping: Mallat layout to PyWavelets' coefficient list."""
    padded_h, padded_w = coeffs.shape
    h, w = padded_h >> levels, padded_w >> levels
    bands = [coeffs[:h, :w]]
    for level in range(levels, 0, -1):
        h, w = padded_h >> level, padded_w >> level
        bands.append((coeffs[:h, w : 2 * w], coeffs[h : 2 * h, :w], coeffs[h : 2 * h, w : 2 * w]))
    return bands


@pytest.mark.parametrize("levels", [1, 2, 3, 4])
@pytest.mark.parametrize("height,width", GEOMETRIES)
def test_forward_matches_pywavelets(rng, levels, height, width):
    x = rng.integers(-128, 128, size=(3, height, width))
    ours = haar_forward(x, levels)
    scale = 2.0 ** level_map(ours.shape[1], ours.shape[2], levels)
    for channel in range(3):
        reference = pywt_mallat(x[channel].astype(np.float64), levels) * scale
        np.testing.assert_allclose(ours[channel], reference, rtol=0, atol=1e-6)
        # The float reference is an integer after scaling: the integer transform is exact.
        assert np.array_equal(ours[channel], np.rint(reference).astype(np.int64))


@pytest.mark.parametrize("levels", [1, 2, 3, 4])
@pytest.mark.parametrize("height,width", GEOMETRIES)
def test_inverse_matches_pywavelets(rng, levels, height, width):
    padded_h = -(-height // 2**levels) * 2**levels
    padded_w = -(-width // 2**levels) * 2**levels
    coeffs = rng.integers(-1000, 1000, size=(2, padded_h, padded_w))
    ours = haar_inverse(coeffs, levels, height, width)
    for channel in range(2):
        reference = pywt.waverec2(from_mallat(coeffs[channel].astype(np.float64), levels), "haar",
                                  mode="periodization")[:height, :width] * 2**levels
        assert np.array_equal(ours[channel], np.rint(reference).astype(np.int64))
        np.testing.assert_allclose(ours[channel], reference, rtol=0, atol=1e-6)


@pytest.mark.parametrize("levels", [1, 2, 3, 4, 6])
def test_forward_then_inverse_is_exact(rng, levels):
    x = rng.integers(-128, 128, size=(4, 21, 35))
    restored = haar_inverse(align_levels(haar_forward(x, levels), levels), levels, 21, 35)
    assert np.array_equal(restored, x * 4**levels)


def test_padding_is_bottom_and_right(rng):
    x = rng.integers(-5, 6, size=(1, 5, 7))
    padded = pad_frame(x, 2)
    assert padded.shape == (1, 8, 8)
    assert np.array_equal(padded[:, :5, :7], x)
    assert not padded[:, 5:, :].any() and not padded[:, :, 7:].any()


def test_level_map_layout():
    levels = level_map(8, 8, 2)
    assert (levels[:2, :2] == 2).all()  # LL of level 2
    assert (levels[:2, 2:4] == 2).all() and (levels[2:4, :4] == 2).all()
    assert (levels[:4, 4:] == 1).all() and (levels[4:, :] == 1).all()


@pytest.mark.parametrize("levels", [1, 3])
def test_float_transform_matches_pywavelets_and_inverts(rng, levels):
    x = torch.from_numpy(rng.standard_normal((2, 3, 19, 12)))
    coeffs = haar_forward_float(x, levels)
    for n in range(2):
        for c in range(3):
            np.testing.assert_allclose(coeffs[n, c].numpy(), pywt_mallat(x[n, c].numpy(), levels), atol=1e-12)
    np.testing.assert_allclose(haar_inverse_float(coeffs, levels, 19, 12).numpy(), x.numpy(), atol=1e-12)


def test_float_transform_is_differentiable():
    x = torch.randn(1, 2, 9, 10, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: haar_inverse_float(haar_forward_float(t, 2) ** 2, 2, 9, 10), (x,))


@pytest.mark.parametrize("bad,match", [
    (dict(levels=0), "levels"), (dict(levels=7), "levels"), (dict(levels=1.5), "levels"),
])
def test_bad_levels(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        haar_forward(np.ones((1, 4, 4), dtype=np.int64), **bad)


def test_bad_frames():
    with pytest.raises(ValueError, match="x: empty"):
        haar_forward(np.zeros((1, 0, 4), dtype=np.int64), 1)
    with pytest.raises(TypeError, match="x: must hold integers"):
        haar_forward(np.zeros((1, 4, 4)), 1)
    with pytest.raises(ValueError, match="shape"):
        haar_forward(np.zeros((4, 4), dtype=np.int64), 1)
    with pytest.raises(ValueError, match="multiple of 2"):
        haar_inverse(np.zeros((1, 6, 8), dtype=np.int64), 2)
    with pytest.raises(ValueError, match="crop"):
        haar_inverse(np.zeros((1, 8, 8), dtype=np.int64), 2, 9, 8)
