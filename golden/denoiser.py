"""The built-in default model: a small denoising CNN made of MobileNetV2 inverted residual blocks."""

from __future__ import annotations

import torch
from torch import nn

from ..spec.checks import check_positive_int

__all__ = ["Denoiser", "InvertedResidual"]


class InvertedResidual(nn.Module):
    """``x + project(relu6(depthwise(relu6(expand(x)))))``: 1x1 expansion, 3x3 depthwise, 1x1 projection.

    Parameters
    ----------
    channels : int
        Channels of the block's input and output.
    hidden : int
        Channels between the two 1x1 convolutions.
    """

    def __init__(self, channels, hidden):
        super().__init__()
        self.expand = nn.Conv2d(channels, hidden, 1)
        self.depthwise = nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden)
        self.project = nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        hidden = torch.clamp(self.expand(x), 0.0, 6.0)
        hidden = torch.clamp(self.depthwise(hidden), 0.0, 6.0)
        return x + self.project(hidden)


class Denoiser(nn.Module):
    """Grey-scale image denoiser whose cost is dominated by 1x1 convolutions.

    A 3x3 head (1 -> ``channels``, ReLU6), ``blocks`` inverted residual blocks
    (``channels`` -> ``channels * expansion`` -> ``channels``) and a 3x3 tail
    that predicts the noise, subtracted from the input (residual learning).
    With the defaults (16 channels, expansion 4, 3 blocks) three quarters of
    the multiply-accumulates per pixel are in the 1x1 convolutions, the layers
    WCC compresses; the head and the tail stay untouched, as in the paper.

    Parameters
    ----------
    channels, expansion, blocks : int
    """

    def __init__(self, channels=16, expansion=4, blocks=3):
        super().__init__()
        self.channels = check_positive_int(channels, "channels")
        self.expansion = check_positive_int(expansion, "expansion")
        self.block_count = check_positive_int(blocks, "blocks")
        self.head = nn.Conv2d(1, channels, 3, padding=1)
        self.blocks = nn.Sequential(*[InvertedResidual(channels, channels * expansion) for _ in range(blocks)])
        self.tail = nn.Conv2d(channels, 1, 3, padding=1)

    @property
    def architecture(self):
        """The constructor's arguments, as a checkpoint records them."""
        return {"channels": self.channels, "expansion": self.expansion, "blocks": self.block_count}

    def forward(self, x):
        if x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(f"x: must have shape (N, 1, H, W), got {tuple(x.shape)}")
        features = torch.clamp(self.head(x), 0.0, 6.0)
        return x - self.tail(self.blocks(features))

    @staticmethod
    def activation_after(layer_name):
        """The activation that follows a 1x1 layer of the model: ReLU6 after an expansion, none after a projection."""
        return "relu6" if layer_name.endswith("expand") else "none"

    def macs_per_pixel(self):
        """Multiply-accumulates per output pixel: ``(total, in 1x1 convolutions)``."""
        total = pointwise = 0
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                macs = module.out_channels * (module.in_channels // module.groups) * module.kernel_size[0] \
                    * module.kernel_size[1]
                total += macs
                if module.kernel_size == (1, 1):
                    pointwise += macs
        return total, pointwise
