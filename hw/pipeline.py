"""Pipeline registers."""

import functools
import operator

from amaranth.hdl import Const, Mux, Signal

__all__ = ["RELAY", "compare_constant", "delay", "or_tree", "or_tree_depth", "prefix_sums", "prefix_sums_depth",
           "stepped_count", "sum_tree", "sum_tree_depth", "wrapping_counter"]

#: Attributes of a relay: a register that copies a value for one far-away user. Synthesis keeps every register
#: so marked (``gen/synth.py``); otherwise registers that hold the same value would be merged back into one.
RELAY = {"wccgen_relay": 1}

#: Inputs per OR gate of :func:`or_tree`: one LUT level with the routing to reach it.
OR_FAN_IN = 4


def delay(m, value, cycles, name, en=None, relay=False):
    """``value`` delayed by ``cycles`` registers, each moving only while ``en`` (always, if ``None``); with
    ``relay``, each register is a relay (:data:`RELAY`)."""
    for stage in range(cycles):
        register = Signal.like(value, name=f"{name}_d{stage + 1}", attrs=RELAY if relay else {})
        update = register.eq(value)
        if en is None:
            m.d.sync += update
        else:
            with m.If(en):
                m.d.sync += update
        value = register
    return value


def or_tree_depth(count):
    """Register stages :func:`or_tree` takes for ``count`` values."""
    depth = 0
    while count > 1:
        count = -(-count // OR_FAN_IN)
        depth += 1
    return depth


def or_tree(m, values, name):
    """The OR of ``values``, ``OR_FAN_IN`` at a time with a register after each level."""
    level = 0
    while len(values) > 1:
        merged = []
        for index in range(0, len(values), OR_FAN_IN):
            group = values[index:index + OR_FAN_IN]
            register = Signal(len(group[0]), name=f"{name}{level}_{index // OR_FAN_IN}")
            m.d.sync += register.eq(functools.reduce(operator.or_, group))
            merged.append(register)
        values, level = merged, level + 1
    return values[0]


def sum_tree_depth(count):
    """Register stages :func:`sum_tree` takes for ``count`` values."""
    depth = 0
    while count > 1:
        count = -(-count // 2)
        depth += 1
    return depth


def sum_tree(m, values, shape, name):
    """The sum of ``values``, two at a time with a register after each addition (``shape`` holds the total)."""
    level = 0
    while len(values) > 1:
        merged = []
        for index in range(0, len(values), 2):
            pair = values[index:index + 2]
            register = Signal(shape, name=f"{name}{level}_{index // 2}")
            m.d.sync += register.eq(sum(pair))
            merged.append(register)
        values, level = merged, level + 1
    return values[0]


def prefix_sums_depth(count):
    """Register stages :func:`prefix_sums` takes for ``count`` values."""
    return sum_tree_depth(count)


def prefix_sums(m, values, shape, name):
    """Registered running sums ``values[0]``, ``values[0] + values[1]``, ... (one adder per stage).

    Each stage doubles the span of the sums (Hillis-Steele): after stage
    ``s`` entry ``i`` holds the sum of ``values[i - 2**s + 1 .. i]``.
    """
    span, stage = 1, 0
    while span < len(values):
        summed = []
        for index, value in enumerate(values):
            register = Signal(shape, name=f"{name}{stage}_{index}")
            m.d.sync += register.eq(value + values[index - span] if index >= span else value)
            summed.append(register)
        values, span, stage = summed, span * 2, stage + 1
    return values


def wrapping_counter(m, step, count, name, next_last=False, relay=False):
    """A counter over ``0 .. count - 1`` advancing with ``step``, and a register that is high at its last value.

    The flag is set one step ahead, so logic acting on "the last one" sees a
    flip-flop, not a comparator.

    Parameters
    ----------
    next_last : bool
        Also return the flag's value in the next cycle, from registers only
        (a second flag marks the value before the last), for logic decided a
        cycle ahead.
    relay : bool
        The counter's registers are relays (:data:`RELAY`): a copy of another counter, kept beside its users.

    Returns
    -------
    (Signal, Signal) or (Signal, Signal, Value)
        The count and its ``at_last`` flag (and the flag's next value).
    """
    attrs = RELAY if relay else {}
    value = Signal(range(max(count, 2)), name=name, attrs=attrs)
    at_last = Signal(init=count == 1, name=f"{name}_at_last", attrs=attrs)
    if not next_last:
        with m.If(step):
            m.d.sync += [value.eq(Mux(at_last, 0, value + 1)),
                         at_last.eq(Mux(at_last, count == 1, value == count - 2))]
        return value, at_last
    before_last = Signal(init=count == 2, name=f"{name}_before_last", attrs=attrs)
    after_step = Mux(at_last, count == 1, before_last)
    with m.If(step):
        m.d.sync += [value.eq(Mux(at_last, 0, value + 1)), at_last.eq(after_step),
                     before_last.eq(Mux(at_last, count == 2, value == count - 3))]
    return value, at_last, Mux(step, after_step, at_last)


def stepped_count(count, up, down):
    """``count + up - down`` with the steps choosing among values computed from ``count`` alone.

    The sum Yosys builds is a carry chain that the steps enter at its start;
    here the steps (often the late signals) only drive a multiplexer in
    front of the register.
    """
    return Mux(up == down, count, Mux(up, count + 1, count - 1))


def compare_constant(value, constant):
    """``(value < constant, value > constant)`` for a signed ``value``, from 4-bit lookups.

    A comparison Yosys builds is a carry chain, slow on ECP5 for what it does
    against a constant. Here each 4 bits of the value (in offset binary, so
    unsigned order is signed order) index a constant truth table, one LUT,
    and the nibbles' verdicts combine from the most significant down.
    """
    width = len(value)
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    if constant < lo or constant > hi:
        below = constant > hi
        return Const(int(below)), Const(int(not below))
    offset = value.as_unsigned() ^ (1 << (width - 1))
    target = constant + (1 << (width - 1))
    less, greater = Const(0), Const(0)
    for start in range(0, width, 4):
        nibble = offset[start:start + 4]
        size = 1 << len(nibble)
        part = (target >> start) & (size - 1)
        part_less = Const(sum(1 << v for v in range(size) if v < part), size).bit_select(nibble, 1)
        part_greater = Const(sum(1 << v for v in range(size) if v > part), size).bit_select(nibble, 1)
        equal = nibble == part
        less, greater = part_less | (equal & less), part_greater | (equal & greater)
    return less, greater
