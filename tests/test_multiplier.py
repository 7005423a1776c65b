"""Multiplier (generic) in Amaranth's simulator against Python's integers, after its latency."""

import numpy as np
import pytest
from amaranth.hdl import signed, unsigned
from amaranth.sim import Simulator

from wccgen.hw.multiplier import Multiplier, operand_chunks


def bounds(shape):
    if shape.signed:
        return -(1 << (shape.width - 1)), (1 << (shape.width - 1)) - 1
    return 0, (1 << shape.width) - 1


@pytest.mark.parametrize("a_shape,b_shape,latency", [(signed(14), signed(14), 3), (signed(20), unsigned(15), 4),
                                                     (unsigned(6), signed(5), 3), (signed(40), signed(16), 5)])
def test_generic_product_after_its_latency(a_shape, b_shape, latency):
    """Against Python's integers, on the operands' extremes and random values."""
    dut = Multiplier(a_shape, b_shape)
    assert dut.latency == latency
    rng = np.random.default_rng(0)
    a_lo, a_hi = bounds(a_shape)
    b_lo, b_hi = bounds(b_shape)
    extremes = [(a, b) for a in (a_lo, a_hi, 0) for b in (b_lo, b_hi, 0)]
    pairs = extremes + [(int(rng.integers(a_lo, a_hi + 1)), int(rng.integers(b_lo, b_hi + 1))) for _ in range(50)]
    seen = []

    async def bench(ctx):
        for index in range(len(pairs) + dut.latency):
            if index < len(pairs):
                ctx.set(dut.a, pairs[index][0])
                ctx.set(dut.b, pairs[index][1])
            await ctx.tick()
            if index >= dut.latency - 1 and len(seen) < len(pairs):
                seen.append(ctx.get(dut.p))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [a * b for a, b in pairs]


@pytest.mark.parametrize("shape", [signed(18), unsigned(17), unsigned(18), signed(19), signed(40), unsigned(52)])
def test_operand_chunks_fit_a_port_and_rebuild_the_operand(shape):
    """Each chunk fits an 18-bit signed port, and the chunks' values, shifted to their offsets, add up to the
    operand, for its extremes and random values."""
    chunks = operand_chunks(shape)
    assert all(width + (0 if is_signed else 1) <= 18 for _, width, is_signed in chunks)
    low, high = bounds(shape)
    rng = np.random.default_rng(shape.width)
    for value in [low, high, 0, -1 if shape.signed else 1, *(int(v) for v in rng.integers(low, high, size=50))]:
        bits = value & ((1 << shape.width) - 1)
        total = 0
        for offset, width, is_signed in chunks:
            chunk = (bits >> offset) & ((1 << width) - 1)
            if is_signed and chunk >> (width - 1):
                chunk -= 1 << width
            total += chunk << offset
        assert total == value
