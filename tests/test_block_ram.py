"""BlockRAM (generic) in Amaranth's simulator against a Python list: a read returns, ``LATENCY`` cycles after its
address, the memory as the writes of the cycles before left it."""

import numpy as np
import pytest
from amaranth.hdl import Shape, Value, signed
from amaranth.lib import data

from wccgen.hw.block_ram import BlockRAM

from helpers import simulate


def raw(port):
    """The port's plain signal (a layout's bits)."""
    return port.as_value() if isinstance(port, data.View) else port


@pytest.mark.parametrize("shape,depth", [(8, 2), (signed(13), 37), (data.ArrayLayout(signed(5), 3), 16)])
def test_block_ram_reads_what_the_earlier_writes_left(shape, depth):
    ram = BlockRAM(shape=shape, depth=depth)
    write_data, read_data = raw(ram.write_data), raw(ram.read_data)
    width = len(Value.cast(write_data))
    low = -(1 << (width - 1)) if Shape.cast(write_data.shape()).signed else 0
    rng = np.random.default_rng(depth)
    cycles = 300
    writes = [(int(rng.integers(0, depth)), int(rng.integers(low, low + (1 << width))), bool(rng.random() < 0.5))
              for _ in range(cycles)]
    # Half the reads at the address written in the same cycle or the one before.
    reads = [writes[max(0, t - int(rng.integers(0, 2)))][0] if rng.random() < 0.5 else int(rng.integers(0, depth))
             for t in range(cycles)]
    seen = []

    async def bench(ctx):
        for t in range(cycles + BlockRAM.LATENCY):
            if t < cycles:
                address, value, enable = writes[t]
                ctx.set(ram.write_addr, address)
                ctx.set(write_data, value)
                ctx.set(ram.write_en, enable)
                ctx.set(ram.read_addr, reads[t])
            seen.append(ctx.get(read_data))
            await ctx.tick()

    simulate(ram, bench)
    model, expected = [0] * depth, []
    for t in range(cycles):
        expected.append(model[reads[t]])  # a read sees the writes of earlier cycles, not its own cycle's
        address, value, enable = writes[t]
        if enable:
            model[address] = value
    assert seen[BlockRAM.LATENCY:] == expected
    assert sum(a == b for a, b in zip(expected, expected[1:])) < cycles // 2  # the reads see changing contents
