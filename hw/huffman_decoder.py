"""TCI's canonical Huffman decoder: one symbol per cycle, cut and corrupt frames flagged
(golden: ``golden.huffman_decoder.decode_frame_symbols``)."""

from dataclasses import dataclass

from amaranth.hdl import C, Cat, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..golden.huffman import ERRORS, ESCAPE
from .frame_beat import frame_beat, word_beat
from .huffman_frame import HuffmanFrameSpec
from .output_queue import OutputQueue
from .pipeline import RELAY, compare_constant, delay
from .spec_component import SpecComponent

__all__ = ["HuffmanDecoder", "HuffmanDecoderSpec"]

#: Bits of a stream beat: one byte, as the integer model's frames are bytes.
BYTE = 8


@dataclass(frozen=True)
class HuffmanDecoderSpec(HuffmanFrameSpec):
    """Parameters of a :class:`HuffmanDecoder` (see there), validated, and the facts derived from them."""

    @property
    def limits(self):
        """``{length: (first code, codewords of that length)}`` for lengths 1..max_length."""
        out, first = {}, 0
        for length in range(1, self.table.max_length + 1):
            count = sum(1 for _, _, n in self.codewords if n == length)
            out[length] = (first, count)
            first = (first + count) << 1
        return out

    @property
    def slots(self):
        """Bytes the ring holds: the bytes a window at any bit of a byte spans, and two more, so that bytes are
        written while the window's are read; and more than two symbols' bits can span, so that the read
        position never comes round, within the two cycles its decisions lag the ring, to a slot the ring still
        shows the lap before's byte in."""
        return max(-(-(self.window + BYTE - 1) // BYTE) + 2, (2 * self.window + BYTE - 1) // BYTE + 1)

    @property
    def taken_lengths(self):
        """The bit counts a symbol can take, ascending: a codeword's length, the escape's with its raw bits, and
        a longest codeword's (bits that begin no codeword)."""
        codewords = {n for n, (_, number) in self.limits.items() if number}
        return sorted(codewords | {self.table.codewords[ESCAPE][1] + self.table.raw_bits, self.table.max_length})

    @property
    def ring_bits(self):
        """Bits of the ring the bytes are written into."""
        return BYTE * self.slots

    @property
    def latency(self):
        """Cycles from a symbol's decision to its entry into the output queue: the decision counted, its window
        (from each byte's bits, then from the bytes'), its length, its index and where its bits end, the symbol
        and the bits checked, the symbol out."""
        return 7

    @property
    def settle_cycles(self):
        """Cycles from the frame's last decision being counted to its verdict: its checks through the pipeline,
        and the padding's."""
        return self.latency - 2


def _one_hot_or(choices, width):
    """The value of the one ``(select, value)`` whose select is high (0 if none), as an AND-OR."""
    out = C(0, width)
    for select, value in choices:
        out = out | (C(value, width) if isinstance(value, int) else value[:width]) & select.replicate(width)
    return out


def _codeword(spec, bits):
    """What the bits ``bits`` (a list, stream order) begin: ``(chosen, found, escape)``, ``chosen`` the one-hot
    ``{length: high}`` of the codeword's length.

    The code is canonical, so a codeword is ``n`` bits long when its first
    ``n`` bits (first bit most significant) lie below the first code of rank
    ``n + 1``, and not its first ``n - 1``: once below, a prefix stays below
    at every longer length, so each length needs only its own comparison.
    """
    below = {}
    for n, (first, number) in spec.limits.items():
        prefix = Cat(*reversed(bits[:n]))
        if first + number == 0:  # no codeword this short, nor any shorter
            below[n] = C(0, 1)
        elif first + number < 1 << n:
            below[n] = compare_constant(Cat(prefix, C(0, 1)).as_signed(), first + number)[0]
        else:
            below[n] = C(1, 1)
    chosen = {n: below[n] & ~below[n - 1] if n > 1 else below[n] for n in below}
    escape_code, escape_length = spec.table.codewords[ESCAPE]
    escape = chosen[escape_length] & (Cat(*reversed(bits[:escape_length])) == escape_code)
    return chosen, below[spec.table.max_length], escape


def _taken_bits(spec, chosen, escape):
    """``[(select, bits), ...]``: the bits a symbol takes, one-hot over its codeword's length and the escape."""
    escape_length = spec.table.codewords[ESCAPE][1]
    takes = [(chosen[n] & ~escape if n == escape_length else chosen[n], n)
             for n, (_, number) in spec.limits.items() if number]
    return takes + [(escape, escape_length + spec.table.raw_bits)]


class HuffmanDecoder(SpecComponent):
    """Decodes the frames of a canonical, length-limited Huffman code with an escape, one symbol per cycle.

    A frame's bytes arrive as :func:`numpy.packbits` (``bitorder="little"``)
    writes the codewords' bits, its last byte marked ``last``; its
    ``channels * height * width`` symbols leave in stream order (position
    after position, the channels of each), ``raw_bits`` wide, ``first`` and
    ``last`` marking the frame's ends.

    The bytes are written in turn into the slots of a ring of bits, never
    moved. For every bit of the ring, how many bits the symbol beginning
    there takes is worked out from the ring's bits in the cycle before, if
    the bytes it needs are all in. The read position is one-hot over the
    ring's bits, so the loop that makes one decision per cycle is only, for
    each bit, an AND-OR of the few positions a symbol can end there from.
    The decision's window of bits is taken off the loop, and the decision is
    counted the cycle after; its codeword's length, its index in canonical
    order and the symbol follow in the next cycles. One symbol per cycle
    flows while the codewords average at most 8 bits.

    A frame is refused exactly as ``golden.huffman.decode_frame`` raises
    (``golden.huffman_decoder.decode_frame_symbols`` names the kind): cut
    short (``last`` came before the frame's codewords ended), bits that
    begin no codeword (an incomplete code), bytes after the one holding the
    last codeword (over-long), or a non-zero padding bit. After its last
    byte the ring is filled with zero bytes, so decisions go on, and each
    symbol's bits are checked against the frame's length three cycles
    later. A refused frame still has all its symbols emitted (those from
    the error on are 0), so what follows stays in step;
    ``refused_frames`` counts it and ``last_error`` holds its kind
    (:data:`~wccgen.golden.huffman.ERRORS`). The bytes of a frame after its
    error are dropped up to its ``last``: nothing waits on a corrupt stream.

    Parameters
    ----------
    table : HuffmanTable
        The code (or its fields as a dict).
    channels, height, width : int
        The shape of a frame of symbols.

    Attributes
    ----------
    stream : In(stream.Signature(word_beat(8)))
    symbols : Out(stream.Signature(frame_beat(raw_bits, 1)))
    refused_frames : Out(16)
    last_error : Out(3)
    """

    Spec = HuffmanDecoderSpec

    @classmethod
    def members(cls, spec):
        return {
            "stream": In(stream.Signature(word_beat(BYTE))),
            "symbols": Out(stream.Signature(frame_beat(spec.table.raw_bits, 1))),
            "refused_frames": Out(16),
            "last_error": Out(3),
        }

    def elaborate(self, platform):
        m = Module()
        spec, table = self.spec, self.table
        m.submodules.queue = queue = OutputQueue(self.symbols.payload.shape(), spec.latency - 1, burst=2)
        wiring.connect(m, queue.o, wiring.flipped(self.symbols))

        window, count, slots, size = spec.window, spec.symbols_per_frame, spec.slots, spec.ring_bits
        # DECODE: symbols from the ring; ZEROS: the rest of a refused frame's symbols, as 0; CHECK: the frame's
        # end, once its last symbol's checks are through; DRAIN: its bytes up to its `last`, dropped.
        # RESTART: two cycles to empty the ring (the first clears, through registers: it reaches most of them),
        # bytes of the next frame already taken in the second.
        state = Signal(range(5), name="state")
        DECODE, ZEROS, CHECK, DRAIN, RESTART = range(5)
        done = Signal(name="done")  # the frame is over; the next starts from an empty ring
        clear = Signal(name="clear")
        intake = Signal(name="intake")  # the frame's bytes are taken in
        m.d.comb += intake.eq((state == DECODE) | ((state == RESTART) & ~clear))

        # The ring: byte slots taken in turn, each full from the cycle after until the read position has left it.
        ring = Signal(size, name="ring")
        full = Signal(slots, name="full")
        at = Signal(range(slots), name="write_slot")
        at_one_hot = Signal(slots, name="write_slot_one_hot", init=1)  # the same, for the in-order checks
        ended = Signal(name="ended")  # the frame's last byte is in
        frame_bits = max(count * window, 1) + size + BYTE
        real = Signal(range(frame_bits + 1), name="real_bits")  # bits of the frame's bytes taken
        beat = self.stream.payload
        # Whether the write slot is free, from the cycle before's flags: a slot freed since waits a cycle, and
        # the input's `ready` is one LUT from registers.
        free = Signal(name="free", init=1)
        m.d.comb += self.stream.ready.eq((intake & ~ended & free) | (state == DRAIN))
        # The frame's bytes, then zero bytes: the symbols near its end are decided as in the middle, and checked
        # against its length after.
        write_byte, write_zero = Signal(name="write_byte"), Signal(name="write_zero")
        m.d.comb += [write_byte.eq(self.stream.valid & self.stream.ready & intake),
                     write_zero.eq((state == DECODE) & ended & free)]
        m.d.sync += free.eq(Mux(write_byte | write_zero, ~full.bit_select(Mux(at == slots - 1, 0, at + 1), 1),
                                ~full.bit_select(at, 1)))
        # A byte taken is written into its slot the cycle after, from registers: it reaches several copies.
        written, written_byte = Signal(slots, name="written"), Signal(BYTE, name="written_byte")
        m.d.sync += [written.eq(0), written_byte.eq(Mux(write_byte, beat.data, 0))]
        with m.If(write_byte | write_zero):
            m.d.sync += [written.eq(1 << at), at.eq(Mux(at == slots - 1, 0, at + 1)),
                         at_one_hot.eq(at_one_hot.rotate_left(1))]
        # Each slot's offsets read their own copy of the bytes their windows span: a byte of the ring alone
        # would be one net to the length logic of every offset within a window of it, across the device.
        span = -(-(window + BYTE - 1) // BYTE)
        copies = [Signal(size, name=f"ring_for_slot{slot}", attrs=RELAY) for slot in range(slots)]
        for slot in range(slots):
            byte = slice(BYTE * slot, BYTE * (slot + 1))
            with m.If(written[slot]):
                m.d.sync += ring[byte].eq(written_byte)
                m.d.sync += [copies[(slot - k) % slots][byte].eq(written_byte) for k in range(span)]
        with m.If(write_byte):
            m.d.sync += real.eq(real + BYTE)
            with m.If(beat.last):
                m.d.sync += ended.eq(1)

        # For every bit of the ring, from the ring's bits: how many bits the symbol beginning there takes (one-hot
        # over the lengths a symbol can take). A codeword's length depends only on its own bits, so the bits after
        # it need not be in yet; bits that begin no codeword take a whole longest codeword's (the frame is
        # refused; the decisions after it are not used).
        lengths = spec.taken_lengths
        sized = {n: Signal(size, name=f"sized{n}") for n in lengths}  # sized[n][o]: the symbol at o takes n bits
        for offset in range(size):
            bits = [copies[offset // BYTE][(offset + i) % size] for i in range(window)]
            chosen, found, escape = _codeword(spec, bits)
            takes = _taken_bits(spec, chosen, escape) + [(~found, table.max_length)]
            m.d.sync += [sized[n][offset].eq(Cat(*[select for select, length in takes if length == n]).any())
                         for n in lengths]
        # The cycle after, whether the bytes of those bits are in: each full then and the cycle before (so it
        # held the bytes the lengths were worked out from), and written in order from the offset's, not past the
        # write slot (a slot beyond it holds a byte of the lap before).
        was_full = Signal(slots, name="was_full")
        m.d.sync += was_full.eq(full)
        held = Signal(slots, name="held")
        m.d.comb += held.eq(full & was_full)
        moves = {n: Signal(size, name=f"moves{n}") for n in lengths}  # moves[n][o]: the symbol at o takes n bits
        stays = Signal(size, name="stays", init=(1 << size) - 1)  # the symbol at o is not in yet
        for offset in range(size):
            # in_slots[k]: the k + 1 bytes from the offset's are in.
            slot, in_slots = offset // BYTE, []
            for k in range(-(-(offset % BYTE + window) // BYTE)):
                here = (slot + k) % slots
                in_slots.append(held[here] & (in_slots[-1] & ~at_one_hot[here] if in_slots else 1))
            moving = {n: sized[n][offset] & in_slots[(offset % BYTE + n - 1) // BYTE] for n in lengths}
            m.d.sync += [moves[n][offset].eq(moving[n]) for n in lengths]
            m.d.sync += stays[offset].eq(~Cat(*moving.values()).any())

        # The loop: one decision per cycle. The read position is one-hot over the ring's bits, so the next is
        # for each bit an AND-OR of the few positions a symbol can end there from.
        position = Signal(size, name="position", init=1)
        left = Signal(range(count + 1), name="left", init=count)  # symbols of the frame not yet counted
        more, first = Signal(init=1, name="more"), Signal(init=1, name="first")
        last_one = Signal(name="last_one", init=count == 1)
        # A decision is counted the cycle after (s1), so that its test reaches no counter in its own cycle; the
        # one in flight is the last when last_one is.
        s1_take, s1_zero = Signal(name="s1_take"), Signal(name="s1_zero")
        remaining = Signal(name="remaining")
        m.d.comb += remaining.eq(more & ~(last_one & (s1_take | s1_zero)))
        go = Signal(name="go")
        m.d.comb += go.eq((state == DECODE) & remaining & queue.room)
        next_position = Signal(size, name="next_position")  # after a decision
        for bit in range(size):
            m.d.comb += next_position[bit].eq(Cat(position[bit] & stays[bit],
                                                  *[position[(bit - n) % size] & moves[n][(bit - n) % size]
                                                    for n in lengths]).any())
        # The slot of the read position is registered with it, worked out from the next position beside the loop:
        # the slots it has left are then found from registers.
        now_slot = Signal(slots, name="position_slot", init=1)
        with m.If(go):
            m.d.sync += [position.eq(next_position),
                         now_slot.eq(Cat(*[next_position[BYTE * slot:BYTE * (slot + 1)].any()
                                           for slot in range(slots)]))]
        zero = Signal(name="zero")
        m.d.comb += zero.eq((state == ZEROS) & remaining & queue.room)
        m.d.sync += [s1_take.eq(go & (position & ~stays).any()), s1_zero.eq(zero)]
        with m.If(s1_take | s1_zero):
            m.d.sync += [left.eq(left - 1), more.eq(left != 1), last_one.eq(left == 2), first.eq(0)]
        # A byte is free once the read position has left it: the slots from the previous position's up to (not
        # including) the current one's, around the ring.
        left_slot = Signal(slots, name="previous_slot", init=1)
        m.d.sync += left_slot.eq(now_slot)
        passed = Signal(slots, name="passed")
        for slot in range(slots):
            m.d.comb += passed[slot].eq(Cat(*[left_slot[(slot - k) % slots]
                                              & ~Cat(*[now_slot[(slot - k + i) % slots] for i in range(k + 1)]).any()
                                              for k in range(slots)]).any())
        m.d.sync += full.eq((full & ~passed) | written)

        # Off the loop. s1: the decision counted, and the read position copied beside the window's logic (the
        # position's own bits reach all over the loop); s2a: the window's bits from the positions of each byte;
        # s2: the decision's window; s3: its codeword; s4: its index, and where its bits end; s5: the symbol, and
        # its bits checked against the frame's; s6: the symbol out.
        s1_position = Signal(size, name="s1_position", attrs=RELAY)
        s2a_flags, s2_flags = Signal(4, name="s2a_flags"), Signal(4, name="s2_flags")
        m.d.sync += [s1_position.eq(position), s2a_flags.eq(Cat(s1_take, s1_zero, first, last_one)),
                     s2_flags.eq(s2a_flags)]
        # (In two stages: one AND-OR over all the ring's positions would be one level of logic too many, spread
        # over the device.)
        s2a_parts = [Signal(window, name=f"s2a_window_from_byte{slot}") for slot in range(slots)]
        for slot, part in enumerate(s2a_parts):
            offsets = range(BYTE * slot, BYTE * (slot + 1))
            m.d.sync += part.eq(Cat(*[Cat(*[s1_position[o] & ring[(o + i) % size] for o in offsets]).any()
                                      for i in range(window)]))
        s2_bits = Signal(window, name="s2_bits")
        m.d.sync += s2_bits.eq(Cat(*[Cat(*[part[i] for part in s2a_parts]).any() for i in range(window)]))
        chosen, found, escape = _codeword(spec, list(s2_bits))
        s3_bits, s3_flags = Signal(window, name="s3_bits"), Signal(4, name="s3_flags")
        s3_length = Signal(range(table.max_length + 1), name="s3_length")
        s3_escape, s3_found = Signal(name="s3_escape"), Signal(name="s3_found")
        s3_taken = Signal(range(window + 1), name="s3_taken")
        m.d.sync += [s3_bits.eq(s2_bits), s3_flags.eq(s2_flags),
                     s3_escape.eq(escape), s3_found.eq(found),
                     s3_length.eq(_one_hot_or([(chosen[n], n) for n in chosen], len(s3_length))),
                     s3_taken.eq(_one_hot_or(_taken_bits(spec, chosen, escape), len(s3_taken)))]

        limits = spec.limits
        prefix = {n: Cat(*[s3_bits[i] for i in reversed(range(n))]) for n in limits}
        s4_index = Signal(range(len(spec.codewords)), name="s4_index")
        s4_raw = Signal(table.raw_bits, name="s4_raw")
        s4_flags = Signal(4, name="s4_flags")
        s4_escape, s4_found = Signal(name="s4_escape"), Signal(name="s4_found")
        # Where the symbol's bits end in the frame, and where a longest codeword's would.
        s4_end, s4_limit = Signal.like(real, name="s4_end"), Signal.like(real, name="s4_limit")
        consumed = Signal.like(real, name="consumed")  # bits of the frame's symbols decided before s3's
        base = 0
        with m.Switch(s3_length):
            for n, (first_code, number) in limits.items():
                if number:
                    with m.Case(n):
                        m.d.sync += s4_index.eq(prefix[n] - first_code + base)
                base += number
        escape_length = table.codewords[ESCAPE][1]
        m.d.sync += [s4_raw.eq(Cat(*[s3_bits[escape_length + i] for i in reversed(range(table.raw_bits))])),
                     s4_flags.eq(s3_flags), s4_escape.eq(s3_escape), s4_found.eq(s3_found),
                     s4_end.eq(consumed + s3_taken), s4_limit.eq(consumed + table.max_length)]
        with m.If(s3_flags[0]):
            m.d.sync += consumed.eq(consumed + s3_taken)
        # A symbol is wrong when its bits run past the frame's (cut), or begin no codeword: a whole longest
        # codeword's bits there (no codeword), or fewer (cut). Before the frame's last byte a decision always
        # has its whole window of the frame's bits, so `real` growing since does not change the verdict.
        s5_wrong = Signal(3, name="s5_wrong")
        with m.If(s4_flags[0]):
            with m.If(~s4_found):
                m.d.sync += s5_wrong.eq(Mux(s4_limit <= real, ERRORS["no_codeword"], ERRORS["cut"]))
            with m.Elif(s4_end > real):
                m.d.sync += s5_wrong.eq(ERRORS["cut"])
            with m.Else():
                m.d.sync += s5_wrong.eq(0)
        with m.Else():
            m.d.sync += s5_wrong.eq(0)
        s5_value = Signal(signed(table.raw_bits), name="s5_value")
        s5_flags = Signal(4, name="s5_flags")
        m.d.sync += s5_flags.eq(s4_flags)
        with m.Switch(s4_index):
            for rank, (key, _, _) in enumerate(spec.codewords):
                if key != ESCAPE:
                    with m.Case(rank):
                        m.d.sync += s5_value.eq(key)
        with m.If(s4_escape):
            m.d.sync += s5_value.eq(s4_raw)
        error = Signal(3, name="error")
        with m.If((error == 0) & (s5_wrong != 0)):
            m.d.sync += error.eq(s5_wrong)
        value = Signal(signed(table.raw_bits), name="s5_symbol")
        m.d.comb += value.eq(s5_value)
        with m.If(s5_flags[1] | (error != 0) | (s5_wrong != 0)):  # a refused frame's symbols from its error on
            m.d.comb += value.eq(0)
        out = queue.push.payload
        # The queue is told of a decision the cycle after (s1); `room` seen at the decision covers both cycles.
        issue = Signal(name="issue")
        m.d.comb += [issue.eq(s1_take | s1_zero), queue.issue.eq(issue)]
        m.d.comb += queue.push.valid.eq(delay(m, issue, spec.latency - 1, "issue"))
        m.d.sync += [out.data[0].eq(value), out.first.eq(s5_flags[2]), out.last.eq(s5_flags[3])]

        # After the last symbol, once its checks are through: bytes after the one holding the last codeword,
        # or a non-zero padding bit (the rest of the read position's byte) refuse a frame nothing refused before.
        settle = Signal(range(spec.settle_cycles + 1), name="settle")
        over_long, padded = Signal(name="over_long"), Signal(name="padded")
        rest = (-consumed)[:3]  # padding bits after the last codeword
        m.d.sync += [over_long.eq(~ended | (real >= consumed + BYTE)),
                     padded.eq(Cat(*[s2_bits[i] & (rest > i) for i in range(BYTE - 1)]).any())]
        verdict = Signal(3, name="verdict")
        m.d.comb += verdict.eq(error)
        with m.If((state == CHECK) & (error == 0)):
            with m.If(over_long):
                m.d.comb += verdict.eq(ERRORS["over_long"])
            with m.Elif(padded):
                m.d.comb += verdict.eq(ERRORS["padding"])
        with m.Switch(state):
            with m.Case(DECODE):
                with m.If(s1_take & last_one):
                    m.d.sync += [state.eq(CHECK), settle.eq(spec.settle_cycles)]
                with m.Elif((error == 0) & (s5_wrong != 0)):
                    m.d.sync += state.eq(ZEROS)
            with m.Case(ZEROS):
                with m.If(s1_zero & last_one):
                    m.d.sync += [state.eq(CHECK), settle.eq(spec.settle_cycles)]
            with m.Case(CHECK):
                with m.If(settle != 0):
                    m.d.sync += settle.eq(settle - 1)
                with m.Else():
                    m.d.sync += error.eq(verdict)
                    with m.If(~ended):
                        m.d.sync += state.eq(DRAIN)
            with m.Case(RESTART):
                with m.If(~clear):
                    m.d.sync += state.eq(DECODE)
        m.d.comb += done.eq(((state == CHECK) & (settle == 0) & ended)
                            | ((state == DRAIN) & self.stream.valid & beat.last))
        with m.If(done):
            m.d.sync += [state.eq(RESTART), clear.eq(1)]
            with m.If(verdict != 0):
                m.d.sync += [self.refused_frames.eq(self.refused_frames + 1), self.last_error.eq(verdict)]
        # The symbols' lengths are worked out from the emptied ring the cycle after, when no decision is made.
        with m.If(clear):
            m.d.sync += [clear.eq(0), full.eq(0), free.eq(1), written.eq(0), at.eq(0), at_one_hot.eq(1), ended.eq(0),
                         real.eq(0), position.eq(1), now_slot.eq(1), left_slot.eq(1), consumed.eq(0), left.eq(count),
                         more.eq(1), first.eq(1), last_one.eq(count == 1), error.eq(0)]
        return m
