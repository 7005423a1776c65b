"""``CodecBundle``: everything the hardware of one TCI, DCT-CM or CAP layer needs, as integers.

A bundle is one JSON file: the codec, its geometry and widths, the integer
arrays (small: a few thousand numbers) and, for TCI, the Huffman table.
Loading validates every field and fails with a :class:`~wccgen.golden.bundle.BundleError`
naming it; a bundle of another codec than the caller expects is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..spec.checks import check_bits, check_positive_int
from ..spec.fixed_point import BIAS_LIMIT, MAX_SHIFT, MULTIPLIER_BITS, symmetric_limit
from .bundle import ACTIVATIONS, BundleError, check_arrays, check_scales_and_name
from .channel_transform import TRANSFORM_FRACTION_BITS
from .huffman import HuffmanTable

__all__ = ["CODECS", "CODEC_SCHEMA", "CodecBundle", "MAX_HUFFMAN_LENGTH"]

#: The channel codecs, by name: transform coding (TCI), DCT-CM, compression-aware projection (CAP).
CODECS = ("tci", "dctcm", "cap")
#: Identifies the file format written by :meth:`CodecBundle.save`.
CODEC_SCHEMA = "wccgen-codec-1"
#: Longest Huffman codeword a TCI bundle may hold (the decoder reads a codeword in one cycle).
MAX_HUFFMAN_LENGTH = 15
_SCALES = ("input_scale", "coef_scale", "weight_scale", "output_scale")
_WIDTHS = ("in_bits", "bit_a", "bit_w", "out_bits")
_INTEGERS = ("channels_in", "channels_out", "components", "coef_multiplier", "coef_shift", "out_min", "out_max")


@dataclass
class CodecBundle:
    """Integer description of one channel-codec layer with its bias and activation folded in.

    Parameters
    ----------
    codec : {"tci", "dctcm", "cap"}
    channels_in, channels_out, components : int
        ``C``, ``C_out`` and the transform's rows ``k``.
    in_bits, bit_a, bit_w, out_bits : int
        Widths of the input activations, the coefficient codes, the weights and the output.
    rows : numpy.ndarray of int64, shape (k, C)
        The transform, :data:`~wccgen.golden.channel_transform.TRANSFORM_FRACTION_BITS` fraction bits.
    coef_multiplier, coef_shift : int
        The coefficient requantizer's factor.
    coef_bias : numpy.ndarray of int64, shape (k,)
        Its pre-shifted offset per row (the calibration mean).
    weights : numpy.ndarray of int64, shape (C_out, k)
        The consumer's weights folded onto the rows.
    out_multiplier, out_shift, out_bias : numpy.ndarray of int64, shape (C_out,)
    out_min, out_max : int
    activation : {"none", "relu", "relu6"}
    huffman : HuffmanTable or None
        The code of the coefficient codes (TCI only; ``raw_bits`` = ``bit_a``).
    scales : dict of str to float
    name : str
    """

    codec: str
    channels_in: int
    channels_out: int
    components: int
    in_bits: int
    bit_a: int
    bit_w: int
    out_bits: int
    rows: np.ndarray
    coef_multiplier: int
    coef_shift: int
    coef_bias: np.ndarray
    weights: np.ndarray
    out_multiplier: np.ndarray
    out_shift: np.ndarray
    out_bias: np.ndarray
    out_min: int
    out_max: int
    activation: str = "none"
    huffman: HuffmanTable | None = None
    scales: dict = field(default_factory=lambda: {name: 1.0 for name in _SCALES})
    name: str = ""

    ARRAYS = ("rows", "coef_bias", "weights", "out_multiplier", "out_shift", "out_bias")

    def __post_init__(self):
        self.validate()

    def expected_shapes(self):
        k, c, o = self.components, self.channels_in, self.channels_out
        return {"rows": (k, c), "coef_bias": (k,), "weights": (o, k), "out_multiplier": (o,), "out_shift": (o,),
                "out_bias": (o,)}

    def validate(self):
        """Check every field; raise :class:`BundleError` naming the first bad one."""
        if self.codec not in CODECS:
            raise BundleError(f"codec: must be one of {CODECS}, got {self.codec!r}")
        try:
            for name in ("channels_in", "channels_out", "components"):
                setattr(self, name, check_positive_int(getattr(self, name), name))
            for name in _WIDTHS:
                setattr(self, name, check_bits(getattr(self, name), name))
        except (TypeError, ValueError) as error:
            raise BundleError(str(error)) from None
        if self.components > self.channels_in:
            raise BundleError(f"components: must lie in [1, channels_in = {self.channels_in}], got {self.components}")
        for name in ("coef_multiplier", "coef_shift", "out_min", "out_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise BundleError(f"{name}: must be an integer, got {value!r}")
            setattr(self, name, int(value))
        check_arrays(self, f" (projection of {self.components} rows of {self.channels_in} channels to "
                           f"{self.channels_out})")
        mult_limit = (1 << (MULTIPLIER_BITS - 1)) - 1
        weight_limit, out_limit = symmetric_limit(self.bit_w), symmetric_limit(self.out_bits)
        row_limit = 2 << TRANSFORM_FRACTION_BITS
        for name, array, low, high in (("rows", self.rows, -row_limit, row_limit),
                                       ("coef_multiplier", np.array([self.coef_multiplier]), 0, mult_limit),
                                       ("coef_shift", np.array([self.coef_shift]), 1, MAX_SHIFT),
                                       ("coef_bias", self.coef_bias, -BIAS_LIMIT, BIAS_LIMIT),
                                       ("weights", self.weights, -weight_limit, weight_limit),
                                       ("out_multiplier", self.out_multiplier, -mult_limit, mult_limit),
                                       ("out_shift", self.out_shift, 1, MAX_SHIFT),
                                       ("out_bias", self.out_bias, -BIAS_LIMIT, BIAS_LIMIT),
                                       ("out_min", np.array([self.out_min]), -out_limit, out_limit),
                                       ("out_max", np.array([self.out_max]), -out_limit, out_limit)):
            bad = np.flatnonzero((array < low) | (array > high))
            if bad.size:
                raise BundleError(f"{name}: value {int(array.ravel()[bad[0]])} at index {int(bad[0])} outside "
                                  f"[{low}, {high}]")
        if self.out_min > self.out_max:
            raise BundleError(f"out_min, out_max: empty range [{self.out_min}, {self.out_max}]")
        if self.activation not in ACTIVATIONS:
            raise BundleError(f"activation: must be one of {ACTIVATIONS}, got {self.activation!r}")
        self._validate_huffman()
        check_scales_and_name(self)

    def _validate_huffman(self):
        if self.codec != "tci":
            if self.huffman is not None:
                raise BundleError(f"huffman: a {self.codec} bundle has no Huffman table")
            return
        if not isinstance(self.huffman, HuffmanTable):
            raise BundleError("huffman: a tci bundle needs its Huffman table")
        try:
            self.huffman.validate()
        except ValueError as error:
            raise BundleError(f"huffman.{error}") from None
        if self.huffman.max_length > MAX_HUFFMAN_LENGTH:
            raise BundleError(f"huffman.max_length: at most {MAX_HUFFMAN_LENGTH} bits, got {self.huffman.max_length}")
        if self.huffman.raw_bits != self.bit_a:
            raise BundleError(f"huffman.raw_bits: must equal bit_a = {self.bit_a}, got {self.huffman.raw_bits}")

    # -- files -------------------------------------------------------------
    def to_json(self):
        """The bundle as a JSON-ready dict."""
        record = {"format": CODEC_SCHEMA, "codec": self.codec, "name": self.name, "activation": self.activation,
                  "scales": dict(self.scales)}
        record.update({name: getattr(self, name) for name in _INTEGERS + _WIDTHS})
        record.update({name: getattr(self, name).tolist() for name in self.ARRAYS})
        if self.huffman is not None:
            table = self.huffman
            record["huffman"] = {"symbols": list(table.symbols), "lengths": list(table.lengths),
                                 "escape_length": table.escape_length, "raw_bits": table.raw_bits,
                                 "max_length": table.max_length}
        return record

    def digest(self):
        """SHA-256 of the bundle's contents."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()

    def save(self, path):
        """Write the bundle to ``path`` (a ``.json`` file) atomically; return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "w") as f:
                f.write(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n")
            os.replace(temp, path)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
        return path

    @classmethod
    def load(cls, path, codec=None):
        """Read and validate a bundle; ``codec``, when given, is the codec the caller expects."""
        path = Path(path)
        if not path.is_file():
            raise BundleError(f"{path}: no such codec bundle")
        try:
            record = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BundleError(f"{path}: corrupt JSON: {error}") from None
        if not isinstance(record, dict) or record.get("format") != CODEC_SCHEMA:
            found = record.get("format") if isinstance(record, dict) else type(record).__name__
            raise BundleError(f"{path}: format {found!r}, expected {CODEC_SCHEMA!r}")
        if codec is not None and record.get("codec") != codec:
            raise BundleError(f"{path}: codec: holds a {record.get('codec')!r} layer, expected {codec!r}")
        fields = {}
        for name in ("codec", "name", "activation", "scales") + _INTEGERS + _WIDTHS + cls.ARRAYS:
            if name not in record:
                raise BundleError(f"{path}: missing field {name!r}")
            fields[name] = record[name]
        for name in cls.ARRAYS:
            try:
                fields[name] = np.array(fields[name], dtype=np.int64)
            except (TypeError, ValueError, OverflowError):
                raise BundleError(f"{path}: {name}: must be a list of integers") from None
        table = record.get("huffman")
        if table is not None:
            keys = ("symbols", "lengths", "escape_length", "raw_bits", "max_length")
            if not isinstance(table, dict) or set(table) != set(keys):
                raise BundleError(f"{path}: huffman: must be an object with exactly the keys {keys}")
            lists = (table["symbols"], table["lengths"])
            scalars = (table["escape_length"], table["raw_bits"], table["max_length"])
            if not all(isinstance(v, list) for v in lists) or \
                    not all(isinstance(v, int) and not isinstance(v, bool) for v in (*lists[0], *lists[1], *scalars)):
                raise BundleError(f"{path}: huffman: symbols and lengths must be lists of integers, the widths integers")
            try:
                table = HuffmanTable(tuple(table["symbols"]), tuple(table["lengths"]), table["escape_length"],
                                     table["raw_bits"], table["max_length"])
            except ValueError as error:
                raise BundleError(f"{path}: huffman.{error}") from None
        try:
            return cls(**fields, huffman=table)
        except BundleError as error:
            raise BundleError(f"{path}: {error}") from None
