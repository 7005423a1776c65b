"""HaarInverse: ``golden.haar_inverse`` against PyWavelets and as the exact inverse of ``golden.haar_forward``, then
the block in simulation, bit-exact against ``golden.haar_inverse``."""

import numpy as np
import pytest
import pywt

from wccgen.golden import align_levels, haar_forward, haar_inverse, photograph_codes
from wccgen.hw.haar_inverse import HaarInverse, HaarInverseSpec
from wccgen.sim.harness import run_block

from helpers import HAAR_BAD_PARAMETERS, assert_exact, extreme_frames, from_mallat, padded, verilog_that_lints

GEOMETRIES = [(13, 10), (16, 16), (17, 31), (5, 9), (40, 24)]


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


def test_bad_coefficient_frames():
    with pytest.raises(ValueError, match="multiple of 2"):
        haar_inverse(np.zeros((1, 6, 8), dtype=np.int64), 2)
    with pytest.raises(ValueError, match="crop"):
        haar_inverse(np.zeros((1, 8, 8), dtype=np.int64), 2, 9, 8)


INVERSE_CASES = [
    (13, 10, 4, 2, 1),
    (13, 10, 4, 4, 2),
    (9, 14, 3, 1, 3),
    (16, 16, 2, 2, 4),
]


@pytest.mark.parametrize("height,width,channels,lanes,levels", INVERSE_CASES)
@pytest.mark.parametrize("traffic", [(0.0, 0.0), (0.3, 0.4)], ids=["streaming", "idle+backpressure"])
def test_inverse_random(tmp_path, height, width, channels, lanes, levels, traffic):
    rng = np.random.default_rng(height + width + levels)
    params = dict(height=height, width=width, channels=channels, lanes=lanes, levels=levels, in_bits=12)
    shape = (channels, padded(height, levels), padded(width, levels))
    frames = [rng.integers(-2048, 2048, size=shape) for _ in range(4)]
    expected = [haar_inverse(f, levels, height, width) for f in frames]
    report = run_block("HaarInverse", params, frames, expected, tmp_path,
                       idle=traffic[0], backpressure=traffic[1], seed=levels)
    assert_exact(report)
    if traffic == (0.0, 0.0):
        unit = HaarInverseSpec(**params)
        assert report["latency"] == unit.latency
        assert report["cycles_per_frame"] == unit.cycles_per_frame


@pytest.mark.parametrize("levels", [1, 3])
def test_inverse_extreme_coefficients(tmp_path, levels):
    params = dict(height=12, width=11, channels=2, lanes=2, levels=levels, in_bits=10)
    frames = extreme_frames(2, padded(12, levels), padded(11, levels), 10)
    expected = [haar_inverse(f, levels, 12, 11) for f in frames]
    unit = HaarInverseSpec(**params)
    bound = 2 ** (unit.out_bits - 1)
    assert max(np.abs(e).max() for e in expected) <= bound  # the declared output width holds the extremes
    report = run_block("HaarInverse", params, frames, expected, tmp_path, backpressure=0.2)
    assert_exact(report)


def test_forward_then_inverse_returns_the_photograph(tmp_path):
    """The forward coefficients, aligned to one scale, come back as 4**levels times the pixels."""
    levels = 3
    frames = [photograph_codes("chelsea", 20, 26, 4, seed=s) for s in (0, 3)]
    aligned = [align_levels(haar_forward(f, levels), levels) for f in frames]
    params = dict(height=20, width=26, channels=4, lanes=2, levels=levels, in_bits=8 + 2 * levels)
    report = run_block("HaarInverse", params, aligned, [f * 4**levels for f in frames], tmp_path,
                       idle=0.1, backpressure=0.1)
    assert_exact(report)


def test_inverse_reset_mid_frame(tmp_path):
    rng = np.random.default_rng(6)
    params = dict(height=8, width=12, channels=2, lanes=1, levels=2, in_bits=12)
    frames = [rng.integers(-2048, 2048, size=(2, 8, 12)) for _ in range(2)]
    report = run_block("HaarInverse", params, frames, [haar_inverse(f, 2) for f in frames], tmp_path,
                       reset_after_beats=100, partial_frame=rng.integers(-2048, 2048, size=(2, 8, 12)))
    assert_exact(report)


@pytest.mark.parametrize("target", ["generic", "ecp5"])
def test_inverse_verilog_is_deterministic_and_lints(tmp_path, target):
    def make():
        return HaarInverse(height=40, width=36, channels=4, lanes=2, levels=3, in_bits=16)

    text = verilog_that_lints(tmp_path, make, "haar_inverse", target)
    assert "clk" in text and "rst" in text and "__payload" in text and "MULT" not in text
    assert ("DP16KD" in text) == (target == "ecp5")


@pytest.mark.parametrize("bad,match", HAAR_BAD_PARAMETERS + [(dict(banks=1), "^banks")])
def test_inverse_invalid_parameters(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        HaarInverse(**{**dict(height=8, width=8, channels=4, lanes=2, levels=2, in_bits=8), **bad})


def test_inverse_accepts_accumulator_widths():
    assert HaarInverseSpec(height=8, width=8, channels=4, in_bits=40).out_bits == 40 + 3 + 2
    with pytest.raises(ValueError, match=r"^in_bits: must lie in \[2, 48\]"):
        HaarInverse(height=8, width=8, channels=4, in_bits=49)
