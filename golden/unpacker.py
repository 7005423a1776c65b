"""Reading the compressed stream back (block ``Unpacker``)."""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_bits, check_positive_int
from ..spec.fixed_point import symmetric_limit
from .packer import stream_bits

__all__ = ["StreamError", "unpack"]


class StreamError(ValueError):
    """A compressed stream that is truncated, over-long or corrupt."""


def unpack(stream, padded_height, padded_width, channels, bits, keep):
    """Decode one compressed frame written by :func:`pack`.

    Parameters
    ----------
    stream : bytes or array_like of uint8
    padded_height, padded_width, channels, bits : int
        Geometry of the frame.
    keep : int
        Positions the layer keeps; a bitmap with another count is corrupt.

    Returns
    -------
    mask : numpy.ndarray of bool, shape (padded_height, padded_width)
    codes : numpy.ndarray of int64, shape (channels, keep)

    Raises
    ------
    StreamError
        Truncated or over-long stream, wrong number of kept positions, a code
        outside the symmetric range, or non-zero padding bits.
    """
    positions = check_positive_int(padded_height, "padded_height") * check_positive_int(padded_width, "padded_width")
    channels = check_positive_int(channels, "channels")
    bits = check_bits(bits, "bits")
    keep = check_positive_int(keep, "keep")
    if isinstance(stream, (bytes, bytearray, memoryview)):
        stream = np.frombuffer(bytes(stream), dtype=np.uint8)
    stream = np.asarray(stream)
    if stream.dtype != np.uint8 or stream.ndim != 1:
        raise TypeError(f"stream: must be a 1-D uint8 array or bytes, got {stream.dtype} {stream.shape}")
    total = stream_bits(positions, keep, channels, bits)
    expected = -(-total // 8)
    if stream.size * 8 < positions:
        raise StreamError(
            f"stream: truncated inside the bitmap: {stream.size} bytes, the bitmap alone needs {-(-positions // 8)}"
        )
    bitstream = np.unpackbits(stream, bitorder="little")
    mask = bitstream[:positions].astype(bool)
    marked = int(mask.sum())
    if marked != keep:
        raise StreamError(f"stream: corrupt bitmap: {marked} positions marked, the layer keeps {keep}")
    if stream.size < expected:
        raise StreamError(f"stream: truncated: {stream.size} bytes, a frame of {total} bits needs {expected}")
    if stream.size > expected:
        raise StreamError(f"stream: over-long: {stream.size} bytes, a frame of {total} bits takes {expected}")
    if np.any(bitstream[total:]):
        raise StreamError("stream: corrupt: padding bits after the last code are not zero")
    value_bits = bitstream[positions:total].reshape(keep * channels, bits).astype(np.int64)
    words = (value_bits << np.arange(bits, dtype=np.int64)).sum(axis=1)
    codes = np.where(words >= 1 << (bits - 1), words - (1 << bits), words)
    limit = symmetric_limit(bits)
    bad = np.flatnonzero(np.abs(codes) > limit)
    if bad.size:
        position, channel = divmod(int(bad[0]), channels)
        raise StreamError(
            f"stream: corrupt code {int(codes[bad[0]])} at kept position {position}, channel {channel}; "
            f"codes lie in [-{limit}, {limit}]"
        )
    return mask.reshape(padded_height, padded_width), codes.reshape(keep, channels).T.copy()
