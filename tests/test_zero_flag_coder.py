"""DCT-CM's zero-flag format against a bit-by-bit writer, with every cut and corruption refused; what the hardware
decoder makes of a bad frame against the decoder that raises and a reading of the stream code by code."""

import numpy as np
import pytest
from helpers import flagged_agrees_with_decoder, stream_order
from hypothesis import given, settings
from hypothesis import strategies as st

from wccgen.golden.zero_flag_coder import (ERRORS, StreamError, zero_flag_bits, zero_flag_decode,
                                           zero_flag_decode_flagged, zero_flag_encode)


def written_bit_by_bit(codes, bits):
    """The format as the docstring states it, one bit at a time: flags, non-zero codes (LSB first), zero padding."""
    k, height, width = codes.shape
    pixels = [codes[:, y, x] for y in range(height) for x in range(width)]
    out = [int(code != 0) for pixel in pixels for code in pixel]
    for pixel in pixels:
        for code in pixel:
            if code:
                out += [(int(code) % (1 << bits)) >> b & 1 for b in range(bits)]
    out += [0] * (-len(out) % 8)
    return bytes(sum(bit << i for i, bit in enumerate(out[n:n + 8])) for n in range(0, len(out), 8))


frames = st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4), st.integers(2, 9),
                   st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))


def random_frame(k, height, width, bits, seed, zeros):
    rng = np.random.default_rng(seed)
    limit = (1 << (bits - 1)) - 1
    codes = rng.integers(-limit, limit + 1, size=(k, height, width))
    return np.where(rng.random(codes.shape) < zeros, 0, codes)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(frames)
def test_the_stream_is_the_documented_layout_and_decodes_back(frame):
    k, height, width, bits, seed, zeros = frame
    codes = random_frame(k, height, width, bits, seed, zeros)
    stream = zero_flag_encode(codes, bits)
    assert bytes(stream) == written_bit_by_bit(codes, bits)
    assert zero_flag_bits(codes, bits) == codes.size + np.count_nonzero(codes) * bits
    assert len(stream) == -(-zero_flag_bits(codes, bits) // 8)
    np.testing.assert_array_equal(zero_flag_decode(stream, k, height, width, bits), codes)


def test_every_cut_of_a_stream_is_refused():
    codes = random_frame(3, 2, 3, 6, 7, 0.3)
    stream = zero_flag_encode(codes, 6)
    for size in range(len(stream)):
        with pytest.raises(StreamError, match="truncated"):
            zero_flag_decode(stream[:size], 3, 2, 3, 6)
    with pytest.raises(StreamError, match="over-long"):
        zero_flag_decode(np.append(stream, 0).astype(np.uint8), 3, 2, 3, 6)


def test_corrupt_streams_are_refused():
    codes = np.zeros((2, 1, 2), dtype=int)
    codes[0, 0, 0] = 5  # one value after 4 flags: 4 + 4 bits, a full byte
    stream = zero_flag_encode(codes, 4)
    flagged_zero = stream.copy()
    flagged_zero[0] &= 0x0F  # the value 5 becomes 0
    with pytest.raises(StreamError, match="corrupt value 0"):
        zero_flag_decode(flagged_zero, 2, 1, 2, 4)
    minus_eight = stream.copy()
    minus_eight[0] = (stream[0] & 0x0F) | 0x80  # -8 is outside the symmetric 4-bit range
    with pytest.raises(StreamError, match="corrupt value -8"):
        zero_flag_decode(minus_eight, 2, 1, 2, 4)
    padded = zero_flag_encode(np.zeros((1, 1, 3), dtype=int), 4)
    padded[0] |= 0x80
    with pytest.raises(StreamError, match="padding"):
        zero_flag_decode(padded, 1, 1, 3, 4)


def test_out_of_range_codes_are_refused():
    with pytest.raises(ValueError, match=r"codes: must lie in \[-7, 7\]"):
        zero_flag_encode(np.full((1, 1, 1), 8), 4)


def test_the_flagged_decoder_refuses_exactly_the_frames_the_decoder_refuses():
    """Every cut, an appended byte and every flipped bit of a few frames: refused (with a kind) exactly when
    zero_flag_decode raises, and the same codes when it does not."""
    for seed, (shape, bits, zeros) in enumerate([((3, 2, 3), 6, 0.3), ((2, 2, 2), 4, 0.6), ((1, 3, 3), 3, 0.1)]):
        codes = random_frame(*shape, bits, seed, zeros)
        stream = zero_flag_encode(codes, bits)
        flagged_agrees_with_decoder(zero_flag_decode, zero_flag_decode_flagged, ERRORS, stream, shape, bits)
        decoded, kind = zero_flag_decode_flagged(stream, *shape, bits)
        assert kind is None and np.array_equal(decoded, codes)


def test_a_cut_frame_keeps_the_codes_whose_bits_came():
    """Cut after each byte: the codes read code by code up to the first flagged one whose bits are missing, zeros
    from there on (all zeros when the cut is inside the flags)."""
    codes = random_frame(2, 3, 3, 5, 11, 0.3)
    stream = zero_flag_encode(codes, 5)
    order = stream_order(codes)
    count = order.size
    for size in range(len(stream)):
        decoded, kind = zero_flag_decode_flagged(stream[:size], 2, 3, 3, 5)
        assert kind == "cut"
        expected = np.zeros(count, dtype=int)
        if size * 8 >= count:
            end = count
            for index in range(count):
                if order[index]:
                    end += 5
                    if end > size * 8:
                        break
                    expected[index] = order[index]
        np.testing.assert_array_equal(stream_order(decoded), expected)


def test_each_kind_of_bad_frame_is_named():
    codes = np.zeros((2, 1, 2), dtype=int)
    codes[0, 0, 0], codes[1, 0, 1] = 5, -3  # flags 1001, then 5 and -3 in 4 bits: 12 bits, two bytes
    stream = zero_flag_encode(codes, 4)
    minus_eight = stream.copy()
    minus_eight[1] = 0x08  # the second code becomes -8, outside the symmetric range
    decoded, kind = zero_flag_decode_flagged(minus_eight, 2, 1, 2, 4)
    assert kind == "corrupt_value" and stream_order(decoded).tolist() == [5, 0, 0, 0]
    zero = stream.copy()
    zero[0] &= 0x0F  # the first code becomes 0: nothing read before it
    assert zero_flag_decode_flagged(zero, 2, 1, 2, 4)[1] == "corrupt_value"
    assert not zero_flag_decode_flagged(zero, 2, 1, 2, 4)[0].any()
    long = np.append(stream, 0).astype(np.uint8)
    decoded, kind = zero_flag_decode_flagged(long, 2, 1, 2, 4)
    assert kind == "over_long" and np.array_equal(decoded, codes)
    padded = stream.copy()
    padded[1] |= 0x80
    decoded, kind = zero_flag_decode_flagged(padded, 2, 1, 2, 4)
    assert kind == "padding" and np.array_equal(decoded, codes)
    assert sorted(ERRORS.values()) == [1, 2, 3, 4]
