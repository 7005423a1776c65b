"""The raster counter in Amaranth's simulator against nested Python loops, on a random step pattern."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal

from wccgen.hw.raster import raster_position

from helpers import simulate


def raster_beats(height, width, groups):
    """Every beat of a frame in order: (row, column, group) and its flags, from nested loops."""
    beats = []
    for row in range(height):
        for col in range(width):
            for group in range(groups):
                beats.append({"row": row, "col": col, "group": group, "first": int(row == col == group == 0),
                              "group_last": int(group == groups - 1),
                              "row_last": int(group == groups - 1 and col == width - 1),
                              "frame_last": int(group == groups - 1 and col == width - 1 and row == height - 1)})
    return beats


@pytest.mark.parametrize("height,width,groups", [(1, 1, 1), (1, 5, 1), (4, 1, 3), (3, 4, 2), (5, 3, 1)])
def test_raster_position_follows_nested_loops(height, width, groups):
    step = Signal()
    m = Module()
    position = raster_position(m, step, height, width, groups, "out")
    seen = {name: Signal.like(getattr(position, name) if name in ("row", "col", "group") else Signal(),
                              name=f"seen_{name}")
            for name in ("row", "col", "group", "first", "group_last", "row_last", "frame_last")}
    for name, signal in seen.items():
        m.d.comb += signal.eq(getattr(position, name))
    steps = np.random.default_rng(height * width * groups).random(4 * height * width * groups + 10) < 0.8
    expected = raster_beats(height, width, groups)
    observed = []

    async def bench(ctx):
        for stepping in steps:
            ctx.set(step, int(stepping))
            if stepping:
                observed.append({name: ctx.get(signal) for name, signal in seen.items()})
            await ctx.tick()

    simulate(m, bench)
    frames = -(-len(observed) // len(expected))
    assert len(observed) > 2 * len(expected)  # the counter wraps into a third frame
    assert observed == (expected * frames)[:len(observed)]
