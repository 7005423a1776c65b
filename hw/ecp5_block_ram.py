"""``BlockRAM`` on ECP5: DP16KD primitives with their output register."""

from amaranth.hdl import Array, ClockSignal, Const, Instance, Module, Shape, Signal, Value
from amaranth.lib.memory import Memory
from amaranth.utils import ceil_log2

from .block_ram import RAM_PORT
from .pipeline import RELAY

__all__ = ["DP16KD_MODES", "dp16kd_mode", "ecp5_block_ram", "DENSE_DEPTH", "LUT_RAM", "LUT_RAM_WORDS",
           "NARROW_WIDTH", "SMALL_DEPTH", "is_lut_ram"]

#: DP16KD data widths and the depth each gives (18 kbit per block). The 36-bit
#: mode is pseudo-dual-port: port A writes the whole word, port B reads it.
DP16KD_MODES = ((36, 512), (18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384))
#: Words of one TRELLIS_DPR16X4: a LUT RAM this shallow needs no multiplexer
#: after its cells.
SMALL_DEPTH = 16
#: The default: memories of at most two TRELLIS_DPR16X4 deep are LUT RAM, each
#: 16-word slice read into registers of its own and the slice chosen a cycle
#: later. A block RAM would be filled to 6 % or less: the default layer's five
#: such memories (the forward Haar's level-3 subbands and level-2 line
#: buffer) took 10 DP16KD, and take 132 TRELLIS_DPR16X4 (docs/hardware.md).
LUT_RAM_WORDS = 32
#: The widest memory that is LUT RAM at up to twice ``lut_ram_words`` deep (64 words at most): one DP16KD
#: wide, which it would fill to an eighth or less (the compressors' histogram copies, 36 x 64, took ten DP16KD of the
#: default layer's 49, and take 360 TRELLIS_DPR16X4).
NARROW_WIDTH = 36
#: The most a design short of block RAM may leave to LUT RAM: four
#: TRELLIS_DPR16X4 deep (a level-3 subband of a 16x16 frame, 64 channels at 8
#: lanes, is 64 words of 168 bits: five DP16KD at 12 % use, or 168
#: TRELLIS_DPR16X4), at a cost in clock rate (docs/hardware.md).
DENSE_DEPTH = 64
#: Bits of a LUT RAM's word behind one register of the slice choice.
CHOICE_BITS = 18
#: Yosys's attribute that keeps such a memory out of block RAM.
LUT_RAM = {"ram_style": "distributed"}


def is_lut_ram(width, depth, lut_ram_words=LUT_RAM_WORDS):
    """Whether a ``width`` x ``depth`` memory is LUT RAM: at most ``lut_ram_words`` deep, or at most
    ``NARROW_WIDTH`` wide and twice ``lut_ram_words`` deep, ``DENSE_DEPTH`` at most."""
    narrow_depth = min(2 * lut_ram_words, DENSE_DEPTH)
    return depth <= lut_ram_words or (depth <= narrow_depth and width <= NARROW_WIDTH)


def dp16kd_mode(width, depth, lut_ram_words=LUT_RAM_WORDS):
    """The DP16KD data width for a ``width`` x ``depth`` memory, or ``None`` when it is not built from DP16KD
    (LUT RAM, see :func:`is_lut_ram`, or deeper than a block).

    The mode that needs the fewest blocks side by side wins (so no
    multiplexer follows the RAM, and a wide shallow memory spreads over as few
    tiles as it can); among equals, the narrowest.
    """
    if is_lut_ram(width, depth, lut_ram_words) or depth > DP16KD_MODES[-1][1]:
        return None
    fits = [mode for mode, mode_depth in DP16KD_MODES if mode_depth >= depth]
    return min(fits, key=lambda mode: (-(-width // mode), mode))


def ecp5_block_ram(ram, read_data, lut_ram_words=LUT_RAM_WORDS):
    """Build the RAM of ``ram`` (a :class:`~wccgen.hw.block_ram.BlockRAM`) from DP16KD blocks.

    The entry width is split over as many blocks as :func:`dp16kd_mode`
    says, side by side. Port A writes, port B reads with the block's own
    output register as the second read stage, driving ``read_data``. In the
    36-bit mode a word is written on ``{DIB, DIA}`` with port A's clock
    enable and read on ``{DOB, DOA}``, as Yosys's own 36-bit mapping wires it;
    both halves' output registers are on. Shallow memories
    (:func:`is_lut_ram`) are LUT RAM; deeper-than-16K ones use the generic
    implementation too.
    """
    width = Shape.cast(ram.shape).width
    mode = dp16kd_mode(width, ram.depth, lut_ram_words)
    if mode is None:
        lut_ram = is_lut_ram(width, ram.depth, lut_ram_words)
        if lut_ram and ram.depth > SMALL_DEPTH:
            return _lut_ram_slices(ram, read_data)
        return ram.elaborate_generic(read_data, attrs=LUT_RAM if lut_ram else None)
    # Word address bits sit above the byte enables (x36: four, x18: two) or the unused low bits.
    shift = 14 - ceil_log2(dict(DP16KD_MODES)[mode])
    byte_enables = {36: 4, 18: 2}.get(mode, 0)
    wide = mode == 36
    m = Module()
    write_data, read_data = Value.cast(ram.ram_write_data), Value.cast(read_data)
    for tile, low in enumerate(range(0, width, mode)):
        bits = min(mode, width - low)
        pins = {}
        for port, addr in (("A", ram.ram_write_addr), ("B", ram.ram_read_addr)):
            for i in range(14):
                if i >= shift:
                    bit = addr[i - shift] if i - shift < len(addr) else Const(0)
                elif port == "A" and i < byte_enables:
                    bit = Const(1)  # every byte of a write
                else:
                    bit = Const(0)
                pins[f"i_AD{port}{i}"] = bit
            for i in range(3):
                pins[f"i_CS{port}{i}"] = Const(0)
        # Data pins in word order: {DIB, DIA} and {DOB, DOA} at 36 bits, DIA and DOB otherwise.
        data_in = [f"i_DIA{i}" for i in range(18)] + [f"i_DIB{i}" for i in range(18)]
        data_out = ([f"o_DOA{i}" for i in range(18)] if wide else []) + [f"o_DOB{i}" for i in range(18)]
        spare_out = [] if wide else [f"o_DOA{i}" for i in range(18)]
        unused = Signal(36 - bits, name=f"bram{tile}_unused")  # outputs that carry no bit of the word
        spare = iter(unused)
        for i, pin in enumerate(data_in):
            pins[pin] = write_data[low + i] if i < bits else Const(0)
        for i, pin in enumerate(data_out):
            pins[pin] = read_data[low + i] if i < bits else next(spare)
        for pin in spare_out:
            pins[pin] = next(spare)
        m.submodules[f"bram{tile}"] = Instance(
            "DP16KD",
            p_DATA_WIDTH_A=mode, p_DATA_WIDTH_B=mode, p_REGMODE_A="OUTREG" if wide else "NOREG",
            p_REGMODE_B="OUTREG", p_CSDECODE_A="0b000", p_CSDECODE_B="0b000", p_WRITEMODE_A="NORMAL",
            p_WRITEMODE_B="NORMAL", p_RESETMODE="SYNC", p_ASYNC_RESET_RELEASE="SYNC", p_GSR="DISABLED",
            i_CLKA=ClockSignal(), i_CEA=ram.ram_write_en, i_OCEA=Const(1),
            i_WEA=Const(1) if wide else ram.ram_write_en, i_RSTA=Const(0),
            i_CLKB=ClockSignal(), i_CEB=Const(1), i_OCEB=Const(1), i_WEB=Const(0), i_RSTB=Const(0),
            **pins,
        )
    return m


def _lut_ram_slices(ram, read_data):
    """LUT RAM deeper than one TRELLIS_DPR16X4: a 16-word memory per slice of the addresses, each read into a
    register of its own, and the slice chosen in the next cycle, so no multiplexer follows the cells' read in
    the cycle of the read."""
    m = Module()
    width = Shape.cast(ram.shape).width
    read_addr = Value.cast(ram.ram_read_addr)
    words = []
    for index in range(-(-ram.depth // SMALL_DEPTH)):
        m.submodules[f"slice{index}"] = memory = Memory(shape=width, depth=SMALL_DEPTH, init=[], attrs=LUT_RAM)
        write, read = memory.write_port(), memory.read_port()
        # Each slice's write enable and address are registers of its own beside its cells (no decode between
        # them and the cells, and no one address register reaching slices across the device).
        enable = Signal(name=f"slice{index}_write_en", attrs=RAM_PORT)
        address = Signal(range(SMALL_DEPTH), name=f"slice{index}_write_addr", attrs=RAM_PORT)
        m.d.sync += [enable.eq(ram.write_en & (Value.cast(ram.write_addr)[4:] == index)),
                     address.eq(Value.cast(ram.write_addr)[:4])]
        m.d.comb += [write.addr.eq(address), write.data.eq(ram.ram_write_data), write.en.eq(enable),
                     read.addr.eq(read_addr[:4])]
        words.append(read.data)
    # The choice is a register per CHOICE_BITS of the word (one register choosing every bit of a wide word
    # reached cells across the device).
    output = Value.cast(read_data)
    for piece, low in enumerate(range(0, width, CHOICE_BITS)):
        high = min(low + CHOICE_BITS, width)
        chosen = Signal.like(read_addr[4:], name=f"slice_chosen{piece}", attrs=RELAY if piece else {})
        m.d.sync += [chosen.eq(read_addr[4:]), output[low:high].eq(Array(word[low:high] for word in words)[chosen])]
    return m
