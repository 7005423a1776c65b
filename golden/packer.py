"""The compressed stream: bitmap then kept codes (block ``Packer``)."""

from __future__ import annotations

import numpy as np

from ..spec.checks import check_bits
from ..spec.fixed_point import as_int64, symmetric_limit

__all__ = ["pack", "stream_bits"]


def stream_bits(positions, keep, channels, bits):
    """Size in bits of one compressed frame: ``positions + keep * channels * bits``."""
    return positions + keep * channels * bits


def pack(mask, codes, bits):
    """Serialise one frame into the compressed stream.

    The stream is a bit sequence; bit ``j`` lies in byte ``j // 8`` at bit
    ``j % 8`` (LSB first), so any bus width reads it as consecutive LSB-first
    words. It holds:

    1. the bitmap, one bit per padded position in raster order of the Mallat
       layout, 1 where the position is kept;
    2. for every kept position in ascending order, the ``C`` codes of that
       position (channel 0 first), each ``bits`` wide, two's complement, LSB first;
    3. zero bits up to the next byte boundary.

    Parameters
    ----------
    mask : array_like of bool, shape (H', W')
    codes : array_like of int, shape (C, k)
        ``k`` equals the number of set mask bits; each code within ``[-Q, Q]``.
    bits : int

    Returns
    -------
    numpy.ndarray of uint8
        ``ceil(stream_bits / 8)`` bytes.
    """
    bits = check_bits(bits, "bits")
    mask = np.asarray(mask)
    if mask.dtype != np.bool_ or mask.ndim != 2:
        raise ValueError(f"mask: must be a 2-D boolean array, got {mask.dtype} {mask.shape}")
    codes = as_int64(codes, "codes")
    keep = int(mask.sum())
    if codes.ndim != 2 or codes.shape[1] != keep:
        raise ValueError(f"codes: must have shape (C, {keep}) for {keep} kept positions, got {codes.shape}")
    limit = symmetric_limit(bits)
    if np.any(np.abs(codes) > limit):
        raise ValueError(f"codes: must lie in [-{limit}, {limit}] for {bits}-bit codes")
    # Column-major over (C, k): all channels of a position before the next position.
    words = (codes.T.ravel() & ((1 << bits) - 1)).astype(np.uint64)
    value_bits = ((words[:, None] >> np.arange(bits, dtype=np.uint64)) & 1).astype(np.uint8)
    stream = np.concatenate([mask.ravel().astype(np.uint8), value_bits.ravel()])
    return np.packbits(stream, bitorder="little")
