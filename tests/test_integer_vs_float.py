"""The integer model against the float PyTorch layer on activations of a real photograph.

docs/numerics.md states the bound checked here: the float layer keeps the same
positions and computes the same codes as the integer model, so every integer
output pixel lies within 0.51 LSB of the float output divided by the output
scale (0.5 from the final rounding, the rest from the 15-bit multipliers and
float32 arithmetic).
"""

import numpy as np
import pytest
import torch

from wccgen.golden import (WCCConv2d, apply_tail, calibrate_output_scale, export_layer, input_codes,
                           photograph_features, seeded_batchnorm, wcc_layer)
from wccgen.golden.torch_haar import haar_forward_float
from wccgen.golden.wcc_conv import select_positions

BOUND_LSB = 0.51


def build(height, width, channels_in, channels_out, levels, rate, activation, energy="square", photo="astronaut"):
    torch.manual_seed(7)
    x = photograph_features(photo, height, width, channels_in, seed=1)
    layer = WCCConv2d(channels_in, channels_out, levels=levels, rate=rate, energy=energy)
    batchnorm = seeded_batchnorm(channels_out)
    layer.eval()
    scale = calibrate_output_scale(layer, x, batchnorm, activation)
    bundle = export_layer(layer, height, width, output_scale=scale, batchnorm=batchnorm, activation=activation)
    with torch.no_grad():
        reference = (apply_tail(layer(x), batchnorm, activation) / scale).double().numpy()[0]
    return x, layer, bundle, reference


@pytest.mark.parametrize("height,width,levels,rate,activation,energy,photo", [
    (60, 76, 3, 0.5, "relu6", "square", "astronaut"),
    (60, 76, 3, 0.25, "none", "square", "coffee"),
    (64, 64, 2, 0.125, "relu", "square", "camera"),
    (37, 53, 4, 0.5, "relu6", "abs", "chelsea"),
    (48, 40, 3, 1.0, "none", "square", "rocket"),
])
def test_integer_model_within_bound_of_float_layer(height, width, levels, rate, activation, energy, photo):
    x, layer, bundle, reference = build(height, width, 16, 24, levels, rate, activation, energy, photo)
    trace = wcc_layer(input_codes(layer, x)[0], bundle)
    difference = np.abs(trace.output - reference)
    assert difference.max() <= BOUND_LSB, f"max difference {difference.max():.3f} LSB"
    # The output really varies: the comparison is not between two constant maps.
    assert np.unique(trace.output).size > 20


def test_float_layer_keeps_the_integer_models_positions_and_codes():
    x, layer, bundle, _ = build(60, 76, 16, 24, 3, 0.25, "none")
    seen = []
    hook = layer.coef_quant.register_forward_hook(lambda module, inputs, output: seen.append(output.detach()))
    with torch.no_grad():
        layer(x)
        quantized = layer.input_quant(x)
        exact = haar_forward_float(layer.input_quant.codes(quantized), 3).flatten(2)
        indices = select_positions(exact.square().sum(1), bundle.config.keep)[0].numpy()
    hook.remove()
    trace = wcc_layer(input_codes(layer, x)[0], bundle)
    assert np.array_equal(indices, trace.indices)
    # The float layer's fake-quantized coefficients are the integer codes times the code step.
    float_codes = (seen[0][0].double() / layer.coef_quant.scale).numpy()
    np.testing.assert_allclose(float_codes, trace.codes, atol=1e-3)
    assert np.abs(trace.codes).max() == bundle.config.code_limit  # the calibrated clip is reached


def test_export_needs_calibration_and_valid_arguments():
    layer = WCCConv2d(4, 4)
    with pytest.raises(ValueError, match="^layer: its activation clips are not set"):
        export_layer(layer, 8, 8, output_scale=0.1)
    layer(torch.rand(1, 4, 8, 8))
    with pytest.raises(ValueError, match="^output_scale"):
        export_layer(layer, 8, 8, output_scale=0.0)
    with pytest.raises(ValueError, match="^activation"):
        export_layer(layer, 8, 8, output_scale=0.1, activation="gelu")
    with pytest.raises(ValueError, match="^batchnorm"):
        export_layer(layer, 8, 8, output_scale=0.1, batchnorm=torch.nn.BatchNorm2d(5))
    with pytest.raises(TypeError, match="^layer"):
        export_layer(torch.nn.Conv2d(4, 4, 1), 8, 8, output_scale=0.1)
