"""Turn a float model into a WCC model."""

from __future__ import annotations

import copy

from torch import nn

from .config import check_bits, check_levels, check_rate
from .quant_conv import QuantConv2d
from .wcc_conv import WCCConv2d

__all__ = ["wccify"]


def _is_wcc_candidate(conv):
    return (conv.kernel_size == (1, 1) and conv.stride == (1, 1) and conv.groups == 1
            and conv.padding in ((0, 0), "valid") and conv.dilation == (1, 1))


def wccify(model, levels=3, rate=0.5, bit_w=8, bit_a=8, in_bits=8, energy="square"):
    """Return a copy of ``model`` with its convolutions compressed as the WCC paper does.

    Every 1x1, stride-1, ungrouped convolution becomes a :class:`WCCConv2d`;
    every other convolution becomes a :class:`QuantConv2d` (``bit_w``/``bit_a``
    quantization). The first and the last convolution, in module order, stay
    untouched. The input model is not modified. ``in_bits`` is the width of
    the activations a WCC layer receives (the format between layers).

    Returns
    -------
    torch.nn.Module
        The converted copy; its ``wcc_layers`` attribute lists the names of the
        layers that were turned into WCC layers.
    """
    levels = check_levels(levels)
    rate = check_rate(rate)
    check_bits(bit_w, "bit_w")
    check_bits(bit_a, "bit_a")
    check_bits(in_bits, "in_bits")
    model = copy.deepcopy(model)
    convs = [name for name, module in model.named_modules() if type(module) is nn.Conv2d]
    if not convs:
        raise ValueError("model: has no nn.Conv2d to convert")
    replaced = []
    for name in convs[1:-1]:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        conv = getattr(parent, child)
        if _is_wcc_candidate(conv):
            layer = WCCConv2d.from_conv(conv, levels=levels, rate=rate, bit_w=bit_w, bit_a=bit_a,
                                        in_bits=in_bits, energy=energy)
            replaced.append(name)
        else:
            layer = QuantConv2d.from_conv(conv, bit_w=bit_w, bit_a=bit_a)
        setattr(parent, child, layer)
    model.wcc_layers = replaced
    return model
