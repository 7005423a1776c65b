"""CAP's fixed-width encoder: one code per cycle into a frame's bytes (golden:
``golden.fixed_width_coder.fixed_width_encode``)."""

from dataclasses import dataclass

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .code_frame import FixedWidthFrameSpec, counted_codes
from .frame_beat import frame_beat, word_beat
from .output_queue import OutputQueue
from .spec_component import SpecComponent

__all__ = ["FixedWidthEncoder", "FixedWidthEncoderSpec"]

#: Bits of an output beat: one byte, as the integer model's frames are bytes.
BYTE = 8


@dataclass(frozen=True)
class FixedWidthEncoderSpec(FixedWidthFrameSpec):
    """Parameters of a :class:`FixedWidthEncoder` (see there), validated, and the facts derived from them."""

    @property
    def flushes(self):
        """The last code completes a byte and leaves bits for one more: the frame's last byte takes a cycle of its
        own."""
        last_at = (self.frame_bits - self.bits) % BYTE  # where the last code's first bit lands in its byte
        return self.padding_bits != 0 and last_at + self.bits >= BYTE

    @property
    def cycles_per_frame(self):
        """Cycles per frame with codes always there and the sink always ready."""
        return self.codes_per_frame + int(self.flushes)


class FixedWidthEncoder(SpecComponent):
    """Encodes frames of coefficient codes in CAP's fixed-width format, one code per cycle.

    A frame's ``components * height * width`` codes arrive in stream order
    (position after position, the components of each), ``bits`` wide,
    ``last`` on the final one; its bytes leave as
    ``golden.fixed_width_coder.fixed_width_encode`` writes them: every code
    in two's complement, LSB first, the last byte padded with zeros;
    ``first`` and ``last`` mark the frame's ends.

    A code lands next to the bits held over from the byte before (fewer than
    8), so it completes at most one byte: the bytes leave as the codes come,
    one per cycle at most. Where the last code both completes a byte and
    leaves bits for another (:attr:`~FixedWidthEncoderSpec.flushes`), that
    byte takes a cycle of its own.

    A frame has ``components * height * width`` codes: one whose ``last``
    comes early is completed with zero codes, and the codes of a longer one
    are dropped after that count up to its ``last``; either is counted in
    ``miscounted_frames``, and the frames after it are unaffected.

    Parameters
    ----------
    components, height, width : int
        The shape of a frame of codes.
    bits : int
        Width of a code.

    Attributes
    ----------
    codes : In(stream.Signature(frame_beat(bits, 1)))
    stream : Out(stream.Signature(word_beat(8)))
    miscounted_frames : Out(16)
    """

    Spec = FixedWidthEncoderSpec

    #: Cycles from a code's arrival to its byte's entry into the output queue.
    LATENCY = 1

    @classmethod
    def members(cls, spec):
        return {
            "codes": In(stream.Signature(frame_beat(spec.bits, 1))),
            "stream": Out(stream.Signature(word_beat(BYTE))),
            "miscounted_frames": Out(16),
        }

    def elaborate(self, platform):
        m = Module()
        spec = self.spec
        count, bits = spec.codes_per_frame, spec.bits
        m.submodules.queue = queue = OutputQueue(self.stream.payload.shape(), self.LATENCY)
        wiring.connect(m, queue.o, wiring.flipped(self.stream))

        flushing = Signal(name="flushing")  # the frame's last byte waits for its own cycle
        taken, _, end, sent = counted_codes(m, self.codes, count, queue.room & ~flushing,
                                            self.miscounted_frames)

        # The packing: `held` has `fill` bits (fewer than a byte); a code goes above them. Whether it completes a
        # byte depends on the fill alone, so it is a register (`fill_near`) decided with the fill.
        held = Signal(BYTE, name="held")
        fill = Signal(3, name="fill")
        fill_near = Signal(name="fill_near", init=bits == BYTE)
        packed = Signal(2 * BYTE - 1, name="packed")
        m.d.comb += packed.eq(held | (sent << fill))
        next_fill = Signal(3, name="next_fill")
        m.d.comb += next_fill.eq(fill + bits)
        first = Signal(name="first", init=1)  # the next byte pushed is a frame's first
        out = queue.push.payload
        m.d.sync += queue.push.valid.eq(0)

        def push(data, last):
            m.d.comb += queue.issue.eq(1)
            m.d.sync += [queue.push.valid.eq(1), out.data.eq(data), out.first.eq(first), out.last.eq(last),
                         first.eq(last)]

        with m.If(taken):
            m.d.sync += [fill.eq(next_fill), fill_near.eq(next_fill >= BYTE - bits),
                         held.eq(Mux(fill_near, packed[BYTE:], packed[:BYTE]))]
            with m.If(fill_near):
                push(packed[:BYTE], end & (not spec.flushes))
            with m.Elif(end):  # the last code leaves a partial byte alone: the frame's last, pushed now
                push(packed[:BYTE], 1)
            with m.If(end):
                m.d.sync += [fill.eq(0), fill_near.eq(bits == BYTE), held.eq(0)]
                if spec.flushes:
                    m.d.sync += [flushing.eq(1), held.eq(packed[BYTE:])]
        with m.If(flushing & queue.room):
            push(held, 1)
            m.d.sync += [flushing.eq(0), held.eq(0)]
        return m
