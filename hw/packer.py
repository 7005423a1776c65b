"""The compressed stream's bus words: bitmap bits, then code words (golden: ``golden.pack``)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_positive_int, set_validated
from .spec_component import SpecComponent

__all__ = ["PackerSpec", "Packer"]


@dataclass(frozen=True)
class PackerSpec:
    """Parameters of a :class:`Packer` (see there), validated, and the facts derived from them."""

    positions: int
    word_bits: int

    def __post_init__(self):
        positions, word_bits = self.positions, self.word_bits
        set_validated(self, positions=check_positive_int(positions, "positions"))
        set_validated(self, word_bits=check_positive_int(word_bits, "word_bits"))

    @property
    def tail_bits(self):
        """Bitmap bits in the word shared with the first codes: ``positions mod word_bits``."""
        return self.positions % self.word_bits


class Packer(SpecComponent):
    """Gathers one frame's bitmap and kept codes into ``word_bits``-wide words, LSB first.

    The frame's ``positions`` bitmap bits come first, one per beat of
    ``bits``; each completed word is pushed. The ``P mod word_bits`` bits left over
    (``tail_bits``, a constant of the geometry) share a word with the first
    code word: every beat of ``chunks`` (a whole word of codes) is pushed shifted up by
    ``tail_bits``, its top ``tail_bits`` held for the next word, so the
    shifts are wires. ``flush`` pushes the last held bits, zero-padded.
    ``final`` marks the event that pushes the frame's last word. Pushes are
    registered: a word leaves on ``words`` one cycle after its event.

    Parameters
    ----------
    positions : int
        Bitmap bits per frame.
    word_bits : int
        Bus width.

    Attributes
    ----------
    bits : In(stream.Signature(1, always_ready=True))
    chunks : In(stream.Signature(word_bits, always_ready=True))
    flush, final : In(1)
    words : Out(stream.Signature(StructLayout({"data": word_bits, "first": 1, "last": 1, "bitmap": 1}),
    always_ready=True))
        ``bitmap``: the word is all bitmap.
    """

    #: Cycles from an event to its push.
    LATENCY = 1

    Spec = PackerSpec

    @classmethod
    def members(cls, spec):
        return {
            "bits": In(stream.Signature(1, always_ready=True)),
            "chunks": In(stream.Signature(spec.word_bits, always_ready=True)),
            "flush": In(1), "final": In(1),
            "words": Out(stream.Signature(data.StructLayout({"data": spec.word_bits, "first": 1, "last": 1,
                                                             "bitmap": 1}), always_ready=True)),
        }

    def elaborate(self, platform):
        m = Module()
        w, tail = self.word_bits, self.tail_bits
        held = Signal(w, name="held")  # bits gathered, not yet pushed
        # The place of the next bitmap bit, one-hot: its bit's enable and the
        # full word's push are single gates, with no count to decode.
        place = Signal(w, name="place", init=1)
        first = Signal(init=1, name="first")
        out, bit, chunk = self.words, self.bits.payload, self.chunks.payload
        m.d.sync += out.valid.eq(0)

        def push(word, bitmap=0):
            m.d.sync += [out.valid.eq(1), out.payload.data.eq(word), out.payload.first.eq(first),
                         out.payload.last.eq(self.final), first.eq(self.final), out.payload.bitmap.eq(bitmap)]

        with m.If(self.bits.valid):
            m.d.sync += place.eq(place.rotate_left(1))
            with m.If(place[w - 1]):
                push(Cat(held[:w - 1], bit), bitmap=1)
            for n in range(w - 1):
                with m.If(place[n]):
                    m.d.sync += held[n].eq(bit)
        with m.If(self.chunks.valid):
            push(Cat(held[:tail], chunk)[:w])
            if tail:
                m.d.sync += held[:tail].eq(chunk[w - tail:])
        with m.If(self.flush):
            push(held[:tail] if tail else 0)
        with m.If(self.final):
            m.d.sync += [place.eq(1), held.eq(0)]
        return m
