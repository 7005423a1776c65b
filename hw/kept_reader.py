"""The kept vectors of a stored compressed frame, read out for the MAC array (golden: ``unpack``'s codes)."""

from dataclasses import dataclass

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.frame import CompressedFrame
from .block_ram import BlockRAM
from .frame_beat import frame_beat
from .memory_ports import read_port, write_port
from .output_queue import OutputQueue
from .pipeline import delay, wrapping_counter
from .spec_component import SpecComponent

__all__ = ["KeptReaderSpec", "KeptReader"]

# Cycles from issuing a code read to its beat at the queue: the read, then the payload register.
CODE_DEPTH = BlockRAM.LATENCY + 1


@dataclass(frozen=True)
class KeptReaderSpec(CompressedFrame):
    """Parameters of a :class:`KeptReader` (see there), validated, and the facts derived from them."""

    @property
    def read_cycles(self):
        """Cycles from ``start`` high to ``done`` high, with the sink always ready (once the output queue is out of
        reset): a read per cycle of the longer of bitmap and codes, the last read's step, the pulse's register."""
        return max(self.mask_words, self.code_words) + 2


class KeptReader(SpecComponent):
    """Reads the frame an :class:`~wccgen.hw.unpacker.Unpacker` holds: codes to the MAC array, bitmap to a copy.

    After ``start`` the code entries are read in order, each only with room
    in the output queue (reads never stall), and leave as ``codes`` beats of
    ``lanes`` codes: the ``keep`` kept vectors, ``channels / lanes`` beats
    each, form one frame (``first`` on the first beat, ``last`` on the final
    one), as :class:`~wccgen.hw.pointwise_mac.PointwiseMAC` takes them.
    Meanwhile the bitmap words are read one per cycle and handed on through
    ``copy_*`` (registered), so that the frame's bitmap outlives the
    Unpacker's hold on it. ``done`` pulses once every read of both has been
    issued: the Unpacker may then take the next frame.

    Parameters
    ----------
    positions, keep, channels, lanes : int
        Geometry of the compressed frame.
    bit_a : int
        Code width.

    Attributes
    ----------
    start : In(1)
    done : Out(1)
    mask_read : Out(read_port(mask_words, lanes * bit_a))
        The unpacker's bitmap memory (data ``BlockRAM.LATENCY`` cycles after the address).
    code_read : Out(read_port(code_words, lanes * bit_a))
        The unpacker's code memory.
    copy_write : Out(write_port(mask_words, lanes * bit_a))
        The bitmap words, in order, into a memory of the next stage.
    codes : Out(stream.Signature(frame_beat(bit_a, lanes)))
    """

    Spec = KeptReaderSpec

    @classmethod
    def members(cls, spec):
        word = spec.lanes * spec.bit_a
        return {
            "start": In(1),
            "done": Out(1),
            "mask_read": Out(read_port(spec.mask_words, word)),
            "code_read": Out(read_port(spec.code_words, word)),
            "copy_write": Out(write_port(spec.mask_words, word)),
            "codes": Out(stream.Signature(frame_beat(spec.bit_a, spec.lanes))),
        }

    def elaborate(self, platform):
        m = Module()
        m.submodules.queue = queue = OutputQueue(self.codes.payload.shape(), CODE_DEPTH)
        wiring.connect(m, queue.o, wiring.flipped(self.codes))

        mask_running, code_running, pending = (Signal(name=n) for n in ("mask_running", "code_running", "pending"))
        with m.If(self.start):
            m.d.sync += [mask_running.eq(1), code_running.eq(1), pending.eq(1)]

        # The bitmap, a word per cycle, into the next stage's copy.
        mask_index, mask_last = wrapping_counter(m, mask_running, self.mask_words, "mask_index")
        with m.If(mask_running & mask_last):
            m.d.sync += mask_running.eq(0)
        m.d.comb += self.mask_read.addr.eq(mask_index)
        m.d.sync += [
            self.copy_write.addr.eq(delay(m, mask_index, BlockRAM.LATENCY, "copy_addr")),
            self.copy_write.en.eq(delay(m, mask_running, BlockRAM.LATENCY, "copy_en")),
            self.copy_write.data.eq(self.mask_read.data),
        ]

        # The codes, an entry per cycle while the queue has room.
        issue = Signal(name="issue")
        m.d.comb += [issue.eq(code_running & queue.room), queue.issue.eq(issue)]
        code_index, code_last = wrapping_counter(m, issue, self.code_words, "code_index")
        code_first = Signal(init=1, name="code_first")
        with m.If(issue):
            m.d.sync += code_first.eq(code_last)
            with m.If(code_last):
                m.d.sync += code_running.eq(0)
        m.d.comb += self.code_read.addr.eq(code_index)
        valid, first, last = (delay(m, v, BlockRAM.LATENCY, f"code_{n}") for v, n in
                              ((issue, "valid"), (code_first, "first"), (code_last, "last")))
        payload = Signal.like(queue.push.payload)
        m.d.sync += [payload.data.eq(self.code_read.data), payload.first.eq(first), payload.last.eq(last),
                     queue.push.valid.eq(valid)]
        m.d.comb += queue.push.payload.eq(payload)

        m.d.sync += self.done.eq(0)
        with m.If(pending & ~mask_running & ~code_running & ~self.start):
            m.d.sync += [self.done.eq(1), pending.eq(0)]
        return m
