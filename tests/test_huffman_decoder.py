"""The HuffmanDecoder against the integer model (``golden.huffman.decode_frame_flagged``, itself checked against a
brute-force prefix decoder in test_huffman.py): random symbols with escapes, real TCI coefficient codes of the
shipped model on a held-out photograph, and every way a frame can be wrong, with idle and backpressure."""

import dataclasses

import numpy as np
import pytest
import torch
from helpers import assert_exact, verilog_that_lints

from wccgen.golden.checkpoints import default_checkpoint_dir, load_checkpoint
from wccgen.golden.codec_conv import ChannelCodecConv2d
from wccgen.golden.codec_export import export_codec_layer
from wccgen.golden.codec_layer import codec_layer
from wccgen.golden.evaluation import noisy_photograph
from wccgen.golden.huffman import ERRORS, HuffmanTable, build_table, decode_frame_flagged, encode
from wccgen.hw.huffman_decoder import HuffmanDecoder, HuffmanDecoderSpec
from wccgen.sim.harness import run_block

SHAPE = (3, 4, 5)  # channels, height, width of a frame of symbols


def laplace_table(seed=0, spread=2.0, max_length=10):
    rng = np.random.default_rng(seed)
    calibration = np.clip(np.round(rng.laplace(0, spread, 2000)), -20, 20).astype(int)
    return build_table({int(v): int((calibration == v).sum()) for v in np.unique(calibration)},
                       max_length=max_length, raw_bits=8)


def frame_bits(symbols, table):
    """The codeword bits of a ``(C, H, W)`` frame of symbols: position after position, the channels of each."""
    return encode(symbols.reshape(symbols.shape[0], -1).T, table)


def frame_stream(symbols, table):
    """The bytes of a frame of symbols, padded with zeros to a whole byte."""
    return np.packbits(frame_bits(symbols, table), bitorder="little")


def expected_frame(stream, table, shape):
    """What the decoder emits for one frame, and what is wrong with it (None for nothing)."""
    channels, height, width = shape
    symbols, kind = decode_frame_flagged(stream, channels * height * width, table)
    return symbols.reshape(height * width, channels).T.reshape(shape), kind


def run_decoder(tmp_path, table, streams, shape=SHAPE, **options):
    expected = [expected_frame(stream, table, shape)[0] for stream in streams]
    params = dict(table=dataclasses.asdict(table), channels=shape[0], height=shape[1], width=shape[2])
    return run_block("HuffmanDecoder", params, [np.asarray(s, dtype=np.uint8).reshape(-1, 1) for s in streams],
                     expected, tmp_path, **options)


@pytest.mark.parametrize("traffic", [dict(), dict(idle=0.3, backpressure=0.3, seed=5)],
                         ids=["streaming", "idle+backpressure"])
def test_random_symbols_with_escapes(tmp_path, traffic):
    table = laplace_table()
    rng = np.random.default_rng(1)
    frames = [np.clip(np.round(rng.laplace(0, 3, SHAPE)), -128, 127).astype(int) for _ in range(3)]
    frames[0][0, 0, 0], frames[1][2, 3, 4] = 100, -128  # escapes, the most negative raw symbol included
    frames.append(np.full(SHAPE, 0))  # the shortest codeword throughout
    streams = [frame_stream(frame, table) for frame in frames]
    assert all(expected_frame(s, table, SHAPE)[1] is None for s in streams)
    report = run_decoder(tmp_path, table, streams, **traffic)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 0, "last_error": 0}
    if not traffic:  # one symbol per cycle, and a few cycles between frames to check one and refill
        assert report["cycles_per_frame"] <= np.prod(SHAPE) + 8


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
    streams = [frame_stream(frame, table) for frame in frames]
    if kind == "padding":
        while frame_bits(frames[1], table).size % 8 == 0:  # no padding bit to set
            frames[1] = np.clip(np.round(rng.laplace(0, 3, SHAPE)), -128, 127).astype(int)
            streams[1] = frame_stream(frames[1], table)
    streams[1] = corrupt(kind, streams[1], table)
    verdict = expected_frame(streams[1], table, SHAPE)[1]
    assert verdict is not None and (verdict == kind or kind == "garbage")
    report = run_decoder(tmp_path, table, streams, idle=0.2, backpressure=0.2, seed=7)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 1, "last_error": ERRORS[verdict]}


def test_bits_that_begin_no_codeword_are_flagged(tmp_path):
    """An incomplete code (codewords 0, 100 and the escape 101): 11 begins none, after one symbol read."""
    table = HuffmanTable(symbols=(0, 1), lengths=(1, 3), escape_length=3, raw_bits=8, max_length=6)
    good = frame_stream(np.array([[[0, 1], [1, 0]]]), table)
    bad = np.packbits(np.array([0, 1, 1, 0, 0, 0, 0, 0], dtype=np.uint8), bitorder="little")
    assert expected_frame(bad, table, (1, 2, 2))[1] == "no_codeword"
    report = run_decoder(tmp_path, table, [good, bad, good], shape=(1, 2, 2))
    assert_exact(report)
    assert report["status"] == {"refused_frames": 1, "last_error": ERRORS["no_codeword"]}


def test_real_coefficient_codes_of_the_shipped_tci_model(tmp_path):
    """The shipped TCI 25 % model's first expansion: table built on one photograph, frame from another."""
    model, _, _ = load_checkpoint(default_checkpoint_dir() / "tci25.pt")
    name, layer = next((n, m) for n, m in model.named_modules() if isinstance(m, ChannelCodecConv2d))
    seen = {}
    hook = layer.register_forward_pre_hook(lambda module, args: seen.__setitem__("x", args[0]))
    with torch.no_grad():
        model(noisy_photograph(1, "chelsea", 32)[0])
        calibration = seen["x"]
        model(noisy_photograph(0, "astronaut", 16)[0])
    hook.remove()
    bundle = export_codec_layer(layer, output_scale=0.05, calibration=calibration, name=name)
    codes = layer.input_quant.codes(layer.input_quant(seen["x"])).to(torch.int64).numpy()[0]
    trace = codec_layer(codes, bundle)
    assert np.unique(trace.codes).size > 5
    report = run_decoder(tmp_path, bundle.huffman, [trace.stream], shape=trace.codes.shape, idle=0.1,
                         backpressure=0.1)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 0


def test_lints_on_both_targets(tmp_path):
    for target in ("generic", "ecp5"):
        verilog_that_lints(tmp_path, lambda: HuffmanDecoder(table=laplace_table(), channels=2, height=2, width=2),
                           f"huffman_decoder_{target}", target)


@pytest.mark.parametrize("bad,error,message", [
    (dict(table=dict(symbols=(0, 1, 2), lengths=(1, 1, 2), escape_length=2, raw_bits=8, max_length=12)),
     ValueError, "lengths: not a prefix-free code"),
    (dict(table=dict(symbols=(0, 1), lengths=(1, 20), escape_length=20, raw_bits=8, max_length=12)),
     ValueError, "max_length = 12"),
    (dict(table=[1, 2]), TypeError, "table: must be a HuffmanTable"),
    (dict(channels=0), ValueError, "channels"),
    (dict(height=-1), ValueError, "height"),
])
def test_invalid_parameters_are_named(bad, error, message):
    params = dict(table=laplace_table(), channels=2, height=2, width=2) | bad
    with pytest.raises(error, match=message):
        HuffmanDecoderSpec(**params)
