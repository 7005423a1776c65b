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
from .pipeline import RELAY
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
        """Cycles from a byte's decision to its entry into the output queue: the buffer follows the decisions a
        cycle later."""
        return 2


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
        held_low = Signal(3, name="held_length_low")  # the length's bits below a byte, and
        held_bytes = Signal(window // BYTE, name="held_length_bytes")  # its whole bytes, as a thermometer
        held_last = Signal(name="held_last")

        # The fill level (bits in the buffer) is `within` bits into whole byte `bytes_in`; `bytes_in` is kept as a
        # thermometer, `at_least[k]` meaning at least k whole bytes (`at_least[0]` is always 1). The comparisons
        # the loop asks (a byte held, at most 8, at most 15) are then bits, and the next level is chosen among a
        # few shifts of the thermometer rather than compared after an add.
        depth = size // BYTE
        within = Signal(3, name="fill_within")
        within_any = Signal(name="fill_within_nonzero")  # registered with it: `emit` is then one LUT
        at_least = [C(1, 1)] + [Signal(name=f"fill_at_least_{k}_bytes") for k in range(1, depth + 1)]
        flushing = Signal(name="flushing")  # the frame's last symbol is in the buffer
        starting = Signal(name="starting", init=1)  # no byte of this frame has left yet

        def thermometer(index):
            return at_least[index] if index <= depth else C(0, 1)

        def bytes_at_least(count):  # of the held symbol
            return C(1, 1) if count <= 0 else held_bytes[count - 1] if count <= len(held_bytes) else C(0, 1)

        # A byte leaves while the buffer holds one (or, at the frame's end, what is left of one) and the queue
        # has room; the held symbol enters after it while the fill level is at most 15.
        emit, final, take = Signal(name="emit"), Signal(name="final"), Signal(name="take")
        m.d.comb += [emit.eq((at_least[1] | (flushing & within_any)) & queue.room),
                     final.eq(flushing & (~at_least[1] | (~thermometer(2) & ~within_any))),
                     take.eq(held & ~flushing & ~thermometer(2))]
        # A symbol enters only at a level of at most 15 (`bytes_in` 0 or 1) and not while flushing, when a whole
        # byte leaves exactly if one is held and the queue has room. What it adds is then its whole bytes, one
        # more if the bits below a byte carry, and the byte held if none leaves; these are written out from the
        # registers, not derived from `emit`, to keep the loop short.
        added = Signal(4, name="fill_within_plus_length")
        m.d.comb += added.eq(within + held_low)
        carry, kept = added[3], at_least[1] & ~queue.room
        for k in range(1, depth + 1):
            entered = bytes_at_least(k) | (bytes_at_least(k - 1) & (carry | kept)) | \
                (bytes_at_least(k - 2) & carry & kept)
            # Without a symbol, a byte out (whole, or the frame's last part of one, after which all is 0)
            # moves the thermometer down by one.
            m.d.sync += at_least[k].eq(Mux(take, entered, Mux(emit, thermometer(k + 1), at_least[k])))
        partial = ~at_least[1] & flushing & queue.room  # the frame's last bits leave (or none were left)
        m.d.sync += [within.eq(Mux(take, added[:3], Mux(partial, 0, within))),
                     within_any.eq(Mux(take, added[:3].any(), Mux(partial, 0, within_any)))]
        with m.If(take & held_last):
            m.d.sync += flushing.eq(1)
        with m.If(emit):
            m.d.sync += starting.eq(final)
            with m.If(final):
                m.d.sync += flushing.eq(0)

        m.d.comb += self.symbols.ready.eq(~held | take)
        with m.If(self.symbols.valid & self.symbols.ready):
            m.d.sync += [held.eq(1), held_bits.eq(pattern), held_low.eq(length[:3]),
                         held_bytes.eq(Cat(*(length >= BYTE * k for k in range(1, window // BYTE + 1)))),
                         held_last.eq(beat.last)]
        with m.Elif(take):
            m.d.sync += held.eq(0)

        # Symbols are counted a cycle after they are taken in, so the count is not behind the handshake.
        count = spec.symbols_per_frame
        seen = Signal(range(count + 1), name="seen")  # symbols of this frame so far, saturating
        accepted, accepted_last = Signal(name="accepted"), Signal(name="accepted_last")
        m.d.sync += [accepted.eq(self.symbols.valid & self.symbols.ready), accepted_last.eq(beat.last)]
        with m.If(accepted):
            with m.If(accepted_last):
                m.d.sync += seen.eq(0)
                with m.If(seen != count - 1):
                    m.d.sync += self.miscounted_frames.eq(self.miscounted_frames + 1)
            with m.Elif(seen != count):
                m.d.sync += seen.eq(seen + 1)

        # The buffer follows the decisions a cycle later, from registers: the held symbol already shifted to the
        # bits below a byte of the level, and relays per byte of the buffer of whether a byte leaves, whether the
        # symbol enters, and whether a byte higher (one is held and none leaves). A byte is pushed the cycle its
        # decision reaches the buffer, from the bits that were in before.
        buffer = Signal(size, name="buffer")  # stream bit i at bit i; the bits from the fill level up are 0
        placed = Signal(size, name="entering_placed")
        m.d.sync += placed.eq((held_bits << within)[:size])
        for group, low in enumerate(range(0, size, BYTE)):
            emits = Signal(name=f"emit_relay_{group}", attrs=RELAY)
            enters = Signal(name=f"take_relay_{group}", attrs=RELAY)
            higher = Signal(name=f"enter_higher_relay_{group}", attrs=RELAY)
            m.d.sync += [emits.eq(emit), enters.eq(take), higher.eq(kept)]
            updated = Mux(emits, buffer >> BYTE, buffer) | Mux(enters, Mux(higher, placed << BYTE, placed), 0)[:size]
            m.d.sync += buffer[low:low + BYTE].eq(updated[low:low + BYTE])

        out = queue.push.payload
        pushed, first, last = (Signal(name=name) for name in ("emitted", "emitted_first", "emitted_last"))
        m.d.sync += [pushed.eq(emit), first.eq(starting), last.eq(final)]
        m.d.comb += queue.issue.eq(emit)
        m.d.sync += [queue.push.valid.eq(pushed), out.data.eq(buffer[:BYTE]), out.first.eq(first),
                     out.last.eq(last)]
        return m
