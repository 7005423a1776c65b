"""Pipeline helpers shared by the blocks, in Amaranth's simulator against plain Python."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal
from amaranth.sim import Simulator

from wccgen.hw.pipeline import wrapping_counter
from wccgen.hw.stream_relay import StreamRelay


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



def run_relay(beats, idle, stall):
    """Drive a StreamRelay; return the (cycle, payload) received and the cycles where ``i.ready`` changed with
    ``o.ready``."""
    relay = StreamRelay(8)
    received, combinational = [], []

    async def bench(ctx):
        sent = 0
        for cycle in range(len(idle)):
            offer = sent < len(beats) and not idle[cycle]
            ctx.set(relay.i.valid, offer)
            ctx.set(relay.i.payload, beats[sent] if offer else 0)
            readies = []
            for sink_ready in (0, 1):
                ctx.set(relay.o.ready, sink_ready)
                readies.append(ctx.get(relay.i.ready))
            if readies[0] != readies[1]:
                combinational.append(cycle)
            ctx.set(relay.o.ready, not stall[cycle])
            if ctx.get(relay.o.valid) and not stall[cycle]:
                received.append((cycle, ctx.get(relay.o.payload)))
            if offer and ctx.get(relay.i.ready):
                sent += 1
            await ctx.tick()

    sim = Simulator(relay)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return received, combinational


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stream_relay_passes_every_beat_in_order(seed):
    """Random idle and backpressure: the beats come out in order, none lost or doubled, and ``i.ready`` never
    follows ``o.ready`` within a cycle."""
    rng = np.random.default_rng(seed)
    beats = [int(v) for v in rng.integers(0, 256, size=150)]
    received, combinational = run_relay(beats, rng.random(600) < 0.3, rng.random(600) < 0.4)
    assert [payload for _, payload in received] == beats
    assert combinational == []


def test_stream_relay_passes_a_beat_per_cycle():
    """Source always valid, sink always ready: beat n leaves at cycle n + LATENCY."""
    beats = list(range(40))
    received, _ = run_relay(beats, [False] * 60, [False] * 60)
    assert received == [(n + StreamRelay.LATENCY, n) for n in beats]
