"""TCI's canonical Huffman encoder: one symbol per cycle into a frame's bytes (golden:
``golden.huffman_encoder.encode_frame``)."""

from dataclasses import dataclass

from amaranth.hdl import C, Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..golden.huffman import ESCAPE
from .frame_beat import frame_beat, word_beat
from .huffman_frame import HuffmanFrameSpec
from .output_queue import OutputQueue
from .spec_component import SpecComponent

__all__ = ["HuffmanEncoder", "HuffmanEncoderSpec"]

#: Bits of an output beat: one byte, as the integer model's frames are bytes.
BYTE = 8


def stream_order(code, length):
    """``code``'s ``length`` bits (most significant first on the stream) as an integer whose bit ``i`` is the
    ``i``-th bit sent."""
    return sum(((code >> (length - 1 - i)) & 1) << i for i in range(length))


@dataclass(frozen=True)
class HuffmanEncoderSpec(HuffmanFrameSpec):
    """Parameters of a :class:`HuffmanEncoder` (see there), validated, and the facts derived from them."""

    @property
    def patterns(self):
        """``{symbol: (bits in stream order, length)}`` of every symbol with a codeword."""
        return {key: (stream_order(code, length), length) for key, code, length in self.codewords if key != ESCAPE}

    @property
    def intake_fill(self):
        """Most bits held while a symbol is still taken in: with one byte leaving per cycle, symbols of up to 8
        bits on average flow at one per cycle."""
        return 2 * BYTE - 1

    @property
    def buffer_bits(self):
        """Bits the buffer holds: ``intake_fill`` and the longest symbol."""
        return self.intake_fill + self.window

    @property
    def latency(self):
        """Cycles from a byte's decision to its entry into the output queue."""
        return 1


class HuffmanEncoder(SpecComponent):
    """Encodes frames of symbols under a canonical Huffman code with an escape, one symbol per cycle.

    A frame's ``channels * height * width`` symbols arrive in stream order
    (position after position, the channels of each), ``raw_bits`` wide,
    ``last`` on the final one; its bytes leave as
    ``golden.huffman_encoder.encode_frame`` writes them, ``first`` and
    ``last`` marking the frame's ends, the last byte padded with zeros.
    A frame is what ``last`` ends: one of another length than
    ``channels * height * width`` is still encoded whole, and counted in
    ``miscounted_frames`` (a decoder of this shape would refuse it).

    A symbol is looked up in a table built into the Verilog (its codeword's
    bits in stream order and their count; a symbol without one gets the
    escape and its raw bits, which are wires) and held in a register; the
    buffer takes it at its fill level while that is at most
    ``intake_fill`` and gives a byte to the output queue whenever it holds
    one. After a frame's last symbol the buffer empties, its last byte
    padded, before the next frame's first symbol enters: a few cycles
    between frames.

    Parameters
    ----------
    table : HuffmanTable
        The code (or its fields as a dict).
    channels, height, width : int
        The shape of a frame of symbols.

    Attributes
    ----------
    symbols : In(stream.Signature(frame_beat(raw_bits, 1)))
    stream : Out(stream.Signature(word_beat(8)))
    miscounted_frames : Out(16)
    """

    Spec = HuffmanEncoderSpec

    @classmethod
    def members(cls, spec):
        return {
            "symbols": In(stream.Signature(frame_beat(spec.table.raw_bits, 1))),
            "stream": Out(stream.Signature(word_beat(BYTE))),
            "miscounted_frames": Out(16),
        }

    def elaborate(self, platform):
        m = Module()
        spec, table = self.spec, self.table
        m.submodules.queue = queue = OutputQueue(self.stream.payload.shape(), spec.latency)
        wiring.connect(m, queue.o, wiring.flipped(self.stream))
        window, size = spec.window, spec.buffer_bits

        # The lookup: the symbol's bits in stream order and their count, held until the buffer takes them.
        beat = self.symbols.payload
        symbol = beat.data[0]
        escape_code, escape_length = table.codewords[ESCAPE]
        pattern = Signal(window, name="lookup_bits")
        length = Signal(range(window + 1), name="lookup_length")
        raw_in_order = Cat(*[symbol[i] for i in reversed(range(table.raw_bits))])  # most significant bit first
        mask = (1 << table.raw_bits) - 1
        with m.Switch(symbol.as_unsigned()):
            for key, (bits, count) in spec.patterns.items():
                with m.Case(key & mask):
                    m.d.comb += [pattern.eq(bits), length.eq(count)]
            with m.Default():
                m.d.comb += [pattern.eq(stream_order(escape_code, escape_length) | (raw_in_order << escape_length)),
                             length.eq(escape_length + table.raw_bits)]
        held = Signal(name="held")
        held_bits = Signal(window, name="held_bits")
        held_length = Signal(range(window + 1), name="held_length")
        held_last = Signal(name="held_last")

        buffer = Signal(size, name="buffer")  # stream bit i at bit i; the bits from `fill` up are 0
        fill = Signal(range(size + 1), name="fill")
        flushing = Signal(name="flushing")  # the frame's last symbol is in the buffer
        starting = Signal(name="starting", init=1)  # no byte of this frame has left yet

        # What the loop asks of the fill level (at least 8, not 0, at most 8, at most 15) is registered with it:
        # `emit`, which reaches every bit of the buffer, is then one LUT from registers. The next level's answers
        # are computed for each outcome from the registers, and the outcome chosen last.
        over_byte, nonzero, within_byte, within_intake = (Signal(name=name, init=init) for name, init in (
            ("fill_over_byte", 0), ("fill_nonzero", 0), ("fill_within_byte", 1), ("fill_within_intake", 1)))
        flags = Cat(over_byte, nonzero, within_byte, within_intake)

        def answers(level):
            return Cat(level[3:].any(), level.any(), ~level[4:].any() & ~(level[3] & level[:3].any()),
                       ~level[4:].any())

        # A byte leaves while the buffer holds one (or, at the frame's end, what is left of one) and the queue
        # has room; the held symbol enters at the fill level left after it.
        emit, final, take = Signal(name="emit"), Signal(name="final"), Signal(name="take")
        m.d.comb += [emit.eq((over_byte | (flushing & nonzero)) & queue.room),
                     final.eq(flushing & within_byte),
                     take.eq(held & ~flushing & within_intake)]
        # While a symbol enters, the fill is at most 15: after a byte leaves it enters at fill[:3], else at
        # fill[:4].
        entering = Mux(take, held_bits << fill[:3], 0)
        m.d.sync += buffer.eq(Mux(emit, (buffer >> BYTE) | entering[:size],
                                  buffer | Mux(fill[3], entering << BYTE, entering)[:size]))
        outcomes = {  # the next fill level: byte out or not, symbol in or not, or the frame's last byte out
            "both": fill[:3] + held_length, "byte": fill - BYTE, "symbol": fill + held_length, "neither": fill,
            "empty": C(0, len(fill))}
        levels = {name: Signal.like(fill, name=f"fill_if_{name}") for name in outcomes}
        m.d.comb += [levels[name].eq(value) for name, value in outcomes.items()]

        def chosen(of):
            return Mux(emit, Mux(over_byte, Mux(take, of("both"), of("byte")), of("empty")),
                       Mux(take, of("symbol"), of("neither")))

        m.d.sync += [fill.eq(chosen(lambda name: levels[name])),
                     flags.eq(chosen(lambda name: answers(levels[name])))]
        with m.If(take & held_last):
            m.d.sync += flushing.eq(1)
        with m.If(emit):
            m.d.sync += starting.eq(final)
            with m.If(final):
                m.d.sync += flushing.eq(0)

        m.d.comb += self.symbols.ready.eq(~held | take)
        count = spec.symbols_per_frame
        seen = Signal(range(count + 1), name="seen")  # symbols of this frame so far, saturating
        with m.If(self.symbols.valid & self.symbols.ready):
            m.d.sync += [held.eq(1), held_bits.eq(pattern), held_length.eq(length), held_last.eq(beat.last)]
            with m.If(beat.last):
                m.d.sync += seen.eq(0)
                with m.If(seen != count - 1):
                    m.d.sync += self.miscounted_frames.eq(self.miscounted_frames + 1)
            with m.Elif(seen != count):
                m.d.sync += seen.eq(seen + 1)
        with m.Elif(take):
            m.d.sync += held.eq(0)

        out = queue.push.payload
        m.d.comb += queue.issue.eq(emit)
        m.d.sync += [queue.push.valid.eq(emit), out.data.eq(buffer[:BYTE]), out.first.eq(starting),
                     out.last.eq(final)]
        return m
