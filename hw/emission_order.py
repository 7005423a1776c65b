"""A walker over the forward transform's emission order (golden: ``golden.emission_order``)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Mux, Signal, Value

__all__ = ["EmissionPosition", "emission_walker", "emission_position"]


@dataclass
class EmissionPosition:
    """Signals of an emission walker; the counters and flags are registers."""

    level: Signal  #: the coefficient's level, ``1 .. levels``
    at_level: Signal  #: the same level, one-hot: bit ``level - 1``
    subband: Signal  #: 0 top-right, 1 bottom-left, 2 bottom-right, 3 the coarsest LL
    group: Signal  #: the beat's channel group
    block_row: Signal  #: the level-1 block whose completion emits this beat, its row ...
    block_col: Signal  #: ... and column
    first: Signal  #: at the first beat of a frame
    segment_start: Signal  #: at the first beat of a level's coefficients of this block
    group_last: Signal  #: at the last group of a position
    segment_last: Value  #: at the last beat of a level's coefficients of this block
    frame_last: Value  #: at the last beat of a frame


def emission_walker(m, step, padded_height, padded_width, groups, levels, name):
    """Count beats in emission order (``golden.emission_order.emission_order``), advancing with ``step``.

    The level-1 blocks are walked in raster order. At each, a segment per
    level: its top-right, bottom-left and bottom-right details (and at the
    coarsest level its LL), each ``groups`` beats, group 0 first. The walk
    climbs to the next level when bit ``level - 1`` of both block
    coordinates is one (the block also completes that level's block), and
    otherwise moves to the next level-1 block; it wraps to the next frame
    after the last one.
    """
    rows, cols = padded_height // 2, padded_width // 2
    level = Signal(range(1, levels + 1), init=1, name=f"{name}_level")
    at_level = Signal(levels, init=1, name=f"{name}_at_level")
    subband = Signal(range(4), name=f"{name}_subband")
    group = Signal(range(groups), name=f"{name}_group")
    block_row = Signal(range(rows), name=f"{name}_block_row")
    block_col = Signal(range(cols), name=f"{name}_block_col")
    group_last = Signal(init=groups == 1, name=f"{name}_group_last")
    # At the segment's last subband, a register set one subband ahead: the
    # segment's end, which frees queue entries, is then an AND of two flip-flops.
    subband_last = Signal(name=f"{name}_subband_last")
    first = Signal(init=1, name=f"{name}_first")
    # A register, so that a consumer's test for a segment's start is one flip-flop.
    segment_start = Signal(init=1, name=f"{name}_segment_start")
    top = at_level[levels - 1]
    segment_last = group_last & subband_last
    # The walk climbs from `level` when bit level - 1 of both coordinates is one.
    climb = Cat(at_level[lv - 1] & block_row[lv - 1] & block_col[lv - 1] for lv in range(1, levels)).any()
    col_last, row_last = block_col == cols - 1, block_row == rows - 1
    frame_last = segment_last & top & col_last & row_last
    with m.If(step):
        m.d.sync += [
            group.eq(Mux(group_last, 0, group + 1)),
            group_last.eq(Mux(group_last, groups == 1, group == groups - 2)),
            first.eq(frame_last),
            segment_start.eq(segment_last),
        ]
        with m.If(group_last):
            m.d.sync += [subband.eq(Mux(subband_last, 0, subband + 1)),
                         subband_last.eq(~subband_last & Mux(top, subband == 2, subband == 1))]
        with m.If(segment_last):
            with m.If(climb):
                m.d.sync += [level.eq(level + 1), at_level.eq(at_level << 1)]
            with m.Else():
                m.d.sync += [level.eq(1), at_level.eq(1), block_col.eq(Mux(col_last, 0, block_col + 1))]
                with m.If(col_last):
                    m.d.sync += block_row.eq(Mux(row_last, 0, block_row + 1))
    return EmissionPosition(level, at_level, subband, group, block_row, block_col, first, segment_start, group_last,
                            segment_last, frame_last)


def emission_position(walk, padded_height, padded_width, levels):
    """The Mallat position index (``row * padded_width + col``) of the walker's current coefficient.

    Level ``l``'s block is the level-1 block's coordinates shifted right by
    ``l - 1``; its detail lies in the level's quadrant right of, below, or
    right of and below the LL quadrant, of ``padded_height >> l`` rows and
    ``padded_width >> l`` columns.
    """
    row, col = walk.block_row, walk.block_col
    row_offset, col_offset = padded_height >> 1, padded_width >> 1
    for lv in range(2, levels + 1):
        chosen = walk.at_level[lv - 1]
        row = Mux(chosen, walk.block_row >> (lv - 1), row)
        col = Mux(chosen, walk.block_col >> (lv - 1), col)
        row_offset = Mux(chosen, padded_height >> lv, row_offset)
        col_offset = Mux(chosen, padded_width >> lv, col_offset)
    below = (walk.subband == 1) | (walk.subband == 2)
    right = (walk.subband == 0) | (walk.subband == 2)
    return (row + Mux(below, row_offset, 0)) * padded_width + col + Mux(right, col_offset, 0)
