"""The frame the Huffman encoder writes: a ``(C, H, W)`` frame of symbols as bytes (the code: ``golden.huffman``)."""

import numpy as np

from .huffman import encode

__all__ = ["encode_frame"]


def encode_frame(symbols, table):
    """The bytes of one frame of symbols ``(C, H, W)``: position after position (raster order), the channels of
    each, every symbol's codeword (or the escape and its raw bits) under ``table``, the bits packed least
    significant first (:func:`numpy.packbits`, ``bitorder="little"``), the last byte padded with zeros.

    Returns
    -------
    (numpy.ndarray of uint8, int)
        The bytes and the number of code bits in them.
    """
    symbols = np.asarray(symbols)
    if symbols.ndim != 3:
        raise ValueError(f"symbols: must have shape (C, H, W), got {symbols.shape}")
    bits = encode(symbols.reshape(symbols.shape[0], -1).T, table)
    return np.packbits(bits, bitorder="little"), int(bits.size)
