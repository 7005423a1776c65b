"""Real photographs from ``skimage.data`` and activations computed from them."""

from __future__ import annotations

import os

import numpy as np
import skimage.data
import torch
from skimage.transform import resize

from ..spec.checks import check_positive_int

__all__ = ["PHOTOGRAPHS", "grey_photograph", "photograph", "photograph_codes", "photograph_features"]

#: Photographs shipped inside scikit-image (no download).
PHOTOGRAPHS = ("astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "gravel", "coins", "moon",
               "clock", "hubble_deep_field", "immunohistochemistry", "page")


def _read_image_file(path):
    from skimage import io

    try:
        image = io.imread(path)
    except (OSError, ValueError, SyntaxError) as error:
        # The readers' own messages list plugins to install; the file is what is wrong.
        missing = isinstance(error, FileNotFoundError)
        raise ValueError(f"photograph: {path}: " + ("no such file" if missing else
                                                    "not an image file scikit-image can read (PNG, JPEG, TIFF, ...)")) \
            from None
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0 or not np.issubdtype(image.dtype, np.number):
        raise ValueError(f"photograph: {path} is not a grey or colour image (array of shape {image.shape})")
    peak = 65535.0 if image.dtype == np.uint16 else 255.0 if np.issubdtype(image.dtype, np.integer) else 1.0
    return image.astype(np.float64) / peak


def photograph(name="astronaut", height=None, width=None):
    """A photograph as a float32 tensor of shape (1, 3, H, W) in [0, 1].

    ``name`` is one of :data:`PHOTOGRAPHS` or the path of an image file.
    Grey-scale photographs are repeated over three channels; ``height`` and
    ``width`` resize it (anti-aliased) when given.
    """
    if name in PHOTOGRAPHS:
        image = getattr(skimage.data, name)().astype(np.float64) / 255.0
    elif isinstance(name, (str, os.PathLike)) and os.path.isfile(name):
        image = _read_image_file(name)
    else:
        raise ValueError(f"photograph: {name!r} is neither an image file nor one of {', '.join(PHOTOGRAPHS)}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = image[:, :, :3]
    if height is not None or width is not None:
        height = check_positive_int(height if height is not None else image.shape[0], "height")
        width = check_positive_int(width if width is not None else image.shape[1], "width")
        image = resize(image, (height, width), anti_aliasing=True)
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))[None]


def grey_photograph(name="astronaut", height=None, width=None):
    """A photograph as grey levels (ITU-R 601 luma), float32 tensor (1, 1, H, W) in [0, 1].

    At its own size unless ``height`` / ``width`` resize it (as :func:`photograph`).
    """
    rgb = photograph(name, height, width)[0]
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return luma[None, None].contiguous()


def photograph_features(name="astronaut", height=64, width=64, channels=16, seed=0):
    """Feature maps of a photograph: a seeded 3x3 convolution and ReLU6 over its pixels.

    A stand-in first layer that gives a WCC layer real image structure to
    compress (edges, textures, smooth areas) with ``channels`` channels.
    """
    channels = check_positive_int(channels, "channels")
    generator = torch.Generator().manual_seed(seed)
    conv = torch.nn.Conv2d(3, channels, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * 0.5)
        conv.bias.copy_(torch.randn(conv.bias.shape, generator=generator) * 0.1)
        return torch.clamp(conv(photograph(name, height, width)), 0.0, 6.0)


def photograph_codes(name="astronaut", height=64, width=64, channels=16, bits=8, seed=0):
    """:func:`photograph_features` of one photograph quantized to ``bits``-bit codes, shape (C, H, W).

    Symmetric, per tensor, scaled so the largest feature maps to the largest
    code: real activations as integers, for driving the integer model and the
    hardware.
    """
    features = photograph_features(name, height, width, channels, seed)[0].double()
    limit = (1 << (bits - 1)) - 1
    peak = float(features.abs().max())
    scale = peak / limit if peak > 0 else 1.0
    return torch.clamp(torch.round(features / scale), -limit, limit).to(torch.int64).numpy()
