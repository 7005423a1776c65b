"""Pipeline registers."""

import functools
import operator

from amaranth.hdl import Mux, Signal

__all__ = ["delay", "or_tree", "or_tree_depth", "prefix_sums", "prefix_sums_depth", "sum_tree", "sum_tree_depth",
           "wrapping_counter"]

#: Inputs per OR gate of :func:`or_tree`: one LUT level with the routing to reach it.
OR_FAN_IN = 4


def delay(m, value, cycles, name, en=None):
    """``value`` delayed by ``cycles`` registers, each moving only while ``en`` (always, if ``None``)."""
    for stage in range(cycles):
        register = Signal.like(value, name=f"{name}_d{stage + 1}")
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


def wrapping_counter(m, step, count, name):
    """A counter over ``0 .. count - 1`` advancing with ``step``, and a register that is high at its last value.

    The flag is set one step ahead, so logic acting on "the last one" sees a
    flip-flop, not a comparator.

    Returns
    -------
    (Signal, Signal)
        The count and its ``at_last`` flag.
    """
    value = Signal(range(max(count, 2)), name=name)
    at_last = Signal(init=count == 1, name=f"{name}_at_last")
    with m.If(step):
        m.d.sync += [value.eq(Mux(at_last, 0, value + 1)),
                     at_last.eq(Mux(at_last, count == 1, value == count - 2))]
    return value, at_last
