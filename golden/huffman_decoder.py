"""What the Huffman decoder makes of a frame's bytes, good or not (the code: ``golden.huffman``)."""

from .huffman import decode_frame_flagged

__all__ = ["decode_frame_symbols"]


def decode_frame_symbols(stream, table, shape):
    """The ``(C, H, W)`` frame of symbols ``shape`` names, read from one frame's bytes as
    :func:`~wccgen.golden.huffman_encoder.encode_frame` writes them, and what is wrong with the frame.

    Returns
    -------
    (numpy.ndarray of int64, str or None)
        The symbols (those after a cut or a bad codeword are 0, as the
        hardware emits them) and the kind of error
        (:data:`~wccgen.golden.huffman.ERRORS`), None for a good frame.
    """
    channels, height, width = shape
    symbols, kind = decode_frame_flagged(stream, channels * height * width, table)
    return symbols.reshape(height * width, channels).T.reshape(channels, height, width).copy(), kind
