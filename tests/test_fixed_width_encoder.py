"""The FixedWidthEncoder against the integer model (``golden.fixed_width_coder.fixed_width_encode``, itself
checked against a bit-by-bit writer in test_fixed_width_coder.py): random codes of every width, frames whose last
code shares its byte or needs a byte of its own, every extreme of the code range, frames of the wrong length, and
real CAP coefficient codes of the shipped model, with idle and backpressure."""

import helpers
import numpy as np
import pytest
from helpers import assert_exact, real_codec_frame, verilog_that_lints, wrong_length_frames

from wccgen.golden.fixed_width_coder import fixed_width_encode
from wccgen.hw.fixed_width_encoder import FixedWidthEncoder, FixedWidthEncoderSpec
from wccgen.sim.harness import run_block
from wccgen.sim.streams import FixedWidthByteStream

SHAPE = (3, 4, 5)  # components, height, width: 60 codes


def run_encoder(tmp_path, frames, bits, shape=None, expected=None, **options):
    """The encoder of ``shape`` (default: ``frames[0]``'s), given ``frames``, against ``fixed_width_encode``."""
    shape = shape or frames[0].shape
    if expected is None:
        expected = [fixed_width_encode(frame, bits) for frame in frames]
    params = dict(components=shape[0], height=shape[1], width=shape[2], bits=bits)
    return run_block("FixedWidthEncoder", params, frames, [e.reshape(-1, 1) for e in expected], tmp_path,
                     **options)


def random_codes(seed, count, bits, shape=SHAPE):
    return helpers.random_codes(seed, count, bits, 0.1, shape)


@pytest.mark.parametrize("traffic", [dict(), dict(idle=0.3, backpressure=0.3, seed=5)],
                         ids=["streaming", "idle+backpressure"])
def test_random_codes(tmp_path, traffic):
    frames = random_codes(1, 4, 5)
    report = run_encoder(tmp_path, frames, 5, **traffic)
    assert_exact(report)
    assert report["status"] == {"miscounted_frames": 0}
    if not traffic:  # one code per cycle, and a cycle for a last byte of its own (60 x 5 bits: none)
        assert report["cycles_per_frame"] <= FixedWidthEncoderSpec(*SHAPE, 5).cycles_per_frame + 1


@pytest.mark.parametrize("shape,bits,flushes", [((1, 1, 3), 3, True), ((2, 1, 3), 7, True), ((1, 1, 3), 5, False),
                                                ((1, 1, 2), 3, False), ((1, 2, 2), 8, False), ((1, 1, 1), 2, False)],
                         ids=["9 bits", "42 bits", "15 bits", "6 bits", "whole bytes", "one code"])
def test_extremes_and_frame_ends_of_every_kind(tmp_path, shape, bits, flushes):
    """All codes at +Q, at -Q, alternating, zero, one code at -Q last: the last code alone in its byte, sharing
    it with padding, or completing a byte before a byte of its own."""
    spec = FixedWidthEncoderSpec(*shape, bits)
    assert spec.flushes == flushes
    limit = spec.limit
    alternating = np.where(np.arange(np.prod(shape)).reshape(shape) % 2, limit, -limit)
    one = np.zeros(shape, dtype=int)
    one[-1, -1, -1] = -limit
    frames = [np.full(shape, limit), np.full(shape, -limit), alternating, np.zeros(shape, dtype=int), one]
    report = run_encoder(tmp_path, frames, bits, idle=0.1, backpressure=0.5, seed=bits)
    assert_exact(report)
    report = run_encoder(tmp_path, frames, bits)
    assert_exact(report)


def test_a_frame_of_another_length_is_completed_or_cut_and_counted(tmp_path):
    """A short frame is completed with zero codes, a long one cut after its count: both decode to a frame of
    the encoder's shape, each is counted, and the frames after them are unaffected."""
    frames, made = wrong_length_frames(6, SHAPE)
    expected = [fixed_width_encode(frame, 6) for frame in made]
    report = run_encoder(tmp_path, frames, 6, shape=SHAPE, expected=expected, idle=0.2, backpressure=0.2, seed=3)
    assert_exact(report)
    assert report["status"] == {"miscounted_frames": 2}


def test_real_coefficient_codes_of_the_shipped_cap_model(tmp_path):
    """The shipped CAP 25 % model's first expansion on a photograph: the expected bytes are the layer model's own
    stream."""
    bundle, trace = real_codec_frame("cap25")
    assert bundle.codec == "cap"
    assert np.array_equal(trace.stream, fixed_width_encode(trace.codes, bundle.bit_a))
    report = run_encoder(tmp_path, [trace.codes, trace.codes], bundle.bit_a, idle=0.1, backpressure=0.1)
    assert_exact(report)


def test_a_wrong_bit_is_named_by_its_code():
    frame = random_codes(8, 1, 4)[0]
    spec = FixedWidthEncoderSpec(components=3, height=4, width=5, bits=4)
    stream = fixed_width_encode(frame, 4)
    flipped = stream.copy()
    flipped[3] ^= 0x20  # bit 29: code #7, position 2, component 1
    report = FixedWidthByteStream().mismatch("FixedWidthEncoder", 1, stream, flipped, spec)
    assert (report["field"], report["code"], report["position"], report["component"]) == ("code", 7, 2, 1)
    assert "code #7, position 2 (row 0, col 2), component 1" in report["message"]
    odd = FixedWidthEncoderSpec(components=1, height=1, width=3, bits=3)
    padded = fixed_width_encode(np.array([[[1, 2, 3]]]), 3)
    wrong = padded.copy()
    wrong[1] |= 0x80
    assert FixedWidthByteStream().mismatch("FixedWidthEncoder", 0, padded, wrong, odd)["field"] == "padding"
    assert FixedWidthByteStream().mismatch("FixedWidthEncoder", 0, stream, stream, spec) is None


def test_codes_wider_than_a_byte_are_refused():
    with pytest.raises(ValueError, match="bits: the fixed-width blocks take codes of at most 8 bits, got 9"):
        FixedWidthEncoder(components=1, height=1, width=1, bits=9)
    with pytest.raises(ValueError, match="height"):
        FixedWidthEncoder(components=1, height=0, width=1, bits=4)


def test_lints_on_both_targets(tmp_path):
    for target in ("generic", "ecp5"):
        verilog_that_lints(tmp_path, lambda: FixedWidthEncoder(components=2, height=3, width=5, bits=6),
                           f"fixed_width_encoder_{target}", target)
