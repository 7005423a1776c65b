"""The Mallat layout in hardware: the subband list, and the subband decode of a raster counter against the
coordinates of each subband (and ``level_map``)."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal

from wccgen.hw.raster import raster_position
from wccgen.hw.subbands import DETAILS, mallat_region, subbands
from wccgen.spec.frame import level_map

from helpers import simulate


def subband_of(row, col, height, width, levels):
    """The ``(level, name)`` of a position of the Mallat layout, from the subbands' coordinates."""
    for level in range(1, levels + 1):
        half_h, half_w = height >> level, width >> level
        lower, right = row >= half_h, col >= half_w
        if lower or right:
            return level, {(False, True): "top_right", (True, False): "bottom_left", (True, True): "bottom_right"}[
                (lower, right)]
    return levels, "ll"


def test_subbands_lists_each_level_s_details_then_the_ll():
    assert subbands(2) == [(1, "top_right"), (1, "bottom_left"), (1, "bottom_right"),
                           (2, "top_right"), (2, "bottom_left"), (2, "bottom_right"), (2, "ll")]
    assert len(subbands(5)) == 3 * 5 + 1 and set(DETAILS) == {"top_right", "bottom_left", "bottom_right"}


@pytest.mark.parametrize("height,width,groups,levels", [(2, 2, 1, 1), (8, 4, 2, 2), (8, 16, 1, 3), (16, 16, 1, 4)])
def test_mallat_region_names_the_subband_of_every_position(height, width, groups, levels):
    step = Signal()
    m = Module()
    position = raster_position(m, step, height, width, groups, "pos")
    region = mallat_region(m, step, position, height, width, levels, "pos")
    flags = {key: Signal(name=f"in_{key[0]}_{key[1]}") for key in region}
    for key, flag in flags.items():
        m.d.comb += flag.eq(region[key])
    seen = []
    steps = np.random.default_rng(levels).random(2 * height * width * groups + 5) < 0.7

    async def bench(ctx):
        for stepping in steps:
            ctx.set(step, int(stepping))
            if stepping:
                seen.append((ctx.get(position.row), ctx.get(position.col),
                             [key for key, flag in flags.items() if ctx.get(flag)]))
            await ctx.tick()

    simulate(m, bench)
    assert set(region) == set(subbands(levels))
    levels_of = level_map(height, width, levels)
    for row, col, keys in seen:
        assert keys == [subband_of(row, col, height, width, levels)]
        assert keys[0][0] == levels_of[row, col]
    assert len(seen) > height * width * groups  # into a second frame
