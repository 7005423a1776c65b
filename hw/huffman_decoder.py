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
from .pipeline import delay
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
    def buffer_bits(self):
        """Bits the buffer holds: a symbol's window is always there while bytes come, with one symbol's bits
        taken and no byte accepted in the same cycle."""
        return 2 * self.window + BYTE - 1

    @property
    def latency(self):
        """Cycles from a symbol's decision to its entry into the output queue: its bits, its index, the
        symbol."""
        return 3


def _one_hot_or(choices, width):
    """The value of the one ``(select, value)`` whose select is high (0 if none), as an AND-OR."""
    out = C(0, width)
    for select, value in choices:
        out = out | (value[:width] & select.replicate(width))
    return out


class HuffmanDecoder(SpecComponent):
    """Decodes the frames of a canonical, length-limited Huffman code with an escape, one symbol per cycle.

    A frame's bytes arrive as :func:`numpy.packbits` (``bitorder="little"``)
    writes the codewords' bits, its last byte marked ``last``; its
    ``channels * height * width`` symbols leave in stream order (position
    after position, the channels of each), ``raw_bits`` wide, ``first`` and
    ``last`` marking the frame's ends.

    Every cycle the codeword's length is decided from the buffered bits by
    one comparison per length (canonical code: the length is the shortest
    whose prefix lies below the first code of the next rank), the symbol's
    bits leave the buffer and, off that loop, its index is looked up in the
    symbol table (or, after the escape, its raw bits taken). Bytes come while
    the buffer has room for one, so one symbol per cycle flows while the
    codewords average at most 8 bits.

    A frame is refused exactly as ``golden.huffman.decode_frame`` raises
    (``golden.huffman_decoder.decode_frame_symbols`` names the kind):
    cut short (``last`` came before the frame's codewords ended), bits that
    begin no codeword (an incomplete code), bytes after the one holding the
    last codeword (over-long), or a non-zero padding bit. A refused frame
    still has all its symbols emitted (those after the error are 0), so
    what follows stays in step; ``refused_frames`` counts it and
    ``last_error`` holds its kind (:data:`~wccgen.golden.huffman.ERRORS`).
    The bytes of a frame after its error are dropped up to its ``last``:
    nothing waits on a corrupt stream.

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
        m.submodules.queue = queue = OutputQueue(self.symbols.payload.shape(), spec.latency)
        wiring.connect(m, queue.o, wiring.flipped(self.symbols))

        size, window, count = spec.buffer_bits, spec.window, spec.symbols_per_frame
        buffer = Signal(size, name="buffer")  # stream bit i at bit i; the bits from `fill` up are 0
        fill = Signal(range(size + 1), name="fill")
        ended = Signal(name="ended")  # the frame's last byte is in the buffer
        left = Signal(range(count + 1), name="left", init=count)  # symbols of the frame still to come
        error = Signal(3, name="error")
        # DECODE: symbols from the buffer; ZEROS: the rest of a refused frame's symbols, as 0; CHECK: the
        # frame's end, after its last symbol; DRAIN: its bytes up to its `last`, dropped.
        state = Signal(range(4), name="state")
        DECODE, ZEROS, CHECK, DRAIN = range(4)

        # Bytes go into the buffer at `fill` while one fits (whatever this cycle's symbol takes), or are
        # dropped while draining.
        beat = self.stream.payload
        store = Signal(name="store")
        m.d.comb += [self.stream.ready.eq(((state == DECODE) & ~ended & (fill <= size - BYTE)) | (state == DRAIN)),
                     store.eq(self.stream.valid & self.stream.ready & (state == DECODE))]
        merged = Signal(size, name="merged")
        m.d.comb += merged.eq(buffer | (Mux(store, beat.data, 0) << fill)[:size])

        # The codeword's length: the shortest whose prefix (first bit most significant) lies below the first
        # code of the next rank.
        limits = spec.limits
        prefix = {n: Cat(*[buffer[i] for i in reversed(range(n))]) for n in limits}
        chosen, earlier = {}, C(0, 1)
        for n, (first, number) in limits.items():
            if first + number == 0:  # no codeword this short, nor any shorter
                below = C(0, 1)
            elif first + number < 1 << n:
                below = prefix[n] < first + number
            else:
                below = C(1, 1)
            chosen[n] = Signal(name=f"length{n}")
            m.d.comb += chosen[n].eq(below & ~earlier)
            earlier = earlier | below
        found = Signal(name="found")
        m.d.comb += found.eq(earlier)
        escape_code, escape_length = table.codewords[ESCAPE]
        escape = Signal(name="escape")
        m.d.comb += escape.eq(chosen[escape_length] & (prefix[escape_length] == escape_code))
        # The bits a decision takes, one choice per length (and the escape with its raw bits).
        takes = [(chosen[n] & ~escape if n == escape_length else chosen[n], n) for n in limits if limits[n][1]]
        takes.append((escape, escape_length + table.raw_bits))
        enough = Signal(name="enough")
        m.d.comb += enough.eq(Cat(*[select & (fill >= bits) for select, bits in takes]).any())

        # A decision needs a whole window buffered, or the frame's last byte in, and room for its symbol.
        decide = Signal(name="decide")
        m.d.comb += decide.eq((state == DECODE) & (left != 0) & ((fill >= window) | ended) & queue.room)
        symbol, zero = Signal(name="symbol"), Signal(name="zero")  # a decoded symbol, a refused frame's 0
        m.d.comb += [symbol.eq(decide & found & enough), zero.eq((state == ZEROS) & (left != 0) & queue.room)]
        # The choices are one-hot: an AND-OR of the shifted buffers, whether a symbol is taken decided last (it
        # waits on `fill`).
        shifted = Signal(size, name="shifted")
        m.d.comb += shifted.eq(_one_hot_or([(select, merged >> bits) for select, bits in takes], size))
        taken = Signal(range(window + 1), name="taken")
        m.d.comb += taken.eq(_one_hot_or([(select, C(bits, len(taken))) for select, bits in takes], len(taken)))
        m.d.sync += [buffer.eq(Mux(symbol, shifted, merged)),
                     fill.eq(fill + Mux(store, BYTE, 0) - Mux(symbol, taken, 0))]
        with m.If(self.stream.valid & self.stream.ready & beat.last):
            m.d.sync += ended.eq(1)
        with m.If(symbol | zero):
            m.d.sync += left.eq(left - 1)

        # After the last symbol: bytes after the one holding the last codeword, or a non-zero padding bit
        # (the bits from `fill` up are 0), refuse a frame that nothing refused before.
        verdict = Signal(3, name="verdict")
        m.d.comb += verdict.eq(error)
        with m.If((state == CHECK) & (error == 0)):
            with m.If(~ended | (fill >= BYTE)):
                m.d.comb += verdict.eq(ERRORS["over_long"])
            with m.Elif(buffer.any()):
                m.d.comb += verdict.eq(ERRORS["padding"])
        with m.Switch(state):
            with m.Case(DECODE):
                with m.If(symbol & (left == 1)):
                    m.d.sync += state.eq(CHECK)
                with m.Elif(decide & ~symbol):
                    # No codeword fits: the frame ends inside one (cut), unless a whole longest codeword's bits
                    # are there and begin none.
                    m.d.sync += [state.eq(ZEROS), error.eq(Mux(~found & (fill >= table.max_length),
                                                                ERRORS["no_codeword"], ERRORS["cut"]))]
            with m.Case(ZEROS):
                with m.If(left == 0):
                    m.d.sync += state.eq(CHECK)
            with m.Case(CHECK):
                m.d.sync += error.eq(verdict)
                with m.If(~ended):
                    m.d.sync += state.eq(DRAIN)
        # The frame is over when checked with its last byte in, or when its last byte is dropped; the next
        # starts from an empty buffer.
        done = Signal(name="done")
        m.d.comb += done.eq(((state == CHECK) & ended) | ((state == DRAIN) & self.stream.valid & beat.last))
        with m.If(done):
            m.d.sync += [buffer.eq(0), fill.eq(0), ended.eq(0), left.eq(count), error.eq(0), state.eq(DECODE)]
            with m.If(verdict != 0):
                m.d.sync += [self.refused_frames.eq(self.refused_frames + 1), self.last_error.eq(verdict)]

        # Off the loop: the decision's bits, then the symbol's index in canonical order, then the symbol.
        issue = Signal(name="issue")
        m.d.comb += [issue.eq(symbol | zero), queue.issue.eq(issue)]
        bits = Signal(window, name="s1_bits")
        length = Signal(range(table.max_length + 1), name="s1_length")
        flags = Signal(4, name="s1_flags")  # zero, escape, first, last
        m.d.sync += [bits.eq(buffer[:window]), flags.eq(Cat(zero, escape, left == count, left == 1))]
        for n in limits:
            with m.If(chosen[n]):
                m.d.sync += length.eq(n)
        index = Signal(range(len(spec.codewords)), name="s2_index")
        raw = Signal(table.raw_bits, name="s2_raw")
        flags2 = Signal(4, name="s2_flags")
        s1_prefix = {n: Cat(*[bits[i] for i in reversed(range(n))]) for n in limits}
        base = 0
        with m.Switch(length):
            for n, (first, number) in limits.items():
                if number:
                    with m.Case(n):
                        m.d.sync += index.eq(s1_prefix[n] - first + base)
                base += number
        m.d.sync += [raw.eq(Cat(*[bits[escape_length + i] for i in reversed(range(table.raw_bits))])),
                     flags2.eq(flags)]
        value = Signal(signed(table.raw_bits), name="s3_symbol")
        with m.Switch(index):
            for rank, (key, _, _) in enumerate(spec.codewords):
                if key != ESCAPE:
                    with m.Case(rank):
                        m.d.comb += value.eq(key)
        with m.If(flags2[1]):
            m.d.comb += value.eq(raw)
        with m.If(flags2[0]):
            m.d.comb += value.eq(0)
        out = queue.push.payload
        m.d.comb += queue.push.valid.eq(delay(m, issue, spec.latency, "issue"))
        m.d.sync += [out.data[0].eq(value), out.first.eq(flags2[2]), out.last.eq(flags2[3])]
        return m
