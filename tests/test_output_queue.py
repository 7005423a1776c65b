"""OutputQueue against a FIFO model, in Amaranth's simulator: a producer that issues only with room (or commits to
bursts), a fixed-latency pipeline, and a sink with random backpressure."""

from collections import deque

import numpy as np
import pytest
from amaranth.lib import data
from amaranth.sim import Simulator

from wccgen.hw.output_queue import OutputQueue


def run_queue(width, latency, burst, relay_push, ready_probability, issue_probability, cycles=600, seed=0):
    """Run the queue; return the payloads the model expects in order, those received, and the cycles a beat was
    issued with the sink always ready after warm-up."""
    # A layout, as the blocks use it: the queue keeps the payload's raw bits.
    queue = OutputQueue(data.StructLayout({"bits": width}), latency, burst=burst, relay_push=relay_push)
    push_payload, out_payload = queue.push.payload.as_value(), queue.o.payload.as_value()
    rng = np.random.default_rng(seed)
    issued, received, issue_cycles = [], [], []

    async def bench(ctx):
        pipeline = deque([None] * latency)  # payload issued `latency` cycles ago, or None
        committed = 0  # beats of a burst still to issue, whatever `room` says
        for cycle in range(cycles):
            ready = rng.random() < ready_probability
            ctx.set(queue.o.ready, ready)
            if ctx.get(queue.o.valid) and ready:
                received.append(ctx.get(out_payload))
            if committed == 0 and ctx.get(queue.room) and rng.random() < issue_probability:
                committed = burst
            issue = committed > 0 and (burst == 1 or rng.random() < 0.8)
            payload = int.from_bytes(rng.bytes(-(-width // 8)), "little") % (1 << width) if issue else None
            if issue:
                committed -= 1
                issued.append(payload)
                issue_cycles.append(cycle)
            ctx.set(queue.issue, issue)
            arriving = pipeline.popleft()
            pipeline.append(payload)
            ctx.set(queue.push.valid, arriving is not None)
            ctx.set(push_payload, 0 if arriving is None else arriving)
            await ctx.tick()
        # Drain: no more issues, the sink always ready.
        ctx.set(queue.issue, 0)
        ctx.set(queue.o.ready, 1)
        for _ in range(2 * (latency + OutputQueue.push_latency(relay_push)) + burst + 16):  # beyond its depth
            arriving = pipeline.popleft()
            pipeline.append(None)
            ctx.set(queue.push.valid, arriving is not None)
            ctx.set(push_payload, 0 if arriving is None else arriving)
            if ctx.get(queue.o.valid):
                received.append(ctx.get(out_payload))
            await ctx.tick()

    sim = Simulator(queue)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return issued, received, issue_cycles


@pytest.mark.parametrize("width,latency,burst,relay_push", [
    (8, 1, 1, False),
    (8, 5, 1, True),
    (40, 3, 1, False),  # three slices of storage in lockstep, the last one narrower
    (70, 9, 4, True),  # five slices, bursts
])
@pytest.mark.parametrize("ready_probability", [1.0, 0.5, 0.1])
def test_the_queue_is_a_fifo_that_never_loses_a_beat(width, latency, burst, relay_push, ready_probability):
    """Every beat issued with room comes out once, in order, whatever the sink does."""
    issued, received, _ = run_queue(width, latency, burst, relay_push, ready_probability, issue_probability=0.9,
                                    seed=width + latency)
    assert len(issued) > 50
    assert received == issued


@pytest.mark.parametrize("latency,relay_push", [(1, False), (6, True)])
def test_one_beat_per_cycle_with_the_sink_always_ready(latency, relay_push):
    """With the sink always ready, ``room`` rises ``ROOM_DELAY`` cycles after reset and never falls: the producer
    issues every cycle."""
    issued, received, issue_cycles = run_queue(16, latency, 1, relay_push, ready_probability=1.0,
                                               issue_probability=1.0, cycles=300)
    assert received == issued
    assert issue_cycles == list(range(OutputQueue.ROOM_DELAY, 300))

