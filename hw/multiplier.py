"""Pipelined signed multiplier, mapped onto a hard multiplier where the target has one."""

from amaranth.hdl import Module, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Multiplier"]


class Multiplier(wiring.Component):
    """``p = a * b``, ``LATENCY`` (3) cycles after the operands, without an enable.

    The three stages are the input registers, the register after the
    product and the output register, which a DSP block holds itself (on ECP5
    a MULT18X18D with all its registers: see :mod:`wccgen.hw.ecp5_multiplier`),
    so the multiplier runs at the block's own speed, not its combinational
    delay plus the routes to it. The generic implementation is ``*`` between
    the same registers. A target platform may provide ``multiplier(mul)``.

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

    #: Cycles from the operands to the product.
    LATENCY = 3

    def __init__(self, a_shape, b_shape):
        self.a_shape, self.b_shape = Shape.cast(a_shape), Shape.cast(b_shape)
        super().__init__({
            "a": In(self.a_shape),
            "b": In(self.b_shape),
            "p": Out(signed(self.a_shape.width + self.b_shape.width + 1)),
        })

    def elaborate(self, platform):
        if platform is not None and hasattr(platform, "multiplier"):
            return platform.multiplier(self)
        return self.elaborate_generic()

    def elaborate_generic(self):
        """The portable multiplier: registers around ``*``."""
        m = Module()
        a, b = Signal(self.a_shape, name="a_reg"), Signal(self.b_shape, name="b_reg")
        product = Signal.like(self.p, name="product")
        m.d.sync += [a.eq(self.a), b.eq(self.b), product.eq(a * b), self.p.eq(product)]
        return m
