"""The ZeroFlagEncoder against the integer model (``golden.zero_flag_coder.zero_flag_encode``, itself checked
against a bit-by-bit writer in test_zero_flag_coder.py): random codes with few and many zeros, every extreme of
the code range, frames of the wrong length, and real DCT-CM coefficient codes of the shipped model, with idle and
backpressure."""

import helpers
import numpy as np
import pytest
from helpers import assert_exact, real_codec_frame, stream_order, verilog_that_lints, wrong_length_frames

from wccgen.golden.zero_flag_coder import zero_flag_encode
from wccgen.hw.zero_flag_encoder import ZeroFlagEncoder, ZeroFlagEncoderSpec
from wccgen.sim.harness import run_block
from wccgen.sim.streams import ZeroFlagByteStream

SHAPE = (3, 4, 5)  # components, height, width: 60 codes, so the last flag byte holds 4 flags and code bits


def run_encoder(tmp_path, frames, bits, shape=None, expected=None, **options):
    """The encoder of ``shape`` (default: ``frames[0]``'s), given ``frames``, against ``zero_flag_encode``."""
    shape = shape or frames[0].shape
    if expected is None:
        expected = [zero_flag_encode(frame, bits) for frame in frames]
    params = dict(components=shape[0], height=shape[1], width=shape[2], bits=bits)
    return run_block("ZeroFlagEncoder", params, frames, [e.reshape(-1, 1) for e in expected], tmp_path, **options)


def random_codes(seed, count, bits, zeros, shape=SHAPE):
    """``count`` frames of ``bits``-bit codes, a fraction ``zeros`` of them 0 (of ``SHAPE`` by default)."""
    return helpers.random_codes(seed, count, bits, zeros, shape)


@pytest.mark.parametrize("traffic", [dict(), dict(idle=0.3, backpressure=0.3, seed=5)],
                         ids=["streaming", "idle+backpressure"])
def test_random_codes(tmp_path, traffic):
    frames = random_codes(1, 2, 4, 0.5) + random_codes(2, 2, 4, 0.05) + [np.zeros(SHAPE, dtype=int)]
    report = run_encoder(tmp_path, frames, 4, **traffic)
    assert_exact(report)
    assert report["status"] == {"miscounted_frames": 0}
    if not traffic:  # one code per cycle: a frame's bytes leave while the next comes in
        assert report["cycles_per_frame"] <= np.prod(SHAPE) + 8


@pytest.mark.parametrize("bits", [2, 3, 8])
def test_extremes_of_every_width(tmp_path, bits):
    """All codes at +Q, at -Q, alternating, none non-zero, one non-zero: at 8 bits a frame of non-zero codes
    has more bytes than codes, and the codes wait for the bytes."""
    limit = (1 << (bits - 1)) - 1
    alternating = np.where(np.arange(np.prod(SHAPE)).reshape(SHAPE) % 2, limit, -limit)
    one = np.zeros(SHAPE, dtype=int)
    one[2, 3, 4] = -limit  # the frame's last code
    frames = [np.full(SHAPE, limit), np.full(SHAPE, -limit), alternating, np.zeros(SHAPE, dtype=int), one]
    report = run_encoder(tmp_path, frames, bits, idle=0.1, backpressure=0.5, seed=bits)
    assert_exact(report)


@pytest.mark.parametrize("shape", [(1, 2, 4), (1, 1, 3), (2, 3, 1)], ids=["8 codes", "3 codes", "6 codes"])
def test_frames_of_less_than_a_byte_of_flags_or_exactly_one(tmp_path, shape):
    frames = random_codes(4, 3, 5, 0.4, shape=shape) + [np.zeros(shape, dtype=int), np.full(shape, 15)]
    report = run_encoder(tmp_path, frames, 5, backpressure=0.3, seed=1)
    assert_exact(report)


def test_a_frame_of_another_length_is_completed_or_cut_and_counted(tmp_path):
    """A short frame is completed with zero codes, a long one cut after its count: both decode to a frame of
    the encoder's shape, each is counted, and the frames after them are unaffected."""
    frames, made = wrong_length_frames(4, SHAPE, zeros=0.3)
    expected = [zero_flag_encode(frame, 4) for frame in made]
    report = run_encoder(tmp_path, frames, 4, shape=SHAPE, expected=expected, idle=0.2, backpressure=0.2, seed=3)
    assert_exact(report)
    assert report["status"] == {"miscounted_frames": 2}


def test_real_coefficient_codes_of_the_shipped_dctcm_model(tmp_path):
    """The shipped DCT-CM 25 % model's first expansion on a photograph: the expected bytes are the layer model's
    own stream."""
    bundle, trace = real_codec_frame("dctcm25")
    assert bundle.codec == "dctcm" and 0 < np.count_nonzero(trace.codes) < trace.codes.size
    assert np.array_equal(trace.stream, zero_flag_encode(trace.codes, bundle.bit_a))
    report = run_encoder(tmp_path, [trace.codes, trace.codes], bundle.bit_a, idle=0.1, backpressure=0.1)
    assert_exact(report)


def test_a_wrong_bit_is_named_by_its_code():
    """A flag bit and a code bit are named by the code they belong to (its position and component)."""
    frame = random_codes(8, 1, 4, 0.3)[0]
    spec = ZeroFlagEncoderSpec(components=3, height=4, width=5, bits=4)
    stream = zero_flag_encode(frame, 4)
    order = stream_order(frame)
    nonzero = np.flatnonzero(order)

    def flipped(bit):
        bits = np.unpackbits(stream, bitorder="little")
        bits[bit] ^= 1
        return np.packbits(bits, bitorder="little")

    report = ZeroFlagByteStream().mismatch("ZeroFlagEncoder", 1, stream, flipped(7), spec)
    assert (report["field"], report["code"], report["position"], report["component"]) == ("flag", 7, 2, 1)
    assert "flag of code #7, position 2 (row 0, col 2), component 1" in report["message"]
    report = ZeroFlagByteStream().mismatch("ZeroFlagEncoder", 1, stream, flipped(60 + 4 * 3 + 2), spec)
    assert (report["field"], report["code"]) == ("code", int(nonzero[3]))
    assert ZeroFlagByteStream().mismatch("ZeroFlagEncoder", 0, stream, stream, spec) is None
    assert "bytes" in ZeroFlagByteStream().mismatch("ZeroFlagEncoder", 0, stream, stream[:-1], spec)["message"]


def test_codes_wider_than_a_byte_are_refused():
    with pytest.raises(ValueError, match="bits: the zero-flag blocks take codes of at most 8 bits, got 9"):
        ZeroFlagEncoder(components=1, height=1, width=1, bits=9)
    with pytest.raises(ValueError, match="height"):
        ZeroFlagEncoder(components=1, height=0, width=1, bits=4)


def test_lints_on_both_targets(tmp_path):
    for target in ("generic", "ecp5"):
        verilog_that_lints(tmp_path, lambda: ZeroFlagEncoder(components=2, height=3, width=5, bits=4),
                           f"zero_flag_encoder_{target}", target)
