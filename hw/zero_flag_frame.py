"""What a zero-flag encoder and decoder of DCT-CM's frames share: the facts of the format's frames."""

from dataclasses import dataclass
from typing import ClassVar

from .code_frame import MAX_CODE_BITS, CodeFrameSpec, address_bits

__all__ = ["MAX_CODE_BITS", "ZeroFlagFrameSpec", "address_bits"]


@dataclass(frozen=True)
class ZeroFlagFrameSpec(CodeFrameSpec):
    """A frame of coefficient codes in DCT-CM's zero-flag format (``golden.zero_flag_coder``); its parameters are
    those of :class:`~wccgen.hw.code_frame.CodeFrameSpec`."""

    blocks: ClassVar[str] = "zero-flag"

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
    def max_frame_bytes(self):
        """Bytes of the longest frame, every code non-zero (what a buffer for a compressed frame must hold)."""
        return -(-self.codes_per_frame * (1 + self.bits) // 8)
