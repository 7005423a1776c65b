"""Multiplier: on ECP5 MULT18X18Ds with their registers (several for wide operands); the generic one elsewhere."""

import numpy as np
import pytest
from amaranth.hdl import signed, unsigned
from amaranth.sim import Simulator

from wccgen.gen.lint import lint_verilog
from wccgen.hw.multiplier import Multiplier
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.simulators import simulation_models


@pytest.mark.parametrize("a_shape,b_shape,blocks", [
    (signed(14), signed(14), 1), (signed(18), unsigned(15), 1), (unsigned(17), unsigned(17), 1),
    (signed(19), unsigned(15), 2), (unsigned(18), signed(8), 2), (signed(40), signed(16), 3),
    (signed(36), signed(20), 6),
])
def test_ecp5_builds_every_product_from_hard_multipliers(tmp_path, a_shape, b_shape, blocks):
    mul = Multiplier(a_shape, b_shape)
    assert mul.hard_multipliers == blocks
    text = emit_verilog(mul, "mul", {}, target="ecp5")
    assert text.count("MULT18X18D ") == blocks
    assert " * " not in text
    path = tmp_path / "mul.v"
    path.write_text(text)
    lint_verilog(path, top="mul", models=simulation_models("ecp5"))


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
