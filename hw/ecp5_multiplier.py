"""``Multiplier`` on ECP5: MULT18X18Ds with their input, pipeline and output registers."""

from amaranth.hdl import ClockSignal, Const, Instance, Module, ResetSignal, Signal, signed

from .multiplier import operand_chunks
from .pipeline import sum_tree

__all__ = ["ecp5_multiplier", "OPERAND_BITS"]

#: Widest signed operand of a MULT18X18D.
OPERAND_BITS = 18


def ecp5_multiplier(mul):
    """Build ``mul`` (a :class:`~wccgen.hw.multiplier.Multiplier`) from MULT18X18Ds.

    Each pair of operand chunks (:func:`~wccgen.hw.multiplier.operand_chunks`)
    is one block, its chunks sign- (or zero-) extended to 18 bits; the three
    registers of the block are the multiplier's three stages, and the
    partial products of wide operands are summed in registered pairs.
    """
    m = Module()
    width = len(mul.p)
    partials = []
    for a_offset, a_width, a_signed in operand_chunks(mul.a_shape, OPERAND_BITS):
        for b_offset, b_width, b_signed in operand_chunks(mul.b_shape, OPERAND_BITS):
            a_chunk = mul.a[a_offset:a_offset + a_width]
            b_chunk = mul.b[b_offset:b_offset + b_width]
            product = _mult18x18d(m, a_chunk.as_signed() if a_signed else a_chunk,
                                  b_chunk.as_signed() if b_signed else b_chunk, f"dsp{len(partials)}")
            partials.append(product << (a_offset + b_offset))
    if len(partials) == 1:
        m.d.comb += mul.p.eq(partials[0])
    else:
        m.d.comb += mul.p.eq(sum_tree(m, partials, signed(width), "partial_sum"))
    return m


def _mult18x18d(m, a_value, b_value, name):
    """One MULT18X18D with all its registers, ``a_value * b_value`` three cycles later (signed 36 bits)."""
    a, b = Signal(OPERAND_BITS, name=f"{name}_a"), Signal(OPERAND_BITS, name=f"{name}_b")
    product = Signal(36, name=f"{name}_p")
    m.d.comb += [a.eq(a_value), b.eq(b_value)]
    pins = {}
    for i in range(OPERAND_BITS):
        pins[f"i_A{i}"], pins[f"i_B{i}"], pins[f"i_C{i}"] = a[i], b[i], Const(0)
    for i in range(36):
        pins[f"o_P{i}"] = product[i]
    for i in range(4):
        pins[f"i_CLK{i}"] = ClockSignal() if i == 0 else Const(0)
        pins[f"i_CE{i}"] = Const(1)
        pins[f"i_RST{i}"] = ResetSignal() if i == 0 else Const(0)
    m.submodules[name] = Instance(
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
    return product.as_signed()
