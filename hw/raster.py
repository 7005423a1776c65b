"""Position counters of a frame stream: row, column and channel group."""

from dataclasses import dataclass

from amaranth.hdl import Mux, Signal, Value

__all__ = ["RasterPosition", "raster_position"]


@dataclass
class RasterPosition:
    """Signals of a raster counter. The flags come from registers (or one LUT of them)."""

    row: Signal
    col: Signal
    group: Signal
    next_row: Value  #: ``row`` after the next step
    next_col: Value  #: ``col`` after the next step
    first: Value  #: at the first beat of a frame
    group_last: Value  #: at the last group of a position
    row_last: Value  #: at the last beat of a row
    frame_last: Value  #: at the last beat of a frame


def raster_position(m, step, height, width, groups, name):
    """Count beats over ``height x width`` positions of ``groups`` beats each.

    The counter advances when ``step`` is high and wraps to the next frame
    after the last beat. "Last group", "last column", "last row" and "first
    beat" are kept in registers, set from the current values one step ahead,
    so the flags a block acts on are never behind a comparator.
    """
    row = Signal(range(height), name=f"{name}_row")
    col = Signal(range(width), name=f"{name}_col")
    group = Signal(range(groups), name=f"{name}_group")
    group_last = Signal(init=groups == 1, name=f"{name}_group_last")
    col_last = Signal(init=width == 1, name=f"{name}_col_last")
    row_end = Signal(init=height == 1, name=f"{name}_row_end")
    first = Signal(init=1, name=f"{name}_first")
    row_last = group_last & col_last
    frame_last = row_last & row_end
    next_col = Mux(group_last, Mux(col_last, 0, col + 1), col)
    next_row = Mux(row_last, Mux(row_end, 0, row + 1), row)
    with m.If(step):
        m.d.sync += [
            group.eq(Mux(group_last, 0, group + 1)),
            group_last.eq(Mux(group_last, groups == 1, group == groups - 2)),
            col.eq(next_col),
            row.eq(next_row),
            first.eq(frame_last),
        ]
        with m.If(group_last):
            m.d.sync += col_last.eq(Mux(col_last, width == 1, col == width - 2))
        with m.If(row_last):
            m.d.sync += row_end.eq(Mux(row_end, height == 1, row == height - 2))
    return RasterPosition(row, col, group, next_row, next_col, first, group_last, row_last, frame_last)
