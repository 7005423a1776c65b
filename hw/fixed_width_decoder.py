"""CAP's fixed-width decoder: a frame's bytes into one code per cycle, cut and corrupt frames flagged (golden:
``golden.fixed_width_coder.fixed_width_decode_flagged``)."""

from dataclasses import dataclass

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..golden.fixed_width_coder import ERRORS
from .code_frame import FixedWidthFrameSpec
from .frame_beat import frame_beat, word_beat
from .output_queue import OutputQueue
from .pipeline import wrapping_counter
from .spec_component import SpecComponent

__all__ = ["FixedWidthDecoder", "FixedWidthDecoderSpec"]

#: Bits of a stream beat: one byte, as the integer model's frames are bytes.
BYTE = 8
#: Bits the decoder holds: fewer than a byte's worth left after a code, then a byte.
HELD_BITS = 2 * BYTE - 1


@dataclass(frozen=True)
class FixedWidthDecoderSpec(FixedWidthFrameSpec):
    """Parameters of a :class:`FixedWidthDecoder` (see there), validated, and the facts derived from them."""


class FixedWidthDecoder(SpecComponent):
    """Decodes frames of CAP's fixed-width format into coefficient codes, one per cycle.

    A frame's bytes arrive as ``golden.fixed_width_coder.fixed_width_encode``
    writes them, its last byte marked ``last``; its ``components * height *
    width`` codes leave in stream order (position after position, the
    components of each), ``bits`` wide, ``first`` and ``last`` marking the
    frame's ends. A byte is taken whenever the bits held, less the code
    leaving, are fewer than a byte: a code leaves every cycle while the
    bytes keep up.

    A frame is refused exactly as ``golden.fixed_width_coder.fixed_width_decode``
    raises, and its codes are those of
    ``golden.fixed_width_coder.fixed_width_decode_flagged``, which names the
    kind: cut short (``last`` before a code's last bit), a code of
    ``-2**(bits-1)``, bytes after the one holding the last code
    (over-long), or a non-zero padding bit. A refused frame still has all
    its codes emitted (from a cut or corrupt code on, 0), so what follows
    stays in step; ``refused_frames`` counts it and ``last_error`` holds its
    kind (:data:`~wccgen.golden.fixed_width_coder.ERRORS`). Bytes of a frame
    after what it needs are dropped up to its ``last``: nothing waits on a
    corrupt stream.

    Parameters
    ----------
    components, height, width : int
        The shape of a frame of codes.
    bits : int
        Width of a code.

    Attributes
    ----------
    stream : In(stream.Signature(word_beat(8)))
    codes : Out(stream.Signature(frame_beat(bits, 1)))
    refused_frames : Out(16)
    last_error : Out(3)
    """

    Spec = FixedWidthDecoderSpec

    #: Cycles from a code's decision to its entry into the output queue.
    LATENCY = 1

    @classmethod
    def members(cls, spec):
        return {
            "stream": In(stream.Signature(word_beat(BYTE))),
            "codes": Out(stream.Signature(frame_beat(spec.bits, 1))),
            "refused_frames": Out(16),
            "last_error": Out(3),
        }

    def elaborate(self, platform):
        m = Module()
        spec = self.spec
        count, bits, frame_bytes, padding = spec.codes_per_frame, spec.bits, spec.frame_bytes, spec.padding_bits
        m.submodules.queue = queue = OutputQueue(self.codes.payload.shape(), self.LATENCY)
        wiring.connect(m, queue.o, wiring.flipped(self.codes))

        # The bits held (`fill` of them, from bit 0 of `held`), with the facts the next cycle's decisions need
        # kept as registers beside the fill: a whole code is held, the fill less a code, either below a byte.
        held = Signal(HELD_BITS, name="held")
        fill = Signal(range(HELD_BITS + 1), name="fill")
        fill_minus = Signal(range(HELD_BITS + 1), name="fill_minus")  # fill - bits, when a code is held
        has_code, fill_low, minus_low = Signal(name="has_code"), Signal(name="fill_low", init=1), \
            Signal(name="minus_low")
        # The frame: its bytes taken (all: `full`), its `last` seen (`ended`), its codes all emitted (`done`);
        # zeros emitted for the rest of it (`zeroing`, after a cut or a corrupt code, whose kind is `kind`); bytes
        # beyond its end seen (`over_long`), padding bits set (`bad_padding`).
        received = Signal(range(frame_bytes), name="received")
        full, ended, done, zeroing, over_long, bad_padding = (Signal(name=name) for name in (
            "full", "ended", "done", "zeroing", "over_long", "bad_padding"))
        kind = Signal(3, name="kind")

        emit = Signal(name="emit")
        m.d.comb += emit.eq(queue.room & ~done & (zeroing | has_code))
        _, end = wrapping_counter(m, emit, count, "index")
        at_first = Signal(name="at_first", init=1)
        decoding = Signal(name="decoding")  # a code is read from the bits held
        m.d.comb += decoding.eq(emit & ~zeroing)
        # Whether a byte fits beside the bits left depends on whether a code leaves; so does where it lands. Both
        # cases are worked out from registers, and the choice between them comes last.
        fits = Signal(name="fits")
        m.d.comb += fits.eq(Mux(decoding, minus_low, fill_low))
        dropping = Signal(name="dropping")  # the frame's bytes are all in, or no longer read
        m.d.comb += [dropping.eq(full | zeroing),
                     self.stream.ready.eq(~ended & (dropping | fits))]
        arrives = Signal(name="arrives")
        m.d.comb += arrives.eq(self.stream.valid & self.stream.ready)
        beat = self.stream.payload
        offered = Signal(name="offered")  # a byte of the frame is there to be taken, if it fits
        m.d.comb += offered.eq(self.stream.valid & ~ended & ~dropping)
        takes, takes_leaving, takes_staying = Signal(name="takes"), Signal(name="takes_leaving"), \
            Signal(name="takes_staying")
        m.d.comb += [takes_leaving.eq(offered & minus_low), takes_staying.eq(offered & fill_low),
                     takes.eq(Mux(decoding, takes_leaving, takes_staying))]
        leaving, staying = Signal.like(held, name="leaving"), Signal.like(held, name="staying")
        m.d.comb += [leaving.eq((held >> bits) | Mux(takes_leaving, beat.data << fill_minus[:3], 0)),
                     staying.eq(held | Mux(takes_staying, beat.data << fill[:3], 0))]
        new_fill = Signal.like(fill, name="new_fill")
        m.d.comb += new_fill.eq(Mux(decoding, fill_minus, fill) + Mux(takes, BYTE, 0))
        m.d.sync += [held.eq(Mux(decoding, leaving, staying)), fill.eq(new_fill),
                     fill_minus.eq(new_fill - bits), has_code.eq(new_fill >= bits), fill_low.eq(new_fill < BYTE),
                     minus_low.eq(new_fill < BYTE + bits)]
        with m.If(takes):
            m.d.sync += received.eq(received + 1)
            with m.If(received == frame_bytes - 1):
                m.d.sync += full.eq(1)
        with m.If(arrives):
            with m.If(beat.last):
                m.d.sync += ended.eq(1)
            with m.If(full):
                m.d.sync += over_long.eq(1)

        # The code: the low bits held, 0 while zeroing or where the code is -2**(bits-1).
        value = held[:bits]
        corrupt = Signal(name="corrupt")
        m.d.comb += corrupt.eq(value == 1 << (bits - 1))
        out = queue.push.payload
        m.d.comb += queue.issue.eq(emit)
        m.d.sync += [queue.push.valid.eq(emit), out.data[0].eq(Mux(zeroing | corrupt, 0, value)),
                     out.first.eq(at_first), out.last.eq(end)]
        with m.If(emit):
            m.d.sync += at_first.eq(end)
            with m.If(end):
                m.d.sync += done.eq(1)
        with m.If(decoding & corrupt):
            m.d.sync += [zeroing.eq(1), kind.eq(ERRORS["corrupt_value"])]
        with m.If(decoding & end & ~corrupt & (held[bits:bits + padding] != 0 if padding else False)):
            m.d.sync += bad_padding.eq(1)
        # Cut: the frame's bytes have ended and the bits held make no code.
        with m.If(~zeroing & ~done & ended & ~full & ~has_code):
            m.d.sync += [zeroing.eq(1), kind.eq(ERRORS["cut"])]

        # The frame's verdict once its codes are out and its `last` has come; then the next frame.
        verdict = Mux(kind != 0, kind, Mux(over_long, ERRORS["over_long"], Mux(bad_padding, ERRORS["padding"], 0)))
        with m.If(done & ended):
            with m.If(verdict != 0):
                m.d.sync += [self.refused_frames.eq(self.refused_frames + 1), self.last_error.eq(verdict)]
            m.d.sync += [held.eq(0), fill.eq(0), fill_minus.eq(0), has_code.eq(0), fill_low.eq(1),
                         minus_low.eq(1), received.eq(0), full.eq(0), ended.eq(0), done.eq(0), zeroing.eq(0),
                         over_long.eq(0), bad_padding.eq(0), kind.eq(0)]
        return m
