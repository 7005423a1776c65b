"""The memory map of a design: every memory's width, depth and primitives, against the specs' own bit counts and
against what Yosys builds from the emitted ECP5 Verilog."""

import json
import re

import pytest
from amaranth.hdl import Elaboratable, Module, Signal
from amaranth.lib.memory import Memory

from wccgen.gen.layer import generate, layer_from_bundle
from wccgen.gen.synth import map_cells
from wccgen.golden.bundle import random_bundle
from wccgen.hw.ecp5_block_ram import DENSE_DEPTH, LUT_RAM_WORDS
from wccgen.hw.haar_inverse import HaarInverse, HaarInverseSpec
from wccgen.hw.memory_map import MemoryUse, memory_map, memory_totals
from wccgen.hw.subbands import subbands
from wccgen.hw.verilog import emit_verilog
from wccgen.hw.wcc_layer import WccLayer, WccLayerSpec
from wccgen.spec.wcc_config import WccConfig

#: A layer with block RAM of several modes (18- and 36-bit), LUT RAM and read-only tables.
CONFIG = WccConfig(height=16, width=16, channels_in=16, channels_out=16, levels=2, rate=0.25)


def test_the_inverse_transforms_subband_memories_hold_the_bits_its_spec_counts():
    spec = HaarInverseSpec(height=16, width=16, channels=16, lanes=4, levels=3, in_bits=19, banks=2)
    uses = [use for use in memory_map(HaarInverse(spec)) if use.path.startswith("mem_")]
    assert [use.path for use in uses] == [f"mem_l{level}_{name}" for level, name in subbands(3)]
    assert sum(use.bits for use in uses) == spec.memory_bits
    for use, (level, _) in zip(uses, subbands(3)):
        assert (use.width, use.depth) == (4 * 19, spec.banks * spec.subband_depth(level))
    # 76-bit words: 512 and 128 deep in three 36-bit blocks; level 3's 32 words in two LUT RAM cells x 19.
    assert [(use.kind, use.mode, use.dp16kd, use.lut_ram) for use in uses] == \
        [("DP16KD", 36, 3, 0)] * 6 + [("LUT RAM", None, 0, 2 * 19)] * 4


def test_shallow_memories_go_to_lut_ram_up_to_the_threshold():
    spec = HaarInverseSpec(height=16, width=16, channels=16, lanes=4, levels=3, in_bits=19, banks=2)
    # Level 3: 2 banks x 4 positions x 4 groups = 32 words; level 2: 128.
    for words, level3, level2 in ((16, "DP16KD", "DP16KD"), (LUT_RAM_WORDS, "LUT RAM", "DP16KD"),
                                  (DENSE_DEPTH, "LUT RAM", "DP16KD"), (128, "LUT RAM", "LUT RAM")):
        uses = {use.path: use for use in memory_map(HaarInverse(spec), lut_ram_words=words)}
        assert (uses["mem_l3_ll"].kind, uses["mem_l2_top_right"].kind) == (level3, level2), words
    assert uses["mem_l2_top_right"].lut_ram == 8 * 19 and uses["mem_l2_top_right"].dp16kd == 0


def test_fill_and_totals():
    use = MemoryUse("haar_inverse.mem_l3_ll", 152, 64, "DP16KD", mode=36, dp16kd=5)
    assert use.block == "haar_inverse" and use.fill == pytest.approx(152 * 64 / (5 * 512 * 36))
    assert MemoryUse("queue", 32, 22, "LUT RAM", lut_ram=16).fill is None
    totals = memory_totals([use, MemoryUse("haar_inverse.queue", 32, 22, "LUT RAM", lut_ram=16),
                            MemoryUse("scatter.masks", 32, 16, "LUT RAM", lut_ram=8)])
    assert totals == {"haar_inverse": {"dp16kd": 5, "lut_ram": 16, "bits": 152 * 64 + 32 * 22},
                      "scatter": {"dp16kd": 0, "lut_ram": 8, "bits": 512}}


class _WrittenMemory(Elaboratable):
    def elaborate(self, platform):
        m = Module()
        m.submodules.table = memory = Memory(shape=8, depth=100, init=[])
        write = memory.write_port()
        address = Signal(range(100))
        m.d.sync += address.eq(address + 1)
        m.d.comb += [write.addr.eq(address), write.data.eq(address), write.en.eq(1)]
        return m


def test_a_memory_yosys_would_map_as_it_chooses_is_named():
    with pytest.raises(ValueError, match=r"^table: a 8 x 100 memory outside a BlockRAM"):
        memory_map(_WrittenMemory())


def test_yosys_builds_the_primitives_the_map_counts(tmp_path):
    """The independent count: Yosys's cells after ``synth_ecp5`` of the emitted Verilog."""
    layer = WccLayer(WccLayerSpec(bundle=random_bundle(CONFIG, seed=1)))
    uses = memory_map(layer)
    assert any(LUT_RAM_WORDS // 2 < use.depth <= LUT_RAM_WORDS and use.kind == "LUT RAM" for use in uses)
    assert {use.kind for use in uses} == {"DP16KD", "LUT RAM", "ROM"}
    assert len({use.mode for use in uses if use.kind == "DP16KD"}) >= 2
    (tmp_path / "layer.v").write_text(emit_verilog(layer, "layer", {}, target="ecp5"))
    _, _, cells = map_cells(tmp_path / "layer.v", "layer", tmp_path)
    assert cells.get("DP16KD", 0) == sum(use.dp16kd for use in uses) > 0
    assert cells.get("TRELLIS_DPR16X4", 0) == sum(use.lut_ram for use in uses) > 0


def test_generate_records_the_block_ram_its_verilog_instantiates(tmp_path):
    random_bundle(CONFIG, seed=2).save(tmp_path / "bundle")
    manifest = generate(layer_from_bundle(tmp_path / "bundle"), tmp_path / "layer", device="ecp5-85f")
    assert manifest == json.loads((tmp_path / "layer" / "manifest.json").read_text())
    block_ram = manifest["block_ram"]
    verilog = (tmp_path / "layer" / manifest["verilog"]).read_text()
    assert block_ram["dp16kd"] == len(re.findall(r"^\s*DP16KD #\(", verilog, re.M)) > 0
    assert block_ram["dp16kd"] == sum(block["dp16kd"] for block in block_ram["by_block"].values())
    assert {"haar_forward", "haar_inverse", "reorder", "unpacker"} <= set(block_ram["by_block"])
    generic = generate(layer_from_bundle(tmp_path / "bundle"), tmp_path / "generic", device="generic")
    assert generic["block_ram"] is None  # the synthesis tool chooses
