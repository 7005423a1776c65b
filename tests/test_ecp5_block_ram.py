"""BlockRAM on ECP5: the DP16KD mode chosen for each memory shape, and the transforms built on DP16KDs (with
their output registers) bit-exact in simulation against the integer model."""

import re

import numpy as np
import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from wccgen.golden import align_levels, haar_forward, haar_inverse, photograph_codes
from wccgen.hw.block_ram import BlockRAM
from wccgen.hw.ecp5_block_ram import (DENSE_DEPTH, DP16KD_MODES, LUT_RAM_WORDS, NARROW_WIDTH, SMALL_DEPTH,
                                      dp16kd_mode)
from wccgen.hw.targets import ECP5Primitives
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.harness import run_block, toplevel_name

from helpers import assert_exact


def fewest_blocks_mode(width, depth):
    """The mode by brute force: every mode deep enough, fewest blocks side by side, then the narrowest."""
    best = None
    for mode, mode_depth in DP16KD_MODES:
        if mode_depth >= depth:
            blocks = -(-width // mode)
            if best is None or (blocks, mode) < best:
                best = (blocks, mode)
    return best[1]


@pytest.mark.parametrize("width", [1, 4, 9, 17, 32, 48, 72])
@pytest.mark.parametrize("depth", [2 * LUT_RAM_WORDS + 1, 270, 512, 513, 2048, 4097, 16384])
def test_dp16kd_mode_takes_the_fewest_blocks_then_the_narrowest(width, depth):
    assert dp16kd_mode(width, depth) == fewest_blocks_mode(width, depth)


@pytest.mark.parametrize("width", [NARROW_WIDTH + 1, 48, 72, 168])
@pytest.mark.parametrize("depth", [LUT_RAM_WORDS + 1, 2 * LUT_RAM_WORDS])
def test_a_wide_memory_past_lut_ram_words_is_dp16kd(width, depth):
    assert dp16kd_mode(width, depth) == fewest_blocks_mode(width, depth)


@pytest.mark.parametrize("width", [1, 8, NARROW_WIDTH, 48])
@pytest.mark.parametrize("depth", [1, SMALL_DEPTH, LUT_RAM_WORDS, 16385])
def test_shallow_and_very_deep_memories_are_not_dp16kd(width, depth):
    assert dp16kd_mode(width, depth) is None


@pytest.mark.parametrize("width", [1, 10, NARROW_WIDTH])
@pytest.mark.parametrize("depth", [LUT_RAM_WORDS + 1, 2 * LUT_RAM_WORDS])
def test_a_narrow_memory_up_to_twice_lut_ram_words_is_not_dp16kd(width, depth):
    """Such a memory (36 x 64: a compressor's histogram copy) would fill one DP16KD to an eighth or less."""
    assert dp16kd_mode(width, depth) is None
    assert dp16kd_mode(width, depth, lut_ram_words=SMALL_DEPTH) == fewest_blocks_mode(width, depth)


@pytest.mark.parametrize("width", [1, NARROW_WIDTH])
def test_the_narrow_rule_stops_at_64_words(width):
    """A design short of block RAM (64-word threshold) keeps narrow memories past it in DP16KD, as before."""
    assert dp16kd_mode(width, DENSE_DEPTH, lut_ram_words=DENSE_DEPTH) is None
    assert dp16kd_mode(width, DENSE_DEPTH + 1, lut_ram_words=DENSE_DEPTH) == fewest_blocks_mode(width, 65)
    assert dp16kd_mode(width, 2 * DENSE_DEPTH, lut_ram_words=DENSE_DEPTH) == fewest_blocks_mode(width, 128)


@pytest.mark.parametrize("width,depth,blocks", [(48, 270, 2), (8, 1000, 1), (36, 512, 1), (5, 16, 0)])
def test_a_block_ram_becomes_its_dp16kds(width, depth, blocks):
    text = emit_verilog(BlockRAM(shape=width, depth=depth), "ram", {}, target="ecp5")
    assert text.count("DP16KD ") == blocks
    if blocks:
        assert set(re.findall(r"\.DATA_WIDTH_B\(32'd(\d+)\)", text)) == {str(dp16kd_mode(width, depth))}


@pytest.mark.parametrize("block,height,width,lanes,modes", [
    # The forward transform's level queues (30 and 48 bits, a row of blocks deep) and its level-1 line
    # buffer (16 bits, two rows of pixels' groups) take both wide modes.
    ("HaarForward", 12, 96, 2, {"18", "36"}),
    ("HaarInverse", 36, 40, 2, {"4", "18"}),
    # One group per position: the level-2 subbands (270 entries of 48 or 32 bits) take the 36-bit mode.
    ("HaarInverse", 36, 40, 4, {"9", "36"}),
])
def test_ecp5_primitives_are_bit_exact(tmp_path, block, height, width, lanes, modes):
    """The ECP5 variant (DP16KD block RAMs with output registers) computes the same as the generic one."""
    levels = 2
    if block == "HaarForward":
        frames = [photograph_codes("rocket", height, width, 4, seed=s) for s in (0, 1, 2)]
        expected = [haar_forward(f, levels) for f in frames]
        in_bits = 8
    else:
        frames = [align_levels(haar_forward(photograph_codes("brick", height, width, 4, seed=s), levels), levels)
                  for s in (0, 1, 2)]
        expected = [haar_inverse(f, levels, height, width) for f in frames]
        in_bits = 12
    params = dict(height=height, width=width, channels=4, lanes=lanes, levels=levels, in_bits=in_bits)
    report = run_block(block, params, frames, expected, tmp_path, idle=0.2, backpressure=0.3, target="ecp5")
    verilog = (tmp_path / f"{toplevel_name(block)}.v").read_text()
    assert set(re.findall(r"\.DATA_WIDTH_B\(32'd(\d+)\)", verilog)) >= modes
    assert_exact(report)


@pytest.mark.parametrize("width,depth,mode", [
    (16, 300, 18),     # one block either way: the narrower mode
    (24, 300, 36),     # one 36-bit block instead of two 18-bit ones
    (48, 512, 36),     # two blocks instead of three
    (48, 513, 18),     # too deep for the 36-bit mode
    (48, 1080, 9),     # 9-bit is the widest mode 2048 deep: six blocks (4-bit would take twelve)
    (8, 16, None),     # shallow: LUT RAM
    (56, 32, None),    # two LUT RAM cells deep (a level-3 subband of the forward transform)
    (8, 16385, None),  # deeper than a block: inferred
])
def test_dp16kd_mode_takes_fewest_blocks(width, depth, mode):
    assert dp16kd_mode(width, depth) == mode


@pytest.mark.parametrize("depth,lut_ram_words,lut_ram", [
    (LUT_RAM_WORDS, None, True), (LUT_RAM_WORDS + 1, None, False), (SMALL_DEPTH + 1, SMALL_DEPTH, False),
    # A design short of block RAM (a network's engines) leaves memories of up to 64 words to LUT RAM.
    (DENSE_DEPTH, DENSE_DEPTH, True), (DENSE_DEPTH + 1, DENSE_DEPTH, False),
])
def test_a_shallow_block_ram_is_lut_ram(depth, lut_ram_words, lut_ram):
    """A level-3 subband of a 16x16 frame (64 words of 168 bits) would fill five DP16KD to 12 %."""
    text = emit_verilog(BlockRAM(shape=168, depth=depth), "ram", {}, target="ecp5", lut_ram_words=lut_ram_words)
    assert ("DP16KD " not in text) == lut_ram
    assert ('ram_style = "distributed"' in text) == lut_ram


@pytest.mark.parametrize("depth,lut_ram_words", [(SMALL_DEPTH + 1, DENSE_DEPTH), (40, DENSE_DEPTH),
                                                   (DENSE_DEPTH, DENSE_DEPTH), (2 * LUT_RAM_WORDS, LUT_RAM_WORDS)])
def test_lut_ram_deeper_than_a_cell_reads_what_was_written(depth, lut_ram_words):
    """A LUT RAM of several 16-word slices, simulated as the ECP5 Verilog builds it, against a list: a read sees
    every write requested before it, ``BlockRAM.LATENCY`` cycles later. The last case is a narrow memory at the
    default threshold."""
    ram = BlockRAM(shape=20, depth=depth)
    rng = np.random.default_rng(depth)
    model, reads = [0] * depth, []

    async def bench(ctx):
        for cycle in range(12 * depth):
            write_addr, read_addr = (int(a) for a in rng.integers(0, depth, size=2))
            data, enable = int(rng.integers(0, 1 << 20)), int(rng.random() < 0.5)
            ctx.set(ram.write_addr, write_addr)
            ctx.set(ram.write_data, data)
            ctx.set(ram.write_en, enable)
            ctx.set(ram.read_addr, read_addr)
            reads.append(model[read_addr])
            if enable:
                model[write_addr] = data
            await ctx.tick()
            if cycle >= BlockRAM.LATENCY - 1:
                assert ctx.get(ram.read_data) == reads[cycle - BlockRAM.LATENCY + 1], f"cycle {cycle}"

    simulator = Simulator(Fragment.get(ram, ECP5Primitives(lut_ram_words)))
    simulator.add_clock(1e-6)
    simulator.add_testbench(bench)
    simulator.run()
    text = emit_verilog(BlockRAM(shape=20, depth=depth), "ram", {}, target="ecp5", lut_ram_words=lut_ram_words)
    assert text.count('ram_style = "distributed"') == -(-depth // SMALL_DEPTH) and "DP16KD " not in text
