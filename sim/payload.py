"""Packing and unpacking stream payloads, derived from the Amaranth layouts."""

from amaranth.hdl import Shape
from amaranth.lib import data

__all__ = ["PayloadCodec"]


class PayloadCodec:
    """Converts between a payload's flat integer and nested Python values.

    Offsets and signedness come from the Amaranth layout itself, so the
    testbench never repeats a bit position by hand. Structs become dicts,
    arrays lists, plain shapes ints (signed where the shape is).
    """

    def __init__(self, layout):
        self.layout = data.Layout.cast(layout)
        self.width = self.layout.size

    def encode(self, value):
        """Flat integer of ``value`` (dict for structs, list for arrays, int for fields)."""
        return self._encode(self.layout, value) & ((1 << self.width) - 1)

    def decode(self, bits):
        """Nested value of the flat integer ``bits``."""
        return self._decode(self.layout, int(bits))

    def _encode(self, shape, value):
        if isinstance(shape, data.Layout):
            keys = list(value) if isinstance(shape, data.StructLayout) else range(len(value))
            total = 0
            for key in keys:
                field = shape[key]
                total |= self._encode(field.shape, value[key]) << field.offset
            return total
        width = Shape.cast(shape).width
        return int(value) & ((1 << width) - 1)

    def _decode(self, shape, bits):
        if isinstance(shape, data.StructLayout):
            return {key: self._decode(field.shape, bits >> field.offset) for key, field in shape}
        if isinstance(shape, data.ArrayLayout):
            return [self._decode(field.shape, bits >> field.offset) for _, field in shape]
        shape = Shape.cast(shape)
        value = bits & ((1 << shape.width) - 1)
        if shape.signed and value >> (shape.width - 1):
            value -= 1 << shape.width
        return value
