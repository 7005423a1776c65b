"""Orthonormal multi-level 2-D Haar transform in PyTorch (float, differentiable)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .config import check_levels, padded_size

__all__ = ["haar_forward_float", "haar_inverse_float"]


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
