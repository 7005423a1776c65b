"""The 1x1 convolution on kept coefficient vectors (block ``PointwiseMAC``)."""

from __future__ import annotations

from ..spec.fixed_point import as_int64

__all__ = ["pointwise_mac"]


def pointwise_mac(weights, codes):
    """Multiply-accumulate every kept coefficient vector with the weight matrix.

    ``acc[o, p] = sum_c weights[o, c] * codes[c, p]``, exact in int64.

    Parameters
    ----------
    weights : array_like of int, shape (C_out, C_in)
    codes : array_like of int, shape (C_in, k)

    Returns
    -------
    numpy.ndarray of int64, shape (C_out, k)
    """
    weights = as_int64(weights, "weights")
    codes = as_int64(codes, "codes")
    if weights.ndim != 2 or codes.ndim != 2 or weights.shape[1] != codes.shape[0]:
        raise ValueError(
            f"weights, codes: shapes {weights.shape} and {codes.shape} do not match (C_out, C_in) and (C_in, k)"
        )
    return weights @ codes
