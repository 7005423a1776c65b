"""The integer model of a TCI, DCT-CM or CAP layer, block by block.

One frame of input codes ``(C, H, W)`` goes through:

1. ``ChannelTransform``: ``k`` fixed-point rows times every pixel's channel
   vector (:func:`~wccgen.golden.channel_transform.channel_transform`);
2. ``Requantizer``: the sums become ``bit_a``-bit coefficient codes, the
   calibration mean subtracted by the bias
   (:func:`~wccgen.golden.requantizer.requantize`);
3. the codec's coder and decoder: Huffman (TCI), zero flags (DCT-CM) or
   fixed width (CAP); the decoded codes must equal the encoded ones;
4. ``PointwiseMAC``: the consumer's folded weights on the decoded codes;
5. ``Requantizer``: bias, activation and output width, as in a WCC layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spec.fixed_point import as_int64, symmetric_limit
from .channel_transform import channel_transform
from .codec_bundle import CodecBundle
from .fixed_width_coder import fixed_width_decode, fixed_width_encode
from .huffman import decode_frame as huffman_decode_frame
from .huffman_encoder import encode_frame
from .pointwise_mac import pointwise_mac
from .requantizer import requantize
from .zero_flag_coder import zero_flag_decode, zero_flag_encode

__all__ = ["CodecTrace", "codec_layer", "decode_codes", "encode_codes"]


@dataclass(frozen=True)
class CodecTrace:
    """Every intermediate of one frame through a codec layer.

    Attributes
    ----------
    sums : numpy.ndarray of int64, shape (k, H, W)
        The channel transform's output.
    codes : numpy.ndarray of int64, shape (k, H, W)
        The coefficient codes, which the stream carries.
    stream : numpy.ndarray of uint8
        The compressed frame, byte-padded.
    stream_bits : int
        Its length before the padding.
    accumulators : numpy.ndarray of int64, shape (C_out, H, W)
    output : numpy.ndarray of int64, shape (C_out, H, W)
    """

    sums: np.ndarray
    codes: np.ndarray
    stream: np.ndarray
    stream_bits: int
    accumulators: np.ndarray
    output: np.ndarray


def encode_codes(codes, bundle):
    """``(stream, bits)``: one frame of coefficient codes ``(k, H, W)`` in the bundle's coding format."""
    if bundle.codec == "tci":
        return encode_frame(codes, bundle.huffman)
    if bundle.codec == "dctcm":
        stream = zero_flag_encode(codes, bundle.bit_a)
        return stream, codes.size + int(np.count_nonzero(codes)) * bundle.bit_a
    return fixed_width_encode(codes, bundle.bit_a), codes.size * bundle.bit_a


def decode_codes(stream, bundle, height, width):
    """The coefficient codes ``(k, height, width)`` of one compressed frame; a cut or corrupt stream raises
    :class:`~wccgen.golden.unpacker.StreamError` (or the Huffman decoder's)."""
    k = bundle.components
    if bundle.codec == "dctcm":
        return zero_flag_decode(stream, k, height, width, bundle.bit_a)
    if bundle.codec == "cap":
        return fixed_width_decode(stream, k, height, width, bundle.bit_a)
    symbols = huffman_decode_frame(stream, k * height * width, bundle.huffman)
    return symbols.reshape(height * width, k).T.reshape(k, height, width).copy()


def codec_layer(pixels, bundle):
    """Run one frame of input codes ``(C, H, W)`` through the layer; return its :class:`CodecTrace`."""
    if not isinstance(bundle, CodecBundle):
        raise TypeError(f"bundle: must be a CodecBundle, got {type(bundle).__name__}")
    pixels = as_int64(pixels, "pixels")
    if pixels.ndim != 3 or pixels.shape[0] != bundle.channels_in:
        raise ValueError(f"pixels: must have shape ({bundle.channels_in}, H, W), got {pixels.shape}")
    limit = symmetric_limit(bundle.in_bits)
    if np.any(np.abs(pixels) > limit):
        raise ValueError(f"pixels: must lie in [-{limit}, {limit}] for {bundle.in_bits}-bit input codes")
    _, height, width = pixels.shape
    k = bundle.components
    sums = channel_transform(bundle.rows, pixels)
    coef_limit = symmetric_limit(bundle.bit_a)
    codes = requantize(sums, np.full(k, bundle.coef_multiplier), np.full(k, bundle.coef_shift), bundle.coef_bias,
                       -coef_limit, coef_limit)
    stream, stream_bits = encode_codes(codes, bundle)
    decoded = decode_codes(stream, bundle, height, width)
    if not np.array_equal(decoded, codes):  # a coder that is not lossless is a bug of the model, never tolerated
        raise AssertionError(f"{bundle.codec} coder: decoded codes differ from the encoded ones")
    accumulators = pointwise_mac(bundle.weights, decoded.reshape(k, -1)).reshape(-1, height, width)
    output = requantize(accumulators, bundle.out_multiplier, bundle.out_shift, bundle.out_bias, bundle.out_min,
                        bundle.out_max)
    return CodecTrace(sums=sums, codes=codes, stream=stream, stream_bits=stream_bits, accumulators=accumulators,
                      output=output)
