"""Every intermediate stream stays inside its declared width, on extreme and random frames."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wccgen.golden import (WccConfig, align_levels, haar_forward, haar_inverse, level_map, pack, random_bundle,
                           topk_select, unpack, wcc_layer)
from wccgen.spec.fixed_point import signed_range


def assert_within_widths(trace, cfg, bundle, frame="frame"):
    lmap = level_map(cfg.padded_height, cfg.padded_width, cfg.levels)
    for level in range(1, cfg.levels + 1):
        lo, hi = signed_range(cfg.coef_width(level))
        values = trace.coefficients[:, lmap == level]
        assert lo <= values.min() and values.max() <= hi, f"{frame}: level {level} coefficients"
    assert 0 <= trace.energy.min() and trace.energy.max() < 2**cfg.energy_width
    assert np.abs(trace.codes).max() <= cfg.code_limit
    lo, hi = signed_range(cfg.acc_width)
    assert lo <= trace.accumulators.min() and trace.accumulators.max() <= hi
    lo, hi = signed_range(cfg.inverse_width)
    assert lo <= trace.inverse.min() and trace.inverse.max() <= hi
    products = trace.inverse * bundle.out_multiplier[:, None, None]
    lo, hi = signed_range(cfg.requant_width)
    assert lo <= products.min() and products.max() <= hi
    assert bundle.out_min <= trace.output.min() and trace.output.max() <= bundle.out_max
    assert trace.stream.size == -(-cfg.compressed_bits // 8)


def extreme_frames(cfg):
    lo, hi = signed_range(cfg.in_bits)
    shape = (cfg.channels_in, cfg.height, cfg.width)
    rows, cols = np.indices(shape[1:])
    checker = np.where((rows + cols) % 2 == 0, hi, lo)
    stripes = np.where(rows % 2 == 0, hi, lo)
    yield "all max", np.full(shape, hi)
    yield "all min", np.full(shape, lo)
    yield "checkerboard", np.broadcast_to(checker, shape)
    yield "inverse checkerboard", np.broadcast_to(lo + hi - checker, shape)
    yield "row stripes", np.broadcast_to(stripes, shape)
    yield "2x2 checkerboard", np.broadcast_to(np.where(((rows // 2) + (cols // 2)) % 2 == 0, hi, lo), shape)


@pytest.mark.parametrize("levels", [1, 3, 4])
@pytest.mark.parametrize("rate", [1.0, 0.125])
def test_extreme_frames_stay_inside_widths(levels, rate):
    cfg = WccConfig(height=19, width=24, channels_in=5, channels_out=4, levels=levels, rate=rate)
    bundle = random_bundle(cfg, seed=levels)
    # Extreme weights and the largest multipliers push the accumulators to their bound.
    bundle.weights[:] = cfg.weight_limit
    bundle.weights[1::2] = -cfg.weight_limit
    bundle.validate()
    for name, frame in extreme_frames(cfg):
        trace = wcc_layer(frame, bundle)
        assert_within_widths(trace, cfg, bundle, name)


def test_declared_widths_are_tight():
    cfg = WccConfig(height=16, width=16, channels_in=3, channels_out=2, levels=3, rate=1.0)
    lo, _ = signed_range(cfg.in_bits)
    coefficients = haar_forward(np.full((3, 16, 16), lo), 3)
    assert coefficients.min() == signed_range(cfg.coef_width_max)[0]  # LL reaches -2**(width-1)
    assert cfg.coef_width_max == cfg.in_bits + 2 * cfg.levels
    bundle = random_bundle(cfg, seed=0)
    bundle.weights[:] = cfg.weight_limit
    bundle.coef_multiplier[:] = 2**15 - 1
    bundle.coef_shift[:] = 1  # every code saturates at +-127
    trace = wcc_layer(np.full((3, 16, 16), signed_range(cfg.in_bits)[1]), bundle)
    assert trace.accumulators.max() == 3 * 127 * 127  # the accumulator bound is reached


@given(
    height=st.integers(1, 33), width=st.integers(1, 33), channels_in=st.integers(1, 6),
    channels_out=st.integers(1, 5), levels=st.integers(1, 4), rate=st.floats(0.05, 1.0),
    in_bits=st.integers(2, 12), bit_a=st.integers(2, 12), bit_w=st.integers(2, 12), out_bits=st.integers(2, 12),
    energy=st.sampled_from(["square", "abs"]), activation=st.sampled_from(["none", "relu", "relu6"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_layer_properties_over_geometry(height, width, channels_in, channels_out, levels, rate, in_bits, bit_a,
                                        bit_w, out_bits, energy, activation, seed):
    try:
        cfg = WccConfig(height, width, channels_in, channels_out, levels, rate, in_bits, bit_a, bit_w, out_bits, energy)
    except ValueError as error:
        assert "rate" in str(error)  # only a rate too small to keep one position is refused
        return
    rng = np.random.default_rng(seed)
    lo, hi = signed_range(in_bits)
    pixels = rng.integers(lo, hi + 1, size=(channels_in, height, width))
    bundle = random_bundle(cfg, seed=seed, activation=activation)
    trace = wcc_layer(pixels, bundle)
    assert_within_widths(trace, cfg, bundle)
    # Selection: exactly k positions, the brute-force top-k with the tie-break.
    assert trace.mask.sum() == cfg.keep
    order = sorted(range(cfg.positions), key=lambda i: (-int(trace.energy.ravel()[i]), i))
    assert list(trace.indices) == sorted(order[: cfg.keep])
    # The stream is exactly the formula's size and reads back.
    assert trace.stream.size * 8 - cfg.compressed_bits in range(8)
    mask, codes = unpack(trace.stream, cfg.padded_height, cfg.padded_width, channels_in, bit_a, cfg.keep)
    assert np.array_equal(mask, trace.mask) and np.array_equal(codes, trace.codes)
    # The transform pair is exact.
    assert np.array_equal(haar_inverse(align_levels(trace.coefficients, levels), levels, height, width),
                          pixels * 4**levels)


def test_rate_one_reconstructs_perfectly(rng):
    """With every position kept, select + pack + unpack + scatter + inverse loses nothing."""
    x = rng.integers(-128, 128, size=(4, 30, 22))
    coefficients = haar_forward(x, 3)
    mask, indices = topk_select(np.ones(coefficients.shape[1:], dtype=np.int64), coefficients[0].size)
    aligned = align_levels(coefficients, 3).reshape(4, -1)[:, indices]
    read_mask, read = unpack(pack(mask, aligned, 16), 32, 24, 4, 16, indices.size)
    frame = np.zeros_like(coefficients).reshape(4, -1)
    frame[:, np.flatnonzero(read_mask)] = read
    assert np.array_equal(haar_inverse(frame.reshape(coefficients.shape), 3, 30, 22), x * 64)
