"""What a zero-flag encoder and decoder of DCT-CM's frames share: the frame's shape, the code width and the facts
of both."""

from dataclasses import dataclass

from ..spec.checks import check_bits, check_positive_int, set_validated
from ..spec.fixed_point import symmetric_limit

__all__ = ["MAX_CODE_BITS", "ZeroFlagFrameSpec", "address_bits"]

#: Widest code the blocks take: a code and the bits held over from the last byte fill at most one byte more.
MAX_CODE_BITS = 8


def address_bits(depth):
    """Address bits of a memory bank of ``depth`` entries (at least one)."""
    return max(1, (depth - 1).bit_length())


@dataclass(frozen=True)
class ZeroFlagFrameSpec:
    """The shape of a frame of coefficient codes in DCT-CM's zero-flag format (``golden.zero_flag_coder``).

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

    def __post_init__(self):
        set_validated(self, bits=check_bits(self.bits, "bits"), **{
            name: check_positive_int(getattr(self, name), name) for name in ("components", "height", "width")})
        if self.bits > MAX_CODE_BITS:
            raise ValueError(f"bits: the zero-flag blocks take codes of at most {MAX_CODE_BITS} bits, got {self.bits}")

    #: Codes per beat of the code stream (the testbench's frames carry ``lanes`` components per beat).
    lanes = 1

    @property
    def codes_per_frame(self):
        """Codes of one frame: every position's ``components`` codes."""
        return self.components * self.height * self.width

    @property
    def flag_bytes(self):
        """Bytes holding the flags: the last holds the ``tail_flags`` and the first code bits after them."""
        return -(-self.codes_per_frame // 8)

    @property
    def tail_flags(self):
        """Flags in the last flag byte when it is not all flags (``codes_per_frame mod 8``), else 0."""
        return self.codes_per_frame % 8

    @property
    def flag_address_bits(self):
        """Address bits of a bank of flag bytes."""
        return address_bits(self.flag_bytes)

    @property
    def limit(self):
        """Largest magnitude of a code, ``Q = 2**(bits - 1) - 1``."""
        return symmetric_limit(self.bits)

    @property
    def max_frame_bytes(self):
        """Bytes of the longest frame, every code non-zero (what a buffer for a compressed frame must hold)."""
        return -(-self.codes_per_frame * (1 + self.bits) // 8)
