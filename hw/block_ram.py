"""Block RAM with one write port and a registered read port."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["BlockRAM"]


class BlockRAM(wiring.Component):
    """Simple dual-port memory whose read data arrives ``LATENCY`` (3) cycles after the address.

    The stages are the RAM's address register, its output register and a
    register in the fabric: a block RAM's output delay without its output
    register takes most of a 200 MHz cycle, and the route from a RAM to logic
    is long, so only registers follow it. All read stages move only while
    ``read_en`` is high, so a stalled pipeline keeps its data. A write is
    visible to reads from the next cycle on.

    The generic implementation is an Amaranth ``Memory`` plus a register. A
    target platform may provide ``block_ram(ram)`` to build it from device
    primitives (see ``wccgen.hw.ecp5_block_ram``), with the same behaviour.

    Parameters
    ----------
    shape : shape-like
        Shape of one entry (a data layout is fine).
    depth : int
        Number of entries.
    """

    #: Cycles from a read address to its data.
    LATENCY = 3

    def __init__(self, *, shape, depth):
        self.shape = shape
        self.depth = depth
        super().__init__({
            "write_addr": In(range(max(depth, 2))),
            "write_data": In(shape),
            "write_en": In(1),
            "read_addr": In(range(max(depth, 2))),
            "read_en": In(1),
            "read_data": Out(shape),
        })

    def elaborate(self, platform):
        m = Module()
        # The RAM proper delivers its data two cycles after the address.
        ram_data = Signal(self.shape)
        if platform is not None and hasattr(platform, "block_ram"):
            m.submodules.ram = platform.block_ram(self, ram_data)
        else:
            m.submodules.ram = self.elaborate_generic(ram_data)
        with m.If(self.read_en):
            m.d.sync += self.read_data.eq(ram_data)
        return m

    def elaborate_generic(self, read_data):
        """The portable RAM: an inferred memory and a register; ``read_data`` two cycles after the address."""
        m = Module()
        m.submodules.memory = memory = Memory(shape=self.shape, depth=max(self.depth, 2), init=[])
        write, read = memory.write_port(), memory.read_port()
        m.d.comb += [
            write.addr.eq(self.write_addr), write.data.eq(self.write_data), write.en.eq(self.write_en),
            read.addr.eq(self.read_addr), read.en.eq(self.read_en),
        ]
        with m.If(self.read_en):
            m.d.sync += read_data.eq(read.data)
        return m
