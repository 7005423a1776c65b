"""Streaming multi-level 2-D Haar forward transform (golden: ``golden.haar_forward``)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_bits, set_validated
from ..spec.frame import BankedFrame
from .block_ram import BlockRAM
from .frame_beat import frame_beat
from .output_queue import OutputQueue
from .pipeline import RELAY, delay, or_tree, or_tree_depth
from .raster import raster_position
from .spec_component import SpecComponent
from .subbands import (DETAILS, bank_flags, bank_gate, mallat_region, next_bank, read_bank_control, read_registered,
                       subband_memory, write_in_order)

__all__ = ["HaarForwardSpec", "HaarForward"]

# Pipeline depth of one level: line buffer read, vertical sums, pair buffer read, horizontal sums.
LEVEL_DEPTH = 2 * BlockRAM.LATENCY + 2
# Registers between the read-out's issue logic and the memories' address counters: the registered
# issue, the strobe (issue AND region) beside it, and a relay of each strobe bit beside its counter.
STROBE_DEPTH = 3


@dataclass(frozen=True, kw_only=True)
class HaarForwardSpec(BankedFrame):
    """Parameters of a :class:`HaarForward` (see there), validated, and the facts derived from them."""

    in_bits: int = 8

    def __post_init__(self):
        super().__post_init__()
        set_validated(self, in_bits=check_bits(self.in_bits, "in_bits"))

    @property
    def coef_bits(self):
        """Width of an output coefficient: ``in_bits + 2 * levels``."""
        return self.in_bits + 2 * self.levels

    @property
    def beats_in(self):
        """Pixel beats of one frame."""
        return self.height * self.width * self.groups

    @property
    def beats_out(self):
        """Coefficient beats of one frame (the padded frame)."""
        return self.padded_height * self.padded_width * self.groups

    @property
    def cycles_per_frame(self):
        """Clock cycles per frame when pixels and the sink never stall: one per padded beat."""
        return self.beats_out

    @property
    def latency(self):
        """Cycles from the last pixel beat of a frame to its first coefficient beat (no stalls)."""
        padding_after = ((self.padded_width - self.width)
                         + (self.padded_height - self.height) * self.padded_width) * self.groups
        # + input register, write relay, frame written, completion flag, its read side copy, read gate, the
        # read pipeline, the output queue
        return (padding_after + 1 + LEVEL_DEPTH * self.levels + 5 + self.read_depth
                + OutputQueue.push_latency(relay_push=True))

    @property
    def mux_depth(self):
        """Register stages of the subband multiplexer: the masks, then the OR tree."""
        return 1 + or_tree_depth(3 * self.levels + 1)

    @property
    def read_depth(self):
        """Cycles from issuing a position to its coefficient: strobe, block RAM read, multiplexer, payload."""
        return STROBE_DEPTH + BlockRAM.LATENCY + self.mux_depth + 1

    @property
    def memory_bits(self):
        """Bits of all subband memories and line buffers."""
        bits = self.banks * self.subband_depth(self.levels) * self.lanes * self.coef_bits
        for level in range(1, self.levels + 1):
            width = self.in_bits + 2 * level
            bits += 3 * self.banks * self.subband_depth(level) * self.lanes * width
            bits += (self.padded_width >> (level - 1)) * self.groups * self.lanes * (width - 2)
        return bits


class HaarForward(SpecComponent):
    """Multi-level 2-D Haar transform of a pixel stream, emitted in Mallat order.

    Pixels arrive in raster order, ``lanes`` channels of one pixel per beat
    (``channels / lanes`` beats per pixel, channel group 0 first). The unit
    pads the frame with zero beats at the bottom and right on its own (the
    pixel stream is not ready meanwhile), runs one pipelined level per Haar
    level with a line buffer each, and writes every subband into its own
    memory of ``banks`` frames. Once a frame is complete it is read out in the
    coefficient order of docs/numerics.md: raster order over the Mallat layout
    of the padded frame, ``channels / lanes`` beats per position. While one
    frame is read out the next ones are transformed; with three frame banks
    (a frame is held from its first pixel until its last coefficient leaves)
    the unit sustains one beat per clock. No multipliers: every level is adds
    and subtracts.

    Parameters
    ----------
    height, width : int
        Frame size in pixels (before padding).
    channels : int
        Channels per pixel.
    lanes : int
        Channels per beat; must divide ``channels``.
    levels : int
        Haar levels, 1..6.
    in_bits : int
        Width of a pixel value (signed).
    banks : int
        Frames the subband memories hold (2 halves the memory but stalls the
        input for about the latency every frame; 3 sustains one beat per clock).

    Attributes
    ----------
    pixels : In(stream.Signature(frame_beat(in_bits, lanes)))
        Input pixels. ``first``/``last`` are not needed: frames are delimited
        by the geometry.
    coefficients : Out(stream.Signature(frame_beat(coef_bits, lanes)))
        Coefficients, level-``l`` ones exactly ``2**l`` times orthonormal.
    """

    Spec = HaarForwardSpec

    @classmethod
    def members(cls, spec):
        return {
            "pixels": In(stream.Signature(frame_beat(spec.in_bits, spec.lanes))),
            "coefficients": Out(stream.Signature(frame_beat(spec.coef_bits, spec.lanes))),
        }

    # -- hardware -----------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        groups, lanes, levels, banks = self.groups, self.lanes, self.levels, self.banks
        padded_height, padded_width = self.padded_height, self.padded_width

        # Frame banks: `loaded` from a frame's first pixel, `complete` once its
        # last coefficient is in memory; both clear when it has been read out.
        loaded, complete = bank_flags(banks)

        # -- input: pixels plus generated zero padding -----------------------
        beat_valid = Signal()
        beat_data = Signal(data.ArrayLayout(signed(self.in_bits), lanes))
        inp = raster_position(m, beat_valid, padded_height, padded_width, groups, "in")
        in_bank = Signal(range(banks))
        go = bank_gate(m, beat_valid, inp, loaded, in_bank, banks, "in")
        real = self._inside_frame(m, beat_valid, inp)
        m.d.comb += [
            self.pixels.ready.eq(go & real),
            beat_valid.eq(go & (~real | self.pixels.valid)),
            beat_data.eq(Mux(real, self.pixels.payload.data.as_value(), 0)),
        ]
        with m.If(beat_valid & inp.first):
            m.d.sync += loaded[in_bank].eq(1)
        with m.If(beat_valid & inp.frame_last):
            m.d.sync += in_bank.eq(next_bank(in_bank, banks))

        # -- one pipelined stage per level; each subband in its own memory ---
        memories = []
        level_valid, level_data = delay(m, beat_valid, 1, "beat_valid"), delay(m, beat_data, 1, "beat_data")
        width = self.in_bits
        for level in range(1, levels + 1):
            level_valid_out, ll, details = self._level(m, level, level_valid, level_data, width)
            width += 2
            for name, value in zip(DETAILS, details):
                memory = subband_memory(m, f"l{level}_{name}", width, lanes, self.subband_depth(level), banks)
                write_in_order(m, memory, level_valid_out, value, f"l{level}_{name}")
                memories.append((memory, level, name))
            level_valid, level_data = level_valid_out, ll
        ll_depth = self.subband_depth(levels)
        ll_memory = subband_memory(m, f"l{levels}_ll", width, lanes, ll_depth, banks)
        ll_count, ll_written = write_in_order(m, ll_memory, level_valid, level_data, f"l{levels}_ll")
        memories.append((ll_memory, levels, "ll"))
        # The deepest LL is written last: its last entry of a bank completes the
        # frame. That is found beside the LL memory, then flagged a cycle later.
        write_bank = Signal(range(banks))
        frame_written = Signal(name="frame_written")
        m.d.sync += frame_written.eq(ll_written & Cat(ll_count == (b + 1) * ll_depth - 1 for b in range(banks)).any())
        with m.If(frame_written):
            m.d.sync += [write_bank.eq(next_bank(write_bank, banks)), complete[write_bank].eq(1)]

        # -- read-out in Mallat raster order ----------------------------------
        # The read pipeline never stalls: a position is issued only when the
        # output queue has room for it, and reaches the queue READ_DEPTH cycles
        # later (block RAM read, then the multiplexer's register).
        queue = OutputQueue(self.coefficients.payload.shape(), self.read_depth, relay_push=True)
        m.submodules.queue = queue
        wiring.connect(m, queue.o, wiring.flipped(self.coefficients))
        issue = Signal()
        out = raster_position(m, issue, padded_height, padded_width, groups, "out")
        can_read = read_bank_control(m, issue & out.frame_last, banks, loaded, complete)
        m.d.comb += [issue.eq(queue.room & can_read), queue.issue.eq(issue)]
        where = mallat_region(m, issue, out, padded_height, padded_width, levels, "out")
        region = Cat(where[level, name] for _, level, name in memories)
        # Which memory reads travels to the memories' counters through
        # registers: the memories are spread over the device. `issue` itself
        # reaches only one flip-flop of it (it also steps the counters here),
        # and that flip-flop only the strobe's first register, beside it.
        issued, issued_region = delay(m, issue, 1, "rd_issued"), delay(m, region, 1, "rd_region")
        strobe = delay(m, Mux(issued, issued_region, 0), STROBE_DEPTH - 1, "rd_strobe")
        read = []
        for index, (memory, level, name) in enumerate(memories):
            # Each memory is read in its own raster order: a counter is its address.
            count = Signal(range(memory.depth), name=f"rd_l{level}_{name}")
            with m.If(strobe[index]):
                m.d.sync += count.eq(Mux(count == memory.depth - 1, 0, count + 1))
            read.append(read_registered(m, memory, count))
        valid, first, last = (delay(m, value, STROBE_DEPTH + BlockRAM.LATENCY, f"rd_{n}") for value, n in
                              ((issue, "valid"), (out.first, "first"), (out.frame_last, "last")))
        # The select's last register is one per lane: a memory this wide spans
        # several block RAM tiles, and each lane's mask sits beside its own.
        select = delay(m, issued_region, STROBE_DEPTH + BlockRAM.LATENCY - 2, "rd_select")
        # The multiplexer in registered steps: each subband's data, sign-extended
        # and masked by its select bit next to its RAM, then a registered OR tree.
        word = self.coefficients.payload.data.shape()
        lane_bits = word.elem_shape.width
        masked = []
        for index, data_read in enumerate(read):
            register = Signal(word.size, name=f"rd_masked{index}")
            for lane in range(lanes):
                chosen = Signal(name=f"rd_select{index}_relay_{lane}", attrs=RELAY)
                m.d.sync += [chosen.eq(select[index]),
                             register[lane * lane_bits:(lane + 1) * lane_bits].eq(
                                 Mux(chosen, data_read[lane], 0))]
            masked.append(register)
        merged = or_tree(m, masked, "rd_or")
        valid, first, last = (delay(m, value, self.mux_depth, f"rd_{n}_mux") for value, n in
                              ((valid, "valid"), (first, "first"), (last, "last")))
        payload = Signal.like(queue.push.payload)
        m.d.sync += [payload.data.eq(merged), payload.first.eq(first), payload.last.eq(last),
                     queue.push.valid.eq(valid)]
        m.d.comb += queue.push.payload.eq(payload)
        return m

    def _inside_frame(self, m, step, position):
        """Whether the padded-frame position holds a real pixel (not padding), from two registers."""
        row_inside = Signal(init=1, name="in_row_inside")
        col_inside = Signal(init=1, name="in_col_inside")
        with m.If(step & position.group_last):
            with m.If(position.row_last):
                m.d.sync += col_inside.eq(1)
            with m.Elif(position.col == self.width - 1):
                m.d.sync += col_inside.eq(0)
        with m.If(step & position.row_last):
            with m.If(position.frame_last):
                m.d.sync += row_inside.eq(1)
            with m.Elif(position.row == self.height - 1):
                m.d.sync += row_inside.eq(0)
        return row_inside & col_inside

    def _level(self, m, level, in_valid, in_data, width):
        """One level: 2x2 blocks of the incoming raster of the previous LL.

        Returns ``(valid, ll, (top_right, bottom_left, bottom_right))``, each
        value ``lanes`` wide, in raster order of the level's subbands.
        """
        lanes, groups = self.lanes, self.groups
        grid_width = self.padded_width >> (level - 1)
        vector = lambda w: data.ArrayLayout(signed(w), lanes)
        prefix = f"l{level}_"

        # Position of the incoming beat within this level's grid.
        odd_row = Signal(name=prefix + "odd_row")
        odd_col = Signal(name=prefix + "odd_col")
        group = Signal(range(groups), name=prefix + "group")
        row_pos = Signal(range(grid_width * groups), name=prefix + "row_pos")
        with m.If(in_valid):
            m.d.sync += [
                group.eq(Mux(group == groups - 1, 0, group + 1)),
                row_pos.eq(Mux(row_pos == grid_width * groups - 1, 0, row_pos + 1)),
            ]
            with m.If(group == groups - 1):
                m.d.sync += odd_col.eq(~odd_col)
            with m.If(row_pos == grid_width * groups - 1):
                m.d.sync += odd_row.eq(~odd_row)

        latency = BlockRAM.LATENCY

        # Even rows go into the line buffer, odd rows read the row above.
        line = BlockRAM(shape=vector(width), depth=grid_width * groups)
        m.submodules[prefix + "line"] = line
        m.d.comb += [line.write_addr.eq(row_pos), line.write_data.eq(in_data), line.write_en.eq(in_valid & ~odd_row)]
        above = read_registered(m, line, row_pos)
        valid_a, below, odd_col_a, group_a = (delay(m, value, latency, prefix + n) for value, n in
                                              ((in_valid & odd_row, "valid"), (in_data, "below"),
                                               (odd_col, "odd_col"), (group, "group")))

        # Vertical sum and difference; even columns wait in the pair buffer.
        pair = data.StructLayout({"sum": vector(width + 1), "diff": vector(width + 1)})
        column = Signal(pair, name=prefix + "column")
        for lane in range(lanes):
            m.d.sync += [column.sum[lane].eq(above[lane] + below[lane]),
                         column.diff[lane].eq(above[lane] - below[lane])]
        valid_b, odd_col_b, group_b = (delay(m, value, 1, prefix + n) for value, n in
                                       ((valid_a, "valid_a"), (odd_col_a, "odd_col_a"), (group_a, "group_a")))

        # An odd column meets its even neighbour from the pair buffer.
        pairs = BlockRAM(shape=pair, depth=groups)
        m.submodules[prefix + "pairs"] = pairs
        m.d.comb += [pairs.write_addr.eq(group_b), pairs.write_data.eq(column),
                     pairs.write_en.eq(valid_b & ~odd_col_b)]
        left = read_registered(m, pairs, group_b)
        valid_c = delay(m, valid_b & odd_col_b, latency, prefix + "valid_b")
        right = delay(m, column, latency, prefix + "right")

        # Stage 5: horizontal sum and difference give the four subbands.
        ll, top_right, bottom_left, bottom_right = (Signal(vector(width + 2), name=prefix + n)
                                                    for n in ("ll", "top_right", "bottom_left", "bottom_right"))
        for lane in range(lanes):
            m.d.sync += [
                ll[lane].eq(left.sum[lane] + right.sum[lane]),
                bottom_left[lane].eq(left.sum[lane] - right.sum[lane]),
                top_right[lane].eq(left.diff[lane] + right.diff[lane]),
                bottom_right[lane].eq(left.diff[lane] - right.diff[lane]),
            ]
        return delay(m, valid_c, 1, prefix + "valid_c"), ll, (top_right, bottom_left, bottom_right)
