"""The ZeroFlagDecoder against the integer model (``golden.zero_flag_coder.zero_flag_decode_flagged``, itself
checked against the decoder that raises and a code-by-code reading in test_zero_flag_coder.py): random codes,
every extreme, frames whose flags fill whole bytes or not, real DCT-CM codes of the shipped model, and every way a
frame can be wrong, with idle and backpressure."""

import helpers
import numpy as np
import pytest
from helpers import assert_exact, real_codec_frame, verilog_that_lints

from wccgen.golden.zero_flag_coder import ERRORS, zero_flag_decode_flagged, zero_flag_encode
from wccgen.hw.zero_flag_decoder import ZeroFlagDecoder
from wccgen.sim.harness import run_block

SHAPE = (3, 4, 5)  # components, height, width: 60 codes, so the last flag byte holds 4 flags and code bits


def run_decoder(tmp_path, streams, bits, shape=SHAPE, **options):
    expected = [zero_flag_decode_flagged(stream, *shape, bits)[0] for stream in streams]
    params = dict(components=shape[0], height=shape[1], width=shape[2], bits=bits)
    return run_block("ZeroFlagDecoder", params, [np.asarray(s, dtype=np.uint8).reshape(-1, 1) for s in streams],
                     expected, tmp_path, **options)


def random_codes(seed, count, bits, zeros, shape=SHAPE):
    """``count`` frames of ``bits``-bit codes, a fraction ``zeros`` of them 0 (of ``SHAPE`` by default)."""
    return helpers.random_codes(seed, count, bits, zeros, shape)


@pytest.mark.parametrize("traffic", [dict(), dict(idle=0.3, backpressure=0.3, seed=5)],
                         ids=["streaming", "idle+backpressure"])
def test_random_codes(tmp_path, traffic):
    frames = random_codes(1, 2, 4, 0.5) + random_codes(2, 2, 4, 0.05) + [np.zeros(SHAPE, dtype=int)]
    streams = [zero_flag_encode(frame, 4) for frame in frames]
    report = run_decoder(tmp_path, streams, 4, **traffic)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 0, "last_error": 0}
    if not traffic:  # one code per cycle: the next frame's flags come in while a frame's codes leave
        assert report["cycles_per_frame"] <= np.prod(SHAPE) + 8


@pytest.mark.parametrize("bits", [2, 3, 8])
def test_extremes_of_every_width(tmp_path, bits):
    limit = (1 << (bits - 1)) - 1
    alternating = np.where(np.arange(np.prod(SHAPE)).reshape(SHAPE) % 2, limit, -limit)
    one = np.zeros(SHAPE, dtype=int)
    one[2, 3, 4] = -limit  # the frame's last code
    frames = [np.full(SHAPE, limit), np.full(SHAPE, -limit), alternating, np.zeros(SHAPE, dtype=int), one]
    report = run_decoder(tmp_path, [zero_flag_encode(f, bits) for f in frames], bits, idle=0.1, backpressure=0.5,
                         seed=bits)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 0


@pytest.mark.parametrize("shape", [(1, 2, 4), (2, 2, 4), (1, 1, 3)], ids=["8 codes", "16 codes", "3 codes"])
def test_frames_whose_flags_fill_whole_bytes_or_less_than_one(tmp_path, shape):
    """With whole flag bytes an all-zero frame ends with its flags; with 3 codes the one flag byte holds code
    bits."""
    frames = random_codes(4, 3, 5, 0.4, shape=shape) + [np.zeros(shape, dtype=int), np.full(shape, 15)]
    frames.insert(1, np.zeros(shape, dtype=int))
    report = run_decoder(tmp_path, [zero_flag_encode(f, 5) for f in frames], 5, shape=shape, backpressure=0.3,
                         seed=1)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 0


def wrong(kind, stream, bits):
    """A good frame's stream (60 codes, the first code non-zero) made wrong in the way ``kind`` names."""
    stream = stream.copy()
    if kind == "cut_in_flags":
        return stream[:3]
    if kind == "cut":
        return stream[:-1]
    if kind == "over_long":
        return np.append(stream, np.uint8(0))
    if kind == "padding":
        stream[-1] |= 0x80
        return stream
    if kind in ("zero_value", "negative_limit"):  # the first code, from bit 60: bits 4..7 of byte 7
        stream[7] = (stream[7] & 0x0F) | (0 if kind == "zero_value" else 1 << (bits - 1)) << 4
        return stream
    if kind == "garbage":
        return np.random.default_rng(3).integers(0, 256, stream.size, dtype=np.uint8)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind,verdict", [("cut_in_flags", "cut"), ("cut", "cut"), ("over_long", "over_long"),
                                          ("padding", "padding"), ("zero_value", "corrupt_value"),
                                          ("negative_limit", "corrupt_value"), ("garbage", None)])
def test_a_wrong_frame_is_flagged_and_the_next_ones_decode(tmp_path, kind, verdict):
    bits = 4
    frames = random_codes(2, 3, bits, 0.3)
    for frame in frames:
        frame[0, 0, 0] = 3
    streams = [zero_flag_encode(frame, bits) for frame in frames]
    assert zero_flag_decode_flagged(streams[1], *SHAPE, bits)[1] is None
    if kind == "padding":
        assert (60 + np.count_nonzero(frames[1]) * bits) % 8 <= 4  # the top bit of the last byte is padding
    streams[1] = wrong(kind, streams[1], bits)
    found = zero_flag_decode_flagged(streams[1], *SHAPE, bits)[1]
    assert found is not None and (found == verdict or verdict is None)
    report = run_decoder(tmp_path, streams, bits, idle=0.2, backpressure=0.2, seed=7)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 1, "last_error": ERRORS[found]}


@pytest.mark.parametrize("shape", [SHAPE, (2, 2, 4)], ids=["flags share a byte with codes", "whole flag bytes"])
def test_the_first_of_two_errors_is_named_and_frames_of_flags_alone_are_judged(tmp_path, shape):
    """A corrupt code before a cut: the corrupt code is named. A frame of zeros (its flags alone) with a byte too
    many is over-long, with a padding bit set (where the last flag byte has room) it is badly padded."""
    bits = 4
    frames = random_codes(9, 2, bits, 0.2, shape=shape)
    frames[0][0, 0, 0] = 5
    streams = [zero_flag_encode(frame, bits) for frame in frames]
    corrupt_then_cut = streams[0].copy()[:-1]
    flags = int(np.prod(shape))
    bit = flags  # the first code's bits follow the flags: make it -8
    value = np.unpackbits(corrupt_then_cut, bitorder="little")
    value[bit:bit + bits] = [0, 0, 0, 1]
    corrupt_then_cut = np.packbits(value, bitorder="little")
    zeros = zero_flag_encode(np.zeros(shape, dtype=int), bits)
    wrong = [corrupt_then_cut, np.append(zeros, 0).astype(np.uint8)]
    if flags % 8:
        padded = zeros.copy()
        padded[-1] |= 0x80
        wrong.append(padded)
    kinds = [zero_flag_decode_flagged(w, *shape, bits)[1] for w in wrong]
    assert kinds[:2] == ["corrupt_value", "over_long"] and kinds[2:] in ([], ["padding"])
    sent = [streams[1]] + [x for w in wrong for x in (w, streams[1])]
    report = run_decoder(tmp_path, sent, bits, shape=shape, backpressure=0.2, seed=4)
    assert_exact(report)
    assert report["status"] == {"refused_frames": len(wrong), "last_error": ERRORS[kinds[-1]]}


def test_real_coefficient_codes_of_the_shipped_dctcm_model(tmp_path):
    """The shipped DCT-CM 25 % model's first expansion on a photograph: the layer model's own stream."""
    bundle, trace = real_codec_frame("dctcm25")
    report = run_decoder(tmp_path, [trace.stream, trace.stream], bundle.bit_a, shape=trace.codes.shape, idle=0.1,
                         backpressure=0.1)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 0


def test_lints_on_both_targets(tmp_path):
    for target in ("generic", "ecp5"):
        verilog_that_lints(tmp_path, lambda: ZeroFlagDecoder(components=2, height=3, width=5, bits=4),
                           f"zero_flag_decoder_{target}", target)
