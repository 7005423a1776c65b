"""Orthonormal multi-level 2-D Haar transform in PyTorch (float, differentiable)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..spec.checks import check_levels
from ..spec.frame import padded_size

__all__ = ["haar_forward_float", "haar_inverse_float", "haar_pyramid_float", "haar_pyramid_inverse", "pyramid_order"]


def haar_forward_float(x, levels):
    """Orthonormal Haar transform of ``(N, C, H, W)``, Mallat layout, zero-padded bottom/right.

    Per level LL=(a+b+c+d)/2 (top-left), (a+b-c-d)/2 (top-right),
    (a-b+c-d)/2 (bottom-left), (a-b-c+d)/2 (bottom-right).
    """
    levels = check_levels(levels)
    if x.dim() != 4:
        raise ValueError(f"x: must have shape (N, C, H, W), got {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"x: empty tensor, shape {tuple(x.shape)}")
    height, width = x.shape[-2:]
    out = F.pad(x, (0, padded_size(width, levels) - width, 0, padded_size(height, levels) - height))
    for level in range(levels):
        h, w = out.shape[-2] >> level, out.shape[-1] >> level
        block = out[..., :h, :w]
        a, b = block[..., 0::2, 0::2], block[..., 0::2, 1::2]
        c, d = block[..., 1::2, 0::2], block[..., 1::2, 1::2]
        top = torch.cat([a + b + c + d, a + b - c - d], dim=-1)
        bottom = torch.cat([a - b + c - d, a - b - c + d], dim=-1)
        block = torch.cat([top, bottom], dim=-2) * 0.5
        out = _replace_corner(out, block)
    return out


def haar_inverse_float(coeffs, levels, height, width):
    """Inverse of :func:`haar_forward_float`, cropped to ``height x width``."""
    levels = check_levels(levels)
    out = coeffs
    for level in range(levels, 0, -1):
        h, w = out.shape[-2] >> level, out.shape[-1] >> level
        ll, top_right = out[..., :h, :w], out[..., :h, w : 2 * w]
        bottom_left, bottom_right = out[..., h : 2 * h, :w], out[..., h : 2 * h, w : 2 * w]
        a = ll + top_right + bottom_left + bottom_right
        b = ll + top_right - bottom_left - bottom_right
        c = ll - top_right + bottom_left - bottom_right
        d = ll - top_right - bottom_left + bottom_right
        # Interleave the four phases back into a 2h x 2w block.
        even_rows = torch.stack([a, b], dim=-1).flatten(-2)
        odd_rows = torch.stack([c, d], dim=-1).flatten(-2)
        block = torch.stack([even_rows, odd_rows], dim=-2).flatten(-3, -2) * 0.5
        out = _replace_corner(out, block)
    return out[..., :height, :width]


def _replace_corner(frame, block):
    """``frame`` with its top-left corner replaced by ``block``, without in-place writes (autograd)."""
    h, w = block.shape[-2:]
    if (h, w) == tuple(frame.shape[-2:]):
        return block
    top = torch.cat([block, frame[..., :h, w:]], dim=-1)
    return torch.cat([top, frame[..., h:, :]], dim=-2)


# -- the same transform by sums and differences, coefficients in "pyramid" order --------------
#
# Training runs the transform many times per step; the Mallat layout above costs
# a copy of the whole frame per level. Here each level is sums and differences
# of the four pixels of every 2x2 block (its inverse the same on the four
# subbands), and the coefficients stay in pyramid order: LL of the last level,
# then H, V, D of level L, ..., of level 1, each subband in raster order.
# `pyramid_order` maps that order to Mallat raster indices, so selection can
# still break ties by Mallat index.


def pyramid_order(padded_height, padded_width, levels):
    """Mallat raster index of every pyramid position, int64 tensor of shape (P,)."""
    pieces = []
    rows, cols = padded_height >> levels, padded_width >> levels
    grid = torch.arange(rows)[:, None] * padded_width + torch.arange(cols)[None, :]
    pieces.append(grid.flatten())
    for level in range(levels, 0, -1):
        rows, cols = padded_height >> level, padded_width >> level
        grid = torch.arange(rows)[:, None] * padded_width + torch.arange(cols)[None, :]
        pieces += [(grid + cols).flatten(), (grid + rows * padded_width).flatten(),
                   (grid + rows * padded_width + cols).flatten()]
    return torch.cat(pieces)


def haar_pyramid_float(x, levels):
    """:func:`haar_forward_float` of ``(N, C, H, W)`` in pyramid order: shape ``(N, C, P)``."""
    levels = check_levels(levels)
    batch, channels, height, width = x.shape
    ll = F.pad(x, (0, padded_size(width, levels) - width, 0, padded_size(height, levels) - height))
    ll = ll.reshape(batch * channels, *ll.shape[-2:])
    details = []
    for _ in range(levels):
        # Sums and differences of the four pixels of every 2x2 block (faster than a strided convolution).
        top, bottom = ll[:, 0::2], ll[:, 1::2]
        a, b, c, d = top[..., 0::2], top[..., 1::2], bottom[..., 0::2], bottom[..., 1::2]
        plus_top, minus_top, plus_bottom, minus_bottom = a + b, a - b, c + d, c - d
        ll = (plus_top + plus_bottom) * 0.5
        details.append(torch.stack([(plus_top - plus_bottom) * 0.5, (minus_top + minus_bottom) * 0.5,
                                    (minus_top - minus_bottom) * 0.5], dim=1).flatten(1))
    pieces = [ll.flatten(1)] + details[::-1]
    return torch.cat(pieces, dim=1).view(batch, channels, -1)


def haar_pyramid_inverse(flat, levels, height, width):
    """Inverse of :func:`haar_pyramid_float` for an ``(N, C, P)`` tensor, cropped to ``height x width``."""
    levels = check_levels(levels)
    batch, channels, _ = flat.shape
    padded_height, padded_width = padded_size(height, levels), padded_size(width, levels)
    flat = flat.reshape(batch * channels, -1)
    rows, cols = padded_height >> levels, padded_width >> levels
    ll = flat[:, :rows * cols].view(-1, rows, cols)
    offset = rows * cols
    for level in range(levels, 0, -1):
        rows, cols = padded_height >> level, padded_width >> level
        bands = flat[:, offset:offset + 3 * rows * cols].view(-1, 3, rows, cols)
        offset += 3 * rows * cols
        top_right, bottom_left, bottom_right = bands[:, 0], bands[:, 1], bands[:, 2]
        plus_ll, minus_ll = ll + top_right, ll - top_right
        plus_d, minus_d = bottom_left + bottom_right, bottom_left - bottom_right
        a, b = (plus_ll + plus_d) * 0.5, (plus_ll - plus_d) * 0.5
        c, d = (minus_ll + minus_d) * 0.5, (minus_ll - minus_d) * 0.5
        # Interleave: a b on even rows, c d on odd rows.
        top = torch.stack([a, b], dim=-1).flatten(-2)
        bottom = torch.stack([c, d], dim=-1).flatten(-2)
        ll = torch.stack([top, bottom], dim=-2).flatten(-3, -2)
    return ll.view(batch, channels, padded_height, padded_width)[..., :height, :width]
