"""AXI4-Stream ports: a generated layer driven by cocotbext-axi's AxiStreamSource and AxiStreamSink (random
pauses and backpressure), its output bytes equal to the integer model's; the byte packing against a loop."""

import json

import numpy as np
import pytest
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from wccgen.gen.layer import default_checkpoint, generate, layer_from_bundle, layer_from_checkpoint, read_manifest
from wccgen.golden.bundle import LayerBundle, random_bundle
from wccgen.hw.axi_stream_ports import AxiStreamPorts, axi_lane_bits
from wccgen.hw.frame_beat import frame_beat, word_beat
from wccgen.hw.wcc_layer import WccLayerSpec
from wccgen.sim.compare import frame_mismatch
from wccgen.sim.frames import axi_bytes_to_beats, beats_to_axi_bytes, beats_to_frame, frame_to_beats
from wccgen.sim.layer_streams import layer_expectation
from wccgen.sim.simulators import build_simulation
from wccgen.spec.wcc_config import WccConfig


def run_axi(tmp_path, out, frames, *, idle, backpressure, seed):
    """Simulate the generated layer in ``out`` on ``frames`` through its AXI4-Stream ports; ``(expected, got,
    tuser)``: the integer model's output frames, the frames the sink received, and its tuser bits per frame."""
    manifest = read_manifest(out)
    assert manifest["port_style"] == "axi"
    params = manifest["parameters"]
    cfg = WccConfig(**params["config"])
    layer = WccLayerSpec(bundle=LayerBundle.load(out / manifest["bundle"]),
                         **{key: params[key] for key in ("lanes_in", "pe", "simd", "lanes_out", "compressors")})
    _, expected, _ = layer_expectation(layer, frames)
    beat_in = layer.lanes_in * axi_lane_bits(cfg.in_bits) // 8
    run = tmp_path / "axi_run"
    run.mkdir()
    job = {
        "frames": [{"tdata": beats_to_axi_bytes(frame_to_beats(f, layer.lanes_in), cfg.in_bits).hex(),
                    "beat_bytes": beat_in} for f in frames],
        "expected_frames": len(expected),
        "idle": idle, "backpressure": backpressure, "seed": seed,
        "timeout_cycles": 20 * (len(frames) + 2) * max(layer.cycle_bound, cfg.height * cfg.width),
        "record": str(run / "received.json"),
    }
    (run / "job.json").write_text(json.dumps(job))
    build = build_simulation("icarus", [out / manifest["verilog"]], manifest["top"])
    try:
        build.runner.test(test_module="axi_stream_tb", hdl_toplevel=manifest["top"], hdl_toplevel_lang="verilog",
                          build_dir=build.build_dir, test_dir=run, extra_env={"WCCGEN_AXI_JOB": str(run / "job.json")},
                          results_xml=str(run / "results.xml"), log_file=str(run / "sim.log"))
    except SystemExit:
        pass  # a failing cocotb test ends the runner this way; the record's absence says so
    record = run / "received.json"
    assert record.is_file(), (run / "sim.log").read_text()[-3000:]
    got, tuser = [], []
    for frame, want in zip(json.loads(record.read_text()), expected):
        beats, padded = axi_bytes_to_beats(bytes.fromhex(frame["tdata"]), layer.lanes_out, cfg.out_bits)
        assert padded, "an output lane's bits above its width are not its sign"
        got.append(beats_to_frame(beats, *want.shape, layer.lanes_out) if beats.size == want.size else beats)
        tuser.append(frame["tuser"])
    beat_out = layer.lanes_out * axi_lane_bits(cfg.out_bits) // 8
    return expected, got, tuser, beat_out


def assert_frames_exact(expected, got, tuser, beat_bytes):
    assert len(got) == len(expected)
    for index, (want, have, user) in enumerate(zip(expected, got, tuser)):
        assert have.shape == want.shape, f"frame {index}: {have.size} values, {want.size} expected (tlast misplaced)"
        report = frame_mismatch("AxiStreamPorts", index, want, have)
        assert report is None, report["message"]
        assert user == [1] * beat_bytes + [0] * (len(user) - beat_bytes), f"frame {index}: tuser is not on the " \
            "first beat alone"


def test_a_layer_of_the_shipped_model_on_photographs_through_cocotbext_axi(tmp_path):
    """The default WCC layer at 8x8, generated with AXI4-Stream ports, on its activations of two photographs and
    a frame of extremes, with pauses on the source and backpressure on the sink."""
    source = layer_from_checkpoint(default_checkpoint(), "blocks.0.expand", 8, 8)
    out = tmp_path / "layer"
    generate(source, out, pe=4, simd=4, device="generic")
    frames = [source.frames(name, seed=index)[0] for index, name in enumerate(("astronaut", "chelsea"))]
    frames.append(np.where(np.indices(frames[0].shape).sum(axis=0) % 2, 127, -127))
    assert_frames_exact(*run_axi(tmp_path, out, frames, idle=0.3, backpressure=0.4, seed=3))


def test_lanes_narrower_than_a_byte_are_sign_extended(tmp_path):
    """6-bit inputs and 5-bit outputs take a byte each on tdata: the padding is the sign, both ways."""
    cfg = WccConfig(height=8, width=8, channels_in=4, channels_out=6, levels=2, rate=0.5, in_bits=6, out_bits=5)
    bundle = random_bundle(cfg, seed=4)  # no activation: negative outputs too
    stem = tmp_path / "bundle" / "layer"
    bundle.save(stem)
    out = tmp_path / "layer"
    generate(layer_from_bundle(stem), out, lanes_in=2, pe=3, simd=2, device="generic")
    rng = np.random.default_rng(8)
    frames = [rng.integers(-31, 32, size=(4, 8, 8)), np.full((4, 8, 8), -31), np.full((4, 8, 8), 31)]
    expected, got, tuser, beat_bytes = run_axi(tmp_path, out, frames, idle=0.2, backpressure=0.5, seed=9)
    assert min(frame.min() for frame in expected) < 0 < max(frame.max() for frame in expected)
    assert_frames_exact(expected, got, tuser, beat_bytes)


@pytest.mark.parametrize("width", [1, 5, 8, 9, 16, 21])
def test_axi_bytes_against_a_loop(width):
    rng = np.random.default_rng(width)
    beats = rng.integers(-(1 << (width - 1)), 1 << (width - 1), size=(5, 3))
    data = beats_to_axi_bytes(beats, width)
    size = axi_lane_bits(width) // 8
    expected = b"".join(int(value).to_bytes(size, "little", signed=True) for value in beats.ravel())
    assert data == expected
    back, padded = axi_bytes_to_beats(data, 3, width)
    assert padded and np.array_equal(back, beats)
    with pytest.raises(ValueError, match="fit"):
        beats_to_axi_bytes([[1 << width]], width)


def test_padding_that_is_not_the_sign_is_noticed():
    beats, padded = axi_bytes_to_beats(bytes([0x1f, 0x20]), 1, 6)  # 0x20: bit 5 (the sign) set, bits 6-7 clear
    assert not padded and beats.tolist() == [[31], [-32]]
    with pytest.raises(ValueError, match="whole beats"):
        axi_bytes_to_beats(bytes(3), 2, 8)


def test_ports_that_are_not_frame_streams_are_refused():
    class Words:  # only its signature is read before the refusal
        signature = wiring.Signature({"i": In(stream.Signature(word_beat(8))),
                                      "o": Out(stream.Signature(frame_beat(8, 2)))})

    with pytest.raises(TypeError, match="i: AXI4-Stream ports need a frame stream of lanes"):
        AxiStreamPorts(Words(), "i", "o")
    with pytest.raises(ValueError, match="x: Words has no such port"):
        AxiStreamPorts(Words(), "x", "o")
