"""Two frames of kept sums and their bitmaps, scattered back into full frames (golden: ``scatter``)."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .block_ram import BlockRAM
from .frame_beat import frame_beat
from .memory_ports import write_port
from .pipeline import delay
from .scatter import MASK_DEPTH, VALUE_DEPTH, Scatter, ScatterSpec
from .spec_component import SpecComponent

__all__ = ["ScatterBuffer"]

#: Cycles after a scatter's last read is issued until every read of it has returned.
SETTLE_CYCLES = MASK_DEPTH + VALUE_DEPTH + 2


class ScatterBuffer(SpecComponent):
    """Holds the sums of up to two frames and scatters the older one while the newer one fills.

    A frame is *claimed* (``claim``, allowed while ``free``) just before its
    kept vectors enter the MAC array; its bitmap arrives through ``copy_*``
    and its sums, ``keep * channels / lanes`` beats in ascending position
    order, on ``sums``, which is always ready. Once a frame's last sum is in,
    a :class:`~wccgen.hw.scatter.Scatter` emits it as a full
    ``channels x padded_height x padded_width`` frame (sums at the kept
    positions, zeros elsewhere) while the next frame's sums may already
    arrive in the other bank. A bank is free again a few cycles after the
    scatter's last read, when no read of it is in flight.

    Parameters
    ----------
    padded_height, padded_width, channels, lanes, value_bits, word_bits, keep : int
        As for the :class:`~wccgen.hw.scatter.Scatter` inside (one
        :class:`~wccgen.hw.scatter.ScatterSpec` describes both): the geometry
        of the sum frames, the width of a sum and of a bitmap word, the kept
        positions per frame.

    Attributes
    ----------
    claim : In(1)
    free : Out(1)
    copy_write : In(write_port(mask_words, word_bits))
        The frame's bitmap words, written by the block that reads the frame out.
    sums : In(stream.Signature(frame_beat(value_bits, lanes), always_ready=True))
    values : Out(stream.Signature(frame_beat(value_bits, lanes)))
    """

    #: Frames held at once.
    BANKS = 2
    #: Cycles from the reader's ``done`` until no read of its bank is in flight.
    settle_cycles = SETTLE_CYCLES
    #: The block that reads a filled bank out, and its output stream.
    reader, output = Scatter, "values"

    Spec = ScatterSpec

    @classmethod
    def members(cls, spec):
        return {
            "claim": In(1),
            "free": Out(1),
            "copy_write": In(write_port(spec.mask_words, spec.word_bits)),
            "sums": In(stream.Signature(frame_beat(spec.value_bits, spec.lanes), always_ready=True)),
            # The reader's output stream, as the reader has it.
            cls.output: cls.reader.members(spec)[cls.output],
        }

    #: Cycles from the reader's turn to a new frame to its first address into the new bank, for each memory.
    mask_address_lag = value_address_lag = 0

    def read_turn(self, reader, release):
        """When the reader moves to the other bank: once this bank is released."""
        return release

    def copy_bitmap(self, m, masks, address):
        """Writes the bitmap words arriving on ``copy_write`` into ``masks`` at ``address``."""
        m.d.comb += [masks.write_addr.eq(address), masks.write_data.eq(self.copy_write.data),
                     masks.write_en.eq(self.copy_write.en)]

    def elaborate(self, platform):
        m = Module()
        mask_words, entries = self.mask_words, self.sum_entries
        m.submodules.masks = masks = BlockRAM(shape=self.mask_entry_bits, depth=self.BANKS * mask_words)
        m.submodules.memory = memory = BlockRAM(shape=len(self.sums.payload.data.as_value()),
                                                depth=self.BANKS * entries)
        m.submodules.scatter = scatter = self.reader(self.spec)
        wiring.connect(m, getattr(scatter, self.output), wiring.flipped(getattr(self, self.output)))

        def bank_base(bank, size):
            return Mux(bank, size, 0)

        # -- claims and the bitmap copy --------------------------------------------
        claimed = Signal(range(self.BANKS + 1), name="claimed")  # claimed and not yet scattered
        next_bank, copy_bank = Signal(name="next_bank"), Signal(name="copy_bank")
        release = Signal(name="release")
        m.d.comb += self.free.eq(claimed != self.BANKS)
        m.d.sync += claimed.eq(claimed + self.claim - release)
        with m.If(self.claim):
            m.d.sync += [copy_bank.eq(next_bank), next_bank.eq(~next_bank)]
        self.copy_bitmap(m, masks, self.copy_write.addr + bank_base(copy_bank, mask_words))

        # -- sums, in the order they come ----------------------------------------------
        take = Signal(name="take")
        m.d.comb += take.eq(self.sums.valid)
        entry = Signal(range(max(entries, 2)), name="sum_entry")
        sum_bank = Signal(name="sum_bank")
        with m.If(take):
            m.d.sync += entry.eq(Mux(self.sums.payload.last, 0, entry + 1))
            with m.If(self.sums.payload.last):
                m.d.sync += sum_bank.eq(~sum_bank)
        m.d.comb += [memory.write_addr.eq(entry + bank_base(sum_bank, entries)),
                     memory.write_data.eq(self.sums.payload.data), memory.write_en.eq(take)]
        # Filled frames waiting for the scatter (the last write lands a cycle later).
        filled = Signal(range(self.BANKS + 1), name="filled")
        written = Signal(name="written")
        m.d.sync += written.eq(take & self.sums.payload.last)

        # -- scatter, a bank at a time ---------------------------------------------------
        scattering = Signal(name="scattering")
        settle = Signal(range(self.settle_cycles + 1), name="settle")
        read_bank = Signal(name="read_bank")
        m.d.comb += scatter.start.eq((filled != 0) & ~scattering)
        m.d.sync += filled.eq(filled + written - scatter.start)
        with m.If(scatter.start):
            m.d.sync += scattering.eq(1)
        with m.If(scatter.done):
            m.d.sync += settle.eq(self.settle_cycles)
        with m.Elif(settle != 0):
            m.d.sync += settle.eq(settle - 1)
        m.d.comb += release.eq(settle == 1)
        with m.If(self.read_turn(scatter, release)):
            m.d.sync += [scattering.eq(0), read_bank.eq(~read_bank)]
        mask_bank, value_bank = (delay(m, read_bank, lag, f"{name}_bank") for name, lag in
                                 (("mask", self.mask_address_lag), ("value", self.value_address_lag)))
        m.d.comb += [
            masks.read_addr.eq(scatter.mask_read.addr + bank_base(mask_bank, mask_words)),
            scatter.mask_read.data.eq(masks.read_data),
            memory.read_addr.eq(scatter.value_read.addr + bank_base(value_bank, entries)),
            scatter.value_read.data.eq(memory.read_data),
        ]
        return m
