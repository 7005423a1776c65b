"""The WCC decoder: compressed stream in, the frame of codes out (golden: ``unpack``, then ``scatter``)."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..golden.config import keep_count
from .frame_beat import frame_beat, word_beat
from .frame_geometry import CompressedFrame
from .params import check_bits, for_inspection, validating
from .scatter import Scatter
from .unpacker import Unpacker

__all__ = ["Decompressor"]


class Decompressor(CompressedFrame, wiring.Component):
    """Reads compressed frames back into ``channels x H' x W'`` frames of codes.

    An :class:`~wccgen.hw.unpacker.Unpacker` stores and checks each frame;
    once it is whole and well-formed a :class:`~wccgen.hw.scatter.Scatter`
    emits it, kept codes at their positions, zeros elsewhere, in raster
    order, ``lanes`` channels per beat. A corrupt frame produces no output:
    it pulses ``error`` and counts in ``refused_frames``; the next
    well-formed frame decodes normally. With ``banks=2`` the next frame
    arrives while the scatter emits this one.

    Parameters
    ----------
    height, width, channels, lanes, levels : int
        Geometry of the layer (the frame is padded to multiples of ``2**levels``).
    rate : float
        Fraction of positions kept.
    bit_a : int
        Code width.
    banks : int
        Frames the unpacker holds (1 or 2).

    Attributes
    ----------
    compressed : In(stream.Signature(word_beat(lanes * bit_a)))
    coefficients : Out(stream.Signature(frame_beat(bit_a, lanes)))
    error : Out(1)
        One cycle per refused frame.
    refused_frames : Out(16)
        Refused frames since reset (wraps).
    """

    def __init__(self, *, height, width, channels, lanes=1, levels=3, rate=0.5, bit_a=8, banks=1):
        with validating(self):
            self._init_geometry(height, width, channels, lanes, levels)
            self.bit_a = check_bits(bit_a, "bit_a")
            self.keep = keep_count(self.positions, rate)
            self.rate = float(rate)
            self.banks = banks
            for part in self._parts():  # the unpacker validates banks
                for_inspection(part)
        super().__init__({
            "compressed": In(stream.Signature(word_beat(self.word_bits))),
            "coefficients": Out(stream.Signature(frame_beat(self.bit_a, self.lanes))),
            "error": Out(1),
            "refused_frames": Out(16),
        })

    @property
    def cycles_per_frame(self):
        """Cycles per frame with words always available and the sink always ready.

        A frame is received (a word per cycle), checked, then scattered (a
        beat per cycle). With one bank the next frame is received once the
        scatter has issued its last read; with two, while it scatters.
        """
        unpacker, scatter = (for_inspection(part) for part in self._parts())
        # (A bank released, or a scatter done, is seen a cycle later.)
        if self.banks == 1:
            return unpacker.receive_cycles + scatter.done_cycles + 1
        return max(unpacker.receive_cycles, scatter.done_cycles + 1)

    def _parts(self):
        unpacker = Unpacker(positions=self.positions, keep=self.keep, channels=self.channels, lanes=self.lanes,
                            bit_a=self.bit_a, banks=self.banks)
        scatter = Scatter(padded_height=self.padded_height, padded_width=self.padded_width, channels=self.channels,
                          lanes=self.lanes, value_bits=self.bit_a, word_bits=self.word_bits, keep=self.keep)
        return unpacker, scatter

    def elaborate(self, platform):
        m = Module()
        m.submodules.unpacker, m.submodules.scatter = unpacker, scatter = self._parts()
        wiring.connect(m, wiring.flipped(self.compressed), unpacker.words)
        wiring.connect(m, scatter.values, wiring.flipped(self.coefficients))
        # The scatter starts once per stored frame and releases it when its reads are issued.
        started = Signal(name="started")
        m.d.comb += scatter.start.eq(unpacker.stored & ~started)
        with m.If(scatter.start):
            m.d.sync += started.eq(1)
        with m.If(scatter.done):
            m.d.sync += started.eq(0)
        m.d.comb += [
            unpacker.release.eq(scatter.done),
            unpacker.mask_addr.eq(scatter.mask_addr), scatter.mask_data.eq(unpacker.mask_data),
            unpacker.code_addr.eq(scatter.value_addr), scatter.value_data.eq(unpacker.code_data),
            self.error.eq(unpacker.refused),
        ]
        with m.If(unpacker.refused):
            m.d.sync += self.refused_frames.eq(self.refused_frames + 1)
        return m
