"""A soak of the whole layer: random geometries, random and real frames, random traffic and resets.

Each trial is drawn from one seed, so any trial can be run again alone
(:func:`draw_trial` and :func:`run_trial` with the same seed): a geometry
(frame size, channels, levels, keep rate, widths, PE x SIMD, lanes,
compressors, Verilog target), a random bundle for it, frames of four kinds
(uniform codes, extremes, small codes full of equal energies, crops of real
photograph activations), idle and backpressure probabilities, and sometimes a
reset in the middle of a frame. The hardware is compared with the integer
model on every internal stream and the output.
"""

import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..golden.bundle import ACTIVATIONS, random_bundle
from ..golden.photographs import PHOTOGRAPHS, photograph_codes
from ..hw.wcc_layer import WccLayerSpec
from ..spec.fixed_point import signed_range
from ..spec.wcc_config import WccConfig
from .harness import run_block
from .layer_streams import layer_expectation

__all__ = ["FRAME_KINDS", "Trial", "draw_frames", "draw_trial", "run_trial"]

#: The kinds of frames a trial mixes.
FRAME_KINDS = ("uniform", "extreme", "small", "photograph")


@dataclass
class Trial:
    """One soak trial: a layer's geometry and parameters, its traffic, and how many frames of what."""

    seed: int
    config: dict
    params: dict
    target: str
    activation: str
    frames: int
    idle: float
    backpressure: float
    reset_after_beats: int = None
    frame_kinds: dict = field(default_factory=dict)

    def describe(self):
        c, p = self.config, self.params
        return (f"{c['height']}x{c['width']} {c['channels_in']}->{c['channels_out']} L{c['levels']} rate "
                f"{c['rate']:g} a{c['bit_a']} w{c['bit_w']} in{c['in_bits']} out{c['out_bits']}, PE {p['pe']} x SIMD "
                f"{p['simd']}, lanes {p['lanes_in']}/{p['lanes_out']}, {p['compressors']} compressor(s), "
                f"{self.target}")


def _divisor(rng, n):
    return int(rng.choice([d for d in range(1, n + 1) if n % d == 0]))


def draw_trial(seed, frames):
    """The trial of ``seed``: a geometry the layer accepts, its traffic, ``frames`` frames."""
    rng = np.random.default_rng(seed)
    while True:
        levels = int(rng.integers(1, 4))
        height, width = (int(v) for v in rng.integers(1, 3 * 2**levels + 1, size=2))
        cin, cout = (int(rng.choice([1, 2, 3, 4, 5, 6, 8, 12, 16])) for _ in range(2))
        rate = float(rng.choice([1.0, 0.5, 0.25, 0.125, round(float(rng.uniform(0.05, 1.0)), 3)]))
        widths = {name: int(rng.choice([4, 6, 8, 8, 8])) for name in ("in_bits", "bit_a", "bit_w", "out_bits")}
        try:
            cfg = WccConfig(height=height, width=width, channels_in=cin, channels_out=cout, levels=levels, rate=rate,
                            energy=str(rng.choice(["square", "magnitude"])), **widths)
        except ValueError:
            continue  # nothing kept at this rate, or an energy word too wide: draw again
        params = {"lanes_in": _divisor(rng, cin), "pe": int(rng.integers(1, min(cout, 8) + 1)),
                  "simd": int(rng.integers(1, min(cin, 8) + 1)), "lanes_out": _divisor(rng, cout),
                  "compressors": int(rng.integers(1, 4))}
        activation = str(rng.choice(ACTIVATIONS))
        try:
            WccLayerSpec(bundle=random_bundle(cfg, seed=seed, activation=activation), **params)
        except ValueError:
            continue
        break
    traffic = [0.0, 0.0, 0.1, 0.3, 0.6]
    beats = cfg.height * cfg.width * cin // params["lanes_in"]
    reset = int(rng.integers(1, beats + 1)) if rng.random() < 0.3 else None
    return Trial(seed=seed, config=asdict(cfg), params=params, target=str(rng.choice(["generic", "generic", "ecp5"])),
                 activation=activation, frames=frames, idle=float(rng.choice(traffic)),
                 backpressure=float(rng.choice(traffic)), reset_after_beats=reset)


def draw_frames(trial):
    """The trial's input frames, in a seeded mix of :data:`FRAME_KINDS`; also counts them by kind in ``trial``."""
    cfg = WccConfig(**trial.config)
    rng = np.random.default_rng(trial.seed + 1)
    shape = (cfg.channels_in, cfg.height, cfg.width)
    lo, hi = signed_range(cfg.in_bits)
    lo += 1  # the input quantizer is symmetric: the most negative code never occurs
    # Real activations: crops of one photograph's feature map, several times the frame's size.
    photo = photograph_codes(str(rng.choice(PHOTOGRAPHS)), 4 * cfg.height, 4 * cfg.width, cfg.channels_in,
                             bits=cfg.in_bits, seed=int(rng.integers(1 << 16)))
    kinds = rng.choice(FRAME_KINDS, size=trial.frames, p=[0.4, 0.15, 0.15, 0.3])
    frames = []
    for kind in kinds:
        if kind == "uniform":
            frame = rng.integers(lo, hi + 1, size=shape)
        elif kind == "extreme":
            pattern = int(rng.integers(5))
            if pattern == 0:
                frame = np.full(shape, hi)
            elif pattern == 1:
                frame = np.full(shape, lo)
            elif pattern == 2:
                frame = np.where(rng.random(shape) < 0.5, lo, hi)
            elif pattern == 3:
                frame = np.zeros(shape, dtype=np.int64)
            else:
                frame = np.zeros(shape, dtype=np.int64)
                frame[tuple(int(rng.integers(n)) for n in shape)] = int(rng.choice([lo, hi]))
        elif kind == "small":
            frame = rng.integers(-2, 3, size=shape)
        else:
            row, col = int(rng.integers(3 * cfg.height + 1)), int(rng.integers(3 * cfg.width + 1))
            frame = photo[:, row:row + cfg.height, col:col + cfg.width]
        frames.append(np.asarray(frame, dtype=np.int64))
    trial.frame_kinds = {kind: int((kinds == kind).sum()) for kind in FRAME_KINDS}
    return frames


def run_trial(trial, directory=None, simulator="verilator"):
    """Run one trial on the generated Verilog; the summary of what ran and whether it matched.

    Returns
    -------
    dict
        The trial (geometry, parameters, traffic, frame kinds), ``passed``,
        ``mismatch`` (the first difference's message or ``None``), ``cycles``,
        ``build_seconds``, ``run_seconds`` and ``seconds`` (the whole trial).
    """
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wccgen-soak-", dir=directory) as work:
        work = Path(work)
        bundle = random_bundle(WccConfig(**trial.config), seed=trial.seed, activation=trial.activation)
        stem = work / "bundle" / "layer"
        bundle.save(stem)
        params = {"bundle": str(stem), **trial.params}
        layer = WccLayerSpec(bundle=bundle, **trial.params)
        frames = draw_frames(trial)
        _, outputs, taps = layer_expectation(layer, frames)
        options = {}
        if trial.reset_after_beats is not None:
            options = {"reset_after_beats": trial.reset_after_beats, "partial_frame": frames[-1]}
        report = run_block("WccLayer", params, frames, outputs, work / "sim", taps_expected=taps, target=trial.target,
                           idle=trial.idle, backpressure=trial.backpressure, seed=trial.seed, simulator=simulator,
                           **options)
    mismatch = report["mismatch"]["message"] if report["mismatch"] else None
    if mismatch is None and not report["passed"]:
        mismatch = "; ".join(report["protocol_errors"] + report.get("flag_errors", []))
    return {**asdict(trial), "geometry": trial.describe(), "passed": bool(report["passed"]), "mismatch": mismatch,
            "frames_received": report.get("frames_received"), "cycles": report["cycles"],
            "simulator": report["simulator"], "build_seconds": report["build_seconds"],
            "run_seconds": report["run_seconds"], "seconds": round(time.monotonic() - start, 2)}
