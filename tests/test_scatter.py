"""Scatter: ``golden.scatter`` against a loop, then the block in Amaranth's simulator against ``golden.scatter``
(memories served by the testbench, under backpressure)."""

import numpy as np
import pytest

from wccgen.golden import scatter, topk_select
from wccgen.hw.block_ram import BlockRAM
from wccgen.hw.scatter import Scatter, ScatterSpec

from helpers import bitmap_words, code_entries, frame_beats, read_port_server, simulate, stream_collector


def test_scatter_against_loop(rng):
    indices = np.sort(rng.choice(48, size=10, replace=False))
    values = rng.integers(-99, 99, size=(3, 10))
    ours = scatter(indices, values, 6, 8)
    expected = np.zeros((3, 6, 8), dtype=np.int64)
    for column, index in enumerate(indices):
        expected[:, index // 8, index % 8] = values[:, column]
    assert np.array_equal(ours, expected)
    with pytest.raises(ValueError, match="ascending"):
        scatter(indices[::-1], values, 6, 8)


# -- the block, in Amaranth's simulator against ``scatter`` -------------------------------------------------------

def scatter_case(rng, height, width, channels, lanes, value_bits, word_bits, keep):
    spec = ScatterSpec(padded_height=height, padded_width=width, channels=channels, lanes=lanes,
                       value_bits=value_bits, word_bits=word_bits, keep=keep)
    mask, indices = topk_select(rng.integers(0, 5, size=(height, width)), keep)
    top = 2 ** (value_bits - 1)
    values = rng.integers(-top, top, size=(channels, keep))
    values[:, 0] = -top  # the extremes survive the trip through the memory's raw bits
    values[:, -1] = top - 1
    return spec, mask, indices, values


@pytest.mark.parametrize("height,width,channels,lanes,value_bits,word_bits,keep,backpressure", [
    (4, 4, 2, 2, 8, 16, 5, 0.0), (6, 5, 6, 3, 19, 12, 7, 0.4), (2, 2, 1, 1, 4, 3, 4, 0.2),
])
def test_scatter_block_equals_scatter(height, width, channels, lanes, value_bits, word_bits, keep, backpressure):
    rng = np.random.default_rng(keep * channels)
    spec, mask, indices, values = scatter_case(rng, height, width, channels, lanes, value_bits, word_bits, keep)
    dut = Scatter(spec)
    frames = 2
    received, done_cycles = [], []
    beats = spec.beats

    async def run(ctx):
        for _ in range(frames):
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            cycles = 1
            while not ctx.get(dut.done):
                await ctx.tick()
                cycles += 1
            done_cycles.append(cycles)
            await ctx.tick().until(dut.values.valid == 0)

    memories = [read_port_server(dut.mask_read, bitmap_words(mask, word_bits), BlockRAM.LATENCY),
                read_port_server(dut.value_read, code_entries(values, lanes, value_bits), BlockRAM.LATENCY)]
    simulate(dut, run, stream_collector(dut.values, frames * beats, received, backpressure=backpressure),
             background=memories)
    expected = frame_beats(scatter(indices, values, height, width), lanes)
    assert received == expected * frames
    if backpressure == 0:
        assert done_cycles[1:] == [spec.done_cycles] * (frames - 1)
