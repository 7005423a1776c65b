"""DCT-CM's zero-flag decoder: a frame's bytes into one code per cycle, cut and corrupt frames flagged (golden:
``golden.zero_flag_coder.zero_flag_decode_flagged``)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ..golden.zero_flag_coder import ERRORS
from .block_ram import BlockRAM
from .frame_beat import frame_beat, word_beat
from .output_queue import OutputQueue
from .pipeline import delay
from .spec_component import SpecComponent
from .zero_flag_frame import ZeroFlagFrameSpec

__all__ = ["ZeroFlagDecoder", "ZeroFlagDecoderSpec"]

#: Bits of a stream beat: one byte, as the integer model's frames are bytes.
BYTE = 8
#: Frames whose flags the decoder holds: one being decoded while the next one's come in.
BANKS = 2
#: Bytes of code bits the decoder holds beyond a frame's flag bytes: its input runs that far ahead of the codes.
SLACK_BYTES = 16


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

    @property
    def buffer_bits(self):
        """Bits of the register the codes are taken from: a code and a byte taken in while one is short."""
        return self.bits + BYTE


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
        entry = data.StructLayout({"data": BYTE, "last": 1, "short": 1})  # short: the tail byte's code bits
        m.submodules.code_bytes = code_bytes = SyncFIFOBuffered(width=entry.size, depth=spec.code_buffer_bytes)
        m.submodules.queue = queue = OutputQueue(self.codes.payload.shape(), 1)
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
        m.d.comb += self.stream.ready.eq(Mux(in_flags, ~ready.bit_select(in_bank, 1), 1) & code_bytes.w_rdy)
        arrives = Signal(name="arrives")
        m.d.comb += arrives.eq(self.stream.valid & self.stream.ready)
        final_flags = flag_byte == flag_bytes - 1
        pushed = Signal(entry, name="pushed")
        m.d.comb += [
            flag_ram.write_addr.eq(Cat(flag_byte[:address_bits], in_bank)), flag_ram.write_data.eq(beat.data),
            flag_ram.write_en.eq(arrives & in_flags),
            pushed.data.eq(Mux(in_flags, beat.data >> tail, beat.data)), pushed.last.eq(beat.last),
            pushed.short.eq(in_flags), code_bytes.w_data.eq(pushed),
            code_bytes.w_en.eq(arrives & (~in_flags | (final_flags & (tail != 0)))),
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
        # CHECK: the frame's end, after its last code; DRAIN: its bytes up to its `last`, dropped.
        START, CODES, ZEROS, CHECK, DRAIN = range(5)
        state = Signal(range(5), name="state")
        bank = Signal(name="bank")
        index = Signal(range(max(count, 2)), name="index")
        buffer = Signal(spec.buffer_bits, name="buffer")  # the code bits taken in; the bits from `fill` up are 0
        fill = Signal(range(spec.buffer_bits + 1), name="fill")
        ended = Signal(name="ended")  # the frame's last byte is taken in
        error = Signal(3, name="error")

        # Bytes enter the register while a code fits besides, or are dropped after an error, up to the last.
        head = Signal(entry, name="head")
        m.d.comb += head.eq(code_bytes.r_data)
        store, drop = Signal(name="store"), Signal(name="drop")
        m.d.comb += [store.eq((state == CODES) & ~ended & code_bytes.r_rdy & (fill <= bits)),
                     drop.eq(((state == ZEROS) | (state == DRAIN)) & ~ended & code_bytes.r_rdy),
                     code_bytes.r_en.eq(store | drop)]
        with m.If((store | drop) & head.last):
            m.d.sync += ended.eq(1)
        merged = Signal.like(buffer, name="merged")
        m.d.comb += merged.eq(buffer | (Mux(store, head.data, 0) << fill)[:len(buffer)])
        stored_bits = Mux(store, Mux(head.short, BYTE - tail, BYTE), 0)

        flags = flag_queue.o.payload.flags
        flag = Signal(name="flag")
        m.d.comb += flag.eq(flags.bit_select(index[:3], 1))
        value = buffer[:bits]
        corrupt = Signal(name="corrupt")  # 0, or the most negative value, outside the symmetric range
        m.d.comb += corrupt.eq(value[:bits - 1] == 0)
        can = Signal(name="can")
        m.d.comb += can.eq(flag_queue.o.valid & queue.room)
        have = fill >= bits
        take = Signal(name="take")  # a flagged code's bits leave the register
        step = Signal(name="step")  # a code leaves
        m.d.comb += [take.eq((state == CODES) & can & flag & have & ~corrupt),
                     step.eq(((state == CODES) & can & (~flag | have | ended)) | ((state == ZEROS) & can))]
        m.d.sync += [buffer.eq(Mux(take, merged >> bits, merged)), fill.eq(fill + stored_bits - Mux(take, bits, 0))]
        m.d.comb += flag_queue.o.ready.eq(step & ((index[:3] == 7) | (index == count - 1)))
        with m.If(step):
            m.d.sync += index.eq(index + 1)
            with m.If(index == count - 1):
                m.d.sync += [index.eq(0), state.eq(CHECK)]
        # A flagged code that is 0 or out of range, or whose bits the frame ends before, refuses the frame; its
        # other codes are 0.
        refuse = Signal(name="refuse")
        m.d.comb += refuse.eq((state == CODES) & can & flag & Mux(have, corrupt, ended))
        with m.If(refuse):
            m.d.sync += error.eq(Mux(have, ERRORS["corrupt_value"], ERRORS["cut"]))
            with m.If(index != count - 1):
                m.d.sync += state.eq(ZEROS)

        # After the last code: bytes after the one holding the last code, or a non-zero padding bit, refuse a
        # frame that nothing refused before.
        verdict = Signal(3, name="verdict")
        m.d.comb += verdict.eq(error)
        with m.If((state == CHECK) & (error == 0)):
            with m.If(~ended | (fill >= BYTE)):
                m.d.comb += verdict.eq(ERRORS["over_long"])
            with m.Elif(buffer.any()):
                m.d.comb += verdict.eq(ERRORS["padding"])
        with m.Switch(state):
            with m.Case(START):
                with m.If(ready.bit_select(bank, 1)):
                    m.d.sync += [state.eq(Mux(cut.bit_select(bank, 1), ZEROS, CODES)),
                                 ended.eq(cut.bit_select(bank, 1) | flags_ended.bit_select(bank, 1)),
                                 error.eq(Mux(cut.bit_select(bank, 1), ERRORS["cut"], 0))]
            with m.Case(CHECK):
                m.d.sync += error.eq(verdict)
                with m.If(~ended):
                    m.d.sync += state.eq(DRAIN)
        done = Signal(name="done")
        m.d.comb += done.eq(((state == CHECK) & ended) | ((state == DRAIN) & ended))
        with m.If(done):
            m.d.sync += [buffer.eq(0), fill.eq(0), ended.eq(0), error.eq(0), state.eq(START), bank.eq(~bank)]
            for bank_bits in (ready, cut, flags_ended, fetched):
                m.d.sync += bank_bits.bit_select(bank, 1).eq(0)
            with m.If(verdict != 0):
                m.d.sync += [self.refused_frames.eq(self.refused_frames + 1), self.last_error.eq(verdict)]

        out = queue.push.payload
        m.d.comb += queue.issue.eq(step)
        m.d.sync += [queue.push.valid.eq(step), out.data[0].eq(Mux(take, value, Const(0, bits))),
                     out.first.eq(index == 0), out.last.eq(index == count - 1)]
        return m
