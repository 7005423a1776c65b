"""What a Huffman encoder and decoder of TCI's frames share: the code, the frame's shape and the facts of both."""

from dataclasses import dataclass

from ..golden.huffman import HuffmanTable
from ..spec.checks import check_positive_int, set_validated

__all__ = ["HuffmanFrameSpec"]


@dataclass(frozen=True)
class HuffmanFrameSpec:
    """A canonical Huffman code with an escape (``golden.huffman.HuffmanTable``) and the shape of its frames.

    Parameters
    ----------
    table : HuffmanTable
        The code, or its fields as a dict (as a Verilog header records them).
    channels, height, width : int
        The shape of a frame of symbols, sent position after position, the
        channels of each.
    """

    table: HuffmanTable
    channels: int
    height: int
    width: int

    def __post_init__(self):
        table = self.table
        if isinstance(table, dict):
            table = HuffmanTable(**table)
        if not isinstance(table, HuffmanTable):
            raise TypeError(f"table: must be a HuffmanTable or its fields, got {type(table).__name__}")
        set_validated(self, table=table, **{name: check_positive_int(getattr(self, name), name)
                                            for name in ("channels", "height", "width")})

    #: Symbols per beat of the symbol stream (the testbench's frames carry ``lanes`` channels per beat).
    lanes = 1

    @property
    def symbols_per_frame(self):
        """Symbols of one frame: every position's ``channels`` codes."""
        return self.channels * self.height * self.width

    @property
    def codewords(self):
        """``[(key, code, length), ...]`` in canonical order, the escape's key ``golden.huffman.ESCAPE``."""
        return sorted(((key, code, length) for key, (code, length) in self.table.codewords.items()),
                      key=lambda item: (item[2], item[1]))

    @property
    def longest_symbol_bits(self):
        """Bits of the longest symbol the code writes: its longest codeword, or the escape and its raw bits."""
        return max(*self.table.lengths, self.table.escape_length + self.table.raw_bits)

    @property
    def max_frame_bytes(self):
        """Bytes of the longest frame: every symbol its longest, the last byte padded (what a buffer for a
        compressed frame must hold)."""
        return -(-self.symbols_per_frame * self.longest_symbol_bits // 8)

    @property
    def window(self):
        """Bits one symbol can take: the longest codeword, or the escape and its raw bits."""
        return max(self.table.max_length, self.table.escape_length + self.table.raw_bits)
