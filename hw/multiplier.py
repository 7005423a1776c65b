"""Pipelined signed multiplier, mapped onto hard multipliers where the target has them."""

from amaranth.hdl import Module, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .pipeline import delay, sum_tree_depth

__all__ = ["CHUNK_BITS", "Multiplier", "operand_chunks"]

#: Low chunks of a wide operand are this many bits, unsigned, so they fit an 18-bit signed port.
CHUNK_BITS = 17


def operand_chunks(shape, port_bits=18):
    """``(offset, width, signed)`` of each chunk a hard multiplier port of ``port_bits`` bits takes of ``shape``.

    An operand that fits (a signed one up to ``port_bits`` bits, an unsigned
    one up to ``port_bits - 1``) is one chunk; a wider one is cut into
    unsigned ``CHUNK_BITS``-bit chunks from the bottom and a top chunk that
    keeps the operand's sign.
    """
    shape = Shape.cast(shape)
    if shape.width + (0 if shape.signed else 1) <= port_bits:
        return [(0, shape.width, shape.signed)]
    chunks, offset = [], 0
    while shape.width - offset + (0 if shape.signed else 1) > port_bits:
        chunks.append((offset, CHUNK_BITS, False))
        offset += CHUNK_BITS
    chunks.append((offset, shape.width - offset, shape.signed))
    return chunks


class Multiplier(wiring.Component):
    """``p = a * b``, ``latency`` cycles after the operands, without an enable.

    Operands that fit a hard multiplier (18 bits signed on ECP5) take
    ``LATENCY`` (3) cycles: the input registers, the register after the
    product and the output register, which a DSP block holds itself (on ECP5
    a MULT18X18D with all its registers: see :mod:`wccgen.hw.ecp5_multiplier`),
    so the multiplier runs at the block's own speed, not its combinational
    delay plus the routes to it. A wider operand is cut into chunks
    (:func:`operand_chunks`); each pair of chunks is one hard multiplier and
    the shifted partial products are summed two at a time, a register after
    each sum. The generic implementation is ``*`` between registers, delayed
    to the same latency. A target platform may provide ``multiplier(mul)``.

    Parameters
    ----------
    a_shape, b_shape : shape-like
        Operand shapes (signed or unsigned).

    Attributes
    ----------
    a : In(a_shape)
    b : In(b_shape)
    p : Out(signed(a_width + b_width + 1))
    """

    #: Cycles from the operands to the product of one hard multiplier.
    LATENCY = 3

    def __init__(self, a_shape, b_shape):
        self.a_shape, self.b_shape = Shape.cast(a_shape), Shape.cast(b_shape)
        super().__init__({
            "a": In(self.a_shape),
            "b": In(self.b_shape),
            "p": Out(signed(self.a_shape.width + self.b_shape.width + 1)),
        })

    @staticmethod
    def latency_for(a_shape, b_shape):
        """Cycles from the operands to the product for operands of these shapes."""
        pieces = len(operand_chunks(a_shape)) * len(operand_chunks(b_shape))
        return Multiplier.LATENCY + sum_tree_depth(pieces)

    @property
    def latency(self):
        """Cycles from the operands to the product."""
        return self.latency_for(self.a_shape, self.b_shape)

    @property
    def hard_multipliers(self):
        """Hard multipliers the target builds this from (one per pair of operand chunks)."""
        return len(operand_chunks(self.a_shape)) * len(operand_chunks(self.b_shape))

    def elaborate(self, platform):
        if platform is not None and hasattr(platform, "multiplier"):
            return platform.multiplier(self)
        return self.elaborate_generic()

    def elaborate_generic(self):
        """The portable multiplier: registers around ``*``, then registers up to ``latency``."""
        m = Module()
        a, b = Signal(self.a_shape, name="a_reg"), Signal(self.b_shape, name="b_reg")
        product = Signal.like(self.p, name="product")
        m.d.sync += [a.eq(self.a), b.eq(self.b), product.eq(a * b)]
        m.d.sync += self.p.eq(delay(m, product, self.latency - self.LATENCY, "product"))
        return m
