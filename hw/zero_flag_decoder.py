"""DCT-CM's zero-flag decoder: a frame's bytes into one code per cycle, cut and corrupt frames flagged (golden:
``golden.zero_flag_coder.zero_flag_decode_flagged``)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..golden.zero_flag_coder import ERRORS
from .block_ram import BlockRAM
from .block_ram_queue import BlockRAMQueue
from .frame_beat import frame_beat, word_beat
from .output_queue import OutputQueue
from .pipeline import delay, wrapping_counter
from .spec_component import SpecComponent
from .zero_flag_frame import ZeroFlagFrameSpec

__all__ = ["ZeroFlagDecoder", "ZeroFlagDecoderSpec"]

#: Bits of a stream beat: one byte, as the integer model's frames are bytes.
BYTE = 8
#: Frames whose flags the decoder holds: one being decoded while the next one's come in.
BANKS = 2
#: Bytes of code bits the decoder holds beyond a frame's flag bytes: its input runs that far ahead of the codes.
SLACK_BYTES = 16
#: Bytes of the window the codes are read from.
WINDOW_BYTES = 4
#: Cycles from a value's extraction to its entry into the queue of values: its bits, then whether they are a code.
VALUE_LATENCY = 2
#: What an entry of the queue of values is: a code, a corrupt value (0 or ``-2**(bits-1)``), or the frame's end
#: before the bits of a flagged code.
VALUE, CORRUPT, CUT = range(3)


@dataclass(frozen=True)
class ZeroFlagDecoderSpec(ZeroFlagFrameSpec):
    """Parameters of a :class:`ZeroFlagDecoder` (see there), validated, and the facts derived from them."""

    @property
    def code_buffer_bytes(self):
        """Depth of the queue of bytes holding code bits: while a frame's codes are decoded, its last code bytes
        and the next frame's flag bytes come in."""
        return self.flag_bytes + SLACK_BYTES


class ZeroFlagDecoder(SpecComponent):
    """Decodes frames of DCT-CM's zero-flag format into coefficient codes, one per cycle.

    A frame's bytes arrive as ``golden.zero_flag_coder.zero_flag_encode``
    writes them (one flag per code, then the non-zero codes, LSB first), its
    last byte marked ``last``; its ``components * height * width`` codes
    leave in stream order (position after position, the components of each),
    ``bits`` wide, ``first`` and ``last`` marking the frame's ends.

    The flag bytes go into a bank of block RAM and their ones are counted;
    the bytes after them (the last flag byte too, when code bits share it)
    go into a queue. Two processes then run apart, each with a small loop:
    the extractor reads the frame's count of values ``bits`` at a time from
    a ring of those bytes (and judges the frame's end: over-long or
    padding), the merger walks the flags and puts a value from the
    extractor where a flag is 1 and a 0 where it is 0. Meanwhile the next
    frame's flags come into the other bank, so frames follow each other a
    few cycles apart.

    A frame is refused exactly as ``golden.zero_flag_coder.zero_flag_decode``
    raises, and its codes are those of
    ``golden.zero_flag_coder.zero_flag_decode_flagged``, which names the
    kind: cut short (``last`` inside the flags or before a flagged code's
    bits), a flagged code of 0 or ``-2**(bits-1)``, bytes after the one
    holding the last code (over-long), or a non-zero padding bit. A refused
    frame still has all its codes emitted (from the error on, 0), so what
    follows stays in step; ``refused_frames`` counts it and ``last_error``
    holds its kind (:data:`~wccgen.golden.zero_flag_coder.ERRORS`). Bytes of
    a frame after what it needs are dropped up to its ``last``: nothing
    waits on a corrupt stream.

    Parameters
    ----------
    components, height, width : int
        The shape of a frame of codes.
    bits : int
        Width of a code.

    Attributes
    ----------
    stream : In(stream.Signature(word_beat(8)))
    codes : Out(stream.Signature(frame_beat(bits, 1)))
    refused_frames : Out(16)
    last_error : Out(3)
    """

    Spec = ZeroFlagDecoderSpec

    @classmethod
    def members(cls, spec):
        return {
            "stream": In(stream.Signature(word_beat(BYTE))),
            "codes": Out(stream.Signature(frame_beat(spec.bits, 1))),
            "refused_frames": Out(16),
            "last_error": Out(3),
        }

    def elaborate(self, platform):
        m = Module()
        spec = self.spec
        count, flag_bytes, tail, bits = spec.codes_per_frame, spec.flag_bytes, spec.tail_flags, spec.bits
        address_bits = spec.flag_address_bits
        m.submodules.flag_ram = flag_ram = BlockRAM(shape=BYTE, depth=BANKS << address_bits)
        m.submodules.flag_queue = flag_queue = OutputQueue(data.StructLayout({"flags": BYTE}),
                                                           BlockRAM.LATENCY + 1)
        m.submodules.code_bytes = code_bytes = BlockRAMQueue(data.StructLayout({"data": BYTE, "last": 1}),
                                                             spec.code_buffer_bytes)
        m.submodules.values = values = OutputQueue(data.StructLayout({"value": bits, "kind": 2}), VALUE_LATENCY)
        m.submodules.queue = queue = OutputQueue(self.codes.payload.shape(), 1)
        wiring.connect(m, queue.o, wiring.flipped(self.codes))

        # A bank of flags, from the input side to the extractor and the merger: taken by a frame (`busy`), its
        # flags in and counted (`ready`, with `nonzero` of them 1), cut short (`cut`), the frame ended with its
        # flags (`flags_ended`), its flag reads issued (`fetched`), its end judged by the extractor (`judged`,
        # the verdict in `verdict`).
        busy, ready, cut, flags_ended, fetched, judged = (Signal(BANKS, name=name) for name in (
            "busy", "ready", "cut", "flags_ended", "fetched", "judged"))
        nonzero = [Signal(range(count + 1), name=f"nonzero{b}") for b in range(BANKS)]
        verdict = [Signal(3, name=f"verdict{b}") for b in range(BANKS)]

        # The input side: flag bytes into their bank, then the bytes holding code bits into the queue.
        in_bank = Signal(name="in_bank")
        in_flags = Signal(name="in_flags", init=1)
        flag_byte = Signal(range(flag_bytes), name="flag_byte")
        beat = self.stream.payload
        # A frame's first byte waits for its bank to be free.
        m.d.comb += self.stream.ready.eq(~(in_flags & (flag_byte == 0) & busy.bit_select(in_bank, 1))
                                         & code_bytes.w.ready)
        arrives = Signal(name="arrives")
        m.d.comb += arrives.eq(self.stream.valid & self.stream.ready)
        final_flags = flag_byte == flag_bytes - 1
        m.d.comb += [
            flag_ram.write_addr.eq(Cat(flag_byte[:address_bits], in_bank)), flag_ram.write_data.eq(beat.data),
            flag_ram.write_en.eq(arrives & in_flags),
            code_bytes.w.payload.data.eq(beat.data), code_bytes.w.payload.last.eq(beat.last),
            code_bytes.w.valid.eq(arrives & (~in_flags | (final_flags & (tail != 0)))),
        ]
        ends_flags = Signal(name="ends_flags")  # the frame's flag bytes end here (all in, or cut)
        m.d.comb += ends_flags.eq(arrives & in_flags & (final_flags | beat.last))
        with m.If(arrives & in_flags):
            m.d.sync += [flag_byte.eq(flag_byte + 1), busy.bit_select(in_bank, 1).eq(1)]
            with m.If(final_flags | beat.last):
                m.d.sync += flag_byte.eq(0)
                with m.If(beat.last):  # the frame ends here: the next one's flags come next
                    m.d.sync += in_bank.eq(~in_bank)
                with m.Else():
                    m.d.sync += in_flags.eq(0)
        with m.If(arrives & ~in_flags & beat.last):
            m.d.sync += [in_flags.eq(1), in_bank.eq(~in_bank)]
        # The ones of the flags, counted a byte a cycle (the last byte's tail flags only), two cycles behind.
        mask = (1 << tail) - 1 if tail else (1 << BYTE) - 1
        ones = Signal(range(BYTE + 1), name="ones")
        counted = Signal(name="counted")
        first_counted, last_counted, counted_bank = Signal(name="first_counted"), Signal(name="last_counted"), \
            Signal(name="counted_bank")
        counted_cut, counted_ended = Signal(name="counted_cut"), Signal(name="counted_ended")
        masked = Mux(final_flags, beat.data & mask, beat.data)
        m.d.sync += [ones.eq(sum(masked[i] for i in range(BYTE))), counted.eq(arrives & in_flags),
                     first_counted.eq(flag_byte == 0), last_counted.eq(ends_flags), counted_bank.eq(in_bank),
                     counted_cut.eq(~final_flags), counted_ended.eq(beat.last & final_flags & (tail == 0))]
        running = Signal(range(count + 1), name="running")
        total = Signal.like(running, name="running_total")
        m.d.comb += total.eq(Mux(first_counted, 0, running) + ones)
        with m.If(counted):
            m.d.sync += running.eq(total)
            with m.If(last_counted):
                for b in range(BANKS):
                    with m.If(counted_bank == b):
                        m.d.sync += [ready[b].eq(1), nonzero[b].eq(total), cut[b].eq(counted_cut),
                                     flags_ended[b].eq(counted_ended)]

        # The flag reads: a bank's bytes in order once its flags are in, into a queue the merger takes them from.
        fetch_bank = Signal(name="fetch_bank")
        fetch_byte = Signal(range(flag_bytes), name="fetch_byte")
        fetch = Signal(name="fetch")
        m.d.comb += [fetch.eq(ready.bit_select(fetch_bank, 1) & ~fetched.bit_select(fetch_bank, 1) & flag_queue.room),
                     flag_ram.read_addr.eq(Cat(fetch_byte[:address_bits], fetch_bank)), flag_queue.issue.eq(fetch)]
        with m.If(fetch):
            m.d.sync += fetch_byte.eq(fetch_byte + 1)
            with m.If(fetch_byte == flag_bytes - 1):
                m.d.sync += [fetch_byte.eq(0), fetched.bit_select(fetch_bank, 1).eq(1), fetch_bank.eq(~fetch_bank)]
        m.d.sync += flag_queue.push.payload.flags.eq(flag_ram.read_data)
        m.d.comb += flag_queue.push.valid.eq(delay(m, fetch, BlockRAM.LATENCY + 1, "fetched"))

        self._extractor(m, spec, code_bytes, values, ready, cut, flags_ended, judged, nonzero, verdict)
        self._merger(m, spec, flag_queue, values, queue, busy, ready, cut, fetched, judged, verdict)
        return m

    def _extractor(self, m, spec, code_bytes, values, ready, cut, flags_ended, judged, nonzero, verdict):
        """The values of each frame, read from its code bytes ``bits`` at a time, and the verdict on its end."""
        tail, bits = spec.tail_flags, spec.bits
        # IDLE: a bank's flags awaited; RUN: its values read; SETTLE, JUDGE: its end judged (from registers that
        # settle the cycle before); DRAIN: its bytes up to its `last`, dropped; DONE: the verdict handed over.
        IDLE, RUN, SETTLE, JUDGE, DRAIN, DONE = (1 << n for n in range(6))
        state = Signal(6, name="extract_state", init=IDLE)
        in_idle, in_run, in_settle, in_judge, in_drain, in_done = (state[n] for n in range(6))
        bank = Signal(name="extract_bank")
        left = Signal.like(nonzero[0], name="values_left")
        some_left = Signal(name="some_left")  # left != 0, a register decided with it
        ended = Signal(name="extract_ended")  # the frame's last byte is taken in
        end_verdict = Signal(3, name="end_verdict")
        primed = Signal(name="primed")  # the frame's first code byte is stored, or it has none

        # The code bits: a ring of bytes, written a byte at a time while a slot is free (or dropped, up to the
        # frame's last), read `bits` at a time from a bit pointer. Only the pointer and the counts depend on
        # whether a value is taken; the bytes never move.
        window_bits = WINDOW_BYTES * BYTE
        ring = Signal(window_bits, name="ring")
        slot = Signal(range(WINDOW_BYTES), name="slot")  # where the next byte goes
        pointer = Signal(range(window_bits), name="pointer")  # the next code bit
        slots_used = Signal(range(WINDOW_BYTES + 1), name="slots_used")  # bytes with bits not yet read
        # The bits not yet read are the used slots' less the pointer's place in the first: with two slots used
        # a value's are there, with one if the place is low enough. (Registers decided with the count.)
        slot_free = Signal(name="slot_free", init=1)
        one_used, two_used = Signal(name="one_used"), Signal(name="two_used")  # exactly one; two or more
        # Whether the rest of the pointer's byte holds a value, and whether a value uses it up: registers
        # decided with the pointer.
        place_fits, place_ends = Signal(name="place_fits"), Signal(name="place_ends")
        have = Signal(name="have")
        m.d.comb += have.eq(two_used | (one_used & place_fits))
        head = code_bytes.r.payload
        store, drop = Signal(name="store"), Signal(name="drop")
        m.d.comb += [store.eq(in_run & ~ended & code_bytes.r.valid & slot_free),
                     drop.eq(in_drain & ~ended & code_bytes.r.valid),
                     code_bytes.r.ready.eq(store | drop)]
        with m.If((store | drop) & head.last):
            m.d.sync += ended.eq(1)
        # The free slot takes the queue's head whether or not it is stored: its byte matters only once stored.
        with m.If(slot_free):
            m.d.sync += ring.word_select(slot, BYTE).eq(head.data)
        with m.If(store):
            m.d.sync += slot.eq(slot + 1)
        take, starved = Signal(name="take"), Signal(name="starved")  # a value out; the frame ended before it
        m.d.comb += [take.eq(in_run & some_left & values.room & have),
                     starved.eq(in_run & some_left & values.room & ~have & ended)]
        crosses = Signal(name="crosses")  # the value's bits use up the pointer's byte
        m.d.comb += crosses.eq(take & place_ends)
        with m.If(take):
            moved = Signal(3, name="moved_place")
            m.d.comb += moved.eq(pointer[:3] + bits)
            m.d.sync += [pointer.eq(pointer + bits), place_fits.eq(moved <= BYTE - bits),
                         place_ends.eq(moved >= BYTE - bits), left.eq(left - 1), some_left.eq(left != 1)]
        # The counts after each outcome (a byte in or not, a byte used up or not), and what they say, computed
        # from the registers; the outcome picks one.
        for store_in in (0, 1):
            for crossed in (0, 1):
                with m.If((store == store_in) & (crosses == crossed)):
                    change = store_in - crossed
                    m.d.sync += [slots_used.eq(slots_used + change),
                                 slot_free.eq(slots_used != WINDOW_BYTES - change),
                                 one_used.eq(slots_used == 1 - change), two_used.eq(slots_used >= 2 - change)]

        # A value's bits, and a cycle later what they are: a code, or 0 or -2**(bits-1), which no code is.
        m.d.comb += values.issue.eq(take | starved)
        bits_out = Signal(bits, name="bits_out")
        took, cut_short = Signal(name="took"), Signal(name="cut_short")
        m.d.sync += [bits_out.eq((Cat(ring, ring) >> pointer)[:bits]), took.eq(take), cut_short.eq(starved)]
        m.d.sync += [values.push.valid.eq(took | cut_short), values.push.payload.value.eq(bits_out),
                     values.push.payload.kind.eq(Mux(cut_short, CUT, Mux(bits_out[:bits - 1] == 0, CORRUPT, VALUE)))]

        # The end: bytes after the one holding the last value (a whole byte unread, or the last not in), or a
        # non-zero padding bit.
        over_long, padding = Signal(name="over_long"), Signal(name="padding")
        m.d.sync += [over_long.eq(~ended | two_used | (one_used & (pointer[:3] == 0))),
                     padding.eq(one_used & (ring.word_select(pointer[3:], BYTE) >> pointer[:3]).any())]
        # (A bank judged is the extractor's no more, until the merger releases it for another frame.)
        with m.If(in_idle & ready.bit_select(bank, 1) & ~judged.bit_select(bank, 1)):
            bank_count = Mux(bank, nonzero[1], nonzero[0])
            m.d.sync += [state.eq(Mux(cut.bit_select(bank, 1), DONE, RUN)), left.eq(bank_count),
                         some_left.eq(bank_count != 0), ended.eq(flags_ended.bit_select(bank, 1)),
                         end_verdict.eq(0), primed.eq(Const(tail == 0) | flags_ended.bit_select(bank, 1)),
                         pointer.eq(tail), slot.eq(0), slots_used.eq(0), slot_free.eq(1),
                         one_used.eq(0), two_used.eq(0), place_fits.eq(tail <= BYTE - bits),
                         place_ends.eq(tail >= BYTE - bits)]
        # (The last flag byte, when code bits share it, is stored first: its padding is judged too.)
        with m.If(store):
            m.d.sync += primed.eq(1)
        with m.If(in_run & ~some_left & primed):
            m.d.sync += state.eq(SETTLE)
        with m.If(starved):  # the merger refuses the frame as cut when it meets this entry
            m.d.sync += state.eq(DONE)
        with m.If(in_settle):
            m.d.sync += state.eq(JUDGE)
        with m.If(in_judge):
            m.d.sync += [end_verdict.eq(Mux(over_long, ERRORS["over_long"], Mux(padding, ERRORS["padding"], 0))),
                         state.eq(Mux(ended, DONE, DRAIN))]
        with m.If(in_drain & ended):
            m.d.sync += state.eq(DONE)
        with m.If(in_done):
            m.d.sync += [state.eq(IDLE), bank.eq(~bank), judged.bit_select(bank, 1).eq(1)]
            for b in range(BANKS):
                with m.If(bank == b):
                    m.d.sync += verdict[b].eq(end_verdict)

    def _merger(self, m, spec, flag_queue, values, queue, busy, ready, cut, fetched, judged, verdict):
        """The codes: the flags walked in order, a value from the extractor where one is 1, 0 where it is 0."""
        count, bits = spec.codes_per_frame, spec.bits
        # IDLE: a bank's flags awaited; RUN: its codes; ZEROS: the rest of a refused frame's, as 0; END: the
        # extractor's verdict awaited; FINISH: the frame counted.
        IDLE, RUN, ZEROS, END, FINISH = (1 << n for n in range(5))
        state = Signal(5, name="merge_state", init=IDLE)
        in_idle, in_run, in_zeros, in_end, in_finish = (state[n] for n in range(5))
        bank = Signal(name="merge_bank")
        error = Signal(3, name="error")
        no_values = Signal(name="no_values")  # the extractor ended this frame's values early
        step = Signal(name="step")  # a code leaves
        index, at_last, next_at_last = wrapping_counter(m, step, count, "index", next_last=True)

        # The flags: the current byte in a register, shifted as codes leave, the next one loaded as it runs out.
        current = Signal(BYTE, name="current_flags")
        current_valid = Signal(name="current_valid")
        flag = current[0]
        byte_end = Signal(name="byte_end", init=count == 1)  # the code's flag is its byte's last, decided ahead
        with m.If(step):
            m.d.sync += byte_end.eq(Mux(at_last, count == 1, (index[:3] == 6) | next_at_last))
        load = Signal(name="load")
        m.d.comb += [load.eq(flag_queue.o.valid & (~current_valid | (step & byte_end))),
                     flag_queue.o.ready.eq(load)]
        with m.If(load):
            m.d.sync += [current.eq(flag_queue.o.payload.flags), current_valid.eq(1)]
        with m.Elif(step & byte_end):
            m.d.sync += current_valid.eq(0)
        with m.Elif(step):
            m.d.sync += current.eq(current >> 1)

        # A code leaves when its flag is there, the output has room and, where the flag is 1, its value is
        # there (or the extractor has none left for the frame).
        entry = values.o.payload
        can = Signal(name="can")
        m.d.comb += can.eq(current_valid & queue.room & (in_run | in_zeros))
        m.d.comb += step.eq(can & (~flag | values.o.valid | no_values))
        pop = Signal(name="pop")
        m.d.comb += [pop.eq(can & flag & values.o.valid & ~no_values), values.o.ready.eq(pop)]
        bad = Signal(name="bad")  # the value refuses the frame: the first error wins
        m.d.comb += bad.eq(pop & in_run & (entry.kind != VALUE))
        with m.If(bad):
            m.d.sync += [error.eq(Mux(entry.kind == CUT, ERRORS["cut"], ERRORS["corrupt_value"])), state.eq(ZEROS)]
        with m.If(pop & (entry.kind == CUT)):
            m.d.sync += no_values.eq(1)
        with m.If(step & at_last):
            m.d.sync += state.eq(END)
        with m.If(in_idle & ready.bit_select(bank, 1)):
            m.d.sync += [state.eq(Mux(cut.bit_select(bank, 1), ZEROS, RUN)),
                         error.eq(Mux(cut.bit_select(bank, 1), ERRORS["cut"], 0)),
                         no_values.eq(cut.bit_select(bank, 1))]
        with m.If(in_end & judged.bit_select(bank, 1)):
            with m.If(error == 0):
                m.d.sync += error.eq(Mux(bank, verdict[1], verdict[0]))
            m.d.sync += state.eq(FINISH)
        with m.If(in_finish):
            m.d.sync += [state.eq(IDLE), bank.eq(~bank), error.eq(0), no_values.eq(0)]
            for bank_bits in (busy, ready, cut, fetched, judged):
                m.d.sync += bank_bits.bit_select(bank, 1).eq(0)
            with m.If(error != 0):
                m.d.sync += [self.refused_frames.eq(self.refused_frames + 1), self.last_error.eq(error)]

        out = queue.push.payload
        m.d.comb += queue.issue.eq(step)
        m.d.sync += [queue.push.valid.eq(step), out.first.eq(index == 0), out.last.eq(at_last),
                     out.data[0].eq(Mux(pop & in_run & (entry.kind == VALUE), entry.value, Const(0, bits)))]
