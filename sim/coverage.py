"""Frames that reach every weight and table entry of a layer, and how much of the layer a set of frames reaches.

Photograph activations leave parts of a layer unexercised (input channels
that are zero on every photograph, output channels that always clamp), and a
corrupted weight there would go unseen. :func:`coverage_frames` draws seeded
frames that drive every channel over its whole range; :func:`layer_coverage`
measures, on the integer model's traces of the frames actually simulated,
which corruptions of the generated integers the comparison would catch:

- a **weight** ``W[o, i]`` changed by any amount changes the MAC's sums
  wherever input channel ``i`` has a nonzero kept code, so it is caught when
  some frame keeps a nonzero code in channel ``i``;
- a bit of a **quantizer entry** (multiplier or shift of level ``l``) or of a
  **requantizer entry** (multiplier, shift or bias of output channel ``o``)
  flipped is caught when the stream it feeds (the codes, the output) differs
  on some frame: each such corruption is tried in the model. A low bit of a
  multiplier or bias moves the result by a small fraction of an LSB and shows
  only on values that land next to a rounding boundary, so these are the
  flips that stay uncaught;
- the **code extremes**: each input channel reaching both +Q and -Q.
"""

import numpy as np

from ..golden.quantizer import quantize
from ..golden.requantizer import requantize
from ..spec.fixed_point import MULTIPLIER_BITS, signed_range
from ..spec.frame import level_map

__all__ = ["COVERAGE_FRAMES", "coverage_frames", "layer_coverage"]

#: Frames :func:`coverage_frames` draws by default.
COVERAGE_FRAMES = 12


def coverage_frames(config, count=COVERAGE_FRAMES, seed=0):
    """Seeded input frames that drive every channel over its whole range.

    The first frames are the extremes (every code at the top, every code at
    the bottom, a checkerboard of both, which makes the largest level-1
    details), the rest random codes at full, quarter and sixteenth amplitude,
    so that outputs land inside the clamp range as well as on its bounds.

    Parameters
    ----------
    config : WccConfig
    count : int
        Frames to draw (``>= 0``).
    seed : int

    Returns
    -------
    list of numpy.ndarray of int64, each (C_in, H, W)
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"coverage frames: must be a non-negative integer, got {count!r}")
    rng = np.random.default_rng(seed)
    shape = (config.channels_in, config.height, config.width)
    lo, hi = signed_range(config.in_bits)
    lo += 1  # symmetric codes, as the input quantizer makes them
    rows, cols = np.indices(shape[1:])
    checker = np.where((rows + cols) % 2 == 0, hi, lo)
    fixed = [np.full(shape, hi), np.full(shape, lo), np.broadcast_to(checker, shape).copy()]
    frames = [np.asarray(f, dtype=np.int64) for f in fixed[:count]]
    amplitudes = (1.0, 0.25, 1 / 16)
    while len(frames) < count:
        amplitude = amplitudes[(len(frames) - len(fixed)) % len(amplitudes)]
        top = max(1, int(hi * amplitude))
        frames.append(rng.integers(-top, top + 1, size=shape).astype(np.int64))
    return frames


def _fraction(caught, total):
    return {"caught": int(caught), "total": int(total),
            "fraction": round(caught / total, 4) if total else 1.0}


def _bits(table, signed):
    """Bits of a table's field: enough for its largest magnitude (and a sign)."""
    return max(1, int(np.abs(np.asarray(table)).max()).bit_length() + int(signed))


def _flipped(table, bit):
    """``table`` with ``bit`` flipped in every entry (two's complement, so a sign bit flip negates the range)."""
    return np.asarray(table, dtype=np.int64) ^ (np.int64(1) << bit)


def _bit_ranges(bits):
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    ranges, start = [], None
    for index, bit in enumerate(bits):
        if start is None:
            start = bit
        if index + 1 == len(bits) or bits[index + 1] != bit + 1:
            ranges.append(f"{start}" if start == bit else f"{start}-{bit}")
            start = None
    return ", ".join(ranges)


def layer_coverage(bundle, traces):
    """Which corruptions of the layer's weights and tables the frames of ``traces`` reveal.

    The corruptions are single-bit flips of each table entry (every bit of its
    field) and any change of a weight.

    Parameters
    ----------
    bundle : LayerBundle
    traces : list of WccTrace
        The integer model's run of the simulated frames.

    Returns
    -------
    dict
        ``weights`` (weights whose change is caught), ``quantizer`` and
        ``requantizer`` (bit flips caught), ``code_extremes`` (input channels'
        +Q and -Q reached): each ``caught``, ``total`` and ``fraction``;
        ``uncaught`` names what is left (the first 20), ``complete`` is whether
        nothing is.
    """
    cfg = bundle.config
    q = (1 << (cfg.bit_a - 1)) - 1
    levels = level_map(cfg.padded_height, cfg.padded_width, cfg.levels).ravel()
    live = np.zeros(cfg.channels_in, dtype=bool)
    top = np.zeros(cfg.channels_in, dtype=bool)
    bottom = np.zeros(cfg.channels_in, dtype=bool)
    coef = {"multiplier": np.asarray(bundle.coef_multiplier), "shift": np.asarray(bundle.coef_shift)}
    coef_bits = {"multiplier": MULTIPLIER_BITS, "shift": _bits(coef["shift"], False)}
    out = {"multiplier": np.asarray(bundle.out_multiplier), "shift": np.asarray(bundle.out_shift),
           "bias": np.asarray(bundle.out_bias)}
    out_bits = {"multiplier": MULTIPLIER_BITS, "shift": _bits(out["shift"], False), "bias": _bits(out["bias"], True)}
    # caught[name][entry, bit]: flipping that bit of that entry changes a stream on some frame.
    quantizer = {name: np.zeros((cfg.levels, bits), dtype=bool) for name, bits in coef_bits.items()}
    requantizer = {name: np.zeros((cfg.channels_out, bits), dtype=bool) for name, bits in out_bits.items()}
    level_of = np.arange(1, cfg.levels + 1)
    for trace in traces:
        codes = trace.codes
        live |= (codes != 0).any(axis=1)
        top |= (codes == q).any(axis=1)
        bottom |= (codes == -q).any(axis=1)
        kept_levels = levels[trace.indices]
        values = trace.coefficients.reshape(cfg.channels_in, -1)[:, trace.indices]
        # A level's codes depend on its own entries alone: one flip in every level at once is told apart by level.
        for name, bits in coef_bits.items():
            for bit in range(bits):
                tables = dict(coef, **{name: np.maximum(_flipped(coef[name], bit), 0)})
                changed = (quantize(values, kept_levels, tables["multiplier"], tables["shift"], cfg.bit_a)
                           != codes).any(axis=0)
                quantizer[name][:, bit] |= (kept_levels[changed][:, None] == level_of).any(axis=0)
        # Likewise an output channel depends on its own entries alone.
        for name, bits in out_bits.items():
            for bit in range(bits):
                flipped = _flipped(out[name], bit)
                tables = dict(out, **{name: np.maximum(flipped, 0) if name == "shift" else flipped})
                output = requantize(trace.inverse, tables["multiplier"], tables["shift"], tables["bias"],
                                    bundle.out_min, bundle.out_max)
                requantizer[name][:, bit] |= (output != trace.output).reshape(cfg.channels_out, -1).any(axis=1)
    uncaught = [f"weights of input channel {i} (no nonzero kept code)" for i in np.flatnonzero(~live)]
    for block, what, tables in (("quantizer", "level", quantizer), ("requantizer", "output channel", requantizer)):
        for name, caught in tables.items():
            for entry in range(caught.shape[0]):
                missed = np.flatnonzero(~caught[entry]).tolist()
                if missed:
                    number = entry + 1 if what == "level" else entry
                    uncaught.append(f"{block} {name} of {what} {number}: bits {_bit_ranges(missed)}")
    uncaught += [f"code {'+' if sign > 0 else '-'}{q} never reached in input channel {i}"
                 for sign, reached in ((1, top), (-1, bottom)) for i in np.flatnonzero(~reached)]
    result = {
        "weights": _fraction(live.sum() * cfg.channels_out, live.size * cfg.channels_out),
        "quantizer": _fraction(sum(t.sum() for t in quantizer.values()), sum(t.size for t in quantizer.values())),
        "requantizer": _fraction(sum(t.sum() for t in requantizer.values()),
                                 sum(t.size for t in requantizer.values())),
        "code_extremes": _fraction(top.sum() + bottom.sum(), 2 * cfg.channels_in),
    }
    result["complete"] = not uncaught
    result["uncaught"] = uncaught[:20]
    result["uncaught_count"] = len(uncaught)
    return result
