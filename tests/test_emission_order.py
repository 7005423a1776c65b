"""The emission order: the golden order against a brute-force sort, and the hardware walker against the golden order."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal

from wccgen.golden.emission_order import emission_order
from wccgen.hw.emission_order import emission_position, emission_walker

from helpers import simulate

SHAPES = [(2, 2, 1), (4, 4, 2), (8, 4, 2), (8, 8, 3), (16, 8, 3), (8, 24, 3), (16, 16, 4), (12, 6, 1)]


def mallat_place(row, col, height, width, levels):
    """``(level, subband, block_row, block_col)`` of a Mallat position: subband 0 top-right, 1 bottom-left,
    2 bottom-right, 3 the coarsest LL."""
    for level in range(1, levels + 1):  # the finest quadrant that holds the position
        rows, cols = height >> level, width >> level
        below, right = row >= rows, col >= cols
        if below or right or level == levels:
            subband = 3 if not (below or right) else {(False, True): 0, (True, False): 1, (True, True): 2}[
                below, right]
            return level, subband, row - rows * below, col - cols * right


def brute_force_order(height, width, levels):
    """Each Mallat position, sorted by when the transform can send it: the raster index of the pixel that
    completes its block, then its level, then its subband (top-right, bottom-left, bottom-right, LL)."""
    keys = []
    for row in range(height):
        for col in range(width):
            level, subband, block_row, block_col = mallat_place(row, col, height, width, levels)
            # The block covers pixels (block_row << level) ... and is complete at its bottom-right one.
            last_row, last_col = ((block_row + 1) << level) - 1, ((block_col + 1) << level) - 1
            keys.append((last_row * width + last_col, level, subband, row * width + col))
    return [key[-1] for key in sorted(keys)]


@pytest.mark.parametrize("height,width,levels", SHAPES)
def test_emission_order_matches_the_brute_force_sort(height, width, levels):
    order = emission_order(height, width, levels)
    assert sorted(order.tolist()) == list(range(height * width))
    assert order.tolist() == brute_force_order(height, width, levels)


@pytest.mark.parametrize("height,width,levels", [(6, 8, 2), (8, 8, 0), (0, 8, 1), (8, 8, 7)])
def test_emission_order_refuses_sizes_that_are_not_whole_blocks(height, width, levels):
    with pytest.raises(ValueError):
        emission_order(height, width, levels)


@pytest.mark.parametrize("height,width,groups,levels", [(2, 2, 1, 1), (4, 4, 3, 2), (8, 8, 2, 3), (16, 8, 1, 3),
                                                        (8, 24, 2, 3), (16, 16, 1, 4)])
def test_emission_walker_follows_the_golden_order(height, width, groups, levels):
    step = Signal()
    m = Module()
    walk = emission_walker(m, step, height, width, groups, levels, "out")
    position = Signal(range(height * width), name="seen_position")
    m.d.comb += position.eq(emission_position(walk, height, width, levels))
    names = ("first", "group_last", "frame_last", "segment_start", "segment_last")
    flags = {name: Signal(name=f"seen_{name}") for name in names}
    for name, signal in flags.items():
        m.d.comb += signal.eq(getattr(walk, name))
    steps = np.random.default_rng(height * width * groups).random(3 * height * width * groups + 10) < 0.8
    observed = []

    async def bench(ctx):
        for stepping in steps:
            ctx.set(step, int(stepping))
            if stepping:
                observed.append((ctx.get(position), ctx.get(walk.group), ctx.get(walk.level), ctx.get(walk.at_level),
                                 *(ctx.get(flags[name]) for name in names)))
            await ctx.tick()

    simulate(m, bench)
    order = emission_order(height, width, levels).tolist()
    beats = len(order) * groups
    places = [mallat_place(p // width, p % width, height, width, levels) for p in order]
    # A segment: one block's top-right, bottom-left and bottom-right details, and at the coarsest level its LL.
    ends = [subband == 3 or (subband == 2 and level != levels) for level, subband, _, _ in places]
    expected = [(p, g, level, 1 << (level - 1), int(i == 0 and g == 0), int(g == groups - 1),
                 int(i == len(order) - 1 and g == groups - 1), int(subband == 0 and g == 0),
                 int(end and g == groups - 1))
                for i, (p, (level, subband, _, _), end) in enumerate(zip(order, places, ends)) for g in range(groups)]
    frames = -(-len(observed) // beats)
    assert len(observed) > 2 * beats  # the walker wraps into a third frame
    assert observed == (expected * frames)[:len(observed)]
