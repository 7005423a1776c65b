"""The pipeline helpers the blocks share, in Amaranth's simulator against plain Python: delays, trees of sums and
ORs, running sums, the wrapping counter, the stepped count, the constant comparison."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed
from amaranth.sim import Simulator

from wccgen.hw.pipeline import (compare_constant, delay, or_tree, or_tree_depth, prefix_sums, prefix_sums_depth,
                                stepped_count, sum_tree, sum_tree_depth, wrapping_counter)

from helpers import simulate


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


def registered_outputs(m, values, name):
    """Each value copied to a named signal of its own, so the testbench can read it."""
    outputs = []
    for index, value in enumerate(values):
        output = Signal.like(value, name=f"{name}{index}")
        m.d.comb += output.eq(value)
        outputs.append(output)
    return outputs


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 9])
def test_trees_and_running_sums_after_their_depth(count):
    """sum_tree, or_tree and prefix_sums give Python's sum, OR and running sums exactly ``*_depth`` cycles after
    their inputs, one result per cycle."""
    rng = np.random.default_rng(count)
    inputs = [Signal(8, name=f"in{i}") for i in range(count)]
    m = Module()
    total = registered_outputs(m, [sum_tree(m, inputs, range(255 * count + 1), "sum")], "total")[0]
    ored = registered_outputs(m, [or_tree(m, inputs, "or")], "ored")[0]
    running = registered_outputs(m, prefix_sums(m, inputs, range(255 * count + 1), "run"), "running")
    toggle = Signal()
    m.d.sync += toggle.eq(~toggle)  # a clock domain even where the trees have no register (one input)
    vectors = rng.integers(0, 256, size=(40, count))
    seen = []

    async def bench(ctx):
        for cycle in range(len(vectors) + 8):
            for signal, value in zip(inputs, vectors[cycle % len(vectors)]):
                ctx.set(signal, int(value))
            seen.append((ctx.get(total), ctx.get(ored), [ctx.get(r) for r in running]))
            await ctx.tick()

    simulate(m, bench)
    for cycle, vector in enumerate(vectors):
        assert seen[cycle + sum_tree_depth(count)][0] == int(vector.sum())
        assert seen[cycle + or_tree_depth(count)][1] == int(np.bitwise_or.reduce(vector))
        assert seen[cycle + prefix_sums_depth(count)][2] == np.cumsum(vector).tolist()


def test_delay_moves_only_while_enabled():
    """``delay`` by three registers: the value ``cycles`` later, or ``cycles`` enabled cycles later with ``en``."""
    value, enable = Signal(8), Signal()
    m = Module()
    plain = registered_outputs(m, [delay(m, value, 3, "plain")], "plain_out")[0]
    gated = registered_outputs(m, [delay(m, value, 3, "gated", en=enable)], "gated_out")[0]
    rng = np.random.default_rng(7)
    values, enables = rng.integers(0, 256, size=60), rng.random(60) < 0.5
    seen = []

    async def bench(ctx):
        for v, e in zip(values, enables):
            ctx.set(value, int(v))
            ctx.set(enable, int(e))
            seen.append((ctx.get(plain), ctx.get(gated)))
            await ctx.tick()

    simulate(m, bench)
    assert [p for p, _ in seen[3:]] == values[:-3].tolist()
    # The gated chain shifts on enabled cycles only: after the n-th enabled cycle it holds the value entered
    # three enabled cycles before.
    entered = []
    for cycle, (v, e) in enumerate(zip(values, enables)):
        if cycle and enables[cycle - 1]:
            entered.append(int(values[cycle - 1]))
        expected = entered[-3] if len(entered) >= 3 else 0
        assert seen[cycle][1] == expected


@pytest.mark.parametrize("width", [2, 3, 5, 8])
def test_compare_constant_against_every_value(width):
    """The lookup comparison of the clamp, exhaustively against Python's, for bounds inside and outside the range."""
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    constants = sorted({lo - 1, lo, lo + 1, -1, 0, 1, hi - 1, hi, hi + 1})
    value = Signal(signed(width))
    m = Module()
    flags = []
    for constant in constants:
        less, greater = Signal(name=f"less{len(flags)}"), Signal(name=f"greater{len(flags)}")
        m.d.comb += [less.eq(compare_constant(value, constant)[0]), greater.eq(compare_constant(value, constant)[1])]
        flags.append((constant, less, greater))
    wrong = []

    async def bench(ctx):
        for x in range(lo, hi + 1):
            ctx.set(value, x)
            for constant, less, greater in flags:
                if (ctx.get(less), ctx.get(greater)) != (int(x < constant), int(x > constant)):
                    wrong.append((x, constant))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert wrong == []


@pytest.mark.parametrize("width", [1, 3])
def test_stepped_count_against_every_value_and_step(width):
    """``count + up - down``, exhaustively against Python's, wrapping at the register's width as the sum would."""
    count, up, down = Signal(width), Signal(), Signal()
    result = Signal(width)
    m = Module()
    m.d.comb += result.eq(stepped_count(count, up, down))
    wrong = []

    async def bench(ctx):
        for value in range(1 << width):
            for u in (0, 1):
                for d in (0, 1):
                    ctx.set(count, value)
                    ctx.set(up, u)
                    ctx.set(down, d)
                    if ctx.get(result) != (value + u - d) % (1 << width):
                        wrong.append((value, u, d))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert wrong == []
