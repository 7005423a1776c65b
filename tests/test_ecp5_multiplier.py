"""Multiplier on ECP5: every product from MULT18X18D hard multipliers (several for wide operands), none inferred,
and the Verilog lints against the primitives' models. (The blocks' ECP5 tests check the products bit for bit.)"""

import pytest
from amaranth.hdl import signed, unsigned

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
