"""Unpacker: ``golden.unpack`` on round trips and on truncated, over-long and corrupt streams, then the block in
Amaranth's simulator: what it stores is what ``unpack`` decodes, and it refuses what ``unpack`` refuses."""

import numpy as np
import pytest

from wccgen.golden import StreamError, pack, topk_select, unpack
from wccgen.hw.block_ram import BlockRAM
from wccgen.hw.unpacker import Unpacker, UnpackerSpec

from helpers import bitmap_words, code_entries, random_frame, simulate


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_round_trip(rng, bits):
    for keep in (1, 17, 64):
        mask, codes = random_frame(rng, keep=keep, bits=bits)
        read_mask, read_codes = unpack(pack(mask, codes, bits), 8, 8, 3, bits, keep)
        assert np.array_equal(read_mask, mask) and np.array_equal(read_codes, codes)


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


def test_unpack_refuses_a_stream_that_is_not_bytes():
    with pytest.raises(TypeError, match="stream"):
        unpack(np.zeros(4, dtype=np.int32), 8, 8, 3, 5, 11)


# -- the block, in Amaranth's simulator against ``unpack`` --------------------------------------------------------

def stream_words(stream, word_bits, count):
    """The first ``count`` bus words of a byte stream, LSB first, as ``{data, first, last}`` beats."""
    bits = np.unpackbits(np.asarray(stream, dtype=np.uint8), bitorder="little")
    bits = np.concatenate([bits, np.zeros(count * word_bits, dtype=np.uint8)])
    return [{"data": sum(int(b) << i for i, b in enumerate(bits[n * word_bits:(n + 1) * word_bits])),
             "first": int(n == 0), "last": int(n == count - 1)} for n in range(count)]


def run_unpacker(spec, beats, idle, seed):
    """Send the word beats; read out every frame the Unpacker stores through its ports, then release it.
    Returns the frames read (mask words, code entries) and the number of ``refused`` pulses."""
    dut = Unpacker(spec)
    rng = np.random.default_rng(seed)
    stored, refusals, sending = [], [], [True]

    async def send(ctx):
        for beat in beats:
            while rng.random() < idle:
                await ctx.tick()
            ctx.set(dut.words.valid, 1)
            ctx.set(dut.words.payload, beat)
            await ctx.tick().until(dut.words.ready)
            ctx.set(dut.words.valid, 0)
        for _ in range(spec.check_latency + 20):
            await ctx.tick()
        sending[0] = False

    async def read(ctx):
        while sending[0] or ctx.get(dut.stored):
            if ctx.get(dut.refused):
                refusals.append(1)
            if not ctx.get(dut.stored):
                await ctx.tick()
                continue
            frame = []
            for port, entries in ((dut.mask_read, spec.mask_words), (dut.code_read, spec.code_words)):
                words = []
                for address in range(entries):
                    ctx.set(port.addr, address)
                    for _ in range(BlockRAM.LATENCY):
                        await ctx.tick()
                        refusals.extend([1] if ctx.get(dut.refused) else [])
                    words.append(ctx.get(port.data))
                frame.append(words)
            stored.append(tuple(frame))
            ctx.set(dut.release, 1)
            await ctx.tick()
            ctx.set(dut.release, 0)

    simulate(dut, send, read)
    return stored, len(refusals)


@pytest.mark.parametrize("height,width,channels,lanes,bits,keep,banks,idle", [
    (4, 8, 4, 4, 8, 6, 1, 0.0),  # the bitmap fills a word
    (6, 5, 3, 1, 6, 7, 2, 0.3),  # bitmap bits left over share a word with the first codes; two banks
])
def test_unpacker_block_stores_what_unpack_decodes_and_refuses_what_it_refuses(height, width, channels, lanes, bits,
                                                                                keep, banks, idle):
    rng = np.random.default_rng(height * width + banks)
    spec = UnpackerSpec(positions=height * width, keep=keep, channels=channels, lanes=lanes, bit_a=bits, banks=banks)
    limit = 2 ** (bits - 1) - 1
    streams = []
    for _ in range(3):
        mask, _ = topk_select(rng.integers(0, 9, size=(height, width)), keep)
        streams.append(pack(mask, rng.integers(-limit, limit + 1, size=(channels, keep)), bits))
    count = spec.words_per_frame
    good = [stream_words(s, spec.word_bits, count) for s in streams]
    forbidden = np.unpackbits(streams[1], bitorder="little")
    forbidden[height * width:height * width + bits] = 0
    forbidden[height * width + bits - 1] = 1  # the first code becomes -2**(bits-1)
    forbidden = np.packbits(forbidden, bitorder="little")
    truncated = good[2][:count - 1]
    truncated[-1] = {**truncated[-1], "last": 1}
    for corrupt in (forbidden, words_to_stream(truncated, spec.word_bits)):
        with pytest.raises(StreamError):
            unpack(corrupt, height, width, channels, bits, keep)
    beats = good[0] + stream_words(forbidden, spec.word_bits, count) + good[1] + truncated + good[2]
    stored, refused = run_unpacker(spec, beats, idle, seed=bits)
    expected = []
    for stream in streams:
        mask, codes = unpack(stream, height, width, channels, bits, keep)
        expected.append((bitmap_words(mask, spec.word_bits), code_entries(codes, lanes, bits)))
    assert stored == expected
    assert refused == 2


def words_to_stream(beats, word_bits):
    """Bytes of word beats (LSB first), as ``unpack`` reads them."""
    bits = [(beat["data"] >> i) & 1 for beat in beats for i in range(word_bits)]
    return np.packbits(np.array(bits, dtype=np.uint8), bitorder="little")


@pytest.mark.parametrize("banks,idle", [(1, 0.0), (2, 0.0), (2, 0.4)])
def test_unpacker_block_refuses_frames_cut_by_the_next_frames_start(banks, idle):
    """A ``first`` inside a frame ends that frame, refused, and starts the next one; a one-word frame there is
    refused too. The frames after them are stored whole."""
    height, width, channels, lanes, bits, keep = 6, 5, 3, 1, 6, 7
    rng = np.random.default_rng(banks)
    spec = UnpackerSpec(positions=height * width, keep=keep, channels=channels, lanes=lanes, bit_a=bits, banks=banks)
    limit = 2 ** (bits - 1) - 1
    streams = [pack(topk_select(rng.integers(0, 9, size=(height, width)), keep)[0],
                    rng.integers(-limit, limit + 1, size=(channels, keep)), bits) for _ in range(3)]
    count = spec.words_per_frame
    good = [stream_words(s, spec.word_bits, count) for s in streams]
    cut_early, cut_late = good[2][:2], good[1][:count - 1]  # no `last`: the next frame's `first` ends them
    one_word = {**good[0][0], "last": 1}
    beats = good[0] + cut_early + good[1] + cut_late + good[2] + cut_early + [one_word] + good[0]
    stored, refused = run_unpacker(spec, beats, idle, seed=7)
    expected = []
    for stream in (streams[0], streams[1], streams[2], streams[0]):
        mask, codes = unpack(stream, height, width, channels, bits, keep)
        expected.append((bitmap_words(mask, spec.word_bits), code_entries(codes, lanes, bits)))
    assert stored == expected
    assert refused == 4
