"""The FixedWidthDecoder against the integer model (``golden.fixed_width_coder.fixed_width_decode_flagged``,
itself checked against the decoder that raises and a code-by-code reading in test_fixed_width_coder.py): random
codes of several widths, every extreme, frames of whole bytes or padded, real CAP codes of the shipped model, and
every way a frame can be wrong, with idle and backpressure."""

import helpers
import numpy as np
import pytest
from helpers import assert_exact, real_codec_frame, verilog_that_lints

from wccgen.golden.fixed_width_coder import ERRORS, fixed_width_decode_flagged, fixed_width_encode
from wccgen.hw.fixed_width_decoder import FixedWidthDecoder
from wccgen.sim.harness import run_block

SHAPE = (3, 4, 5)  # components, height, width: 60 codes


def run_decoder(tmp_path, streams, bits, shape=SHAPE, **options):
    expected = [fixed_width_decode_flagged(stream, *shape, bits)[0] for stream in streams]
    params = dict(components=shape[0], height=shape[1], width=shape[2], bits=bits)
    return run_block("FixedWidthDecoder", params, [np.asarray(s, dtype=np.uint8).reshape(-1, 1) for s in streams],
                     expected, tmp_path, **options)


def random_codes(seed, count, bits, shape=SHAPE):
    return helpers.random_codes(seed, count, bits, 0.1, shape)


@pytest.mark.parametrize("bits,traffic", [(5, dict()), (8, dict()), (3, dict(idle=0.3, backpressure=0.3, seed=5))],
                         ids=["5 bits streaming", "8 bits streaming", "3 bits idle+backpressure"])
def test_random_codes(tmp_path, bits, traffic):
    frames = random_codes(1, 4, bits)
    report = run_decoder(tmp_path, [fixed_width_encode(frame, bits) for frame in frames], bits, **traffic)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 0, "last_error": 0}
    if not traffic:  # one code per cycle, a few cycles between frames
        assert report["cycles_per_frame"] <= np.prod(SHAPE) + 4


@pytest.mark.parametrize("shape,bits", [((1, 1, 3), 3), ((2, 1, 3), 7), ((1, 2, 2), 8), ((1, 1, 1), 2)],
                         ids=["9 bits", "42 bits", "whole bytes", "one code"])
def test_extremes_of_every_width(tmp_path, shape, bits):
    limit = (1 << (bits - 1)) - 1
    alternating = np.where(np.arange(np.prod(shape)).reshape(shape) % 2, limit, -limit)
    one = np.zeros(shape, dtype=int)
    one[-1, -1, -1] = -limit
    frames = [np.full(shape, limit), np.full(shape, -limit), alternating, np.zeros(shape, dtype=int), one]
    report = run_decoder(tmp_path, [fixed_width_encode(f, bits) for f in frames], bits, shape=shape, idle=0.1,
                         backpressure=0.5, seed=bits)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 0


def wrong(kind, stream, bits):
    """A good frame's stream (60 codes of ``bits``: at 5 bits, 4 padding bits) made wrong as ``kind`` names."""
    stream = stream.copy()
    if kind == "cut_after_a_byte":
        return stream[:1]  # code #0 and 3 bits of code #1
    if kind == "cut":
        return stream[:-3]
    if kind == "over_long":
        return np.append(stream, np.uint8(0))
    if kind == "far_too_long":
        return np.concatenate([stream, stream])
    if kind == "padding":
        stream[-1] |= 0x80
        return stream
    if kind == "negative_limit":  # code #9, bits 45..49
        bitstream = np.unpackbits(stream, bitorder="little")
        bitstream[9 * bits:10 * bits] = [0] * (bits - 1) + [1]
        return np.packbits(bitstream, bitorder="little")
    if kind == "garbage":
        return np.random.default_rng(3).integers(0, 256, stream.size, dtype=np.uint8)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind,verdict", [("cut_after_a_byte", "cut"), ("cut", "cut"),
                                          ("over_long", "over_long"), ("far_too_long", "over_long"),
                                          ("padding", "padding"), ("negative_limit", "corrupt_value"),
                                          ("garbage", None)])
def test_a_wrong_frame_is_flagged_and_the_next_ones_decode(tmp_path, kind, verdict):
    bits = 5
    frames = random_codes(2, 3, bits)
    streams = [fixed_width_encode(frame, bits) for frame in frames]
    streams[1] = wrong(kind, streams[1], bits)
    found = fixed_width_decode_flagged(streams[1], *SHAPE, bits)[1]
    assert found is not None and (found == verdict or verdict is None)
    report = run_decoder(tmp_path, streams, bits, idle=0.2, backpressure=0.2, seed=7)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 1, "last_error": ERRORS[found]}


def test_the_first_of_two_errors_is_named(tmp_path):
    """A corrupt code before a cut, before extra bytes and in a badly padded frame: the corrupt code is named; an
    over-long frame with a padding bit set is over-long."""
    bits = 5
    frames = random_codes(9, 2, bits)
    good = fixed_width_encode(frames[1], bits)
    corrupt = wrong("negative_limit", fixed_width_encode(frames[0], bits), bits)
    padded = wrong("padding", corrupt, bits)
    sent = [corrupt[:-2], np.append(corrupt, 7).astype(np.uint8), padded,
            np.append(wrong("padding", good, bits), 0).astype(np.uint8)]
    kinds = [fixed_width_decode_flagged(s, *SHAPE, bits)[1] for s in sent]
    assert kinds == ["corrupt_value"] * 3 + ["over_long"]
    report = run_decoder(tmp_path, [x for s in sent for x in (s, good)], bits, backpressure=0.2, seed=4)
    assert_exact(report)
    assert report["status"] == {"refused_frames": 4, "last_error": ERRORS["over_long"]}


def test_real_coefficient_codes_of_the_shipped_cap_model(tmp_path):
    """The shipped CAP 25 % model's first expansion on a photograph: the layer model's own stream."""
    bundle, trace = real_codec_frame("cap25")
    report = run_decoder(tmp_path, [trace.stream, trace.stream], bundle.bit_a, shape=trace.codes.shape, idle=0.1,
                         backpressure=0.1)
    assert_exact(report)
    assert report["status"]["refused_frames"] == 0


def test_lints_on_both_targets(tmp_path):
    for target in ("generic", "ecp5"):
        verilog_that_lints(tmp_path, lambda: FixedWidthDecoder(components=2, height=3, width=5, bits=6),
                           f"fixed_width_decoder_{target}", target)
