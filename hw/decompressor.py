"""The WCC decoder: compressed stream in, the frame of codes out (golden: ``unpack``, then ``scatter``)."""

from dataclasses import dataclass

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_bits, check_rate, set_validated
from ..spec.frame import CompressedWords, FrameGeometry, keep_count
from .frame_beat import frame_beat, word_beat
from .scatter import Scatter, ScatterSpec
from .spec_component import SpecComponent
from .unpacker import Unpacker, UnpackerSpec

__all__ = ["Decompressor", "DecompressorSpec"]


@dataclass(frozen=True, kw_only=True)
class DecompressorSpec(FrameGeometry, CompressedWords):
    """Parameters of a :class:`Decompressor` (see there), validated, and the facts derived from them."""

    rate: float = 0.5
    bit_a: int = 8
    banks: int = 1

    def __post_init__(self):
        super().__post_init__()
        set_validated(self, rate=check_rate(self.rate), bit_a=check_bits(self.bit_a, "bit_a"))
        _ = self.unpacker  # its spec checks banks

    @property
    def keep(self):
        """Kept positions per frame, ``floor(positions * rate)``."""
        return keep_count(self.positions, self.rate)

    @property
    def unpacker(self):
        """The spec of the decompressor's :class:`~wccgen.hw.unpacker.Unpacker`."""
        return UnpackerSpec(positions=self.positions, keep=self.keep, channels=self.channels, lanes=self.lanes,
                            bit_a=self.bit_a, banks=self.banks)

    @property
    def scatter(self):
        """The spec of the decompressor's :class:`~wccgen.hw.scatter.Scatter`."""
        return ScatterSpec(padded_height=self.padded_height, padded_width=self.padded_width, channels=self.channels,
                           lanes=self.lanes, value_bits=self.bit_a, word_bits=self.word_bits, keep=self.keep)

    @property
    def cycles_per_frame(self):
        """Cycles per frame with words always available and the sink always ready.

        A frame is received (a word per cycle), checked, then scattered (a
        beat per cycle). With one bank the next frame is received once the
        scatter has issued its last read; with two, while it scatters.
        """
        unpacker, scatter = self.unpacker, self.scatter
        # (A bank released, or a scatter done, is seen a cycle later.)
        if self.banks == 1:
            return unpacker.receive_cycles + scatter.done_cycles + 1
        return max(unpacker.receive_cycles, scatter.done_cycles + 1)


class Decompressor(SpecComponent):
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

    Spec = DecompressorSpec

    @classmethod
    def members(cls, spec):
        return {
            "compressed": In(stream.Signature(word_beat(spec.word_bits))),
            "coefficients": Out(stream.Signature(frame_beat(spec.bit_a, spec.lanes))),
            "error": Out(1),
            "refused_frames": Out(16),
        }

    def elaborate(self, platform):
        m = Module()
        m.submodules.unpacker = unpacker = Unpacker(self.unpacker)
        m.submodules.scatter = scatter = Scatter(self.scatter)
        wiring.connect(m, wiring.flipped(self.compressed), unpacker.words)
        wiring.connect(m, scatter.values, wiring.flipped(self.coefficients))
        # The scatter starts once per stored frame and releases it when its reads are issued.
        started = Signal(name="started")
        m.d.comb += scatter.start.eq(unpacker.stored & ~started)
        with m.If(scatter.start):
            m.d.sync += started.eq(1)
        with m.If(scatter.done):
            m.d.sync += started.eq(0)
        m.d.comb += [unpacker.release.eq(scatter.done), self.error.eq(unpacker.refused)]
        # The scatter reads the stored frame through the unpacker's memory ports.
        wiring.connect(m, scatter.mask_read, unpacker.mask_read)
        wiring.connect(m, scatter.value_read, unpacker.code_read)
        with m.If(unpacker.refused):
            m.d.sync += self.refused_frames.eq(self.refused_frames + 1)
        return m
