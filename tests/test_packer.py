"""Packer: ``golden.pack``'s layout against a bit string built by hand, then the block in Amaranth's simulator
against ``golden.pack``."""

import numpy as np
import pytest

from wccgen.golden import pack, stream_bits, topk_select
from wccgen.hw.packer import Packer, PackerSpec

from helpers import as_python, random_frame, simulate


def reference_bits(mask, codes, bits):
    """The stream as a '0'/'1' string, built independently of pack()."""
    text = "".join("1" if kept else "0" for kept in mask.ravel())
    for position in range(codes.shape[1]):
        for channel in range(codes.shape[0]):
            word = int(codes[channel, position]) % (1 << bits)
            text += "".join(str((word >> b) & 1) for b in range(bits))  # LSB first
    text += "0" * (-len(text) % 8)
    return bytes(int(text[i : i + 8][::-1], 2) for i in range(0, len(text), 8))


@pytest.mark.parametrize("bits", [2, 3, 5, 8, 13, 16])
def test_layout_matches_reference(rng, bits):
    mask, codes = random_frame(rng, bits=bits)
    stream = pack(mask, codes, bits)
    assert stream.tobytes() == reference_bits(mask, codes, bits)
    assert stream.size == -(-stream_bits(64, 11, 3, bits) // 8)


def test_stream_size_formula(rng):
    mask, codes = random_frame(rng, height=16, width=8, channels=7, keep=32, bits=8)
    assert stream_bits(128, 32, 7, 8) == 7 * 32 * 8 + 128
    assert pack(mask, codes, 8).size * 8 == 7 * 32 * 8 + 128


def test_pack_rejects_inconsistent_input(rng):
    mask, codes = random_frame(rng)
    with pytest.raises(ValueError, match="codes: must have shape"):
        pack(mask, codes[:, :-1], 5)
    with pytest.raises(ValueError, match=r"codes: must lie in \[-15, 15\]"):
        pack(mask, codes * 0 + 16, 5)
    with pytest.raises(ValueError, match="mask"):
        pack(mask.astype(int), codes, 5)


# -- the block, in Amaranth's simulator against ``pack`` ----------------------------------------------------------

def packer_events(mask, codes, bits, lanes):
    """The Packer's events for one frame as the compressor makes them: a bitmap bit per position, a chunk per beat
    of ``lanes`` codes, then a flush if bitmap bits are left over; the last event is ``final``."""
    word_bits = lanes * bits
    events = [("bit", int(b), 0) for b in mask.ravel()]
    for position in range(codes.shape[1]):
        for start in range(0, codes.shape[0], lanes):
            chunk = sum((int(c) & ((1 << bits) - 1)) << (bits * n)
                        for n, c in enumerate(codes[start:start + lanes, position]))
            events.append(("chunk", chunk, 0))
    if mask.size % word_bits:
        events.append(("flush", 0, 0))
    events[-1] = (*events[-1][:2], 1)
    return events


def run_packer(spec, events, idle, seed):
    dut = Packer(spec)
    gaps = np.random.default_rng(seed).random(2 * len(events) + 10) < idle
    words = []

    async def bench(ctx):
        pending, cycle = list(events), 0
        while pending or cycle < 3 * len(events):
            event = pending.pop(0) if pending and not gaps[cycle % len(gaps)] else None
            kind, value, final = event or (None, 0, 0)
            ctx.set(dut.bits.valid, kind == "bit")
            ctx.set(dut.bits.payload, value if kind == "bit" else 0)
            ctx.set(dut.chunks.valid, kind == "chunk")
            ctx.set(dut.chunks.payload, value if kind == "chunk" else 0)
            ctx.set(dut.flush, kind == "flush")
            ctx.set(dut.final, final)
            if ctx.get(dut.words.valid):
                words.append(as_python(ctx.get(dut.words.payload)))
            await ctx.tick()
            cycle += 1

    simulate(dut, bench)
    return words


@pytest.mark.parametrize("height,width,channels,lanes,bits,keep,idle", [
    (8, 8, 4, 4, 8, 9, 0.0),  # the bitmap fills whole words
    (6, 7, 6, 2, 5, 11, 0.3),  # bitmap bits left over: they share a word with the first codes
    (4, 4, 3, 3, 16, 16, 0.5),  # every position kept
])
def test_packer_block_equals_pack(rng, height, width, channels, lanes, bits, keep, idle):
    word_bits = lanes * bits
    spec = PackerSpec(positions=height * width, word_bits=word_bits)
    frames, events = [], []
    for _ in range(2):  # two frames: `final` starts the next one afresh
        mask, _ = topk_select(rng.integers(0, 50, size=(height, width)), keep)
        limit = 2 ** (bits - 1) - 1
        codes = rng.integers(-limit, limit + 1, size=(channels, keep))
        frames.append(pack(mask, codes, bits))
        events += packer_events(mask, codes, bits, lanes)
    words = run_packer(spec, events, idle, seed=bits)
    expected = []
    for stream in frames:
        count = -(-stream_bits(height * width, keep, channels, bits) // word_bits)
        bits_ = np.unpackbits(stream, bitorder="little")
        bits_ = np.concatenate([bits_, np.zeros(count * word_bits, dtype=np.uint8)])
        data = [sum(int(b) << i for i, b in enumerate(bits_[n * word_bits:(n + 1) * word_bits]))
                for n in range(count)]
        bitmap_words = height * width // word_bits
        expected += [{"data": d, "first": int(n == 0), "last": int(n == count - 1),
                      "bitmap": int(n < bitmap_words)} for n, d in enumerate(data)]
    assert words == expected
