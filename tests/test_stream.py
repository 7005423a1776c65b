"""The compressed stream: layout against a hand-built bit string, round trips and bad streams."""

import numpy as np
import pytest

from wccgen.golden import StreamError, pack, stream_bits, topk_select, unpack


def reference_bits(mask, codes, bits):
    """The stream as a '0'/'1' string, built independently of pack()."""
    text = "".join("1" if kept else "0" for kept in mask.ravel())
    for position in range(codes.shape[1]):
        for channel in range(codes.shape[0]):
            word = int(codes[channel, position]) % (1 << bits)
            text += "".join(str((word >> b) & 1) for b in range(bits))  # LSB first
    text += "0" * (-len(text) % 8)
    return bytes(int(text[i : i + 8][::-1], 2) for i in range(0, len(text), 8))


def random_frame(rng, height=8, width=8, channels=3, keep=11, bits=5):
    mask, _ = topk_select(rng.integers(0, 50, size=(height, width)), keep)
    limit = 2 ** (bits - 1) - 1
    codes = rng.integers(-limit, limit + 1, size=(channels, keep))
    return mask, codes


@pytest.mark.parametrize("bits", [2, 3, 5, 8, 13, 16])
def test_layout_matches_reference(rng, bits):
    mask, codes = random_frame(rng, bits=bits)
    stream = pack(mask, codes, bits)
    assert stream.tobytes() == reference_bits(mask, codes, bits)
    assert stream.size == -(-stream_bits(64, 11, 3, bits) // 8)


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_round_trip(rng, bits):
    for keep in (1, 17, 64):
        mask, codes = random_frame(rng, keep=keep, bits=bits)
        read_mask, read_codes = unpack(pack(mask, codes, bits), 8, 8, 3, bits, keep)
        assert np.array_equal(read_mask, mask) and np.array_equal(read_codes, codes)


def test_stream_size_formula(rng):
    mask, codes = random_frame(rng, height=16, width=8, channels=7, keep=32, bits=8)
    assert stream_bits(128, 32, 7, 8) == 7 * 32 * 8 + 128
    assert pack(mask, codes, 8).size * 8 == 7 * 32 * 8 + 128


def test_truncated_stream_is_rejected(rng):
    mask, codes = random_frame(rng)
    stream = pack(mask, codes, 5)
    with pytest.raises(StreamError, match="truncated: .* needs"):
        unpack(stream[:-1], 8, 8, 3, 5, 11)
    with pytest.raises(StreamError, match="truncated inside the bitmap"):
        unpack(stream[:3], 8, 8, 3, 5, 11)
    with pytest.raises(StreamError, match="truncated"):
        unpack(b"", 8, 8, 3, 5, 11)


def test_over_long_stream_is_rejected(rng):
    mask, codes = random_frame(rng)
    stream = np.concatenate([pack(mask, codes, 5), np.zeros(1, dtype=np.uint8)])
    with pytest.raises(StreamError, match="over-long"):
        unpack(stream, 8, 8, 3, 5, 11)


def test_corrupt_streams_are_rejected(rng):
    mask, codes = random_frame(rng)
    stream = pack(mask, codes, 5)
    flipped = stream.copy()
    flipped[0] ^= 0x01 if not mask.ravel()[0] else 0x02 if not mask.ravel()[1] else 0x04
    with pytest.raises(StreamError, match="corrupt bitmap: 12 positions"):
        unpack(flipped, 8, 8, 3, 5, 11)
    # 64 + 11*3*5 = 229 bits: three padding bits in the last byte.
    padded = stream.copy()
    padded[-1] |= 0x80
    with pytest.raises(StreamError, match="padding"):
        unpack(padded, 8, 8, 3, 5, 11)
    # -16 is a 5-bit word but not a symmetric 5-bit code.
    bad_code = stream.copy()
    bits = np.unpackbits(bad_code, bitorder="little")
    bits[64 + 5 * 4 : 64 + 5 * 5] = [0, 0, 0, 0, 1]
    with pytest.raises(StreamError, match="corrupt code -16 at kept position 1, channel 1"):
        unpack(np.packbits(bits, bitorder="little"), 8, 8, 3, 5, 11)


def test_pack_rejects_inconsistent_input(rng):
    mask, codes = random_frame(rng)
    with pytest.raises(ValueError, match="codes: must have shape"):
        pack(mask, codes[:, :-1], 5)
    with pytest.raises(ValueError, match=r"codes: must lie in \[-15, 15\]"):
        pack(mask, codes * 0 + 16, 5)
    with pytest.raises(ValueError, match="mask"):
        pack(mask.astype(int), codes, 5)
    with pytest.raises(TypeError, match="stream"):
        unpack(np.zeros(4, dtype=np.int32), 8, 8, 3, 5, 11)
