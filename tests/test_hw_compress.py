"""Compressor (energy, top-k, quantizer, packer) and Decompressor (unpacker, scatter) in simulation."""

import numpy as np
import pytest

from wccgen.gen.lint import lint_verilog
from wccgen.golden import (StreamError, WccConfig, compressor, haar_forward, keep_count, photograph_codes, scatter,
                           unpack)
from wccgen.hw.compressor import Compressor, CompressorSpec
from wccgen.hw.decompressor import Decompressor, DecompressorSpec
from wccgen.hw.quantizer import Quantizer
from wccgen.hw.topk_selector import TopKSelectorSpec
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.harness import run_block
from wccgen.sim.simulators import simulation_models
from wccgen.sim.streams import bytes_to_words, words_to_bytes

from helpers import assert_exact, padded

IN_BITS, BIT_A = 8, 8


def factors(levels, seed=0):
    """Quantizer factors that put typical coefficients into the middle of the code range."""
    rng = np.random.default_rng(seed)
    multipliers = [int(m) for m in rng.integers(1 << 14, 1 << 15, size=levels)]
    shifts = [15 + IN_BITS - BIT_A + level for level in range(1, levels + 1)]
    return multipliers, shifts


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


def random_coefficients(rng, channels, height, width, levels, count=3):
    return [haar_forward(rng.integers(-128, 128, size=(channels, height, width)), levels) for _ in range(count)]


# -- Compressor -------------------------------------------------------------------

COMPRESSOR_CASES = [
    # height, width, channels, lanes, levels, rate
    (8, 8, 2, 1, 2, 0.5),
    (13, 10, 4, 2, 2, 0.25),
    (9, 14, 3, 3, 3, 0.125),
    (12, 20, 8, 4, 1, 0.5),
]


@pytest.mark.parametrize("height,width,channels,lanes,levels,rate", COMPRESSOR_CASES)
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


# -- Decompressor -----------------------------------------------------------------

def decompressor_case(rng, height, width, channels, lanes, levels, rate, count=3, banks=1):
    """Streams from the golden encoder on random coefficients, and the frames the decoder must give back."""
    params = dict(height=height, width=width, channels=channels, lanes=lanes, levels=levels, rate=rate, bit_a=BIT_A,
                  banks=banks)
    unit = DecompressorSpec(**params)
    multipliers, shifts = factors(levels)
    streams, frames = [], []
    for coefficients in random_coefficients(rng, channels, height, width, levels, count):
        encoded = compressor(coefficients, levels, unit.keep, multipliers, shifts, BIT_A)
        streams.append(encoded.stream)
        frames.append(scatter(encoded.indices, encoded.codes, unit.padded_height, unit.padded_width))
    return params, unit, streams, frames


def words(unit, stream, count=None):
    return bytes_to_words(stream, unit.word_bits, unit.words_per_frame if count is None else count)


@pytest.mark.parametrize("height,width,channels,lanes,levels,rate", COMPRESSOR_CASES)
@pytest.mark.parametrize("traffic", [(0.0, 0.0), (0.3, 0.4)], ids=["streaming", "idle+backpressure"])
def test_decompressor_round_trip(tmp_path, height, width, channels, lanes, levels, rate, traffic):
    """Packer -> unpacker -> scatter: exactly the kept codes at their positions, zeros elsewhere."""
    rng = np.random.default_rng(height + width)
    # Half the cases hold two frames in the unpacker (the next one arriving while this one scatters).
    banks = 1 + (lanes + levels) % 2
    params, unit, streams, frames = decompressor_case(rng, height, width, channels, lanes, levels, rate, banks=banks)
    for stream, frame in zip(streams, frames):  # the oracle agrees: unpack then scatter
        mask, codes = unpack(stream, unit.padded_height, unit.padded_width, channels, BIT_A, unit.keep)
        assert np.array_equal(scatter(np.flatnonzero(mask), codes, unit.padded_height, unit.padded_width), frame)
    report = run_block("Decompressor", params, [words(unit, s) for s in streams], frames, tmp_path,
                       idle=traffic[0], backpressure=traffic[1], seed=lanes)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 0
    if traffic == (0.0, 0.0):
        assert report["cycles_per_frame"] == unit.cycles_per_frame


def corrupt(unit, stream, how):
    """A corrupt version of a stream, as bus words."""
    positions, w = unit.positions, unit.word_bits
    bits = np.unpackbits(stream, bitorder="little")
    if how == "truncated-in-bitmap":
        return words(unit, stream, max(1, positions // w // 2))
    if how == "truncated-in-values":
        return words(unit, stream, unit.words_per_frame - 2)
    if how == "over-long":
        return words(unit, stream, unit.words_per_frame + 3)
    if how == "one-mark-too-many":
        bits[np.flatnonzero(bits[:positions] == 0)[0]] = 1
    elif how == "one-mark-too-few":
        bits[np.flatnonzero(bits[:positions])[0]] = 0
    elif how == "forbidden-code":
        start = positions + BIT_A * (unit.channels * unit.keep // 2)
        bits[start:start + BIT_A] = 0
        bits[start + BIT_A - 1] = 1  # -2**(bit_a - 1)
    elif how == "padding":
        bits[unit.compressed_bits] = 1
    return words(unit, np.packbits(bits, bitorder="little"))


CORRUPTIONS = ["truncated-in-bitmap", "truncated-in-values", "over-long", "one-mark-too-many", "one-mark-too-few",
               "forbidden-code", "padding"]


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_decompressor_refuses_corrupt_frames_and_recovers(tmp_path, how):
    """A corrupt frame gives no output and counts as refused; the frames after it decode exactly."""
    rng = np.random.default_rng(11)
    # 6 x 10 positions on 8-bit words: the bitmap shares a word with the codes, and 4 padding bits end the frame.
    params, unit, streams, frames = decompressor_case(rng, 5, 9, 3, 1, 1, 0.25)
    assert (unit.positions % 8, unit.compressed_bits % 8) == (4, 4)
    bad = corrupt(unit, streams[1], how)
    with pytest.raises(StreamError):  # the integer model refuses the same bytes
        unpack(words_to_bytes(bad, unit.word_bits), unit.padded_height, unit.padded_width, 3, BIT_A, unit.keep)
    inputs = [words(unit, streams[0]), bad, words(unit, streams[2])]
    report = run_block("Decompressor", params, inputs, [frames[0], frames[2]], tmp_path, idle=0.2, backpressure=0.2)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 1


@pytest.mark.parametrize("rate", [1.0, 0.25])
def test_two_bank_decompressor_pace(tmp_path, rate):
    """With two banks the slower of receiving and scattering sets the pace: the words when every position is
    kept (the bitmap's words come on top of the codes), the scatter's beats otherwise."""
    rng = np.random.default_rng(15)
    params, unit, streams, frames = decompressor_case(rng, 8, 8, 2, 1, 1, rate, count=4, banks=2)
    unpacker, scatter = unit.unpacker, unit.scatter
    assert (unpacker.receive_cycles > scatter.done_cycles + 1) == (rate == 1.0)
    report = run_block("Decompressor", params, [words(unit, s) for s in streams], frames, tmp_path)
    assert_exact(report)
    assert report["cycles_per_frame"] == unit.cycles_per_frame


def test_two_bank_decompressor_refuses_frames_while_holding_another(tmp_path):
    """With two banks, corrupt frames arrive while a good one is held and scattered; only the good ones come out."""
    rng = np.random.default_rng(14)
    params, unit, streams, frames = decompressor_case(rng, 5, 9, 3, 1, 1, 0.25, count=4, banks=2)
    inputs = [words(unit, streams[0]), corrupt(unit, streams[1], "truncated-in-values"), words(unit, streams[1]),
              corrupt(unit, streams[2], "over-long"), corrupt(unit, streams[2], "forbidden-code"),
              words(unit, streams[2]), words(unit, streams[3])]
    report = run_block("Decompressor", params, inputs, frames, tmp_path, idle=0.1, backpressure=0.5, seed=3)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 3


def test_decompressor_frame_boundaries(tmp_path):
    """A frame cut short by the next one's ``first``, and one that does not start with ``first``."""
    rng = np.random.default_rng(12)
    params, unit, streams, frames = decompressor_case(rng, 8, 8, 2, 2, 1, 0.5)
    good = [words(unit, s) for s in streams]
    # The harness marks the first beat of each input frame: concatenating two frames hides the second's
    # start inside the first (missing `last`, then `first` mid-frame); a frame split in two leaves its
    # second half without a start.
    half = unit.words_per_frame // 2
    inputs = [good[0], np.concatenate([good[1][:half], good[1][half:]]), good[1][:half], good[1][half:], good[2]]
    expected = [frames[0], frames[1], frames[2]]
    report = run_block("Decompressor", params, inputs, expected, tmp_path)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 2


def test_decompressor_reset_mid_frame(tmp_path):
    rng = np.random.default_rng(13)
    params, unit, streams, frames = decompressor_case(rng, 8, 12, 2, 1, 2, 0.5)
    report = run_block("Decompressor", params, [words(unit, s) for s in streams[:2]], frames[:2], tmp_path,
                       reset_after_beats=unit.words_per_frame // 2, partial_frame=words(unit, streams[2]))
    assert_exact(report)


# -- generated Verilog and parameters -----------------------------------------------

@pytest.mark.parametrize("target", ["generic", "ecp5"])
@pytest.mark.parametrize("unit,name", [
    (lambda: Compressor(**compressor_params(20, 18, 4, 2, 3, 0.25)), "compressor"),
    (lambda: Decompressor(height=20, width=18, channels=4, lanes=2, levels=3, rate=0.25), "decompressor"),
])
def test_verilog_is_deterministic_and_lints(tmp_path, unit, name, target):
    first = emit_verilog(unit(), name, {"case": 1}, target=target)
    assert first == emit_verilog(unit(), name, {"case": 1}, target=target)
    path = tmp_path / f"{name}.v"
    path.write_text(first)
    lint_verilog(path, top=name, models=simulation_models(target))


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


@pytest.mark.parametrize("bad,match", [
    (dict(lanes=3), "^lanes"), (dict(width=0), "^width"), (dict(rate=2), "^rate"), (dict(bit_a=1), "^bit_a"),
    (dict(banks=3), "^banks"), (dict(banks=True), "^banks"), (dict(banks=2.0), "^banks"),
])
def test_decompressor_invalid_parameters(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Decompressor(**{**dict(height=8, width=8, channels=4, lanes=2, levels=2, rate=0.5), **bad})


def test_selector_default_radix_keeps_three_passes():
    """The default digit splits a 31-bit energy into three; the passes are the two histograms and the mask."""
    unit = TopKSelectorSpec(positions=1024, keep=256, energy_bits=31)
    assert (unit.digit_bits, unit.digits, unit.passes) == (11, 3, 3)
    # Wider energies need more digits rather than wider histograms.
    assert TopKSelectorSpec(positions=1024, keep=256, energy_bits=40).digits == 4


@pytest.mark.parametrize("bad,match", [
    (dict(multipliers=[1 << 15]), "^multipliers"), (dict(shifts=[63]), "^shifts"), (dict(bits=1), "^bits"),
    (dict(multipliers=[1, 2]), r"^shifts: must give one value per level \(2\)"),
])
def test_quantizer_invalid_parameters(bad, match):
    with pytest.raises(ValueError, match=match):
        Quantizer(**{**dict(coef_bits=14, lanes=2, bits=8, multipliers=[1], shifts=[3]), **bad})
