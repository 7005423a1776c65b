"""Kept vectors back into a full frame, zeros elsewhere (golden: ``golden.scatter``)."""

from dataclasses import dataclass

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_keep, check_lanes, check_positive_int, check_word_bits, set_validated
from .block_ram import BlockRAM
from .frame_beat import frame_beat
from .memory_ports import read_port
from .output_queue import OutputQueue
from .pipeline import delay
from .raster import raster_position
from .spec_component import SpecComponent

__all__ = ["ScatterSpec", "Scatter"]

# Cycles from issuing a beat to its mask bit: mask word read, then the bit's multiplexer.
MASK_DEPTH = BlockRAM.LATENCY + 1
# From the bit to the values: address register, value read.
VALUE_DEPTH = 1 + BlockRAM.LATENCY


@dataclass(frozen=True)
class ScatterSpec:
    """Parameters of a :class:`Scatter` or a :class:`~wccgen.hw.scatter_buffer.ScatterBuffer` (see there),
    validated, and the facts derived from them."""

    padded_height: int
    padded_width: int
    channels: int
    lanes: int
    value_bits: int
    word_bits: int
    keep: int

    def __post_init__(self):
        set_validated(self, **{name: check_positive_int(getattr(self, name), name)
                               for name in ("padded_height", "padded_width", "channels", "word_bits")})
        set_validated(self, lanes=check_lanes(self.lanes, self.channels),
                      value_bits=check_word_bits(self.value_bits, "value_bits"),
                      keep=check_keep(self.keep, self.positions))

    @property
    def positions(self):
        """Positions of a padded frame."""
        return self.padded_height * self.padded_width

    @property
    def mask_words(self):
        """Bitmap words of one frame."""
        return -(-self.positions // self.word_bits)

    @property
    def mask_entry_bits(self):
        """Width of an entry of the bitmap memory: a word."""
        return self.word_bits

    @property
    def sum_entries(self):
        """Value memory entries of one frame: a beat of ``lanes`` values each."""
        return self.keep * self.groups

    @property
    def groups(self):
        """Beats per position."""
        return self.channels // self.lanes

    @property
    def beats(self):
        """Output beats per frame."""
        return self.positions * self.groups

    @property
    def done_cycles(self):
        """Cycles from ``start`` to ``done`` with the sink always ready: the beats, then the reads' drain."""
        return self.beats + MASK_DEPTH + 2


class Scatter(SpecComponent):
    """Emits a ``channels x padded_height x padded_width`` frame from a stored bitmap and kept vectors.

    Reads memories that hold one frame (as :class:`~wccgen.hw.unpacker.Unpacker`
    leaves them): the bitmap in words of ``word_bits`` bits, and the kept
    vectors in ascending position order, one entry per beat of ``lanes``
    values of ``value_bits`` bits. After ``start`` every position is visited
    in raster order, ``channels / lanes`` beats each: a kept position's
    beats are its entries, the others zeros. Reads never stall; they are
    issued only with room in the output queue. ``done`` pulses when the last
    read of both memories has been issued (the memories may then be rewritten).

    Parameters
    ----------
    padded_height, padded_width, channels, lanes : int
    value_bits : int
        Width of one value (signed).
    word_bits : int
        Width of a bitmap word.
    keep : int
        Kept positions per frame.

    Attributes
    ----------
    start : In(1)
    done : Out(1)
    mask_read : Out(read_port(mask_words, word_bits))
    value_read : Out(read_port(keep * channels / lanes, lanes * value_bits))
    values : Out(stream.Signature(frame_beat(value_bits, lanes)))
    """

    Spec = ScatterSpec

    @classmethod
    def members(cls, spec):
        return {
            "start": In(1),
            "done": Out(1),
            "mask_read": Out(read_port(spec.mask_words, spec.word_bits)),
            "value_read": Out(read_port(spec.sum_entries, spec.lanes * spec.value_bits)),
            "values": Out(stream.Signature(frame_beat(spec.value_bits, spec.lanes))),
        }

    def elaborate(self, platform):
        m = Module()
        groups, w = self.groups, self.word_bits
        queue = OutputQueue(self.values.payload.shape(), MASK_DEPTH + VALUE_DEPTH + 1)
        m.submodules.queue = queue
        wiring.connect(m, queue.o, wiring.flipped(self.values))

        running = Signal(name="running")
        issue = Signal(name="issue")
        m.d.comb += [issue.eq(running & queue.room), queue.issue.eq(issue)]
        out = raster_position(m, issue, self.padded_height, self.padded_width, groups, "out")
        with m.If(self.start):
            m.d.sync += running.eq(1)
        with m.Elif(issue & out.frame_last):
            m.d.sync += running.eq(0)
        # The last value read follows the last mask read by the mask's depth and the entry counter.
        m.d.sync += self.done.eq(delay(m, issue & out.frame_last, MASK_DEPTH + 1, "reads_issued"))

        # The bitmap word and the bit within it, counted along.
        word_index = Signal.like(self.mask_read.addr, name="mask_word")
        bit_index = Signal(range(w), name="mask_bit")
        with m.If(issue & out.group_last):
            with m.If(out.frame_last):
                m.d.sync += [word_index.eq(0), bit_index.eq(0)]
            with m.Elif(bit_index == w - 1):
                m.d.sync += [word_index.eq(word_index + 1), bit_index.eq(0)]
            with m.Else():
                m.d.sync += bit_index.eq(bit_index + 1)
        m.d.comb += self.mask_read.addr.eq(word_index)
        bit_at, valid, group_last, first, last = (
            delay(m, v, BlockRAM.LATENCY, f"mask_{n}") for v, n in
            ((bit_index, "bit"), (issue, "valid"), (out.group_last, "group_last"), (out.first, "first"),
             (out.frame_last, "last")))
        kept = Signal(name="kept")
        m.d.sync += kept.eq(self.mask_read.data.bit_select(bit_at, 1))
        valid, group_last, first, last = (delay(m, v, 1, f"bit_{n}") for v, n in
                                          ((valid, "valid"), (group_last, "group_last"), (first, "first"),
                                           (last, "last")))
        # A kept position's entries follow one another: a counter is the address.
        entry = Signal.like(self.value_read.addr, name="value_entry")
        with m.If(valid & kept):
            m.d.sync += entry.eq(Mux(last, 0, entry + 1))
        with m.Elif(valid & last):
            m.d.sync += entry.eq(0)
        m.d.sync += self.value_read.addr.eq(entry)
        kept, valid, first, last = (delay(m, v, VALUE_DEPTH, f"value_{n}") for v, n in
                                    ((kept, "kept"), (valid, "valid"), (first, "first"), (last, "last")))
        payload = Signal.like(queue.push.payload)
        for lane in range(self.lanes):
            bits = self.value_read.data[lane * self.value_bits:(lane + 1) * self.value_bits]
            m.d.sync += payload.data[lane].eq(Mux(kept, bits.as_signed(), 0))
        m.d.sync += [payload.first.eq(first), payload.last.eq(last), queue.push.valid.eq(valid)]
        m.d.comb += queue.push.payload.eq(payload)
        return m
