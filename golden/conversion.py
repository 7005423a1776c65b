"""Turn a float model into a WCC model, or into a plainly quantized one."""

from __future__ import annotations

import copy

from torch import nn

from ..spec.checks import check_bits, check_levels, check_rate
from .codec_conv import ChannelCodecConv2d
from .quant_conv import QuantConv2d
from .wcc_conv import WCCConv2d

__all__ = ["codecify", "quantize_model", "wccify"]


def _is_wcc_candidate(conv):
    return (conv.kernel_size == (1, 1) and conv.stride == (1, 1) and conv.groups == 1
            and conv.padding in ((0, 0), "valid") and conv.dilation == (1, 1))


def wccify(model, levels=3, rate=0.5, bit_w=8, bit_a=8, in_bits=8, energy="square", quantizer="pact"):
    """Return a copy of ``model`` with its convolutions compressed as the WCC paper does.

    Every 1x1, stride-1, ungrouped convolution becomes a :class:`WCCConv2d`;
    every other convolution becomes a :class:`QuantConv2d` (``bit_w``/``bit_a``
    quantization). The first and the last convolution, in module order, stay
    untouched. The input model is not modified. ``in_bits`` is the width of
    the activations a WCC layer receives (the format between layers);
    ``quantizer`` learns the WCC layers' coefficient scales (``"pact"`` or
    ``"lsq"``).

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

    def convert(conv):
        if _is_wcc_candidate(conv):
            return WCCConv2d.from_conv(conv, levels=levels, rate=rate, bit_w=bit_w, bit_a=bit_a, in_bits=in_bits,
                                       energy=energy, quantizer=quantizer)
        return QuantConv2d.from_conv(conv, bit_w=bit_w, bit_a=bit_a)

    model = _replace_inner_convs(model, convert)
    model.wcc_layers = [name for name, module in model.named_modules() if isinstance(module, WCCConv2d)]
    return model


def codecify(model, codec, rate=1.0, bit_w=8, bit_a=8, in_bits=8, components=()):
    """Return a copy of ``model`` whose 1x1 convolutions take their input through a channel codec.

    Every convolution :func:`wccify` would turn into a WCC layer becomes a
    :class:`ChannelCodecConv2d` of ``codec`` (``"tci"``, ``"dctcm"`` or
    ``"cap"``) keeping ``rate`` of its input channels as transform rows, with
    ``bit_a``-bit coefficient codes; every other inner convolution becomes a
    :class:`QuantConv2d` with 8-bit inputs. ``components``, when not empty,
    gives the rows of every codec layer in module order instead of ``rate``.
    The first and last convolutions stay untouched; ``model`` is not modified.
    """
    check_bits(bit_w, "bit_w")
    check_bits(bit_a, "bit_a")
    rows = iter(components)

    def convert(conv):
        if _is_wcc_candidate(conv):
            return ChannelCodecConv2d.from_conv(conv, codec, rate=rate, bit_w=bit_w, bit_a=bit_a, in_bits=in_bits,
                                                components=next(rows, None) if components else None)
        return QuantConv2d.from_conv(conv, bit_w=bit_w, bit_a=8)

    model = _replace_inner_convs(model, convert)
    converted = sum(isinstance(module, ChannelCodecConv2d) for module in model.modules())
    if components and len(components) != converted:
        raise ValueError(f"components: {len(components)} values for {converted} compressed layers")
    model.wcc_layers = []
    return model


def quantize_model(model, bit_w=8, bit_a=8, pointwise_bit_a=None, pointwise_quantizer="pact"):
    """Return a copy of ``model`` whose convolutions quantize weights and input activations (no WCC).

    Every convolution but the first and the last (in module order) becomes a
    :class:`QuantConv2d`: ``bit_w``-bit weights and ``bit_a``-bit input
    activations, symmetric, per tensor; the convolutions :func:`wccify` would
    turn into WCC layers take ``pointwise_bit_a``-bit inputs instead (default
    ``bit_a``) through a ``pointwise_quantizer`` (``"pact"`` or ``"lsq"``).
    With ``bit_a = 8`` that is the baseline WCC is compared against: the same
    activations compressed, by fewer bits instead of by a transform.
    """
    check_bits(bit_w, "bit_w")
    check_bits(bit_a, "bit_a")
    pointwise_bit_a = check_bits(bit_a if pointwise_bit_a is None else pointwise_bit_a, "pointwise_bit_a")

    def convert(conv):
        if _is_wcc_candidate(conv):
            return QuantConv2d.from_conv(conv, bit_w=bit_w, bit_a=pointwise_bit_a, quantizer=pointwise_quantizer)
        return QuantConv2d.from_conv(conv, bit_w=bit_w, bit_a=bit_a)

    model = _replace_inner_convs(model, convert)
    model.wcc_layers = []
    return model


def _replace_inner_convs(model, convert):
    """A copy of ``model`` with every ``nn.Conv2d`` but the first and the last replaced by ``convert(conv)``."""
    model = copy.deepcopy(model)
    convs = [name for name, module in model.named_modules() if type(module) is nn.Conv2d]
    if not convs:
        raise ValueError("model: has no nn.Conv2d to convert")
    for name in convs[1:-1]:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, convert(getattr(parent, child)))
    return model
