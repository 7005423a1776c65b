"""Stream payloads as the testbench's files carry them: one hex line per beat, derived from the Amaranth layouts.

A payload is a ``{data, first, last}`` struct (:mod:`wccgen.hw.frame_beat`).
``data`` is either an array of signed lanes or a raw word. Offsets, widths and
signedness come from the layout itself, so no bit position is repeated by
hand, and whole streams are converted at once with NumPy.
"""

import numpy as np
from amaranth.hdl import Shape
from amaranth.lib import data

__all__ = ["PayloadCodec", "RecordError"]

_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# ASCII -> nibble value; 255 marks a character that is no hex digit (x, z from a 4-state simulator).
_NIBBLE = np.full(256, 255, dtype=np.uint8)
_NIBBLE[_HEX_DIGITS] = np.arange(16)
_NIBBLE[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16)
#: Hex digits of the cycle count on every recorded line.
CYCLE_DIGITS = 8


class RecordError(ValueError):
    """A recorded stream file that cannot be read as beats (a digit that is x or z, a torn line)."""


class PayloadCodec:
    """Converts whole streams between hex lines and arrays.

    Parameters
    ----------
    layout : amaranth.lib.data.StructLayout
        ``{data, first, last}``; ``data`` is an ``ArrayLayout`` of signed or
        unsigned lanes, or a plain unsigned word.

    Notes
    -----
    Values are ``(beats, lanes)`` int64 arrays for lane payloads and
    ``(beats, ceil(width / 8))`` uint8 arrays (each row one word,
    little-endian) for word payloads, as :mod:`wccgen.sim.streams` uses them.
    """

    def __init__(self, layout):
        self.layout = data.Layout.cast(layout)
        self.width = self.layout.size
        self.digits = -(-self.width // 4)
        field = self.layout["data"]
        self._offset = field.offset
        if isinstance(field.shape, data.ArrayLayout):
            element = Shape.cast(field.shape.elem_shape)
            self.lanes, self.lane_bits, self.signed = field.shape.length, element.width, element.signed
            self.word_bits = None
        else:
            self.lanes = None
            self.word_bits = Shape.cast(field.shape).width
        self._first = self.layout["first"].offset
        self._last = self.layout["last"].offset

    @property
    def line_bytes(self):
        """Length of one recorded line: payload digits, a space, the cycle digits, a newline."""
        return self.digits + 1 + CYCLE_DIGITS + 1

    def encode(self, values, first, last):
        """Hex lines (most significant digit first, one beat per line) of ``values`` with their flags.

        Returns
        -------
        bytes
        """
        values = np.asarray(values)
        beats = values.shape[0]
        bits = np.zeros((beats, self.digits * 4), dtype=np.uint8)
        if self.lanes is not None:
            shifts = np.arange(self.lane_bits)
            lane_bits = (values.astype(np.int64)[:, :, None] >> shifts) & 1
            bits[:, self._offset:self._offset + self.lanes * self.lane_bits] = lane_bits.reshape(beats, -1)
        else:
            word = np.unpackbits(values.astype(np.uint8), axis=1, bitorder="little")[:, :self.word_bits]
            bits[:, self._offset:self._offset + word.shape[1]] = word
        bits[:, self._first] = np.asarray(first, dtype=np.uint8)
        bits[:, self._last] = np.asarray(last, dtype=np.uint8)
        nibbles = bits.reshape(beats, self.digits, 4) @ np.array([1, 2, 4, 8], dtype=np.uint8)
        text = np.empty((beats, self.digits + 1), dtype=np.uint8)
        text[:, :self.digits] = _HEX_DIGITS[nibbles[:, ::-1]]
        text[:, self.digits] = ord("\n")
        return text.tobytes()

    def decode(self, text):
        """Values, ``first``, ``last`` and cycle of every line of a recorder's file.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray)
            Values (see the class notes), the two flags (uint8) and the cycle of each transfer (int64).

        Raises
        ------
        RecordError
            A line is torn or holds a digit that is not hex (an x or z value).
        """
        raw = np.frombuffer(text, dtype=np.uint8)
        if raw.size % self.line_bytes:
            raise RecordError(f"{raw.size} bytes is no whole number of {self.line_bytes}-byte lines")
        lines = raw.reshape(-1, self.line_bytes)
        nibbles = _NIBBLE[lines[:, :self.digits]]
        cycle_nibbles = _NIBBLE[lines[:, self.digits + 1:self.digits + 1 + CYCLE_DIGITS]]
        bad = np.flatnonzero((nibbles == 255).any(axis=1) | (cycle_nibbles == 255).any(axis=1))
        if bad.size:
            line = lines[bad[0]].tobytes().decode(errors="replace").rstrip()
            raise RecordError(f"beat {bad[0]} is not a hex value: {line!r}")
        beats = lines.shape[0]
        bits = ((nibbles[:, ::-1, None] >> np.arange(4, dtype=np.uint8)) & 1).reshape(beats, -1)
        cycles = cycle_nibbles.astype(np.int64) @ (16 ** np.arange(CYCLE_DIGITS - 1, -1, -1, dtype=np.int64))
        if self.lanes is not None:
            lane_bits = bits[:, self._offset:self._offset + self.lanes * self.lane_bits]
            lane_bits = lane_bits.reshape(beats, self.lanes, self.lane_bits).astype(np.int64)
            values = lane_bits @ (np.int64(1) << np.arange(self.lane_bits, dtype=np.int64))
            if self.signed:
                values -= lane_bits[:, :, -1] << self.lane_bits
        else:
            word = bits[:, self._offset:self._offset + self.word_bits]
            values = np.packbits(word, axis=1, bitorder="little")
        return values, bits[:, self._first].copy(), bits[:, self._last].copy(), cycles
