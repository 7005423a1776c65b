"""Histogram of radix digits in block RAM, and the scan that finds the k-th largest digit."""

import operator
from dataclasses import dataclass
from functools import reduce

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_positive_int, set_validated
from .block_ram import BlockRAM
from .pipeline import RELAY, delay, prefix_sums, prefix_sums_depth
from .spec_component import SpecComponent

__all__ = ["RadixHistogramSpec", "RadixHistogram"]


#: Width of each piece of the comparisons with ``need`` (one short carry chain each).
COMPARE_BITS = 4


@dataclass(frozen=True)
class RadixHistogramSpec:
    """Parameters of a :class:`RadixHistogram` (see there), validated, and the facts derived from them."""

    digit_bits: int
    max_count: int

    def __post_init__(self):
        digit_bits, max_count = self.digit_bits, self.max_count
        set_validated(self, digit_bits=check_positive_int(digit_bits, "digit_bits"))
        if self.digit_bits < 2:
            raise ValueError(f"digit_bits: must be >= 2, got {digit_bits}")
        set_validated(self, max_count=check_positive_int(max_count, "max_count"))

    @property
    def entries(self):
        """Memory entries."""
        return (1 << self.digit_bits) // RadixHistogram.ENTRY_BINS

    @property
    def _sum_depth(self):
        # The prefix sums over the entry's bins.
        return prefix_sums_depth(RadixHistogram.ENTRY_BINS)

    @property
    def verdict_depth(self):
        """Cycles from an entry's read to its verdict: read, sums, running total, comparisons of the
        pieces and of the whole, decision."""
        return BlockRAM.LATENCY + self._sum_depth + 4

    @property
    def scan_latency(self):
        """Cycles from ``scan`` to ``scan_done``: the request's relay, the entries, the verdict."""
        return 1 + self.entries + self.verdict_depth + 1

    @property
    def update_latency(self):
        """Cycles after an update before a scan may start (its write must be visible)."""
        return BlockRAM.LATENCY + 1


class RadixHistogram(SpecComponent):
    """Counts of ``2**digit_bits`` digit values, and a scan for the bin where the k-th largest lies.

    Counts live in block RAM, ``ENTRY_BINS`` adjacent bins per entry, so a
    scan takes ``2**digit_bits / ENTRY_BINS`` cycles. An update reads its
    bin's entry and writes it back incremented ``BlockRAM.LATENCY`` cycles
    later. Its read misses the writes of the ``BlockRAM.LATENCY`` updates
    just before it (still in flight), so it adds to each bin of its entry,
    besides its own count, one for each of those that counted that bin:
    every write then holds the entry's whole counts so far, and the last
    write of an entry wins. The scan reads the bins from the largest digit
    down and clears every entry behind it, so the histogram is empty when
    it ends. A reset starts such a scan too (memories keep their contents
    through a reset); ``ready`` is low until it has cleared them.

    Parameters
    ----------
    digit_bits : int
        Width of a digit, >= 2.
    max_count : int
        Largest count a bin (and the scan's ``need``) can reach.

    Attributes
    ----------
    ready : Out(1)
        No scan is running or clearing: updates may come.
    update : In(1)
        Count ``digit`` this cycle (at most one per cycle, only while ``ready``).
    digit : In(digit_bits)
    scan : In(1)
        Start a scan for the ``need``-th largest counted digit (``need`` >= 1).
    need : In(range(max_count + 1))
    scan_done : Out(1)
        One cycle, ``scan_latency`` cycles after ``scan``: ``found`` holds the
        digit, ``remaining`` how many of its bin are among the ``need`` largest.
    found : Out(digit_bits)
    remaining : Out(range(max_count + 1))
    """

    #: Bins per memory entry: bins scanned per cycle.
    ENTRY_BINS = 4
    #: Updates before an update whose writes its read misses (their counts are forwarded to it).
    IN_FLIGHT = BlockRAM.LATENCY

    Spec = RadixHistogramSpec

    @classmethod
    def members(cls, spec):
        return {
            "ready": Out(1),
            "update": In(1),
            "digit": In(spec.digit_bits),
            "scan": In(1),
            "need": In(range(spec.max_count + 1)),
            "scan_done": Out(1),
            "found": Out(spec.digit_bits),
            "remaining": Out(range(spec.max_count + 1)),
        }

    def elaborate(self, platform):
        m = Module()
        bins, in_flight = self.ENTRY_BINS, self.IN_FLIGHT
        count = range(self.max_count + 1)
        entry_shape = data.ArrayLayout(count, bins)
        select = (bins - 1).bit_length()
        m.submodules.counts = ram = BlockRAM(shape=entry_shape, depth=self.entries)

        # -- scan counter (a reset starts a scan: it clears the memory) --------
        # The request and its `need` reach the scan's registers through relays.
        scan = Signal(name="scan_relay", attrs=RELAY)
        need = Signal.like(self.need, name="need_relay", attrs=RELAY)
        m.d.sync += [scan.eq(self.scan), need.eq(self.need)]
        scanning = Signal(name="scanning", init=1)
        scan_entry = Signal(range(self.entries), name="scan_entry", init=self.entries - 1)
        scan_end = Signal(init=self.entries == 1, name="scan_end")  # at entry 0, from a register
        with m.If(scan):
            m.d.sync += [scanning.eq(1), scan_entry.eq(self.entries - 1), scan_end.eq(self.entries == 1)]
        with m.Elif(scanning):
            m.d.sync += [scan_entry.eq(scan_entry - 1), scan_end.eq(scan_entry == 1)]
            with m.If(scan_end):
                m.d.sync += scanning.eq(0)

        # -- updates: read the entry, write it back incremented ----------------
        entry = self.digit[select:]
        m.d.comb += ram.read_addr.eq(Mux(scanning, scan_entry, entry))
        latency = BlockRAM.LATENCY
        upd_valid, upd_entry = (delay(m, v, latency, f"upd_{n}") for v, n in ((self.update, "valid"), (entry, "entry")))
        # The last updates, newest first: the one issued a cycle ago, then the
        # `in_flight` before it, whose writes its read missed.
        recent = [(self.update, self.digit)]
        for age in range(in_flight + 1):
            valid, digit = recent[-1]
            recent.append((delay(m, valid, 1, f"recent{age}_valid"), delay(m, digit, 1, f"recent{age}_digit")))
        recent = recent[1:]
        # Its write holds its entry's every bin, so each bin adds the updates in
        # flight to that bin of the same entry (and the update itself, in its bin).
        same = Signal(in_flight, name="upd_same_entry")
        m.d.sync += same.eq(Cat(valid & (digit[select:] == recent[0][1][select:]) for valid, digit in recent[1:]))
        onehot = [Signal(bins, name=f"upd_bin{age}") for age in range(in_flight + 1)]
        m.d.sync += [onehot[age].eq(Cat(digit[:select] == b for b in range(bins))) for age, (_, digit) in
                     enumerate(recent)]
        # Bins x (itself, then the updates in flight).
        matches = Signal(bins * (in_flight + 1), name="upd_matches")
        m.d.sync += matches.eq(Cat(Cat(onehot[0][b], *(same[k] & onehot[k + 1][b] for k in range(in_flight)))
                                   for b in range(bins)))
        add = Signal(entry_shape, name="upd_add")
        m.d.sync += [add[b].eq(sum(matches[b * (in_flight + 1) + k] for k in range(in_flight + 1)))
                     for b in range(bins)]
        # `add` is ready 4 cycles after the update, `read_data` after `latency`.
        assert latency >= 4
        add = delay(m, add, latency - 4, "upd_add_relay", relay=True)
        # Entries are cleared two cycles after the scan reads them (after the read, never beside it).
        clear_valid, clear_entry = (delay(m, v, 2, f"clear_{n}")
                                    for v, n in ((scanning, "valid"), (scan_entry, "entry")))
        # Ready once the last clear is visible to an update's read.
        clear_landed = delay(m, clear_valid, 1, "clear_landed")
        m.d.sync += self.ready.eq(~(self.scan | scan | scanning | clear_valid | clear_landed))
        incremented = Signal(entry_shape, name="incremented")
        m.d.comb += [incremented[b].eq(ram.read_data[b] + add[b]) for b in range(bins)]
        m.d.comb += [
            ram.write_en.eq(clear_valid | upd_valid),
            ram.write_addr.eq(Mux(clear_valid, clear_entry, upd_entry)),
            ram.write_data.eq(Mux(clear_valid, 0, incremented.as_value())),
        ]

        # -- scan verdict --------------------------------------------------------
        read_valid, read_entry = (delay(m, v, latency, f"read_{n}") for v, n in
                                  ((scanning, "valid"), (scan_entry, "entry")))
        totals = [ram.read_data[b] for b in range(bins)]
        # Counts from the entry's largest bin down to each bin, inclusive, as
        # sums of sums of pairs (one adder per stage).
        running = prefix_sums(m, totals[::-1], count, "running")
        running_valid, running_entry = (delay(m, v, self._sum_depth, f"running_{n}") for v, n in
                                        ((read_valid, "valid"), (read_entry, "entry")))
        # The count of all larger bins, `before`, is the only value carried from
        # entry to entry; the comparisons with `need` are pipelined after it.
        before = Signal(count, name="before")
        reached = Signal(entry_shape, name="reached")  # before + running
        with m.If(scan):
            m.d.sync += before.eq(0)
        with m.Elif(running_valid):
            m.d.sync += before.eq(before + running[bins - 1])
        for j in range(bins):
            m.d.sync += reached[j].eq(before + running[j])
        reached_valid, reached_entry, reached_before = (delay(m, v, 1, f"reached_{n}") for v, n in
                                                        ((running_valid, "valid"), (running_entry, "entry"),
                                                         (before, "before")))
        # Per bin: does the running count reach `need` (compared in pieces of
        # COMPARE_BITS, then combined from the most significant down), and
        # how many would remain.
        crossing = Signal(bins, name="crossing")
        remain = Signal(entry_shape, name="remain")
        width = len(need)
        for j in range(bins):
            # Each bin compares with its own copy of `need` (it also feeds the subtractions).
            bin_need = Signal(count, name=f"need_relay_{j}", attrs=RELAY)
            with m.If(scan):
                m.d.sync += bin_need.eq(need)
            reaches = Const(1)  # the pieces below reach theirs (nothing below the lowest)
            for piece, low in enumerate(range(0, width, COMPARE_BITS)):
                high = min(low + COMPARE_BITS, width)
                above, equal = Signal(name=f"above{j}_{piece}"), Signal(name=f"equal{j}_{piece}")
                m.d.sync += [above.eq(reached[j][low:high] > bin_need[low:high]),
                             equal.eq(reached[j][low:high] == bin_need[low:high])]
                reaches = above | (equal & reaches)
            m.d.sync += [remain[j].eq(bin_need - (reached[j - 1] if j else reached_before)),
                         crossing[j].eq(reaches)]
        remain = delay(m, remain, 1, "remain_s2")
        verdict_valid, verdict_entry = (delay(m, v, 2, f"verdict_{n}") for v, n in
                                        ((reached_valid, "valid"), (reached_entry, "entry")))
        # Running counts only grow with j, so the crossings do too: the
        # entry holds the digit when its last bin crosses, and the digit is
        # the first crossing bin's, found without a priority chain.
        first = [crossing[j] & ~crossing[j - 1] if j else crossing[j] for j in range(bins)]
        found = Signal(name="found_flag")
        with m.If(scan):
            m.d.sync += found.eq(0)
        with m.Elif(verdict_valid & ~found & crossing[bins - 1]):
            m.d.sync += [
                found.eq(1),
                self.found.eq(Cat(reduce(operator.or_, (first[j].replicate(select) & Const(bins - 1 - j, select)
                                                         for j in range(bins))), verdict_entry)),
                self.remaining.eq(reduce(operator.or_, (first[j].replicate(len(self.remaining)) & remain[j]
                                                        for j in range(bins)))),
            ]
        finished = delay(m, scanning & scan_end, self.verdict_depth + 1, "scan_finished")
        m.d.comb += self.scan_done.eq(finished)
        return m
