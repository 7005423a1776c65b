"""A convolution with fake-quantized weights and input activations."""

from __future__ import annotations

from torch import nn

from ..spec.checks import check_bits
from .quantizers import activation_quantizer, quantize_weight

__all__ = ["QuantConv2d"]


class QuantConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose input is quantized to ``bit_a`` bits and weights to ``bit_w`` bits.

    Weights symmetric per tensor; the input by ``quantizer``: ``"pact"``
    (:class:`~wccgen.golden.quantizers.ActivationQuantizer`, symmetric, clip
    learned) or ``"lsq"`` (:class:`~wccgen.golden.quantizers.LearnedStepQuantizer`,
    learned step, unsigned codes for a non-negative input). Gradients pass
    straight through the rounding.
    """

    def __init__(self, *args, bit_w=8, bit_a=8, quantizer="pact", **kwargs):
        super().__init__(*args, **kwargs)
        self.bit_w = check_bits(bit_w, "bit_w")
        self.bit_a = check_bits(bit_a, "bit_a")
        self.input_quant = activation_quantizer(quantizer, self.bit_a)

    @classmethod
    def from_conv(cls, conv, bit_w=8, bit_a=8, quantizer="pact"):
        """A quantized copy of ``conv`` (same geometry, weights and bias)."""
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                    padding=conv.padding, dilation=conv.dilation, groups=conv.groups,
                    bias=conv.bias is not None, padding_mode=conv.padding_mode, bit_w=bit_w, bit_a=bit_a,
                    quantizer=quantizer)
        layer.load_state_dict(conv.state_dict(), strict=False)
        return layer

    def forward(self, x):
        return self._conv_forward(self.input_quant(x), quantize_weight(self.weight, self.bit_w), self.bias)

    def extra_repr(self):
        return f"{super().extra_repr()}, bit_w={self.bit_w}, bit_a={self.bit_a}"
