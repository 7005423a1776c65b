"""CAP's fixed-width format against a bit-by-bit writer, with every cut and corruption refused."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wccgen.golden.fixed_width_coder import fixed_width_decode, fixed_width_encode
from wccgen.golden.unpacker import StreamError


def written_bit_by_bit(codes, bits):
    k, height, width = codes.shape
    out = [(int(codes[j, y, x]) % (1 << bits)) >> b & 1 for y in range(height) for x in range(width)
           for j in range(k) for b in range(bits)]
    out += [0] * (-len(out) % 8)
    return bytes(sum(bit << i for i, bit in enumerate(out[n:n + 8])) for n in range(0, len(out), 8))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 4), st.integers(2, 9), st.integers(0, 2**32 - 1))
def test_the_stream_is_the_documented_layout_and_decodes_back(k, height, width, bits, seed):
    limit = (1 << (bits - 1)) - 1
    codes = np.random.default_rng(seed).integers(-limit, limit + 1, size=(k, height, width))
    stream = fixed_width_encode(codes, bits)
    assert bytes(stream) == written_bit_by_bit(codes, bits)
    np.testing.assert_array_equal(fixed_width_decode(stream, k, height, width, bits), codes)


def test_cut_long_and_corrupt_streams_are_refused():
    codes = np.array([[[3, -2, 1]]])
    stream = fixed_width_encode(codes, 3)  # 9 bits: two bytes
    with pytest.raises(StreamError, match="truncated"):
        fixed_width_decode(stream[:1], 1, 1, 3, 3)
    with pytest.raises(StreamError, match="over-long"):
        fixed_width_decode(np.append(stream, 0).astype(np.uint8), 1, 1, 3, 3)
    padded = stream.copy()
    padded[1] |= 0x02
    with pytest.raises(StreamError, match="padding"):
        fixed_width_decode(padded, 1, 1, 3, 3)
    minus_four = fixed_width_encode(np.array([[[0, 0, 0]]]), 3)
    minus_four[0] |= 0x04  # the first code becomes -4, outside [-3, 3]
    with pytest.raises(StreamError, match="corrupt code -4 at pixel 0"):
        fixed_width_decode(minus_four, 1, 1, 3, 3)
