"""Generation targets: how device-specific blocks are built for each.

``generic`` Verilog is portable (memories are inferred). ``ecp5`` Verilog
instantiates ECP5 primitives where inference would be slow (block RAMs with
their output registers); it simulates with the models in ``sim/models``.
"""

from .ecp5_block_ram import LUT_RAM_WORDS, ecp5_block_ram
from .ecp5_multiplier import ecp5_multiplier

__all__ = ["TARGET_PLATFORMS", "platform_for"]


class ECP5Primitives:
    """Platform stand-in for ``verilog.convert`` that maps ``BlockRAM`` onto DP16KD, and shallow ones
    (``ecp5_block_ram.is_lut_ram`` with ``lut_ram_words``) onto LUT RAM."""

    name = "ecp5"

    def __init__(self, lut_ram_words=LUT_RAM_WORDS):
        self.lut_ram_words = lut_ram_words

    def block_ram(self, ram, read_data):
        return ecp5_block_ram(ram, read_data, self.lut_ram_words)

    def multiplier(self, mul):
        return ecp5_multiplier(mul)


TARGET_PLATFORMS = {"generic": None, "ecp5": ECP5Primitives()}


def platform_for(target, lut_ram_words=None):
    """The platform object of ``target`` (``None`` for generic); on ECP5, memories of at most ``lut_ram_words``
    (default ``LUT_RAM_WORDS``), or narrow ones up to twice that (``ecp5_block_ram.is_lut_ram``), are LUT RAM."""
    if target not in TARGET_PLATFORMS:
        raise ValueError(f"target: unknown target {target!r}; choose one of {', '.join(TARGET_PLATFORMS)}")
    if target == "ecp5" and lut_ram_words is not None:
        return ECP5Primitives(lut_ram_words)
    return TARGET_PLATFORMS[target]
