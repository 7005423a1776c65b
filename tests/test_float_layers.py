"""The PyTorch layers against independent float oracles, and wccify."""

import numpy as np
import pytest
import pywt
import torch
from torch import nn

from wccgen.golden import QuantConv2d, WCCConv2d, wccify


def pywt_wcc_oracle(x, weight, bias, levels, keep):
    """WCC in float64 with PyWavelets and NumPy: transform, top-k by energy, 1x1 conv, inverse."""
    _, height, width = x.shape
    block = 2**levels
    padded = np.zeros((x.shape[0], -(-height // block) * block, -(-width // block) * block))
    padded[:, :height, :width] = x
    coeffs = [pywt.coeffs_to_array(pywt.wavedec2(c, "haar", level=levels, mode="periodization"))
              for c in padded]
    slices = coeffs[0][1]
    arrays = np.stack([array for array, _ in coeffs])
    flat = arrays.reshape(arrays.shape[0], -1)
    energy = (flat**2).sum(0)
    kept = sorted(sorted(range(energy.size), key=lambda i: (-energy[i], i))[:keep])
    out_flat = np.zeros((weight.shape[0], flat.shape[1]))
    out_flat[:, kept] = weight @ flat[:, kept]
    out = []
    for channel in out_flat.reshape(weight.shape[0], *arrays.shape[1:]):
        bands = pywt.array_to_coeffs(channel, slices, output_format="wavedec2")
        out.append(pywt.waverec2(bands, "haar", mode="periodization")[:height, :width])
    return np.stack(out) + bias[:, None, None]


@pytest.mark.parametrize("rate", [1.0, 0.3])
def test_wcc_conv_matches_pywavelets_oracle(rate):
    torch.manual_seed(0)
    # Integer-valued input on a 1/16 grid: 16-bit input codes represent it exactly.
    x = torch.randint(-100, 100, (1, 5, 14, 19), dtype=torch.float32) / 16
    layer = WCCConv2d(5, 3, levels=2, rate=rate, bit_w=16, bit_a=16, in_bits=16)
    layer.eval()
    with torch.no_grad():
        layer.input_quant.clip.fill_(float((2**15 - 1) / 16))
        layer.input_quant.initialized.fill_(True)
        layer.bias.uniform_(-1, 1)
        out = layer(x).double().numpy()[0]
    expected = pywt_wcc_oracle(x.double().numpy()[0], layer.weight.detach().double().flatten(1).numpy(),
                               layer.bias.detach().double().numpy(), 2, layer.keep(14, 19))
    # 16-bit codes and weights: the remaining error is their rounding.
    np.testing.assert_allclose(out, expected, atol=2e-3 * np.abs(expected).max())


def test_rate_one_wcc_is_the_plain_conv():
    torch.manual_seed(1)
    x = torch.rand(2, 6, 20, 12) * 3
    conv = nn.Conv2d(6, 4, 1)
    layer = WCCConv2d.from_conv(conv, levels=3, rate=1.0, bit_w=16, bit_a=16, in_bits=16)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), conv(x), atol=2e-3, rtol=2e-3)


def test_masks_are_per_image():
    layer = WCCConv2d(1, 1, levels=1, rate=0.25, bias=False, bit_a=16, bit_w=16, in_bits=16)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    x = torch.zeros(2, 1, 4, 4)
    x[0, 0, 0, 0], x[1, 0, 3, 3] = 1.0, 1.0
    with torch.no_grad():
        out = layer(x)
    # Each image keeps its own 4 positions; the impulse survives only where it was.
    assert out[0, 0, :2, :2].abs().sum() > 0 and out[0, 0, 2:, 2:].abs().sum() == 0
    assert out[1, 0, 2:, 2:].abs().sum() > 0 and out[1, 0, :2, :2].abs().sum() == 0


def test_gradients_reach_weights_bias_clips_and_input():
    torch.manual_seed(2)
    layer = WCCConv2d(4, 5, levels=2, rate=0.5, bit_a=4)
    x = (torch.randn(2, 4, 9, 13) * 2).requires_grad_()
    layer(x)  # sets the clips from the first batch
    with torch.no_grad():
        layer.input_quant.clip.mul_(0.5)
        layer.coef_quant.clip.mul_(0.3)  # some values clip, so the clip gets a gradient
    layer(x).square().mean().backward()
    for name, grad in [("weight", layer.weight.grad), ("bias", layer.bias.grad), ("x", x.grad),
                       ("input clip", layer.input_quant.clip.grad), ("coef clip", layer.coef_quant.clip.grad)]:
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name


def test_quant_conv_quantizes_weights_and_input():
    torch.manual_seed(3)
    conv = nn.Conv2d(3, 2, 3, padding=1)
    quantized = QuantConv2d.from_conv(conv, bit_w=3, bit_a=3)
    x = torch.randn(1, 3, 6, 6)
    with torch.no_grad():
        y = quantized(x)
        step = x.abs().max() / 3
        reference = nn.functional.conv2d(torch.round(x / step) * step,
                                         torch.round(conv.weight / (conv.weight.abs().max() / 3)) * (conv.weight.abs().max() / 3),
                                         conv.bias, padding=1)
    torch.testing.assert_close(y, reference)
    assert not torch.allclose(y, conv(x), atol=1e-3)


class Inverted(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Conv2d(3, 8, 3, padding=1)
        self.expand = nn.Conv2d(8, 16, 1)
        self.depthwise = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.project = nn.Conv2d(16, 8, 1, bias=False)
        self.down = nn.Conv2d(8, 8, 1, stride=2)
        self.tail = nn.Conv2d(8, 3, 1)

    def forward(self, x):
        x = torch.relu(self.head(x))
        x = self.project(torch.relu(self.depthwise(torch.relu(self.expand(x))))) + x
        return self.tail(self.down(x))


def test_wccify_swaps_inner_pointwise_convs():
    model = Inverted()
    converted = wccify(model, levels=2, rate=0.25, bit_w=6, bit_a=5)
    assert type(converted.head) is nn.Conv2d and type(converted.tail) is nn.Conv2d  # first and last untouched
    assert isinstance(converted.expand, WCCConv2d) and isinstance(converted.project, WCCConv2d)
    assert isinstance(converted.depthwise, QuantConv2d) and isinstance(converted.down, QuantConv2d)
    assert converted.wcc_layers == ["expand", "project"]
    assert (converted.expand.rate, converted.expand.bit_w, converted.expand.bit_a) == (0.25, 6, 5)
    assert type(model.expand) is nn.Conv2d  # the input model is left alone
    torch.testing.assert_close(converted.expand.weight, model.expand.weight)
    x = torch.rand(1, 3, 16, 16)
    assert converted(x).shape == model(x).shape


@pytest.mark.parametrize("height,width,levels", [(48, 48, 3), (13, 22, 2), (37, 53, 4), (8, 8, 1)])
def test_pyramid_haar_is_the_mallat_transform_reordered(height, width, levels):
    """The strided-convolution transform the layer trains with, against the Mallat one (checked against PyWavelets)."""
    from wccgen.golden.torch_haar import haar_forward_float, haar_pyramid_float, haar_pyramid_inverse, pyramid_order

    x = torch.randn(2, 3, height, width, dtype=torch.float64)
    mallat = haar_forward_float(x, levels)
    order = pyramid_order(*mallat.shape[-2:], levels)
    assert torch.equal(torch.sort(order).values, torch.arange(mallat.shape[-2] * mallat.shape[-1]))
    pyramid = haar_pyramid_float(x, levels)
    assert torch.allclose(pyramid, mallat.flatten(2)[:, :, order], atol=1e-12)
    assert torch.allclose(haar_pyramid_inverse(pyramid, levels, height, width), x, atol=1e-12)


# -- the learned-step quantizer of the quality study -------------------------------------------------------------

def numpy_mse_step(x, bits, unsigned, candidates=200):
    """MSE-optimal step by a plain loop in NumPy over the same candidate clips (the oracle of mse_optimal_step)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    peak = np.abs(x).max()
    lowest, highest = (0, 2**bits - 1) if unsigned else (-(2**(bits - 1) - 1), 2**(bits - 1) - 1)
    errors = []
    for i in range(1, candidates + 1):
        step = peak * i / candidates / highest
        errors.append((((np.clip(np.round(x / step), lowest, highest) * step) - x) ** 2).sum())
    best = int(np.argmin(errors))
    return peak * (best + 1) / candidates / highest, errors[best], errors[-1]


@pytest.mark.parametrize("bits,unsigned", [(2, True), (4, True), (4, False), (8, False)])
def test_mse_optimal_step_matches_a_numpy_search_and_beats_the_max_clip(bits, unsigned):
    from wccgen.golden.quantizers import mse_optimal_step

    generator = torch.Generator().manual_seed(bits)
    # Many small values and a long tail, as activations have.
    x = torch.randn(5000, generator=generator) ** 2
    if not unsigned:
        x = x * torch.sign(torch.randn(5000, generator=generator))
    step = mse_optimal_step(x, bits, unsigned)
    want, best_error, max_clip_error = numpy_mse_step(x.numpy(), bits, unsigned)
    assert step == pytest.approx(want, rel=1e-12)
    assert best_error <= max_clip_error
    if bits <= 4:
        assert best_error < 0.9 * max_clip_error  # at few bits the max clip wastes the codes on the tail
    assert mse_optimal_step(torch.zeros(10), bits, unsigned) == 1.0


def test_learned_step_quantizer_forward_and_gradients_follow_lsq():
    """Forward value and gradients against the LSQ paper's formulas, element by element."""
    from wccgen.golden.quantizers import LearnedStepQuantizer

    quantizer = LearnedStepQuantizer(3)
    x = torch.tensor([-0.5, 0.0, 0.26, 0.74, 1.1, 3.0, 9.0], requires_grad=True)
    quantizer(x.detach().abs())  # the calibration batch: non-negative, so the codes become unsigned 0..7
    assert bool(quantizer.unsigned) and quantizer.range == (0, 7)
    with torch.no_grad():
        quantizer.step.fill_(0.5)
    weights = torch.arange(1.0, 8.0)
    (quantizer(x) * weights).sum().backward()
    scale = 1 / np.sqrt(x.numel() * 7)
    for value, weight, grad_x, got in zip(x.tolist(), weights.tolist(), x.grad.tolist(),
                                          quantizer(x.detach()).tolist()):
        ratio = value / 0.5
        code = min(max(round(ratio), 0), 7)
        assert got == pytest.approx(code * 0.5)
        assert grad_x == pytest.approx(weight if 0 <= ratio <= 7 else 0.0)
    want_step = sum(w * scale * ((round(v / 0.5) - v / 0.5) if 0 <= v / 0.5 <= 7 else (0 if v < 0 else 7))
                    for v, w in zip(x.tolist(), weights.tolist()))
    assert float(quantizer.step.grad) == pytest.approx(want_step, rel=1e-5)
    assert torch.equal(quantizer.codes(quantizer(x.detach())), torch.tensor([0., 0, 1, 1, 2, 6, 7], dtype=torch.float64))


def test_learned_step_quantizer_chooses_its_sign_on_the_calibration_batch():
    from wccgen.golden.quantizers import LearnedStepQuantizer

    signed = LearnedStepQuantizer(4)
    signed(torch.tensor([-1.0, 2.0]))
    assert signed.range == (-7, 7) and bool(signed.initialized)
    forced = LearnedStepQuantizer(4, signed=True)
    forced(torch.tensor([1.0, 2.0]))
    assert forced.range == (-7, 7)
    unsigned = LearnedStepQuantizer(4)
    unsigned(torch.tensor([0.0, 2.0]))
    assert unsigned.range == (0, 15)
    step = unsigned.scale
    unsigned(torch.tensor([-5.0, 50.0]))  # later batches change neither sign nor step
    assert unsigned.range == (0, 15) and unsigned.scale == step
    with pytest.raises(ValueError, match="signed"):
        LearnedStepQuantizer(4, signed="yes")
    with pytest.raises(ValueError, match="quantizer"):
        QuantConv2d(2, 2, 1, quantizer="minmax")
