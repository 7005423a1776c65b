"""PointwiseMAC (PE x SIMD array): ``golden.pointwise_mac`` against the float PyTorch convolution, then the block in
simulation against ``golden.pointwise_mac``."""

import numpy as np
import pytest
import torch

from wccgen.gen.lint import lint_verilog
from wccgen.golden import calibrated_layer, pointwise_mac
from wccgen.hw.pointwise_mac import PointwiseMAC, PointwiseMACSpec
from wccgen.hw.verilog import emit_verilog
from wccgen.sim.harness import run_block
from wccgen.sim.simulators import simulation_models

from helpers import assert_exact


def test_pointwise_mac_matches_float_conv(rng):
    weights = rng.integers(-127, 128, size=(9, 14))
    codes = rng.integers(-127, 128, size=(14, 33))
    ours = pointwise_mac(weights, codes)
    conv = torch.nn.functional.conv2d(torch.from_numpy(codes.T[None, :, :, None].transpose(0, 2, 1, 3).astype(np.float64)),
                                      torch.from_numpy(weights[:, :, None, None].astype(np.float64)))
    assert np.array_equal(ours, conv[0, :, :, 0].numpy().astype(np.int64))


def test_pointwise_mac_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="weights, codes"):
        pointwise_mac(np.ones((2, 3), dtype=np.int64), np.ones((4, 5), dtype=np.int64))


def mac_params(weights, pe, simd, **extra):
    channels_out, channels_in = weights.shape
    return dict(channels_in=channels_in, channels_out=channels_out, pe=pe, simd=simd,
                weights=weights.tolist(), **extra)


def run_mac(tmp_path, params, frames, **options):
    expected = [pointwise_mac(np.asarray(params["weights"]), frame) for frame in frames]
    return run_block("PointwiseMAC", params, frames, expected, tmp_path, **options)


def random_codes(rng, channels, kept, count=3, limit=127):
    return [rng.integers(-limit, limit + 1, size=(channels, kept)) for _ in range(count)]


MAC_CASES = [
    # channels_in, channels_out, pe, simd, lanes_in, lanes_out
    (8, 8, 2, 4, None, None),
    (16, 24, 4, 4, 4, 8),
    (24, 16, 5, 3, None, None),   # neither divides
    (7, 9, 2, 3, 7, 3),
    (6, 4, 4, 6, 6, 4),           # one step per vector: a vector per clock
    (5, 3, 1, 1, 1, 1),
    (16, 18, 9, 8, None, None),   # past SPREAD_MULTIPLIERS: two steering relays per accumulator
]


@pytest.mark.parametrize("channels_in,channels_out,pe,simd,lanes_in,lanes_out", MAC_CASES)
@pytest.mark.parametrize("traffic", [(0.0, 0.0), (0.3, 0.4)], ids=["streaming", "idle+backpressure"])
def test_mac_random(tmp_path, channels_in, channels_out, pe, simd, lanes_in, lanes_out, traffic):
    rng = np.random.default_rng(channels_in * 100 + channels_out)
    weights = rng.integers(-127, 128, size=(channels_out, channels_in))
    params = mac_params(weights, pe, simd, lanes_in=lanes_in, lanes_out=lanes_out)
    kept = 11
    frames = random_codes(rng, channels_in, kept)
    report = run_mac(tmp_path, params, frames, idle=traffic[0], backpressure=traffic[1], seed=pe)
    assert_exact(report)
    unit = PointwiseMACSpec(**params)
    assert unit.folds == -(-channels_in // simd) * -(-channels_out // pe)
    if traffic == (0.0, 0.0):
        # The array never waits between vectors: a frame every `kept` vector times.
        assert report["cycles_per_frame"] == kept * unit.cycles_per_vector


@pytest.mark.parametrize("case", ["extremes", "all-equal", "opposite-extremes", "zeros"])
def test_mac_extremes(tmp_path, case):
    """Largest sums of both signs reach the accumulator's bounds exactly."""
    channels_in, channels_out, kept = 12, 6, 5
    if case == "extremes":
        weights = np.where(np.arange(channels_out)[:, None] % 2, 127, -127) * np.ones((1, channels_in), dtype=int)
        frames = [np.full((channels_in, kept), 127), np.full((channels_in, kept), -127)]
    elif case == "all-equal":
        weights = np.full((channels_out, channels_in), 127)
        frames = [np.full((channels_in, kept), 127)]
    elif case == "opposite-extremes":
        weights = np.full((channels_out, channels_in), -127)
        frames = [np.full((channels_in, kept), 127), np.full((channels_in, kept), -128 + 1)]
    else:
        weights = np.zeros((channels_out, channels_in), dtype=int)
        frames = [np.full((channels_in, kept), -127)]
    params = mac_params(weights, 4, 5)
    unit = PointwiseMACSpec(**params)
    report = run_mac(tmp_path, params, frames, idle=0.2, backpressure=0.2)
    assert_exact(report)
    bound = channels_in * 127 * 127
    assert unit.acc_bits == int(bound).bit_length() + 1
    if case == "all-equal":
        assert pointwise_mac(weights, frames[0]).max() == bound


def test_mac_on_exported_weights_and_photograph_codes(tmp_path):
    """The kept codes of a real photograph's activations and the weights ``export_layer`` gives."""
    frames, weights = [], None
    for photo in ("astronaut", "coffee"):
        bundle, trace = calibrated_layer(photo, 24, 32, 16, 24)
        weights = bundle.weights if weights is None else weights
        assert np.array_equal(bundle.weights, weights)
        frames.append(trace.codes)
    params = mac_params(weights, 4, 4, lanes_in=4, lanes_out=8)
    report = run_block("PointwiseMAC", params, frames, [pointwise_mac(weights, f) for f in frames], tmp_path,
                       idle=0.1, backpressure=0.1)
    assert_exact(report)
    assert np.array_equal(pointwise_mac(weights, frames[0]), trace_accumulators(frames[0], weights))


def trace_accumulators(codes, weights):
    """Brute-force sums, the oracle of ``pointwise_mac``."""
    out = np.zeros((weights.shape[0], codes.shape[1]), dtype=np.int64)
    for o in range(weights.shape[0]):
        for p in range(codes.shape[1]):
            out[o, p] = sum(int(weights[o, c]) * int(codes[c, p]) for c in range(codes.shape[0]))
    return out


@pytest.mark.parametrize("traffic", [(0.0, 0.0), (0.3, 0.3)], ids=["streaming", "idle+backpressure"])
def test_mac_loads_weights_at_run_time(tmp_path, traffic):
    """Frame 0 uses the baked weights, frames 1-2 the first load, frame 3 the second; vectors never mix them."""
    rng = np.random.default_rng(5)
    channels_in, channels_out = 10, 7
    baked, first, second = (rng.integers(-127, 128, size=(channels_out, channels_in)) for _ in range(3))
    params = mac_params(baked, 3, 4, writable=True)
    unit = PointwiseMACSpec(**params)
    frames = random_codes(rng, channels_in, 9, count=4)
    expected = [pointwise_mac(w, f) for w, f in zip((baked, first, first, second), frames)]
    loads = {1: unit.load_frame(first), 3: unit.load_frame(second)}
    report = run_block("PointwiseMAC", params, frames, expected, tmp_path, loads=loads,
                       idle=traffic[0], backpressure=traffic[1])
    assert_exact(report)


def test_mac_reset_mid_frame(tmp_path):
    rng = np.random.default_rng(8)
    weights = rng.integers(-127, 128, size=(6, 8))
    params = mac_params(weights, 2, 3)
    frames = random_codes(rng, 8, 6, count=2)
    report = run_mac(tmp_path, params, frames, reset_after_beats=13, partial_frame=frames[1])
    assert_exact(report)


def test_mac_wrong_expectation_names_vector_and_channel(tmp_path):
    rng = np.random.default_rng(9)
    weights = rng.integers(-127, 128, size=(5, 6))
    params = mac_params(weights, 2, 2)
    frames = random_codes(rng, 6, 4, count=2)
    expected = [pointwise_mac(weights, f) for f in frames]
    expected[1][3, 2] += 1
    report = run_block("PointwiseMAC", params, frames, expected, tmp_path)
    assert not report["passed"]
    mismatch = report["mismatch"]
    assert (mismatch["frame"], mismatch["kept"], mismatch["channel"]) == (1, 2, 3)
    assert "kept position #2, channel 3" in mismatch["message"]


@pytest.mark.parametrize("target", ["generic", "ecp5"])
def test_mac_verilog_lints_and_is_deterministic(tmp_path, target):
    weights = np.arange(-10, 14).reshape(4, 6)
    params = mac_params(weights, 2, 3, writable=True)
    first = emit_verilog(PointwiseMAC(**params), "pointwise_mac", params, target=target)
    second = emit_verilog(PointwiseMAC(**params), "pointwise_mac", params, target=target)
    assert first == second
    assert first.count("MULT18X18D ") == (6 if target == "ecp5" else 0)
    path = tmp_path / "pointwise_mac.v"
    path.write_text(first)
    lint_verilog(path, top="pointwise_mac", models=simulation_models(target))


def test_mac_on_ecp5_primitives(tmp_path):
    """The ECP5 Verilog (MULT18X18D models) gives the same sums."""
    rng = np.random.default_rng(10)
    weights = rng.integers(-127, 128, size=(8, 12))
    params = mac_params(weights, 4, 3)
    frames = random_codes(rng, 12, 7, count=2)
    report = run_mac(tmp_path, params, frames, target="ecp5", idle=0.1, backpressure=0.1)
    assert_exact(report)


@pytest.mark.parametrize("bad,message", [
    (dict(pe=0), "pe"), (dict(simd=-1), "simd"), (dict(channels_in=0), "channels_in"),
    (dict(bit_a=1), "bit_a"), (dict(bit_w=17), "bit_w"), (dict(lanes_in=5), "lanes_in"),
    (dict(lanes_out=4), "lanes_out"), (dict(weights=[[1, 2]]), "weights"), (dict(weights=[[200] * 6] * 3), "weights"),
    (dict(pe=4), r"^pe: must lie in \[1, channels_out \(3\)\], got 4"),
    (dict(simd=1000), r"^simd: must lie in \[1, channels_in \(6\)\], got 1000"),
])
def test_mac_invalid_parameters(bad, message):
    params = dict(channels_in=6, channels_out=3, pe=2, simd=2, weights=[[1] * 6] * 3)
    params.update(bad)
    with pytest.raises(ValueError, match=message):
        PointwiseMAC(**params)


def test_mac_float_weights_are_refused():
    with pytest.raises(TypeError, match="weights"):
        PointwiseMAC(channels_in=2, channels_out=1, pe=1, simd=1, weights=[[0.5, 1.0]])
    with pytest.raises(TypeError, match="writable"):
        PointwiseMAC(channels_in=2, channels_out=1, pe=1, simd=1, weights=[[1, 1]], writable=1)


@pytest.mark.parametrize("pe,simd,writable", [(2, 3, False), (3, 2, True)])
def test_mac_maps_onto_pe_times_simd_hard_multipliers(tmp_path, pe, simd, writable):
    """Yosys ``stat``: exactly PE*SIMD MULT18X18D, and no multiplier left for Yosys to build from LUTs."""
    from wccgen.gen.synth import map_cells

    weights = np.random.default_rng(pe).integers(-127, 128, size=(7, 8))
    params = mac_params(weights, pe, simd, writable=writable)
    path = tmp_path / "pointwise_mac.v"
    path.write_text(emit_verilog(PointwiseMAC(**params), "pointwise_mac", params, target="ecp5"))
    _, rtl_cells, cells = map_cells(path, "pointwise_mac", tmp_path / "synth")
    assert cells.get("MULT18X18D") == pe * simd
    assert "$mul" not in rtl_cells
    # The generic Verilog of the same block does multiply with `$mul` (so the check above can fail).
    path.write_text(emit_verilog(PointwiseMAC(**params), "pointwise_mac", params))
    _, rtl_cells, _ = map_cells(path, "pointwise_mac", tmp_path / "generic")
    assert rtl_cells.get("$mul") == pe * simd


def test_verilog_header_records_a_weight_matrix_by_digest():
    """A 64x64 matrix in the header comment would be a 19 kB line, more than Icarus reads as one token."""
    rng = np.random.default_rng(11)
    texts = []
    for _ in range(2):
        params = mac_params(rng.integers(-127, 128, size=(64, 64)), 8, 8)
        texts.append(emit_verilog(PointwiseMAC(**params), "pointwise_mac", params))
    headers = [text.splitlines()[1] for text in texts]
    assert all(len(header) < 600 and "\"weights\": \"<64 entries, sha256 " in header for header in headers)
    assert headers[0] != headers[1]  # different weights, different digests


def test_mac_load_restarts_at_first_and_drops_rows_past_the_matrix():
    """An interrupted load, a load restarted by `first`, extra beats after the last row: only the full load counts."""
    from amaranth.sim import Simulator

    rng = np.random.default_rng(12)
    channels_in, channels_out, pe, simd = 5, 5, 2, 2
    baked, loaded, junk = (rng.integers(-127, 128, size=(channels_out, channels_in)) for _ in range(3))
    dut = PointwiseMAC(channels_in=channels_in, channels_out=channels_out, pe=pe, simd=simd,
                       weights=baked.tolist(), writable=True, lanes_in=5, lanes_out=5)
    codes = rng.integers(-127, 128, size=(channels_in, 4))
    junk_beats = [list(row) for row in dut.load_frame(junk)[:, 0, :].T.reshape(-1, simd)]
    load_beats = [list(row) for row in dut.load_frame(loaded)[:, 0, :].T.reshape(-1, simd)]
    # Rows of the load frame are `simd_folds` beats each: the full matrix, then one more row of junk.
    beats = ([(b, i == 0, False) for i, b in enumerate(junk_beats[:4])]        # interrupted, never `last`
             + [(b, i == 0, False) for i, b in enumerate(load_beats)]        # restarted by `first`
             + [(b, False, i == len(junk_beats[:3]) - 1) for i, b in enumerate(junk_beats[:3])])  # past the end
    got = []

    async def bench(ctx):
        for data, first, last in beats:
            ctx.set(dut.load.payload, {"data": [int(v) for v in data], "first": int(first), "last": int(last)})
            ctx.set(dut.load.valid, 1)
            await ctx.tick().until(dut.load.ready)
        ctx.set(dut.load.valid, 0)
        ctx.set(dut.sums.ready, 1)
        for vector in range(codes.shape[1]):
            ctx.set(dut.codes.payload, {"data": [int(v) for v in codes[:, vector]], "first": int(vector == 0),
                                        "last": int(vector == codes.shape[1] - 1)})
            ctx.set(dut.codes.valid, 1)
            await ctx.tick().until(dut.codes.ready)
        ctx.set(dut.codes.valid, 0)
        while len(got) < codes.shape[1]:
            _, _, valid, payload = await ctx.tick().sample(dut.sums.valid, dut.sums.payload)
            if valid:
                got.append([int(v) for v in payload.data])

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert np.array_equal(np.array(got).T, pointwise_mac(loaded, codes))
    assert not np.array_equal(pointwise_mac(loaded, codes), pointwise_mac(baked, codes))


@pytest.mark.parametrize("pe,simd", [(8, 8), (9, 8)])
def test_mac_steering_relays_deepen_past_spread_multipliers(pe, simd):
    """Past ``SPREAD_MULTIPLIERS`` each accumulator takes its steering flags through two registers of its
    own instead of one (the shared delay before them shortens by one: ``test_mac_random``'s 9x8 case checks
    that the sums still arrive when the queue expects them)."""
    from wccgen.hw.pointwise_mac import SPREAD_MULTIPLIERS

    weights = np.random.default_rng(12).integers(-127, 128, size=(18, 16))
    params = mac_params(weights, pe, simd)
    text = emit_verilog(PointwiseMAC(**params), "pointwise_mac", params)
    spread = pe * simd > SPREAD_MULTIPLIERS
    for relay in ("valid_relay_0", "sum_first_relay_0"):
        assert (f"{relay}_d2" in text) == spread, relay
        assert (f"{relay}_d1" in text) == spread, relay


def test_a_relative_build_directory_works(tmp_path, monkeypatch):
    """``wccgen demo`` passes a relative output folder; the simulator runs in its own build directory."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(13)
    weights = rng.integers(-127, 128, size=(3, 5))
    report = run_mac("relative", mac_params(weights, 1, 1), random_codes(rng, 5, 4, count=1))
    assert_exact(report)
