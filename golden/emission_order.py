"""The order in which ``HaarForward`` sends a coefficient frame (block ``HaarForward``, ``hw/emission_order.py``)."""

from functools import lru_cache

import numpy as np

from ..spec.checks import check_levels, check_positive_int

__all__ = ["emission_order"]


def emission_order(padded_height, padded_width, levels):
    """The Mallat positions of a padded frame in the order ``HaarForward`` emits them.

    The transform sends each coefficient once its 2x2 block is complete,
    so the order follows the level-1 blocks in raster order. The pixel that
    completes level-1 block ``(i, j)`` also completes the level-``l`` block
    ``(i >> (l-1), j >> (l-1))`` whenever the low ``l - 1`` bits of ``i``
    and of ``j`` are all ones; that block's top-right, bottom-left and
    bottom-right details follow the level-1 ones, level by level, and the
    coarsest level's LL comes last. Every position carries all channels
    (``channels / lanes`` beats, group 0 first) before the next one.

    Parameters
    ----------
    padded_height, padded_width : int
        Frame size after padding, multiples of ``2**levels``.
    levels : int
        Haar levels.

    Returns
    -------
    numpy.ndarray of int64, shape (padded_height * padded_width,)
        Position indices (``row * padded_width + col`` of the Mallat layout), in emission order;
        a read-only array.
    """
    levels = check_levels(levels)
    height, width = (check_positive_int(v, n) for v, n in ((padded_height, "padded_height"),
                                                            (padded_width, "padded_width")))
    side = 1 << levels
    if height % side or width % side:
        raise ValueError(f"padded size {height}x{width}: must be multiples of 2**levels = {side}")
    return _emission_order(height, width, levels)


@lru_cache(maxsize=32)
def _emission_order(height, width, levels):
    order = []
    for i in range(height // 2):
        for j in range(width // 2):
            level = 1
            while True:
                row, col = i >> (level - 1), j >> (level - 1)
                rows, cols = height >> level, width >> level
                order += [row * width + cols + col, (rows + row) * width + col, (rows + row) * width + cols + col]
                if level == levels:
                    order.append(row * width + col)
                    break
                if not (row & 1 and col & 1):
                    break
                level += 1
    out = np.array(order, dtype=np.int64)
    out.flags.writeable = False
    return out
