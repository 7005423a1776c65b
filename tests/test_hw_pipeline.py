"""Pipeline helpers shared by the blocks, in Amaranth's simulator against plain Python."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from wccgen.hw.pipeline import wrapping_counter


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_wrapping_counter_flags_follow_a_python_counter(count):
    """The count, its last-value flag and the flag's next value, on a random step pattern."""
    step = Signal()
    m = Module()
    value, at_last, next_last = wrapping_counter(m, step, count, "count", next_last=True)
    seen_next = Signal()
    m.d.comb += seen_next.eq(next_last)
    steps = np.random.default_rng(count).random(6 * count + 20) < 0.6
    wrong = []

    async def bench(ctx):
        expected = 0
        for cycle, stepping in enumerate(steps):
            ctx.set(step, int(stepping))
            following = (expected + 1) % count if stepping else expected
            got = (ctx.get(value), ctx.get(at_last), ctx.get(seen_next))
            if got != (expected, int(expected == count - 1), int(following == count - 1)):
                wrong.append((cycle, expected, got))
            await ctx.tick()
            expected = following

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert wrong == []
