"""DCT-CM's zero-flag format against a bit-by-bit writer, with every cut and corruption refused."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wccgen.golden.zero_flag_coder import StreamError, zero_flag_bits, zero_flag_decode, zero_flag_encode


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


frames = st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4), st.integers(2, 9), st.integers(0, 2**32 - 1),
                   st.floats(0.0, 1.0))


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
