"""CAP's coding format: each coefficient code at its fixed width (blocks ``FixedWidthEncoder``/``FixedWidthDecoder``).

A frame of ``k`` codes per pixel is written pixel by pixel in raster order,
the codes of a pixel together, each ``bits`` wide in two's complement, LSB
first (bit ``j`` in byte ``j // 8`` at bit ``j % 8``, as WCC's stream), then
zero bits up to the next byte boundary. The helpers that write and read the
codes' bits serve DCT-CM's zero-flag format too.
"""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_bits, check_positive_int
from ..spec.fixed_point import as_int64, symmetric_limit
from .unpacker import StreamError

__all__ = ["ERRORS", "code_bits", "code_values", "decoder_arguments", "fixed_width_decode",
           "fixed_width_decode_flagged", "fixed_width_encode", "frame_codes", "frame_in_stream_order",
           "stream_bytes"]

#: What is wrong with a refused frame, by the code the hardware decoders of CAP's and DCT-CM's formats report
#: (0: nothing).
ERRORS = {"cut": 1, "corrupt_value": 2, "over_long": 3, "padding": 4}


def frame_codes(codes, bits):
    """``codes`` checked as one frame ``(k, H, W)`` of ``bits``-bit symmetric codes, as int64."""
    codes = as_int64(codes, "codes")
    if codes.ndim != 3:
        raise ValueError(f"codes: must have shape (k, H, W), got {codes.shape}")
    limit = symmetric_limit(check_bits(bits, "bits"))
    if np.any(np.abs(codes) > limit):
        raise ValueError(f"codes: must lie in [-{limit}, {limit}] for {bits}-bit codes")
    return codes


def code_bits(values, bits):
    """The bits of ``values`` (1-D int64), each ``bits`` wide, two's complement, LSB first."""
    words = (values & ((1 << bits) - 1)).astype(np.uint64)
    return ((words[:, None] >> np.arange(bits, dtype=np.uint64)) & 1).astype(np.uint8).ravel()


def code_values(bitstream, bits):
    """The values :func:`code_bits` wrote into ``bitstream`` (a multiple of ``bits`` long)."""
    words = (bitstream.reshape(-1, bits).astype(np.int64) << np.arange(bits, dtype=np.int64)).sum(axis=1)
    return np.where(words >= 1 << (bits - 1), words - (1 << bits), words)


def stream_bytes(stream):
    """A stream given as bytes or a uint8 array, as a 1-D uint8 array."""
    if isinstance(stream, (bytes, bytearray, memoryview)):
        stream = np.frombuffer(bytes(stream), dtype=np.uint8)
    stream = np.asarray(stream)
    if stream.dtype != np.uint8 or stream.ndim != 1:
        raise TypeError(f"stream: must be a 1-D uint8 array or bytes, got {stream.dtype} {stream.shape}")
    return stream


def decoder_arguments(stream, components, height, width, bits):
    """A decoder's arguments checked: ``(stream, codes per frame, bits)``, the stream as by :func:`stream_bytes`."""
    count = check_positive_int(components, "components") * check_positive_int(height, "height") * \
        check_positive_int(width, "width")
    bits = check_bits(bits, "bits")
    return stream_bytes(stream), count, bits


def frame_in_stream_order(flat, components, height, width):
    """A frame ``(components, height, width)`` of the codes ``flat`` given in stream order (position after
    position, the components of each)."""
    return np.asarray(flat).reshape(height * width, components).T.reshape(components, height, width).copy()


def fixed_width_encode(codes, bits):
    """The bytes of one frame of codes ``(k, H, W)``, each within ``[-Q, Q]`` of ``bits``."""
    codes = frame_codes(codes, bits)
    return np.packbits(code_bits(codes.reshape(codes.shape[0], -1).T.ravel(), bits), bitorder="little")


def fixed_width_decode(stream, components, height, width, bits):
    """Decode one frame written by :func:`fixed_width_encode`: the codes ``(components, height, width)``.

    Raises
    ------
    StreamError
        A stream of another length, non-zero padding, or a code outside ``[-Q, Q]``.
    """
    stream, count, bits = decoder_arguments(stream, components, height, width, bits)
    total = count * bits
    expected = -(-total // 8)
    if stream.size != expected:
        state = "truncated" if stream.size < expected else "over-long"
        raise StreamError(f"stream: {state}: {stream.size} bytes, a frame of {total} bits takes {expected}")
    bitstream = np.unpackbits(stream, bitorder="little")
    if np.any(bitstream[total:]):
        raise StreamError("stream: corrupt: padding bits after the last code are not zero")
    values = code_values(bitstream[:total], bits)
    limit = symmetric_limit(bits)
    bad = np.flatnonzero(np.abs(values) > limit)
    if bad.size:
        pixel, row = divmod(int(bad[0]), components)
        raise StreamError(f"stream: corrupt code {int(values[bad[0]])} at pixel {pixel}, row {row}; codes lie in "
                          f"[-{limit}, {limit}]")
    return frame_in_stream_order(values, components, height, width)


def fixed_width_decode_flagged(stream, components, height, width, bits):
    """What the hardware decoder makes of one frame's bytes, good or not: ``(codes, kind)``.

    The codes are read in stream order; the first thing wrong refuses the
    frame: the frame's bytes end before a code's last bit (``cut``), a code
    is ``-2**(bits-1)`` (``corrupt_value``), bytes remain after the one
    holding the last code (``over_long``), or a padding bit is set
    (``padding``). The code where a cut or a corrupt value is met and every
    code after it are 0, as the hardware emits them. A frame is refused
    exactly when :func:`fixed_width_decode` raises.

    Returns
    -------
    (numpy.ndarray of int64, shape (components, height, width), str or None)
        The codes and the kind of error (a key of :data:`ERRORS`), None for a
        good frame.
    """
    stream, count, bits = decoder_arguments(stream, components, height, width, bits)
    bitstream = np.unpackbits(stream, bitorder="little")
    whole = min(count, bitstream.size // bits)  # codes whose bits all came
    flat = np.zeros(count, dtype=np.int64)
    flat[:whole] = code_values(bitstream[:whole * bits], bits)
    kind = None
    bad = np.flatnonzero(flat[:whole] < -symmetric_limit(bits))
    if bad.size:
        whole, kind = int(bad[0]), "corrupt_value"
    elif whole < count:
        kind = "cut"
    elif stream.size > -(-count * bits // 8):
        kind = "over_long"
    elif np.any(bitstream[count * bits:]):
        kind = "padding"
    flat[whole:] = 0
    return frame_in_stream_order(flat, components, height, width), kind
