"""A model of one's own into WCC hardware: two architectures that are not the denoiser (a small U-Net-style
segmenter through `wccgen.convert`, a MobileNetV2-style stem through a torch.export program and the command
line), each to a bit-exact simulation; the models and layers that cannot be taken, named."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

import wccgen
from wccgen.gen.convert import UnsupportedModel, load_exported, load_images, why_not_convertible
from wccgen.gen.layer import simulate


class Segmenter(nn.Module):
    """A small U-Net: a 3x3 stem, a 1x1 mix, a strided 3x3 down, an upsampling, a 1x1 fuse of the skip and the
    upsampled path, and a 1x1 head of two classes."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.mix = nn.Conv2d(8, 16, 1)
        self.down = nn.Conv2d(16, 16, 3, stride=2, padding=1)
        self.up = nn.Upsample(scale_factor=2)
        self.fuse = nn.Conv2d(32, 8, 1)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        skip = torch.relu(self.mix(torch.relu(self.stem(x))))
        deep = self.up(torch.relu(self.down(skip)))
        return self.head(torch.relu(self.fuse(torch.cat([skip, deep], 1))))


class Stem(nn.Module):
    """A MobileNetV2 stem: a strided 3x3, then an inverted residual block (1x1 expansion, depthwise 3x3, 1x1
    projection), with batch-norms and ReLU6."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.expand = nn.Conv2d(8, 24, 1, bias=False)
        self.depthwise = nn.Conv2d(24, 24, 3, padding=1, groups=24, bias=False)
        self.project = nn.Conv2d(24, 8, 1)

    def forward(self, x):
        x = torch.clamp(self.bn(self.conv(x)), 0, 6)
        y = torch.clamp(self.expand(x), 0, 6)
        return x + self.project(torch.clamp(self.depthwise(y), 0, 6))


def wccgen_cli(*args):
    return subprocess.run([sys.executable, "-m", "wccgen.cli", *map(str, args)], capture_output=True, text=True)


def test_a_segmenter_through_the_python_api_to_a_bit_exact_simulation(tmp_path):
    torch.manual_seed(3)
    model = Segmenter()
    conversion = wccgen.convert(model, torch.zeros(1, 3, 32, 32), tile=(8, 8))
    assert list(conversion.layers) == ["mix", "fuse", "head"]
    assert set(conversion.skipped) == {"stem", "down"} and "stride 2x2" in conversion.skipped["down"]
    assert isinstance(model.fuse, nn.Conv2d)  # the model given is not changed
    fuse = conversion.layers["fuse"]
    assert fuse.bundle.config.channels_in == 32 and len(fuse.codes) == 4 * 16  # 4 photographs, 16 tiles each
    manifests = conversion.generate(tmp_path, layer="fuse", device="generic", pe=4, simd=4)
    assert manifests["fuse"]["source"]["kind"] == "model"
    report = simulate(tmp_path / "fuse", frames=2)
    assert report["bit_exact"] and report["images"] == ["calibration frame 0", "calibration frame 1"]
    # Against the float layer on the same tiles: within the requantizer's rounding and WCC's integer transform.
    assert report["max_float_difference_lsb"] <= 1.0


def test_a_mobilenet_stem_exported_with_torch_export_through_the_command_line(tmp_path):
    torch.manual_seed(5)
    model = Stem().eval()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-0.2, 0.2)
        model.bn.running_var.uniform_(0.5, 2.0)
    example = torch.zeros(1, 1, 32, 32)
    torch.export.save(torch.export.export(model, (example,)), tmp_path / "stem.pt2")
    # The program, made eager again, computes what the model does, its convolutions named as there.
    module, loaded_example = load_exported(tmp_path / "stem.pt2")
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(module(x), model(x), atol=1e-5)
    assert isinstance(module.get_submodule("expand"), nn.Conv2d) and loaded_example.shape == example.shape

    out = tmp_path / "expand"
    done = wccgen_cli("generate", "--model", tmp_path / "stem.pt2", "--layer", "expand", "--size", "8x8",
                      "--target", "generic", "--out", out, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["parameters"]["config"]["channels_out"] == 24
    done = wccgen_cli("simulate", out, "--frames", "2", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["bit_exact"] is True


def test_models_and_layers_the_hardware_cannot_take_are_named(tmp_path):
    plain = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, groups=2, padding=1))
    with pytest.raises(UnsupportedModel, match=r"has no layer WCC can take \(0 has kernel 3x3.*; 2 has kernel 3x3, "
                                               r"groups 2"):
        wccgen.convert(plain, torch.zeros(1, 1, 16, 16))
    segmenter = Segmenter()
    with pytest.raises(UnsupportedModel, match="layer: down has kernel 3x3, stride 2x2, padding"):
        wccgen.convert(segmenter, torch.zeros(1, 3, 32, 32), layers=["down"])
    with pytest.raises(UnsupportedModel, match="layer: 'nothing' is not a layer of the model; convertible: mix, fuse"):
        wccgen.convert(segmenter, torch.zeros(1, 3, 32, 32), layers=["nothing"])
    with pytest.raises(UnsupportedModel, match="tile: mix's input is 32x32, not a multiple of the 24x24 frame"):
        wccgen.convert(segmenter, torch.zeros(1, 3, 32, 32), tile=(24, 24), layers=["mix"])
    assert why_not_convertible(nn.Linear(2, 2)) == "is a Linear, not a convolution"
    assert why_not_convertible(nn.Conv2d(2, 2, 1, dilation=2)).startswith("has dilation (2, 2);")
    assert why_not_convertible(nn.Conv2d(2, 2, 1)) is None


def test_calibration_images_from_a_folder_or_an_array(tmp_path):
    from skimage import io

    rng = np.random.default_rng(1)
    for index in range(2):
        io.imsave(tmp_path / f"image{index}.png", rng.integers(0, 256, (20, 24, 3), dtype=np.uint8))
    batch = load_images(tmp_path, 3, 16, 16)
    assert batch.shape == (2, 3, 16, 16) and 0 <= float(batch.min()) and float(batch.max()) <= 1
    np.save(tmp_path / "inputs.npy", rng.random((3, 2, 8, 8)).astype(np.float32))
    assert load_images(tmp_path / "inputs.npy", 2, 8, 8).shape == (3, 2, 8, 8)
    with pytest.raises(UnsupportedModel, match=r"images: must have shape \(N, 3, H, W\), got \(3, 2, 8, 8\)"):
        load_images(tmp_path / "inputs.npy", 3, 8, 8)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UnsupportedModel, match="holds no image file"):
        load_images(tmp_path / "empty", 3, 8, 8)
    with pytest.raises(UnsupportedModel, match="photographs give 1 or 3"):
        load_images(None, 2, 8, 8)


def test_a_model_file_that_does_not_load_writes_nothing(tmp_path):
    (tmp_path / "broken.pt2").write_bytes(b"not a program")
    done = wccgen_cli("generate", "--model", tmp_path / "broken.pt2", "--out", tmp_path / "out")
    assert done.returncode == 2 and "model: " in done.stderr and "not a torch.export program" in done.stderr
    assert not (tmp_path / "out").exists()
    done = wccgen_cli("generate", "--model", tmp_path / "absent.pt2", "--out", tmp_path / "out")
    assert done.returncode == 2 and "absent.pt2: no such file" in done.stderr
    done = wccgen_cli("generate", "--model", tmp_path / "broken.pt2", "--checkpoint", "x.pt", "--out", tmp_path / "o")
    assert done.returncode == 2 and "model: a model of one's own is the source of its layers" in done.stderr
