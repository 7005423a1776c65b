"""A model of one's own into WCC layers: find its 1x1 convolutions, convert and calibrate them on images, export
a bundle per layer, and generate hardware for one layer or all.

``wccgen.convert(module, example_input)`` is the entry point for an
``nn.Module``; ``wccgen generate --model FILE.pt2`` takes a ``torch.export``
program the same way.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Conversion", "ConvertedLayer", "UnsupportedModel", "convert", "load_exported", "load_images",
           "why_not_convertible"]

#: Image files an image folder may hold.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: Calibration images by default: the photographs scikit-image ships (no download).
DEFAULT_IMAGES = ("camera", "coffee", "rocket", "brick")


class UnsupportedModel(ValueError):
    """A model that cannot be converted: it does not load, has no convertible layer, or a layer asked for is one
    the hardware cannot take (the message names it and why)."""


def why_not_convertible(module):
    """Why ``module`` cannot be a WCC layer (``None`` if it can): WCC replaces 1x1, stride-1, ungrouped,
    unpadded, undilated convolutions."""
    from torch import nn

    from ..golden.wcc_conv import WCCConv2d

    if isinstance(module, WCCConv2d):
        return None
    if not isinstance(module, nn.Conv2d):
        return f"is a {type(module).__name__}, not a convolution"
    reasons = []
    if module.kernel_size != (1, 1):
        reasons.append(f"kernel {module.kernel_size[0]}x{module.kernel_size[1]}")
    if module.stride != (1, 1):
        reasons.append(f"stride {module.stride[0]}x{module.stride[1]}")
    if module.groups != 1:
        reasons.append(f"groups {module.groups}")
    if module.padding not in ((0, 0), "valid"):
        reasons.append(f"padding {module.padding}")
    if module.dilation != (1, 1):
        reasons.append(f"dilation {module.dilation}")
    if module.padding_mode != "zeros":
        reasons.append(f"padding mode {module.padding_mode}")
    return ("has " + ", ".join(reasons) + "; WCC takes 1x1, stride-1, ungrouped, unpadded convolutions") \
        if reasons else None


def load_exported(path):
    """A ``torch.export`` program (``.pt2``) as ``(module, example_input)``: its graph with every 2-D convolution
    made an ``nn.Conv2d`` again, named as in the model it was exported from, and its example input."""
    import torch
    from torch import nn

    try:
        program = torch.export.load(str(path))
    except FileNotFoundError:
        raise UnsupportedModel(f"model: {path}: no such file") from None
    except Exception as error:  # torch raises many kinds for a file that is not a program
        raise UnsupportedModel(f"model: {path}: not a torch.export program ({type(error).__name__}: "
                               f"{str(error)[:200]})") from None
    args = program.example_inputs[0] if program.example_inputs else ()
    if len(args) != 1 or not isinstance(args[0], torch.Tensor) or args[0].dim() != 4:
        raise UnsupportedModel(f"model: {path}: its example input must be one tensor of shape (N, C, H, W)")
    graph_module = program.module()
    convolution = torch.ops.aten.conv2d.default
    for node in list(graph_module.graph.nodes):
        if node.op != "call_function" or node.target is not convolution:
            continue
        source, weight, bias = node.args[0], node.args[1], node.args[2] if len(node.args) > 2 else None
        stride, padding, dilation, groups = (list(node.args[3:]) + [1, 0, 1, 1][len(node.args[3:]):])[:4]
        if weight.op != "get_attr" or (bias is not None and bias.op != "get_attr"):
            continue  # weights computed in the graph: not a layer wccgen can build
        stack = node.meta.get("nn_module_stack") or {}
        name = list(stack.values())[-1][0] if stack else weight.target.rpartition(".")[0]
        tensor = graph_module.get_parameter(weight.target) if weight.target in dict(
            graph_module.named_parameters()) else getattr(graph_module, weight.target)
        conv = nn.Conv2d(tensor.shape[1] * groups, tensor.shape[0], tuple(tensor.shape[2:]), stride=stride,
                         padding=padding, dilation=dilation, groups=groups, bias=bias is not None)
        with torch.no_grad():
            conv.weight.copy_(tensor)
            if bias is not None:
                conv.bias.copy_(graph_module.get_parameter(bias.target))
        if not name or "." in weight.target and weight.target.rpartition(".")[0] != name:
            name = weight.target.rpartition(".")[0] or f"conv_{node.name}"
        graph_module.add_submodule(name, conv)
        with graph_module.graph.inserting_after(node):
            call = graph_module.graph.call_module(name, (source,))
        node.replace_all_uses_with(call)
        graph_module.graph.erase_node(node)
    graph_module.graph.eliminate_dead_code()
    graph_module.recompile()
    return graph_module, args[0]


def load_images(images, channels, height, width):
    """Calibration images as a float tensor ``(N, channels, height, width)`` in [0, 1].

    ``images`` is ``None`` (:data:`DEFAULT_IMAGES`), a tensor or array of
    that shape, the path of a ``.npy`` file holding one, a folder of image
    files, or a list of photograph names and image files. Photographs are
    resized to ``height`` x ``width``; one channel is their grey level, three
    their colours.
    """
    import torch

    from ..golden.photographs import grey_photograph, photograph

    if isinstance(images, (str, os.PathLike)) and str(images).endswith(".npy"):
        try:
            images = np.load(images, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise UnsupportedModel(f"images: {images}: not a .npy array ({error})") from None
    if isinstance(images, (str, os.PathLike)) and Path(images).is_dir():
        files = sorted(p for p in Path(images).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise UnsupportedModel(f"images: {images} holds no image file ({', '.join(IMAGE_SUFFIXES)})")
        images = [str(p) for p in files]
    if images is None:
        images = list(DEFAULT_IMAGES)
    if isinstance(images, (np.ndarray, torch.Tensor)):
        batch = torch.as_tensor(np.asarray(images), dtype=torch.float32)
        if batch.dim() != 4 or batch.shape[1] != channels:
            raise UnsupportedModel(f"images: must have shape (N, {channels}, H, W), got {tuple(batch.shape)}")
        return batch
    if isinstance(images, (str, os.PathLike)):
        raise UnsupportedModel(f"images: {images} is neither a folder of images nor a .npy file")
    if channels not in (1, 3):
        raise UnsupportedModel(f"images: the model takes {channels} channels; photographs give 1 or 3, so give a "
                               ".npy array of inputs")
    read = grey_photograph if channels == 1 else photograph
    return torch.cat([read(str(name), height, width) for name in images])


@dataclass
class ConvertedLayer:
    """One converted layer: its WCC module, its bundle, and its input frames on the calibration images."""

    name: str
    module: object
    bundle: object
    codes: list = field(repr=False)  #: input code frames (C, H, W), tile after tile of every image
    references: list = field(repr=False)  #: the float layer's output of each frame, in output LSBs


@dataclass
class Conversion:
    """What :func:`convert` made: the converted copy of the model, its layers, and the ones left as they were."""

    model: object
    layers: dict  #: name -> ConvertedLayer, in module order
    skipped: dict  #: name -> why a convolution was not converted

    def source(self, name):
        """The :class:`~wccgen.gen.layer.LayerSource` of layer ``name``, for :func:`~wccgen.gen.layer.generate`."""
        from .layer import LayerSource

        if name not in self.layers:
            raise UnsupportedModel(f"layer: {name!r} is not a converted layer; converted: "
                                   f"{', '.join(self.layers) or 'none'}")
        layer = self.layers[name]
        return LayerSource("model", layer.bundle, layer=name,
                           calibration={"frames": len(layer.codes), "stored": True},
                           stored=(layer.codes, layer.references))

    def generate(self, out, layer=None, **options):
        """Generate hardware for layer ``layer`` (all converted layers if ``None``) into ``out/<name>/``;
        ``options`` as :func:`~wccgen.gen.layer.generate` takes them. Returns ``{name: manifest}``."""
        from .layer import generate

        names = list(self.layers) if layer is None else [layer]
        return {name: generate(self.source(name), Path(out) / name.replace(".", "_"), **options) for name in names}


def _replace(model, name, module):
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def _layer_inputs(model, names, batch):
    """``{name: input}`` of each named layer of ``model`` over ``batch``, run one image at a time (an exported
    program may take batches of one only)."""
    import torch

    seen = {name: [] for name in names}
    hooks = [model.get_submodule(name).register_forward_pre_hook(
        lambda module, inputs, name=name: seen[name].append(inputs[0].detach())) for name in names]
    try:
        with torch.no_grad():
            for image in batch:
                model(image[None])
    finally:
        for hook in hooks:
            hook.remove()
    for name, inputs in seen.items():
        if not inputs:
            raise UnsupportedModel(f"layer: {name} is not reached by the model's forward pass")
    return {name: torch.cat(inputs) for name, inputs in seen.items()}


def convert(module, example_input, *, images=None, tile=(16, 16), layers=None, rate=0.25, levels=3, bit_w=8,
            bit_a=8, in_bits=8, progress=lambda message: None):
    """Convert a model's 1x1 convolutions into WCC layers, calibrate them on images and export each.

    Parameters
    ----------
    module : torch.nn.Module
        The model (not changed: a copy is converted). Its 1x1, stride-1,
        ungrouped convolutions become :class:`~wccgen.golden.wcc_conv.WCCConv2d`
        (WCC layers it already has are kept); every other layer stays as it is
        (it runs in software).
    example_input : torch.Tensor, shape (N, C, H, W)
        An input of the model: its channels and size are those of the
        calibration images.
    images : optional
        Calibration images (:func:`load_images`); default the scikit-image
        photographs of :data:`DEFAULT_IMAGES`.
    tile : (int, int)
        Frame height and width the hardware is built for; each layer's input
        is cut into frames of this size (its sides must be multiples).
    layers : list of str, optional
        Names of the layers to convert; default every convertible one. A name
        that is no layer, or a layer the hardware cannot take, is refused
        naming why.
    rate, levels, bit_w, bit_a, in_bits
        WCC's keep rate, Haar levels and widths (as ``WCCConv2d``).

    Returns
    -------
    Conversion
    """
    import torch

    from ..golden.export import calibrate_output_scale, export_layer, input_codes
    from ..golden.wcc_conv import WCCConv2d

    if not isinstance(module, torch.nn.Module):
        raise UnsupportedModel(f"model: must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(example_input, torch.Tensor) or example_input.dim() != 4:
        raise UnsupportedModel("example_input: must be a tensor of shape (N, C, H, W)")
    model = copy.deepcopy(module).eval()
    convs = {name: sub for name, sub in model.named_modules()
             if isinstance(sub, (torch.nn.Conv2d, WCCConv2d))}
    why = {name: why_not_convertible(sub) for name, sub in convs.items()}
    if layers is None:
        chosen = [name for name, reason in why.items() if reason is None]
        if not chosen:
            listed = "; ".join(f"{name} {reason}" for name, reason in why.items()) or "it has no convolution"
            raise UnsupportedModel(f"model: has no layer WCC can take ({listed})")
    else:
        chosen = list(layers)
        modules = dict(model.named_modules())
        for name in chosen:
            if name not in modules or not name:
                raise UnsupportedModel(f"layer: {name!r} is not a layer of the model; convertible: "
                                       f"{', '.join(n for n, r in why.items() if r is None) or 'none'}")
            reason = why.get(name) or why_not_convertible(modules[name])
            if reason:
                raise UnsupportedModel(f"layer: {name} {reason}")
    batch = load_images(images, example_input.shape[1], example_input.shape[2], example_input.shape[3])
    progress(f"calibrating {len(chosen)} WCC layer(s) on {batch.shape[0]} image(s)")
    # The float model's activations at each layer on every image set the new layers' quantizer steps; the
    # converted model's then are the layers' inputs (each after the layers before it, converted too).
    float_inputs = _layer_inputs(model, chosen, batch)
    for name in chosen:
        if not isinstance(convs[name], WCCConv2d):
            layer = WCCConv2d.from_conv(convs[name], levels=levels, rate=rate, bit_w=bit_w, bit_a=bit_a,
                                        in_bits=in_bits)
            with torch.no_grad():
                layer(float_inputs[name])  # the quantizers take their steps from this first batch
            _replace(model, name, layer)
    wcc = {name: model.get_submodule(name) for name in chosen}
    seen = _layer_inputs(model, chosen, batch)
    height, width = tile
    converted = {}
    for name, layer in wcc.items():
        features = seen[name]
        rows, cols = features.shape[2] // height, features.shape[3] // width
        if rows == 0 or cols == 0 or features.shape[2] % height or features.shape[3] % width:
            raise UnsupportedModel(f"tile: {name}'s input is {features.shape[2]}x{features.shape[3]}, not a multiple "
                                   f"of the {height}x{width} frame; choose a tile that divides it")
        scale = calibrate_output_scale(layer, features)
        bundle = export_layer(layer, height, width, output_scale=scale, name=name)
        codes = input_codes(layer, features)
        frames, references = [], []
        with torch.no_grad():
            for image in range(features.shape[0]):
                for r in range(rows):
                    for c in range(cols):
                        window = (slice(r * height, (r + 1) * height), slice(c * width, (c + 1) * width))
                        frames.append(np.asarray(codes[image][:, window[0], window[1]]))
                        tile_out = layer(features[image:image + 1, :, window[0], window[1]])
                        references.append((tile_out / scale).double().numpy()[0])
        converted[name] = ConvertedLayer(name, layer, bundle, frames, references)
        progress(f"{name}: {layer.in_channels} -> {layer.out_channels} channels, {len(frames)} frames of "
                 f"{height}x{width}")
    skipped = {name: reason for name, reason in why.items() if name not in converted and reason is not None}
    return Conversion(model, converted, skipped)
