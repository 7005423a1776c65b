"""``LayerBundle``: everything the hardware of one WCC layer needs, as integers.

A bundle is saved as two files side by side: ``<stem>.json`` (schema version,
geometry, scalars, a list of the arrays) and ``<stem>.npz`` (the arrays). Loading
validates every field and fails with a :class:`BundleError` naming it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..spec.fixed_point import BIAS_LIMIT, MAX_SHIFT, MULTIPLIER_BITS
from ..spec.wcc_config import WccConfig

__all__ = ["ACTIVATIONS", "BundleError", "LayerBundle", "SCHEMA_VERSION", "bundle_paths", "check_arrays",
           "check_scales_and_name", "random_bundle"]

#: Version of the file format written by :meth:`LayerBundle.save`.
SCHEMA_VERSION = 1
#: Activations the requantizer implements (as clamp bounds).
ACTIVATIONS = ("none", "relu", "relu6")
_SCALES = ("input_scale", "coef_scale", "weight_scale", "output_scale")


class BundleError(ValueError):
    """A layer bundle that is missing, corrupt, inconsistent or of a newer schema."""


def bundle_paths(path):
    """The ``(json, npz)`` paths of a bundle given either file or their common stem."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".json", ".npz") else path
    return stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".npz")


@dataclass
class LayerBundle:
    """Integer description of one WCC layer with its bias, batch-norm and activation folded in.

    Parameters
    ----------
    config : WccConfig
        Geometry and widths.
    weights : numpy.ndarray of int64, shape (C_out, C_in)
        Symmetric ``bit_w``-bit weights.
    coef_multiplier, coef_shift : numpy.ndarray of int64, shape (levels,)
        Quantizer factor per Haar level (index ``l-1`` for level ``l``).
    out_multiplier, out_shift, out_bias : numpy.ndarray of int64, shape (C_out,)
        Requantizer factor and pre-shifted bias per output channel.
    out_min, out_max : int
        Output clamp; carries the activation.
    activation : {"none", "relu", "relu6"}
    scales : dict of str to float
        Real value of one LSB of the input, the codes, the weights and the output.
    name : str
        Name of the layer in its model.
    """

    config: WccConfig
    weights: np.ndarray
    coef_multiplier: np.ndarray
    coef_shift: np.ndarray
    out_multiplier: np.ndarray
    out_shift: np.ndarray
    out_bias: np.ndarray
    out_min: int
    out_max: int
    activation: str = "none"
    scales: dict = field(default_factory=lambda: {name: 1.0 for name in _SCALES})
    name: str = ""

    ARRAYS = ("weights", "coef_multiplier", "coef_shift", "out_multiplier", "out_shift", "out_bias")

    def __post_init__(self):
        self.validate()

    def expected_shapes(self):
        """Shape every array must have for this bundle's config."""
        cfg = self.config
        per_out = (cfg.channels_out,)
        return {
            "weights": (cfg.channels_out, cfg.channels_in),
            "coef_multiplier": (cfg.levels,),
            "coef_shift": (cfg.levels,),
            "out_multiplier": per_out,
            "out_shift": per_out,
            "out_bias": per_out,
        }

    def validate(self):
        """Check every field against the config; raise :class:`BundleError` naming the first bad one."""
        if not isinstance(self.config, WccConfig):
            raise BundleError(f"config: must be a WccConfig, got {type(self.config).__name__}")
        cfg = self.config
        check_arrays(self)
        mult_limit = 1 << (MULTIPLIER_BITS - 1)
        _check_range("weights", self.weights, -cfg.weight_limit, cfg.weight_limit)
        _check_range("coef_multiplier", self.coef_multiplier, 0, mult_limit - 1)
        _check_range("coef_shift", self.coef_shift, 1, MAX_SHIFT)
        _check_range("out_multiplier", self.out_multiplier, -(mult_limit - 1), mult_limit - 1)
        _check_range("out_shift", self.out_shift, 1, MAX_SHIFT)
        _check_range("out_bias", self.out_bias, -BIAS_LIMIT, BIAS_LIMIT)
        if cfg.requant_width > 61:
            raise BundleError(f"config: requantizer product needs {cfg.requant_width} bits; at most 61 are supported")
        for name in ("out_min", "out_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise BundleError(f"{name}: must be an integer, got {value!r}")
            if not -cfg.out_limit <= value <= cfg.out_limit:
                raise BundleError(f"{name}: {value} outside [-{cfg.out_limit}, {cfg.out_limit}] for {cfg.out_bits}-bit output")
            setattr(self, name, int(value))
        if self.out_min > self.out_max:
            raise BundleError(f"out_min, out_max: empty range [{self.out_min}, {self.out_max}]")
        if self.activation not in ACTIVATIONS:
            raise BundleError(f"activation: must be one of {ACTIVATIONS}, got {self.activation!r}")
        check_scales_and_name(self)

    # -- files -------------------------------------------------------------
    def to_json(self):
        """The JSON half of the bundle, as a dict."""
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "config": dataclasses.asdict(self.config),
            "activation": self.activation,
            "out_min": self.out_min,
            "out_max": self.out_max,
            "scales": dict(self.scales),
            "arrays": {name: list(getattr(self, name).shape) for name in self.ARRAYS},
        }

    def digest(self):
        """SHA-256 of the bundle's contents (its JSON half and its arrays as int64), independent of file names."""
        h = hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode())
        for name in self.ARRAYS:
            h.update(np.ascontiguousarray(getattr(self, name), dtype="<i8").tobytes())
        return h.hexdigest()

    def save(self, path):
        """Write ``<stem>.json`` and ``<stem>.npz``; either both land or neither changes.

        Returns
        -------
        (pathlib.Path, pathlib.Path)
            The JSON and NPZ paths written.
        """
        json_path, npz_path = bundle_paths(path)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {name: getattr(self, name) for name in self.ARRAYS}
        text = json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"
        temps = []
        try:
            for target, write in ((npz_path, lambda f: np.savez(f, **arrays)),
                                  (json_path, lambda f: f.write(text.encode()))):
                handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
                temps.append((temp, target))
                with os.fdopen(handle, "wb") as f:
                    write(f)
            for temp, target in temps:
                os.replace(temp, target)
        finally:
            for temp, _ in temps:
                if os.path.exists(temp):
                    os.unlink(temp)
        return json_path, npz_path

    @classmethod
    def load(cls, path):
        """Read and validate a bundle from its JSON, its NPZ or their stem."""
        json_path, npz_path = bundle_paths(path)
        for p in (json_path, npz_path):
            if not p.is_file():
                raise BundleError(f"{p}: no such bundle file")
        try:
            meta = json.loads(json_path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BundleError(f"{json_path}: corrupt JSON: {error}") from None
        if not isinstance(meta, dict):
            raise BundleError(f"{json_path}: must hold a JSON object")
        version = _field(meta, "schema_version", json_path)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise BundleError(f"{json_path}: schema_version must be a positive integer, got {version!r}")
        if version > SCHEMA_VERSION:
            raise BundleError(
                f"{json_path}: schema_version {version} is newer than this wccgen reads ({SCHEMA_VERSION}); upgrade wccgen"
            )
        config_fields = _field(meta, "config", json_path)
        if not isinstance(config_fields, dict):
            raise BundleError(f"{json_path}: config must be an object")
        known = {f.name for f in dataclasses.fields(WccConfig)}
        for name in known:
            _field(config_fields, name, json_path, prefix="config.")
        unknown = set(config_fields) - known
        if unknown:
            raise BundleError(f"{json_path}: unknown config fields {sorted(unknown)}")
        try:
            config = WccConfig(**config_fields)
        except (TypeError, ValueError) as error:
            raise BundleError(f"{json_path}: config.{error}") from None
        try:
            with np.load(npz_path, allow_pickle=False) as npz:
                arrays = {}
                for name in cls.ARRAYS:
                    if name not in npz.files:
                        raise BundleError(f"{npz_path}: missing array {name!r}")
                    arrays[name] = npz[name]
        except BundleError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            # NumPy's text would suggest allow_pickle for a file that is simply not ours.
            objects = zipfile.is_zipfile(npz_path) and "pickle" in str(error)
            kind = "holds Python objects, not integer arrays" if objects else "not a NumPy .npz archive"
            raise BundleError(f"{npz_path}: corrupt array file ({kind}; {npz_path.name} must be the arrays "
                              "LayerBundle.save writes)") from None
        listed = _field(meta, "arrays", json_path)
        for name, array in arrays.items():
            if not isinstance(listed, dict) or list(array.shape) != listed.get(name):
                raise BundleError(
                    f"{npz_path}: array {name!r} has shape {list(array.shape)}, the JSON lists "
                    f"{listed.get(name) if isinstance(listed, dict) else None}"
                )
        try:
            return cls(config=config, **arrays,
                       out_min=_field(meta, "out_min", json_path), out_max=_field(meta, "out_max", json_path),
                       activation=_field(meta, "activation", json_path), scales=_field(meta, "scales", json_path),
                       name=_field(meta, "name", json_path))
        except BundleError as error:
            raise BundleError(f"{json_path}: {error}") from None


def check_arrays(bundle, explain=""):
    """Every array of ``bundle.expected_shapes()`` holds integers of its shape; stored back as int64."""
    for name, shape in bundle.expected_shapes().items():
        array = np.asarray(getattr(bundle, name))
        if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
            raise BundleError(f"{name}: must hold integers, got dtype {array.dtype}")
        if array.shape != shape:
            raise BundleError(f"{name}: has shape {array.shape}, expected {shape}{explain}")
        setattr(bundle, name, array.astype(np.int64))


def check_scales_and_name(bundle):
    """``bundle.scales`` holds exactly the four LSB values, each positive and finite; ``bundle.name`` is a string."""
    if not isinstance(bundle.scales, dict) or set(bundle.scales) != set(_SCALES):
        raise BundleError(f"scales: must have exactly the keys {_SCALES}, got {bundle.scales!r}")
    for name, value in bundle.scales.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
            raise BundleError(f"scales.{name}: must be a positive finite number, got {value!r}")
    if not isinstance(bundle.name, str):
        raise BundleError(f"name: must be a string, got {type(bundle.name).__name__}")


def _field(mapping, name, path, prefix=""):
    if name not in mapping:
        raise BundleError(f"{path}: missing field '{prefix}{name}'")
    return mapping[name]


def _check_range(name, array, lo, hi):
    bad = np.flatnonzero((array < lo) | (array > hi))
    if bad.size:
        index = np.unravel_index(bad[0], array.shape)
        raise BundleError(
            f"{name}: value {int(array[index])} at index {tuple(int(i) for i in index)} outside [{lo}, {hi}]"
        )


def random_bundle(config, seed=0, activation="none"):
    """A bundle with random weights and factors that exercise ``config``'s ranges.

    The factors scale typical coefficients and outputs into the middle of their
    code ranges, so random frames use most codes and the largest ones clamp.
    For tests of the integer model and the hardware; not a trained layer.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: must be one of {ACTIVATIONS}, got {activation!r}")
    rng = np.random.default_rng(seed)
    cfg = config
    frac = MULTIPLIER_BITS - 1
    weights = rng.integers(-cfg.weight_limit, cfg.weight_limit + 1, size=(cfg.channels_out, cfg.channels_in))
    coef_multiplier = rng.integers(1 << (frac - 1), 1 << frac, size=cfg.levels)
    base = max(1, frac + cfg.in_bits - cfg.bit_a)
    coef_shift = base + np.arange(1, cfg.levels + 1)
    out_multiplier = rng.integers(1 << (frac - 1), 1 << frac, size=cfg.channels_out)
    out_multiplier *= rng.choice([-1, 1], size=cfg.channels_out)
    out_shift = np.full(cfg.channels_out, max(1, frac + cfg.inverse_width - cfg.out_bits - 4))
    bias_span = 1 << int(out_shift[0] + cfg.out_bits - 3)
    out_bias = rng.integers(-bias_span, bias_span + 1, size=cfg.channels_out)
    out_min = 0 if activation != "none" else -cfg.out_limit
    out_max = cfg.out_limit if activation != "relu6" else cfg.out_limit // 2
    return LayerBundle(config=cfg, weights=weights, coef_multiplier=coef_multiplier, coef_shift=coef_shift,
                       out_multiplier=out_multiplier, out_shift=out_shift, out_bias=out_bias,
                       out_min=out_min, out_max=out_max, activation=activation, name="random")
