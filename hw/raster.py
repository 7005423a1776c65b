"""Position counters of a frame stream: row, column and channel group."""

from dataclasses import dataclass

from amaranth.hdl import Mux, Signal, Value

__all__ = ["RasterPosition", "raster_position"]


@dataclass
class RasterPosition:
    """Signals of a raster counter; ``*_last`` are combinational."""

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
    after the last beat.
    """
    row = Signal(range(height), name=f"{name}_row")
    col = Signal(range(width), name=f"{name}_col")
    group = Signal(range(groups), name=f"{name}_group")
    group_last = group == groups - 1
    row_last = group_last & (col == width - 1)
    frame_last = row_last & (row == height - 1)
    next_col = Mux(group_last, Mux(col == width - 1, 0, col + 1), col)
    next_row = Mux(row_last, Mux(row == height - 1, 0, row + 1), row)
    with m.If(step):
        m.d.sync += [group.eq(Mux(group_last, 0, group + 1)), col.eq(next_col), row.eq(next_row)]
    first = (row == 0) & (col == 0) & (group == 0)
    return RasterPosition(row, col, group, next_row, next_col, first, group_last, row_last, frame_last)
