"""The whole WCC layer in integers: the composition of every block's golden function."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spec.fixed_point import as_int64, signed_range
from .bundle import LayerBundle
from .compressor import compressor
from .haar_forward import haar_forward
from .haar_inverse import haar_inverse
from .pointwise_mac import pointwise_mac
from .requantizer import requantize
from .scatter import scatter
from .unpacker import unpack

__all__ = ["WccTrace", "wcc_layer"]


@dataclass
class WccTrace:
    """Every intermediate stream of one frame through the layer, named after the block that made it."""

    pixels: np.ndarray  #: (C_in, H, W) input
    coefficients: np.ndarray  #: (C_in, H', W') HaarForward output
    energy: np.ndarray  #: (H', W') Energy output
    mask: np.ndarray  #: (H', W') bool, TopKSelector output
    indices: np.ndarray  #: (k,) kept raster indices, ascending
    codes: np.ndarray  #: (C_in, k) Quantizer output
    stream: np.ndarray  #: uint8 Packer output, the compressed frame
    accumulators: np.ndarray  #: (C_out, k) PointwiseMAC output
    scattered: np.ndarray  #: (C_out, H', W') Scatter output
    inverse: np.ndarray  #: (C_out, H, W) HaarInverse output, cropped
    output: np.ndarray  #: (C_out, H, W) Requantize output


def wcc_layer(pixels, bundle):
    """Run one frame through the integer WCC layer described by ``bundle``.

    The encoder (Haar, energy, top-k, quantizer, packer) writes the compressed
    stream; the compute half reads it back with the unpacker, so the stream is
    the only thing that crosses between them, as in hardware.

    Parameters
    ----------
    pixels : array_like of int, shape (C_in, H, W)
        Input frame, ``in_bits``-bit two's complement.
    bundle : LayerBundle

    Returns
    -------
    WccTrace
    """
    if not isinstance(bundle, LayerBundle):
        raise TypeError(f"bundle: must be a LayerBundle, got {type(bundle).__name__}")
    cfg = bundle.config
    pixels = as_int64(pixels, "pixels")
    expected = (cfg.channels_in, cfg.height, cfg.width)
    if pixels.shape != expected:
        raise ValueError(f"pixels: has shape {pixels.shape}, the layer takes {expected}")
    lo, hi = signed_range(cfg.in_bits)
    if pixels.min() < lo or pixels.max() > hi:
        raise ValueError(f"pixels: values must lie in [{lo}, {hi}] for {cfg.in_bits}-bit input")
    coefficients = haar_forward(pixels, cfg.levels)
    encoded = compressor(coefficients, cfg.levels, cfg.keep, bundle.coef_multiplier, bundle.coef_shift, cfg.bit_a,
                         cfg.energy)
    stream = encoded.stream

    read_mask, read_codes = unpack(stream, cfg.padded_height, cfg.padded_width, cfg.channels_in, cfg.bit_a, cfg.keep)
    read_indices = np.flatnonzero(read_mask.ravel())
    accumulators = pointwise_mac(bundle.weights, read_codes)
    scattered = scatter(read_indices, accumulators, cfg.padded_height, cfg.padded_width)
    inverse = haar_inverse(scattered, cfg.levels, cfg.height, cfg.width)
    output = requantize(inverse, bundle.out_multiplier, bundle.out_shift, bundle.out_bias,
                        bundle.out_min, bundle.out_max)
    return WccTrace(pixels=pixels, coefficients=coefficients, energy=encoded.energy, mask=encoded.mask,
                    indices=encoded.indices, codes=encoded.codes, stream=stream, accumulators=accumulators,
                    scattered=scattered, inverse=inverse, output=output)
