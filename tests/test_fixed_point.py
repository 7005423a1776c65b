"""Fixed-point rules of docs/numerics.md against exact rational arithmetic: round half up, the multiplier and
shift of a real scale, signed widths."""

import math
from fractions import Fraction

import numpy as np
import pytest

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


def test_signed_width():
    assert signed_width(-128, 127) == 8
    assert signed_width(-129, 0) == 9
    assert signed_width(0, 128) == 9
    assert signed_width(-1, 0) == 1
