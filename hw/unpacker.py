"""Reading a compressed frame back, with its checks (golden: ``golden.unpack``)."""

import operator
from dataclasses import dataclass

from amaranth.hdl import C, Cat, Module, Mux, Signal
from amaranth.lib import stream
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_positive_int, set_validated
from ..spec.frame import CompressedFrame
from .block_ram import BlockRAM
from .frame_beat import word_beat
from .memory_ports import read_port
from .pipeline import delay, sum_tree, sum_tree_depth
from .spec_component import SpecComponent

__all__ = ["UnpackerSpec", "Unpacker"]

#: Bits summed per register stage of the bitmap's population count.
POPCOUNT_GROUP = 8


@dataclass(frozen=True)
class UnpackerSpec(CompressedFrame):
    """Parameters of an :class:`Unpacker` (see there), validated, and the facts derived from them."""

    banks: int = 1

    def __post_init__(self):
        super().__post_init__()
        banks = check_positive_int(self.banks, "banks")
        if banks not in Unpacker.BANKS:
            raise ValueError(f"banks: must be 1 or 2, got {banks}")
        set_validated(self, banks=banks)

    @property
    def receive_cycles(self):
        """Cycles from a frame's first word to the next frame's first word, with words always available and a
        free bank: the words, then the check."""
        return self.words_per_frame + self.check_latency

    @property
    def _popcount_depth(self):
        # The word's register, the group sums' registers, then the tree.
        return 2 + sum_tree_depth(-(-self.word_bits // POPCOUNT_GROUP))

    @property
    def check_latency(self):
        """Cycles from a frame's last word to ``stored`` or ``refused``: the population count's pipeline."""
        return self._popcount_depth + 2


class Unpacker(SpecComponent):
    """Stores one compressed frame, bitmap and kept codes, and checks it before anyone reads it.

    Words arrive as :class:`~wccgen.hw.compressor.Compressor` emits them
    (``word_bits = lanes * bit_a``). The bitmap words go to a mask memory,
    and the code words, realigned past the bitmap's last partial word, to a
    code memory, one entry per beat of ``lanes`` codes. A frame is refused,
    exactly as ``golden.unpack`` raises ``StreamError``, when it is
    truncated (``last`` too early, or a ``first`` inside it), over-long (no
    ``last`` on its final word: the words up to the next ``last`` are
    dropped), does not start with ``first``, marks other than ``keep``
    positions, holds the code ``-2**(bit_a-1)``, or has a non-zero padding
    bit. A refused frame pulses ``refused`` and leaves nothing behind; a good
    one raises ``stored`` and holds the memories until ``release``. Its
    ``ready`` is a register: it waits only on ``release`` (and for one cycle
    after a one-word frame inside another, both refused), so a corrupt
    stream cannot hang it.

    With ``banks=2`` the memories hold two frames: the next frame is received
    and checked into one bank while the stored one is read from the other.
    A bank spans a power of two of entries, so the bank is the address's top
    bit and the read ports need no adder.

    Parameters
    ----------
    positions, keep, channels, lanes : int
    bit_a : int
        Code width.
    banks : int
        Frames held: 1 (the next frame waits for ``release``) or 2.

    Attributes
    ----------
    words : In(stream.Signature(word_beat(lanes * bit_a)))
    stored : Out(1)
        A checked frame is in the memories (level, until ``release``; with two
        banks it stays high when the other bank holds the next frame).
    release : In(1)
        The stored frame (the older one) has been read; its bank may take a new frame.
    refused : Out(1)
        One cycle per refused frame.
    mask_read, code_read : In(read_port(mask_words or code_words, word_bits))
        Read ports of the memories (the stored frame's bank), ``BlockRAM.LATENCY`` cycles.
    """

    #: Frame banks an Unpacker may have.
    BANKS = (1, 2)

    Spec = UnpackerSpec

    @classmethod
    def members(cls, spec):
        return {
            "words": In(stream.Signature(word_beat(spec.word_bits))),
            "stored": Out(1),
            "release": In(1),
            "refused": Out(1),
            "mask_read": In(read_port(spec.mask_words, spec.word_bits)),
            "code_read": In(read_port(spec.code_words, spec.word_bits)),
        }

    def _memory(self, entries):
        """A memory of ``banks`` banks of ``entries`` (a bank spans a power of two when there are two)."""
        width = (max(entries, 2) - 1).bit_length()
        depth = max(entries, 2) if self.banks == 1 else 2 << width
        return BlockRAM(shape=self.word_bits, depth=depth), width

    def elaborate(self, platform):
        m = Module()
        w, tail, bits = self.word_bits, self.tail_bits, self.bit_a
        full_mask_words, total = self.positions // w, self.words_per_frame
        mask, mask_width = self._memory(self.mask_words)
        codes, code_width = self._memory(self.code_words)
        m.submodules.mask, m.submodules.codes = mask, codes

        # Banks: `full` marks a bank holding a checked frame; frames are
        # written into the write bank and read from the read bank in turn.
        full = Signal(self.banks, name="full")
        two = self.banks > 1
        write_bank, read_bank = (Signal(name=n) if two else C(0, 1) for n in ("write_bank", "read_bank"))

        def banked(addr, width, bank):
            return Cat(addr[:width], bank) if two else addr

        m.d.comb += [mask.read_addr.eq(banked(self.mask_read.addr, mask_width, read_bank)),
                     self.mask_read.data.eq(mask.read_data),
                     codes.read_addr.eq(banked(self.code_read.addr, code_width, read_bank)),
                     self.code_read.data.eq(codes.read_data)]
        # The bank state's next values, so that `stored` and `free` (whether
        # the write bank may take a frame) are registers, exact in the same
        # cycle as the state, and no bank multiplexer lies before `take`.
        full_next = Signal(self.banks, name="full_next")
        write_next, read_next = (Signal(name=n) if two else C(0, 1) for n in ("write_bank_next", "read_bank_next"))
        free = Signal(init=1, name="free")
        m.d.comb += full_next.eq(full)
        if two:
            m.d.comb += [write_next.eq(write_bank), read_next.eq(read_bank)]
            m.d.sync += [write_bank.eq(write_next), read_bank.eq(read_next)]
        m.d.sync += [full.eq(full_next), self.stored.eq(full_next.bit_select(read_next, 1)),
                     free.eq(~full_next.bit_select(write_next, 1))]
        with m.If(self.stored & self.release):
            m.d.comb += full_next.bit_select(read_bank, 1).eq(0)
            if two:
                m.d.comb += read_next.eq(~read_bank)

        word, first, last = self.words.payload.data, self.words.payload.first, self.words.payload.last
        index = Signal(range(total + 1), name="word_index")
        # Where the next word falls, kept in registers that follow `index`, so
        # no comparator sits between the counter and the checks. Each place is
        # a comparison of the index with a constant; moving on compares the
        # current index with the constant less one (no adder on the way).
        places = {
            "at_start": ("==", 0),
            "in_mask": ("<", full_mask_words),
            "at_tail": ("==", full_mask_words if tail else -1),
            "in_values": (">=", full_mask_words + 1 if tail else full_mask_words),
            "at_final": ("==", total - 1),
        }
        compare = {"==": operator.eq, "<": operator.lt, ">=": operator.ge}
        flags = {name: Signal(init=bool(compare[op](0, c)), name=name) for name, (op, c) in places.items()}

        def restart(at=0):
            return [index.eq(at)] + [flags[name].eq(compare[op](at, c)) for name, (op, c) in places.items()]

        def advance():
            return [index.eq(index + 1)] + [flags[name].eq(compare[op](index, c - 1))
                                            for name, (op, c) in places.items()]

        take = Signal(name="take")  # the word is consumed as part of the frame
        # A word with `first` inside a frame ends that frame, refused, and is the next frame's first word: it
        # is written and checked where a frame's first word goes.
        intruder = Signal(name="intruder")
        m.d.comb += intruder.eq(self.words.valid & first & ~flags["at_start"])
        at_start, in_mask, at_tail, in_values, at_final = (
            Mux(intruder, compare[places[name][0]](0, places[name][1]), flags[name])
            for name in ("at_start", "in_mask", "at_tail", "in_values", "at_final"))
        word_place = Mux(intruder, 0, index)

        # -- bitmap: stored, and its ones counted --------------------------------
        mask_bits = Mux(at_tail, word & ((1 << tail) - 1) if tail else 0, word)
        m.d.comb += [mask.write_addr.eq(banked(word_place, mask_width, write_bank)), mask.write_data.eq(mask_bits),
                     mask.write_en.eq(take & (in_mask | at_tail))]
        # The word's bits, and whether they count, are registered before the
        # count: `take` comes late (from `valid` and the state), too late to
        # steer the group sums in the same cycle.
        counted = Signal(name="counted")
        counted_bits = Signal(w, name="counted_bits")
        m.d.sync += [counted.eq(take & (in_mask | at_tail)), counted_bits.eq(mask_bits)]
        ones_groups = []
        for low in range(0, w, POPCOUNT_GROUP):
            group = Signal(range(POPCOUNT_GROUP + 1), name=f"ones{low // POPCOUNT_GROUP}")
            bits_here = sum(counted_bits[i] for i in range(low, min(low + POPCOUNT_GROUP, w)))
            m.d.sync += group.eq(Mux(counted, bits_here, 0))
            ones_groups.append(group)
        ones = sum_tree(m, ones_groups, range(w + 1), "ones_sum")
        marked = Signal(range(self.positions + 1), name="marked")

        # -- codes: realigned past the bitmap's tail ------------------------------
        held = Signal(max(w - tail, 1), name="held")  # the previous word's bits above the tail
        chunk_valid = take & in_values
        if tail:
            chunk = Cat(held, word[:tail])
            with m.If(take & (at_tail | in_values)):
                m.d.sync += held.eq(word[tail:])
            padding_bad = take & at_final & (word[tail:] != 0)
        else:
            chunk = word
            padding_bad = 0
        code_index = Signal(range(max(self.code_words, 2)), name="code_index")
        m.d.comb += [codes.write_addr.eq(banked(code_index, code_width, write_bank)), codes.write_data.eq(chunk),
                     codes.write_en.eq(chunk_valid)]
        with m.If(chunk_valid):
            m.d.sync += code_index.eq(code_index + 1)
        forbidden = 1 << (bits - 1)  # the code -2**(bit_a-1), as raw bits
        code_bad = chunk_valid & Cat(chunk[lane * bits:(lane + 1) * bits] == forbidden
                                     for lane in range(self.lanes)).any()

        # -- frame sequencing ---------------------------------------------------------
        bad = Signal(name="bad")
        check = Signal(range(self.check_latency + 1), name="check_wait")
        end_frame = restart() + [code_index.eq(0)]
        m.d.sync += self.refused.eq(0)
        with m.FSM(name="unpack"):
            with m.State("RECEIVE"):
                # `ready` is a register (between frames a word waits for a free bank; inside one the bank is
                # free), so it never depends on the word offered.
                m.d.comb += [self.words.ready.eq(free), take.eq(self.words.valid & free)]
                with m.If(take):
                    m.d.sync += advance()
                    with m.If(code_bad | padding_bad):
                        m.d.sync += bad.eq(1)
                    with m.If(intruder):  # the frame is truncated by the next frame's start
                        m.d.sync += restart(1) + [code_index.eq(0), bad.eq(0), self.refused.eq(1)]
                        with m.If(last):  # the next frame is this one word: refused too, a cycle later
                            m.d.sync += end_frame
                            m.next = "REFUSE"
                    with m.Elif(at_start & ~first):
                        m.d.sync += end_frame + [bad.eq(0), self.refused.eq(1)]
                        with m.If(~last):
                            m.next = "SKIP"  # not a frame's start: drop up to its end
                    with m.Elif(at_final):
                        with m.If(last):
                            m.d.sync += [check.eq(self.check_latency - 1)] + end_frame
                            m.next = "CHECK"
                        with m.Else():
                            m.d.sync += end_frame + [bad.eq(0), self.refused.eq(1)]
                            m.next = "SKIP"  # over-long: drop the rest of it
                    with m.Elif(last):  # truncated
                        m.d.sync += end_frame + [bad.eq(0), self.refused.eq(1)]
            with m.State("REFUSE"):
                m.d.sync += self.refused.eq(1)
                m.next = "RECEIVE"
            with m.State("SKIP"):
                m.d.comb += self.words.ready.eq(1)
                with m.If(self.words.valid & last):
                    m.next = "RECEIVE"
            with m.State("CHECK"):  # the population count drains
                m.d.sync += check.eq(check - 1)
                with m.If(check == 0):
                    with m.If(bad | (marked != self.keep)):
                        m.d.sync += [bad.eq(0), self.refused.eq(1)]
                    with m.Else():
                        m.d.comb += full_next.bit_select(write_bank, 1).eq(1)
                        if two:
                            m.d.comb += write_next.eq(~write_bank)
                    m.next = "RECEIVE"
        # A frame's count starts with its first word's ones (a refused frame's may still be in flight).
        ones_first = delay(m, take & at_start, self._popcount_depth, "ones_first")
        m.d.sync += marked.eq(Mux(ones_first, ones, marked + ones))
        return m
