"""Quantizer, MAC, scatter and requantizer against exact brute-force oracles."""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from wccgen.golden import pointwise_mac, quantize, requantize, scatter
from wccgen.spec.fixed_point import quantize_multiplier, round_shift, signed_width


def exact_round_half_up(numerator, shift):
    return math.floor(Fraction(numerator, 2**shift) + Fraction(1, 2))


def test_round_shift_matches_exact_rounding(rng):
    values = rng.integers(-(2**40), 2**40, size=500)
    for shift in (0, 1, 3, 17, 40):
        ours = round_shift(values, shift)
        assert [int(v) for v in ours] == [exact_round_half_up(int(v), shift) for v in values]


def test_round_shift_halves_go_up():
    assert list(round_shift(np.array([-3, -1, 1, 3, 5]), 1)) == [-1, 0, 1, 2, 3]


@pytest.mark.parametrize("real", [1e-9, 0.0123, 0.5, 1.0, 1.5, 3.999, 1234.5, -0.75, -1e-5])
def test_quantize_multiplier_precision(real):
    multiplier, shift = quantize_multiplier(real)
    assert 2**14 <= abs(multiplier) < 2**15 and 1 <= shift <= 62
    assert abs(multiplier / 2**shift - real) <= abs(real) * 2**-15


@pytest.mark.parametrize("real,match", [(float("nan"), "finite"), (1e9, "too large"), (1e-30, "too small")])
def test_quantize_multiplier_range(real, match):
    with pytest.raises(ValueError, match=match):
        quantize_multiplier(real)


def test_quantize_against_loop(rng):
    values = rng.integers(-(2**13), 2**13, size=(6, 40))
    levels = rng.integers(1, 4, size=40)
    multiplier, shift = np.array([23000, 17000, 31000]), np.array([12, 13, 15])
    ours = quantize(values, levels, multiplier, shift, 6)
    for c in range(6):
        for p in range(40):
            level = int(levels[p]) - 1
            expected = exact_round_half_up(int(values[c, p]) * int(multiplier[level]), int(shift[level]))
            assert ours[c, p] == max(-31, min(31, expected))
    assert np.abs(ours).max() == 31  # the test reaches the clamp


def test_pointwise_mac_matches_float_conv(rng):
    weights = rng.integers(-127, 128, size=(9, 14))
    codes = rng.integers(-127, 128, size=(14, 33))
    ours = pointwise_mac(weights, codes)
    conv = torch.nn.functional.conv2d(torch.from_numpy(codes.T[None, :, :, None].transpose(0, 2, 1, 3).astype(np.float64)),
                                      torch.from_numpy(weights[:, :, None, None].astype(np.float64)))
    assert np.array_equal(ours, conv[0, :, :, 0].numpy().astype(np.int64))


def test_scatter_against_loop(rng):
    indices = np.sort(rng.choice(48, size=10, replace=False))
    values = rng.integers(-99, 99, size=(3, 10))
    ours = scatter(indices, values, 6, 8)
    expected = np.zeros((3, 6, 8), dtype=np.int64)
    for column, index in enumerate(indices):
        expected[:, index // 8, index % 8] = values[:, column]
    assert np.array_equal(ours, expected)
    with pytest.raises(ValueError, match="ascending"):
        scatter(indices[::-1], values, 6, 8)


def test_requantize_against_exact(rng):
    values = rng.integers(-(2**20), 2**20, size=(4, 5, 6))
    multiplier = np.array([20000, -17000, 30000, 0])
    shift = np.array([20, 18, 25, 1])
    bias = np.array([3 << 19, -(5 << 17), 0, 7])
    ours = requantize(values, multiplier, shift, bias, 0, 100)
    for o in range(4):
        for v, got in zip(values[o].ravel(), ours[o].ravel()):
            exact = exact_round_half_up(int(v) * int(multiplier[o]) + int(bias[o]), int(shift[o]))
            assert got == max(0, min(100, exact))


def test_signed_width():
    assert signed_width(-128, 127) == 8
    assert signed_width(-129, 0) == 9
    assert signed_width(0, 128) == 9
    assert signed_width(-1, 0) == 1


def test_quantize_rejects_bad_arguments():
    with pytest.raises(ValueError, match="value_levels"):
        quantize(np.ones((2, 3), dtype=np.int64), np.array([1, 2, 4]), np.array([1, 1, 1]), np.array([1, 1, 1]), 8)
    with pytest.raises(ValueError, match="bits"):
        quantize(np.ones((2, 3), dtype=np.int64), np.array([1, 1, 1]), np.array([1]), np.array([1]), 1)
    with pytest.raises(ValueError, match="weights, codes"):
        pointwise_mac(np.ones((2, 3), dtype=np.int64), np.ones((4, 5), dtype=np.int64))
