"""A FIFO in block RAM whose head sits in registers."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_positive_int
from .block_ram import BlockRAM
from .output_queue import OutputQueue
from .pipeline import delay, wrapping_counter

__all__ = ["BlockRAMQueue"]

#: Fewest entries: the writer is held off three entries early (its counts lag), and at least one must flow.
MIN_DEPTH = 4


class BlockRAMQueue(wiring.Component):
    """A first-in first-out queue of ``depth`` entries in block RAM, read ahead into a small queue of registers.

    (``amaranth.lib.fifo.SyncFIFOBuffered`` hands the block RAM's output to
    its reader: its 5.8 ns from the clock took most of a 200 MHz cycle
    before any logic.) Entries are read from the :class:`BlockRAM` as soon as
    they are written and the :class:`OutputQueue` behind it has room, so the
    head is always a register; an entry's slot is written again only after
    its read is done. ``w.ready`` comes from a register.

    Parameters
    ----------
    shape : shape-like
        Shape of an entry (a data layout).
    depth : int
        Entries the block RAM holds (the output queue holds a few more).

    Attributes
    ----------
    w : In(stream.Signature(shape))
    r : Out(stream.Signature(shape))
    """

    def __new__(cls, shape, depth):
        # Refused before the component exists: no unused elaboratable is left behind.
        if check_positive_int(depth, "depth") < MIN_DEPTH:
            raise ValueError(f"depth: must be at least {MIN_DEPTH}, got {depth}")
        return super().__new__(cls, src_loc_at=1)

    def __init__(self, shape, depth):
        self.shape = shape
        self.depth = depth
        super().__init__({"w": In(stream.Signature(shape)), "r": Out(stream.Signature(shape))})

    def elaborate(self, platform):
        m = Module()
        depth = self.depth
        m.submodules.ram = ram = BlockRAM(shape=self.shape, depth=depth)
        m.submodules.queue = queue = OutputQueue(self.shape, BlockRAM.LATENCY + 1)
        wiring.connect(m, queue.o, wiring.flipped(self.r))
        write, issue = Signal(name="write"), Signal(name="issue")
        write_pointer, _ = wrapping_counter(m, write, depth, "write_pointer")
        read_pointer, _ = wrapping_counter(m, issue, depth, "read_pointer")
        # Entries written and not yet read out; entries whose slot is not free again (a slot frees once its read
        # has passed the RAM).
        unread = Signal(range(depth + 1), name="unread")
        waiting = Signal(name="waiting")  # unread != 0, a register decided with the count
        occupied = Signal(range(depth + 1), name="occupied")
        # The counts take a write a cycle late, through a register (the writer's `valid` may come through logic),
        # so `occupied` may lag by one write and `ready`, registered, by one more: it leaves room for both.
        written = Signal(name="written")
        freed = delay(m, issue, BlockRAM.LATENCY, "freed")
        ready = Signal(name="ready", init=1)
        m.d.comb += [self.w.ready.eq(ready), write.eq(self.w.valid & ready),
                     issue.eq(waiting & queue.room)]
        m.d.sync += [written.eq(write), occupied.eq(occupied + written - freed), ready.eq(occupied <= depth - 3)]
        for came in (0, 1):
            for left in (0, 1):
                with m.If((written == came) & (issue == left)):
                    m.d.sync += [unread.eq(unread + (came - left)), waiting.eq(unread != left - came)]
        m.d.comb += [ram.write_addr.eq(write_pointer), ram.write_data.eq(self.w.payload), ram.write_en.eq(write),
                     ram.read_addr.eq(read_pointer), queue.issue.eq(issue)]
        m.d.sync += queue.push.payload.eq(ram.read_data)
        m.d.comb += queue.push.valid.eq(delay(m, issue, BlockRAM.LATENCY + 1, "read"))
        return m
