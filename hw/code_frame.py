"""What the coders of coefficient codes share: a frame's shape and code width, the guard that takes exactly a
frame's codes, and the facts of CAP's fixed-width frames."""

from dataclasses import dataclass
from typing import ClassVar

from amaranth.hdl import Mux, Signal

from ..spec.checks import check_bits, check_positive_int, set_validated
from ..spec.fixed_point import symmetric_limit
from .pipeline import wrapping_counter

__all__ = ["MAX_CODE_BITS", "CodeFrameSpec", "FixedWidthFrameSpec", "address_bits", "counted_codes"]

#: Widest code the coders take: a code and the bits held over from the last byte fill at most one byte more.
MAX_CODE_BITS = 8


def address_bits(depth):
    """Address bits of a memory bank of ``depth`` entries (at least one)."""
    return max(1, (depth - 1).bit_length())


def counted_codes(m, codes, count, open_, miscounted_frames):
    """The codes a coder takes from the stream ``codes``: exactly ``count`` per frame, whatever its ``last`` says.

    A frame whose ``last`` comes early is completed with zero codes, the
    codes of a longer one are dropped after ``count`` up to its ``last``;
    either adds one to ``miscounted_frames`` (a cycle later: the counter
    stays off the path from ``ready``). A code is taken only while
    ``open_`` (the coder's room for it) is high; ``codes.ready`` is driven
    here.

    Returns
    -------
    (Signal, Signal, Signal, Signal)
        ``taken`` (a code enters the coder this cycle), its index in the
        frame, the flag that it is the frame's last, and its bits (0 for a
        completing zero).
    """
    filling = Signal(name="filling")  # the frame's `last` came early: zero codes complete it
    dropping = Signal(name="dropping")  # the frame is complete: its codes are dropped up to its `last`
    beat = codes.payload
    m.d.comb += codes.ready.eq(dropping | (open_ & ~filling))
    taken = Signal(name="taken")
    m.d.comb += taken.eq((codes.valid & codes.ready & ~dropping) | (filling & open_))
    index, end = wrapping_counter(m, taken, count, "index")
    sent_last = Signal(name="sent_last")
    m.d.comb += sent_last.eq(codes.valid & codes.ready & beat.last)
    miscounted = Signal(name="miscounted")
    m.d.sync += miscounted.eq(0)
    with m.If(taken):
        with m.If(end):
            m.d.sync += filling.eq(0)
            with m.If(~filling & ~sent_last):
                m.d.sync += [dropping.eq(1), miscounted.eq(1)]
        with m.Elif(sent_last):
            m.d.sync += [filling.eq(1), miscounted.eq(1)]
    with m.If(dropping & sent_last):
        m.d.sync += dropping.eq(0)
    with m.If(miscounted):
        m.d.sync += miscounted_frames.eq(miscounted_frames + 1)
    value = Signal(len(beat.data[0]), name="value")  # the code's bits
    m.d.comb += value.eq(Mux(filling, 0, beat.data[0]))
    return taken, index, end, value


@dataclass(frozen=True)
class CodeFrameSpec:
    """The shape of a frame of coefficient codes as a coder takes them, one code per beat.

    Parameters
    ----------
    components, height, width : int
        The shape of a frame of codes, sent position after position, the
        components of each.
    bits : int
        Width of a code, 2 to :data:`MAX_CODE_BITS`.
    """

    components: int
    height: int
    width: int
    bits: int

    #: The blocks of the format, as messages name them.
    blocks: ClassVar[str] = "coder"

    def __post_init__(self):
        set_validated(self, bits=check_bits(self.bits, "bits"), **{
            name: check_positive_int(getattr(self, name), name) for name in ("components", "height", "width")})
        if self.bits > MAX_CODE_BITS:
            raise ValueError(f"bits: the {self.blocks} blocks take codes of at most {MAX_CODE_BITS} bits, got "
                             f"{self.bits}")

    #: Codes per beat of the code stream (the testbench's frames carry ``lanes`` components per beat).
    lanes = 1

    @property
    def codes_per_frame(self):
        """Codes of one frame: every position's ``components`` codes."""
        return self.components * self.height * self.width

    @property
    def limit(self):
        """Largest magnitude of a code, ``Q = 2**(bits - 1) - 1``."""
        return symmetric_limit(self.bits)


@dataclass(frozen=True)
class FixedWidthFrameSpec(CodeFrameSpec):
    """A frame of codes in CAP's fixed-width format (``golden.fixed_width_coder``): every code ``bits`` wide, LSB
    first, then zero bits to the byte boundary."""

    blocks: ClassVar[str] = "fixed-width"

    @property
    def frame_bits(self):
        """Bits of the frame's codes, before the padding."""
        return self.codes_per_frame * self.bits

    @property
    def frame_bytes(self):
        """Bytes of every frame."""
        return -(-self.frame_bits // 8)

    @property
    def max_frame_bytes(self):
        """Bytes of the longest frame: every frame's."""
        return self.frame_bytes

    @property
    def padding_bits(self):
        """Zero bits after the last code, in the frame's last byte."""
        return 8 * self.frame_bytes - self.frame_bits
