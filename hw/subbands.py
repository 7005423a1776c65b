"""The Mallat layout in hardware: which subband a position is in, and subband memories.

In ``HaarInverse`` every subband of every level lives in its own memory,
holding ``banks`` frames back to back. Each subband's positions are visited
in its own raster order, so a free-running counter that wraps over all
banks is each memory's address. (``HaarForward`` keeps no subband memory:
it sends each coefficient once its block is complete, ``hw/emission_order.py``.)
"""

from amaranth.hdl import Array, Cat, Mux, Signal, signed
from amaranth.lib import data

from .block_ram import BlockRAM
from .pipeline import RELAY

__all__ = ["DETAILS", "bank_flags", "bank_gate", "mallat_region", "next_bank", "read_bank_control", "read_registered",
           "subband_memory", "subbands", "write_in_order"]

#: Detail subbands of a level, by their place in the level's square.
DETAILS = ("top_right", "bottom_left", "bottom_right")


def subbands(levels):
    """Every ``(level, name)`` of a ``levels``-level transform: the details of each level, then the LL."""
    return [(level, name) for level in range(1, levels + 1) for name in DETAILS] + [(levels, "ll")]


def mallat_region(m, step, position, padded_height, padded_width, levels, name):
    """Which subband a raster counter's current position lies in, from two small zone registers.

    The column zone counts the subband boundaries (``W' >> L``, ``W' >> (L-1)``,
    ..., ``W' >> 1``) the column has passed, the row zone likewise; both
    follow ``position`` (a :class:`RasterPosition` advancing with ``step``)
    one equality test at a time, so the decode below is a few LUTs deep
    whatever the frame size.

    Returns
    -------
    dict
        ``(level, name) -> Value``, true for the current position's subband.
    """
    row_zone = Signal(range(levels + 1), name=f"{name}_row_zone")
    col_zone = Signal(range(levels + 1), name=f"{name}_col_zone")
    col_edge = Cat(position.col == (padded_width >> k) - 1 for k in range(levels, 0, -1)).any()
    row_edge = Cat(position.row == (padded_height >> k) - 1 for k in range(levels, 0, -1)).any()
    with m.If(step & position.group_last):
        with m.If(position.row_last):
            m.d.sync += col_zone.eq(0)
            with m.If(position.frame_last):
                m.d.sync += row_zone.eq(0)
            with m.Elif(row_edge):
                m.d.sync += row_zone.eq(row_zone + 1)
        with m.Elif(col_edge):
            m.d.sync += col_zone.eq(col_zone + 1)
    region = {(levels, "ll"): (row_zone == 0) & (col_zone == 0)}
    for level in range(1, levels + 1):
        zone = levels - level + 1
        region[level, "top_right"] = (col_zone == zone) & (row_zone < zone)
        region[level, "bottom_left"] = (row_zone == zone) & (col_zone < zone)
        region[level, "bottom_right"] = (row_zone == zone) & (col_zone == zone)
    return region


def subband_memory(m, name, width, lanes, depth, banks):
    """A :class:`BlockRAM` of ``banks`` frames of ``depth`` entries, each ``lanes`` signed values."""
    ram = BlockRAM(shape=data.ArrayLayout(signed(width), lanes), depth=banks * depth)
    m.submodules[f"mem_{name}"] = ram
    return ram


def write_in_order(m, ram, valid, value, name):
    """Write ``value`` at consecutive addresses of ``ram``, wrapping over all banks.

    The write is relayed through a register of this memory's own (the
    memories are spread over the device), then counted here.

    Returns
    -------
    (Signal, Signal)
        The address counter and the relayed valid: the entry being written is
        ``count`` whenever ``written`` is high.
    """
    valid_relay = Signal(name=f"wr_{name}_relay_valid", attrs=RELAY)
    value_relay = Signal.like(value, name=f"wr_{name}_relay_data", attrs=RELAY)
    m.d.sync += [valid_relay.eq(valid), value_relay.eq(value)]
    count = Signal(range(ram.depth), name=f"wr_{name}")
    m.d.comb += [ram.write_addr.eq(count), ram.write_data.eq(value_relay), ram.write_en.eq(valid_relay)]
    with m.If(valid_relay):
        m.d.sync += count.eq(Mux(count == ram.depth - 1, 0, count + 1))
    return count, valid_relay


def bank_flags(banks):
    """Per-bank ``loaded`` (from a frame's first beat in) and ``complete`` (its last write) flags.

    Both clear when the frame has been read out (:func:`read_bank_control`).
    """
    loaded = Array(Signal(name=f"loaded{b}") for b in range(banks))
    complete = Array(Signal(name=f"complete{b}") for b in range(banks))
    return loaded, complete


def bank_gate(m, step, position, loaded, bank, banks, name):
    """Whether a frame's next beat may enter: always within a frame, at its start only into a free bank.

    Both terms come from registers (one cycle behind the bank flags), so the
    gate is one LUT between flip-flops and the stream's ``ready``.

    Parameters
    ----------
    step : Value
        A beat enters this cycle.
    position : RasterPosition
        The entering beats' counter.
    loaded : Array of Signal
        Per bank: holds a frame that has not been read out yet.
    bank : Signal
        The bank the entering frame goes to; advances after the frame's last beat.
    """
    at_first = Signal(init=1, name=f"{name}_at_first")
    free = Signal(name=f"{name}_bank_free")
    upcoming = Mux(step & position.frame_last, next_bank(bank, banks), bank)
    m.d.sync += free.eq(~loaded[upcoming])
    with m.If(step):
        m.d.sync += at_first.eq(position.frame_last)
    return ~at_first | free


def read_bank_control(m, last_issued, banks, loaded, complete):
    """Track the bank being read out; return whether it may be read, from a register.

    ``last_issued`` marks the issue of a frame's last read. The bank then
    moves on, and its flags clear a cycle later, off the read counters' path
    (a bank freed a cycle late only makes its next frame wait that cycle).
    The read side keeps its own copy of the ``complete`` flags, a cycle
    late, each cleared at once when its bank's last read is issued: the
    flags are set by the write side, far away on the device, and the issue
    logic then only meets registers of its own. The returned flag is the
    current bank's copy one cycle late, switching to the next bank's with
    the last read: a frame becoming complete is seen two cycles late, a
    finished one never again.
    """
    read_bank = Signal(range(banks), name="read_bank")
    can_read = Signal(name="read_ready")
    done = Signal(name="read_done")
    done_bank = Signal.like(read_bank, name="read_done_bank")
    seen = Array(Signal(name=f"complete_seen{b}") for b in range(banks))
    for bank in range(banks):
        finished = (last_issued & (read_bank == bank)) | (done & (done_bank == bank))
        m.d.sync += seen[bank].eq(complete[bank] & ~finished)
    upcoming = Mux(last_issued, next_bank(read_bank, banks), read_bank)
    m.d.sync += [read_bank.eq(upcoming), can_read.eq(seen[upcoming])]
    m.d.sync += [done.eq(last_issued), done_bank.eq(read_bank)]
    with m.If(done):
        m.d.sync += [loaded[done_bank].eq(0), complete[done_bank].eq(0)]
    return can_read


def next_bank(bank, banks):
    """The bank after ``bank``, wrapping after ``banks - 1``."""
    return Mux(bank == banks - 1, 0, bank + 1)


def read_registered(m, ram, addr):
    """Read ``ram`` at ``addr``; the data arrives ``BlockRAM.LATENCY`` cycles later."""
    m.d.comb += ram.read_addr.eq(addr)
    return ram.read_data
