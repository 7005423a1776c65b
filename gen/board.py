"""A board bitstream of a generated layer, through amaranth-boards.

On the board the layer is fed by an on-chip test pattern (a pseudo-random
pixel stream, frame after frame, never idle) and its output is always taken
and folded into a signature shown on the LEDs, so nothing of the layer is
optimized away. It runs on the board's own clock (25 MHz on the ULX3S); the
clock the layer reaches is what ``wccgen synth`` reports.
"""

from __future__ import annotations

import re
from pathlib import Path

from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Module, Mux, ResetSignal, Signal

from ..environment import temporary_environment
from ..golden.bundle import LayerBundle
from ..hw.wcc_layer import WccLayer
from .devices import BOARDS, DEVICES
from .synth import SynthesisError, _tool

__all__ = ["PatternBoardTop", "build_bitstream"]


class PatternBoardTop(Elaboratable):
    """The layer between a pseudo-random pixel source and an output signature on the LEDs.

    Parameters
    ----------
    layer : WccLayer
    leds : int
        LEDs the board has.
    """

    def __init__(self, layer, leds=8):
        self.layer = layer
        self.leds = leds

    def elaborate(self, platform):
        m = Module()
        # The board clock, and a reset held for the first cycles after configuration.
        clock = platform.request(platform.default_clk, 0).i
        m.domains.sync = ClockDomain("sync")
        m.domains.power_on = ClockDomain("power_on", reset_less=True)
        countdown = Signal(4, init=15)
        with m.If(countdown != 0):
            m.d.power_on += countdown.eq(countdown - 1)
        m.d.comb += [ClockSignal("sync").eq(clock), ClockSignal("power_on").eq(clock),
                     ResetSignal("sync").eq(countdown != 0)]
        m.submodules.layer = layer = self.layer
        cfg = layer.config
        beats = cfg.height * cfg.width * cfg.channels_in // layer.lanes_in
        # A 32-bit Galois LFSR, one step per pixel beat.
        lfsr = Signal(32, init=1)
        beat = Signal(range(max(beats, 2)))
        pixels = layer.pixels
        m.d.comb += pixels.valid.eq(1)
        for lane in range(layer.lanes_in):
            bits = lfsr.rotate_left(lane * 5)[:cfg.in_bits]
            # The most negative code is not a pixel value: map it to zero.
            m.d.comb += pixels.payload.data[lane].eq(Mux(bits == 1 << (cfg.in_bits - 1), 0, bits.as_signed()))
        m.d.comb += [pixels.payload.first.eq(beat == 0), pixels.payload.last.eq(beat == beats - 1)]
        with m.If(pixels.ready):
            m.d.sync += [lfsr.eq(Mux(lfsr[0], (lfsr >> 1) ^ 0x80200003, lfsr >> 1)),
                         beat.eq(Mux(beat == beats - 1, 0, beat + 1))]
        signature = Signal(self.leds)
        m.d.comb += layer.output.ready.eq(1)
        with m.If(layer.output.valid):
            folded = layer.output.payload.as_value()
            value = 0
            for start in range(0, len(folded), self.leds):
                value ^= folded[start:start + self.leds]
            m.d.sync += signature.eq(signature.rotate_left(1) ^ value)
        for index in range(self.leds):
            m.d.comb += platform.request("led", index).o.eq(signature[index])
        return m


def build_bitstream(directory, board="ulx3s-85f"):
    """Build a bitstream of the layer generated in ``directory`` for ``board``; return where it went."""
    from .layer import LAYER_PARAMETERS, read_manifest

    if board not in BOARDS:
        raise ValueError(f"board: unknown board {board!r}; choose one of {', '.join(BOARDS)}")
    spec = BOARDS[board]
    manifest = read_manifest(directory)
    if DEVICES[spec["device"]].verilog_target != manifest["verilog_target"]:
        raise ValueError(f"board: {board} carries an {spec['device']} device; the layer in {directory} was generated "
                         f"for {manifest['device']}")
    bundle = LayerBundle.load(Path(directory) / manifest["bundle"])
    params = {key: manifest["parameters"][key] for key in LAYER_PARAMETERS}
    layer = WccLayer(bundle=bundle, **params)
    tools = {variable: _tool(program) for variable, program in spec["tools"].items()}
    build_dir = Path(directory) / "bitstream" / board
    try:
        with temporary_environment(tools):
            spec["platform"]().build(PatternBoardTop(layer, spec["leds"]), name="top", build_dir=str(build_dir),
                                     do_program=False)
    except Exception as error:  # the toolchain's failure, reported as one line with where the logs are
        raise SynthesisError(f"{board}: the bitstream build failed ({type(error).__name__}: "
                             f"{str(error).strip().splitlines()[-1] if str(error).strip() else ''}); logs in "
                             f"{build_dir}") from None
    bitstream = build_dir / "top.bit"
    if not bitstream.is_file():
        raise SynthesisError(f"{board}: the build finished without {bitstream}")
    return {"board": board, "bitstream": str(bitstream), "bytes": bitstream.stat().st_size,
            "clock_mhz": spec["clock_mhz"], "fmax_mhz": _reported_fmax(build_dir / "top.tim"), "dir": str(directory)}


def _reported_fmax(log):
    """The last Fmax nextpnr reported in its log (after routing), or ``None``."""
    found = re.findall(r"Max frequency for clock .*?: ([0-9.]+) MHz", log.read_text()) if log.is_file() else []
    return float(found[-1]) if found else None
