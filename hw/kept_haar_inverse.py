"""Inverse Haar transform straight from a frame's kept vectors, in block order (golden: ``kept_haar_inverse``)."""

from dataclasses import dataclass

from amaranth.hdl import Array, C, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from ..spec.checks import check_levels, set_validated
from .block_ram import BlockRAM
from .frame_beat import frame_beat
from .memory_ports import read_port
from .output_queue import OutputQueue
from .pipeline import RELAY, compare_constant, delay, stepped_count, sum_tree, sum_tree_depth
from .scatter import ScatterSpec
from .spec_component import SpecComponent

__all__ = ["KeptHaarInverseSpec", "KeptHaarInverse", "constant_product"]

#: Bits of a bitmap word counted in one stage (each count is a function of this many bits).
COUNT_CHUNK = 8
#: Coefficient sets each level's queue holds (LUT RAM: 16 words cost what one word does), the one the pixels
#: use included. The reads run ahead of the pixels by their depth and a block's first ``3 * levels + 1``
#: coefficients, a few quads (4 sets lose a quarter of the pace at 3 levels). A power of two: the queue
#: pointers wrap by themselves.
QUEUE_SETS = 16
assert QUEUE_SETS & (QUEUE_SETS - 1) == 0


def constant_product(value, constant):
    """``value * constant`` for a constant ``constant >= 0``, as shifted adds (no multiplier cell to map)."""
    terms = [value << bit for bit in range(constant.bit_length()) if constant >> bit & 1]
    return sum(terms[1:], terms[0]) if terms else C(0, 1)


@dataclass(frozen=True)
class KeptHaarInverseSpec(ScatterSpec):
    """Parameters of a :class:`KeptHaarInverse` (see there), validated, and the facts derived from them."""

    levels: int = 3

    def __post_init__(self):
        super().__post_init__()
        set_validated(self, levels=check_levels(self.levels))
        side = self.side
        if self.padded_height % side or self.padded_width % side:
            raise ValueError(f"padded_height, padded_width: {self.padded_height}x{self.padded_width} is not made of "
                             f"{side}x{side} blocks (2**levels, levels = {self.levels})")

    @property
    def side(self):
        """Pixels on a side of a block: ``2**levels``."""
        return 1 << self.levels

    @property
    def block_rows(self):
        return self.padded_height // self.side

    @property
    def block_cols(self):
        return self.padded_width // self.side

    @property
    def quads(self):
        """2x2 pixel quads of a block: ``4**(levels - 1)``."""
        return 4 ** (self.levels - 1)

    @property
    def block_pixels(self):
        return 4 ** self.levels

    @property
    def out_bits(self):
        """Width of an output pixel: ``value_bits + levels + 2`` (the gain is below ``3 * 2**levels``)."""
        return self.value_bits + self.levels + 2

    @property
    def rank_bits(self):
        """Width of a kept position's rank (and of a bitmap word's base rank): at most ``keep``."""
        return ceil_log2(self.keep + 1)

    @property
    def mask_entry_bits(self):
        """Width of an entry of the bitmap memory: a word and its base rank."""
        return self.word_bits + self.rank_bits

    @property
    def chunks(self):
        """Pieces of a bitmap word counted in parallel."""
        return -(-self.word_bits // COUNT_CHUNK)

    @property
    def read_depth(self):
        """Cycles from issuing a coefficient to its value at its level's queue: position (two stages), word and
        bit, bitmap read, counts, their sum, rank, value address, value read."""
        return 3 + BlockRAM.LATENCY + 1 + sum_tree_depth(self.chunks) + 1 + 1 + BlockRAM.LATENCY

    @property
    def mask_address_lag(self):
        """Cycles from issuing a coefficient to its bitmap address."""
        return 3

    @property
    def value_address_lag(self):
        """Cycles from issuing a coefficient to its value address."""
        return self.read_depth - BlockRAM.LATENCY

    @property
    def adder_stages(self):
        """Register stages of the adder tree over ``3 * levels + 1`` terms and the negation count."""
        return ceil_log2(3 * self.levels + 2)

    @property
    def pixel_depth(self):
        """Cycles from issuing a pixel to its sum: the queues' current sets, their relays, their lane copies and
        the signs, signed terms, their relays, adder tree."""
        return 5 + self.adder_stages

    @property
    def latency(self):
        """Cycles from ``start`` to the first pixel on ``pixels`` (no stalls): the first block's coefficients,
        ``3 * levels + 1`` reads, the last one's value, its write through two registers, its set counted and
        flagged available (two registers),
        then the pixel pipeline and the output queue."""
        return 3 * self.levels + self.read_depth + 4 + self.pixel_depth + OutputQueue.push_latency(relay_push=True)


class KeptHaarInverse(SpecComponent):
    """Inverse multi-level Haar transform of a frame held as its kept vectors, emitted in block order.

    Reads memories that hold one frame, as :class:`~wccgen.hw.scatter.Scatter`
    does: the bitmap in words of ``word_bits`` bits, each beside its *base*
    (the kept positions before it), and the kept vectors in ascending position
    order, ``channels / lanes`` entries each. No full coefficient frame is
    stored: each output pixel is the LL coefficient above it plus, for each
    level ``l``, its three detail coefficients shifted left by ``levels - l``
    with the signs of the pixel's place in the level's 2x2 block (exactly
    ``2**levels`` times the orthonormal inverse, as
    :class:`~wccgen.hw.haar_inverse.HaarInverse` computes it).

    The padded frame is emitted in ``2**levels`` square blocks, in raster order
    of the blocks; each block once per channel group, its pixels in Morton
    order. Then a level's coefficients stay the same over a run of ``4**l``
    pixels, so each coefficient is read once: a frame takes as many reads as
    it has beats. They are issued in the order the pixels need them, one per
    cycle: a coefficient's position gives its bitmap word and bit, the word's
    base plus the kept bits below it its rank, the rank and the group its
    value entry (zero where the position was not kept). Each level has a
    queue of coefficient sets; a pixel is issued when the sets it starts are
    in and the output queue has room, and no read waits for a pixel. ``done``
    pulses when the last value has been read (the memories may then be
    rewritten); the next frame may start while this one's pixels are still
    being summed.

    Parameters
    ----------
    padded_height, padded_width, channels, lanes, value_bits, word_bits, keep : int
        As for :class:`~wccgen.hw.scatter.Scatter`.
    levels : int
        Haar levels; the padded frame is made of ``2**levels`` square blocks.

    Attributes
    ----------
    start : In(1)
    issued : Out(1)
        The frame's last read is being issued: the next frame may start (see
        :attr:`KeptHaarInverseSpec.mask_address_lag`).
    done : Out(1)
        The frame's last value is read: its memories may be rewritten.
    mask_read : Out(read_port(mask_words, word_bits + rank_bits))
    value_read : Out(read_port(keep * channels / lanes, lanes * value_bits))
    pixels : Out(stream.Signature(frame_beat(out_bits, lanes)))
    """

    Spec = KeptHaarInverseSpec

    @classmethod
    def members(cls, spec):
        return {
            "start": In(1),
            "issued": Out(1),
            "done": Out(1),
            "mask_read": Out(read_port(spec.mask_words, spec.mask_entry_bits)),
            "value_read": Out(read_port(spec.sum_entries, spec.lanes * spec.value_bits)),
            "pixels": Out(stream.Signature(frame_beat(spec.out_bits, spec.lanes))),
        }

    def elaborate(self, platform):
        m = Module()
        # Queue 0 holds LL coefficients (one per set), queue l level l's H, V, D.
        queues = self._queues(m)
        self._reads(m, queues)
        self._pixels(m, queues)
        return m

    # -- queues ------------------------------------------------------------------------------------------------------
    def _queues(self, m):
        """Per queue: its slot memories, write and read pointers, sets ready, sets reserved."""
        queues = []
        for index in range(self.levels + 1):
            name = "ll" if index == 0 else f"l{index}"
            # A memory per slot and lane, each with its own write pointer and read pointer (relays: the set the
            # pixels use, popped, so not counted, but its slot not written). One pointer that reached all of a
            # slot's cells, spread over the device, was the layer's critical path.
            slots = []
            for slot in range(1 if index == 0 else 3):
                slot_lanes = []
                for lane in range(self.lanes):
                    memory = Memory(shape=self.value_bits, depth=QUEUE_SETS, init=[],
                                    attrs={"ram_style": "distributed"})
                    m.submodules[f"queue_{name}_{slot}_lane{lane}"] = memory
                    slot_lanes.append((memory, *(Signal(range(QUEUE_SETS), name=f"queue_{name}_{slot}_lane{lane}_{n}",
                                                   attrs=RELAY) for n in ("tail", "current"))))
                slots.append(slot_lanes)
            queues.append({
                "name": name, "slots": slots,
                "head": Signal(range(QUEUE_SETS), name=f"queue_{name}_head"),
                "ready": Signal(range(QUEUE_SETS + 1), name=f"queue_{name}_ready"),
                "reserved": Signal(range(QUEUE_SETS + 1), name=f"queue_{name}_reserved"),
                # Flags of the counts, registered: the pixel's and the read's decisions meet no comparator.
                "available": Signal(name=f"queue_{name}_available"),
                "room": Signal(name=f"queue_{name}_room", init=1),
                "filling": Signal(name=f"queue_{name}_filling"), "pop": Signal(name=f"queue_{name}_pop"),
                "reserve": Signal(name=f"queue_{name}_reserve"),
            })
        for queue in queues:
            # A set is filled the cycle after ``filling``: the counts see it from one register, each lane's tail
            # from a relay of its own (one register reaching every lane's memory crossed the device).
            queue["filled"] = delay(m, queue["filling"], 1, f"queue_{queue['name']}_filled")
            # The counts see a pop a cycle late, through a relay: the pixels' decision sits by the pixels, the
            # counts by the reads (the pop's route across the block was the layer's critical path). The pixels
            # look at a queue's `available` again no sooner than four issues after popping it (a level-l set
            # serves 4**l pixels, an LL set a block), when the flag has caught up; the room a pop frees is seen a
            # cycle later, which only waits.
            pop = delay(m, queue["pop"], 1, f"queue_{queue['name']}_popped", relay=True)
            # (The steps choose among counts computed from the registers: ``reserve`` is the reads' decision over
            # every queue's flags, late in the cycle, and would otherwise enter an adder's carry chain.)
            m.d.sync += [queue["ready"].eq(stepped_count(queue["ready"], queue["filled"], pop)),
                         queue["reserved"].eq(stepped_count(queue["reserved"], queue["reserve"], pop))]
            # The flags of the new counts, as comparisons of the old ones chosen by the step: no adder before them,
            # and no carry chain (a comparison Yosys builds is one, slow for a constant; these are LUT lookups).
            filled, reserve = queue["filled"], queue["reserve"]
            reserved = Cat(queue["reserved"], C(0, 1)).as_signed()
            m.d.sync += [
                queue["available"].eq(Mux(filled == pop, queue["ready"] != 0, filled | (queue["ready"] != 1))),
                queue["room"].eq(Mux(reserve == pop, compare_constant(reserved, QUEUE_SETS - 1)[0],
                                     Mux(pop, compare_constant(reserved, QUEUE_SETS)[0],
                                         compare_constant(reserved, QUEUE_SETS - 2)[0]))),
            ]
            # The set the pixels use: popped, so it is not counted, but its slot is not written.
            current_set = Signal(range(QUEUE_SETS), name=f"queue_{queue['name']}_current")
            for _, tail, _ in (copy for slot_lanes in queue["slots"] for copy in slot_lanes):
                with m.If(delay(m, queue["filling"], 1, f"{tail.name}_step", relay=True)):
                    m.d.sync += tail.eq(tail + 1)
            with m.If(queue["pop"]):
                m.d.sync += [queue["head"].eq(queue["head"] + 1), current_set.eq(queue["head"])]
            # The lanes' pointers follow two cycles later, without an enable: the pop reaches the counts and one
            # pointer, not every lane's (the pixel side reads its sets two cycles later to match). The pointer
            # reaches each half of the lanes through a relay of its own: one register reaching every lane's
            # copy, the lanes spread over the device, was the block's critical path.
            half = (self.lanes + 1) // 2
            halves = [lanes for lanes in (range(half), range(half, self.lanes)) if lanes]  # one with a single lane
            for part, lanes in enumerate(halves):
                relay = delay(m, current_set, 1, f"queue_{queue['name']}_current_half{part}", relay=True)
                m.d.sync += [slot_lanes[lane][2].eq(relay) for slot_lanes in queue["slots"] for lane in lanes]
        return queues

    # -- coefficient reads, in the order the pixels need them ---------------------------------------------------------
    def _reads(self, m, queues):
        levels, groups, w = self.levels, self.groups, self.word_bits
        running = Signal(name="running")
        go = Signal(name="go")

        # The coefficient about to be read: its queue (0 = LL, else the level), slot (0..2), quad, group, block.
        level = Signal(range(levels + 1), name="rd_level", init=levels)
        ll = Signal(name="rd_ll", init=1)
        slot = Signal(range(3), name="rd_slot")
        quad = Signal(range(max(self.quads, 2)), name="rd_quad")
        group = Signal(range(max(groups, 2)), name="rd_group")
        block_col = Signal(range(max(self.block_cols, 2)), name="rd_block_col")
        block_row = Signal(range(max(self.block_rows, 2)), name="rd_block_row")

        queue_index = Mux(ll, 0, level)
        # The queue whose set this coefficient starts, one-hot (none inside a set), registered with the
        # position it describes: ``go`` is an AND of flags, with no mux of the position before it.
        starts = Signal(levels + 1, name="rd_starts", init=1)
        m.d.comb += go.eq(running & ~(starts & ~Cat(queue["room"] for queue in queues)).any())
        for index, queue in enumerate(queues):
            m.d.comb += queue["reserve"].eq(go & starts[index])

        quad_last = quad == self.quads - 1
        group_last = group == groups - 1
        col_last = block_col == self.block_cols - 1
        row_last = block_row == self.block_rows - 1
        set_last = ll | (slot == 2)
        element_last = set_last & ~ll & (level == 1)
        frame_last = element_last & quad_last & group_last & col_last & row_last
        m.d.comb += self.issued.eq(go & frame_last)
        # The first coefficient level of the next quad: the coarsest level whose sub-block starts there.
        next_quad = Signal.like(quad)
        m.d.comb += next_quad.eq(Mux(quad_last, 0, quad + 1))
        top = Signal.like(level)
        m.d.comb += top.eq(1)
        for coarse in range(2, levels + 1):
            with m.If(next_quad[:2 * (coarse - 1)] == 0):
                m.d.comb += top.eq(coarse)

        with m.If(self.start):
            m.d.sync += running.eq(1)
        with m.If(go):
            with m.If(~set_last):
                m.d.sync += [slot.eq(slot + 1), starts.eq(0)]
            with m.Elif(ll):
                m.d.sync += [ll.eq(0), slot.eq(0), starts.eq(1 << level)]
            with m.Elif(level != 1):
                m.d.sync += [level.eq(level - 1), slot.eq(0), starts.eq((C(1, 1) << level) >> 1)]
            with m.Else():
                m.d.sync += [level.eq(top), ll.eq(quad_last), slot.eq(0), quad.eq(next_quad),
                             starts.eq(Mux(quad_last, 1, 1 << top))]
                with m.If(quad_last):
                    m.d.sync += group.eq(Mux(group_last, 0, group + 1))
                    with m.If(group_last):
                        m.d.sync += block_col.eq(Mux(col_last, 0, block_col + 1))
                        with m.If(col_last):
                            m.d.sync += block_row.eq(Mux(row_last, 0, block_row + 1))
                with m.If(frame_last):
                    m.d.sync += running.eq(0)

        # Stage 1: the coefficient's place in the Mallat layout. Within the
        # block, the quad's row and column are the odd and even bits of its index.
        quad_row = Cat(quad[2 * bit + 1] for bit in range(levels - 1))
        quad_col = Cat(quad[2 * bit] for bit in range(levels - 1))
        rows, cols = [], []
        for coefficient_level in range(1, levels + 1):
            # The level's sub-block: the quad's bits above the level, then the block.
            shift = levels - coefficient_level
            sub_row = Cat((quad_row >> (coefficient_level - 1))[:shift], block_row) if shift else block_row
            sub_col = Cat((quad_col >> (coefficient_level - 1))[:shift], block_col) if shift else block_col
            below = Const(self.padded_height >> coefficient_level)
            right = Const(self.padded_width >> coefficient_level)
            # H top right, V bottom left, D bottom right (slots 0, 1, 2); LL where it is.
            rows.append(sub_row + Mux(~ll & (slot != 0), below, 0))
            cols.append(sub_col + Mux(~ll & (slot != 1), right, 0))
        row = Signal(range(self.padded_height), name="rd_row")
        col = Signal(range(self.padded_width), name="rd_col")
        m.d.sync += [row.eq(Array(rows)[level - 1]), col.eq(Array(cols)[level - 1])]
        tags = {"valid": go, "queue": queue_index, "slot": slot, "group": group, "set_done": go & set_last,
                "frame_done": go & frame_last}

        def later(tags, cycles, stage):
            return {name: delay(m, value, cycles, f"rd_{name}_{stage}") for name, value in tags.items()}

        tags = later(tags, 1, "position")

        # Stage 2: the row's first bitmap word and bit (constant tables), plus the column.
        row_starts = [r * self.padded_width for r in range(self.padded_height)]
        word_start = Signal(range(self.mask_words), name="rd_word_start")
        bit_sum = Signal(range(w + self.padded_width), name="rd_bit_sum")
        m.d.sync += [word_start.eq(Array(Const(start // w, range(self.mask_words)) for start in row_starts)[row]),
                     bit_sum.eq(Array(Const(start % w, range(w)) for start in row_starts)[row] + col)]
        tags = later(tags, 1, "row")

        # Stage 3: the word and the bit, by comparisons with the word's multiples.
        carries = [bit_sum >= whole * w for whole in range(1, (w + self.padded_width - 2) // w + 1)]
        carry = sum(carries[1:], carries[0]) if carries else C(0, 1)
        word = Signal(range(self.mask_words), name="rd_word")
        bit = Signal(range(w), name="rd_bit")
        m.d.sync += [word.eq(word_start + carry), bit.eq(bit_sum - constant_product(carry, w))]
        m.d.comb += self.mask_read.addr.eq(word)
        tags = later({**tags, "bit": bit}, 1 + BlockRAM.LATENCY, "word")
        tags["bit"] = delay(m, bit, BlockRAM.LATENCY, "rd_bit_word")
        # The positions below the bit, decoded while the word is read: one register per position (the bit's few
        # registers reaching every position's decoder and count was the layer's critical path).
        below_mask = delay(m, (~(Const(-1, w) << bit))[:w], BlockRAM.LATENCY, "rd_below_mask")

        # Stage 4: the kept bit, and the kept bits below it counted in chunks.
        bitmap, base = self.mask_read.data[:w], self.mask_read.data[w:]
        below = Signal(w, name="rd_below")
        m.d.comb += below.eq(bitmap & below_mask)
        counts = []
        for chunk in range(self.chunks):
            count = Signal(range(COUNT_CHUNK + 1), name=f"rd_count{chunk}")
            piece = below[chunk * COUNT_CHUNK:(chunk + 1) * COUNT_CHUNK]
            m.d.sync += count.eq(sum(piece[i] for i in range(len(piece))))
            counts.append(count)
        tags = later({**tags, "kept": bitmap.bit_select(tags["bit"], 1), "base": base}, 1, "count")
        # Stage 5: the counts' sum, then the rank.
        below_count = sum_tree(m, counts, range(w + 1), "rd_count_sum")
        tags = later(tags, sum_tree_depth(self.chunks), "sum")
        rank = Signal(range(self.keep + 1), name="rd_rank")
        m.d.sync += rank.eq(tags["base"] + below_count)
        tags = later(tags, 1, "rank")
        # Stage 6: the value entry (rank times groups, plus the group).
        m.d.sync += self.value_read.addr.eq(constant_product(rank, groups) + tags["group"])
        tags = later(tags, 1 + BlockRAM.LATENCY, "value")

        # Stage 7: the value (zero where not kept) and its slot's write enable, registered. Stage 8: each lane's
        # memory takes them from relays of its own (one enable reaching every lane's LUT RAM crossed the device),
        # and its set counts as filled when the write lands.
        value = Signal.like(self.value_read.data, name="wr_value")
        m.d.sync += value.eq(Mux(tags["kept"], self.value_read.data, 0))
        lane_values = [delay(m, value[lane * self.value_bits:(lane + 1) * self.value_bits], 1,
                             f"wr_value_lane{lane}", relay=True) for lane in range(self.lanes)]
        for index, queue in enumerate(queues):
            here = tags["valid"] & (tags["queue"] == index)
            for slot_index, slot_lanes in enumerate(queue["slots"]):
                enable = Signal(name=f"wr_{queue['name']}_{slot_index}_en")
                m.d.sync += enable.eq(here & (tags["slot"] == slot_index))
                for lane, (memory, tail, _) in enumerate(slot_lanes):
                    write = memory.write_port()
                    lane_enable = delay(m, enable, 1, f"wr_{queue['name']}_{slot_index}_lane{lane}_en", relay=True)
                    m.d.comb += [write.addr.eq(tail), write.en.eq(lane_enable), write.data.eq(lane_values[lane])]
            m.d.comb += queue["filling"].eq(delay(m, here & tags["set_done"], 1, f"wr_{queue['name']}_filling"))
        m.d.comb += self.done.eq(tags["frame_done"])

    # -- pixels ------------------------------------------------------------------------------------------------------
    def _pixels(self, m, queues):
        levels, lanes, groups = self.levels, self.lanes, self.groups
        wide = signed(self.out_bits)
        queue = OutputQueue(self.pixels.payload.shape(), self.pixel_depth, relay_push=True)
        m.submodules.queue = queue
        wiring.connect(m, queue.o, wiring.flipped(self.pixels))

        pixel = Signal(range(self.block_pixels), name="px_pixel")
        group = Signal(range(max(groups, 2)), name="px_group")
        block_col = Signal(range(max(self.block_cols, 2)), name="px_block_col")
        block_row = Signal(range(max(self.block_rows, 2)), name="px_block_row")
        pixel_last = pixel == self.block_pixels - 1
        group_last = group == groups - 1
        col_last = block_col == self.block_cols - 1
        row_last = block_row == self.block_rows - 1

        # The sets this pixel starts: level l's at every 4**l pixels, LL's with the block.
        issue = Signal(name="px_issue")
        # Registers, set a pixel ahead: the issue decision is an AND of flags.
        following = Mux(pixel_last, 0, pixel + 1)
        needs = []
        for index in range(levels + 1):
            need = Signal(name=f"px_needs_{queues[index]['name']}", init=1)
            with m.If(issue):
                m.d.sync += need.eq((following == 0) if index == 0 else (following[:2 * index] == 0))
            needs.append(need)
        m.d.comb += issue.eq(queue.room & Cat(~need | q["available"] for need, q in zip(needs, queues)).all())
        m.d.comb += queue.issue.eq(issue)
        with m.If(issue):
            m.d.sync += pixel.eq(Mux(pixel_last, 0, pixel + 1))
            with m.If(pixel_last):
                m.d.sync += group.eq(Mux(group_last, 0, group + 1))
                with m.If(group_last):
                    m.d.sync += block_col.eq(Mux(col_last, 0, block_col + 1))
                    with m.If(col_last):
                        m.d.sync += block_row.eq(Mux(row_last, 0, block_row + 1))

        # Stage 1: a set started here becomes its queue's current one, and two
        # cycles later each lane's copy of that pointer. Its coefficients are
        # read from the LUT RAM there: a pop moves a few pointer bits, not an
        # enable of every held coefficient.
        held = []
        for need, q in zip(needs, queues):
            m.d.comb += q["pop"].eq(issue & need)
            sets = []
            for slot_lanes in q["slots"]:
                reads = []
                for memory, _, current in slot_lanes:
                    read = memory.read_port(domain="comb")
                    m.d.comb += read.addr.eq(current)
                    reads.append(read.data)
                sets.append(Cat(reads))
            held.append(sets)
        # Bits 2l-1 and 2l-2 of the pixel index: its row and column are odd within its level-l block.
        # They wait two cycles with the set's pointer and its relays, and one more in each lane's copies of them.
        odd_rows = delay(m, Cat(pixel[2 * level + 1] for level in range(levels)), 2, "px_odd_rows")
        odd_cols = delay(m, Cat(pixel[2 * level] for level in range(levels)), 2, "px_odd_cols")
        first = (pixel == 0) & (group == 0) & (block_col == 0) & (block_row == 0)
        last = pixel_last & group_last & col_last & row_last
        valid, first, last = (delay(m, value, 3, f"px_{n}") for value, n in
                              ((issue, "valid"), (first, "first"), (last, "last")))

        # Stage 2: signed terms. A negated term is its ones' complement plus one:
        # the ones are added in the tree as a count (two per level away from its block's top left).
        count = Signal(range(2 * levels + 1), name="px_negated")
        odd = delay(m, odd_rows | odd_cols, 1, "px_odd")
        m.d.sync += count.eq(Array(2 * bin(pattern).count("1") for pattern in range(2 ** levels))[odd])
        lane_terms = []
        for lane in range(lanes):
            # Each lane's signs come from copies of its own (one register reached every lane's terms).
            lane_odd_rows, lane_odd_cols = (delay(m, value, 1, f"px_{n}_lane{lane}", relay=True) for value, n in
                                            ((odd_rows, "odd_rows"), (odd_cols, "odd_cols")))
            part = slice(lane * self.value_bits, (lane + 1) * self.value_bits)
            ll = Signal(wide, name=f"px_term_lane{lane}_ll")
            m.d.sync += ll.eq(held[0][0][part].as_signed())
            terms = [ll, count]
            for level in range(1, levels + 1):
                row, col = lane_odd_rows[level - 1], lane_odd_cols[level - 1]
                negatives = (row, col, row ^ col)
                for slot, negative in enumerate(negatives):
                    term = Signal(wide, name=f"px_term_lane{lane}_l{level}_{slot}")
                    shifted = Signal(wide, name=f"px_shifted_lane{lane}_l{level}_{slot}")
                    m.d.comb += shifted.eq(held[level][slot][part].as_signed() << (levels - level))
                    m.d.sync += term.eq(shifted ^ negative.replicate(self.out_bits))
                    terms.append(term)
            lane_terms.append([delay(m, term, 1, f"{term.name}_relay_", relay=True) for term in terms])
        valid, first, last = (delay(m, value, 2, f"px_term_{n}") for value, n in
                              ((valid, "valid"), (first, "first"), (last, "last")))

        # Add pairs: one register stage per level of the tree.
        sums = [sum_tree(m, terms, wide, f"px_sum_lane{lane}_") for lane, terms in enumerate(lane_terms)]
        valid, first, last = (delay(m, value, self.adder_stages, f"px_sum_{n}") for value, n in
                              ((valid, "valid"), (first, "first"), (last, "last")))
        m.d.comb += [queue.push.valid.eq(valid), queue.push.payload.first.eq(first),
                     queue.push.payload.last.eq(last)]
        for lane in range(lanes):
            m.d.comb += queue.push.payload.data[lane].eq(sums[lane])
