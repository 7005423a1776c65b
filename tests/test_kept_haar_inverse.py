"""KeptHaarInverse: the block order against loops, ``kept_haar_inverse`` against a pixel-by-pixel sum, then the
block in Amaranth's simulator (memories served by the testbench) against ``kept_haar_inverse``, and its
parameters."""

import numpy as np
import pytest

from wccgen.golden import haar_inverse, scatter, topk_select
from wccgen.golden.kept_haar_inverse import block_order, kept_haar_inverse, morton_offsets
from wccgen.hw.block_ram import BlockRAM
from wccgen.hw.kept_haar_inverse import KeptHaarInverse, KeptHaarInverseSpec, constant_product

from helpers import bitmap_words, code_entries, read_port_server, simulate, stream_collector


# -- golden ----------------------------------------------------------------------------------------------------------

def test_morton_offsets_visit_every_pixel_and_keep_sub_blocks_together():
    for levels in range(1, 5):
        rows, cols = morton_offsets(levels)
        side = 1 << levels
        assert sorted(zip(rows.tolist(), cols.tolist())) == [(r, c) for r in range(side) for c in range(side)]
        for level in range(1, levels + 1):
            run = 4 ** level  # the pixels of one level-``level`` sub-block follow one another
            for start in range(0, 4 ** levels, run):
                assert len({(r >> level, c >> level) for r, c in zip(rows[start:start + run],
                                                                      cols[start:start + run])}) == 1
    rows, cols = morton_offsets(2)
    assert rows[:8].tolist() == [0, 0, 1, 1, 0, 0, 1, 1] and cols[:8].tolist() == [0, 1, 0, 1, 2, 3, 2, 3]


def test_block_order_against_loop(rng):
    frame = rng.integers(-50, 50, size=(6, 8, 12))
    expected = []
    for top in range(0, 8, 4):
        for left in range(0, 12, 4):
            for group in range(0, 6, 2):
                for k in range(16):
                    r = ((k >> 1) & 1) | (((k >> 3) & 1) << 1)
                    c = (k & 1) | (((k >> 2) & 1) << 1)
                    expected.append(frame[group:group + 2, top + r, left + c])
    assert np.array_equal(block_order(frame, 2, 2), np.array(expected))
    with pytest.raises(ValueError, match="blocks"):
        block_order(frame, 3, 2)


def direct_inverse(indices, values, height, width, levels):
    """Each pixel summed from the kept coefficients above it, one at a time (an oracle independent of the
    level-by-level ``haar_inverse``)."""
    coefficients = dict(zip(indices.tolist(), values.T))
    out = np.zeros((values.shape[0], height, width), dtype=np.int64)
    for r in range(height):
        for c in range(width):
            total = coefficients.get((r >> levels) * width + (c >> levels), 0) * np.ones(values.shape[0], np.int64)
            for level in range(1, levels + 1):
                h, w = height >> level, width >> level
                i, j = r >> level, c >> level
                odd_row, odd_col = (r >> (level - 1)) & 1, (c >> (level - 1)) & 1
                for (row, col), negative in (((i, w + j), odd_row), ((h + i, j), odd_col),
                                             ((h + i, w + j), odd_row ^ odd_col)):
                    value = coefficients.get(row * width + col, 0) * np.ones(values.shape[0], np.int64)
                    total = total + (-1) ** negative * (value << (levels - level))
            out[:, r, c] = total
    return out


@pytest.mark.parametrize("height,width,levels,keep", [(8, 8, 3, 20), (8, 12, 2, 30), (4, 6, 1, 24)])
def test_kept_haar_inverse_against_pixel_sums(rng, height, width, levels, keep):
    _, indices = topk_select(rng.integers(0, 9, size=(height, width)), keep)
    values = rng.integers(-500, 500, size=(4, keep))
    frame = direct_inverse(indices, values, height, width, levels)
    assert np.array_equal(frame, haar_inverse(scatter(indices, values, height, width), levels))
    assert np.array_equal(kept_haar_inverse(indices, values, height, width, levels, 2),
                          block_order(frame, levels, 2))


def test_constant_product_is_the_product():
    from amaranth.hdl import Module, Signal
    from amaranth.sim import Simulator
    value = Signal(8)
    constants = (0, 1, 3, 8, 24, 37)
    products = [Signal(16, name=f"times{c}") for c in constants]
    m = Module()
    m.d.comb += [p.eq(constant_product(value, c)) for p, c in zip(products, constants)]
    seen = []

    async def bench(ctx):
        for x in (0, 5, 77, 255):
            ctx.set(value, x)
            seen.append([ctx.get(p) for p in products])
    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [[x * c for c in constants] for x in (0, 5, 77, 255)]


# -- the block ---------------------------------------------------------------------------------------------------------

def beats_per_frame(spec):
    return spec.padded_height * spec.padded_width * spec.groups


def inverse_case(rng, height, width, channels, lanes, value_bits, word_bits, keep, levels, frames=3):
    spec = KeptHaarInverseSpec(padded_height=height, padded_width=width, channels=channels, lanes=lanes,
                               value_bits=value_bits, word_bits=word_bits, keep=keep, levels=levels)
    top = 2 ** (value_bits - 1)
    cases, expected = [], []
    for index in range(frames):
        mask, indices = topk_select(rng.integers(0, 9, size=(height, width)), keep)
        values = rng.integers(-top, top, size=(channels, keep))
        if index == 0:  # the extremes survive the memories and the sums
            values[:] = -top
        elif index == 1:
            values[:] = top - 1
        cases.append((mask, values))
        beats = kept_haar_inverse(indices, values, height, width, levels, lanes)
        expected += [{"data": [int(v) for v in beat], "first": int(n == 0), "last": int(n == len(beats) - 1)}
                     for n, beat in enumerate(beats)]
    return spec, cases, expected


@pytest.mark.parametrize("height,width,channels,lanes,value_bits,word_bits,keep,levels,backpressure", [
    (8, 8, 4, 2, 10, 16, 20, 3, 0.0), (8, 12, 3, 1, 9, 7, 40, 2, 0.4), (2, 4, 2, 2, 6, 3, 3, 1, 0.2),
])
def test_kept_haar_inverse_block_equals_kept_haar_inverse(rng, height, width, channels, lanes, value_bits,
                                                          word_bits, keep, levels, backpressure):
    """The reader alone, its memories served by the testbench: each bitmap word beside its base rank counted
    here, the kept vectors in ascending position order."""
    spec, cases, expected = inverse_case(rng, height, width, channels, lanes, value_bits, word_bits, keep, levels,
                                         frames=1)
    (mask, values), = cases
    words = bitmap_words(mask, word_bits)
    bases = np.cumsum([0] + [bin(word).count("1") for word in words[:-1]])
    dut = KeptHaarInverse(spec)
    frames, received, marks = 2, [], []
    clock, started, first_out = [0], [], []

    async def watch(ctx):
        while True:
            if ctx.get(dut.pixels.valid) and not first_out:
                first_out.append(clock[0])
            clock[0] += 1
            await ctx.tick()

    async def run(ctx):
        for _ in range(frames):
            started.append(clock[0])
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            issued = done = False
            while not done:
                issued |= bool(ctx.get(dut.issued))
                done = bool(ctx.get(dut.done))
                await ctx.tick()
            marks.append(issued)

    memories = [read_port_server(dut.mask_read, [w | int(b) << word_bits for w, b in zip(words, bases)],
                                 BlockRAM.LATENCY),
                read_port_server(dut.value_read, code_entries(values, lanes, value_bits), BlockRAM.LATENCY)]
    simulate(dut, run, stream_collector(dut.pixels, frames * beats_per_frame(spec), received,
                                        backpressure=backpressure), background=[*memories, watch])
    assert received == expected * frames and marks == [True] * frames
    assert first_out[0] - started[0] == spec.latency


def test_kept_haar_inverse_spec_refuses_frames_not_made_of_blocks():
    with pytest.raises(ValueError, match="blocks"):
        KeptHaarInverseSpec(padded_height=12, padded_width=16, channels=2, lanes=1, value_bits=8, word_bits=8,
                            keep=4, levels=3)
    with pytest.raises(ValueError, match="levels"):
        KeptHaarInverseSpec(padded_height=16, padded_width=16, channels=2, lanes=1, value_bits=8, word_bits=8,
                            keep=4, levels=0)
    spec = KeptHaarInverseSpec(padded_height=16, padded_width=16, channels=64, lanes=8, value_bits=20,
                               word_bits=32, keep=64, levels=3)
    assert spec.out_bits == 25 and spec.mask_entry_bits == 32 + 7 and spec.quads == 16
