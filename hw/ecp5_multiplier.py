"""``Multiplier`` on ECP5: a MULT18X18D with its input, pipeline and output registers."""

from amaranth.hdl import ClockSignal, Const, Instance, Module, ResetSignal, Signal

__all__ = ["ecp5_multiplier", "OPERAND_BITS"]

#: Widest signed operand of a MULT18X18D.
OPERAND_BITS = 18


def _fits(shape):
    return shape.width + (0 if shape.signed else 1) <= OPERAND_BITS


def ecp5_multiplier(mul):
    """Build ``mul`` (a :class:`~wccgen.hw.multiplier.Multiplier`) from one MULT18X18D.

    Operands are sign- (or zero-) extended to 18 bits and marked signed; the
    three registers of the block are the multiplier's three stages. Operands
    wider than a block takes use the generic implementation.
    """
    if not (_fits(mul.a_shape) and _fits(mul.b_shape)):
        return mul.elaborate_generic()
    m = Module()
    a, b = Signal(OPERAND_BITS, name="dsp_a"), Signal(OPERAND_BITS, name="dsp_b")
    product = Signal(36, name="dsp_p")
    m.d.comb += [a.eq(mul.a.as_signed() if mul.a_shape.signed else mul.a),
                 b.eq(mul.b.as_signed() if mul.b_shape.signed else mul.b),
                 mul.p.eq(product.as_signed())]
    pins = {}
    for i in range(OPERAND_BITS):
        pins[f"i_A{i}"], pins[f"i_B{i}"], pins[f"i_C{i}"] = a[i], b[i], Const(0)
    for i in range(36):
        pins[f"o_P{i}"] = product[i]
    for i in range(4):
        pins[f"i_CLK{i}"] = ClockSignal() if i == 0 else Const(0)
        pins[f"i_CE{i}"] = Const(1)
        pins[f"i_RST{i}"] = ResetSignal() if i == 0 else Const(0)
    m.submodules.dsp = Instance(
        "MULT18X18D",
        p_REG_INPUTA_CLK="CLK0", p_REG_INPUTA_CE="CE0", p_REG_INPUTA_RST="RST0",
        p_REG_INPUTB_CLK="CLK0", p_REG_INPUTB_CE="CE0", p_REG_INPUTB_RST="RST0",
        p_REG_INPUTC_CLK="NONE",
        p_REG_PIPELINE_CLK="CLK0", p_REG_PIPELINE_CE="CE0", p_REG_PIPELINE_RST="RST0",
        p_REG_OUTPUT_CLK="CLK0", p_REG_OUTPUT_CE="CE0", p_REG_OUTPUT_RST="RST0",
        p_CLK0_DIV="ENABLED", p_CLK1_DIV="ENABLED", p_CLK2_DIV="ENABLED", p_CLK3_DIV="ENABLED",
        p_HIGHSPEED_CLK="NONE", p_GSR="DISABLED", p_CAS_MATCH_REG="FALSE", p_SOURCEB_MODE="B_SHIFT",
        p_MULT_BYPASS="DISABLED", p_RESETMODE="SYNC",
        i_SIGNEDA=Const(1), i_SIGNEDB=Const(1), i_SOURCEA=Const(0), i_SOURCEB=Const(0),
        **pins,
    )
    return m
