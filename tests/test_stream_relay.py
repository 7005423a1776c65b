"""StreamRelay in Amaranth's simulator: every beat once and in order, ``i.ready`` never from ``o.ready``."""

import numpy as np
import pytest

from wccgen.hw.stream_relay import StreamRelay

from helpers import simulate


def run_relay(beats, idle, stall, width=8):
    """Drive a StreamRelay of a ``width``-bit payload; return the (cycle, payload) received and the cycles where
    ``i.ready`` changed with ``o.ready``."""
    relay = StreamRelay(width)
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

    simulate(relay, bench)
    return received, combinational


@pytest.mark.parametrize("width", [8, 2 * StreamRelay.CHUNK_BITS + 7])  # one slice, three slices
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stream_relay_passes_every_beat_in_order(seed, width):
    """Random idle and backpressure: the beats come out in order, none lost or doubled (each slice of a wide
    payload in step with the others), and ``i.ready`` never follows ``o.ready`` within a cycle."""
    rng = np.random.default_rng(seed)
    beats = [int.from_bytes(rng.bytes(-(-width // 8)), "little") % (1 << width) for _ in range(150)]
    received, combinational = run_relay(beats, rng.random(600) < 0.3, rng.random(600) < 0.4, width)
    assert [payload for _, payload in received] == beats
    assert combinational == []


def test_stream_relay_passes_a_beat_per_cycle():
    """Source always valid, sink always ready: beat n leaves at cycle n + LATENCY."""
    beats = list(range(40))
    received, _ = run_relay(beats, [False] * 60, [False] * 60)
    assert received == [(n + StreamRelay.LATENCY, n) for n in beats]
