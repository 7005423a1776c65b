"""``BlockRAM`` on ECP5: DP16KD primitives with their output register."""

from amaranth.hdl import ClockSignal, Const, Instance, Module, Shape, Signal, Value

__all__ = ["DP16KD_MODES", "ecp5_block_ram", "SMALL_DEPTH"]

#: DP16KD data widths and the depth each gives (18 kbit per block).
DP16KD_MODES = ((18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384))
#: Memories this shallow are left to LUT RAM (one TRELLIS_DPR16X4 deep, so no
#: multiplexer follows it), where a block RAM would be wasted.
SMALL_DEPTH = 16
# Lowest address bit of each width's word address (the bits below are 0, or byte enables at 18).
_ADDRESS_SHIFT = {18: 4, 9: 3, 4: 2, 2: 1, 1: 0}


def ecp5_block_ram(ram, read_data):
    """Build the RAM of ``ram`` (a :class:`~wccgen.hw.block_ram.BlockRAM`) from DP16KD blocks.

    The narrowest mode whose depth suffices is chosen, and the entry width is
    split over as many blocks as it needs side by side, so no multiplexer
    follows the RAM. Port A writes, port B reads with ``REGMODE_B = OUTREG``:
    the second read stage is the block's own output register, driving
    ``read_data``. Shallow or deeper-than-16K memories use the generic
    implementation.
    """
    if ram.depth <= SMALL_DEPTH or ram.depth > DP16KD_MODES[-1][1]:
        return ram.elaborate_generic(read_data)
    width = Shape.cast(ram.shape).width
    mode = next(w for w, depth in DP16KD_MODES if depth >= ram.depth)
    shift = _ADDRESS_SHIFT[mode]
    m = Module()
    write_data, read_data = Value.cast(ram.ram_write_data), Value.cast(read_data)
    for tile, low in enumerate(range(0, width, mode)):
        bits = min(mode, width - low)
        pins = {}
        for port, addr in (("A", ram.ram_write_addr), ("B", ram.ram_read_addr)):
            for i in range(14):
                if i >= shift:
                    bit = addr[i - shift] if i - shift < len(addr) else Const(0)
                elif mode == 18 and i < 2 and port == "A":
                    bit = Const(1)  # both byte enables of a write
                else:
                    bit = Const(0)
                pins[f"i_AD{port}{i}"] = bit
            for i in range(3):
                pins[f"i_CS{port}{i}"] = Const(0)
        unused = Signal(36 - bits, name=f"bram{tile}_unused")  # port A's outputs, B's spare bits
        spare = iter(unused)
        for i in range(18):
            pins[f"i_DIA{i}"] = write_data[low + i] if i < bits else Const(0)
            pins[f"i_DIB{i}"] = Const(0)
            pins[f"o_DOA{i}"] = next(spare)
            pins[f"o_DOB{i}"] = read_data[low + i] if i < bits else next(spare)
        m.submodules[f"bram{tile}"] = Instance(
            "DP16KD",
            p_DATA_WIDTH_A=mode, p_DATA_WIDTH_B=mode, p_REGMODE_A="NOREG", p_REGMODE_B="OUTREG",
            p_CSDECODE_A="0b000", p_CSDECODE_B="0b000", p_WRITEMODE_A="NORMAL", p_WRITEMODE_B="NORMAL",
            p_RESETMODE="SYNC", p_ASYNC_RESET_RELEASE="SYNC", p_GSR="DISABLED",
            i_CLKA=ClockSignal(), i_CEA=ram.ram_write_en, i_OCEA=Const(1), i_WEA=ram.ram_write_en, i_RSTA=Const(0),
            i_CLKB=ClockSignal(), i_CEB=Const(1), i_OCEB=Const(1), i_WEB=Const(0), i_RSTB=Const(0),
            **pins,
        )
    return m
