"""Export of a trained TCI, DCT-CM or CAP layer (with the activation that follows it) to a ``CodecBundle``."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..spec.checks import check_bits
from .bundle import ACTIVATIONS
from .codec_bundle import MAX_HUFFMAN_LENGTH, CodecBundle
from .codec_conv import ChannelCodecConv2d
from .export import output_requantizer
from .huffman import build_table

__all__ = ["codec_input_codes", "codec_input_frames", "export_codec_layer"]


def _check_layer(layer):
    if not isinstance(layer, ChannelCodecConv2d):
        raise TypeError(f"layer: must be a ChannelCodecConv2d, got {type(layer).__name__}")
    if not (bool(layer.calibrated) and bool(layer.input_quant.initialized) and bool(layer.coef_quant.initialized)):
        raise ValueError("layer: its transform and scales are not set yet; run it on calibration data first")


def codec_input_codes(layer, x):
    """The integer input frames the layer's input quantizer makes of ``x``, shape (N, C, H, W)."""
    _check_layer(layer)
    with torch.no_grad():
        return layer.input_quant.codes(layer.input_quant(x)).to(torch.int64).numpy()


def codec_input_frames(model, x):
    """``{name: input codes (N, C, H, W)}`` of every channel codec layer of ``model`` when it runs on ``x``."""
    found, hooks = {}, []
    for name, module in model.named_modules():
        if isinstance(module, ChannelCodecConv2d):
            hooks.append(module.register_forward_pre_hook(
                lambda module, args, name=name: found.__setitem__(name, codec_input_codes(module, args[0]))))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return found


def export_codec_layer(layer, *, output_scale, activation="none", out_bits=8, calibration=None,
                       max_code_length=12, name=""):
    """Fold a :class:`~wccgen.golden.codec_conv.ChannelCodecConv2d` and its activation into integers.

    Parameters
    ----------
    layer : ChannelCodecConv2d
        Trained (or at least calibrated) layer.
    output_scale : float
        Real value of one output LSB.
    activation : {"none", "relu", "relu6"}
    out_bits : int
    calibration : torch.Tensor, shape (N, C, H, W), optional
        Activations the layer receives; TCI builds its Huffman table from
        their coefficient codes (required for ``"tci"``).
    max_code_length : int
        Longest Huffman codeword, at most
        :data:`~wccgen.golden.codec_bundle.MAX_HUFFMAN_LENGTH`.
    name : str

    Returns
    -------
    CodecBundle
    """
    _check_layer(layer)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: must be one of {ACTIVATIONS}, got {activation!r}")
    out_bits = check_bits(out_bits, "out_bits")
    if not (isinstance(output_scale, (int, float)) and math.isfinite(output_scale) and output_scale > 0):
        raise ValueError(f"output_scale: must be a positive finite number, got {output_scale!r}")
    if isinstance(max_code_length, bool) or not isinstance(max_code_length, int) or \
            not 1 <= max_code_length <= MAX_HUFFMAN_LENGTH:
        raise ValueError(f"max_code_length: must be an integer in [1, {MAX_HUFFMAN_LENGTH}], got {max_code_length!r}")
    table = None
    if layer.codec == "tci":
        if calibration is None:
            raise ValueError("calibration: TCI builds its Huffman table from calibration activations; none given")
        codes = layer.stream_codes(calibration)
        symbols, counts = np.unique(codes, return_counts=True)
        table = build_table(dict(zip(symbols.tolist(), counts.tolist())), max_code_length, layer.bit_a)
    multiplier, shift, coef_bias = layer.coefficient_factors()
    weights, w_scale = layer.weight_codes()
    weights = weights.to(torch.int64).numpy()
    with torch.no_grad():
        bias = layer.folded()[1].detach().double()
    coef_scale = layer.coef_quant.scale
    real = np.full(layer.out_channels, w_scale * coef_scale / output_scale)
    out_multiplier, out_shift, out_bias, out_min, out_max = output_requantizer(real, bias.numpy(), output_scale,
                                                                               activation, out_bits)
    return CodecBundle(codec=layer.codec, channels_in=layer.in_channels, channels_out=layer.out_channels,
                       components=layer.components, in_bits=layer.in_bits, bit_a=layer.bit_a, bit_w=layer.bit_w,
                       out_bits=out_bits, rows=layer.fixed_point_rows(), coef_multiplier=multiplier,
                       coef_shift=shift, coef_bias=coef_bias, weights=weights, out_multiplier=out_multiplier,
                       out_shift=out_shift, out_bias=out_bias, out_min=out_min, out_max=out_max,
                       activation=activation, huffman=table,
                       scales={"input_scale": layer.input_quant.scale, "coef_scale": coef_scale,
                               "weight_scale": w_scale, "output_scale": float(output_scale)},
                       name=name)
