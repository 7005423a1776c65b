"""Payload layout of every frame stream: ``lanes`` signed values plus frame flags."""

from amaranth.hdl import signed
from amaranth.lib import data

__all__ = ["frame_beat"]


def frame_beat(width, lanes):
    """Layout of one beat: ``data`` (``lanes`` values of ``signed(width)``), ``first``, ``last``.

    ``first`` marks the first beat of a frame and ``last`` its last beat.
    """
    return data.StructLayout({
        "data": data.ArrayLayout(signed(width), lanes),
        "first": 1,
        "last": 1,
    })
