"""Payload layouts of the streams: frames of signed values, and compressed words."""

from amaranth.hdl import signed
from amaranth.lib import data

__all__ = ["frame_beat", "lanes_beat", "word_beat"]


def lanes_beat(width, lanes, **fields):
    """Layout of a beat of ``lanes`` values of ``signed(width)`` (``data``), then ``fields`` (name: shape)."""
    return data.StructLayout({"data": data.ArrayLayout(signed(width), lanes), **fields})


def frame_beat(width, lanes):
    """Layout of one beat: ``data`` (``lanes`` values of ``signed(width)``), ``first``, ``last``.

    ``first`` marks the first beat of a frame and ``last`` its last beat.
    """
    return lanes_beat(width, lanes, first=1, last=1)


def word_beat(width):
    """Layout of one beat of a compressed stream: ``data`` (``width`` raw bits, LSB first), ``first``, ``last``."""
    return data.StructLayout({
        "data": width,
        "first": 1,
        "last": 1,
    })
