"""``wccgen generate --network`` and ``wccgen simulate`` of a network: a photograph through every WCC layer's Verilog.

The suite uses a small WCC denoiser made here (4 channels, expansion 2, two
blocks: four WCC layers on two engines, each serving two layers) so that it
builds and simulates in seconds; the shipped
six-layer network on the held-out photographs is measured by
``bench/network.py`` (``bench/results/network.json``).
"""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from skimage.io import imread

from wccgen.golden.checkpoints import Stage, build_model, save_checkpoint
from wccgen.golden.photographs import grey_photograph
from wccgen.golden.training import noisy

ARCHITECTURE = {"channels": 4, "expansion": 2, "blocks": 2}
LAYERS = ["blocks.0.expand", "blocks.0.project", "blocks.1.expand", "blocks.1.project"]


def _wccgen(*args):
    return subprocess.run([sys.executable, "-m", "wccgen.cli", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A small WCC denoiser, calibrated (its quantizers' clips set) on a training photograph, saved as a checkpoint."""
    torch.manual_seed(3)
    stage = Stage("tiny", "wcc", rate=0.25)
    model = build_model(ARCHITECTURE, stage)
    with torch.no_grad():
        model(noisy(grey_photograph("camera", 48, 48), torch.Generator().manual_seed(1)))
    model.eval()
    path = tmp_path_factory.mktemp("checkpoint") / "tiny.pt"
    save_checkpoint(path, model, ARCHITECTURE, stage, {"seed": 3, "note": "calibrated, untrained"})
    return path


@pytest.fixture(scope="module")
def generated(checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("network") / "net"
    done = _wccgen("generate", "--network", "--checkpoint", checkpoint, "--size", "8x8", "--out", out, "--json")
    assert done.returncode == 0, done.stderr
    return out, json.loads(done.stdout)


def test_generate_network_writes_every_engine_and_the_schedule(generated):
    out, manifest = generated
    assert manifest["kind"] == "network" and manifest["tile"] == [8, 8]
    assert [layer["name"] for layer in manifest["layers"]] == LAYERS
    # Layers of one shape share an engine.
    assert [(engine["name"], engine["layers"]) for engine in manifest["engines"]] == [
        ("expand", LAYERS[0::2]), ("project", LAYERS[1::2])]
    for engine in manifest["engines"]:
        engine_manifest = json.loads((out / engine["directory"] / "manifest.json").read_text())
        assert engine_manifest["kind"] == "engine" and engine_manifest["layers"] == engine["layers"]
        assert (out / engine["verilog"]).is_file()
    assert [(layer["engine"], layer["layer_setting"]) for layer in manifest["layers"]] == [
        ("expand", 0), ("project", 0), ("expand", 1), ("project", 1)]
    top = (out / manifest["verilog"]).read_text()
    assert "module wcc_network" in top
    assert all(f"{engine}_{port}" in top for engine in ("expand", "project")
               for port in ("pixels__payload", "output__valid", "layer"))
    assert (out / "network" / "network.json").is_file()
    assert manifest["schedule"]["order"] == LAYERS


def test_simulate_network_is_bit_exact_and_writes_the_photograph(generated, tmp_path):
    out, _ = generated
    # 20 x 28 is not a multiple of the 8 x 8 tiles: the edge tiles are padded and cropped.
    done = _wccgen("simulate", out, "--image", "chelsea", "--full", "20x28", "--sim", "icarus", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["bit_exact"] and summary["hardware_equals_integer_model"]
    assert summary["grid"] == [3, 4]
    assert list(summary["layers"]) == LAYERS
    assert [layer["layer_setting"] for layer in summary["layers"].values()] == [0, 0, 1, 1]
    assert all(layer["tiles"] == 12 and layer["frames_received"] == 12 for layer in summary["layers"].values())
    assert summary["psnr"]["hardware"] == summary["psnr"]["integer"]
    assert set(summary["psnr"]) == {"hardware", "integer", "float", "noisy"}
    denoised = imread(summary["files"]["denoised"])
    assert denoised.shape == (20, 28) and denoised.dtype == np.uint8 and np.unique(denoised).size > 20
    assert (out / "sim" / "summary.json").is_file() and (out / "sim" / "network.png").is_file()


def test_a_changed_layer_bundle_is_refused(generated, tmp_path):
    out, _ = generated
    copy = tmp_path / "net"
    shutil.copytree(out, copy)
    from wccgen.golden.bundle import LayerBundle

    stem = copy / "network" / "layers" / "blocks.0.project"
    bundle = LayerBundle.load(stem)
    bundle.weights[0, 0] = -bundle.weights[0, 0] or 1
    bundle.save(stem)
    done = _wccgen("simulate", copy)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith(
        "the engine 'project' was built for other layers than the network's blocks.0.project, blocks.1.project (the "
        "network bundle changed since generate); generate again")


@pytest.mark.parametrize("args,message", [
    (["--frames", "2"], "--frames: options of one layer"),
    (["--waves"], "--waves: options of one layer"),
    (["--idle", "0.95"], "idle: must lie in [0, 0.9]"),
    (["--full", "4x6"], "full: a photograph whose PSNR and SSIM are measured must be at least 7x7 (SSIM's window), "
                        "got 4x6"),
])
def test_simulate_network_bad_options_are_one_line(generated, args, message):
    out, _ = generated
    done = _wccgen("simulate", out, *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert message in done.stderr.strip().splitlines()[-1]


def test_generate_network_refuses_a_checkpoint_without_wcc_layers(tmp_path):
    from wccgen.golden.checkpoints import default_checkpoint_dir

    out = tmp_path / "net"
    done = _wccgen("generate", "--network", "--checkpoint", default_checkpoint_dir() / "fp32.pt", "--out", out)
    assert done.returncode == 2 and "has no WCC layers" in done.stderr.strip().splitlines()[-1]
    assert not out.exists()
    done = _wccgen("generate", "--network", "--layer", "blocks.0.expand", "--out", out)
    assert done.returncode == 2 and "layer: --network builds every WCC layer" in done.stderr
    assert not out.exists()


def test_an_engine_directory_is_refused_naming_the_network(generated):
    out, _ = generated
    done = _wccgen("simulate", out / "engines" / "expand")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(
        f"holds an engine of a network; `wccgen simulate` and `wccgen synth` take the network's directory "
        f"({out.resolve()})")
