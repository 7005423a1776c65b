"""DCT-CM's zero-flag encoder: one code per cycle into a frame's bytes, flags first (golden:
``golden.zero_flag_coder.zero_flag_encode``)."""

from dataclasses import dataclass

from amaranth.hdl import C, Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .block_ram import BlockRAM
from .code_frame import counted_codes
from .frame_beat import frame_beat, word_beat
from .output_queue import OutputQueue
from .pipeline import RELAY, delay
from .spec_component import SpecComponent
from .zero_flag_frame import ZeroFlagFrameSpec, address_bits

__all__ = ["ZeroFlagEncoder", "ZeroFlagEncoderSpec"]

#: Bits of an output beat: one byte, as the integer model's frames are bytes.
BYTE = 8
#: Frames the encoder holds: one taken in while the other leaves.
BANKS = 2


@dataclass(frozen=True)
class ZeroFlagEncoderSpec(ZeroFlagFrameSpec):
    """Parameters of a :class:`ZeroFlagEncoder` (see there), validated, and the facts derived from them."""

    @property
    def value_bytes(self):
        """Bytes of a frame's codes at most, counted from the byte holding the first code bit (the one after the
        whole flag bytes)."""
        return -(-(self.tail_flags + self.codes_per_frame * self.bits) // 8)

    @property
    def value_address_bits(self):
        """Address bits of a bank of code bytes."""
        return address_bits(self.value_bytes)

    @property
    def latency(self):
        """Cycles from a byte's reads to its entry into the output queue: the block RAMs, the merge."""
        return BlockRAM.LATENCY + 1


class ZeroFlagEncoder(SpecComponent):
    """Encodes frames of coefficient codes in DCT-CM's zero-flag format, one code per cycle.

    A frame's ``components * height * width`` codes arrive in stream order
    (position after position, the components of each), ``bits`` wide,
    ``last`` on the final one; its bytes leave as
    ``golden.zero_flag_coder.zero_flag_encode`` writes them: one flag per
    code (1: not zero), then the non-zero codes, LSB first, the last byte
    padded with zeros; ``first`` and ``last`` mark the frame's ends.

    The flags take a fixed number of bits, so where every code bit lands in
    the frame's bytes is known as soon as the code arrives: flags are
    gathered into bytes and non-zero codes packed into the bytes that
    follow, each written to a bank of block RAM as it is complete. At the
    frame's end the bank is handed to the output side, which sends its bytes
    one per cycle (the byte shared by the last flags and the first code
    bits is the OR of the two). A frame of ``B`` bytes leaves in ``B``
    cycles, never more than it takes to come in while the codes are at
    most 7 bits; two banks let a frame come in while the one before leaves.

    A frame has ``components * height * width`` codes: one whose ``last``
    comes early is completed with zero codes, and the codes of a longer one
    are dropped after that count up to its ``last``; either is counted in
    ``miscounted_frames``, and the frames after it are unaffected.

    Parameters
    ----------
    components, height, width : int
        The shape of a frame of codes.
    bits : int
        Width of a code.

    Attributes
    ----------
    codes : In(stream.Signature(frame_beat(bits, 1)))
    stream : Out(stream.Signature(word_beat(8)))
    miscounted_frames : Out(16)
    """

    Spec = ZeroFlagEncoderSpec

    @classmethod
    def members(cls, spec):
        return {
            "codes": In(stream.Signature(frame_beat(spec.bits, 1))),
            "stream": Out(stream.Signature(word_beat(BYTE))),
            "miscounted_frames": Out(16),
        }

    def elaborate(self, platform):
        m = Module()
        spec = self.spec
        count, flag_bytes, tail, bits = spec.codes_per_frame, spec.flag_bytes, spec.tail_flags, spec.bits
        whole_flag_bytes = count // 8  # the stream byte holding the first code bit
        flag_address_bits, value_address_bits = spec.flag_address_bits, spec.value_address_bits
        m.submodules.flag_ram = flag_ram = BlockRAM(shape=BYTE, depth=BANKS << flag_address_bits)
        m.submodules.value_ram = value_ram = BlockRAM(shape=BYTE, depth=BANKS << value_address_bits)
        m.submodules.queue = queue = OutputQueue(self.stream.payload.shape(), spec.latency)
        wiring.connect(m, queue.o, wiring.flipped(self.stream))

        # A bank handed from the input side to the output side: its partial last byte, the stream byte that
        # byte is, and the frame's last stream byte. `busy`: the input side has filled it (or is finishing it);
        # `full`: its facts are recorded.
        frame_bytes = spec.max_frame_bytes
        busy, full = Signal(BANKS, name="busy"), Signal(BANKS, name="full")
        partial = [Signal(BYTE, name=f"partial{b}") for b in range(BANKS)]
        partial_at = [Signal(range(frame_bytes + 1), name=f"partial_at{b}") for b in range(BANKS)]
        last_at = [Signal(range(frame_bytes), name=f"last_at{b}") for b in range(BANKS)]
        single = [Signal(name=f"single{b}") for b in range(BANKS)]  # the frame is one byte

        # The input side, first stage: which code enters which bank.
        in_bank = Signal(name="in_bank")
        free = Signal(name="free")
        m.d.comb += free.eq(~busy.bit_select(in_bank, 1))
        taken, index, end, sent = counted_codes(m, self.codes, count, free, self.miscounted_frames)
        with m.If(taken & end):
            m.d.sync += [in_bank.eq(~in_bank), busy.bit_select(in_bank, 1).eq(1)]
        # Second stage, a cycle later: flags into bytes; non-zero codes packed into the bytes after the whole flag
        # bytes, from bit `tail` of the first.
        entering = Signal(name="entering")
        code = Signal(bits, name="code")
        position = Signal(3, name="position")  # the code's flag in its byte
        flag_address = Signal(flag_address_bits, name="flag_address")
        closes = Signal(name="closes")  # the frame's last code
        bank = Signal(name="bank")
        flag = Signal(name="flag")  # the code is not 0
        flag_bit = Signal(name="flag_bit", attrs=RELAY)  # the same, for the flag bytes
        m.d.sync += [entering.eq(taken), code.eq(sent), flag.eq(sent.any()), flag_bit.eq(sent.any()),
                     position.eq(index[:3]),
                     flag_address.eq(index >> 3), closes.eq(end), bank.eq(in_bank)]
        gathered = Signal(BYTE, name="gathered")  # the flags of the current byte so far
        held = Signal(BYTE, name="held")  # the code bits of the current byte so far
        fill = Signal(3, name="fill", init=tail)  # where the next code bit lands in its byte
        value_byte = Signal(range(spec.value_bytes + 1), name="value_byte")  # code bytes complete so far
        value_byte_after = Signal.like(value_byte, name="value_byte_after", init=1)  # the same plus 1, beside it
        flags = Signal(BYTE, name="flags")
        m.d.comb += flags.eq(gathered | (flag_bit << position)[:BYTE])
        packed = Signal(2 * BYTE - 1, name="packed")
        m.d.comb += packed.eq(held | (code << fill))
        total = Signal(4, name="total")
        m.d.comb += total.eq(fill + bits)
        # Whether a code completes a byte depends on the fill alone: decided with it, a register.
        fill_near = Signal(name="fill_near", init=tail >= BYTE - bits)
        completes = Signal(name="completes")  # the code completes a byte
        m.d.comb += completes.eq(flag & fill_near)
        # The packing after this code: the byte being gathered, where the next bit lands, the bytes complete.
        next_held, next_fill, next_value_byte = Signal.like(held), Signal.like(fill), Signal.like(value_byte)
        m.d.comb += [next_held.eq(Mux(flag, Mux(fill_near, packed[BYTE:], packed[:BYTE]), held)),
                     next_fill.eq(Mux(flag, total[:3], fill)),
                     next_value_byte.eq(Mux(completes, value_byte_after, value_byte))]
        m.d.comb += [
            flag_ram.write_addr.eq(Cat(flag_address, bank)), flag_ram.write_data.eq(flags),
            flag_ram.write_en.eq(entering & ((position == 7) | closes)),
            value_ram.write_addr.eq(Cat(value_byte[:value_address_bits], bank)),
            value_ram.write_data.eq(packed[:BYTE]), value_ram.write_en.eq(entering & completes),
        ]
        # A frame's end is recorded, then its facts a cycle later: its bytes are the whole flag bytes, the
        # complete code bytes, and the partial one if any bit is in it.
        closing = Signal(name="closing")
        closing_bank = Signal(name="closing_bank")
        closing_held, closing_value_byte = Signal.like(held), Signal.like(value_byte)
        closing_whole = Signal(name="closing_whole")  # the last code byte is complete: no partial one
        m.d.sync += closing.eq(0)
        # The frame is one byte (its last is byte 0): the sum above is 0, said without the adder.
        one_byte = {0: closing_value_byte == closing_whole,
                    1: (closing_value_byte == 0) & closing_whole}.get(whole_flag_bytes, C(0, 1))
        with m.If(closing):
            for b in range(BANKS):
                with m.If(closing_bank == b):
                    m.d.sync += [full[b].eq(1), partial[b].eq(closing_held),
                                 partial_at[b].eq(whole_flag_bytes + closing_value_byte),
                                 last_at[b].eq(whole_flag_bytes + closing_value_byte - closing_whole),
                                 single[b].eq(one_byte)]
        with m.If(entering):
            m.d.sync += [gathered.eq(Mux((position == 7) | closes, 0, flags)), held.eq(next_held),
                         fill.eq(next_fill), fill_near.eq(next_fill >= BYTE - bits), value_byte.eq(next_value_byte)]
            with m.If(completes):
                m.d.sync += value_byte_after.eq(value_byte_after + 1)
            with m.If(closes):
                m.d.sync += [held.eq(0), fill.eq(tail), fill_near.eq(tail >= BYTE - bits), value_byte.eq(0),
                             value_byte_after.eq(1),
                             closing.eq(1), closing_bank.eq(bank),
                             closing_held.eq(next_held), closing_value_byte.eq(next_value_byte),
                             closing_whole.eq(next_fill == 0)]

        # The output side: a bank's facts latched, then one byte per cycle, the OR of its flags, its complete code
        # byte and its partial byte.
        bank_relay = Signal(name="out_bank_relay", attrs=RELAY)  # the bank being read, for the decisions
        out_bank = Signal(name="out_bank")  # the same a cycle later, for the reads (a bank's first read comes
        m.d.sync += out_bank.eq(bank_relay)  # two cycles after the switch at the earliest)
        loaded = Signal(name="loaded")
        bank_partial, bank_partial_at = (Signal.like(signals[0], name=f"bank_{signals[0].name[:-1]}")
                                         for signals in (partial, partial_at))
        released, released_bank = Signal(name="released"), Signal(name="released_bank")
        at = Signal(range(frame_bytes), name="at")  # the stream byte
        after = Signal(range(frame_bytes + 1), name="after", init=1)  # at + 1, kept beside it
        final = Signal(name="final")  # the frame's last byte, a register decided a byte ahead
        bank_last_at = Signal.like(last_at[0], name="bank_last_at")
        with m.If(~loaded & full.bit_select(bank_relay, 1)):
            m.d.sync += [loaded.eq(1), bank_partial.eq(Mux(bank_relay, partial[1], partial[0])),
                         bank_partial_at.eq(Mux(bank_relay, partial_at[1], partial_at[0])),
                         bank_last_at.eq(Mux(bank_relay, last_at[1], last_at[0])),
                         final.eq(Mux(bank_relay, single[1], single[0]))]
        issue = Signal(name="issue")
        m.d.comb += issue.eq(loaded & queue.room)
        m.d.comb += [flag_ram.read_addr.eq(Cat(at[:flag_address_bits], out_bank)),
                     value_ram.read_addr.eq(Cat((at - whole_flag_bytes)[:value_address_bits], out_bank))]
        with m.If(issue):
            m.d.sync += [at.eq(after), after.eq(after + 1), final.eq(after == bank_last_at)]
            with m.If(final):
                m.d.sync += [at.eq(0), after.eq(1), bank_relay.eq(~bank_relay), loaded.eq(0),
                             released.eq(1)]
        # A bank is released a cycle after its last read: its flags then leave the output side's decisions.
        m.d.sync += released_bank.eq(bank_relay)
        with m.If(released):
            m.d.sync += [released.eq(0), full.bit_select(released_bank, 1).eq(0),
                         busy.bit_select(released_bank, 1).eq(0)]
        # Which parts make the byte, decided from copies of the counters a cycle after its reads left.
        read_at, read_issue, read_final = Signal.like(at, name="read_at"), Signal(name="read_issue"), \
            Signal(name="read_final")
        m.d.sync += [read_at.eq(at), read_issue.eq(issue), read_final.eq(final)]
        # (Each comparison gets a register of its own, the parts are put together a cycle later.)
        tests = Cat(read_issue, read_at < flag_bytes, read_at >= whole_flag_bytes, read_at < bank_partial_at,
                    read_at == bank_partial_at, read_at == 0, read_final)
        tested = delay(m, Mux(read_issue, tests, 0), 1, "tests")
        parts = Cat(tested[0], tested[1], tested[2] & tested[3], tested[4], tested[5], tested[6])
        parts = delay(m, parts, BlockRAM.LATENCY - 2, "parts")
        late_partial = delay(m, bank_partial, BlockRAM.LATENCY, "partial")
        arrived, has_flags, has_values, has_partial, first, last = (parts[i] for i in range(6))
        out = queue.push.payload
        m.d.comb += queue.issue.eq(issue)
        m.d.sync += [queue.push.valid.eq(arrived), out.first.eq(first), out.last.eq(last),
                     out.data.eq(Mux(has_flags, flag_ram.read_data, 0) | Mux(has_values, value_ram.read_data, 0)
                                 | Mux(has_partial, late_partial, 0))]
        return m
