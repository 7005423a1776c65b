"""The HuffmanDecoder against the integer model (``golden.huffman.decode_frame_flagged``, itself checked against a
brute-force prefix decoder in test_huffman.py): random symbols with escapes, real TCI coefficient codes of the
shipped model on a held-out photograph, and every way a frame can be wrong, with idle and backpressure."""

import dataclasses

import numpy as np
import pytest
from helpers import assert_exact, laplace_table, real_tci_frame, verilog_that_lints

from wccgen.golden.huffman import ERRORS, HuffmanTable, symbol_lengths
from wccgen.golden.huffman_decoder import decode_frame_symbols
from wccgen.golden.huffman_encoder import encode_frame
from wccgen.hw.huffman_decoder import HuffmanDecoder, HuffmanDecoderSpec
from wccgen.sim.harness import run_block

SHAPE = (3, 4, 5)  # channels, height, width of a frame of symbols


def run_decoder(tmp_path, table, streams, shape=SHAPE, **options):
    expected = [decode_frame_symbols(stream, table, shape)[0] for stream in streams]
    params = dict(table=dataclasses.asdict(table), channels=shape[0], height=shape[1], width=shape[2])
    return run_block("HuffmanDecoder", params, [np.asarray(s, dtype=np.uint8).reshape(-1, 1) for s in streams],
                     expected, tmp_path, **options)


def test_the_golden_frame_reads_back_the_frame_encoded_and_zeros_after_a_cut():
    """The frame-level model against the frame itself: a good frame comes back whole, in (C, H, W) order; a cut
    one keeps the symbols before the cut, in their places, and zeros after."""
    table = laplace_table()
    frame = np.clip(np.round(np.random.default_rng(6).laplace(0, 4, SHAPE)), -128, 127).astype(int)
    stream = encode_frame(frame, table)[0]
    symbols, kind = decode_frame_symbols(stream, table, SHAPE)
    assert kind is None and np.array_equal(symbols, frame)
    in_order = frame.reshape(SHAPE[0], -1).T.ravel()
    half = stream[:len(stream) // 2]
    # The symbols whose bits lie wholly inside the half: those before the first one that ends beyond it.
    ends = np.cumsum(symbol_lengths(in_order, table))
    whole = int(np.searchsorted(ends, 8 * len(half), side="right"))
    symbols, kind = decode_frame_symbols(half, table, SHAPE)
    got = symbols.reshape(SHAPE[0], -1).T.ravel()
    assert kind == "cut" and 0 < whole < in_order.size
    assert np.array_equal(got[:whole], in_order[:whole]) and not got[whole:].any()


@pytest.mark.parametrize("traffic", [dict(), dict(idle=0.3, backpressure=0.3, seed=5)],
                         ids=["streaming", "idle+backpressure"])
def test_random_symbols_with_escapes(tmp_path, traffic):
    table = laplace_table()
    rng = np.random.default_rng(1)
    frames = [np.clip(np.round(rng.laplace(0, 3, SHAPE)), -128, 127).astype(int) for _ in range(3)]
    frames[0][0, 0, 0], frames[1][2, 3, 4] = 100, -128  # escapes, the most negative raw symbol included
    frames.append(np.full(SHAPE, 0))  # the shortest codeword throughout
    streams = [encode_frame(frame, table)[0] for frame in frames]
    assert all(decode_frame_symbols(s, table, SHAPE)[1] is None for s in streams)
    report = run_decoder(tmp_path, table, streams, **traffic)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 0, "last_error": 0}
    if not traffic:  # one symbol per cycle, and a dozen cycles between frames: the check, the ring emptied, refilled
        spec = HuffmanDecoderSpec(table=table, channels=SHAPE[0], height=SHAPE[1], width=SHAPE[2])
        assert report["cycles_per_frame"] <= np.prod(SHAPE) + spec.settle_cycles + 8


def corrupt(kind, stream, table):
    """A good frame's stream made wrong in the way ``kind`` names."""
    if kind == "cut":
        return stream[:-1]
    if kind == "over_long":
        return np.append(stream, np.uint8(0))
    if kind == "padding":  # the last byte's top bit, padding when the codewords end before it
        bits = np.unpackbits(stream, bitorder="little")
        bits[-1] = 1
        return np.packbits(bits, bitorder="little")
    if kind == "garbage":
        return np.random.default_rng(3).integers(0, 256, stream.size, dtype=np.uint8)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["cut", "over_long", "padding", "garbage"])
def test_a_wrong_frame_is_flagged_and_the_next_ones_decode(tmp_path, kind):
    table = laplace_table()
    rng = np.random.default_rng(2)
    frames = [np.clip(np.round(rng.laplace(0, 3, SHAPE)), -128, 127).astype(int) for _ in range(3)]
    streams = [encode_frame(frame, table)[0] for frame in frames]
    if kind == "padding":
        while encode_frame(frames[1], table)[1] % 8 == 0:  # no padding bit to set
            frames[1] = np.clip(np.round(rng.laplace(0, 3, SHAPE)), -128, 127).astype(int)
            streams[1] = encode_frame(frames[1], table)[0]
    streams[1] = corrupt(kind, streams[1], table)
    verdict = decode_frame_symbols(streams[1], table, SHAPE)[1]
    assert verdict is not None and (verdict == kind or kind == "garbage")
    report = run_decoder(tmp_path, table, streams, idle=0.2, backpressure=0.2, seed=7)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 1, "last_error": ERRORS[verdict]}


def test_bits_that_begin_no_codeword_are_flagged(tmp_path):
    """An incomplete code (codewords 0, 100 and the escape 101): 11 begins none, after one symbol read."""
    table = HuffmanTable(symbols=(0, 1), lengths=(1, 3), escape_length=3, raw_bits=8, max_length=6)
    good = encode_frame(np.array([[[0, 1], [1, 0]]]), table)[0]
    bad = np.packbits(np.array([0, 1, 1, 0, 0, 0, 0, 0], dtype=np.uint8), bitorder="little")
    assert decode_frame_symbols(bad, table, (1, 2, 2))[1] == "no_codeword"
    report = run_decoder(tmp_path, table, [good, bad, good], shape=(1, 2, 2))
    assert_exact(report)
    assert report["status"] == {"refused_frames": 1, "last_error": ERRORS["no_codeword"]}


def test_real_coefficient_codes_of_the_shipped_tci_model(tmp_path):
    """The shipped TCI 25 % model's first expansion: table built on one photograph, frame from another."""
    bundle, trace = real_tci_frame()
    report = run_decoder(tmp_path, bundle.huffman, [trace.stream], shape=trace.codes.shape, idle=0.1,
                         backpressure=0.1)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 0


def test_lints_on_both_targets(tmp_path):
    for target in ("generic", "ecp5"):
        verilog_that_lints(tmp_path, lambda: HuffmanDecoder(table=laplace_table(), channels=2, height=2, width=2),
                           f"huffman_decoder_{target}", target)


def test_escapes_back_to_back_after_the_ring_filled(tmp_path):
    """Every symbol escaped, the longest a symbol takes, while the sink stalls often: the ring fills behind the
    stalled decisions, then the read position runs through it as fast as it can, up to the bytes it has just
    freed. A decision must never read a byte that is still the previous lap's."""
    table = laplace_table()
    rng = np.random.default_rng(8)
    frames = [rng.choice([-128, -100, 50, 127], SHAPE) for _ in range(3)]
    frames[1][::2] = 0  # short codewords between the long ones: the position lands at every bit of a byte
    streams = [encode_frame(frame, table)[0] for frame in frames]
    report = run_decoder(tmp_path, table, streams, backpressure=0.7, idle=0.1, seed=4)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 0, "last_error": 0}
