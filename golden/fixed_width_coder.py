"""The coding format of CAP: every coefficient code at its fixed width (blocks ``FixedWidthPacker``/``Unpacker``).

A frame of ``k`` codes per pixel is written pixel by pixel in raster order,
the codes of a pixel together, each ``bits`` wide in two's complement, LSB
first (bit ``j`` in byte ``j // 8`` at bit ``j % 8``, as WCC's stream), then
zero bits up to the next byte boundary.
"""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_bits, check_positive_int
from ..spec.fixed_point import as_int64, symmetric_limit
from .unpacker import StreamError

__all__ = ["fixed_width_decode", "fixed_width_encode"]


def fixed_width_encode(codes, bits):
    """The bytes of one frame of codes ``(k, H, W)``, each within ``[-Q, Q]`` of ``bits``."""
    bits = check_bits(bits, "bits")
    codes = as_int64(codes, "codes")
    if codes.ndim != 3:
        raise ValueError(f"codes: must have shape (k, H, W), got {codes.shape}")
    limit = symmetric_limit(bits)
    if np.any(np.abs(codes) > limit):
        raise ValueError(f"codes: must lie in [-{limit}, {limit}] for {bits}-bit codes")
    words = (codes.reshape(codes.shape[0], -1).T.ravel() & ((1 << bits) - 1)).astype(np.uint64)
    value_bits = ((words[:, None] >> np.arange(bits, dtype=np.uint64)) & 1).astype(np.uint8)
    return np.packbits(value_bits.ravel(), bitorder="little")


def fixed_width_decode(stream, components, height, width, bits):
    """Decode one frame written by :func:`fixed_width_encode`: the codes ``(components, height, width)``.

    Raises
    ------
    StreamError
        A stream of another length, non-zero padding, or a code outside ``[-Q, Q]``.
    """
    components = check_positive_int(components, "components")
    pixels = check_positive_int(height, "height") * check_positive_int(width, "width")
    bits = check_bits(bits, "bits")
    stream = np.frombuffer(bytes(stream), dtype=np.uint8) if isinstance(stream, (bytes, bytearray, memoryview)) \
        else np.asarray(stream)
    if stream.dtype != np.uint8 or stream.ndim != 1:
        raise TypeError(f"stream: must be a 1-D uint8 array or bytes, got {stream.dtype} {stream.shape}")
    total = components * pixels * bits
    expected = -(-total // 8)
    if stream.size != expected:
        state = "truncated" if stream.size < expected else "over-long"
        raise StreamError(f"stream: {state}: {stream.size} bytes, a frame of {total} bits takes {expected}")
    bitstream = np.unpackbits(stream, bitorder="little")
    if np.any(bitstream[total:]):
        raise StreamError("stream: corrupt: padding bits after the last code are not zero")
    words = (bitstream[:total].reshape(-1, bits).astype(np.int64) << np.arange(bits, dtype=np.int64)).sum(axis=1)
    values = np.where(words >= 1 << (bits - 1), words - (1 << bits), words)
    limit = symmetric_limit(bits)
    bad = np.flatnonzero(np.abs(values) > limit)
    if bad.size:
        pixel, row = divmod(int(bad[0]), components)
        raise StreamError(f"stream: corrupt code {int(values[bad[0]])} at pixel {pixel}, row {row}; codes lie in "
                          f"[-{limit}, {limit}]")
    return values.reshape(pixels, components).T.reshape(components, height, width).copy()
