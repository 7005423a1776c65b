"""Frames to beats and back, in the stream order of docs/numerics.md."""

import numpy as np

from ..hw.axi_stream_ports import axi_lane_bits

__all__ = ["axi_bytes_to_beats", "beats_to_axi_bytes", "beats_to_frame", "frame_to_beats"]


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


def beats_to_axi_bytes(beats, width):
    """The bytes of ``beats`` (``(count, lanes)`` signed values of ``width`` bits) on an AXI4-Stream ``tdata``:
    beat after beat, lane 0 first, each value little-endian in two's complement over its whole bytes
    (:func:`~wccgen.hw.axi_stream_ports.axi_lane_bits`)."""
    size = axi_lane_bits(width) // 8
    values = np.asarray(beats, dtype=np.int64).ravel()
    if values.size and (values.min() < -(1 << (width - 1)) or values.max() >= 1 << (width - 1)):
        raise ValueError(f"beats: values must fit {width} signed bits")
    unsigned = values & ((1 << (8 * size)) - 1)
    return bytes((unsigned[:, None] >> (8 * np.arange(size))).astype(np.uint8).ravel().tolist())


def axi_bytes_to_beats(data, lanes, width):
    """Inverse of :func:`beats_to_axi_bytes`: ``(beats, padding_ok)``, the beats as ``(count, lanes)`` values
    of their low ``width`` bits, and whether every value's bits above them repeat its sign (as AXI4-Stream
    pads a signed value)."""
    size = axi_lane_bits(width) // 8
    raw = np.frombuffer(bytes(data), dtype=np.uint8).astype(np.int64)
    if raw.size % (size * lanes):
        raise ValueError(f"data: {raw.size} bytes are not whole beats of {lanes} lane(s) of {size} byte(s)")
    words = (raw.reshape(-1, size) << (8 * np.arange(size))).sum(axis=1)
    full = 8 * size
    extended = np.where(words >= 1 << (full - 1), words - (1 << full), words)
    values = (words & ((1 << width) - 1))
    values = np.where(values >= 1 << (width - 1), values - (1 << width), values)
    return values.reshape(-1, lanes), bool(np.array_equal(values, extended))
