"""Frames in block order back to raster order, cropped (golden: ``kept_haar_inverse.block_order``, inverted)."""

from dataclasses import dataclass

from amaranth.hdl import Array, Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..spec.checks import check_word_bits, set_validated
from ..spec.frame import FrameGeometry
from .block_ram import BlockRAM
from .frame_beat import frame_beat
from .kept_haar_inverse import constant_product
from .output_queue import OutputQueue
from .pipeline import delay
from .raster import raster_position
from .spec_component import SpecComponent

__all__ = ["RasterReorderSpec", "RasterReorder"]


def _power_of_two(value):
    return value & (value - 1) == 0


@dataclass(frozen=True)
class RasterReorderSpec(FrameGeometry):
    """Parameters of a :class:`RasterReorder` (see there), validated, and the facts derived from them."""

    bits: int = 8

    def __post_init__(self):
        super().__post_init__()
        set_validated(self, bits=check_word_bits(self.bits, "bits"))

    @property
    def side(self):
        """Rows of a band (and pixels on a side of a block): ``2**levels``."""
        return 1 << self.levels

    @property
    def bands(self):
        """Bands (rows of blocks) of the padded frame."""
        return self.padded_height // self.side

    @property
    def band_entries(self):
        """Memory entries of a band: its padded pixels times the groups."""
        return self.side * self.padded_width * self.groups

    @property
    def in_place(self):
        """Whether one band of memory serves (the groups and the blocks of a band are powers of two; see
        :class:`RasterReorder`), else two."""
        return _power_of_two(self.groups) and _power_of_two(self.padded_width // self.side)

    @property
    def memory_entries(self):
        """Entries of the memory: a band in place, else two."""
        return self.band_entries * (1 if self.in_place else 2)

    @property
    def address_bits(self):
        """Bits of an entry's index within a band, with ``in_place``."""
        return (self.band_entries - 1).bit_length()

    @property
    def block_order_sources(self):
        """For each bit of a band entry's block-order index (LSB first), the bit of its raster index it is.

        Raster index: group, column in the block, block, row (LSB first); block-order index: Morton pixel
        (column bit, then row bit, per level), group, block. ``in_place`` only.
        """
        levels, group_bits = self.levels, (self.groups - 1).bit_length()
        block_bits = (self.padded_width // self.side - 1).bit_length()
        col, block, row = group_bits, group_bits + levels, group_bits + levels + block_bits
        morton = [bit for t in range(levels) for bit in (col + t, row + t)]
        return tuple(morton + list(range(group_bits)) + [block + t for t in range(block_bits)])

    @property
    def address_phases(self):
        """The bit sources of the block-order permutation's powers ``sigma**k``, ``k = 0, 1, ...`` up to its
        order: band ``k``'s raster entry ``j`` sits at ``sigma**k(j)``, whose bit ``q`` is bit ``phases[k][q]``
        of ``j``. ``in_place`` only."""
        sources = self.block_order_sources
        phases = [tuple(range(len(sources)))]
        while True:
            following = tuple(phases[-1][bit] for bit in sources)
            if following == phases[0]:
                return tuple(phases)
            phases.append(following)

    @property
    def beats_in(self):
        return self.padded_height * self.padded_width * self.groups

    @property
    def beats_out(self):
        return self.height * self.width * self.groups

    @property
    def latency(self):
        """Cycles from a frame's first beat in to its first beat out (no stalls, the memory free): a band's beats,
        the band's full flag, the read, the output queue."""
        return self.band_entries + 1 + BlockRAM.LATENCY + OutputQueue.LATENCY


class RasterReorder(SpecComponent):
    """Takes frames in block order and emits them in raster order, cropped to ``height x width``.

    The input is a padded frame as :class:`~wccgen.hw.kept_haar_inverse.KeptHaarInverse`
    emits it: ``2**levels`` square blocks in raster order, each once per
    channel group, its pixels in Morton order. A band (a row of blocks) is
    read out in raster order, ``channels / lanes`` beats per pixel, skipping
    the padding, while the next band is written. When the channel groups and
    the blocks of a band are powers of two, the memory holds one band: each
    beat is written into the slot the band before freed, in the order they
    were freed, at an address whose bits are a permutation of the beat's
    index, a different one per band (``address_phases``); at most two cycles
    a band are lost to the hand-over. Otherwise it holds two bands, one
    written while the other is read. Reads never stall: they are issued only
    with room in the output queue.

    Parameters
    ----------
    height, width : int
        The frame emitted (the padded size follows from ``levels``).
    channels, lanes, levels : int
    bits : int
        Width of a value (signed).

    Attributes
    ----------
    blocks : In(stream.Signature(frame_beat(bits, lanes)))
    pixels : Out(stream.Signature(frame_beat(bits, lanes)))
    """

    Spec = RasterReorderSpec

    @classmethod
    def members(cls, spec):
        return {
            "blocks": In(stream.Signature(frame_beat(spec.bits, spec.lanes))),
            "pixels": Out(stream.Signature(frame_beat(spec.bits, spec.lanes))),
        }

    def elaborate(self, platform):
        return self._in_place() if self.in_place else self._two_bands()

    def _in_place(self):
        """One band of memory: each band's beats are written where the band before was read, in the order it
        was read. Band ``k`` reads its raster entry ``j`` at ``sigma**k(j)`` and writes its ``i``-th beat at
        ``sigma**(k-1)(i)``, ``sigma`` taking a raster index to the block-order one; with the groups and the
        blocks of a band powers of two, ``sigma`` moves bits only, and its powers are a choice of wiring."""
        m = Module()
        levels, groups, side = self.levels, self.groups, self.side
        entries, bits, phases = self.band_entries, self.address_bits, self.address_phases
        group_bits, block_bits = (groups - 1).bit_length(), (self.padded_width // side - 1).bit_length()
        m.submodules.memory = memory = BlockRAM(shape=len(self.blocks.payload.data.as_value()),
                                                depth=self.memory_entries)

        def permuted(index, phase):
            return Array(Cat(index[source] for source in sources) for sources in phases)[phase]

        # Slots read and not yet written again, in the order they were read (all of them at first); a register,
        # so a write lands a cycle after the read of its slot at least.
        free = Signal(range(entries + 1), name="free", init=entries)
        # The band written in full and not yet read (the next band's last write needs its last read).
        full = Signal(name="band_full")

        # -- write side: a band's blocks, in block order ---------------------------------------------------------
        pixel = Signal(2 * levels, name="in_pixel")
        group = Signal(range(max(groups, 2)), name="in_group")
        block = Signal(range(max(self.padded_width // side, 2)), name="in_block")
        write_phase = Signal(range(len(phases)), name="write_phase", init=len(phases) - 1)
        accept = Signal(name="accept")
        m.d.comb += [self.blocks.ready.eq(free != 0), accept.eq(self.blocks.valid & self.blocks.ready)]
        index = Cat(pixel, group[:group_bits], block[:block_bits])
        band_written = accept & (index == entries - 1)
        with m.If(accept):
            m.d.sync += pixel.eq(pixel + 1)
            with m.If(pixel == 4 ** levels - 1):
                m.d.sync += group.eq(Mux(group == groups - 1, 0, group + 1))
                with m.If(group == groups - 1):
                    m.d.sync += block.eq(Mux(block == self.padded_width // side - 1, 0, block + 1))
        with m.If(band_written):
            m.d.sync += write_phase.eq(Mux(write_phase == len(phases) - 1, 0, write_phase + 1))
        address = Signal(bits, name="write_address")
        m.d.sync += address.eq(permuted(index, write_phase))
        in_valid, in_data = (delay(m, value, 1, f"in_{name}") for value, name in
                             ((accept, "valid"), (self.blocks.payload.data.as_value(), "data")))
        m.d.comb += [memory.write_addr.eq(address), memory.write_data.eq(in_data), memory.write_en.eq(in_valid)]
        written = delay(m, band_written, 1, "band_written")

        # -- read side: every entry of the band in raster order, the padding not emitted --------------------------
        queue = OutputQueue(self.pixels.payload.shape(), BlockRAM.LATENCY)
        m.submodules.queue = queue
        wiring.connect(m, queue.o, wiring.flipped(self.pixels))
        issue = Signal(name="issue")
        out = raster_position(m, issue, self.padded_height, self.padded_width, groups, "out")
        real = (out.row < self.height) & (out.col < self.width)
        # A padding entry is read (its slot freed) but not emitted: it takes no place in the queue.
        m.d.comb += [issue.eq(queue.room & full), queue.issue.eq(issue & real)]
        read_phase = Signal(range(len(phases)), name="read_phase")
        band_done = issue & out.row_last & (out.row[:levels] == side - 1)
        with m.If(band_done):
            m.d.sync += read_phase.eq(Mux(read_phase == len(phases) - 1, 0, read_phase + 1))
        m.d.comb += memory.read_addr.eq(permuted(Cat(out.group[:group_bits], out.col, out.row[:levels]),
                                                 read_phase))
        m.d.sync += free.eq(free + issue - accept)
        with m.If(written):
            m.d.sync += full.eq(1)
        with m.If(band_done):
            m.d.sync += full.eq(0)

        last = ((out.row == self.height - 1) & (out.col == self.width - 1) & out.group_last)
        valid, first, last = (delay(m, value, BlockRAM.LATENCY, f"read_{name}") for value, name in
                              ((issue & real, "valid"), (out.first, "first"), (last, "last")))
        m.d.comb += [queue.push.valid.eq(valid), queue.push.payload.first.eq(first),
                     queue.push.payload.last.eq(last), queue.push.payload.data.eq(memory.read_data)]
        return m

    def _two_bands(self):
        """Two bands of memory: one written while the other is read."""
        m = Module()
        levels, groups, side = self.levels, self.groups, self.side
        entries = self.band_entries
        m.submodules.memory = memory = BlockRAM(shape=len(self.blocks.payload.data.as_value()),
                                                depth=self.memory_entries)
        # A band's half is full from its last write until its last read.
        full = [Signal(name=f"band{half}_full") for half in range(2)]

        # -- write side: a band's blocks, in block order ---------------------------------------------------------
        pixel = Signal(range(4 ** levels), name="in_pixel")
        group = Signal(range(max(groups, 2)), name="in_group")
        block = Signal(range(max(self.padded_width // side, 2)), name="in_block")
        write_half = Signal(name="write_half")
        pixel_last, group_last = pixel == 4 ** levels - 1, group == groups - 1
        block_last = block == self.padded_width // side - 1
        accept = Signal(name="accept")
        m.d.comb += [self.blocks.ready.eq(~Mux(write_half, full[1], full[0])),
                     accept.eq(self.blocks.valid & self.blocks.ready)]
        with m.If(accept):
            m.d.sync += pixel.eq(Mux(pixel_last, 0, pixel + 1))
            with m.If(pixel_last):
                m.d.sync += group.eq(Mux(group_last, 0, group + 1))
                with m.If(group_last):
                    m.d.sync += block.eq(Mux(block_last, 0, block + 1))
                    with m.If(block_last):
                        m.d.sync += write_half.eq(~write_half)
        band_written = accept & pixel_last & group_last & block_last
        # The pixel's place in the band: its row and column in the block are the odd and even bits of its index.
        row = Signal(range(side), name="in_row")
        col = Signal(range(self.padded_width), name="in_col")
        m.d.sync += [row.eq(pixel[1::2]), col.eq(constant_product(block, side) + pixel[0::2])]
        in_group, in_half, in_valid, in_data = (delay(m, value, 1, f"in_{name}") for value, name in
                                                ((group, "group_held"), (write_half, "half"), (accept, "valid"),
                                                 (self.blocks.payload.data.as_value(), "data")))
        address = constant_product(constant_product(row, self.padded_width) + col, groups) + in_group
        m.d.comb += [memory.write_addr.eq(address + Mux(in_half, entries, 0)), memory.write_data.eq(in_data),
                     memory.write_en.eq(in_valid)]
        written = delay(m, band_written, 1, "band_written")

        # -- read side: the band's rows within the frame, in raster order -----------------------------------------
        queue = OutputQueue(self.pixels.payload.shape(), BlockRAM.LATENCY)
        m.submodules.queue = queue
        wiring.connect(m, queue.o, wiring.flipped(self.pixels))
        read_half = Signal(name="read_half")
        issue = Signal(name="issue")
        m.d.comb += [issue.eq(queue.room & Mux(read_half, full[1], full[0])), queue.issue.eq(issue)]
        out = raster_position(m, issue, self.height, self.width, groups, "out")
        # The band ends at its last row, or at the frame's last row (the padding rows are never read).
        band_done = issue & out.row_last & ((out.row[:levels] == side - 1) | out.frame_last)
        read_address = Signal(range(2 * entries), name="read_address")
        row_start = Signal(range(2 * entries), name="read_row_start")
        # Counted along: the next entry in a row, the next row's start after the last one.
        row_step = self.padded_width * groups
        with m.If(issue):
            with m.If(band_done):
                start = Mux(read_half, 0, entries)
                m.d.sync += [read_address.eq(start), row_start.eq(start)]
            with m.Elif(out.row_last):
                m.d.sync += [read_address.eq(row_start + row_step), row_start.eq(row_start + row_step)]
            with m.Else():
                m.d.sync += read_address.eq(read_address + 1)
        m.d.comb += memory.read_addr.eq(read_address)
        with m.If(band_done):
            m.d.sync += read_half.eq(~read_half)
        # A half is free once its last read is issued: a write accepted after that reaches the RAM a cycle after
        # the read has (each passes an input register, the read then the RAM's address register).
        for half in range(2):
            with m.If(written & (in_half == half)):
                m.d.sync += full[half].eq(1)
            with m.If(band_done & (read_half == half)):
                m.d.sync += full[half].eq(0)

        valid, first, last = (delay(m, value, BlockRAM.LATENCY, f"read_{name}") for value, name in
                              ((issue, "valid"), (out.first, "first"), (out.frame_last, "last")))
        m.d.comb += [queue.push.valid.eq(valid), queue.push.payload.first.eq(first),
                     queue.push.payload.last.eq(last), queue.push.payload.data.eq(memory.read_data)]
        return m
