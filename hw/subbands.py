"""The Mallat layout in hardware: which subband a position is in, and subband memories.

Every subband of every level lives in its own memory, holding ``banks``
frames back to back. Both the forward and the inverse transform visit each
subband's positions in its own raster order, so a free-running counter that
wraps over all banks is each memory's address.
"""

from amaranth.hdl import Mux, Signal, signed
from amaranth.lib import data
from amaranth.lib.memory import Memory

__all__ = ["DETAILS", "in_subband", "next_bank", "read_registered", "subband_memory", "subbands", "write_in_order"]

#: Detail subbands of a level, by their place in the level's square.
DETAILS = ("top_right", "bottom_left", "bottom_right")


def subbands(levels):
    """Every ``(level, name)`` of a ``levels``-level transform: the details of each level, then the LL."""
    return [(level, name) for level in range(1, levels + 1) for name in DETAILS] + [(levels, "ll")]


def in_subband(row, col, padded_height, padded_width, level, name):
    """True where Mallat position ``(row, col)`` lies in subband ``name`` of ``level``."""
    height, width = padded_height >> level, padded_width >> level
    right, bottom = col >= width, row >= height
    inside = (row < 2 * height) & (col < 2 * width)
    return {
        "top_right": inside & right & ~bottom,
        "bottom_left": inside & bottom & ~right,
        "bottom_right": inside & right & bottom,
        "ll": ~right & ~bottom,
    }[name]


def subband_memory(m, name, width, lanes, depth, banks):
    """A memory of ``banks`` frames of ``depth`` entries, each ``lanes`` signed values."""
    memory = Memory(shape=data.ArrayLayout(signed(width), lanes), depth=banks * depth, init=[])
    m.submodules[f"mem_{name}"] = memory
    return memory


def write_in_order(m, memory, valid, value, name):
    """Write ``value`` at consecutive addresses of ``memory``, wrapping over all banks.

    Returns the address counter (its value is the address being written).
    """
    port = memory.write_port()
    count = Signal(range(memory.depth), name=f"wr_{name}")
    m.d.comb += [port.addr.eq(count), port.data.eq(value), port.en.eq(valid)]
    with m.If(valid):
        m.d.sync += count.eq(Mux(count == memory.depth - 1, 0, count + 1))
    return count


def next_bank(bank, banks):
    """The bank after ``bank``, wrapping after ``banks - 1``."""
    return Mux(bank == banks - 1, 0, bank + 1)


def read_registered(m, memory, addr, en, name):
    """A read port of ``memory`` followed by a register: data two cycles after the address.

    Nothing but a register follows a block RAM's output, because its
    clock-to-output delay alone takes most of a 200 MHz cycle. Both stages
    move only while ``en`` is high, so a stalled pipeline keeps its data.
    """
    port = memory.read_port()
    m.d.comb += [port.addr.eq(addr), port.en.eq(en)]
    data = Signal(memory.shape, name=f"{name}_data")
    with m.If(en):
        m.d.sync += data.eq(port.data)
    return data
