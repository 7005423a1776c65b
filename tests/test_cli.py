"""The ``wccgen`` command line: summaries that add up, and clean failures."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wccgen.cli import main


def test_rates_json_reports_what_was_stored(capsys):
    assert main(["rates", "--json", "--size", "40x52", "--rates", "0.5,0.125"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # The default model's first expansion layer: 16 -> 64 channels. 40x52 pads to 40x56 at 3 levels: 2240 positions.
    assert (summary["channels_in"], summary["channels_out"], summary["layer"]) == (16, 64, "blocks.0.expand")
    first, second = summary["results"]
    assert (first["checkpoint"], second["checkpoint"]) == ("wcc50", "wcc12")
    assert (first["positions"], first["kept_positions"], second["kept_positions"]) == (2240, 1120, 280)
    assert first["compressed_bits"] == 16 * 1120 * 8 + 2240
    assert second["stream_bytes"] == -(-(16 * 280 * 8 + 2240) // 8)
    assert first["uncompressed_bits"] == 16 * 40 * 52 * 8
    assert sum(first["kept_per_level"].values()) == 1120
    assert 0 < second["energy_kept"] < first["energy_kept"] <= 1
    assert max(r["max_float_difference_lsb"] for r in summary["results"]) <= 0.51
    assert all(r["denoised_psnr"] > summary["noisy_psnr"] for r in summary["results"])


def test_rates_table(capsys):
    assert main(["rates", "--size", "24x24", "--rates", "0.25", "--layer", "blocks.2.project"]) == 0
    out = capsys.readouterr()
    assert "144/576" in out.out and "bits/act" in out.out and "64 -> 16 channels" in out.out
    assert "rate 0.25" in out.err  # progress goes to standard error


@pytest.mark.parametrize("args,message", [
    (["rates", "--rates", "0.3"], "wccgen: error: rates: the default model has WCC checkpoints for 0.5, 0.25, 0.125; "
                                 "got 0.3"),
    (["rates", "--layer", "tail"], "wccgen: error: layer: 'tail' is not a WCC layer of the default model"),
    (["rates", "--checkpoints", "/nonexistent"], "wccgen: error: /nonexistent/wcc50.pt: checkpoint not found"),
    (["demo", "--checkpoints", "/nonexistent"], "wccgen: error: /nonexistent/wcc25.pt: checkpoint not found"),
    (["demo", "--hw-rate", "0.3"], "wccgen: error: hw-rate: the default model has WCC checkpoints for 0.5, 0.25, "
                                   "0.125; got 0.3"),
    (["rates", "--rates", "0"], "rates: each rate must lie in (0, 1]"),
    (["demo", "--size", "big"], "size: expected HEIGHTxWIDTH"),
    (["demo", "--image", "mars"], "invalid choice: 'mars'"),
    (["eval", "--crop", "0"], "expected a positive integer, got 0"),
    # SSIM's 7x7 window must fit the photograph whose quality is measured: refused before any work.
    (["eval", "--crop", "6"], "crop: a photograph whose PSNR and SSIM are measured must be at least 7x7 (SSIM's "
                              "window), got 6x6"),
    (["rates", "--size", "5x20"], "size: a photograph whose PSNR and SSIM are measured must be at least 7x7"),
    (["demo", "--size", "20x6", "--out", "/nonexistent/never"], "size: a photograph whose PSNR and SSIM are measured"),
    (["train", "--tune-steps", "x"], "expected a positive integer, got 'x'"),
    (["train", "--replicas", "11", "--out", "/nonexistent/never"], "replicas: at most 10"),
    (["train", "--out", "/etc/hostname"], "out: /etc/hostname is a file, not a directory"),
    (["train", "--jobs", "0"], "argument --jobs: expected a positive integer, got 0"),
    (["eval", "--tiles", "20"], "tiles: each must be a multiple of 8 from 8 to 256, or 'image', got 20"),
    (["eval", "--replicas", "0"], "argument --replicas: expected a positive integer, got 0"),
])
def test_bad_input_is_one_clear_line(args, message, tmp_path):
    # In an empty directory: the default outputs (./wccgen-demo of an earlier `make demo`) must not decide the case.
    done = subprocess.run([sys.executable, "-m", "wccgen.cli", *args], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


# -- hardware commands ---------------------------------------------------------------------------------------------
def _wccgen(*args):
    return subprocess.run([sys.executable, "-m", "wccgen.cli", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The default model's first expansion layer (16 -> 64) on an 8x8 frame, generic Verilog."""
    out = tmp_path_factory.mktemp("generated") / "layer"
    done = _wccgen("generate", "--size", "8x8", "--target", "generic", "--pe", "4", "--simd", "4", "--out", out,
                   "--json")
    assert done.returncode == 0, done.stderr
    return out, json.loads(done.stdout)


def test_generate_writes_verilog_memories_and_manifest(generated):
    out, summary = generated
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["config"]["channels_in"] == 16 and manifest["parameters"]["pe"] == 4
    assert summary["bundle_sha256"] == manifest["bundle_sha256"]
    ports = {port["name"]: port for port in manifest["ports"]}
    # AXI4-Stream by default: 4 input lanes of 8-bit pixels a byte each; 4 output lanes (= PE) of 8-bit pixels.
    assert manifest["port_style"] == "axi"
    assert ports["s_axis_tdata"] == {"name": "s_axis_tdata", "direction": "in", "width": 4 * 8}
    assert [ports[f"s_axis_{name}"]["direction"] for name in ("tvalid", "tready", "tlast", "tuser")] == \
        ["in", "out", "in", "in"]
    assert ports["m_axis_tdata"]["width"] == 4 * 8 and ports["m_axis_tready"]["direction"] == "in"
    assert not [name for name in ports if name.startswith(("pixels__", "output__"))]
    assert ports["tap_compressed__valid"]["direction"] == "out"
    verilog = (out / "wcc_layer.v").read_text()
    assert "module wcc_layer(" in verilog and manifest["bundle_sha256"] in verilog
    # One weight memory per PE, a word of SIMD weights per fold: ceil(16/4) * ceil(64/4) words.
    weights = (out / "mem" / "weights_pe0.hex").read_text().split()
    assert len(weights) == 4 * 16 and all(len(word) == 8 for word in weights)
    assert manifest["cycles"]["bound"] == max(manifest["cycles"]["stages"].values())


def test_generate_then_simulate_is_bit_exact(generated):
    out, _ = generated
    done = _wccgen("simulate", out, "--json")
    assert done.returncode == 0, done.stderr + done.stdout
    summary = json.loads(done.stdout)
    assert summary["bit_exact"] is True and summary["mismatches"] == 0 and summary["first_mismatch"] is None
    assert summary["streams_compared"][-1] == "output" and len(summary["streams_compared"]) == 6
    assert summary["cycles"] <= 1.1 * summary["cycle_bound"]
    # 8x8 at rate 0.25: 16 kept positions of 16 channels at 8 bits, and the 64-bit bitmap.
    assert summary["compressed_bits"] == 16 * 16 * 8 + 64 and summary["uncompressed_bits"] == 16 * 64 * 8
    assert summary["max_float_difference_lsb"] <= 0.51
    assert json.loads((out / "sim" / "summary.json").read_text())["bit_exact"] is True


def copy_of(generated, tmp_path):
    """A copy of the generated directory (without its simulation results), to spoil."""
    import shutil

    source, _ = generated
    out = tmp_path / "layer"
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("sim"))
    return out


def edit_manifest(out, **fields):
    manifest = json.loads((out / "manifest.json").read_text())
    for key, value in fields.items():
        if key == "parameters":
            manifest[key].update(value)
        else:
            manifest[key] = value
    (out / "manifest.json").write_text(json.dumps(manifest))


def test_a_bundle_edited_after_generate_is_refused_not_blamed_on_the_hardware(generated, tmp_path):
    out = copy_of(generated, tmp_path)
    npz = out / "bundle" / "layer.npz"
    with np.load(npz) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["weights"][5, 3] = -arrays["weights"][5, 3] or 1
    np.savez(npz, **arrays)
    for command in ("simulate", "synth", "bitstream"):
        done = _wccgen(command, out)
        assert done.returncode == 2, (command, done.stderr)
        assert f"wccgen: error: {out}: the bundle 'bundle/layer' changed since generate (SHA-256 " in done.stderr
        assert "Traceback" not in done.stderr and not (out / "sim").exists() and not (out / "synth").exists()


@pytest.mark.parametrize("fields,message", [
    ({"parameters": {"pe": 8}}, "the manifest's parameters are not those the Verilog 'wcc_layer.v' records"),
    ({"bundle_sha256": "0" * 64}, "the bundle 'bundle/layer' changed since generate"),
    ({"verilog": "../../outside.v"}, "field 'verilog' ('../../outside.v') leads outside"),
    ({"bundle": "/etc/layer"}, "field 'bundle' ('/etc/layer') leads outside"),
    ({"memories": {"directory": "../mem", "files": []}}, "field 'memories.directory' ('../mem') leads outside"),
])
def test_a_manifest_that_disagrees_with_its_files_is_refused(generated, tmp_path, fields, message):
    out = copy_of(generated, tmp_path)
    edit_manifest(out, **fields)
    done = _wccgen("simulate", out)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def snapshot(directory):
    """Every file below ``directory`` with its bytes."""
    return {path.relative_to(directory): path.read_bytes() for path in sorted(Path(directory).rglob("*"))
            if path.is_file()}


def test_generate_never_spoils_a_directory(generated, tmp_path):
    """A non-empty directory is refused without --force; a refused generate, even with --force, leaves it as it
    was; --force replaces it whole (nothing of the old design stays); a file is not a directory."""
    out = copy_of(generated, tmp_path)
    (out / "sim").mkdir()
    (out / "sim" / "summary.json").write_text("{}")
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    done = _wccgen("generate", "--size", "8x8", "--target", "generic", "--out", out)
    assert done.returncode == 2 and f"wccgen: error: out: {out} is not empty; give --force" in done.stderr
    done = _wccgen("generate", "--size", "8x8", "--target", "generic", "--lanes-in", "3", "--force", "--out", out)
    assert done.returncode == 2 and "lanes_in: must divide channels_in (16), got 3" in done.stderr
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []
    done = _wccgen("generate", "--size", "8x8", "--target", "generic", "--pe", "8", "--simd", "4", "--force",
                   "--ports", "native", "--out", out)
    assert done.returncode == 0, done.stderr
    assert not (out / "notes.txt").exists() and not (out / "sim").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameters"]["pe"] == 8 and manifest["port_style"] == "native"
    # The streams' own names: 4 lanes of 8 bits plus first/last in one payload.
    ports = {port["name"]: port for port in manifest["ports"]}
    assert ports["pixels__payload"] == {"name": "pixels__payload", "direction": "in", "width": 4 * 8 + 2}
    assert ports["output__ready"]["direction"] == "in" and "s_axis_tdata" not in ports
    (tmp_path / "file").write_text("x")
    done = _wccgen("generate", "--size", "8x8", "--out", tmp_path / "file")
    assert done.returncode == 2 and "is a file, not a directory" in done.stderr
    assert (tmp_path / "file").read_text() == "x"


def test_the_frame_interval_needs_two_rounds_of_frames():
    from wccgen.gen.layer import _frame_interval

    assert _frame_interval([], 2) is None and _frame_interval([100], 2) is None and _frame_interval([5, 9], 2) is None
    assert _frame_interval([0, 10, 20], 2) == 10 and _frame_interval([0, 10, 20, 31], 1) == 31 / 3


def test_exit_status_tells_bad_input_from_a_failing_tool(generated, tmp_path):
    """2: bad input, before any work (a zero clock); 3: a tool failed, with its log (Yosys on broken Verilog)."""
    out = copy_of(generated, tmp_path)
    done = _wccgen("synth", out, "--clock", "0")
    assert done.returncode == 2 and "wccgen: error: clock: must lie in [1, 1000] MHz, got 0.0" in done.stderr
    assert not (out / "synth").exists()
    from wccgen.golden.bundle import random_bundle
    from wccgen.spec.wcc_config import WccConfig

    random_bundle(WccConfig(height=8, width=8, channels_in=4, channels_out=4, levels=2, rate=0.5)).save(tmp_path / "b")
    small = tmp_path / "small"
    assert _wccgen("generate", "--bundle", tmp_path / "b", "--target", "ice40-up5k", "--out", small).returncode == 0
    verilog = small / "wcc_layer.v"
    verilog.write_text(verilog.read_text().replace("endmodule", "endmodul", 1))
    done = _wccgen("synth", small)
    assert done.returncode == 3, done.stderr
    assert "wccgen: error: yosys failed (exit 1); see " in done.stderr and "Traceback" not in done.stderr
    log = done.stderr.split("; see ", 1)[1].split(":", 1)[0]
    assert Path(log).is_file()
    assert "exit status: 0 success; 1 the hardware differs" in _wccgen("--help").stdout


def test_simulate_refuses_verilog_that_is_not_the_bundles(generated, tmp_path):
    """One word of a memory changed in the generated Verilog is named, even where no frame would reveal it."""
    import re
    import shutil

    source, _ = generated
    out = tmp_path / "layer"
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("sim"))
    verilog = out / "wcc_layer.v"
    text = verilog.read_text()
    word = re.search(r"^(\s*(weights\w*)\[(\d+)\] = \d+'[dh])([0-9a-f]+);$", text, re.MULTILINE)
    digits = word.group(4)
    changed = digits[:-1] + ("1" if digits[-1] == "0" else "0")
    verilog.write_text(text[:word.start(4)] + changed + text[word.end(4):])
    done = _wccgen("simulate", out, "--frames", "1", "--coverage-frames", "0", "--json")
    assert done.returncode == 1
    summary = json.loads(done.stdout)
    difference = summary["verilog_difference"]
    assert summary["verilog_from_bundle"] is False
    assert (difference["memory"], difference["word"]) == (word.group(2), int(word.group(3)))
    assert difference["message"].endswith(f"the bundle gives {word.group(1).strip().split('= ')[1]}{digits}, "
                                          f"the Verilog holds {word.group(1).strip().split('= ')[1]}{changed}")


def test_synth_refuses_a_device_the_layer_does_not_fit(generated, tmp_path):
    from wccgen.golden.bundle import random_bundle
    from wccgen.spec.wcc_config import WccConfig

    # The smallest of layers (4 -> 4 channels, 8x8) still needs more than the UP5K has.
    random_bundle(WccConfig(height=8, width=8, channels_in=4, channels_out=4, levels=2, rate=0.5)).save(tmp_path / "b")
    done = _wccgen("generate", "--bundle", tmp_path / "b", "--target", "ice40-up5k", "--out", tmp_path / "small")
    assert done.returncode == 0, done.stderr
    done = _wccgen("synth", tmp_path / "small")
    assert done.returncode == 2, done.stderr
    assert "wccgen: error: ice40-up5k: the design does not fit the iCE40 UP5K (SG48): it needs" in done.stderr
    assert "Traceback" not in done.stderr
    out, _ = generated
    wrong = _wccgen("synth", out, "--target", "ecp5-85f")
    assert wrong.returncode == 2
    assert "was generated for generic; run `wccgen generate --target ecp5-85f`" in wrong.stderr


@pytest.mark.parametrize("args,message", [
    (["generate", "--out", "{tmp}/x", "--checkpoint", "{tmp}/missing.pt"], "missing.pt: checkpoint not found"),
    (["generate", "--out", "{tmp}/x", "--layer", "blocks.9.expand"],
     "layer: 'blocks.9.expand' is not a layer of the model"),
    (["generate", "--out", "{tmp}/x", "--layer", "blocks.0.depthwise"],
     "layer: 'blocks.0.depthwise' is a 3x3 convolution, not a 1x1 WCC layer"),
    (["generate", "--out", "{tmp}/x", "--bundle", "{tmp}/nothing"], "nothing.json: no such bundle file"),
    (["generate", "--out", "{tmp}/x", "--size", "16x16", "--lanes-in", "3"],
     "lanes_in: must divide channels_in (16), got 3"),
    (["generate", "--out", "{tmp}/x", "--bundle", "{tmp}/b", "--size", "8x8", "--layer", "blocks.1.expand"],
     "layer, size: a bundle fixes the layer, its frame size and its output scale"),
    (["generate", "--out", "{tmp}/x", "--size", "8x8", "--simd", "1000"],
     "simd: must lie in [1, channels_in (16)], got 1000"),
    (["generate", "--out", "{tmp}/x", "--size", "8x8", "--pe", "65"], "pe: must lie in [1, channels_out (64)], got 65"),
    (["generate", "--out", "{tmp}/x", "--ports", "wishbone"], "argument --ports: invalid choice: 'wishbone'"),
    (["generate", "--out", "{tmp}/x", "--codec", "tci", "--ports", "axi"],
     "ports: AXI4-Stream ports are generated for a WCC layer"),
    (["synth", "{tmp}", "--clock", "-5"], "clock: must lie in [1, 1000] MHz, got -5.0"),
    (["generate"], "out: give the output directory"),
    (["generate", "--config", "{tmp}/absent.json", "--out", "{tmp}/x"], "config: {tmp}/absent.json: no such file"),
    (["simulate", "{tmp}"], "no manifest.json; run `wccgen generate --out"),
    (["simulate", "{tmp}", "--idle", "1.5"], "idle: must lie in [0, 0.9], got 1.5"),
    (["simulate", "{tmp}", "--backpressure", "0.999"], "backpressure: must lie in [0, 0.9], got 0.999"),
    (["simulate", "{tmp}", "--frames", "1000000000"], "frames: must be an integer in [1, 1000], got 1000000000"),
    (["demo", "--out", "{tmp}/d", "--frames", "5000"], "frames: must be an integer in [1, 1000], got 5000"),
    (["simulate", "{tmp}", "--full", "--frames", "2"], "argument --frames: not allowed with argument --full"),
    (["simulate", "{tmp}", "--coverage-frames", "-1"], "expected a non-negative integer, got -1"),
    (["simulate", "{tmp}", "--sim", "modelsim"], "invalid choice: 'modelsim'"),
    (["bitstream", "{tmp}"], "no manifest.json"),
    (["generate", "--codec", "tci", "--simd", "4", "--out", "{tmp}/x"], "simd: options of a WCC layer; --codec"),
    (["generate", "--codec", "zip", "--out", "{tmp}/x"], "invalid choice: 'zip'"),
    (["generate", "--codec", "tci", "--layer", "blocks.0.depthwise", "--out", "{tmp}/x"],
     "layer: 'blocks.0.depthwise' of "),
    (["generate", "--codec", "dctcm", "--checkpoint", "{tmp}/absent.pt", "--out", "{tmp}/x"], "absent.pt"),
])
def test_hardware_commands_bad_input_is_one_clear_line(tmp_path, args, message):
    done = _wccgen(*[arg.format(tmp=tmp_path) for arg in args])
    assert done.returncode == 2, done.stdout
    assert message.format(tmp=tmp_path) in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_generate_from_a_config_file_and_a_corrupt_checkpoint(tmp_path):
    config = tmp_path / "layer.json"
    config.write_text(json.dumps({"layer": "blocks.1.project", "size": "8x8", "pe": 2, "simd": 8,
                                  "target": "generic", "out": str(tmp_path / "out")}))
    done = _wccgen("generate", "--config", config, "--simd", "16", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # The config file's options, the command line's simd over it; blocks.1.project is 64 -> 16.
    assert (summary["parameters"]["pe"], summary["parameters"]["simd"]) == (2, 16)
    assert summary["parameters"]["config"]["channels_in"] == 64
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    done = _wccgen("generate", "--checkpoint", broken, "--out", tmp_path / "y")
    assert done.returncode == 2 and "broken.pt: not a readable checkpoint (not a PyTorch file" in done.stderr
    assert "weights_only" not in done.stderr and len(done.stderr.strip().splitlines()) == 2  # progress, then the error


def test_demo_generates_simulates_and_reports(tmp_path):
    out = tmp_path / "demo"
    done = _wccgen("demo", "--no-synth", "--hw-size", "8x8", "--size", "24x24", "--rates", "0.25", "--out", out,
                   "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bit_exact"] is True and summary["mismatches"] == 0
    assert summary["rates"]["results"][0]["kept_positions"] == 144
    report = (out / "report.md").read_text()
    assert "**bit-exact**" in report
    for figure in ("input.png", "output_vs_float.png", "kept_bitmap.png", "cycles.png"):
        assert (out / figure).stat().st_size > 1000 and figure in report
    # The headline: the whole network denoised the photograph through the Verilog of its two engines.
    network = summary["network"]
    assert network["bit_exact"] and network["hardware_equals_integer_model"] and network["layers"] == 6
    assert network["size"] == [24, 24] and network["psnr"]["hardware"] > network["psnr"]["noisy"]
    assert report.startswith("# The whole network, and its WCC layer `blocks.0.expand`, in hardware")
    assert "![the whole network](network/sim/network.png)" in report
    assert (out / "network" / "sim" / "network.png").stat().st_size > 1000


@pytest.mark.parametrize("simulator,waves", [("icarus", "waves.fst"), ("verilator", "dump.vcd")])
def test_simulate_dumps_waves_and_takes_an_image_file(tmp_path, simulator, waves):
    from skimage import io

    from wccgen.golden.bundle import random_bundle
    from wccgen.golden.photographs import grey_photograph
    from wccgen.spec.wcc_config import WccConfig

    random_bundle(WccConfig(height=8, width=8, channels_in=4, channels_out=4, levels=2, rate=0.5)).save(tmp_path / "b")
    done = _wccgen("generate", "--bundle", tmp_path / "b", "--target", "generic", "--out", tmp_path / "g")
    assert done.returncode == 0
    photo = tmp_path / "photo.png"
    io.imsave(photo, (grey_photograph("coins", 40, 40)[0, 0].numpy() * 255).astype("uint8"))
    done = _wccgen("simulate", tmp_path / "g", "--image", photo, "--frames", "1", "--waves", "--sim", simulator,
                   "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bit_exact"] and summary["images"] == [str(photo)] and summary["simulator"] == simulator
    assert summary["waves"] == str(tmp_path / "g" / "sim" / "run" / waves)
    assert Path(summary["waves"]).stat().st_size > 1000
    photo.write_bytes(b"\x89PNG broken")
    done = _wccgen("simulate", tmp_path / "g", "--image", photo)
    assert done.returncode == 2 and f"photograph: {photo}: not an image file scikit-image can read" in done.stderr
    assert "pip install" not in done.stderr and done.stderr.count("\n") <= 2


def test_simulate_full_photograph_assembles_every_tile(tmp_path):
    from wccgen.golden.bundle import LayerBundle, random_bundle
    from wccgen.golden.wcc_layer import wcc_layer
    from wccgen.spec.wcc_config import WccConfig

    random_bundle(WccConfig(height=8, width=8, channels_in=4, channels_out=4, levels=2, rate=0.5)).save(tmp_path / "b")
    done = _wccgen("generate", "--bundle", tmp_path / "b", "--target", "generic", "--out", tmp_path / "g")
    assert done.returncode == 0
    done = _wccgen("simulate", tmp_path / "g", "--full", "16x24", "--coverage-frames", "2", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bit_exact"] and summary["full"]["tiles"] == 6 and summary["full"]["grid"] == [2, 3]
    maps = np.load(summary["full"]["maps"])
    assert maps["input"].shape == (4, 16, 24) and maps["output"].shape == (4, 16, 24)
    # Each 8x8 window of the assembled output is the integer model's output of that window of the input.
    bundle = LayerBundle.load(tmp_path / "g" / "bundle" / "layer")
    for row in (0, 8):
        for col in (0, 8, 16):
            window = (slice(None), slice(row, row + 8), slice(col, col + 8))
            assert np.array_equal(maps["output"][window], wcc_layer(maps["input"][window], bundle).output)
    assert Path(summary["full"]["figure"]).stat().st_size > 10_000
    done = _wccgen("simulate", tmp_path / "g", "--full", "10x24")
    assert done.returncode == 2
    assert ("height: the photograph's height must be a positive multiple of the layer's frame height 8, got 10"
            in done.stderr)


@pytest.mark.parametrize("codec", ["tci", "dctcm", "cap"])
def test_a_codec_layer_generates_simulates_bit_exact_and_refuses_an_edited_bundle(tmp_path, codec):
    """`generate --codec`: the shipped model's first layer of that codec on 8x8 frames; `simulate` compares its
    output and every internal stream on two photographs; a bundle edited afterwards is refused."""
    out = tmp_path / codec
    done = _wccgen("generate", "--codec", codec, "--size", "8x8", "--out", out, "--json")
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    assert (manifest["kind"], manifest["codec"], manifest["layer"]["height"]) == ("codec", codec, 8)
    assert (out / manifest["verilog"]).is_file() and manifest["cycles"]["bound"] >= 8 * 8 * 4
    done = _wccgen("simulate", out, "--frames", "2", "--idle", "0.1", "--backpressure", "0.2", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bit_exact"] and summary["images"] == ["astronaut", "chelsea"]
    assert {"sums", "codes", "compressed", "decoded", "accumulators", "output"} <= set(summary["streams_compared"])
    assert 0 < summary["bits_per_activation"] < 8 and len(summary["compressed_bits"]) == 2
    text = _wccgen("simulate", out, "--frames", "2")
    assert text.returncode == 0 and f"through the {codec} layer" in text.stdout
    done = _wccgen("bitstream", out)  # a command of WCC layers only
    assert done.returncode == 2 and f"holds a {codec} layer (`wccgen generate --codec`)" in done.stderr
    bundle = out / manifest["bundle"]
    data = json.loads(bundle.read_text())
    data["coef_shift"] += 1
    bundle.write_text(json.dumps(data))
    done = _wccgen("simulate", out)
    assert done.returncode == 2 and "changed since generate" in done.stderr and "Traceback" not in done.stderr
