"""Export of a trained WCC denoiser to a :class:`~wccgen.golden.network.NetworkBundle`."""

from __future__ import annotations

import numpy as np
import torch

from ..spec.checks import check_positive_int
from ..spec.fixed_point import BIAS_LIMIT, quantize_multiplier, symmetric_limit
from .bundle import BundleError
from .denoiser import Denoiser, InvertedResidual
from .export import export_layer
from .network import DepthwiseStage, NetworkBlock, NetworkBundle
from .quant_conv import QuantConv2d
from .quantizers import weight_scale
from .wcc_conv import WCCConv2d

__all__ = ["CALIBRATION_NOISE_SEED", "CALIBRATION_SIZE", "UnsupportedNetwork", "block_outputs", "calibration_images",
           "export_network"]

#: Side of the training photographs' noisy versions the last scale is calibrated on.
CALIBRATION_SIZE = 128
#: Seed of the calibration images' noise.
CALIBRATION_NOISE_SEED = 2000


def calibration_images():
    """Noisy versions of the training photographs, resized to :data:`CALIBRATION_SIZE`: :func:`export_network`'s
    usual ``calibration``, as ``(N, 1, H, W)``."""
    from .photographs import grey_photograph
    from .training import TRAINING_PHOTOGRAPHS, noisy

    generator = torch.Generator().manual_seed(CALIBRATION_NOISE_SEED)
    return torch.cat([noisy(grey_photograph(name, CALIBRATION_SIZE, CALIBRATION_SIZE), generator)
                      for name in TRAINING_PHOTOGRAPHS])


class UnsupportedNetwork(ValueError):
    """A model the network flow cannot build: no WCC layers, or layers of another kind than it implements."""


def _check_model(model):
    """The model's blocks, refused with the first layer the flow does not implement."""
    if not isinstance(model, Denoiser):
        raise UnsupportedNetwork(f"model: the network flow builds the built-in Denoiser, got a {type(model).__name__}")
    wcc = [name for name, module in model.named_modules() if isinstance(module, WCCConv2d)]
    if not wcc:
        raise UnsupportedNetwork("model: has no WCC layers (a float or plainly quantized stage); the network flow "
                                 "needs a WCC checkpoint such as wcc25.pt")
    for index, block in enumerate(model.blocks):
        if not isinstance(block, InvertedResidual):
            raise UnsupportedNetwork(f"blocks.{index}: is a {type(block).__name__}, not an inverted residual block")
        for part, kind in (("expand", WCCConv2d), ("depthwise", QuantConv2d), ("project", WCCConv2d)):
            module = getattr(block, part)
            if not isinstance(module, kind):
                raise UnsupportedNetwork(f"blocks.{index}.{part}: is a {type(module).__name__}, the network flow "
                                         f"implements a {kind.__name__} there")
        widths = {block.expand.in_bits, block.depthwise.bit_a, block.project.in_bits}
        if len(widths) != 1:
            raise UnsupportedNetwork(f"blocks.{index}: its layers take inputs of {sorted(widths)} bits; the network "
                                     "flow carries one code width between the head and the tail")
    return list(model.blocks)


def block_outputs(model, noisy):
    """The float model's activations entering every block and leaving the last one, for ``noisy`` (1, 1, H, W)."""
    with torch.no_grad():
        x = torch.clamp(model.head(noisy), 0.0, 6.0)
        seen = [x]
        for block in model.blocks:
            x = block(x)
            seen.append(x)
    return seen


def _depthwise_stage(depthwise, output_scale, stream_bits, name):
    """The integer depthwise 3x3 layer: its input codes in, the projection's input codes out (ReLU6 in the clamp)."""
    input_scale = depthwise.input_quant.scale
    weight = depthwise.weight.detach().double()
    w_scale = float(weight_scale(weight, depthwise.bit_w))
    limit = symmetric_limit(depthwise.bit_w)
    weights = torch.clamp(torch.round(weight / w_scale), -limit, limit).to(torch.int64).numpy()[:, 0]
    multiplier, shift = quantize_multiplier(w_scale * input_scale / output_scale, f"{name}.multiplier")
    bias = depthwise.bias.detach().double().numpy() if depthwise.bias is not None else np.zeros(weights.shape[0])
    rounded = np.round(bias / output_scale * 2.0 ** shift).astype(np.int64)
    if np.abs(rounded).max() > BIAS_LIMIT:
        raise BundleError(f"{name}.bias: too large for the requantizer")
    channels = weights.shape[0]
    out_max = min(symmetric_limit(stream_bits), round(6.0 / output_scale))
    return DepthwiseStage(weights=weights, multiplier=np.full(channels, multiplier), shift=np.full(channels, shift),
                          bias=rounded, out_min=0, out_max=out_max)


def _float(tensor):
    return tensor.detach().float().numpy()


def export_network(model, tile, calibration, *, name="", source=None):
    """Fold a trained WCC :class:`~wccgen.golden.denoiser.Denoiser` into a :class:`NetworkBundle`.

    The scales come from the model's own quantizers: the codes entering a
    block are in its expansion's input scale, the depthwise layer's input in
    its quantizer's scale, the projection's input in the projection's. Only
    the scale of the last block's output (the tail's input, which no
    quantizer of the model sets) is calibrated: the largest magnitude of that
    activation on ``calibration`` maps to the largest code.

    Parameters
    ----------
    model : Denoiser
        Converted by :func:`~wccgen.golden.conversion.wccify` and trained (or calibrated).
    tile : (int, int)
        Frame height and width every WCC layer is built for.
    calibration : torch.Tensor, shape (N, 1, H, W)
        Noisy images for the last scale; photographs the model was trained on, not the held-out ones.
    name : str
    source : dict, optional
        Recorded as the bundle's source.

    Returns
    -------
    NetworkBundle
    """
    blocks = _check_model(model)
    height, width = (check_positive_int(size, name) for size, name in zip(tile, ("tile height", "tile width")))
    stream_bits = blocks[0].expand.in_bits
    limit = symmetric_limit(stream_bits)
    peak = float(block_outputs(model, calibration)[-1].abs().max())
    scales = [block.expand.input_quant.scale for block in blocks] + [(peak if peak > 0 else 1.0) / limit]
    exported = []
    for index, block in enumerate(blocks):
        prefix = f"blocks.{index}"
        depthwise_scale, project_scale = block.depthwise.input_quant.scale, block.project.input_quant.scale
        expand = export_layer(block.expand, height, width, output_scale=depthwise_scale, activation="relu6",
                              out_bits=stream_bits, name=f"{prefix}.expand")
        project = export_layer(block.project, height, width, output_scale=scales[index + 1], activation="none",
                               out_bits=stream_bits, name=f"{prefix}.project")
        skip_multiplier, skip_shift = quantize_multiplier(scales[index] / scales[index + 1], f"{prefix}.skip")
        exported.append(NetworkBlock(name=prefix, expand=expand,
                                     depthwise=_depthwise_stage(block.depthwise, project_scale, stream_bits, f"{prefix}.depthwise"),
                                     project=project, skip_multiplier=skip_multiplier, skip_shift=skip_shift,
                                     output_scale=scales[index + 1]))
    return NetworkBundle(head_weight=_float(model.head.weight), head_bias=_float(model.head.bias),
                         tail_weight=_float(model.tail.weight), tail_bias=_float(model.tail.bias),
                         input_scale=scales[0], stream_bits=stream_bits, blocks=exported, name=name,
                         source=dict(source or {}))
