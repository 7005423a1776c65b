"""The whole WCC layer in hardware: every internal stream and the output bit-exact; generate -> simulate."""

import json

import numpy as np
import pytest

from wccgen import golden
from wccgen.golden.bundle import LayerBundle, random_bundle
from wccgen.hw.wcc_layer import TAPS, WccLayer, WccLayerSpec, signature_taps
from wccgen.sim.blocks import BLOCKS
from wccgen.sim.harness import run_block
from wccgen.sim.layer_streams import layer_expectation
from wccgen.spec.wcc_config import WccConfig

from helpers import assert_exact


def expected_streams(layer, frames):
    _, outputs, taps = layer_expectation(layer, frames)
    return outputs, taps


def simulate_layer(tmp_path, bundle, frames, target="generic", **options):
    stem = tmp_path / "bundle" / "layer"
    bundle.save(stem)
    extra = options.pop("params", {})
    params = {"bundle": str(stem), **extra}
    layer = WccLayerSpec(bundle=bundle, **extra)
    outputs, taps = expected_streams(layer, frames)
    report = run_block("WccLayer", params, frames, outputs, tmp_path / "sim", taps_expected=taps, target=target,
                       **options)
    return layer, report


@pytest.mark.parametrize("geometry,params,traffic", [
    # 8x12 pads to 8x12 at 2 levels; PE 3 does not divide... 6 outputs: it does; SIMD 3 does not divide 4 inputs.
    ((8, 12, 4, 6, 2, 0.25), {"lanes_in": 2, "pe": 3, "simd": 3}, {}),
    ((8, 12, 4, 6, 2, 0.25), {"lanes_in": 2, "pe": 3, "simd": 3}, {"idle": 0.3, "backpressure": 0.4}),
    # 10x9 needs padding at 3 levels (16x16); PE 4 does not divide 6 outputs (gearbox path), one lane out.
    ((10, 9, 2, 6, 3, 0.125), {"lanes_in": 1, "pe": 4, "simd": 2, "lanes_out": 1}, {"backpressure": 0.5}),
    # k = all positions.
    ((4, 8, 4, 4, 1, 1.0), {"lanes_in": 4, "pe": 2, "simd": 4}, {"idle": 0.2}),
    # One compressor, and three.
    ((8, 8, 4, 4, 2, 0.5), {"lanes_in": 2, "pe": 2, "simd": 2, "compressors": 1}, {}),
    ((8, 8, 4, 4, 2, 0.5), {"lanes_in": 2, "pe": 2, "simd": 2, "compressors": 3}, {"backpressure": 0.3}),
    # Frames shorter or narrower than half a level-L block: the inverse's row and column counters have fewer
    # bits than the levels (a one-row frame has none).
    ((1, 10, 4, 6, 2, 1.0), {"lanes_in": 2, "pe": 4, "simd": 1, "lanes_out": 1}, {}),
    ((3, 2, 2, 2, 3, 0.5), {"lanes_in": 1, "pe": 1, "simd": 2}, {"idle": 0.3}),
])
def test_layer_random_frames_every_stream_exact(tmp_path, rng, geometry, params, traffic):
    height, width, cin, cout, levels, rate = geometry
    cfg = WccConfig(height=height, width=width, channels_in=cin, channels_out=cout, levels=levels, rate=rate)
    bundle = random_bundle(cfg, seed=3, activation="relu")
    frames = [rng.integers(-127, 128, size=(cin, height, width)) for _ in range(3)]
    frames.append(np.full((cin, height, width), 127))  # all-equal energies: the tie-break alone
    layer, report = simulate_layer(tmp_path, bundle, frames, params=params, seed=5, **traffic)
    assert_exact(report)
    assert report["streams_compared"] == [tap.name for tap in TAPS] + ["output"]
    assert report["frames_received"] == len(frames)
    if not traffic:
        # Stages overlap across frames: the interval is the slowest stage's.
        assert report["cycles_per_frame"] <= 1.1 * layer.cycle_bound


def test_layer_on_photograph_activations_ecp5(tmp_path):
    bundle, _ = golden.calibrated_layer("coffee", 8, 16, 8, 8, levels=2, rate=0.25)
    frames = [golden.photograph_codes(photo, 8, 16, 8) for photo in ("coffee", "brick")]
    _, report = simulate_layer(tmp_path, bundle, frames, target="ecp5", params={"lanes_in": 4, "pe": 4, "simd": 4})
    assert_exact(report)


def test_layer_reset_mid_frame_then_exact(tmp_path, rng):
    cfg = WccConfig(height=8, width=8, channels_in=4, channels_out=4, levels=2, rate=0.5)
    bundle = random_bundle(cfg, seed=9)
    frames = [rng.integers(-127, 128, size=(4, 8, 8)) for _ in range(2)]
    _, report = simulate_layer(tmp_path, bundle, frames, params={"lanes_in": 2, "pe": 2, "simd": 2},
                               reset_after_beats=50, partial_frame=frames[1])
    assert_exact(report)


def test_layer_wrong_weights_are_named_at_the_mac(tmp_path, rng):
    """Hardware built from one bundle, checked against another: the first difference is at the MAC's output."""
    cfg = WccConfig(height=8, width=8, channels_in=4, channels_out=4, levels=2, rate=0.5)
    bundle = random_bundle(cfg, seed=9)
    frames = [rng.integers(-127, 128, size=(4, 8, 8))]
    stem = tmp_path / "bundle" / "layer"
    bundle.save(stem)
    params = {"bundle": str(stem), "lanes_in": 2, "pe": 2, "simd": 2}
    layer = WccLayerSpec(bundle=bundle, lanes_in=2, pe=2, simd=2)
    wrong = LayerBundle.load(stem)
    wrong.weights[2, 1] += 1 if wrong.weights[2, 1] < 127 else -1
    outputs, taps = expected_streams(WccLayerSpec(bundle=wrong, lanes_in=2, pe=2, simd=2), frames)
    report = run_block("WccLayer", params, frames, outputs, tmp_path / "sim", taps_expected=taps)
    mismatch = report["mismatch"]
    assert not report["passed"] and mismatch["block"] == "PointwiseMAC" and mismatch["channel"] == 2
    assert "kept position #" in mismatch["message"]
    # Everything before the MAC still matched.
    assert set(report["stream_mismatches"]) >= {"sums", "output"}
    assert not {"coefficients", "compressed", "codes"} & set(report["stream_mismatches"])
    assert layer.config == wrong.config


@pytest.mark.parametrize("bad,message", [
    ({"lanes_in": 3}, "lanes_in: must divide channels_in (4), got 3"),
    ({"lanes_out": 3}, "lanes_out: must divide channels_out (4), got 3"),
    ({"pe": 0}, "pe: must be"),
    ({"simd": -1}, "simd: must be"),
    ({"compressors": 0}, "compressors: must be"),
])
def test_layer_invalid_parameters(tmp_path, bad, message):
    bundle = random_bundle(WccConfig(height=8, width=8, channels_in=4, channels_out=4, levels=2, rate=0.5))
    with pytest.raises(ValueError) as error:
        WccLayer(bundle=bundle, **bad)
    assert message in str(error.value)


def test_layer_refuses_a_missing_or_corrupt_bundle(tmp_path):
    """The layer takes a LayerBundle, never a file; the testbench loads a saved one and names what is wrong."""
    with pytest.raises(TypeError, match="bundle: must be a LayerBundle, got int"):
        WccLayer(bundle=42)
    with pytest.raises(TypeError, match="bundle: must be a LayerBundle, got PosixPath"):
        WccLayerSpec(bundle=tmp_path / "b")
    make_spec = BLOCKS["WccLayer"].make_spec
    with pytest.raises(ValueError, match="no such bundle file"):
        make_spec({"bundle": str(tmp_path / "absent")})
    bundle = random_bundle(WccConfig(height=8, width=8, channels_in=4, channels_out=4, levels=2, rate=0.5))
    json_path, _ = bundle.save(tmp_path / "b")
    assert make_spec({"bundle": tmp_path / "b", "pe": 2}).pe == 2
    json_path.write_text(json_path.read_text()[:-20])
    with pytest.raises(ValueError, match="corrupt JSON"):
        make_spec({"bundle": tmp_path / "b"})


def test_stage_cycles_follow_the_parts():
    bundle = random_bundle(WccConfig(height=16, width=16, channels_in=8, channels_out=16, levels=3, rate=0.25))
    layer = WccLayerSpec(bundle=bundle, lanes_in=4, pe=4, simd=4, compressors=1)
    stages = layer.stage_cycles
    # Two compressors taking frames in turn halve the compressor's share.
    two = WccLayerSpec(bundle=bundle, lanes_in=4, pe=4, simd=4).stage_cycles
    assert two["compressor"] == -(-stages["compressor"] // 2)
    assert stages["compressor"] == layer.part("compressor").cycles_per_frame
    assert stages["haar_forward"] == 16 * 16 * 2
    assert stages["haar_inverse"] == stages["reorder"] == 16 * 16 * 4  # 16 channels, lanes_out = pe = 4
    assert layer.mac_bound == stages["mac"] == 64 * 2 * 4  # keep 64, ceil(8/4) * ceil(16/4)
    # The unpacker's frame: 8 bitmap words and 64 * 2 code words, then the check.
    unpacker = layer.part("unpacker")
    assert stages["unpacker"] == 8 + 64 * 2 + unpacker.check_latency == unpacker.receive_cycles
    assert layer.cycle_bound == max(stages.values()) == stages["compressor"]


def test_verilog_header_records_the_bundle_by_digest(tmp_path):
    from wccgen.hw.verilog import emit_verilog

    bundle = random_bundle(WccConfig(height=8, width=8, channels_in=4, channels_out=4, levels=2, rate=0.5))
    layer = WccLayer(bundle=bundle, lanes_in=2, pe=2, simd=2)
    header = emit_verilog(layer, "wcc_layer", layer.header_parameters()).splitlines()[1]
    assert bundle.digest() in header
    changed = LayerBundle(**{**vars(bundle), "weights": bundle.weights[::-1].copy()})
    assert changed.digest() != bundle.digest()
    assert json.loads(header.split("parameters: ", 1)[1])["pe"] == 2


def test_the_watch_points_come_from_the_signature(rng):
    """Each tap port's signature names its stream, in data path order, with the payload of the port that makes
    it; the testbench's comparisons and the model's expectation follow the same list."""
    bundle = random_bundle(WccConfig(height=8, width=8, channels_in=4, channels_out=8, levels=2, rate=0.5))
    layer = WccLayerSpec(bundle=bundle, lanes_in=2, pe=4, simd=2, lanes_out=2)
    signature = BLOCKS["WccLayer"].signature(layer)
    assert signature_taps(signature) == TAPS
    for tap in TAPS:
        maker = tap.component.members(layer.part(tap.part))[tap.port].signature
        assert signature.members[f"tap_{tap.name}"].signature.members["payload"].shape == \
            maker.members["payload"].shape
    assert [(t.name, t.block) for t in BLOCKS["WccLayer"].taps(signature)] == [(t.name, t.block) for t in TAPS]
    _, _, expected = layer_expectation(layer, [rng.integers(-128, 128, size=(4, 8, 8))])
    assert list(expected) == [tap.name for tap in TAPS]
    assert BLOCKS["HaarForward"].taps(BLOCKS["HaarForward"].signature(layer.part("haar_forward"))) == ()
