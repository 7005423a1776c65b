"""ScatterBuffer in Amaranth's simulator: frames of kept sums and their bitmaps in, full frames out as ``scatter``
places them, two frames in flight, under backpressure."""

import numpy as np
import pytest

from wccgen.golden import scatter, topk_select
from wccgen.hw.scatter import ScatterSpec
from wccgen.hw.scatter_buffer import ScatterBuffer

from helpers import bitmap_words, frame_beats, simulate, stream_collector


def run_buffer(spec, frames, *, idle, backpressure, seed):
    """Claim each frame when the buffer is free, copy its bitmap, send its sums with random gaps; collect the
    output frames' beats."""
    dut = ScatterBuffer(spec)
    rng = np.random.default_rng(seed)
    received = []

    async def feed(ctx):
        for mask, values in frames:
            await ctx.tick().until(dut.free)
            ctx.set(dut.claim, 1)
            await ctx.tick()
            ctx.set(dut.claim, 0)
            for address, word in enumerate(bitmap_words(mask, spec.word_bits)):
                ctx.set(dut.copy_write.addr, address)
                ctx.set(dut.copy_write.data, word)
                ctx.set(dut.copy_write.en, 1)
                await ctx.tick()
            ctx.set(dut.copy_write.en, 0)
            sums = [{"data": [int(v) for v in values[start:start + spec.lanes, p]], "first": 0, "last": 0}
                    for p in range(spec.keep) for start in range(0, spec.channels, spec.lanes)]
            sums[0]["first"], sums[-1]["last"] = 1, 1
            for beat in sums:
                while rng.random() < idle:
                    await ctx.tick()
                ctx.set(dut.sums.valid, 1)
                ctx.set(dut.sums.payload, beat)
                await ctx.tick()
                ctx.set(dut.sums.valid, 0)

    simulate(dut, feed, stream_collector(dut.values, len(frames) * spec.beats, received,
                                         backpressure=backpressure, seed=seed))
    return received


@pytest.mark.parametrize("height,width,channels,lanes,value_bits,word_bits,keep,idle,backpressure", [
    (4, 4, 2, 2, 8, 16, 5, 0.0, 0.0), (6, 5, 6, 3, 19, 12, 7, 0.3, 0.5), (2, 4, 1, 1, 4, 3, 8, 0.1, 0.8),
])
def test_scatter_buffer_block_equals_scatter(height, width, channels, lanes, value_bits, word_bits, keep, idle,
                                             backpressure):
    rng = np.random.default_rng(height * width * keep)
    spec = ScatterSpec(padded_height=height, padded_width=width, channels=channels, lanes=lanes,
                       value_bits=value_bits, word_bits=word_bits, keep=keep)
    top = 2 ** (value_bits - 1)
    frames, expected = [], []
    for _ in range(4):
        mask, indices = topk_select(rng.integers(0, 5, size=(height, width)), keep)
        values = rng.integers(-top, top, size=(channels, keep))
        frames.append((mask, values))
        expected += frame_beats(scatter(indices, values, height, width), lanes)
    assert run_buffer(spec, frames, idle=idle, backpressure=backpressure, seed=keep) == expected
