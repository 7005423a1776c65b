"""Compressor (energy, top-k, quantizer, packer) in simulation, bit-exact against ``golden.compressor``."""

import numpy as np
import pytest

from wccgen.golden import WccConfig, compressor, haar_forward, keep_count, photograph_codes
from wccgen.hw.compressor import Compressor, CompressorSpec
from wccgen.sim.harness import run_block
from wccgen.sim.streams import bytes_to_words, words_to_bytes

from helpers import BIT_A, CODEC_CASES, IN_BITS, assert_exact, factors, padded, random_coefficients, verilog_that_lints


def compressor_params(height, width, channels, lanes, levels, rate, **extra):
    multipliers, shifts = factors(levels)
    return dict(height=height, width=width, channels=channels, lanes=lanes, levels=levels, in_bits=IN_BITS,
                rate=rate, bit_a=BIT_A, multipliers=multipliers, shifts=shifts, **extra)


def expected_words(params, coefficients):
    """The golden compressed stream of each frame, cut into the Compressor's words."""
    unit = CompressorSpec(**params)
    out = []
    for frame in coefficients:
        encoded = compressor(frame, params["levels"], unit.keep, params["multipliers"], params["shifts"],
                             params["bit_a"], params.get("energy", "square"))
        out.append(bytes_to_words(encoded.stream, unit.word_bits, unit.words_per_frame))
    return out


def run_compressor(tmp_path, params, coefficients, **traffic):
    return run_block("Compressor", params, coefficients, expected_words(params, coefficients), tmp_path, **traffic)


@pytest.mark.parametrize("height,width,channels,lanes,levels,rate", CODEC_CASES)
@pytest.mark.parametrize("traffic", [(0.0, 0.0), (0.3, 0.4)], ids=["streaming", "idle+backpressure"])
def test_compressor_random(tmp_path, height, width, channels, lanes, levels, rate, traffic):
    rng = np.random.default_rng(height * width + lanes)
    params = compressor_params(height, width, channels, lanes, levels, rate)
    frames = random_coefficients(rng, channels, height, width, levels)
    report = run_compressor(tmp_path, params, frames, idle=traffic[0], backpressure=traffic[1], seed=lanes)
    assert_exact(report)
    unit = CompressorSpec(**params)
    config = WccConfig(height=height, width=width, channels_in=channels, channels_out=1, levels=levels, rate=rate)
    assert unit.compressed_bits == config.compressed_bits == config.positions + channels * config.keep * BIT_A
    assert unit.energy_bits == config.energy_width
    assert report["beats_received"] == len(frames) * unit.words_per_frame
    if traffic == (0.0, 0.0):
        assert report["cycles_per_frame"] == unit.cycles_per_frame


@pytest.mark.parametrize("rate", [1.0, 0.5, 0.25, 0.125, "one"])
def test_compressor_rates_on_a_photograph(tmp_path, rate):
    """Activations of a real photograph, at the paper's rates, at k = all and at k = 1."""
    levels, height, width, channels = 3, 24, 30, 4
    if rate == "one":
        rate = 1 / (padded(height, levels) * padded(width, levels))
    frames = [haar_forward(photograph_codes(name, height, width, channels, seed=1), levels)
              for name in ("astronaut", "coffee")]
    params = compressor_params(height, width, channels, 2, levels, rate)
    assert CompressorSpec(**params).keep == keep_count(padded(height, levels) * padded(width, levels), rate)
    report = run_compressor(tmp_path, params, frames, idle=0.1, backpressure=0.2)
    assert_exact(report)


def equal_energy_frame(rng, channels, height, width, levels, scale):
    """Coefficients whose energies are all equal: level-l magnitudes 2**l * scale, random signs."""
    from wccgen.golden import level_map
    magnitude = (scale << level_map(height, width, levels)).astype(np.int64)
    return magnitude * rng.choice([-1, 1], size=(channels, height, width))


@pytest.mark.parametrize("case", ["all-equal", "all-zero", "one-dominant"])
def test_compressor_ties(tmp_path, case):
    """Pure tie-break: equal energies everywhere keep the lowest indices; one dominant position."""
    rng = np.random.default_rng(3)
    levels, size, channels = 2, 12, 2
    if case == "all-equal":
        frames = [equal_energy_frame(rng, channels, size, size, levels, s) for s in (1, 5)]
    elif case == "all-zero":
        frames = [np.zeros((channels, size, size), dtype=np.int64)] * 2
    else:
        frames = [np.zeros((channels, size, size), dtype=np.int64) for _ in range(2)]
        frames[0][1, 7, 3] = -300
        frames[1][0, 11, 11] = 9
    params = compressor_params(size, size, channels, 1, levels, 0.25)
    encoded = compressor(frames[0], levels, 36, params["multipliers"], params["shifts"], BIT_A)
    if case != "one-dominant":
        assert list(encoded.indices) == list(range(36))  # the oracle's answer to a pure tie
    report = run_compressor(tmp_path, params, frames, backpressure=0.3)
    assert_exact(report)


@pytest.mark.parametrize("energy,digit_bits", [("abs", None), ("square", 2), ("square", 7)])
def test_compressor_energy_modes_and_radix(tmp_path, energy, digit_bits):
    """Magnitude energy, and radix digits from 2 bits (many passes) to 7."""
    rng = np.random.default_rng(4)
    params = compressor_params(10, 12, 4, 2, 2, 0.3, energy=energy, digit_bits=digit_bits)
    frames = random_coefficients(rng, 4, 10, 12, 2)
    report = run_compressor(tmp_path, params, frames, idle=0.2)
    assert_exact(report)
    unit = CompressorSpec(**params)
    assert report["cycles_per_frame"] >= unit.cycles_per_frame  # idle input only slows the arrival


def test_compressor_extreme_coefficients(tmp_path):
    """Largest coefficients of every level, both signs: codes clamp at +-Q, energies at their widest."""
    levels, size, channels = 3, 16, 2
    frames = [haar_forward(np.full((channels, size, size), v), levels) for v in (-128, 127)]
    checker = np.where(np.indices((size, size)).sum(axis=0) % 2 == 0, 127, -128)
    frames.append(haar_forward(np.broadcast_to(checker, (channels, size, size)), levels))
    params = compressor_params(size, size, channels, 2, levels, 0.5)
    report = run_compressor(tmp_path, params, frames, backpressure=0.2)
    assert_exact(report)


def test_compressor_ecp5_primitives(tmp_path):
    rng = np.random.default_rng(8)
    params = compressor_params(16, 16, 4, 2, 2, 0.25)
    report = run_compressor(tmp_path, params, random_coefficients(rng, 4, 16, 16, 2), idle=0.1, backpressure=0.2,
                            target="ecp5")
    assert "MULT18X18D" in (tmp_path / "compressor.v").read_text()
    assert_exact(report)


def test_compressor_reset_mid_frame(tmp_path):
    rng = np.random.default_rng(5)
    params = compressor_params(8, 12, 2, 1, 2, 0.5)
    frames = random_coefficients(rng, 2, 8, 12, 2, count=2)
    report = run_compressor(tmp_path, params, frames, reset_after_beats=100,
                            partial_frame=random_coefficients(rng, 2, 8, 12, 2, count=1)[0])
    assert_exact(report)


def test_compressor_mismatch_names_the_bitmap_position_or_code(tmp_path):
    """A wrong expectation fails, naming the frame and what the first wrong bit encodes."""
    rng = np.random.default_rng(9)
    params = compressor_params(8, 8, 2, 1, 1, 0.5)  # 64 positions, 8-bit words
    frames = random_coefficients(rng, 2, 8, 8, 1, count=2)
    expected = expected_words(params, frames)
    expected[1] = flip_bit(expected[1], 37, 8)
    report = run_block("Compressor", params, frames, expected, tmp_path)
    mismatch = report["mismatch"]
    assert not report["passed"]
    assert (mismatch["frame"], mismatch["field"], mismatch["position"]) == (1, "bitmap", 37)
    # Kept position 3 starts at bit 64 + 3 * 2 * 8; its channel 1 eight bits later.
    expected = expected_words(params, frames)
    expected[0] = flip_bit(expected[0], 64 + 3 * 16 + 8 + 2, 8)
    mismatch = run_block("Compressor", params, frames, expected, tmp_path / "code")["mismatch"]
    assert (mismatch["frame"], mismatch["field"], mismatch["kept"], mismatch["channel"]) == (0, "code", 3, 1)
    assert "kept position #3, channel 1" in mismatch["message"]


def flip_bit(words_array, index, word_bits):
    """Stream words with bit ``index`` of the bit sequence inverted."""
    stream = np.unpackbits(words_to_bytes(words_array, word_bits), bitorder="little")
    stream[index] ^= 1
    return bytes_to_words(np.packbits(stream, bitorder="little"), word_bits, len(words_array))


@pytest.mark.parametrize("target", ["generic", "ecp5"])
def test_compressor_verilog_is_deterministic_and_lints(tmp_path, target):
    verilog_that_lints(
        tmp_path, lambda: Compressor(**compressor_params(20, 18, 4, 2, 3, 0.25)), "compressor", target)


@pytest.mark.parametrize("bad,match", [
    (dict(lanes=3), r"^lanes: must divide channels \(4\), got 3"), (dict(height=0), "^height"),
    (dict(rate=0.0), "^rate"), (dict(rate=1.5), "^rate"), (dict(rate=0.001), "^rate: .* keeps no position"),
    (dict(bit_a=1), "^bit_a"), (dict(bit_a=17), "^bit_a"), (dict(levels=7), "^levels"),
    (dict(multipliers=[1 << 15, 1]), "^multipliers"), (dict(multipliers=[1]), "^multipliers"),
    (dict(shifts=[0, 3]), "^shifts"), (dict(shifts=[3, 63]), "^shifts"),
    (dict(energy="max"), "^energy"), (dict(digit_bits=1), "^digit_bits"), (dict(digit_bits=13), "^digit_bits"),
])
def test_compressor_invalid_parameters(bad, match):
    base = compressor_params(8, 8, 4, 2, 2, 0.5)
    with pytest.raises((ValueError, TypeError), match=match):
        Compressor(**{**base, **bad})
