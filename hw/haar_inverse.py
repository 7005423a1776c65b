"""Streaming multi-level 2-D Haar inverse transform (golden: ``golden.haar_inverse``)."""

from dataclasses import dataclass

from amaranth.hdl import Array, C, Cat, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from ..spec.checks import check_word_bits, set_validated
from ..spec.frame import BankedFrame
from .block_ram import BlockRAM
from .frame_beat import frame_beat
from .output_queue import OutputQueue
from .pipeline import RELAY, delay
from .raster import raster_position
from .spec_component import SpecComponent
from .subbands import (DETAILS, bank_flags, bank_gate, mallat_region, next_bank, read_bank_control, read_registered,
                       subband_memory, subbands, write_in_order)

__all__ = ["HaarInverseSpec", "HaarInverse"]


@dataclass(frozen=True, kw_only=True)
class HaarInverseSpec(BankedFrame):
    """Parameters of a :class:`HaarInverse` (see there), validated, and the facts derived from them."""

    in_bits: int = 16

    def __post_init__(self):
        super().__post_init__()
        set_validated(self, in_bits=check_word_bits(self.in_bits, "in_bits"))

    @property
    def out_bits(self):
        """Width of an output pixel: ``in_bits + levels + 2`` (the gain is below ``3 * 2**levels``)."""
        return self.in_bits + self.levels + 2

    @property
    def beats_in(self):
        """Coefficient beats of one frame (the padded frame)."""
        return self.padded_height * self.padded_width * self.groups

    @property
    def beats_out(self):
        """Pixel beats of one frame (cropped)."""
        return self.height * self.width * self.groups

    @property
    def cycles_per_frame(self):
        """Clock cycles per frame when the source and the sink never stall."""
        return max(self.beats_in, self.beats_out)

    @property
    def adder_stages(self):
        """Register stages of the adder tree over ``3 * levels + 1`` terms and the negation count."""
        return ceil_log2(3 * self.levels + 2)

    @property
    def read_depth(self):
        """Cycles from issuing a pixel to its sum: address register, block RAM read, signed terms, their
        relays, adder tree."""
        return 1 + BlockRAM.LATENCY + 2 + self.adder_stages

    @property
    def latency(self):
        """Cycles from the last coefficient beat of a frame to its first pixel beat (no stalls)."""
        # write register, completion flag, its read side copy, read gate, read pipeline, output queue
        return 4 + self.read_depth + OutputQueue.push_latency(relay_push=True)

    @property
    def memory_bits(self):
        """Bits of all subband memories."""
        return sum(self.banks * self.subband_depth(level) * self.lanes * self.in_bits
                   for level, _ in subbands(self.levels))


class HaarInverse(SpecComponent):
    """Inverse multi-level Haar transform of a coefficient stream, emitted as cropped pixels.

    Coefficients arrive in the order :class:`HaarForward` emits them (raster
    order over the Mallat layout of the padded frame, ``channels / lanes``
    beats per position), all on one scale, as a WCC layer's scattered
    products are. Each subband goes into its own memory (``banks`` frames).
    Once a frame is in, every output pixel is computed directly: it is the LL
    coefficient above it plus, for each level ``l``, its three detail
    coefficients shifted left by ``levels - l`` with the signs of the pixel's
    place in the level's 2x2 block, summed by a pipelined adder tree. This is
    exactly ``2**levels`` times the orthonormal inverse. Only the pixels of
    the unpadded ``height x width`` frame are emitted, in raster order. No
    multipliers: shifts, negations and adds.

    Parameters
    ----------
    height, width : int
        Output frame size (the padded size follows from ``levels``).
    channels, lanes : int
        Channels, and channels per beat (a divisor of ``channels``).
    levels : int
        Haar levels, 1..6.
    in_bits : int
        Width of an input coefficient (signed), up to 48.
    banks : int
        Frames the subband memories hold; 3 sustains one beat per clock.

    Attributes
    ----------
    coefficients : In(stream.Signature(frame_beat(in_bits, lanes)))
    pixels : Out(stream.Signature(frame_beat(out_bits, lanes)))
    """

    Spec = HaarInverseSpec

    @classmethod
    def members(cls, spec):
        return {
            "coefficients": In(stream.Signature(frame_beat(spec.in_bits, spec.lanes))),
            "pixels": Out(stream.Signature(frame_beat(spec.out_bits, spec.lanes))),
        }

    # -- hardware -----------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        groups, lanes, levels, banks = self.groups, self.lanes, self.levels, self.banks
        padded_height, padded_width = self.padded_height, self.padded_width

        loaded, complete = bank_flags(banks)

        # -- write side: each coefficient into its subband's memory ----------
        accept = Signal()
        inp = raster_position(m, accept, padded_height, padded_width, groups, "in")
        in_bank = Signal(range(banks))
        m.d.comb += [
            self.coefficients.ready.eq(bank_gate(m, accept, inp, loaded, in_bank, banks, "in")),
            accept.eq(self.coefficients.valid & self.coefficients.ready),
        ]
        # The beat and its subband are registered before the write, off the input's path.
        where = mallat_region(m, accept, inp, padded_height, padded_width, levels, "in")
        write_valid, write_first, write_last = Signal(), Signal(), Signal()
        write_data = Signal.like(self.coefficients.payload.data)
        write_region = Signal(len(subbands(levels)))
        m.d.sync += [write_valid.eq(accept), write_first.eq(inp.first), write_last.eq(inp.frame_last),
                     write_data.eq(self.coefficients.payload.data),
                     write_region.eq(Cat(where[key] for key in subbands(levels)))]
        memories = {}
        for index, (level, name) in enumerate(subbands(levels)):
            memory = subband_memory(m, f"l{level}_{name}", self.in_bits, lanes, self.subband_depth(level), banks)
            write_in_order(m, memory, write_valid & write_region[index], write_data, f"l{level}_{name}")
            memories[level, name] = memory
        with m.If(accept & inp.first):
            m.d.sync += loaded[in_bank].eq(1)
        with m.If(accept & inp.frame_last):
            m.d.sync += in_bank.eq(next_bank(in_bank, banks))
        write_bank = Signal(range(banks))
        with m.If(write_valid & write_last):
            m.d.sync += [complete[write_bank].eq(1), write_bank.eq(next_bank(write_bank, banks))]

        # -- read side: one output pixel per beat, straight from the subbands -
        # The pipeline never stalls: a pixel is issued only when the output
        # queue has room for it (block RAM read, signed terms, adder tree).
        queue = OutputQueue(self.pixels.payload.shape(), self.read_depth, relay_push=True)
        m.submodules.queue = queue
        wiring.connect(m, queue.o, wiring.flipped(self.pixels))
        issue = Signal()
        out = raster_position(m, issue, self.height, self.width, groups, "out")
        can_read = read_bank_control(m, issue & out.frame_last, banks, loaded, complete)
        m.d.comb += [issue.eq(queue.room & can_read), queue.issue.eq(issue)]

        read = {}
        for level in range(1, levels + 1):
            address = self._level_address(m, level, issue, out)
            names = DETAILS + ("ll",) if level == levels else DETAILS
            for name in names:
                read[level, name] = read_registered(m, memories[level, name], address)

        # Bit l-1 of the row and the column (odd within the level-l block) gives
        # the signs; they are decided a cycle before the data arrive, so that
        # each term can take its sign from a register of its own beside it.
        valid, first, last = (
            delay(m, value, 1 + BlockRAM.LATENCY, f"rd_{n}") for value, n in
            ((issue, "valid"), (out.first, "first"), (out.frame_last, "last")))
        # Zero-extended to the levels: a frame shorter or narrower than 2**(levels-1) has fewer counter bits.
        lower, righter = (Cat(delay(m, value, BlockRAM.LATENCY, f"rd_{n}"), C(0, levels)) for value, n in
                          ((out.row, "row"), (out.col, "col")))
        # A negated term is its ones' complement plus one: the XOR stays in the
        # first (carry-free) stage and the ones are added in the tree as a count.
        wide = signed(self.out_bits)
        negatives = []
        for level in range(1, levels + 1):
            odd_row, odd_col = lower[level - 1], righter[level - 1]
            # a = LL+H+V+D, b = LL+H-V-D, c = LL-H+V-D, d = LL-H-V+D.
            negatives += [("top_right", level, odd_row), ("bottom_left", level, odd_col),
                          ("bottom_right", level, odd_row ^ odd_col)]
        # Per level exactly two of the three are negated unless the pixel is at
        # its block's top left: the count is twice the levels with an odd row
        # or column, a lookup (no adder over 3 * levels bits).
        odd = Cat(lower[level - 1] | righter[level - 1] for level in range(1, levels + 1))
        count_early = Signal(range(len(negatives) + 1), name="negated_early")
        m.d.sync += count_early.eq(Array(2 * bin(pattern).count("1") for pattern in range(2 ** levels))[odd])
        count = delay(m, count_early, 1, "negated")
        lane_terms = []
        for lane in range(lanes):
            ll = Signal(wide, name=f"term_lane{lane}_ll")
            m.d.sync += ll.eq(read[levels, "ll"][lane])
            terms = [ll, count]
            for name, level, negative in negatives:
                term = Signal(wide, name=f"term_lane{lane}_l{level}_{name}")
                shifted = Signal(wide)
                sign = Signal(name=f"sign_relay_lane{lane}_l{level}_{name}", attrs=RELAY)
                m.d.sync += sign.eq(negative)
                m.d.comb += shifted.eq(read[level, name][lane] << (levels - level))
                m.d.sync += term.eq(shifted ^ sign.replicate(self.out_bits))
                terms.append(term)
            # The memories lie all over the device: each term reaches the adder
            # tree through a relay of its own, not straight into a carry chain.
            lane_terms.append([delay(m, term, 1, f"{term.name}_relay_", relay=True) for term in terms])
        valid, first, last = (delay(m, value, 2, f"term_{n}") for value, n in
                              ((valid, "valid"), (first, "first"), (last, "last")))

        # Add pairs: one register stage per level of the tree.
        for stage in range(self.adder_stages):
            lane_terms = [
                [self._register_sum(m, terms[i:i + 2], wide, f"sum{stage}_lane{lane}_{i // 2}")
                 for i in range(0, len(terms), 2)]
                for lane, terms in enumerate(lane_terms)
            ]
            valid, first, last = (delay(m, value, 1, f"sum{stage}_{n}") for value, n in
                                  ((valid, "valid"), (first, "first"), (last, "last")))

        m.d.comb += [
            queue.push.valid.eq(valid),
            queue.push.payload.first.eq(first),
            queue.push.payload.last.eq(last),
        ]
        for lane in range(lanes):
            m.d.comb += queue.push.payload.data[lane].eq(lane_terms[lane][0])
        return m

    @staticmethod
    def _register_sum(m, operands, shape, name):
        total = Signal(shape, name=name)
        m.d.sync += total.eq(sum(operands[1:], operands[0]))
        return total

    def _level_address(self, m, level, issue, out):
        """Address of the level-``level`` coefficients above the pixel being issued.

        ``row_base`` is the bank's entry of the pixel's block row and ``column``
        the block column times ``groups`` plus the group; both are updated
        incrementally, so no multiplier is needed.
        """
        groups = self.groups
        depth = self.subband_depth(level)
        stride = (self.padded_width >> level) * groups
        block_mask = (1 << level) - 1
        bank_base = Signal(range(self.banks * depth), name=f"l{level}_bank_base")
        row_base = Signal(range(self.banks * depth), name=f"l{level}_row_base")
        column = Signal(range(max(stride, 2)), name=f"l{level}_column")
        with m.If(issue):
            with m.If(out.frame_last):
                next_bank = Mux(bank_base == (self.banks - 1) * depth, 0, bank_base + depth)
                m.d.sync += [bank_base.eq(next_bank), row_base.eq(next_bank), column.eq(0)]
            with m.Elif(out.row_last):
                m.d.sync += column.eq(0)
                with m.If((out.row & block_mask) == block_mask):
                    m.d.sync += row_base.eq(row_base + stride)
            with m.Elif(~out.group_last):
                m.d.sync += column.eq(column + 1)
            with m.Elif((out.col & block_mask) == block_mask):
                m.d.sync += column.eq(column + 1)  # the next pixel starts a new block
            with m.Else():
                m.d.sync += column.eq(column - (groups - 1))  # same block: back to group 0
        # Registered here, the sum then travels to the spread-out memories alone.
        address = Signal(range(self.banks * depth), name=f"l{level}_address")
        m.d.sync += address.eq(row_base + column)
        return address
