"""The TCI / DCT-CM / CAP PyTorch layer against the float convolution, numpy.linalg and its own integer codes; its
training stage and checkpoint."""

import numpy as np
import pytest
import torch
from helpers import pointwise_inputs

from wccgen.golden.channel_dct import dct_mask_rows
from wccgen.golden.channel_pca import fit_channel_pca
from wccgen.golden.checkpoints import Stage, default_checkpoint_dir, load_checkpoint, save_checkpoint
from wccgen.golden.codec_conv import ChannelCodecConv2d
from wccgen.golden.denoiser import Denoiser
from wccgen.golden.training import TrainingPlan, train_stage


@pytest.fixture(scope="module")
def inputs():
    return pointwise_inputs()


def _copy(conv, codec, **kwargs):
    layer = ChannelCodecConv2d(conv.in_channels, conv.out_channels, codec, **kwargs)
    with torch.no_grad():
        layer.weight.copy_(conv.weight)
        layer.bias.copy_(conv.bias)
    return layer


@pytest.mark.parametrize("codec", ["tci", "dctcm", "cap"])
@pytest.mark.parametrize("name", ["blocks.0.expand", "blocks.1.project"])
def test_all_rows_at_sixteen_bits_compute_the_convolution(inputs, codec, name):
    """With every row kept and fine codes the transform is invertible: the layer is the float convolution of
    its quantized input, up to the rows' 12 fraction bits and the codes' rounding (measured: at most 1.3e-3 of
    the output's spread)."""
    x, conv = inputs[name]
    layer = _copy(conv, codec, rate=1.0, bit_a=16, bit_w=16)
    with torch.no_grad():
        out = layer(x)
        reference = torch.nn.functional.conv2d(layer.input_quant(x), conv.weight, conv.bias)
    assert float((out - reference).abs().max() / reference.std()) < 2e-3


@pytest.mark.parametrize("codec", ["tci", "cap"])
def test_principal_rows_are_numpys_eigenvectors(inputs, codec):
    x, conv = inputs["blocks.0.project"]
    layer = _copy(conv, codec, rate=0.25)
    with torch.no_grad():
        layer(x)
        quantized = layer.input_quant(x).double().numpy()
    pixels = quantized.transpose(1, 0, 2, 3).reshape(64, -1)
    values, vectors = np.linalg.eigh(np.cov(pixels, bias=True))
    strongest = vectors[:, np.argsort(-values)[:16]].T
    rows = layer.rows.detach().double().numpy()
    # The same directions up to sign (float32 storage): |<row, eigenvector>| = 1.
    np.testing.assert_allclose(np.abs(np.sum(rows * strongest, axis=1)), 1.0, atol=1e-4)
    np.testing.assert_allclose(layer.mean.double().numpy(), pixels.mean(axis=1), rtol=1e-5, atol=1e-6)
    assert layer.components == 16 and fit_channel_pca(quantized).channels == 64


def test_dct_rows_are_the_calibrated_mask(inputs):
    x, conv = inputs["blocks.0.expand"]
    layer = _copy(conv, "dctcm", rate=0.5)
    with torch.no_grad():
        layer(x)
        rows, mean = dct_mask_rows(layer.input_quant(x).double().numpy(), 8, 8)
    np.testing.assert_allclose(layer.rows.double().numpy(), rows, atol=1e-7)
    np.testing.assert_allclose(layer.mean.double().numpy(), mean, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("codec", ["tci", "dctcm", "cap"])
def test_codes_are_the_rounded_transform(inputs, codec):
    """The exact integer codes differ from ``round(T (x - mean) / step)`` by at most one, from the fixed-point rows
    and the multiplier, on real activations."""
    x, conv = inputs["blocks.2.expand"]
    layer = _copy(conv, codec, rate=0.5, bit_a=6)
    with torch.no_grad():
        layer(x)
        quantized = layer.input_quant(x)
        codes = layer.coefficient_codes(quantized)
        exact = torch.einsum("kc,nchw->nkhw", layer.rows.double(), quantized.double() - layer.mean.double()[None, :, None, None])
        rounded = torch.clamp(torch.round(exact / layer.coef_quant.scale), -31, 31)
    assert float((codes - rounded).abs().max()) <= 1
    assert float((codes == rounded).double().mean()) > 0.99


def test_only_cap_learns_its_rows(inputs):
    x, conv = inputs["blocks.0.expand"]
    for codec, learns in (("tci", False), ("dctcm", False), ("cap", True)):
        layer = _copy(conv, codec, rate=0.5)
        layer(x).square().mean().backward()
        assert layer.weight.grad is not None and layer.coef_quant.step.grad is not None
        assert isinstance(layer.rows, torch.nn.Parameter) is learns
        assert (layer.rows.grad is not None and float(layer.rows.grad.abs().sum()) > 0) is learns


def test_the_calibration_is_kept_in_the_state(inputs):
    x, conv = inputs["blocks.0.expand"]
    layer = _copy(conv, "tci", rate=0.5)
    with torch.no_grad():
        layer(x[:6])  # calibrated on these
        out = layer(x[6:])
    again = ChannelCodecConv2d(16, 64, "tci", rate=0.5)
    again.load_state_dict(layer.state_dict())
    with torch.no_grad():  # a layer that lost its calibration would calibrate afresh on x[6:] and differ
        torch.testing.assert_close(again(x[6:]), out, rtol=0, atol=0)


@pytest.mark.parametrize("call, error, message", [
    (lambda: ChannelCodecConv2d(16, 8, "jpeg"), ValueError, "codec: must be one of"),
    (lambda: ChannelCodecConv2d(12, 8, "dctcm"), ValueError, r"group: must divide in_channels \(12\)"),
    (lambda: ChannelCodecConv2d(16, 8, "tci", rate=0.0), ValueError, "rate: must lie in"),
    (lambda: ChannelCodecConv2d(16, 8, "tci", bit_a=1), ValueError, "bit_a: must lie in"),
    (lambda: ChannelCodecConv2d(16, 8, "tci")(torch.zeros(1, 8, 4, 4)), ValueError, r"x: must have shape \(N, 16"),
    (lambda: ChannelCodecConv2d.from_conv(torch.nn.Conv2d(4, 4, 3), "tci"), ValueError, "conv: a channel codec"),
    (lambda: ChannelCodecConv2d.from_conv(torch.nn.Conv2d(4, 4, 1, padding=1), "cap"), ValueError, r"padding \(1, 1\)"),
    (lambda: ChannelCodecConv2d(16, 8, "cap", components=17), ValueError, "components: must lie in"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("codec, label", [("tci", "TCI 8/6 50%"), ("dctcm", "DCT-CM 8/6 50%"), ("cap", "CAP 8/6 50%")])
def test_a_codec_stage_tunes_from_the_8_8_parent_and_its_checkpoint_loads(tmp_path, codec, label):
    """The stage converts every 1x1 convolution, keeps the parent's weights and 8-bit input clips, sets the
    transform on its calibration batch, and its checkpoint reloads to the same outputs."""
    stage = Stage(f"{codec}50", codec, "q8a8", bit_a=6, rate=0.5)
    assert stage.label == label and stage.compressed
    parent = torch.load(default_checkpoint_dir() / "q8a8.pt", weights_only=True)["state"]
    plan = TrainingPlan(tune_steps=2, patch=16, calibration=4, tune_lr=0.0)  # steps that change nothing
    model, curve = train_stage(stage, plan, Denoiser().architecture, parent)
    layers = [name for name, module in model.named_modules() if isinstance(module, ChannelCodecConv2d)]
    assert layers == [f"blocks.{b}.{part}" for b in range(3) for part in ("expand", "project")]
    for key in ("blocks.0.expand.input_quant.clip", "blocks.2.project.weight", "blocks.1.depthwise.weight"):
        assert torch.equal(model.state_dict()[key], parent[key])
    assert all(bool(model.get_submodule(name).calibrated) for name in layers) and len(curve) == 3
    save_checkpoint(tmp_path / "stage.pt", model, Denoiser().architecture, model.stage, {})
    loaded, found, _ = load_checkpoint(tmp_path / "stage.pt", stage)  # the planned stage matches the rows chosen
    rows = tuple(model.get_submodule(name).components for name in layers)
    assert found.components == (rows if codec == "cap" else ())
    if codec == "cap":  # the greedy rows, at the budget of 50 % of the channels
        assert sum(rows) * 6 / (3 * (16 + 64)) <= 0.5 * 6
    x = torch.rand(1, 1, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
