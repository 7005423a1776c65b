"""Export of a trained PyTorch WCC layer (with what follows it) to a ``LayerBundle``."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..spec.checks import check_bits, check_positive_int
from ..spec.fixed_point import quantize_multiplier, symmetric_limit
from ..spec.wcc_config import WccConfig
from .bundle import ACTIVATIONS, LayerBundle
from .quantizers import weight_scale
from .wcc_conv import WCCConv2d

__all__ = ["apply_tail", "calibrate_output_scale", "calibrated_layer", "export_layer", "input_codes",
           "output_requantizer", "seeded_batchnorm"]


def _check_layer(layer):
    if not isinstance(layer, WCCConv2d):
        raise TypeError(f"layer: must be a WCCConv2d, got {type(layer).__name__}")
    for quantizer in (layer.input_quant, layer.coef_quant):
        if not bool(quantizer.initialized):
            raise ValueError("layer: its activation clips are not set yet; run it on calibration data first")


def apply_tail(y, batchnorm=None, activation="none"):
    """Apply the batch-norm (eval statistics) and activation that follow a WCC layer."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: must be one of {ACTIVATIONS}, got {activation!r}")
    if batchnorm is not None:
        y = nn.functional.batch_norm(y, batchnorm.running_mean, batchnorm.running_var, batchnorm.weight,
                                     batchnorm.bias, training=False, eps=batchnorm.eps)
    if activation == "relu":
        y = torch.relu(y)
    elif activation == "relu6":
        y = torch.clamp(y, 0.0, 6.0)
    return y


def calibrate_output_scale(layer, x, batchnorm=None, activation="none", out_bits=8):
    """Output scale that maps the largest output magnitude on ``x`` to the largest code."""
    out_bits = check_bits(out_bits, "out_bits")
    with torch.no_grad():
        peak = float(apply_tail(layer(x), batchnorm, activation).abs().max())
    return (peak if peak > 0 else 1.0) / symmetric_limit(out_bits)


def input_codes(layer, x):
    """The integer input frames the layer's input quantizer makes of ``x``, shape (N, C, H, W)."""
    _check_layer(layer)
    with torch.no_grad():
        return layer.input_quant.codes(layer.input_quant(x)).to(torch.int64).numpy()


def output_requantizer(real, offset, output_scale, activation, out_bits):
    """The output requantizer of a layer whose accumulator LSB is worth ``real[o]`` output codes and whose real
    offset is ``offset[o]``, per output channel, into ``out_bits``-bit codes of ``output_scale`` after ``activation``.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray, int, int)
        Multipliers, shifts, pre-shifted biases, and the clamp ``out_min``, ``out_max``.
    """
    multipliers, shifts, biases = [], [], []
    for o, (factor, bias) in enumerate(zip(np.asarray(real, dtype=float), np.asarray(offset, dtype=float))):
        m, s = quantize_multiplier(factor, f"out_multiplier[{o}]")
        multipliers.append(m)
        shifts.append(s)
        biases.append(round(bias / output_scale * 2.0 ** s))
    limit = symmetric_limit(out_bits)
    out_min = 0 if activation in ("relu", "relu6") else -limit
    out_max = min(limit, round(6.0 / output_scale)) if activation == "relu6" else limit
    return np.array(multipliers), np.array(shifts), np.array(biases), out_min, out_max


def export_layer(layer, height, width, *, output_scale, batchnorm=None, activation="none", out_bits=8, name=""):
    """Fold a :class:`WCCConv2d`, its batch-norm and activation into integers.

    Parameters
    ----------
    layer : WCCConv2d
        Trained (or at least calibrated) layer.
    height, width : int
        Frame size the hardware is built for.
    output_scale : float
        Real value of one output LSB (for example the next layer's input scale,
        or :func:`calibrate_output_scale`).
    batchnorm : torch.nn.BatchNorm2d, optional
        Folded into the per-channel multiplier and bias (eval statistics).
    activation : {"none", "relu", "relu6"}
    out_bits : int
    name : str

    Returns
    -------
    LayerBundle
    """
    _check_layer(layer)
    height = check_positive_int(height, "height")
    width = check_positive_int(width, "width")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: must be one of {ACTIVATIONS}, got {activation!r}")
    if not (isinstance(output_scale, (int, float)) and math.isfinite(output_scale) and output_scale > 0):
        raise ValueError(f"output_scale: must be a positive finite number, got {output_scale!r}")
    config = WccConfig(height=height, width=width, channels_in=layer.in_channels, channels_out=layer.out_channels,
                       levels=layer.levels, rate=layer.rate, in_bits=layer.in_bits, bit_a=layer.bit_a,
                       bit_w=layer.bit_w, out_bits=out_bits, energy=layer.energy)
    input_scale, coef_scale = layer.input_quant.scale, layer.coef_quant.scale

    coef_multiplier, coef_shift = layer.coefficient_factors()

    with torch.no_grad():
        weight = layer.weight.detach().double().flatten(1)
        w_scale = float(weight_scale(layer.weight.detach().double(), layer.bit_w))
        weights = torch.clamp(torch.round(weight / w_scale), -config.weight_limit, config.weight_limit)
        weights = weights.to(torch.int64).numpy()
        # The tail as y * gain + offset per output channel.
        bias = layer.bias.detach().double() if layer.bias is not None else torch.zeros(layer.out_channels, dtype=torch.float64)
        if batchnorm is not None:
            if batchnorm.num_features != layer.out_channels:
                raise ValueError(f"batchnorm: has {batchnorm.num_features} features, the layer {layer.out_channels} outputs")
            gain = batchnorm.weight.detach().double() / torch.sqrt(batchnorm.running_var.double() + batchnorm.eps)
            offset = batchnorm.bias.detach().double() + gain * (bias - batchnorm.running_mean.double())
        else:
            gain, offset = torch.ones_like(bias), bias

    # The inverse Haar output carries 2**levels * weight_scale * coef_scale per LSB.
    real = gain.numpy() * w_scale * coef_scale / ((1 << config.levels) * output_scale)
    out_multiplier, out_shift, out_bias, out_min, out_max = output_requantizer(real, offset.numpy(), output_scale,
                                                                               activation, out_bits)
    return LayerBundle(config=config, weights=weights, coef_multiplier=np.array(coef_multiplier), coef_shift=np.array(coef_shift),
                       out_multiplier=out_multiplier, out_shift=out_shift, out_bias=out_bias, out_min=out_min,
                       out_max=out_max, activation=activation,
                       scales={"input_scale": input_scale, "coef_scale": coef_scale, "weight_scale": w_scale,
                               "output_scale": float(output_scale)},
                       name=name)


def seeded_batchnorm(channels):
    """A batch-norm in eval mode with random statistics (from torch's generator), gains of both signs."""
    batchnorm = nn.BatchNorm2d(channels)
    with torch.no_grad():
        batchnorm.running_mean.uniform_(-0.5, 0.5)
        batchnorm.running_var.uniform_(0.5, 2.0)
        batchnorm.weight.uniform_(-1.5, 1.5)  # negative gains too: signed multipliers
        batchnorm.bias.uniform_(-0.5, 0.5)
    return batchnorm.eval()


def calibrated_layer(photo, height, width, channels_in, channels_out, *, levels=3, rate=0.25, activation="relu6",
                     seed=7):
    """An untrained WCC layer with a batch-norm, calibrated on a photograph's activations and exported.

    The layer's weights are PyTorch's seeded initialization; the batch-norm has
    seeded statistics with gains of both signs (so the output multipliers take
    both signs); the clips and the output scale come from the activations
    :func:`~wccgen.golden.photographs.photograph_features` makes of ``photo``.

    Returns
    -------
    (LayerBundle, WccTrace)
        The bundle, and the integer model's trace of the photograph's activations.
    """
    from .photographs import photograph_features
    from .wcc_layer import wcc_layer

    torch.manual_seed(seed)
    x = photograph_features(photo, height, width, channels_in, seed=1)
    layer = WCCConv2d(channels_in, channels_out, levels=levels, rate=rate)
    batchnorm = seeded_batchnorm(channels_out)
    layer.eval()
    scale = calibrate_output_scale(layer, x, batchnorm, activation)
    bundle = export_layer(layer, height, width, output_scale=scale, batchnorm=batchnorm, activation=activation,
                          name=f"calibrated_{photo}")
    return bundle, wcc_layer(input_codes(layer, x)[0], bundle)
