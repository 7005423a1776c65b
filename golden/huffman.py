"""Canonical, length-limited Huffman codes with an escape: the entropy coder of transform coding (TCI).

The code is built once from calibration histograms and frozen, as hardware
needs it: :func:`code_lengths` finds the optimal lengths under a maximum
length (package-merge, Larmore and Hirschberg 1990), :func:`canonical_codes`
assigns the canonical codewords (shorter codes first, then by symbol), and a
:class:`HuffmanTable` adds an escape codeword for symbols never seen in
calibration, which is followed by the symbol's raw bits. :func:`encode` and
:func:`decode` are the integer model of the coder; the decoder refuses a
truncated stream or bits that are no codeword with :class:`StreamError`.

Bits are NumPy ``uint8`` arrays of 0 and 1, most significant bit of every
codeword first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ERRORS", "ESCAPE", "HuffmanTable", "StreamError", "build_table", "canonical_codes", "code_lengths",
           "coded_bits", "decode", "decode_frame", "decode_frame_flagged", "encode", "symbol_lengths"]

#: The escape's place in a table's symbol list: it sorts after every symbol of the same length.
ESCAPE = "escape"
#: Lengths the tables accept (hardware decodes a codeword of up to this many bits in one cycle).
MAX_CODE_LENGTH = 24


#: What is wrong with a refused frame, by the code the hardware decoder reports (0: nothing).
ERRORS = {"cut": 1, "no_codeword": 2, "over_long": 3, "padding": 4}


class StreamError(ValueError):
    """A compressed stream the decoder cannot read; ``kind`` is a key of :data:`ERRORS`."""

    def __init__(self, message, kind, decoded=None):
        super().__init__(message)
        self.kind = kind
        self.decoded = decoded  #: symbols read before a cut or a bad codeword


def code_lengths(counts, max_length):
    """Optimal codeword lengths of ``counts`` with no codeword longer than ``max_length`` (package-merge).

    Parameters
    ----------
    counts : sequence of int
        Occurrences of each symbol, all positive.
    max_length : int
        ``2**max_length`` must be at least the number of symbols.

    Returns
    -------
    list of int
        The length of each symbol's codeword; a single symbol gets length 1.
    """
    counts = [int(c) for c in counts]
    n = len(counts)
    if n == 0:
        raise ValueError("counts: no symbol to code")
    if any(c <= 0 for c in counts):
        raise ValueError("counts: every symbol of a code must occur at least once")
    if not 1 <= max_length <= MAX_CODE_LENGTH:
        raise ValueError(f"max_length: must be in [1, {MAX_CODE_LENGTH}], got {max_length}")
    if n > 1 << max_length:
        raise ValueError(f"max_length: {n} symbols need codewords of more than {max_length} bits")
    if n == 1:
        return [1]
    # Package-merge: a coin of every symbol at every level; the n - 1 cheapest packages of the merged list at
    # the top level decide how many levels each symbol takes part in, which is its length.
    leaves = sorted(range(n), key=lambda i: (counts[i], i))
    items = [(counts[i], (i,)) for i in leaves]
    current = list(items)
    for _ in range(max_length - 1):
        packages = [(current[k][0] + current[k + 1][0], current[k][1] + current[k + 1][1])
                    for k in range(0, len(current) - 1, 2)]
        current = sorted(items + packages, key=lambda item: item[0])
    lengths = [0] * n
    for _, members in current[:2 * n - 2]:
        for symbol in members:
            lengths[symbol] += 1
    return lengths


def canonical_codes(lengths):
    """Canonical codewords for ``lengths``: by length, then by position; returns the codewords as integers."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    codes = [0] * len(lengths)
    code, previous = 0, lengths[order[0]]
    for rank, i in enumerate(order):
        if rank:
            code = (code + 1) << (lengths[i] - previous)
        codes[i], previous = code, lengths[i]
    return codes


@dataclass(frozen=True)
class HuffmanTable:
    """A frozen canonical code over integer symbols, with an escape for the others.

    Parameters
    ----------
    symbols : tuple of int
        The symbols with a codeword, in canonical order (by length, then value).
    lengths : tuple of int
        Their codeword lengths.
    escape_length : int
        Length of the escape codeword, which sorts after every symbol of its length.
    raw_bits : int
        Bits of a symbol written after the escape (two's complement).
    max_length : int
        The length limit the table was built under.
    """

    symbols: tuple
    lengths: tuple
    escape_length: int
    raw_bits: int
    max_length: int

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raise a ``ValueError`` naming the field unless the table is a complete, prefix-free, limited code."""
        if len(self.symbols) != len(self.lengths):
            raise ValueError(f"lengths: {len(self.lengths)} lengths for {len(self.symbols)} symbols")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols: a symbol appears twice")
        if not 1 <= self.raw_bits <= 32:
            raise ValueError(f"raw_bits: must be in [1, 32], got {self.raw_bits}")
        low, high = -(1 << (self.raw_bits - 1)), (1 << (self.raw_bits - 1)) - 1
        for symbol in self.symbols:
            if not low <= symbol <= high:
                raise ValueError(f"symbols: {symbol} does not fit raw_bits = {self.raw_bits}")
        for length in (*self.lengths, self.escape_length):
            if not 1 <= length <= self.max_length:
                raise ValueError(f"lengths: every codeword must be 1 to max_length = {self.max_length} bits, "
                                 f"got {length}")
        # Kraft's sum of a canonical code: at most 1, or some codeword would be a prefix of another.
        kraft = sum(2.0 ** -length for length in (*self.lengths, self.escape_length))
        if kraft > 1:
            raise ValueError(f"lengths: not a prefix-free code (Kraft sum {kraft:.6g} > 1)")
        ordered = list(zip(self.lengths, self.symbols))
        if ordered != sorted(ordered):
            raise ValueError("symbols: not in canonical order (by codeword length, then value)")

    @property
    def codewords(self):
        """``{symbol: (code, length)}``, the escape under :data:`ESCAPE`."""
        lengths = list(self.lengths)
        # The escape comes last among codewords of its length.
        position = sum(1 for length in lengths if length <= self.escape_length)
        all_lengths = lengths[:position] + [self.escape_length] + lengths[position:]
        codes = canonical_codes(all_lengths)
        keys = list(self.symbols[:position]) + [ESCAPE] + list(self.symbols[position:])
        return {key: (code, length) for key, code, length in zip(keys, codes, all_lengths)}

    @property
    def side_bits(self):
        """Bits that describe the table to a decoder: the number of codewords of each length 1..max_length (each
        in as many bits as the codeword count needs), the symbols in canonical order at ``raw_bits`` each, and the
        escape's length (5 bits)."""
        count_bits = (len(self.symbols) + 1).bit_length()
        return self.max_length * count_bits + len(self.symbols) * self.raw_bits + 5


def build_table(histogram, max_length=12, raw_bits=8):
    """The table of a calibration ``histogram`` (``{symbol: count}``): optimal lengths under ``max_length`` for the
    symbols seen and the escape, which is given the weight of one occurrence."""
    seen = sorted((int(symbol), int(count)) for symbol, count in dict(histogram).items() if count > 0)
    if not seen:
        raise ValueError("histogram: no symbol was seen in calibration")
    symbols = [symbol for symbol, _ in seen]
    lengths = code_lengths([count for _, count in seen] + [1], max_length)
    escape_length, lengths = lengths[-1], lengths[:-1]
    order = sorted(range(len(symbols)), key=lambda i: (lengths[i], symbols[i]))
    return HuffmanTable(tuple(symbols[i] for i in order), tuple(lengths[i] for i in order), escape_length,
                        raw_bits, max_length)


def _bits(value, width):
    return [(value >> (width - 1 - k)) & 1 for k in range(width)]


def encode(symbols, table):
    """The bits of ``symbols`` (integers) under ``table``: each symbol's codeword, or the escape and its raw bits."""
    codewords = table.codewords
    escape = codewords[ESCAPE]
    mask = (1 << table.raw_bits) - 1
    out = []
    for symbol in np.asarray(symbols, dtype=np.int64).ravel().tolist():
        if symbol in codewords:
            out += _bits(*codewords[symbol])
        else:
            low, high = -(1 << (table.raw_bits - 1)), (1 << (table.raw_bits - 1)) - 1
            if not low <= symbol <= high:
                raise ValueError(f"symbols: {symbol} does not fit the escape's {table.raw_bits} raw bits")
            out += _bits(*escape) + _bits(symbol & mask, table.raw_bits)
    return np.array(out, dtype=np.uint8)


def decode(bits, count, table):
    """``count`` symbols read from ``bits`` (as :func:`encode` wrote them); refuses a cut or corrupt stream.

    Decoding walks the canonical code length by length (first code and
    count per length), as the hardware decoder does.

    Returns
    -------
    (numpy.ndarray of int64, int)
        The symbols and the number of bits they took.

    Raises
    ------
    StreamError
        The stream ends inside a codeword or the escape's raw bits, or holds
        bits that begin no codeword.
    """
    bits = np.asarray(bits, dtype=np.uint8).ravel()
    codewords = table.codewords
    by_code = {(length, code): key for key, (code, length) in codewords.items()}
    sign = 1 << (table.raw_bits - 1)
    out, position = [], 0
    for index in range(count):
        code, length = 0, 0
        while True:
            if position >= bits.size:
                raise StreamError(f"stream: cut short inside symbol {index} (after {bits.size} bits)", "cut", index)
            code, length, position = (code << 1) | int(bits[position]), length + 1, position + 1
            key = by_code.get((length, code))
            if key is not None:
                break
            if length >= table.max_length:
                raise StreamError(f"stream: bits {position - length}..{position - 1} begin no codeword "
                                  f"(symbol {index})", "no_codeword", index)
        if key == ESCAPE:
            if position + table.raw_bits > bits.size:
                raise StreamError(f"stream: cut short inside the raw bits of escaped symbol {index}", "cut", index)
            raw = 0
            for bit in bits[position:position + table.raw_bits]:
                raw = (raw << 1) | int(bit)
            position += table.raw_bits
            key = raw - (raw & sign) * 2
        out.append(key)
    return np.array(out, dtype=np.int64), position


def decode_frame(stream, count, table):
    """One compressed frame of ``count`` symbols, bytes as :func:`numpy.packbits` (``bitorder="little"``) writes
    the bits of :func:`encode`; refuses a cut, corrupt, over-long or badly padded frame.

    Raises
    ------
    StreamError
        As :func:`decode`, or the frame has bytes after the one holding its
        last codeword (``over_long``), or a non-zero bit after it
        (``padding``).
    """
    stream = np.asarray(stream, dtype=np.uint8).ravel()
    bits = np.unpackbits(stream, bitorder="little")
    symbols, used = decode(bits, count, table)
    if stream.size != -(-used // 8):
        raise StreamError(f"stream: over-long: {stream.size} bytes, the frame's codewords take {-(-used // 8)}",
                          "over_long")
    if np.any(bits[used:]):
        raise StreamError("stream: corrupt: padding bits after the last codeword are not zero", "padding")
    return symbols


def decode_frame_flagged(stream, count, table):
    """What a decoder that never stops makes of a frame: ``(symbols, kind)``.

    ``kind`` is ``None`` for a good frame, else the :class:`StreamError`'s
    kind that :func:`decode_frame` raises; the symbols read before a cut or
    a bad codeword are kept and the rest of the ``count`` are 0 (over-long
    and badly padded frames keep all of theirs), as the hardware emits them.
    """
    try:
        return decode_frame(stream, count, table), None
    except StreamError as refused:
        bits = np.unpackbits(np.asarray(stream, dtype=np.uint8).ravel(), bitorder="little")
        read = count if refused.decoded is None else refused.decoded
        symbols = np.zeros(count, dtype=np.int64)
        symbols[:read] = decode(bits, read, table)[0]
        return symbols, refused.kind


def symbol_lengths(symbols, table):
    """Bits :func:`encode` writes for each of ``symbols``: its codeword's length, or the escape's and the raw
    bits."""
    symbols = np.asarray(symbols, dtype=np.int64).ravel()
    low = -(1 << (table.raw_bits - 1))
    lookup = np.full(1 << table.raw_bits, table.codewords[ESCAPE][1] + table.raw_bits, dtype=np.int64)
    for symbol, length in zip(table.symbols, table.lengths):
        lookup[symbol - low] = length
    inside = (symbols >= low) & (symbols < -low)
    if not inside.all():
        raise ValueError(f"symbols: {int(symbols[~inside][0])} does not fit the escape's {table.raw_bits} raw bits")
    return lookup[symbols - low]


def coded_bits(symbols, table):
    """Bits :func:`encode` writes for ``symbols``, counted without encoding (the escape's raw bits included)."""
    return int(symbol_lengths(symbols, table).sum())
