"""The HuffmanEncoder against the integer model (``golden.huffman.encode`` packed into bytes, itself checked against
a brute-force prefix decoder in test_huffman.py): random symbols with escapes, every raw value, codewords longer
than a byte on average, and real TCI coefficient codes of the shipped model, with idle and backpressure."""

import dataclasses

import numpy as np
import pytest
from helpers import assert_exact, laplace_table, real_tci_frame, verilog_that_lints

from wccgen.golden.huffman import ESCAPE, build_table, decode_frame, symbol_lengths
from wccgen.golden.huffman_encoder import encode_frame
from wccgen.hw.huffman_encoder import HuffmanEncoder, HuffmanEncoderSpec
from wccgen.sim.harness import run_block
from wccgen.sim.streams import HuffmanByteStream

SHAPE = (3, 4, 5)  # channels, height, width of a frame of symbols


def run_encoder(tmp_path, table, frames, **options):
    """The encoder of ``frames[0]``'s shape, given ``frames``, against ``encode_frame`` of each."""
    shape = frames[0].shape
    expected = [encode_frame(frame, table)[0].reshape(-1, 1) for frame in frames]
    params = dict(table=dataclasses.asdict(table), channels=shape[0], height=shape[1], width=shape[2])
    return run_block("HuffmanEncoder", params, frames, expected, tmp_path, **options)


def laplace_frames(seed, count, shape=SHAPE, spread=3):
    rng = np.random.default_rng(seed)
    return [np.clip(np.round(rng.laplace(0, spread, shape)), -128, 127).astype(int) for _ in range(count)]


def written_as_text(symbols, table):
    """The frame's bytes written from the codewords as strings of 0 and 1: position after position, the channels
    of each, zero-padded, each byte's first bit its least significant."""
    codewords, text = table.codewords, ""
    channels = symbols.shape[0]
    for pixel in symbols.reshape(channels, -1).T:
        for value in pixel.tolist():
            if value in codewords:
                code, length = codewords[value]
                text += format(code, f"0{length}b")
            else:
                code, length = codewords[ESCAPE]
                text += format(code, f"0{length}b") + format(value & ((1 << table.raw_bits) - 1),
                                                              f"0{table.raw_bits}b")
    bits = len(text)
    text += "0" * (-bits % 8)
    return bytes(int(text[i:i + 8][::-1], 2) for i in range(0, len(text), 8)), bits


@pytest.mark.parametrize("seed", range(4))
def test_the_golden_frame_against_a_writer_of_strings(seed):
    table = laplace_table(seed=seed)
    rng = np.random.default_rng(seed)
    frame = np.clip(np.round(rng.laplace(0, 2 + 6 * seed, (2, 3, 4))), -128, 127).astype(int)
    stream, bits = encode_frame(frame, table)
    assert (bytes(stream.tolist()), bits) == written_as_text(frame, table)
    with pytest.raises(ValueError, match="symbols: must have shape"):
        encode_frame(frame[0], table)


@pytest.mark.parametrize("traffic", [dict(), dict(idle=0.3, backpressure=0.3, seed=5)],
                         ids=["streaming", "idle+backpressure"])
def test_random_symbols_with_escapes(tmp_path, traffic):
    table = laplace_table()
    frames = laplace_frames(1, 3)
    frames[0][0, 0, 0], frames[1][2, 3, 4] = 100, -128  # escapes, the most negative raw symbol included
    frames.append(np.full(SHAPE, 0))  # the shortest codeword throughout: a frame of few bytes
    report = run_encoder(tmp_path, table, frames, **traffic)
    assert_exact(report)
    assert report["status"] == {"miscounted_frames": 0}
    if not traffic:  # one symbol per cycle, and a few cycles between frames to empty the buffer
        assert report["cycles_per_frame"] <= np.prod(SHAPE) + 8


def test_every_raw_value_and_long_symbols(tmp_path):
    """All 256 symbols of 8 raw bits, most of them escaped (18 bits, more than a byte a cycle): the symbols
    wait for the bytes, none is lost."""
    table = laplace_table()
    values = np.arange(-128, 128).reshape(1, 16, 16)
    frames = [values, -values.clip(-127, 127), np.full((1, 16, 16), 127), np.full((1, 16, 16), -128)]
    report = run_encoder(tmp_path, table, frames, idle=0.1, backpressure=0.5, seed=2)
    assert_exact(report)


@pytest.mark.parametrize("traffic", [dict(), dict(idle=0.2, backpressure=0.4, seed=8)],
                         ids=["streaming", "idle+backpressure"])
def test_symbols_of_up_to_26_bits(tmp_path, traffic):
    """A code of lengths 1 to 18 and an escape of 18 + 8 bits: a symbol can carry three whole bytes and more, and
    short and long ones alternate at every fill level."""
    table = build_table({value: 2 ** (17 - value) for value in range(18)}, max_length=24)
    assert table.escape_length + table.raw_bits == 26
    rng = np.random.default_rng(11)
    frames = [rng.choice(np.array([0, 1, 5, 12, 17, 40, -128]), SHAPE) for _ in range(2)]
    frames.append(rng.integers(0, 18, SHAPE))
    report = run_encoder(tmp_path, table, frames, **traffic)
    assert_exact(report)


def test_a_frame_of_another_length_is_encoded_whole_and_counted(tmp_path):
    """``last`` ends a frame: a short one and a long one are encoded as they come, and each is counted."""
    table = laplace_table()
    good, short, long = laplace_frames(5, 1)[0], laplace_frames(6, 1, shape=(3, 4, 4))[0], \
        laplace_frames(7, 1, shape=(3, 4, 6))[0]
    report = run_encoder(tmp_path, table, [good, short, good, long, good], idle=0.2, backpressure=0.2, seed=3)
    assert_exact(report)
    assert report["status"] == {"miscounted_frames": 2}


def test_real_coefficient_codes_of_the_shipped_tci_model(tmp_path):
    """The shipped TCI 25 % model's first expansion: table built on one photograph, frame from another; the
    expected bytes are the layer model's own stream."""
    bundle, trace = real_tci_frame()
    assert np.array_equal(trace.stream, encode_frame(trace.codes, bundle.huffman)[0])
    report = run_encoder(tmp_path, bundle.huffman, [trace.codes], idle=0.1, backpressure=0.1)
    assert_exact(report)


def test_a_wrong_bit_is_named_by_its_symbol():
    """The mismatch report reads the expected stream with the table: a bit of symbol 7 is named by its position
    and channel."""
    table = laplace_table()
    frame = laplace_frames(4, 1)[0]
    stream = encode_frame(frame, table)[0]
    spec = HuffmanEncoderSpec(table=table, channels=SHAPE[0], height=SHAPE[1], width=SHAPE[2])
    symbols = frame.reshape(SHAPE[0], -1).T.ravel()
    start = int(symbol_lengths(symbols[:7], table).sum())
    wrong = np.unpackbits(stream, bitorder="little")
    wrong[start] ^= 1
    got = np.packbits(wrong, bitorder="little")
    report = HuffmanByteStream().mismatch("HuffmanEncoder", 2, stream.reshape(-1, 1), got.reshape(-1, 1), spec)
    assert (report["frame"], report["symbol"], report["position"], report["channel"]) == (2, 7, 2, 1)
    assert report["value"] == symbols[7] and report["bit"] == start
    assert "symbol #7, position 2 (row 0, col 2), channel 1" in report["message"]
    assert HuffmanByteStream().mismatch("HuffmanEncoder", 0, stream, stream, spec) is None
    assert "bytes" in HuffmanByteStream().mismatch("HuffmanEncoder", 0, stream, stream[:-1], spec)["message"]
    assert np.array_equal(decode_frame(stream, frame.size, table), symbols)


def test_lints_on_both_targets(tmp_path):
    for target in ("generic", "ecp5"):
        verilog_that_lints(tmp_path, lambda: HuffmanEncoder(table=laplace_table(), channels=2, height=2, width=2),
                           f"huffman_encoder_{target}", target)
