"""Exact top-k position selection by radix select (golden: ``golden.topk_select``)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_keep, check_positive_int, set_validated
from .block_ram import BlockRAM
from .pipeline import delay, wrapping_counter
from .radix_histogram import RadixHistogram, RadixHistogramSpec
from .spec_component import SpecComponent

__all__ = ["TopKSelectorSpec", "TopKSelector"]

#: Widest radix digit: a histogram of 2**12 bins per copy.
MAX_DIGIT_BITS = 12
#: Width of each piece of the mask pass's comparison with the threshold (one short carry chain each).
COMPARE_BITS = 8
#: Digits the default radix aims for: the arrival builds the first histogram,
#: each further one takes a pass over the stored energies.
DEFAULT_DIGITS = 3


@dataclass(frozen=True)
class TopKSelectorSpec:
    """Parameters of a :class:`TopKSelector` (see there), validated, and the facts derived from them."""

    positions: int
    keep: int
    energy_bits: int
    digit_bits: int = None

    def __post_init__(self):
        set_validated(self, positions=check_positive_int(self.positions, "positions"))
        set_validated(self, keep=check_keep(self.keep, self.positions))
        energy_bits = check_positive_int(self.energy_bits, "energy_bits")
        if energy_bits > 63:
            raise ValueError(f"energy_bits: must lie in [1, 63], got {energy_bits}")
        digit_bits = self.digit_bits
        if digit_bits is None:
            digit_bits = min(MAX_DIGIT_BITS, max(2, -(-energy_bits // DEFAULT_DIGITS)))
        digit_bits = check_positive_int(digit_bits, "digit_bits")
        if not 2 <= digit_bits <= MAX_DIGIT_BITS:
            raise ValueError(f"digit_bits: must lie in [2, {MAX_DIGIT_BITS}], got {digit_bits}")
        set_validated(self, energy_bits=energy_bits, digit_bits=digit_bits)

    @property
    def digits(self):
        """Radix digits of an energy: histograms per frame."""
        return -(-self.energy_bits // self.digit_bits)

    @property
    def passes(self):
        """Passes over the stored energies per frame: one per digit after the first, plus the mask pass."""
        return self.digits

    @property
    def histogram(self):
        """The spec of the radix histogram a selector of this spec uses."""
        return RadixHistogramSpec(digit_bits=self.digit_bits, max_count=self.positions)

    @property
    def arrival_settle(self):
        """Cycles from the last energy to the first scan: input register, source register, the two digit
        stages, the update's write."""
        return 4 + self.histogram.update_latency

    @property
    def pass_settle(self):
        """Cycles from a pass's last read to the next scan."""
        return BlockRAM.LATENCY + 1 + self.arrival_settle

    @property
    def select_cycles(self):
        """Cycles from the last energy of a frame until ``done``."""
        scan = self.histogram.scan_latency + 1
        return (self.arrival_settle + self.digits * scan
                + (self.digits - 1) * (self.positions + self.pass_settle) + 1)


class TopKSelector(SpecComponent):
    """Keep the ``keep`` largest of ``positions`` energies; among equal energies the lower index.

    Energies arrive in any order, each with its position (``energies``, at
    most one per cycle), and are stored at their positions. The threshold
    ``T``, the ``keep``-th largest energy, is found digit by digit from the
    top (radix select): a histogram of the first digit is counted as the
    energies arrive; each later digit's histogram takes one pass over the
    stored energies, counting only those whose higher digits equal ``T``'s. Each histogram scan also yields how
    many positions equal to ``T`` are still to keep, ``ties``. The mask pass
    then keeps every energy above ``T`` and the first ``ties`` equal to it,
    in index order: exactly the stable sort of docs/numerics.md.

    The mask pass is driven from outside: each ``step`` (only while
    ``done``) reads the next position, whose verdict (1: kept) leaves on
    ``verdicts`` ``MASK_LATENCY`` cycles later. After the last
    position the selector is ready for the next frame's energies.

    Parameters
    ----------
    positions : int
        Energies per frame.
    keep : int
        Positions to keep, ``1 <= keep <= positions``.
    energy_bits : int
        Width of an energy (unsigned), at most 63.
    digit_bits : int, optional
        Radix digit width, 2..12; by default the narrowest that splits the
        energy into at most three digits.

    Attributes
    ----------
    ready : Out(1)
        Low for a while after reset, until the histogram memories are clear;
        energies may arrive once it is high, and then again after each mask
        pass.
    energies : In(stream.Signature(StructLayout({"energy": energy_bits, "position": range(positions)}),
    always_ready=True))
        Every position once per frame.
    done : Out(1)
        The threshold is known; the mask pass may run.
    step : In(1)
    verdicts : Out(stream.Signature(1, always_ready=True))
    """

    #: Cycles from ``step`` to its verdict: energy read and its register, comparison of the halves and of
    #: the whole, tie count.
    MASK_LATENCY = BlockRAM.LATENCY + 4

    Spec = TopKSelectorSpec

    @classmethod
    def members(cls, spec):
        return {
            "ready": Out(1),
            "energies": In(stream.Signature(data.StructLayout({"energy": spec.energy_bits,
                                                               "position": range(spec.positions)}),
                                            always_ready=True)),
            "done": Out(1),
            "step": In(1),
            "verdicts": Out(stream.Signature(1, always_ready=True)),
        }

    # -- hardware -----------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        positions, digit_bits, digits = self.positions, self.digit_bits, self.digits
        width = digits * digit_bits  # energies zero-extended to whole digits
        m.submodules.histogram = histogram = RadixHistogram(self.histogram)
        m.submodules.energies = energies = BlockRAM(shape=self.energy_bits, depth=positions)

        # -- arrival: store each energy; it also feeds the first histogram ----
        arrive_valid, arrive_energy, arrive_addr = (
            delay(m, v, 1, f"arrive_{n}") for v, n in
            ((self.energies.valid, "valid"), (self.energies.payload.energy, "energy"),
             (self.energies.payload.position, "position")))
        _, arrive_last = wrapping_counter(m, arrive_valid, positions, "arrive_count")
        m.d.comb += [energies.write_addr.eq(arrive_addr), energies.write_data.eq(arrive_energy),
                     energies.write_en.eq(arrive_valid)]
        arrived = Signal(name="arrived")  # the last energy of the frame is in
        m.d.comb += arrived.eq(arrive_valid & arrive_last)

        # -- reading the stored energies (histogram passes and the mask pass) --
        pass_issue = Signal(name="pass_issue")  # a register: it steps the reads
        read_step = Signal(name="read_step")
        read_addr, read_at_last = wrapping_counter(m, read_step, positions, "read_addr")
        m.d.comb += [read_step.eq(pass_issue | self.step), energies.read_addr.eq(read_addr)]
        read_last = read_step & read_at_last
        # Each energy read is registered once more, beside the comparators.
        pass_valid = delay(m, pass_issue, BlockRAM.LATENCY + 1, "pass_valid")
        mask_valid = delay(m, self.step, BlockRAM.LATENCY + 1, "mask_valid")
        stored = delay(m, energies.read_data, 1, "stored")

        # -- digit stage: does the energy match the threshold's known digits? --
        digit_index = Signal(range(digits), name="digit_index")
        prefix = Signal(width, name="prefix")  # digits found so far, lower ones zero
        known = Signal(width, name="known_mask")  # bits of the digits found so far
        source_valid = Signal(name="source_valid")
        source = Signal(self.energy_bits, name="source")
        m.d.sync += [source_valid.eq(arrive_valid | pass_valid), source.eq(Mux(pass_valid, stored, arrive_energy))]
        digit = source >> ((digits - 1) * digit_bits)
        for index in range(1, digits):
            digit = Mux(digit_index == index, source >> ((digits - 1 - index) * digit_bits), digit)
        # The match in two registered steps: eight bits at a time, then all of them.
        pieces = []
        for low in range(0, self.energy_bits, 8):
            piece = Signal(name=f"match{low // 8}")
            high = min(low + 8, self.energy_bits)
            m.d.sync += piece.eq(((source[low:high] ^ prefix[low:high]) & known[low:high]) == 0)
            pieces.append(piece)
        counted_valid, counted_digit = (delay(m, v, 1, f"counted_{n}") for v, n in
                                        ((source_valid, "valid"), (digit[:digit_bits], "digit")))
        m.d.sync += [histogram.update.eq(counted_valid & Cat(pieces).all()), histogram.digit.eq(counted_digit)]

        # -- sequencing of scans and passes -------------------------------------
        # Positions still to keep at the threshold's level of the digits found so far.
        rem = Signal(range(positions + 1), name="rem", init=self.keep)
        # The mask pass's own copies: the next frame's selection may start
        # while its last verdicts are still in flight.
        threshold = Signal(width, name="mask_threshold")
        ties = Signal(range(positions + 1), name="mask_ties")
        wait = Signal(range(max(self.pass_settle, self.arrival_settle) + 1), name="settle")
        m.d.comb += [histogram.need.eq(rem), self.ready.eq(histogram.ready)]
        reset_frame = [digit_index.eq(0), prefix.eq(0), known.eq(0), rem.eq(self.keep)]
        m.d.sync += histogram.scan.eq(0)
        finish = Signal(name="select_finish")
        restart = Signal(name="select_restart")
        take = Signal(name="select_take")
        m.d.sync += [finish.eq(0), restart.eq(0), take.eq(0)]
        # The mask pass's last step, a cycle later (off the path from `step`).
        mask_finished = Signal(name="mask_finished")
        m.d.sync += mask_finished.eq(self.step & read_last)
        with m.FSM(name="select"):
            with m.State("ARRIVE"):
                with m.If(arrived):
                    m.d.sync += wait.eq(self.arrival_settle - 1)
                    m.next = "SETTLE"
            with m.State("SETTLE"):
                m.d.sync += wait.eq(wait - 1)
                with m.If(wait == 0):
                    m.d.sync += histogram.scan.eq(1)
                    m.next = "SCAN"
            with m.State("SCAN"):
                with m.If(histogram.scan_done):
                    m.d.sync += take.eq(1)
                    with m.If(digit_index == digits - 1):
                        m.d.sync += self.done.eq(1)
                        m.next = "DONE"
                    with m.Else():
                        m.d.sync += pass_issue.eq(1)
                        m.next = "PASS"
            with m.State("PASS"):
                with m.If(read_last):
                    m.d.sync += [pass_issue.eq(0), wait.eq(self.pass_settle - 1)]
                    m.next = "SETTLE"
            with m.State("DONE"):
                with m.If(mask_finished):
                    m.d.sync += [restart.eq(1), self.done.eq(0)]
                    m.next = "ARRIVE"
        # The scan's digit is taken a cycle after `scan_done`, from a register: the state logic does not reach
        # the enables of `rem`, `prefix` and `known` (`found` and `remaining` hold until the next scan, and the
        # next pass's first energy reaches the digit stage after BlockRAM.LATENCY more cycles).
        with m.If(take):
            shift = Mux(digit_index == 0, (digits - 1) * digit_bits, 0)
            for index in range(1, digits):
                shift = Mux(digit_index == index, (digits - 1 - index) * digit_bits, shift)
            m.d.sync += [prefix.eq(prefix | (histogram.found << shift)), rem.eq(histogram.remaining),
                         known.eq(known | (((1 << digit_bits) - 1) << shift))]
            with m.If(digit_index == digits - 1):
                # The mask pass's copies are taken a cycle later, from `prefix`
                # and `rem` (its first verdict is further off).
                m.d.sync += finish.eq(1)
            with m.Else():
                m.d.sync += digit_index.eq(digit_index + 1)
        # The next frame's counts are cleared a cycle into ARRIVE, from a register: the state logic does not
        # reach their enables (the next frame's energies come after the compressor has drained and sent this one).
        with m.If(restart):
            m.d.sync += reset_frame

        # -- the mask pass: above the threshold, or equal and among the first `ties` --
        # The comparison in bytes, then combined from the most significant
        # down: no carry chain longer than a byte's.
        above, equal = Const(0), Const(1)
        for part, low in enumerate(range(0, self.energy_bits, COMPARE_BITS)):
            high = min(low + COMPARE_BITS, self.energy_bits)
            part_above, part_equal = Signal(name=f"mask_above{part}"), Signal(name=f"mask_equal{part}")
            m.d.sync += [part_above.eq(stored[low:high] > threshold[low:high]),
                         part_equal.eq(stored[low:high] == threshold[low:high])]
            above, equal = part_above | (part_equal & above), part_equal & equal
        above_reg, equal_reg = Signal(name="mask_above"), Signal(name="mask_equal")
        m.d.sync += [above_reg.eq(above), equal_reg.eq(equal)]
        above, equal = above_reg, equal_reg
        verdict_valid = delay(m, mask_valid, 2, "mask_valid_s1")
        # Whether ties remain is a register of its own, kept beside the count.
        ties_left = Signal(name="mask_ties_left")
        kept_tie = equal & ties_left
        with m.If(finish):
            m.d.sync += [threshold.eq(prefix), ties.eq(rem), ties_left.eq(rem != 0)]
        with m.Elif(verdict_valid & kept_tie):
            m.d.sync += [ties.eq(ties - 1), ties_left.eq(ties != 1)]
        m.d.sync += [self.verdicts.valid.eq(verdict_valid), self.verdicts.payload.eq(above | kept_tie)]
        return m
