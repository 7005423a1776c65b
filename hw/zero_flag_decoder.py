"""DCT-CM's zero-flag decoder: a frame's bytes into one code per cycle, cut and corrupt frames flagged (golden:
``golden.zero_flag_coder.zero_flag_decode_flagged``)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream
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
#: Cycles from a code's decision to its entry into the output queue: its bits, then whether they are a valid code.
CODE_LATENCY = 2


@dataclass(frozen=True)
class ZeroFlagDecoderSpec(ZeroFlagFrameSpec):
    """Parameters of a :class:`ZeroFlagDecoder` (see there), validated, and the facts derived from them."""

    @property
    def flag_address_bits(self):
        """Address bits of a bank of flag bytes."""
        return max(1, (self.flag_bytes - 1).bit_length())

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

    The flag bytes go into a bank of block RAM, the bytes after them (the
    last flag byte too, when code bits share it) into a queue. Once a
    frame's flags are all in, its codes are decoded: a code whose flag is 0
    is 0, the others are taken ``bits`` at a time from a register the queue
    fills. Meanwhile the next frame's flags come into the other bank, so
    frames follow each other a few cycles apart.

    A frame is refused exactly as ``golden.zero_flag_coder.zero_flag_decode``
    raises, and its codes are those of
    ``golden.zero_flag_coder.zero_flag_decode_flagged``, which names the
    kind: cut short (``last`` inside the flags or before a flagged code's
    bits), a flagged code of 0 or ``-2**(bits-1)``, bytes after the one
    holding the last code (over-long), or a non-zero padding bit. A refused
    frame still has all its codes emitted (from the error on, 0), so what
    follows stays in step; ``refused_frames`` counts it and ``last_error``
    holds its kind (:data:`~wccgen.golden.zero_flag_coder.ERRORS`). Bytes of
    a frame after its error are dropped up to its ``last``: nothing waits on
    a corrupt stream.

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
        entry = data.StructLayout({"data": BYTE, "last": 1})
        m.submodules.code_bytes = code_bytes = BlockRAMQueue(entry, spec.code_buffer_bytes)
        m.submodules.queue = queue = OutputQueue(self.codes.payload.shape(), CODE_LATENCY)
        m.d.comb += [self.codes.valid.eq(queue.o.valid), self.codes.payload.eq(queue.o.payload),
                     queue.o.ready.eq(self.codes.ready)]

        # A bank of flags, from the input side to the codes: its flags are in (`ready`), they were cut short
        # (`cut`), the frame ended with its flags (`flags_ended`), the flag reads are issued (`fetched`).
        ready, cut, flags_ended, fetched = (Signal(BANKS, name=name) for name in
                                            ("ready", "cut", "flags_ended", "fetched"))

        # The input side: flag bytes into their bank, then the bytes holding code bits into the queue.
        in_bank = Signal(name="in_bank")
        in_flags = Signal(name="in_flags", init=1)
        flag_byte = Signal(range(flag_bytes), name="flag_byte")
        beat = self.stream.payload
        m.d.comb += self.stream.ready.eq(Mux(in_flags, ~ready.bit_select(in_bank, 1), 1) & code_bytes.w.ready)
        arrives = Signal(name="arrives")
        m.d.comb += arrives.eq(self.stream.valid & self.stream.ready)
        final_flags = flag_byte == flag_bytes - 1
        pushed = Signal(entry, name="pushed")
        m.d.comb += [
            flag_ram.write_addr.eq(Cat(flag_byte[:address_bits], in_bank)), flag_ram.write_data.eq(beat.data),
            flag_ram.write_en.eq(arrives & in_flags),
            pushed.data.eq(beat.data), pushed.last.eq(beat.last), code_bytes.w.payload.eq(pushed),
            code_bytes.w.valid.eq(arrives & (~in_flags | (final_flags & (tail != 0)))),
        ]
        with m.If(arrives & in_flags):
            m.d.sync += flag_byte.eq(flag_byte + 1)
            with m.If(final_flags | beat.last):
                m.d.sync += [flag_byte.eq(0), ready.bit_select(in_bank, 1).eq(1)]
                with m.If(beat.last):  # the frame ends here: the next one's flags come next
                    m.d.sync += in_bank.eq(~in_bank)
                    with m.If(~final_flags):
                        m.d.sync += cut.bit_select(in_bank, 1).eq(1)
                    with m.Elif(tail == 0):
                        m.d.sync += flags_ended.bit_select(in_bank, 1).eq(1)
                with m.Else():
                    m.d.sync += in_flags.eq(0)
        with m.If(arrives & ~in_flags & beat.last):
            m.d.sync += [in_flags.eq(1), in_bank.eq(~in_bank)]

        # The flag reads: a bank's bytes in order once its flags are in, into a queue the codes take them from.
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

        # The codes. START: a bank's flags awaited; CODES: decoded; ZEROS: the rest of a refused frame's, as 0;
        # SETTLE, CHECK: the frame's end judged, after its last code (from registers that settle the cycle
        # before); DRAIN: its bytes up to its `last`, dropped; FINISH: the verdict counted. One flip-flop per state: the decisions of every cycle read them directly.
        START, CODES, ZEROS, SETTLE, CHECK, DRAIN, FINISH = (1 << n for n in range(7))
        state = Signal(7, name="state", init=START)
        in_start, in_codes, in_zeros, in_settle, in_check, in_drain, in_finish = (state[n] for n in range(7))
        bank = Signal(name="bank")
        step = Signal(name="step")  # a code leaves
        index, at_last, next_at_last = wrapping_counter(m, step, count, "index", next_last=True)
        ended = Signal(name="ended")  # the frame's last byte is taken in
        error = Signal(3, name="error")

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

        # The code bits: a ring of bytes, written a byte at a time while a slot is free (or dropped after an
        # error, up to the frame's last), read `bits` at a time from a bit pointer. Only the pointer and the
        # counts depend on whether a code is taken; the bytes never move.
        window_bits = WINDOW_BYTES * BYTE
        ring = Signal(window_bits, name="ring")
        slot = Signal(range(WINDOW_BYTES), name="slot")  # where the next byte goes
        pointer = Signal(range(window_bits), name="pointer")  # the next code bit
        slots_used = Signal(range(WINDOW_BYTES + 1), name="slots_used")  # bytes with bits not yet read
        # The bits not yet read are the used slots' less the pointer's place in the first: with two slots used
        # a code's are there, with one if the place is low enough. (Registers decided with the count.)
        one_used, two_used = Signal(name="one_used"), Signal(name="two_used")  # exactly one; two or more
        # Whether the rest of the pointer's byte holds a code, and whether a code uses it up: registers decided
        # with the pointer.
        place_fits, place_ends = Signal(name="place_fits"), Signal(name="place_ends")
        have = Signal(name="have")
        m.d.comb += have.eq(two_used | (one_used & place_fits))
        slot_free = Signal(name="slot_free", init=1)  # slots_used < WINDOW_BYTES, a register decided with it
        head = code_bytes.r.payload
        store, drop = Signal(name="store"), Signal(name="drop")
        m.d.comb += [store.eq(in_codes & ~ended & code_bytes.r.valid & slot_free),
                     drop.eq((in_zeros | in_drain) & ~ended & code_bytes.r.valid),
                     code_bytes.r.ready.eq(store | drop)]
        with m.If((store | drop) & head.last):
            m.d.sync += ended.eq(1)
        # The free slot takes the queue's head whether or not it is stored: its byte matters only once stored.
        with m.If(slot_free):
            m.d.sync += ring.word_select(slot, BYTE).eq(head.data)
        with m.If(store):
            m.d.sync += slot.eq(slot + 1)
        can = Signal(name="can")
        m.d.comb += can.eq(current_valid & queue.room)
        take = Signal(name="take")  # a flagged code's bits leave the window
        m.d.comb += [take.eq(in_codes & can & flag & have),
                     step.eq((in_codes & can & (~flag | have | ended)) | (in_zeros & can))]
        crosses = Signal(name="crosses")  # the code's bits use up the pointer's byte
        m.d.comb += crosses.eq(take & place_ends)
        with m.If(take):
            moved = Signal(3, name="moved_place")
            m.d.comb += moved.eq(pointer[:3] + bits)
            m.d.sync += [pointer.eq(pointer + bits), place_fits.eq(moved <= BYTE - bits),
                         place_ends.eq(moved >= BYTE - bits)]
        # The counts after each outcome (a byte in or not, a code out or not) and what they say (a code's bits
        # are there, a slot is free), computed from the registers; the outcome picks one.
        for store_in in (0, 1):
            for crossed in (0, 1):
                with m.If((store == store_in) & (crosses == crossed)):
                    change = store_in - crossed
                    m.d.sync += [slots_used.eq(slots_used + change),
                                 slot_free.eq(slots_used != WINDOW_BYTES - change),
                                 one_used.eq(slots_used == 1 - change), two_used.eq(slots_used >= 2 - change)]

        # A flagged code's bits, a cycle later whether they are a valid code (0 or the most negative value are
        # not): the window never waits on that test.
        bits_out = Signal(bits, name="bits_out")
        taken_code, zeroing = Signal(name="taken_code"), Signal(name="zeroing")  # zeroing: the frame was refused
        last_code = Signal(name="last_code")
        m.d.sync += [bits_out.eq((Cat(ring, ring) >> pointer)[:bits]), taken_code.eq(take),
                     last_code.eq(step & at_last)]
        corrupt = Signal(name="corrupt")
        m.d.comb += corrupt.eq(taken_code & (bits_out[:bits - 1] == 0))
        with m.If(step & at_last):
            m.d.sync += state.eq(SETTLE)
        # A flagged code whose bits the frame ends before refuses the frame; its other codes are 0.
        cut_here = Signal(name="cut_here")
        m.d.comb += cut_here.eq(in_codes & can & flag & ~have & ended)
        with m.If(cut_here):
            m.d.sync += error.eq(ERRORS["cut"])
            with m.If(~at_last):
                m.d.sync += state.eq(ZEROS)

        # After the last code: bytes after the one holding the last code (a whole byte unread, or the last not
        # in), or a non-zero padding bit, refuse a frame that nothing refused before.
        with m.If(in_start & ready.bit_select(bank, 1)):
            m.d.sync += [state.eq(Mux(cut.bit_select(bank, 1), ZEROS, CODES)), pointer.eq(tail), slot.eq(0),
                         place_fits.eq(tail <= BYTE - bits), place_ends.eq(tail >= BYTE - bits),
                         slots_used.eq(0), slot_free.eq(1), one_used.eq(0), two_used.eq(0),
                         ended.eq(cut.bit_select(bank, 1) | flags_ended.bit_select(bank, 1)),
                         error.eq(Mux(cut.bit_select(bank, 1), ERRORS["cut"], 0))]
        over_long, padding = Signal(name="over_long"), Signal(name="padding")
        m.d.sync += [over_long.eq(~ended | two_used | (one_used & (pointer[:3] == 0))),
                     padding.eq(one_used & (ring.word_select(pointer[3:], BYTE) >> pointer[:3]).any())]
        with m.If(in_settle):
            m.d.sync += state.eq(CHECK)
        with m.If(in_check):
            with m.If(error == 0):
                with m.If(over_long):
                    m.d.sync += error.eq(ERRORS["over_long"])
                with m.Elif(padding):
                    m.d.sync += error.eq(ERRORS["padding"])
            m.d.sync += state.eq(Mux(ended, FINISH, DRAIN))
        with m.If(in_drain & ended):
            m.d.sync += state.eq(FINISH)
        # A code found not valid refuses the frame (first: the codes before it were good), whatever came after.
        with m.If(corrupt & ~zeroing):
            m.d.sync += [error.eq(ERRORS["corrupt_value"]), zeroing.eq(1)]
            with m.If(in_codes & ~(step & at_last)):
                m.d.sync += state.eq(ZEROS)
        with m.If(in_finish):
            m.d.sync += [ended.eq(0), error.eq(0), zeroing.eq(0), state.eq(START), bank.eq(~bank)]
            for bank_bits in (ready, cut, flags_ended, fetched):
                m.d.sync += bank_bits.bit_select(bank, 1).eq(0)
            with m.If(error != 0):
                m.d.sync += [self.refused_frames.eq(self.refused_frames + 1), self.last_error.eq(error)]

        out = queue.push.payload
        m.d.comb += queue.issue.eq(step)
        late = delay(m, Cat(step, index == 0, at_last), 1, "code")
        m.d.sync += [queue.push.valid.eq(late[0]),
                     out.data[0].eq(Mux(taken_code & ~corrupt & ~zeroing, bits_out, Const(0, bits))),
                     out.first.eq(late[1]), out.last.eq(late[2])]
        return m
