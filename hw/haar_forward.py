"""Streaming multi-level 2-D Haar forward transform (golden: ``golden.haar_forward``)."""

from dataclasses import dataclass

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_bits, set_validated
from ..spec.frame import FrameGeometry
from .block_ram import BlockRAM
from .emission_order import emission_walker
from .frame_beat import frame_beat
from .output_queue import OutputQueue
from .pipeline import delay, or_tree, or_tree_depth, wrapping_counter
from .raster import raster_position
from .spec_component import SpecComponent
from .subbands import DETAILS, read_registered

__all__ = ["HaarForwardSpec", "HaarForward"]

# Pipeline depth of one level: line buffer read, vertical sums, pair buffer read, horizontal sums.
LEVEL_DEPTH = 2 * BlockRAM.LATENCY + 2
# Entries reserved at most while one passes a level's pipeline (the input register, the level, the ready
# flag) and while a release reaches the free count (a relay): level-1 blocks complete on every other pixel at
# most, one entry per beat.
QUEUE_SLACK = -(-(LEVEL_DEPTH + 3) // 2)


@dataclass(frozen=True, kw_only=True)
class HaarForwardSpec(FrameGeometry):
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

    def queue_depth(self, level):
        """Entries of level ``level``'s queue: a row of the level's blocks, ``groups`` entries each, and room
        for the entries reserved while they pass the level's pipeline (whole blocks)."""
        in_flight = -(-QUEUE_SLACK // self.groups) * self.groups
        return (self.padded_width >> level) * self.groups + in_flight

    @property
    def first_block_beat(self):
        """Index in the padded frame's beats of the one that completes the first block: row 1, column 1, the
        last group."""
        return (self.padded_width + 1) * self.groups + self.groups - 1

    @property
    def latency(self):
        """Cycles from the beat that completes the frame's first block (``first_block_beat``) to the first
        coefficient beat, when nothing waits."""
        # input register, the level's pipeline, the ready flag (set as the write lands), the read pipeline, the queue
        return 1 + LEVEL_DEPTH + 1 + self.read_depth + OutputQueue.push_latency(relay_push=True)

    @property
    def mux_depth(self):
        """Register stages of the subband multiplexer: the masks, then the OR tree."""
        return 1 + or_tree_depth(3 * self.levels + 1)

    @property
    def read_depth(self):
        """Cycles from issuing a beat to its coefficient: the address register, the queue memory's read, the
        multiplexer, the payload."""
        return 1 + BlockRAM.LATENCY + self.mux_depth + 1

    @property
    def memory_bits(self):
        """Bits of all level queues and line buffers."""
        bits = 0
        for level in range(1, self.levels + 1):
            width = self.in_bits + 2 * level
            subbands = 4 if level == self.levels else 3
            bits += self.queue_depth(level) * subbands * self.lanes * width
            bits += (self.padded_width >> (level - 1)) * self.groups * self.lanes * (width - 2)
        return bits


class HaarForward(SpecComponent):
    """Multi-level 2-D Haar transform of a pixel stream, each coefficient sent once its block is complete.

    Pixels arrive in raster order, ``lanes`` channels of one pixel per beat
    (``channels / lanes`` beats per pixel, channel group 0 first). The unit
    pads the frame with zero beats at the bottom and right on its own (the
    pixel stream is not ready meanwhile) and runs one pipelined level per
    Haar level with a line buffer each. A level's details of a block (and
    the coarsest level's LL) go into that level's queue, a row of the
    level's blocks deep; the output walks the emission order of
    ``golden.emission_order.emission_order`` (level-1 blocks in raster order,
    after each the coarser levels' blocks it completes), the channel groups
    of a position in consecutive beats. No frame is stored: a beat that will
    complete a block enters only while each level it completes has a free
    queue entry, and the queues empty as fast as pixels arrive, so the unit
    sustains one beat per clock. No multipliers: every level is adds and
    subtracts.

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

    Attributes
    ----------
    pixels : In(stream.Signature(frame_beat(in_bits, lanes)))
        Input pixels. ``first``/``last`` are not needed: frames are delimited
        by the geometry.
    coefficients : Out(stream.Signature(frame_beat(coef_bits, lanes)))
        Coefficients in emission order, level-``l`` ones exactly ``2**l`` times orthonormal.
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
        groups, lanes, levels = self.groups, self.lanes, self.levels
        padded_height, padded_width = self.padded_height, self.padded_width

        # -- input: pixels plus generated zero padding -----------------------
        beat_valid = Signal()
        beat_data = Signal(data.ArrayLayout(signed(self.in_bits), lanes))
        inp = raster_position(m, beat_valid, padded_height, padded_width, groups, "in")
        # Which levels' blocks the next beat completes, a register set from the counter's next position.
        completes = Signal(levels, name="in_completes")
        with m.If(beat_valid):
            m.d.sync += completes.eq(Cat((inp.next_row[:lv] == (1 << lv) - 1) & (inp.next_col[:lv] == (1 << lv) - 1)
                                         for lv in range(1, levels + 1)))
        # Per level, the queue entries neither reserved nor in use; `room` is a register of it being nonzero.
        free = [Signal(range(self.queue_depth(lv) + 1), init=self.queue_depth(lv), name=f"l{lv}_free")
                for lv in range(1, levels + 1)]
        room = [Signal(init=1, name=f"l{lv}_room") for lv in range(1, levels + 1)]
        go = Cat(~completes[lv - 1] | room[lv - 1] for lv in range(1, levels + 1)).all()
        real = self._inside_frame(m, beat_valid, inp)
        m.d.comb += [
            self.pixels.ready.eq(go & real),
            beat_valid.eq(go & (~real | self.pixels.valid)),
            beat_data.eq(self.pixels.payload.data.as_value()),
        ]

        # -- output: the emission order over the level queues ---------------------
        queue = OutputQueue(self.coefficients.payload.shape(), self.read_depth, relay_push=True)
        m.submodules.queue = queue
        wiring.connect(m, queue.o, wiring.flipped(self.coefficients))
        issue = Signal()
        out = emission_walker(m, issue, padded_height, padded_width, groups, levels, "out")
        # Per level, a register: the queue holds the current block's `groups` entries (all written).
        ready = [Signal(name=f"l{lv}_ready") for lv in range(1, levels + 1)]
        block_ready = (out.at_level & Cat(ready)).any()
        m.d.comb += [issue.eq(queue.room & (~out.segment_start | block_ready)), queue.issue.eq(issue)]
        released = [issue & out.segment_last & out.at_level[lv - 1] for lv in range(1, levels + 1)]

        # -- one pipelined stage per level, its details (and the last LL) into its queue --
        # A padding beat's zeros are chosen after the input register: the flag is a register beside the data,
        # not the input's handshake logic (which sits by the input) reaching every bit's reset.
        level_valid, registered = delay(m, beat_valid, 1, "beat_valid"), delay(m, beat_data, 1, "beat_data")
        level_data = Signal.like(beat_data, name="beat_data_padded")
        m.d.comb += level_data.eq(Mux(delay(m, ~real, 1, "beat_padding"), 0, registered))
        width = self.in_bits
        queues = []
        for level in range(1, levels + 1):
            level_valid, ll, details = self._level(m, level, level_valid, level_data, width)
            width += 2
            depth, index = self.queue_depth(level), level - 1
            entry = dict(zip(DETAILS, details))
            if level == levels:
                entry["ll"] = ll
            # A memory per lane: a lane's subbands are one narrow word, and each memory
            # has its own address registers beside it.
            layout = data.StructLayout({name: signed(width) for name in entry})
            write = Signal(range(depth), name=f"l{level}_write")
            with m.If(level_valid):
                m.d.sync += write.eq(Mux(write == depth - 1, 0, write + 1))
            memories = []
            for lane in range(lanes):
                memory = BlockRAM(shape=layout, depth=depth)
                m.submodules[f"l{level}_queue_lane{lane}"] = memory
                m.d.comb += [memory.write_addr.eq(write), memory.write_en.eq(level_valid),
                             memory.write_data.eq(Cat(*(value[lane] for value in entry.values())))]
                memories.append(memory)
            # Whole blocks written and not yet released (a block's entries are consecutive writes), and the ready
            # flag from their next count. A release comes from the output's `issue`, late in the cycle: every
            # candidate is computed from registers without a carry chain, and the release only chooses.
            _, group_last = wrapping_counter(m, level_valid, groups, f"l{level}_write_group")
            written = level_valid & group_last
            blocks = Signal(range(depth // groups + 1), name=f"l{level}_blocks")
            m.d.sync += [
                blocks.eq(Mux(released[index], Mux(written, blocks, blocks - 1), Mux(written, blocks + 1, blocks))),
                ready[index].eq(Mux(released[index], blocks[1:].any() | (written & (blocks == 1)),
                                    blocks.any() | written)),
            ]
            # Free entries the same way: the reservation comes from the input's handshake, which sits by the
            # input; the release reaches it a cycle later through a relay (QUEUE_SLACK counts that cycle).
            reserved = beat_valid & completes[index]
            freed = delay(m, released[index], 1, f"l{level}_freed", relay=True)
            vacant = free[index]
            m.d.sync += [
                vacant.eq(Mux(freed, Mux(reserved, vacant + groups - 1, vacant + groups),
                              Mux(reserved, vacant - 1, vacant))),
                room[index].eq(freed | Mux(reserved, vacant[1:].any(), vacant.any())),
            ]
            head = Signal(range(depth), name=f"l{level}_head")
            with m.If(released[index]):
                m.d.sync += head.eq(Mux(head == depth - groups, 0, head + groups))
            queues.append((memories, head))
            level_data = ll

        # -- read-out: the issued beat's entry, then its subband -------------------
        # The address is a register per memory; the entry's subband is chosen by
        # masks beside the memories and a registered OR tree.
        for (memories, head), level in zip(queues, range(1, levels + 1)):
            for lane, memory in enumerate(memories):
                address = Signal(range(memory.depth), name=f"l{level}_read_lane{lane}")
                m.d.sync += address.eq(head + out.group)
                read_registered(m, memory, address)
        # The level and subband wait for the data (the address register, then the memory's read); a
        # subband's choice is a register per lane, beside the lane's memory and its masking registers (one
        # choice register reached the reset of every lane's bits, across the block).
        chosen = delay(m, Mux(issue, out.at_level, 0), BlockRAM.LATENCY, "rd_level")
        subband = delay(m, out.subband, BlockRAM.LATENCY, "rd_subband")
        word = self.coefficients.payload.data.shape()
        lane_bits = word.elem_shape.width
        masked = []
        for (memories, _), level in zip(queues, range(1, levels + 1)):
            names = DETAILS + (("ll",) if level == levels else ())
            for number, name in enumerate(names):
                register = Signal(word.size, name=f"rd_l{level}_{name}")
                choice = chosen[level - 1] & (subband == number)
                for lane, memory in enumerate(memories):
                    selected = delay(m, choice, 1, f"rd_l{level}_{name}_lane{lane}_selected", relay=True)
                    m.d.sync += register[lane * lane_bits:(lane + 1) * lane_bits].eq(
                        Mux(selected, getattr(memory.read_data, name), 0))
                masked.append(register)
        merged = or_tree(m, masked, "rd_or")
        valid, first, last = (delay(m, value, 1 + BlockRAM.LATENCY + self.mux_depth, f"rd_{n}") for value, n in
                              ((issue, "valid"), (out.first, "first"), (out.frame_last, "last")))
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
