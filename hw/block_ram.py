"""Block RAM with one write port and a registered read port."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

__all__ = ["BlockRAM", "RAM_PORT"]

#: Attributes of the registers between a BlockRAM's ports and its RAM (``gen/synth.py`` marks them ``keep``).
RAM_PORT = {"wccgen_ram_port": 1}


class BlockRAM(wiring.Component):
    """Simple dual-port memory, read ``LATENCY`` (4) cycles after the address, written one cycle late.

    The read stages are an input register, the RAM's address register, its
    output register and a register in the fabric; writes pass an input
    register too. A design spreads its block RAMs over the whole device, so
    every signal to or from one crosses the chip: each gets a cycle of its own
    and no logic. (A block RAM's output delay without its output register
    would also take most of a 200 MHz cycle.) Reads never stall: a pipeline
    around a ``BlockRAM`` absorbs backpressure at its end (see
    :class:`~wccgen.hw.output_queue.OutputQueue`). A write is visible to
    reads requested from the next cycle on.

    The generic implementation is an Amaranth ``Memory`` plus registers. A
    target platform may provide ``block_ram(ram, read_data)`` to build the RAM
    from device primitives (see :mod:`wccgen.hw.ecp5_block_ram`) with the same
    behaviour.

    Parameters
    ----------
    shape : shape-like
        Shape of one entry (a data layout is fine).
    depth : int
        Number of entries.
    """

    #: Cycles from a read address to its data.
    LATENCY = 4

    def __init__(self, *, shape, depth):
        self.shape = shape
        self.depth = depth
        super().__init__({
            "write_addr": In(range(max(depth, 2))),
            "write_data": In(shape),
            "write_en": In(1),
            "read_addr": In(range(max(depth, 2))),
            "read_data": Out(shape),
        })
        # The RAM proper sees these registered copies of the ports.
        self.ram_write_addr = Signal.like(self.write_addr, name="ram_write_addr", attrs=RAM_PORT)
        self.ram_write_data = Signal.like(self.write_data, name="ram_write_data", attrs=RAM_PORT)
        self.ram_write_en = Signal(name="ram_write_en", attrs=RAM_PORT)
        self.ram_read_addr = Signal.like(self.read_addr, name="ram_read_addr", attrs=RAM_PORT)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += [
            self.ram_write_addr.eq(self.write_addr), self.ram_write_data.eq(self.write_data),
            self.ram_write_en.eq(self.write_en), self.ram_read_addr.eq(self.read_addr),
        ]
        # The RAM proper delivers its data two cycles after its (registered) address.
        ram_data = Signal(self.shape)
        if platform is not None and hasattr(platform, "block_ram"):
            m.submodules.ram = platform.block_ram(self, ram_data)
        else:
            m.submodules.ram = self.elaborate_generic(ram_data)
        m.d.sync += self.read_data.eq(ram_data)
        return m

    def elaborate_generic(self, read_data, attrs=None):
        """The portable RAM: an inferred memory (with ``attrs``) and a register; ``read_data`` two cycles after the
        address."""
        m = Module()
        m.submodules.memory = memory = Memory(shape=self.shape, depth=max(self.depth, 2), init=[], attrs=attrs)
        write, read = memory.write_port(), memory.read_port()
        m.d.comb += [
            write.addr.eq(self.ram_write_addr), write.data.eq(self.ram_write_data), write.en.eq(self.ram_write_en),
            read.addr.eq(self.ram_read_addr),
        ]
        m.d.sync += read_data.eq(read.data)
        return m
