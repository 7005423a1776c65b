"""HaarForward and HaarInverse in simulation, bit-exact against the golden model."""

import re

import numpy as np
import pytest

from wccgen.gen.lint import lint_verilog
from wccgen.golden import align_levels, haar_forward, haar_inverse, photograph_codes
from wccgen.hw.ecp5_block_ram import dp16kd_mode
from wccgen.hw.haar_forward import HaarForward, HaarForwardSpec
from wccgen.hw.haar_inverse import HaarInverse, HaarInverseSpec
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.harness import run_block, toplevel_name
from wccgen.sim.simulators import simulation_models

from helpers import assert_exact, padded


def extreme_frames(channels, height, width, bits):
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    rows, cols = np.indices((height, width))
    checker = np.where((rows + cols) % 2 == 0, hi, lo)
    return [np.full((channels, height, width), hi), np.full((channels, height, width), lo),
            np.broadcast_to(checker, (channels, height, width)).copy(),
            np.broadcast_to(lo + hi - checker, (channels, height, width)).copy()]


# -- HaarForward ----------------------------------------------------------------

FORWARD_CASES = [
    # height, width, channels, lanes, levels
    (13, 10, 4, 1, 1),
    (13, 10, 4, 2, 2),
    (9, 14, 3, 3, 3),
    (16, 16, 2, 1, 4),
    (5, 7, 6, 6, 2),
]


@pytest.mark.parametrize("height,width,channels,lanes,levels", FORWARD_CASES)
@pytest.mark.parametrize("traffic", [(0.0, 0.0), (0.3, 0.4)], ids=["streaming", "idle+backpressure"])
def test_forward_random(tmp_path, height, width, channels, lanes, levels, traffic):
    rng = np.random.default_rng(height * width + levels)
    params = dict(height=height, width=width, channels=channels, lanes=lanes, levels=levels, in_bits=8)
    frames = [rng.integers(-128, 128, size=(channels, height, width)) for _ in range(4)]
    report = run_block("HaarForward", params, frames, [haar_forward(f, levels) for f in frames], tmp_path,
                       idle=traffic[0], backpressure=traffic[1], seed=levels)
    assert_exact(report)
    if traffic == (0.0, 0.0):
        unit = HaarForwardSpec(**params)
        assert report["latency"] == unit.latency
        assert report["cycles_per_frame"] == unit.cycles_per_frame  # one beat per clock, sustained


@pytest.mark.parametrize("levels", [1, 3])
def test_forward_extreme_frames(tmp_path, levels):
    params = dict(height=11, width=12, channels=2, lanes=1, levels=levels, in_bits=8)
    frames = extreme_frames(2, 11, 12, 8)
    report = run_block("HaarForward", params, frames, [haar_forward(f, levels) for f in frames], tmp_path,
                       backpressure=0.2)
    assert_exact(report)


@pytest.mark.parametrize("photo", ["astronaut", "coffee"])
def test_forward_real_photograph(tmp_path, photo):
    frames = [photograph_codes(photo, 24, 30, 4, seed=s) for s in (0, 1)]
    params = dict(height=24, width=30, channels=4, lanes=2, levels=3, in_bits=8)
    report = run_block("HaarForward", params, frames, [haar_forward(f, 3) for f in frames], tmp_path,
                       idle=0.2, backpressure=0.2)
    assert_exact(report)


@pytest.mark.parametrize("lanes,modes", [
    (2, {"4", "18"}),
    # One group per position: the level-2 subbands (270 entries of 48 or 32 bits) take the 36-bit mode.
    (4, {"9", "36"}),
])
@pytest.mark.parametrize("block", ["HaarForward", "HaarInverse"])
def test_ecp5_primitives_are_bit_exact(tmp_path, block, lanes, modes):
    """The ECP5 variant (DP16KD block RAMs with output registers) computes the same as the generic one."""
    levels, height, width = 2, 36, 40
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


def test_forward_reset_mid_frame(tmp_path):
    rng = np.random.default_rng(5)
    params = dict(height=10, width=12, channels=2, lanes=1, levels=2, in_bits=8)
    frames = [rng.integers(-128, 128, size=(2, 10, 12)) for _ in range(2)]
    partial = rng.integers(-128, 128, size=(2, 10, 12))
    report = run_block("HaarForward", params, frames, [haar_forward(f, 2) for f in frames], tmp_path,
                       reset_after_beats=130, partial_frame=partial)
    assert_exact(report)


def test_forward_mismatch_is_reported(tmp_path):
    """A wrong expectation must fail, naming block, frame, channel and position."""
    rng = np.random.default_rng(9)
    params = dict(height=8, width=8, channels=2, lanes=1, levels=1, in_bits=8)
    frames = [rng.integers(-128, 128, size=(2, 8, 8)) for _ in range(2)]
    expected = [haar_forward(f, 1) for f in frames]
    expected[1][1, 2, 5] += 1
    report = run_block("HaarForward", params, frames, expected, tmp_path)
    mismatch = report["mismatch"]
    assert not report["passed"]
    assert (mismatch["block"], mismatch["frame"], mismatch["channel"], mismatch["row"], mismatch["col"]) == \
        ("HaarForward", 1, 1, 2, 5)
    assert "HaarForward: frame 1, channel 1, position 21 (row 2, col 5)" in mismatch["message"]


# -- HaarInverse ----------------------------------------------------------------

INVERSE_CASES = [
    (13, 10, 4, 2, 1),
    (13, 10, 4, 4, 2),
    (9, 14, 3, 1, 3),
    (16, 16, 2, 2, 4),
]


@pytest.mark.parametrize("height,width,channels,lanes,levels", INVERSE_CASES)
@pytest.mark.parametrize("traffic", [(0.0, 0.0), (0.3, 0.4)], ids=["streaming", "idle+backpressure"])
def test_inverse_random(tmp_path, height, width, channels, lanes, levels, traffic):
    rng = np.random.default_rng(height + width + levels)
    params = dict(height=height, width=width, channels=channels, lanes=lanes, levels=levels, in_bits=12)
    shape = (channels, padded(height, levels), padded(width, levels))
    frames = [rng.integers(-2048, 2048, size=shape) for _ in range(4)]
    expected = [haar_inverse(f, levels, height, width) for f in frames]
    report = run_block("HaarInverse", params, frames, expected, tmp_path,
                       idle=traffic[0], backpressure=traffic[1], seed=levels)
    assert_exact(report)
    if traffic == (0.0, 0.0):
        unit = HaarInverseSpec(**params)
        assert report["latency"] == unit.latency
        assert report["cycles_per_frame"] == unit.cycles_per_frame


@pytest.mark.parametrize("levels", [1, 3])
def test_inverse_extreme_coefficients(tmp_path, levels):
    params = dict(height=12, width=11, channels=2, lanes=2, levels=levels, in_bits=10)
    frames = extreme_frames(2, padded(12, levels), padded(11, levels), 10)
    expected = [haar_inverse(f, levels, 12, 11) for f in frames]
    unit = HaarInverseSpec(**params)
    bound = 2 ** (unit.out_bits - 1)
    assert max(np.abs(e).max() for e in expected) <= bound  # the declared output width holds the extremes
    report = run_block("HaarInverse", params, frames, expected, tmp_path, backpressure=0.2)
    assert_exact(report)


def test_forward_then_inverse_returns_the_photograph(tmp_path):
    """The forward coefficients, aligned to one scale, come back as 4**levels times the pixels."""
    levels = 3
    frames = [photograph_codes("chelsea", 20, 26, 4, seed=s) for s in (0, 3)]
    aligned = [align_levels(haar_forward(f, levels), levels) for f in frames]
    params = dict(height=20, width=26, channels=4, lanes=2, levels=levels, in_bits=8 + 2 * levels)
    report = run_block("HaarInverse", params, aligned, [f * 4**levels for f in frames], tmp_path,
                       idle=0.1, backpressure=0.1)
    assert_exact(report)


def test_inverse_reset_mid_frame(tmp_path):
    rng = np.random.default_rng(6)
    params = dict(height=8, width=12, channels=2, lanes=1, levels=2, in_bits=12)
    frames = [rng.integers(-2048, 2048, size=(2, 8, 12)) for _ in range(2)]
    report = run_block("HaarInverse", params, frames, [haar_inverse(f, 2) for f in frames], tmp_path,
                       reset_after_beats=100, partial_frame=rng.integers(-2048, 2048, size=(2, 8, 12)))
    assert_exact(report)


# -- generated Verilog and parameters -------------------------------------------

@pytest.mark.parametrize("target", ["generic", "ecp5"])
@pytest.mark.parametrize("unit,name", [
    (lambda: HaarForward(height=40, width=36, channels=4, lanes=2, levels=3), "haar_forward"),
    (lambda: HaarInverse(height=40, width=36, channels=4, lanes=2, levels=3, in_bits=16), "haar_inverse"),
])
def test_verilog_is_deterministic_and_lints(tmp_path, unit, name, target):
    first = emit_verilog(unit(), name, {"case": 1}, target=target)
    second = emit_verilog(unit(), name, {"case": 1}, target=target)
    assert first == second
    path = tmp_path / f"{name}.v"
    path.write_text(first)
    lint_verilog(path, top=name, models=simulation_models(target))
    assert "clk" in first and "rst" in first and "__payload" in first and "MULT" not in first
    assert ("DP16KD" in first) == (target == "ecp5")


@pytest.mark.parametrize("cls", [HaarForward, HaarInverse])
@pytest.mark.parametrize("bad,match", [
    (dict(lanes=3), r"^lanes: must divide channels \(4\), got 3"),
    (dict(lanes=0), "^lanes"), (dict(height=0), "^height"), (dict(width=-1), "^width"),
    (dict(channels=0), "^channels"), (dict(levels=0), "^levels"), (dict(levels=7), "^levels"),
    (dict(in_bits=1), "^in_bits"), (dict(banks=1), "^banks"),
])
def test_invalid_parameters(cls, bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        cls(**{**dict(height=8, width=8, channels=4, lanes=2, levels=2, in_bits=8), **bad})


def test_inverse_accepts_accumulator_widths():
    assert HaarInverseSpec(height=8, width=8, channels=4, in_bits=40).out_bits == 40 + 3 + 2
    with pytest.raises(ValueError, match=r"^in_bits: must lie in \[2, 48\]"):
        HaarInverse(height=8, width=8, channels=4, in_bits=49)


def test_a_design_that_stops_fails_by_the_watchdog_instead_of_hanging(tmp_path, rng):
    """A sink that never takes a beat stalls the block once its frame banks are full, and then the source:
    the testbench gives up and says so."""
    params = dict(height=4, width=4, channels=1, lanes=1, levels=1)
    frames = [rng.integers(-128, 128, size=(1, 4, 4)) for _ in range(6)]
    report = run_block("HaarForward", params, frames, [haar_forward(f, 1) for f in frames], tmp_path,
                       backpressure=1.0, watchdog_cycles=3000)
    assert not report["passed"]
    # The sink took nothing; the source stopped once the frame banks were full (64 of its 96 beats).
    assert report["mismatch"]["message"] == (
        "HaarForward: no end after 3000 cycles (the testbench's watchdog); stalled streams: "
        f"pixels 64 of 96 beats (last at cycle {report['mismatch']['stalled']['pixels']['last_cycle']}), "
        "coefficients 0 of 96 beats")


@pytest.mark.parametrize("width,depth,mode", [
    (16, 300, 18),     # one block either way: the narrower mode
    (24, 300, 36),     # one 36-bit block instead of two 18-bit ones
    (48, 512, 36),     # two blocks instead of three
    (48, 513, 18),     # too deep for the 36-bit mode
    (48, 1080, 9),     # 9-bit is the widest mode 2048 deep: six blocks (4-bit would take twelve)
    (8, 16, None),     # shallow: LUT RAM
    (8, 16385, None),  # deeper than a block: inferred
])
def test_dp16kd_mode_takes_fewest_blocks(width, depth, mode):
    assert dp16kd_mode(width, depth) == mode
