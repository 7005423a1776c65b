"""Generation targets: generic Verilog infers memories and products; ECP5 Verilog builds them from primitives."""

import pytest

from wccgen.hw.block_ram import BlockRAM
from wccgen.hw.multiplier import Multiplier
from wccgen.hw.targets import TARGET_PLATFORMS, platform_for
from wccgen.hw.verilog import emit_verilog


def test_each_target_has_its_platform():
    assert platform_for("generic") is None
    assert platform_for("ecp5").name == "ecp5"
    assert set(TARGET_PLATFORMS) == {"generic", "ecp5"}


@pytest.mark.parametrize("bad", ["ECP5", "", None])
def test_unknown_targets_are_refused_with_the_choices(bad):
    with pytest.raises(ValueError, match="target: unknown target .*; choose one of generic, ecp5"):
        platform_for(bad)


@pytest.mark.parametrize("target,primitives,inferred", [("generic", (), ("reg [9:0] memory", " * ")),
                                                        ("ecp5", ("DP16KD ", "MULT18X18D "), ())])
def test_a_target_decides_how_memories_and_products_are_built(target, primitives, inferred):
    ram = emit_verilog(BlockRAM(shape=10, depth=600), "ram", {}, target=target)
    product = emit_verilog(Multiplier(16, 16), "product", {}, target=target)
    for text in primitives:
        assert text in ram + product
    for text in inferred:
        assert text in ram + product
    if target == "generic":
        assert "DP16KD" not in ram and "MULT18X18D" not in product
