"""Multiplier: on ECP5 one MULT18X18D with its registers when the operands fit, the generic one otherwise."""

import numpy as np
import pytest
from amaranth.hdl import signed, unsigned
from amaranth.sim import Simulator

from wccgen.gen.lint import lint_verilog
from wccgen.gen.verilog import emit_verilog, simulation_models
from wccgen.hw.multiplier import Multiplier


@pytest.mark.parametrize("a_shape,b_shape,hard", [
    (signed(14), signed(14), True), (signed(18), unsigned(15), True), (unsigned(17), unsigned(17), True),
    (signed(19), unsigned(15), False), (unsigned(18), signed(8), False),
])
def test_ecp5_uses_the_hard_multiplier_when_the_operands_fit(tmp_path, a_shape, b_shape, hard):
    text = emit_verilog(Multiplier(a_shape, b_shape), "mul", {}, target="ecp5")
    assert ("MULT18X18D" in text) == hard
    path = tmp_path / "mul.v"
    path.write_text(text)
    lint_verilog(path, top="mul", models=simulation_models("ecp5"))


def bounds(shape):
    if shape.signed:
        return -(1 << (shape.width - 1)), (1 << (shape.width - 1)) - 1
    return 0, (1 << shape.width) - 1


@pytest.mark.parametrize("a_shape,b_shape", [(signed(14), signed(14)), (signed(20), unsigned(15)),
                                             (unsigned(6), signed(5))])
def test_generic_product_after_three_cycles(a_shape, b_shape):
    """Against Python's integers, on the operands' extremes and random values."""
    dut = Multiplier(a_shape, b_shape)
    rng = np.random.default_rng(0)
    a_lo, a_hi = bounds(a_shape)
    b_lo, b_hi = bounds(b_shape)
    extremes = [(a, b) for a in (a_lo, a_hi, 0) for b in (b_lo, b_hi, 0)]
    pairs = extremes + [(int(rng.integers(a_lo, a_hi + 1)), int(rng.integers(b_lo, b_hi + 1))) for _ in range(50)]
    seen = []

    async def bench(ctx):
        for index in range(len(pairs) + Multiplier.LATENCY):
            if index < len(pairs):
                ctx.set(dut.a, pairs[index][0])
                ctx.set(dut.b, pairs[index][1])
            await ctx.tick()
            if index >= Multiplier.LATENCY - 1 and len(seen) < len(pairs):
                seen.append(ctx.get(dut.p))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [a * b for a, b in pairs]
