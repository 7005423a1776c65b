"""RasterReorder in Amaranth's simulator: frames in block order (``block_order``) in, the same frames in raster
order out, cropped, under idle and backpressure; its parameters."""

import numpy as np
import pytest

from wccgen.golden.kept_haar_inverse import block_order
from wccgen.hw.raster_reorder import RasterReorder, RasterReorderSpec

from helpers import frame_beats, padded, simulate, stream_collector, stream_sender


@pytest.mark.parametrize("height,width,channels,lanes,levels,bits,idle,backpressure", [
    (16, 16, 4, 2, 3, 8, 0.0, 0.0),   # the default layer's geometry, fewer channels
    (9, 13, 3, 1, 2, 6, 0.3, 0.5),    # cropped rows and columns, a band of one row
    (4, 6, 2, 2, 1, 5, 0.1, 0.3),     # one level, bands of two rows
    (8, 8, 6, 3, 3, 9, 0.0, 0.7),     # one block, one band
    (16, 8, 2, 1, 1, 4, 0.2, 0.4),    # in place: eight bands a frame, the address phases wrap (five)
    (13, 14, 2, 1, 2, 7, 0.3, 0.3),   # in place, cropped rows and columns
])
def test_raster_reorder_block_returns_frames_to_raster_order(rng, height, width, channels, lanes, levels, bits,
                                                             idle, backpressure):
    spec = RasterReorderSpec(height=height, width=width, channels=channels, lanes=lanes, levels=levels, bits=bits)
    frames = [rng.integers(-2 ** (bits - 1), 2 ** (bits - 1),
                           size=(channels, padded(height, levels), padded(width, levels))) for _ in range(3)]
    frames[0][:] = -2 ** (bits - 1)  # the extremes survive the memory
    sent, expected = [], []
    for frame in frames:
        beats = block_order(frame, levels, lanes)
        sent += [{"data": [int(v) for v in beat], "first": int(n == 0), "last": int(n == len(beats) - 1)}
                 for n, beat in enumerate(beats)]
        expected += frame_beats(frame[:, :height, :width], lanes)
    dut = RasterReorder(spec)
    received = []
    simulate(dut, stream_sender(dut.blocks, sent, idle=idle, seed=height),
             stream_collector(dut.pixels, len(expected), received, backpressure=backpressure, seed=width))
    for n, (got, want) in enumerate(zip(received, expected)):
        assert got == want, f"beat {n}: {got} != {want}"
    assert len(received) == len(expected)


def test_raster_reorder_keeps_pace_and_states_its_latency(rng):
    """With a source that never pauses and a sink always ready, one band is written while the one before is read:
    a frame takes its beats and at most two cycles per band (in place, a band's last write waits for the last read
    before it, and is in memory before the band's first read)."""
    spec = RasterReorderSpec(height=16, width=16, channels=4, lanes=2, levels=3, bits=8)
    frames = [rng.integers(-128, 128, size=(4, 16, 16)) for _ in range(3)]
    sent = []
    for frame in frames:
        beats = block_order(frame, 3, 2)
        sent += [{"data": [int(v) for v in beat], "first": int(n == 0), "last": int(n == len(beats) - 1)}
                 for n, beat in enumerate(beats)]
    dut = RasterReorder(spec)
    firsts, cycle = [], [0]

    async def watch(ctx):
        while True:
            if ctx.get(dut.pixels.valid) and ctx.get(dut.pixels.payload.first):
                firsts.append(cycle[0])
            cycle[0] += 1
            await ctx.tick()
    received = []
    simulate(dut, stream_sender(dut.blocks, sent), stream_collector(dut.pixels, 3 * 512, received),
             background=(watch,))
    assert firsts[0] == spec.latency
    intervals = np.diff(firsts)
    assert spec.in_place
    assert len(intervals) == 2 and intervals.max() <= spec.beats_in + 2 * spec.bands, intervals


def test_raster_reorder_spec_refuses_bad_parameters():
    with pytest.raises(ValueError, match="bits"):
        RasterReorderSpec(height=8, width=8, channels=2, lanes=1, levels=3, bits=0)
    with pytest.raises(ValueError, match="lanes"):
        RasterReorderSpec(height=8, width=8, channels=3, lanes=2, levels=3)
    spec = RasterReorderSpec(height=9, width=13, channels=3, lanes=1, levels=2)
    assert (spec.bands, spec.band_entries, spec.beats_in, spec.beats_out) == (3, 4 * 16 * 3, 12 * 16 * 3, 9 * 13 * 3)


@pytest.mark.parametrize("height,width,channels,lanes,levels", [
    (16, 16, 64, 8, 3), (16, 8, 2, 1, 1), (8, 8, 6, 3, 3), (32, 32, 16, 4, 2), (8, 16, 1, 1, 3)])
def test_the_address_phases_are_the_powers_of_the_block_order_permutation(height, width, channels, lanes, levels):
    """Against ``block_order`` itself: a band of entries numbered in raster order, sent in block order, gives
    ``sigma`` (raster index to block-order index) as numbers; its powers, composed numerically, must be the bit
    wirings the reorder uses."""
    spec = RasterReorderSpec(height=height, width=width, channels=channels, lanes=lanes, levels=levels)
    assert spec.in_place
    side, groups = 1 << levels, channels // lanes
    # Entry (row, col, group) of a band, as one channel per group so a beat carries its raster index.
    raster = np.arange(spec.band_entries).reshape(side, spec.padded_width, groups).transpose(2, 0, 1)
    order = np.asarray(block_order(raster, levels, 1)).ravel()  # raster index of the i-th beat: rho
    sigma = np.empty_like(order)
    sigma[order] = np.arange(order.size)
    indices = np.arange(spec.band_entries)
    power = indices.copy()
    for phase in spec.address_phases:
        wired = sum(((indices >> source) & 1) << bit for bit, source in enumerate(phase))
        assert np.array_equal(wired, power)
        power = sigma[power]
    assert np.array_equal(power, indices)  # the phases end where sigma's powers return to the identity


def test_in_place_needs_powers_of_two_and_takes_one_band():
    assert RasterReorderSpec(height=16, width=16, channels=64, lanes=8, levels=3).memory_entries == 8 * 16 * 8
    spec = RasterReorderSpec(height=9, width=13, channels=3, lanes=1, levels=2)  # three groups, four blocks
    assert not spec.in_place and spec.memory_entries == 2 * spec.band_entries
    spec = RasterReorderSpec(height=4, width=6, channels=2, lanes=2, levels=1)  # one group, three blocks
    assert not spec.in_place and spec.memory_entries == 2 * spec.band_entries
