"""Decompressor (unpacker, scatter) in simulation: compressed streams of the golden encoder back into frames, corrupt
frames refused without a trace, bit-exact against ``golden.unpack`` and ``golden.scatter``."""

import numpy as np
import pytest

from wccgen.golden import StreamError, compressor, scatter, unpack
from wccgen.hw.decompressor import Decompressor, DecompressorSpec
from wccgen.sim.harness import run_block
from wccgen.sim.streams import bytes_to_words, words_to_bytes

from helpers import BIT_A, CODEC_CASES, assert_exact, factors, random_coefficients, verilog_that_lints


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


@pytest.mark.parametrize("height,width,channels,lanes,levels,rate", CODEC_CASES)
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


@pytest.mark.parametrize("target", ["generic", "ecp5"])
def test_decompressor_verilog_is_deterministic_and_lints(tmp_path, target):
    verilog_that_lints(tmp_path, lambda: Decompressor(height=20, width=18, channels=4, lanes=2, levels=3, rate=0.25),
                       "decompressor", target)


@pytest.mark.parametrize("bad,match", [
    (dict(lanes=3), "^lanes"), (dict(width=0), "^width"), (dict(rate=2), "^rate"), (dict(bit_a=1), "^bit_a"),
    (dict(banks=3), "^banks"), (dict(banks=True), "^banks"), (dict(banks=2.0), "^banks"),
])
def test_decompressor_invalid_parameters(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Decompressor(**{**dict(height=8, width=8, channels=4, lanes=2, levels=2, rate=0.5), **bad})
