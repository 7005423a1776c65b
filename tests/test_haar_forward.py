"""HaarForward: ``golden.haar_forward`` against PyWavelets (and the float PyTorch transform), then the block in
simulation, bit-exact against ``golden.haar_forward``."""

import numpy as np
import pytest
import torch

from wccgen.golden import haar_forward, level_map, photograph_codes
from wccgen.golden.haar_forward import pad_frame
from wccgen.golden.torch_haar import haar_forward_float, haar_inverse_float
from wccgen.hw.haar_forward import HaarForward, HaarForwardSpec
from wccgen.sim.harness import run_block

from helpers import HAAR_BAD_PARAMETERS, assert_exact, extreme_frames, pywt_mallat, verilog_that_lints

GEOMETRIES = [(13, 10), (16, 16), (17, 31), (5, 9), (40, 24)]


@pytest.mark.parametrize("levels", [1, 2, 3, 4])
@pytest.mark.parametrize("height,width", GEOMETRIES)
def test_forward_matches_pywavelets(rng, levels, height, width):
    x = rng.integers(-128, 128, size=(3, height, width))
    ours = haar_forward(x, levels)
    scale = 2.0 ** level_map(ours.shape[1], ours.shape[2], levels)
    for channel in range(3):
        reference = pywt_mallat(x[channel].astype(np.float64), levels) * scale
        np.testing.assert_allclose(ours[channel], reference, rtol=0, atol=1e-6)
        # The float reference is an integer after scaling: the integer transform is exact.
        assert np.array_equal(ours[channel], np.rint(reference).astype(np.int64))


def test_padding_is_bottom_and_right(rng):
    x = rng.integers(-5, 6, size=(1, 5, 7))
    padded = pad_frame(x, 2)
    assert padded.shape == (1, 8, 8)
    assert np.array_equal(padded[:, :5, :7], x)
    assert not padded[:, 5:, :].any() and not padded[:, :, 7:].any()


def test_level_map_layout():
    levels = level_map(8, 8, 2)
    assert (levels[:2, :2] == 2).all()  # LL of level 2
    assert (levels[:2, 2:4] == 2).all() and (levels[2:4, :4] == 2).all()
    assert (levels[:4, 4:] == 1).all() and (levels[4:, :] == 1).all()


@pytest.mark.parametrize("levels", [1, 3])
def test_float_transform_matches_pywavelets_and_inverts(rng, levels):
    x = torch.from_numpy(rng.standard_normal((2, 3, 19, 12)))
    coeffs = haar_forward_float(x, levels)
    for n in range(2):
        for c in range(3):
            np.testing.assert_allclose(coeffs[n, c].numpy(), pywt_mallat(x[n, c].numpy(), levels), atol=1e-12)
    np.testing.assert_allclose(haar_inverse_float(coeffs, levels, 19, 12).numpy(), x.numpy(), atol=1e-12)


def test_float_transform_is_differentiable():
    x = torch.randn(1, 2, 9, 10, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: haar_inverse_float(haar_forward_float(t, 2) ** 2, 2, 9, 10), (x,))


@pytest.mark.parametrize("bad,match", [
    (dict(levels=0), "levels"), (dict(levels=7), "levels"), (dict(levels=1.5), "levels"),
])
def test_bad_levels(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        haar_forward(np.ones((1, 4, 4), dtype=np.int64), **bad)


def test_bad_frames():
    with pytest.raises(ValueError, match="x: empty"):
        haar_forward(np.zeros((1, 0, 4), dtype=np.int64), 1)
    with pytest.raises(TypeError, match="x: must hold integers"):
        haar_forward(np.zeros((1, 4, 4)), 1)
    with pytest.raises(ValueError, match="shape"):
        haar_forward(np.zeros((4, 4), dtype=np.int64), 1)


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
        # Beats enter one per cycle, the padding beats the unit makes itself among them.
        first_block = report["first_in_cycle"] + unit.first_block_beat
        assert report["first_out_cycles"][0] - first_block == unit.latency
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


@pytest.mark.parametrize("target", ["generic", "ecp5"])
def test_forward_verilog_is_deterministic_and_lints(tmp_path, target):
    text = verilog_that_lints(
        tmp_path, lambda: HaarForward(height=40, width=36, channels=4, lanes=2, levels=3), "haar_forward", target)
    assert "clk" in text and "rst" in text and "__payload" in text and "MULT" not in text
    assert ("DP16KD" in text) == (target == "ecp5")


@pytest.mark.parametrize("bad,match", HAAR_BAD_PARAMETERS)
def test_forward_invalid_parameters(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        HaarForward(**{**dict(height=8, width=8, channels=4, lanes=2, levels=2, in_bits=8), **bad})


def test_a_design_that_stops_fails_by_the_watchdog_instead_of_hanging(tmp_path, rng):
    """A sink that never takes a beat stalls the block once its queues are full, and then the source:
    the testbench gives up and says so."""
    params = dict(height=4, width=4, channels=1, lanes=1, levels=1)
    frames = [rng.integers(-128, 128, size=(1, 4, 4)) for _ in range(6)]
    report = run_block("HaarForward", params, frames, [haar_forward(f, 1) for f in frames], tmp_path,
                       backpressure=1.0, watchdog_cycles=3000)
    assert not report["passed"]
    stalled = report["mismatch"]["stalled"]["pixels"]
    # The sink took nothing; the source stopped once the level's queue and the output queue were full.
    taken = stalled["beats"]
    assert 0 < taken < 96
    assert report["mismatch"]["message"] == (
        "HaarForward: no end after 3000 cycles (the testbench's watchdog); stalled streams: "
        f"pixels {taken} of 96 beats (last at cycle {stalled['last_cycle']}), coefficients 0 of 96 beats")
