"""CAP's fixed-width format against a bit-by-bit writer, with every cut and corruption refused; the hardware
decoder's model of bad frames against the decoder that raises and a code-by-code reading."""

import numpy as np
import pytest
from helpers import flagged_agrees_with_decoder, stream_order
from hypothesis import given, settings
from hypothesis import strategies as st

from wccgen.golden.fixed_width_coder import ERRORS, fixed_width_decode, fixed_width_decode_flagged, fixed_width_encode
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


def random_frame(k, height, width, bits, seed):
    limit = (1 << (bits - 1)) - 1
    return np.random.default_rng(seed).integers(-limit, limit + 1, size=(k, height, width))


def test_the_flagged_decoder_refuses_exactly_the_frames_the_decoder_refuses():
    """Every cut, an appended byte and every flipped bit of a few frames: refused (with a kind) exactly when
    fixed_width_decode raises, and the same codes when it does not."""
    for seed, (shape, bits) in enumerate([((3, 2, 3), 6), ((2, 2, 2), 4), ((1, 3, 3), 3), ((2, 1, 3), 8)]):
        codes = random_frame(*shape, bits, seed)
        stream = fixed_width_encode(codes, bits)
        flagged_agrees_with_decoder(fixed_width_decode, fixed_width_decode_flagged, ERRORS, stream, shape, bits)
        decoded, kind = fixed_width_decode_flagged(stream, *shape, bits)
        assert kind is None and np.array_equal(decoded, codes)


def test_a_cut_or_corrupt_frame_keeps_the_codes_before_the_fault():
    """Cut after each byte: the codes whose bits all came, zeros from the first incomplete one. A code of -Q-1:
    the codes before it, zeros from it on, named corrupt even when the frame is cut later."""
    bits, shape = 5, (2, 3, 3)
    codes = random_frame(*shape, bits, 11)
    stream = fixed_width_encode(codes, bits)
    order = stream_order(codes)
    for size in range(len(stream)):
        decoded, kind = fixed_width_decode_flagged(stream[:size], *shape, bits)
        assert kind == "cut"
        expected = [int(order[i]) if (i + 1) * bits <= size * 8 else 0 for i in range(order.size)]
        assert stream_order(decoded).tolist() == expected
    bitstream = np.unpackbits(stream, bitorder="little")
    bitstream[4 * bits:5 * bits] = [0, 0, 0, 0, 1]  # code #4 becomes -16
    corrupt = np.packbits(bitstream, bitorder="little")
    for variant in (corrupt, corrupt[:-2]):
        decoded, kind = fixed_width_decode_flagged(variant, *shape, bits)
        assert kind == "corrupt_value"
        assert stream_order(decoded).tolist() == order[:4].tolist() + [0] * (order.size - 4)


def test_an_over_long_or_badly_padded_frame_keeps_its_codes():
    codes = np.array([[[3, -2, 1]]])
    stream = fixed_width_encode(codes, 3)  # 9 bits: two bytes, 7 padding bits
    padded = stream.copy()
    padded[1] |= 0x80
    for variant, name in ((np.append(stream, 0).astype(np.uint8), "over_long"), (padded, "padding")):
        decoded, kind = fixed_width_decode_flagged(variant, 1, 1, 3, 3)
        assert kind == name and np.array_equal(decoded, codes)
