"""The fixed-point channel transform against a brute-force loop and exact fractions."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wccgen.golden.channel_transform import TRANSFORM_FRACTION_BITS, channel_transform, fixed_point_rows


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(1, 5), st.integers(1, 6), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_sums_equal_a_brute_force_loop(k, channels, height, width, seed):
    rng = np.random.default_rng(seed)
    rows = rng.integers(-8192, 8193, size=(k, channels))
    pixels = rng.integers(-127, 128, size=(channels, height, width))
    expected = np.zeros((k, height, width), dtype=np.int64)
    for j in range(k):
        for y in range(height):
            for x in range(width):
                expected[j, y, x] = sum(int(rows[j, c]) * int(pixels[c, y, x]) for c in range(channels))
    np.testing.assert_array_equal(channel_transform(rows, pixels), expected)


def test_fixed_point_rows_round_half_away_from_zero():
    values = [0.5 / 4096, -0.5 / 4096, 1.5 / 4096, -1.5 / 4096, 1.0, -1.0, 0.123456, -0.987654, 2.0]
    expected = []
    for value in values:
        exact = Fraction(value) * 2**TRANSFORM_FRACTION_BITS
        magnitude = int(abs(exact) + Fraction(1, 2))
        expected.append(magnitude if exact >= 0 else -magnitude)
    assert fixed_point_rows(np.array([values])).ravel().tolist() == expected


@pytest.mark.parametrize("rows, message", [
    (np.array([[np.nan, 0.0]]), "rows: must be a finite"),
    (np.array([[2.5, 0.0]]), "rows: entries must lie in"),
    (np.zeros(3), "rows: must be a finite"),
])
def test_bad_rows_are_refused(rows, message):
    with pytest.raises(ValueError, match=message):
        fixed_point_rows(rows)


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="rows, pixels: shapes"):
        channel_transform(np.ones((2, 3), dtype=int), np.ones((4, 1, 1), dtype=int))
    with pytest.raises(TypeError, match="pixels: must hold integers"):
        channel_transform(np.ones((2, 3), dtype=int), np.ones((3, 1, 1)))
