"""BlockRAMQueue against a FIFO model, in Amaranth's simulator: random writes and reads, the queue filled to its
depth, and one entry per cycle through it when neither side waits."""

import numpy as np
import pytest
from amaranth.lib import data
from amaranth.sim import Simulator

from wccgen.hw.block_ram_queue import BlockRAMQueue

ENTRY = data.StructLayout({"value": 10})


def run_queue(depth, write_probability, read_probability, count=300, seed=0, stall_reads_for=0):
    """Write ``count`` numbered entries and read them back; return what was read, the cycles of the reads, and
    the most entries inside the queue at once."""
    queue = BlockRAMQueue(ENTRY, depth)
    rng = np.random.default_rng(seed)
    received, read_cycles, inside = [], [], [0]

    async def bench(ctx):
        sent, cycle = 0, 0
        while len(received) < count:
            assert cycle < 40 * count, "the queue stopped"
            writing = sent < count and rng.random() < write_probability
            reading = cycle >= stall_reads_for and rng.random() < read_probability
            ctx.set(queue.w.valid, writing)
            ctx.set(queue.w.payload.value, sent)
            ctx.set(queue.r.ready, reading)
            if writing and ctx.get(queue.w.ready):
                sent += 1
            if reading and ctx.get(queue.r.valid):
                received.append(ctx.get(queue.r.payload.value))
                read_cycles.append(cycle)
            inside[0] = max(inside[0], sent - len(received))
            await ctx.tick()
            cycle += 1

    sim = Simulator(queue)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return received, read_cycles, inside[0]


@pytest.mark.parametrize("depth,write,read,seed", [(16, 0.7, 0.4, 1), (16, 0.3, 0.9, 2), (5, 0.9, 0.5, 3),
                                                    (4, 0.8, 0.8, 4)])
def test_every_entry_comes_out_once_in_order(depth, write, read, seed):
    received, _, _ = run_queue(depth, write, read, seed=seed)
    assert received == list(range(300))


def test_a_full_queue_holds_its_depth_and_loses_nothing():
    """Reads wait 200 cycles: the writer fills the block RAM (and the registers behind it) and is held off."""
    received, _, inside = run_queue(32, 1.0, 1.0, count=120, stall_reads_for=200)
    assert received == list(range(120))
    assert 32 - 1 <= inside <= 32 + 16


def test_one_entry_per_cycle_when_neither_side_waits():
    _, cycles, _ = run_queue(16, 1.0, 1.0, count=200)
    assert cycles[-1] - cycles[0] == 199


def test_a_depth_below_four_is_refused():
    with pytest.raises(ValueError, match="depth: must be at least 4, got 3"):
        BlockRAMQueue(ENTRY, 3)
