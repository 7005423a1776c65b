"""Requantizer: ``golden.requantize`` against exact rational rounding, then the block in simulation against
``golden.requantize``."""

import math
from fractions import Fraction

import numpy as np
import pytest

from wccgen.gen.lint import lint_verilog
from wccgen.gen.synth import map_cells
from wccgen.golden import calibrated_layer, requantize
from wccgen.golden.kept_haar_inverse import block_order
from wccgen.hw.requantizer import Requantizer, RequantizerSpec
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.harness import run_block
from wccgen.sim.simulators import simulation_models
from wccgen.spec.fixed_point import quantize_multiplier

from helpers import assert_exact, simulate, stream_collector, stream_sender


def exact_round_half_up(numerator, shift):
    return math.floor(Fraction(numerator, 2**shift) + Fraction(1, 2))


def test_requantize_against_exact(rng):
    values = rng.integers(-(2**20), 2**20, size=(4, 5, 6))
    multiplier = np.array([20000, -17000, 30000, 0])
    shift = np.array([20, 18, 25, 1])
    bias = np.array([3 << 19, -(5 << 17), 0, 7])
    ours = requantize(values, multiplier, shift, bias, 0, 100)
    for o in range(4):
        for v, got in zip(values[o].ravel(), ours[o].ravel()):
            exact = exact_round_half_up(int(v) * int(multiplier[o]) + int(bias[o]), int(shift[o]))
            assert got == max(0, min(100, exact))


def random_params(rng, channels, lanes, value_bits, out_bits=8, activation="none"):
    """Factors like an exported layer's: gains of both signs over a decade, biases of a few output codes."""
    factors = [quantize_multiplier(float(g) * 2.0 ** -(value_bits - out_bits))
               for g in rng.uniform(0.3, 3.0, channels) * rng.choice([-1, 1], channels)]
    multipliers, shifts = [m for m, _ in factors], [s for _, s in factors]
    biases = [int(round(b * 2.0 ** s)) for b, s in zip(rng.uniform(-20, 20, channels), shifts)]
    limit = (1 << (out_bits - 1)) - 1
    out_min, out_max = {"none": (-limit, limit), "relu": (0, limit), "relu6": (0, 96)}[activation]
    return dict(channels=channels, lanes=lanes, value_bits=value_bits, out_bits=out_bits, multipliers=multipliers,
                shifts=shifts, biases=biases, out_min=out_min, out_max=out_max)


def golden(params, frame):
    return requantize(frame, params["multipliers"], params["shifts"], params["biases"], params["out_min"],
                      params["out_max"])


def run_requantizer(tmp_path, params, frames, **options):
    return run_block("Requantizer", params, frames, [golden(params, f) for f in frames], tmp_path, **options)


def random_values(rng, params, height, width, count=2):
    bound = 1 << (params["value_bits"] - 1)
    return [rng.integers(-bound, bound, size=(params["channels"], height, width)) for _ in range(count)]


CASES = [
    # channels, lanes, value_bits, activation
    (4, 1, 12, "none"),
    (6, 3, 18, "relu"),
    (8, 2, 24, "relu6"),   # two hard multipliers per lane
    (3, 3, 36, "none"),    # three
]


@pytest.mark.parametrize("channels,lanes,value_bits,activation", CASES)
@pytest.mark.parametrize("traffic", [(0.0, 0.0), (0.3, 0.4)], ids=["streaming", "idle+backpressure"])
def test_requantizer_random(tmp_path, channels, lanes, value_bits, activation, traffic):
    rng = np.random.default_rng(channels * value_bits)
    params = random_params(rng, channels, lanes, value_bits, activation=activation)
    frames = random_values(rng, params, 5, 7)
    expected = [golden(params, f) for f in frames]
    # Both clamps bite and values pass between them: the test sees every branch.
    everything = np.concatenate([e.ravel() for e in expected])
    assert (everything == params["out_min"]).any() and (everything == params["out_max"]).any()
    assert ((everything > params["out_min"]) & (everything < params["out_max"])).sum() > 10
    report = run_requantizer(tmp_path, params, frames, idle=traffic[0], backpressure=traffic[1])
    assert_exact(report)
    if traffic == (0.0, 0.0):
        unit = RequantizerSpec(**params)
        assert report["cycles_per_frame"] == 5 * 7 * unit.groups  # one beat per clock


@pytest.mark.parametrize("levels,lanes,backpressure", [(1, 2, 0.0), (2, 3, 0.4)])
def test_requantizer_in_block_order(rng, levels, lanes, backpressure):
    """Beats in block order (``group_run`` ``4**levels``: a block's pixels for one channel group, then the next
    group): each run takes its group's factors; a frame's ``first`` restarts the run."""
    params = random_params(rng, 6, lanes, 14, activation="relu")
    side = 1 << levels
    frames = random_values(rng, params, 2 * side, 3 * side, count=2)
    dut = Requantizer(**params, group_run=4 ** levels)
    sent, expected = [], []
    for frame in frames:
        for beats, into in ((block_order(frame, levels, lanes), sent),
                            (block_order(golden(params, frame), levels, lanes), expected)):
            into += [{"data": [int(v) for v in beat], "first": int(n == 0), "last": int(n == len(beats) - 1)}
                     for n, beat in enumerate(beats)]
    received = []
    simulate(dut, stream_sender(dut.values, sent, idle=0.2, seed=levels),
             stream_collector(dut.pixels, len(expected), received, backpressure=backpressure, seed=lanes))
    assert received == expected


def test_requantizer_extremes(tmp_path):
    """The widest values, the largest multipliers of both signs, the largest shift, ties at the rounding half."""
    value_bits = 20
    lo, hi = -(1 << (value_bits - 1)), (1 << (value_bits - 1)) - 1
    params = dict(channels=4, lanes=2, value_bits=value_bits, out_bits=8, multipliers=[32767, -32767, 16384, 1],
                  shifts=[34, 62, 1, 1], biases=[0, 1 << 61, -5, 0], out_min=-127, out_max=127)
    frame = np.array([lo, hi, 0, 1, -1, 3, -3, 255]).reshape(1, 1, 8).repeat(4, axis=0)
    frame[:, 0, 7] = [hi, lo, 7, -7]
    report = run_requantizer(tmp_path, params, [frame, -frame - 1])
    assert_exact(report)


def test_requantizer_on_an_exported_layer_and_a_photograph(tmp_path):
    """The inverse Haar output of a real photograph's layer, with that layer's requantizer table."""
    bundle, trace = calibrated_layer("chelsea", 24, 32, 8, 12, activation="relu6")
    cfg = bundle.config
    params = dict(channels=cfg.channels_out, lanes=4, value_bits=cfg.inverse_width, out_bits=cfg.out_bits,
                  multipliers=bundle.out_multiplier.tolist(), shifts=bundle.out_shift.tolist(),
                  biases=bundle.out_bias.tolist(), out_min=bundle.out_min, out_max=bundle.out_max)
    report = run_block("Requantizer", params, [trace.inverse], [trace.output], tmp_path, idle=0.1,
                       backpressure=0.1, target="ecp5")
    assert_exact(report)
    assert np.unique(trace.output).size > 20


def test_requantizer_reset_mid_frame(tmp_path):
    rng = np.random.default_rng(4)
    params = random_params(rng, 6, 2, 16)
    frames = random_values(rng, params, 4, 4)
    report = run_requantizer(tmp_path, params, frames, reset_after_beats=17, partial_frame=frames[1])
    assert_exact(report)


def test_requantizer_on_ecp5_primitives(tmp_path):
    rng = np.random.default_rng(5)
    params = random_params(rng, 4, 2, 26, activation="relu")
    frames = random_values(rng, params, 3, 5)
    report = run_requantizer(tmp_path, params, frames, target="ecp5", idle=0.2, backpressure=0.2)
    assert_exact(report)


@pytest.mark.parametrize("value_bits,per_lane", [(18, 1), (24, 2)])
def test_requantizer_verilog_lints_maps_to_hard_multipliers_and_is_deterministic(tmp_path, value_bits, per_lane):
    params = random_params(np.random.default_rng(6), 6, 3, value_bits)
    first = emit_verilog(Requantizer(**params), "requantizer", params, target="ecp5")
    assert first == emit_verilog(Requantizer(**params), "requantizer", params, target="ecp5")
    path = tmp_path / "requantizer.v"
    path.write_text(first)
    lint_verilog(path, top="requantizer", models=simulation_models("ecp5"))
    _, rtl_cells, cells = map_cells(path, "requantizer", tmp_path / "synth")
    assert cells.get("MULT18X18D") == 3 * per_lane
    assert "$mul" not in rtl_cells


@pytest.mark.parametrize("bad,message", [
    (dict(lanes=4), "lanes"), (dict(value_bits=1), "value_bits"), (dict(value_bits=47), "value_bits"),
    (dict(out_bits=1), "out_bits"), (dict(multipliers=[1, 2]), "multipliers"),
    (dict(multipliers=[1 << 15, 1, 1]), "multipliers"), (dict(shifts=[0, 1, 1]), "shifts"),
    (dict(shifts=[63, 1, 1]), "shifts"), (dict(biases=[1 << 62, 0, 0]), "biases"),
    (dict(out_min=5, out_max=4), "out_min"), (dict(out_max=128), "out_max"), (dict(channels=0), "channels"),
    (dict(group_run=0), "group_run"),
])
def test_requantizer_invalid_parameters(bad, message):
    params = dict(channels=3, lanes=3, value_bits=20, out_bits=8, multipliers=[1, 2, 3], shifts=[1, 2, 3],
                  biases=[0, 0, 0], out_min=-127, out_max=127)
    params.update(bad)
    with pytest.raises(ValueError, match=message):
        Requantizer(**params)


def test_requantizer_refuses_non_integers():
    params = dict(channels=1, lanes=1, value_bits=20, out_bits=8, multipliers=[1.5], shifts=[1], biases=[0],
                  out_min=-127, out_max=127)
    with pytest.raises(TypeError, match="multipliers"):
        Requantizer(**params)
    with pytest.raises(TypeError, match="out_min"):
        Requantizer(**{**params, "multipliers": [1], "out_min": -127.0})
