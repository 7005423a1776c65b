"""Where a design's memories go on an ECP5: each memory's block, width, depth, and the primitives it takes."""

from dataclasses import dataclass

from amaranth.hdl import Fragment, Shape
from amaranth.lib.memory import Memory

from .block_ram import BlockRAM
from .ecp5_block_ram import DP16KD_MODES, LUT_RAM_WORDS, dp16kd_mode
from .targets import ECP5Primitives

__all__ = ["MemoryUse", "memory_map", "memory_totals"]

#: Entries and bits of one TRELLIS_DPR16X4, the ECP5's LUT RAM cell.
LUT_RAM_CELL = (16, 4)


@dataclass(frozen=True)
class MemoryUse:
    """One memory of a design and what it takes on the device.

    Attributes
    ----------
    path : str
        Its place in the design hierarchy, dot-separated (``haar_inverse.mem_l1_top_right``).
    width, depth : int
        Bits of an entry, and entries (every bank included).
    kind : str
        ``"DP16KD"`` (a ``BlockRAM`` built from block RAM), ``"LUT RAM"`` (a ``BlockRAM`` or a memory marked
        ``ram_style = "distributed"``: TRELLIS_DPR16X4 cells), or ``"ROM"`` (a memory nothing writes, which
        Yosys builds from logic).
    mode : int or None
        The DP16KD data width (36, 18, ...) of a block RAM.
    dp16kd : int
        DP16KD blocks.
    lut_ram : int
        TRELLIS_DPR16X4 cells.
    """

    path: str
    width: int
    depth: int
    kind: str
    mode: int = None
    dp16kd: int = 0
    lut_ram: int = 0

    @property
    def bits(self):
        """Bits held."""
        return self.width * self.depth

    @property
    def block(self):
        """The top-level block the memory belongs to (the first part of ``path``)."""
        return self.path.split(".")[0]

    @property
    def fill(self):
        """Share of its DP16KD blocks' bits the memory uses (``None`` when it takes none)."""
        if not self.dp16kd:
            return None
        return self.bits / (self.dp16kd * dict(DP16KD_MODES)[self.mode] * self.mode)


def _lut_ram_cells(width, depth):
    entries, bits = LUT_RAM_CELL
    return -(-depth // entries) * -(-width // bits)


def _block_ram_use(path, ram, lut_ram_words):
    width = Shape.cast(ram.shape).width
    mode = dp16kd_mode(width, ram.depth, lut_ram_words)
    if mode is None:
        return MemoryUse(path, width, ram.depth, "LUT RAM", lut_ram=_lut_ram_cells(width, ram.depth))
    return MemoryUse(path, width, ram.depth, "DP16KD", mode=mode, dp16kd=-(-width // mode))


def _memory_use(path, memory):
    width = Shape.cast(memory.shape).width
    if memory.attrs.get("ram_style") == "distributed":
        return MemoryUse(path, width, memory.depth, "LUT RAM", lut_ram=_lut_ram_cells(width, memory.depth))
    if not memory.write_ports:
        return MemoryUse(path, width, memory.depth, "ROM")
    raise ValueError(f"{path}: a {width} x {memory.depth} memory outside a BlockRAM, which Yosys would map as it "
                     "chooses; build it from a BlockRAM or mark it ram_style = \"distributed\"")


def memory_map(component, lut_ram_words=LUT_RAM_WORDS):
    """Every memory of ``component`` as the ECP5 Verilog builds it, in design order.

    The design is elaborated for the ``ecp5`` target with shallow memories
    (:func:`~wccgen.hw.ecp5_block_ram.is_lut_ram` with ``lut_ram_words``) in
    LUT RAM, as ``wccgen generate`` builds it. A
    ``BlockRAM`` takes the DP16KD mode :func:`~wccgen.hw.ecp5_block_ram.dp16kd_mode`
    gives it, or LUT RAM; other memories are LUT RAM when marked so, or
    read-only tables that Yosys builds from logic.

    Returns
    -------
    list of MemoryUse
    """
    uses = []

    def walk(fragment, path):
        for origin in getattr(fragment, "origins", None) or ():
            if isinstance(origin, BlockRAM):
                uses.append(_block_ram_use(path, origin, lut_ram_words))
                return  # its RAM inside is this memory
            if isinstance(origin, Memory):
                uses.append(_memory_use(path, origin))
                return
        for sub, name, *_ in fragment.subfragments:
            walk(sub, f"{path}.{name}" if path else str(name))

    walk(Fragment.get(component, ECP5Primitives(lut_ram_words)), "")
    return uses


def memory_totals(uses, by="block"):
    """DP16KD blocks, TRELLIS_DPR16X4 cells and bits per ``by`` (``"block"``, or ``"path"``), in order."""
    totals = {}
    for use in uses:
        entry = totals.setdefault(getattr(use, by), {"dp16kd": 0, "lut_ram": 0, "bits": 0})
        entry["dp16kd"] += use.dp16kd
        entry["lut_ram"] += use.lut_ram
        entry["bits"] += use.bits
    return totals
