"""KeptReader in Amaranth's simulator: an Unpacker's stored frame read out as the codes ``unpack`` decodes, with
its bitmap copied, under backpressure."""

import numpy as np
import pytest

from wccgen.golden import pack, topk_select, unpack
from wccgen.hw.block_ram import BlockRAM
from wccgen.hw.kept_reader import KeptReader, KeptReaderSpec

from helpers import as_python, bitmap_words, code_entries, read_port_server, simulate


def run_reader(spec, mask_memory, code_memory, frames, backpressure, seed):
    """Start the reader ``frames`` times on the same memories; return the beats of each frame, the copy's writes and
    the cycles from each ``start`` to its ``done``."""
    dut = KeptReader(spec)
    rng = np.random.default_rng(seed)
    beats, copies, waits = [], {}, []

    async def run(ctx):
        for _ in range(frames):
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            frame, cycles, done = [], 1, False
            while not done or len(frame) < spec.code_words:
                ready = rng.random() >= backpressure
                ctx.set(dut.codes.ready, ready)
                if ctx.get(dut.codes.valid) and ready:
                    frame.append(as_python(ctx.get(dut.codes.payload)))
                if ctx.get(dut.copy_write.en):
                    copies[ctx.get(dut.copy_write.addr)] = ctx.get(dut.copy_write.data)
                if ctx.get(dut.done):
                    assert not done, "done twice"
                    done = True
                    waits.append(cycles)
                await ctx.tick()
                cycles += 1
            beats.append(frame)
        for _ in range(BlockRAM.LATENCY + 2):  # the last bitmap words are copied after `done`
            if ctx.get(dut.copy_write.en):
                copies[ctx.get(dut.copy_write.addr)] = ctx.get(dut.copy_write.data)
            await ctx.tick()

    serve = [read_port_server(dut.mask_read, mask_memory, BlockRAM.LATENCY),
             read_port_server(dut.code_read, code_memory, BlockRAM.LATENCY)]
    simulate(dut, run, background=serve)
    return beats, copies, waits


@pytest.mark.parametrize("height,width,channels,lanes,bits,keep,backpressure", [
    (4, 8, 4, 4, 8, 6, 0.0), (6, 5, 6, 2, 5, 7, 0.5), (3, 3, 2, 1, 3, 9, 0.2), (8, 8, 1, 1, 2, 3, 0.0),
])
def test_kept_reader_streams_the_codes_unpack_decodes_and_copies_the_bitmap(height, width, channels, lanes, bits,
                                                                            keep, backpressure):
    rng = np.random.default_rng(keep)
    spec = KeptReaderSpec(positions=height * width, keep=keep, channels=channels, lanes=lanes, bit_a=bits)
    limit = 2 ** (bits - 1) - 1
    mask, _ = topk_select(rng.integers(0, 9, size=(height, width)), keep)
    mask, codes = unpack(pack(mask, rng.integers(-limit, limit + 1, size=(channels, keep)), bits), height, width,
                         channels, bits, keep)
    word_bits = lanes * bits
    beats, copies, waits = run_reader(spec, bitmap_words(mask, word_bits), code_entries(codes, lanes, bits), 3,
                                      backpressure, seed=bits)
    expected = [{"data": [int(c) for c in codes[start:start + lanes, p]], "first": int(p == 0 and start == 0),
                 "last": int(p == keep - 1 and start + lanes == channels)}
                for p in range(keep) for start in range(0, channels, lanes)]
    assert beats == [expected] * 3
    assert copies == dict(enumerate(bitmap_words(mask, word_bits)))
    if backpressure == 0:  # the first frame waits for the output queue to come out of reset
        assert waits[0] >= spec.read_cycles and waits[1:] == [spec.read_cycles] * 2
