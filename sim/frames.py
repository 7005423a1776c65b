"""Frames to beats and back, in the stream order of docs/numerics.md."""

import numpy as np

__all__ = ["beats_to_frame", "frame_to_beats"]


def frame_to_beats(frame, lanes):
    """Beats of a ``(C, H, W)`` frame: raster order, ``C / lanes`` beats per position, group 0 first.

    Returns
    -------
    numpy.ndarray of int64, shape (H * W * C / lanes, lanes)
    """
    frame = np.asarray(frame, dtype=np.int64)
    channels, height, width = frame.shape
    groups = channels // lanes
    # (H, W, groups, lanes) flattened: position-major, then group, then lane.
    ordered = frame.reshape(groups, lanes, height, width).transpose(2, 3, 0, 1)
    return ordered.reshape(-1, lanes)


def beats_to_frame(beats, channels, height, width, lanes):
    """Inverse of :func:`frame_to_beats`; ``beats`` must hold exactly one frame."""
    groups = channels // lanes
    array = np.asarray(beats, dtype=np.int64).reshape(height, width, groups, lanes)
    return array.transpose(2, 3, 0, 1).reshape(channels, height, width)
