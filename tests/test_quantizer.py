"""Quantizer: ``golden.quantize`` against a loop of exact rational rounding, then the block in Amaranth's simulator
against ``golden.quantize`` (and refused parameters)."""

import math
from fractions import Fraction

import numpy as np
import pytest

from wccgen.golden import quantize
from wccgen.hw.quantizer import Quantizer, QuantizerSpec

from helpers import run_always_ready


def exact_round_half_up(numerator, shift):
    return math.floor(Fraction(numerator, 2**shift) + Fraction(1, 2))


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


def test_quantize_rejects_bad_arguments():
    with pytest.raises(ValueError, match="value_levels"):
        quantize(np.ones((2, 3), dtype=np.int64), np.array([1, 2, 4]), np.array([1, 1, 1]), np.array([1, 1, 1]), 8)
    with pytest.raises(ValueError, match="bits"):
        quantize(np.ones((2, 3), dtype=np.int64), np.array([1, 1, 1]), np.array([1]), np.array([1]), 1)


# -- the block, in Amaranth's simulator against ``quantize`` ------------------------------------------------------

def quantizer_case(rng, coef_bits, lanes, bits, levels, beats):
    spec = QuantizerSpec(coef_bits=coef_bits, lanes=lanes, bits=bits,
                         multipliers=[int(v) for v in rng.integers(2**14, 2**15, size=levels)],
                         # Level 1's extreme coefficients land beyond the clamp, most others within it.
                         shifts=[coef_bits + 14 - bits + min(level, 1) for level in range(levels)])
    limit = 1 << (coef_bits - 1)
    values = rng.integers(-limit, limit, size=(lanes, beats))
    values[:, :4] = [-limit, limit - 1, 0, -1]  # the extremes of the coefficient range
    value_levels = rng.integers(1, levels + 1, size=beats)
    value_levels[:4] = 1
    return spec, values, value_levels


@pytest.mark.parametrize("coef_bits,lanes,bits,levels,idle", [(10, 1, 4, 1, 0.0), (14, 3, 8, 3, 0.3),
                                                              (20, 2, 16, 5, 0.5)])
def test_quantizer_block_equals_quantize_at_its_latency(rng, coef_bits, lanes, bits, levels, idle):
    spec, values, value_levels = quantizer_case(rng, coef_bits, lanes, bits, levels, beats=120)
    dut = Quantizer(spec)
    payloads = [{"data": [int(v) for v in values[:, n]], "level": int(value_levels[n])}
                for n in range(values.shape[1])]
    received, sent, arrived = run_always_ready(dut, dut.coefficients, dut.codes, payloads, idle=idle, seed=bits)
    expected = quantize(values, value_levels, spec.multipliers, spec.shifts, bits)
    assert received == expected.T.tolist()
    assert [a - s for s, a in zip(sent, arrived)] == [spec.latency] * len(sent)
    limit = 2 ** (bits - 1) - 1
    assert np.abs(expected).max() == limit and np.mean(np.abs(expected) < limit) > 0.5  # clamped, and not only


@pytest.mark.parametrize("bad,match", [
    (dict(multipliers=[1 << 15]), "^multipliers"), (dict(shifts=[63]), "^shifts"), (dict(bits=1), "^bits"),
    (dict(multipliers=[1, 2]), r"^shifts: must give one value per level \(2\)"),
])
def test_quantizer_invalid_parameters(bad, match):
    with pytest.raises(ValueError, match=match):
        Quantizer(**{**dict(coef_bits=14, lanes=2, bits=8, multipliers=[1], shifts=[3]), **bad})
