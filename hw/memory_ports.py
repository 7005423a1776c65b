"""Signatures of the memory ports one block lends another (modelled on ``amaranth.lib.memory.ReadPort.Signature``).

The block that holds the memory takes the port flipped (``In``); the block
that reads or writes through it has it as is (``Out``), and a parent joins the
two with ``wiring.connect``. Reads return their word ``BlockRAM.LATENCY``
cycles after the address, as the holder's memories do.
"""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["read_port", "write_port"]


def read_port(depth, width):
    """A read port of ``depth`` words of ``width`` bits, seen from the reader: ``addr`` out, ``data`` in."""
    return wiring.Signature({"addr": Out(range(max(depth, 2))), "data": In(width)})


def write_port(depth, width):
    """A write port of ``depth`` words of ``width`` bits, seen from the writer: ``addr``, ``data`` and ``en`` out."""
    return wiring.Signature({"addr": Out(range(max(depth, 2))), "data": Out(width), "en": Out(1)})
