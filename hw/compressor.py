"""The WCC encoder: coefficient frames in, compressed stream out (golden: energy, topk_select, quantize, pack)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_bits, check_rate, set_validated
from ..spec.frame import CompressedWords, FrameGeometry, keep_count
from ..spec.wcc_config import ENERGY_MODES
from .block_ram import BlockRAM
from .emission_order import emission_position, emission_walker
from .frame_beat import frame_beat, word_beat
from .layer_tables import check_layers, split_layers
from .output_queue import OutputQueue
from .packer import Packer
from .pipeline import delay, wrapping_counter
from .position_energy import PositionEnergy, PositionEnergySpec
from .quantizer import Quantizer, QuantizerSpec
from .spec_component import SpecComponent
from .topk_selector import TopKSelector, TopKSelectorSpec

__all__ = ["Compressor", "CompressorSpec"]

# Cycles from a value step to its chunk at the packer: kept-list read, address add, code read.
VALUE_DEPTH = 2 * BlockRAM.LATENCY + 1


@dataclass(frozen=True, kw_only=True)
class CompressorSpec(FrameGeometry, CompressedWords):
    """Parameters of a :class:`Compressor` (see there), validated, and the facts derived from them."""

    in_bits: int = 8
    rate: float = 0.5
    bit_a: int = 8
    multipliers: tuple
    shifts: tuple
    energy: str = "square"
    digit_bits: int | None = None
    layers: int = 1

    def __post_init__(self):
        super().__post_init__()
        set_validated(self, in_bits=check_bits(self.in_bits, "in_bits"), bit_a=check_bits(self.bit_a, "bit_a"),
                      rate=check_rate(self.rate))
        if self.energy not in ENERGY_MODES:
            raise ValueError(f"energy: must be one of {ENERGY_MODES}, got {self.energy!r}")
        set_validated(self, layers=check_layers(self.layers))
        for name in ("multipliers", "shifts"):
            split_layers(getattr(self, name), self.layers, name, self.levels, "level")
        # The parts' specs check the parameters they take, and settle the tables and the digit.
        quantizer = QuantizerSpec(coef_bits=self.coef_bits, lanes=self.lanes, bits=self.bit_a,
                                  multipliers=self.multipliers, shifts=self.shifts, layers=self.layers)
        set_validated(self, multipliers=quantizer.multipliers, shifts=quantizer.shifts)
        set_validated(self, digit_bits=self.selector.digit_bits)

    @property
    def keep(self):
        """Kept positions per frame, ``floor(positions * rate)``."""
        return keep_count(self.positions, self.rate)

    @property
    def coef_bits(self):
        """Width of an input coefficient: ``in_bits + 2 * levels``."""
        return self.in_bits + 2 * self.levels

    @property
    def quantizer(self):
        """The spec of the compressor's :class:`~wccgen.hw.quantizer.Quantizer`."""
        return QuantizerSpec(coef_bits=self.coef_bits, lanes=self.lanes, bits=self.bit_a,
                             multipliers=self.multipliers, shifts=self.shifts, layers=self.layers)

    @property
    def position_energy(self):
        """The spec of the compressor's :class:`~wccgen.hw.position_energy.PositionEnergy`."""
        return PositionEnergySpec(coef_bits=self.coef_bits, channels=self.channels, lanes=self.lanes,
                                  levels=self.levels, mode=self.energy)

    @property
    def selector(self):
        """The spec of the compressor's :class:`~wccgen.hw.topk_selector.TopKSelector`."""
        return TopKSelectorSpec(positions=self.positions, keep=self.keep,
                                energy_bits=self.position_energy.energy_bits, digit_bits=self.digit_bits)

    @property
    def energy_bits(self):
        """Width of the energies the selector ranks."""
        return self.position_energy.energy_bits

    @property
    def passes(self):
        """Passes over the frame's positions after its arrival: histogram passes and the mask pass."""
        return self.selector.passes

    @property
    def cycles_per_frame(self):
        """Cycles per frame with coefficients always available and the sink always ready.

        Arrival (a beat per cycle), the last energy's way to the selector, the
        selection, the mask pass (a position per cycle) and the wait for its
        last verdict, the bitmap words and the code words (a word per cycle),
        the flush of a shared last word, and the cycle back to arrival.
        """
        return (self.positions * self.groups + self.select_latency + self.selector.select_cycles
                + self.positions + Compressor.DRAIN_CYCLES + self.positions // self.word_bits
                + self.keep * self.groups + int(self.positions % self.word_bits > 0) + 1)

    @property
    def select_latency(self):
        """Cycles from the last coefficient beat to the selector's last energy."""
        return 1 + self.position_energy.latency


class Compressor(SpecComponent):
    """Selects, quantizes and packs one coefficient frame at a time into the compressed stream.

    Coefficients arrive as :class:`~wccgen.hw.haar_forward.HaarForward`
    emits them, in its emission order; counters of the same order give each
    beat's level and Mallat position. While a frame arrives, each beat is
    quantized (per-level multiplier and shift) into a code memory at its
    position, and each position's energy goes to the
    :class:`~wccgen.hw.topk_selector.TopKSelector` with its position. Once the
    frame is in, the selector finds the threshold; the mask pass then emits
    the bitmap and lists the kept positions, and the values pass reads their
    codes back in ascending position order. The output words are
    ``lanes * bit_a`` bits, each a slice of the bit sequence of
    docs/numerics.md (LSB first); the last word is zero-padded. The next
    frame is accepted once the values pass has issued its reads.

    Parameters
    ----------
    height, width, channels, lanes, levels : int
        Geometry, as for ``HaarForward`` (``lanes`` channels per beat).
    in_bits : int
        Pixel width of the transformed frame; coefficients are ``in_bits + 2 * levels`` wide.
    rate : float
        Fraction of the padded positions kept (``keep = floor(positions * rate)``).
    bit_a : int
        Code width.
    multipliers, shifts : sequence of int
        Quantizer multiplier and shift per level (``LayerBundle.coef_multiplier``, ``coef_shift``), layer
        after layer with several layers.
    energy : {"square", "abs"}
    digit_bits : int, optional
        Radix digit of the selector (see ``TopKSelector``).
    layers : int
        Layers whose quantizer tables the compressor holds; with more than one
        the ``layer`` input chooses (see :mod:`~wccgen.hw.layer_tables`).

    Attributes
    ----------
    coefficients : In(stream.Signature(frame_beat(coef_bits, lanes)))
    compressed : Out(stream.Signature(word_beat(lanes * bit_a)))
    layer : In(range(layers)), with several layers only
    """

    #: Cycles from the mask pass's last step until its last bitmap word and kept position can be read.
    DRAIN_CYCLES = TopKSelector.MASK_LATENCY + Packer.LATENCY + 3

    Spec = CompressorSpec

    @classmethod
    def members(cls, spec):
        members = {
            "coefficients": In(stream.Signature(frame_beat(spec.coef_bits, spec.lanes))),
            "compressed": Out(stream.Signature(word_beat(spec.word_bits))),
        }
        if spec.layers > 1:
            members["layer"] = In(range(spec.layers))
        return members

    # -- hardware -----------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        groups, positions, keep = self.groups, self.positions, self.keep
        m.submodules.quantizer = quantizer = Quantizer(self.quantizer)
        if self.layers > 1:
            m.d.comb += quantizer.layer.eq(self.layer)
        m.submodules.energy = energy = PositionEnergy(self.position_energy)
        m.submodules.selector = selector = TopKSelector(self.selector)
        m.submodules.packer = packer = Packer(positions=positions, word_bits=self.word_bits)
        m.submodules.codes = codes = BlockRAM(shape=self.word_bits, depth=positions * groups)
        m.submodules.kept = kept = BlockRAM(shape=range(positions * groups), depth=keep)
        queue = OutputQueue(self.compressed.payload.shape(), VALUE_DEPTH + Packer.LATENCY)
        m.submodules.queue = queue
        wiring.connect(m, queue.o, wiring.flipped(self.compressed))

        # -- arrival: quantize into the code memory, energies to the selector --
        accepting = Signal(name="accepting")  # a register: it drives every input counter
        beat = Signal(name="beat")
        # The frame's last beat closes the input at once, and reaches the
        # sequencer a cycle later from a register: the input's `valid` goes
        # to the counters only, never to the state logic.
        arrived = Signal(name="arrived")
        m.d.comb += [self.coefficients.ready.eq(accepting & ~arrived), beat.eq(self.coefficients.ready &
                                                                               self.coefficients.valid)]
        inp = emission_walker(m, beat, self.padded_height, self.padded_width, groups, self.levels, "in")
        m.d.sync += arrived.eq(beat & inp.frame_last)
        # One input register: the beat, its level, its flags, and where its codes go.
        in_valid, in_data, in_level, in_group_last = (
            delay(m, v, 1, f"in_{n}") for v, n in
            ((beat, "valid"), (self.coefficients.payload.data, "data"), (inp.level, "level"),
             (inp.group_last, "group_last")))
        in_position = Signal(range(positions), name="in_position")
        in_code_addr = Signal(range(positions * groups), name="in_code_addr")
        position = emission_position(inp, self.padded_height, self.padded_width, self.levels)
        m.d.sync += [in_position.eq(position), in_code_addr.eq(position * groups + inp.group)]
        m.d.comb += [
            quantizer.coefficients.valid.eq(in_valid), quantizer.coefficients.payload.level.eq(in_level),
            quantizer.coefficients.payload.data.eq(in_data),
            energy.coefficients.valid.eq(in_valid), energy.coefficients.payload.group_last.eq(in_group_last),
            energy.coefficients.payload.data.eq(in_data), energy.coefficients.payload.gain.eq(self.levels - in_level),
        ]
        # A position's energy leaves its pipeline `latency` cycles after the position's last beat, and a
        # beat's codes the quantizer's latency after it: their addresses follow in registers.
        m.d.comb += [selector.energies.valid.eq(energy.energies.valid),
                     selector.energies.payload.energy.eq(energy.energies.payload),
                     selector.energies.payload.position.eq(delay(m, in_position, self.position_energy.latency,
                                                                 "energy_position"))]
        code_addr = delay(m, in_code_addr, self.quantizer.latency, "code_write_addr")
        m.d.comb += [codes.write_addr.eq(code_addr), codes.write_en.eq(quantizer.codes.valid),
                     codes.write_data.eq(Cat(code[:self.bit_a] for code in quantizer.codes.payload))]

        # -- mask pass: the bitmap, and the list of kept positions ---------------
        # It never stalls: completed bitmap words go to a memory of their own.
        mask_run = Signal(name="mask_run")  # a register: it steps the selector's reads
        _, mask_last = wrapping_counter(m, mask_run, positions, "mask_count")
        m.d.comb += selector.step.eq(mask_run)
        verdicts = selector.verdicts
        kept_count, _ = wrapping_counter(m, verdicts.valid & verdicts.payload, keep, "kept_count")
        kept_base = Signal(range(positions * groups), name="kept_base")  # first code address of the position
        wiring.connect(m, verdicts, packer.bits)  # the bitmap, a verdict per position
        m.d.comb += [kept.write_addr.eq(kept_count), kept.write_data.eq(kept_base),
                     kept.write_en.eq(verdicts.valid & verdicts.payload)]
        _, base_last = wrapping_counter(m, verdicts.valid, positions, "kept_position")
        with m.If(verdicts.valid):
            m.d.sync += kept_base.eq(Mux(base_last, 0, kept_base + groups))
        bitmap_words = positions // self.word_bits  # whole words; the tail waits in the packer
        bitmap = BlockRAM(shape=self.word_bits, depth=max(bitmap_words, 2))
        m.submodules.bitmap = bitmap
        bitmap_written, _ = wrapping_counter(m, packer.words.valid & packer.words.payload.bitmap, max(bitmap_words, 1),
                                             "bitmap_write_addr")
        m.d.comb += [bitmap.write_addr.eq(bitmap_written), bitmap.write_data.eq(packer.words.payload.data),
                     bitmap.write_en.eq(packer.words.valid & packer.words.payload.bitmap)]

        # -- emission: the bitmap words, then the kept positions' codes -----------
        bitmap_run = Signal(name="bitmap_run")
        bitmap_step = Signal(name="bitmap_step")
        bitmap_index, bitmap_last = wrapping_counter(m, bitmap_step, max(bitmap_words, 1), "bitmap_read_addr")
        m.d.comb += [bitmap_step.eq(bitmap_run & queue.room), bitmap.read_addr.eq(bitmap_index)]
        bitmap_valid, bitmap_first = (delay(m, v, BlockRAM.LATENCY + 1, f"bitmap_{n}") for v, n in
                                      ((bitmap_step, "valid"), (bitmap_step & (bitmap_index == 0), "first")))
        bitmap_data = delay(m, bitmap.read_data, 1, "bitmap_data")

        values_run = Signal(name="values_run")
        value_step = Signal(name="value_step")
        value_group, group_last = wrapping_counter(m, value_step, groups, "value_group")
        value_index, index_last = wrapping_counter(m, value_step & group_last, keep, "value_index")
        value_last = index_last & group_last
        m.d.comb += [value_step.eq(values_run & queue.room), kept.read_addr.eq(value_index)]
        group_at_base = delay(m, value_group, BlockRAM.LATENCY, "value_group")
        code_read = Signal(range(positions * groups), name="code_read_addr")
        m.d.sync += code_read.eq(kept.read_data + group_at_base)
        m.d.comb += codes.read_addr.eq(code_read)
        tail = packer.tail_bits
        chunk_valid, chunk_final = (delay(m, v, VALUE_DEPTH, f"chunk_{n}") for v, n in
                                    ((value_step, "valid"), (value_step & value_last & (tail == 0), "final")))
        flush_run = Signal(name="flush_run")
        flush_step = Signal(name="flush_step")
        m.d.comb += flush_step.eq(flush_run & queue.room)
        flush = delay(m, flush_step, VALUE_DEPTH, "flush")
        m.d.comb += [packer.chunks.valid.eq(chunk_valid), packer.chunks.payload.eq(codes.read_data),
                     packer.flush.eq(flush), packer.final.eq(chunk_final | flush)]
        # Bitmap words and code words reach the queue in issue order: every
        # bitmap word is issued first and takes fewer cycles.
        code_push = packer.words.valid & ~packer.words.payload.bitmap
        m.d.comb += [
            queue.issue.eq(bitmap_step | value_step | flush_step),
            queue.push.valid.eq(bitmap_valid | code_push),
            queue.push.payload.data.eq(Mux(bitmap_valid, bitmap_data, packer.words.payload.data)),
            queue.push.payload.first.eq(Mux(bitmap_valid, bitmap_first, packer.words.payload.first)),
            queue.push.payload.last.eq(~bitmap_valid & packer.words.payload.last),
        ]

        # -- sequencing ---------------------------------------------------------
        wait = Signal(range(self.DRAIN_CYCLES + 1), name="wait")
        with m.FSM(name="compress"):
            with m.State("START"):  # the selector clears its memories after a reset
                with m.If(selector.ready):
                    m.d.sync += accepting.eq(1)
                    m.next = "ARRIVE"
            with m.State("ARRIVE"):
                with m.If(arrived):
                    m.d.sync += accepting.eq(0)
                    m.next = "SELECT"
            with m.State("SELECT"):
                with m.If(selector.done):
                    m.d.sync += mask_run.eq(1)
                    m.next = "MASK"
            with m.State("MASK"):
                with m.If(mask_last):
                    # The last bitmap word and kept position must be written before they are read.
                    m.d.sync += [mask_run.eq(0), wait.eq(self.DRAIN_CYCLES - 1)]
                    m.next = "DRAIN"
            with m.State("DRAIN"):
                m.d.sync += wait.eq(wait - 1)
                with m.If(wait == 0):
                    if bitmap_words:
                        m.d.sync += bitmap_run.eq(1)
                        m.next = "BITMAP"
                    else:
                        m.d.sync += values_run.eq(1)
                        m.next = "VALUES"
            with m.State("BITMAP"):
                with m.If(bitmap_step & bitmap_last):
                    m.d.sync += [bitmap_run.eq(0), values_run.eq(1)]
                    m.next = "VALUES"
            with m.State("VALUES"):
                with m.If(value_step & value_last):
                    m.d.sync += values_run.eq(0)
                    if tail:
                        m.d.sync += flush_run.eq(1)
                        m.next = "FLUSH"
                    else:
                        m.d.sync += accepting.eq(1)
                        m.next = "ARRIVE"
            with m.State("FLUSH"):
                with m.If(flush_step):
                    m.d.sync += [flush_run.eq(0), accepting.eq(1)]
                    m.next = "ARRIVE"
        return m
