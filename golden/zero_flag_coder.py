"""The coding format of DCT-CM: zero flags, then the non-zero codes (blocks ``ZeroFlagEncoder``/``ZeroFlagDecoder``).

The layout is WCC's compressed stream (:func:`~wccgen.golden.packer.pack`)
with one channel: a frame of ``k`` coefficient codes per pixel becomes

1. a bitmap of ``P * k`` flags, pixel by pixel in raster order and within a
   pixel coefficient by coefficient, 1 where the code is not zero;
2. the non-zero codes in the same order, ``bits`` wide, two's complement;
3. zero bits up to the next byte boundary.

Bit ``j`` lies in byte ``j // 8`` at bit ``j % 8`` (LSB first). Unlike WCC's
stream, the number of values depends on the data: the decoder learns it from
the bitmap.
"""

from __future__ import annotations

import numpy as np

from ..spec.fixed_point import symmetric_limit
from .fixed_width_coder import ERRORS, code_bits, code_values, decoder_arguments, frame_codes, frame_in_stream_order
from .unpacker import StreamError

__all__ = ["ERRORS", "StreamError", "zero_flag_bits", "zero_flag_decode", "zero_flag_decode_flagged",
           "zero_flag_encode"]


def zero_flag_bits(codes, bits):
    """Size in bits (before the byte padding) of ``codes`` (k, H, W) in the format: flags plus non-zero codes."""
    codes = np.asarray(codes)
    return codes.size + int(np.count_nonzero(codes)) * bits


def zero_flag_encode(codes, bits):
    """The bytes of one frame of coefficient codes ``(k, H, W)``, each within ``[-Q, Q]`` of ``bits``."""
    codes = frame_codes(codes, bits)
    flat = codes.reshape(codes.shape[0], -1).T.ravel()  # pixel by pixel, coefficients of a pixel together
    return np.packbits(np.concatenate([(flat != 0).astype(np.uint8), code_bits(flat[flat != 0], bits)]),
                       bitorder="little")


def zero_flag_decode(stream, components, height, width, bits):
    """Decode one frame written by :func:`zero_flag_encode`: the codes ``(components, height, width)``.

    Raises
    ------
    StreamError
        A stream cut short (inside the flags or the values), over-long, with
        non-zero padding, or holding a zero or out-of-range value where the
        flags promise a non-zero code.
    """
    stream, flags_count, bits = decoder_arguments(stream, components, height, width, bits)
    if stream.size * 8 < flags_count:
        raise StreamError(f"stream: truncated inside the zero flags: {stream.size} bytes, the flags alone need "
                          f"{-(-flags_count // 8)}")
    bitstream = np.unpackbits(stream, bitorder="little")
    flags = bitstream[:flags_count].astype(bool)
    nonzero = int(flags.sum())
    total = flags_count + nonzero * bits
    expected = -(-total // 8)
    if stream.size < expected:
        raise StreamError(f"stream: truncated: {stream.size} bytes, {nonzero} non-zero codes need {expected}")
    if stream.size > expected:
        raise StreamError(f"stream: over-long: {stream.size} bytes, the frame takes {expected}")
    if np.any(bitstream[total:]):
        raise StreamError("stream: corrupt: padding bits after the last code are not zero")
    values = code_values(bitstream[flags_count:total], bits)
    limit = symmetric_limit(bits)
    bad = np.flatnonzero((values == 0) | (np.abs(values) > limit))
    if bad.size:
        raise StreamError(f"stream: corrupt value {int(values[bad[0]])} (non-zero code {int(bad[0])}); flagged codes "
                          f"lie in [-{limit}, {limit}] and are not zero")
    flat = np.zeros(flags_count, dtype=np.int64)
    flat[flags] = values
    return frame_in_stream_order(flat, components, height, width)


def zero_flag_decode_flagged(stream, components, height, width, bits):
    """What the hardware decoder makes of one frame's bytes, good or not: ``(codes, kind)``.

    The codes are read in stream order; the first thing wrong refuses the
    frame: the frame's bytes end inside the flags or before a flagged code's
    bits (``cut``), a flagged code is 0 or below ``-Q`` (``corrupt_value``),
    bytes remain after the one holding the last code (``over_long``), or a
    padding bit is set (``padding``). The code where a cut or a corrupt
    value is met and every code after it are 0, as the hardware emits them.
    A frame is refused exactly when :func:`zero_flag_decode` raises.

    Returns
    -------
    (numpy.ndarray of int64, shape (components, height, width), str or None)
        The codes and the kind of error (a key of :data:`ERRORS`), None for a
        good frame.
    """
    stream, count, bits = decoder_arguments(stream, components, height, width, bits)
    flat = np.zeros(count, dtype=np.int64)

    def shaped():
        return frame_in_stream_order(flat, components, height, width)

    bitstream = np.unpackbits(stream, bitorder="little")
    if bitstream.size < count:
        return shaped(), "cut"
    flags = bitstream[:count].astype(bool)
    limit = symmetric_limit(bits)
    at = count
    for index in np.flatnonzero(flags).tolist():
        if at + bits > bitstream.size:
            return shaped(), "cut"
        value = int(code_values(bitstream[at:at + bits], bits)[0])
        if value == 0 or value < -limit:
            return shaped(), "corrupt_value"
        flat[index] = value
        at += bits
    if stream.size > -(-at // 8):
        return shaped(), "over_long"
    if np.any(bitstream[at:]):
        return shaped(), "padding"
    return shaped(), None
