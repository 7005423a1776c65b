"""The whole denoiser in integers: every inner layer exact, the WCC layers tile by tile as the hardware runs them.

A :class:`NetworkBundle` holds what the integer network needs: a
:class:`~wccgen.golden.bundle.LayerBundle` per WCC layer (built for one
tile), the integer depthwise 3x3 layers and residual adds between them, and
the float 3x3 head and tail, which stay float as in the WCC paper. Between
the head and the tail every activation is a code of ``stream_bits`` bits:

- the head's output is quantized to the first expansion's input codes;
- each expansion's requantizer writes the depthwise layer's input codes
  (ReLU6 in its clamp); the depthwise layer's requantizer writes the
  projection's input codes (ReLU6 again); the projection's requantizer writes
  codes in the scale of the block's output, the next expansion's input;
- the residual add rescales the block's input into that scale and adds.

:func:`integer_network` runs it on a noisy image of any size: each WCC layer
sees its input map cut into tiles of the bundle's frame (zero-padded at the
right and bottom edges to whole tiles, cropped back after), one top-k
selection per tile, as the hardware computes it. Who computes the WCC layers
is a parameter: the integer model by default, the generated Verilog in
simulation (``wccgen network simulate``).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..spec.checks import MAX_BITS
from ..spec.fixed_point import BIAS_LIMIT, MAX_SHIFT, MULTIPLIER_BITS, symmetric_limit
from .bundle import BundleError, LayerBundle
from .depthwise import depthwise
from .residual_add import residual_add
from .wcc_layer import wcc_layer

__all__ = ["DepthwiseStage", "NetworkBlock", "NetworkBundle", "NetworkTrace", "integer_network", "tiles_of",
           "untile"]

#: Version of the files :meth:`NetworkBundle.save` writes.
NETWORK_SCHEMA_VERSION = 1


@dataclass
class DepthwiseStage:
    """An integer depthwise 3x3 convolution with its bias, ReLU6 and the next layer's input scale folded in.

    Parameters
    ----------
    weights : numpy.ndarray of int64, shape (C, 3, 3)
    multiplier, shift, bias : numpy.ndarray of int64, shape (C,)
        Requantizer per channel (see :func:`~wccgen.golden.requantizer.requantize`).
    out_min, out_max : int
        Output clamp (ReLU6: ``0`` and ``round(6 / output scale)``).
    """

    weights: np.ndarray
    multiplier: np.ndarray
    shift: np.ndarray
    bias: np.ndarray
    out_min: int
    out_max: int

    ARRAYS = ("weights", "multiplier", "shift", "bias")

    def validate(self, channels, name):
        """Check shapes and ranges for ``channels`` channels; raise :class:`BundleError` naming the field."""
        shapes = {"weights": (channels, 3, 3), "multiplier": (channels,), "shift": (channels,), "bias": (channels,)}
        limits = {"multiplier": (-(1 << (MULTIPLIER_BITS - 1)) + 1, (1 << (MULTIPLIER_BITS - 1)) - 1),
                  "shift": (1, MAX_SHIFT), "bias": (-BIAS_LIMIT, BIAS_LIMIT), "weights": (-symmetric_limit(MAX_BITS), symmetric_limit(MAX_BITS))}
        for key, shape in shapes.items():
            array = np.asarray(getattr(self, key))
            if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
                raise BundleError(f"{name}.{key}: must hold integers, got dtype {array.dtype}")
            if array.shape != shape:
                raise BundleError(f"{name}.{key}: has shape {array.shape}, expected {shape}")
            lo, hi = limits[key]
            if array.min() < lo or array.max() > hi:
                raise BundleError(f"{name}.{key}: values must lie in [{lo}, {hi}]")
            setattr(self, key, array.astype(np.int64))
        for key in ("out_min", "out_max"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise BundleError(f"{name}.{key}: must be an integer, got {value!r}")
            setattr(self, key, int(value))
        if self.out_min > self.out_max:
            raise BundleError(f"{name}: empty output range [{self.out_min}, {self.out_max}]")

    def __call__(self, codes):
        return depthwise(codes, self.weights, self.multiplier, self.shift, self.bias, self.out_min, self.out_max)


@dataclass
class NetworkBlock:
    """One inverted residual block: expansion (WCC), depthwise 3x3, projection (WCC), residual add.

    ``skip_multiplier / 2**skip_shift`` brings the block's input codes into
    the scale of its output (``output_scale``).
    """

    name: str
    expand: LayerBundle
    depthwise: DepthwiseStage
    project: LayerBundle
    skip_multiplier: int
    skip_shift: int
    output_scale: float


@dataclass
class NetworkBundle:
    """Everything the integer denoiser needs.

    Parameters
    ----------
    head_weight, head_bias, tail_weight, tail_bias : numpy.ndarray of float32
        The float 3x3 head (1 -> C, followed by ReLU6) and tail (C -> 1).
    input_scale : float
        Real value of one code of the first block's input (the head's output).
    stream_bits : int
        Width of the codes between the head and the tail.
    blocks : list of NetworkBlock
    name : str
    source : dict
        Where it came from (checkpoint, stage, calibration), as recorded.
    """

    head_weight: np.ndarray
    head_bias: np.ndarray
    tail_weight: np.ndarray
    tail_bias: np.ndarray
    input_scale: float
    stream_bits: int
    blocks: list
    name: str = ""
    source: dict = field(default_factory=dict)

    FLOAT_ARRAYS = ("head_weight", "head_bias", "tail_weight", "tail_bias")

    def __post_init__(self):
        self.validate()

    @property
    def channels(self):
        """Channels between the head and the tail."""
        return int(np.asarray(self.head_weight).shape[0])

    @property
    def tile(self):
        """``(height, width)`` of the frames every WCC layer is built for."""
        cfg = self.blocks[0].expand.config
        return cfg.height, cfg.width

    @property
    def wcc_layers(self):
        """``(name, LayerBundle)`` of every WCC layer, in the order the network runs them."""
        return [(f"{block.name}.{part}", getattr(block, part)) for block in self.blocks
                for part in ("expand", "project")]

    def validate(self):
        """Check the arrays, the scales and that the layers chain; raise :class:`BundleError` naming the field."""
        for key in self.FLOAT_ARRAYS:
            array = np.asarray(getattr(self, key))
            if not np.issubdtype(array.dtype, np.floating) or not np.isfinite(array).all():
                raise BundleError(f"{key}: must hold finite floats")
            setattr(self, key, array.astype(np.float32))
        channels = self.head_weight.shape[0] if self.head_weight.ndim == 4 else -1
        shapes = {"head_weight": (channels, 1, 3, 3), "head_bias": (channels,), "tail_weight": (1, channels, 3, 3),
                  "tail_bias": (1,)}
        for key, shape in shapes.items():
            if getattr(self, key).shape != shape:
                raise BundleError(f"{key}: has shape {getattr(self, key).shape}, expected {shape}")
        if isinstance(self.stream_bits, bool) or not isinstance(self.stream_bits, int) or not 2 <= self.stream_bits <= 16:
            raise BundleError(f"stream_bits: must be an integer in [2, 16], got {self.stream_bits!r}")
        _check_scale(self.input_scale, "input_scale")
        if not isinstance(self.blocks, list) or not self.blocks:
            raise BundleError("blocks: the network needs at least one block")
        limit = symmetric_limit(self.stream_bits)
        for block in self.blocks:
            if not isinstance(block, NetworkBlock):
                raise BundleError(f"blocks: must hold NetworkBlocks, got {type(block).__name__}")
            expand, project = block.expand.config, block.project.config
            if expand.channels_in != channels or project.channels_out != channels:
                raise BundleError(f"{block.name}: takes {expand.channels_in} and gives {project.channels_out} "
                                  f"channels, the network carries {channels}")
            if project.channels_in != expand.channels_out:
                raise BundleError(f"{block.name}.project: takes {project.channels_in} channels, the expansion gives "
                                  f"{expand.channels_out}")
            if (expand.height, expand.width) != self.tile or (project.height, project.width) != self.tile:
                raise BundleError(f"{block.name}: its WCC layers are built for other tiles than {self.tile}")
            for part in ("expand", "project"):
                cfg = getattr(block, part).config
                if cfg.in_bits != self.stream_bits or cfg.out_bits != self.stream_bits:
                    raise BundleError(f"{block.name}.{part}: takes {cfg.in_bits}-bit and gives {cfg.out_bits}-bit "
                                      f"codes, the network's are {self.stream_bits}-bit")
            block.depthwise.validate(expand.channels_out, f"{block.name}.depthwise")
            if not (-limit <= block.depthwise.out_min and block.depthwise.out_max <= limit):
                raise BundleError(f"{block.name}.depthwise: output range exceeds {self.stream_bits}-bit codes")
            if isinstance(block.skip_shift, bool) or not isinstance(block.skip_shift, int) \
                    or not 0 <= block.skip_shift <= MAX_SHIFT:
                raise BundleError(f"{block.name}.skip_shift: must be an integer in [0, {MAX_SHIFT}]")
            if isinstance(block.skip_multiplier, bool) or not isinstance(block.skip_multiplier, int) \
                    or abs(block.skip_multiplier) >= 1 << (MULTIPLIER_BITS - 1):
                raise BundleError(f"{block.name}.skip_multiplier: must be a {MULTIPLIER_BITS}-bit signed integer")
            _check_scale(block.output_scale, f"{block.name}.output_scale")

    # -- files -------------------------------------------------------------------------------------------------
    def save(self, directory):
        """Write ``network.json``, ``network.npz`` and a bundle per WCC layer into ``directory``.

        Returns the path of ``network.json``.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {key: getattr(self, key) for key in self.FLOAT_ARRAYS}
        blocks = []
        for index, block in enumerate(self.blocks):
            for key in DepthwiseStage.ARRAYS:
                arrays[f"block{index}_depthwise_{key}"] = getattr(block.depthwise, key)
            for part in ("expand", "project"):
                getattr(block, part).save(directory / "layers" / f"{block.name}.{part}")
            blocks.append({"name": block.name, "expand": f"layers/{block.name}.expand",
                           "project": f"layers/{block.name}.project",
                           "depthwise": {"out_min": block.depthwise.out_min, "out_max": block.depthwise.out_max},
                           "skip_multiplier": block.skip_multiplier, "skip_shift": block.skip_shift,
                           "output_scale": block.output_scale})
        meta = {"schema_version": NETWORK_SCHEMA_VERSION, "name": self.name, "source": self.source,
                "input_scale": self.input_scale, "stream_bits": self.stream_bits, "blocks": blocks}
        handle, temp = tempfile.mkstemp(dir=directory, prefix=".network.npz.")
        with os.fdopen(handle, "wb") as f:
            np.savez(f, **arrays)
        os.replace(temp, directory / "network.npz")
        (directory / "network.json").write_text(json.dumps(meta, indent=2) + "\n")
        return directory / "network.json"

    @classmethod
    def load(cls, directory):
        """Read and validate the files :meth:`save` wrote; a :class:`BundleError` names what is wrong."""
        directory = Path(directory)
        path = directory / "network.json"
        if not path.is_file():
            raise BundleError(f"{directory}: no network.json")
        try:
            meta = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BundleError(f"{path}: corrupt JSON: {error}") from None
        if not isinstance(meta, dict) or meta.get("schema_version") != NETWORK_SCHEMA_VERSION:
            found = meta.get("schema_version") if isinstance(meta, dict) else None
            raise BundleError(f"{path}: schema_version {found!r}, this wccgen reads {NETWORK_SCHEMA_VERSION}")
        for key in ("name", "source", "input_scale", "stream_bits", "blocks"):
            if key not in meta:
                raise BundleError(f"{path}: missing field {key!r}")
        try:
            with np.load(directory / "network.npz", allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            raise BundleError(f"{directory / 'network.npz'}: missing or not the NumPy archive "
                              "NetworkBundle.save writes") from None
        if not isinstance(meta["blocks"], list):
            raise BundleError(f"{path}: blocks must be a list")
        blocks = []
        for index, record in enumerate(meta["blocks"]):
            try:
                stage = DepthwiseStage(**{key: arrays[f"block{index}_depthwise_{key}"] for key in DepthwiseStage.ARRAYS},
                                       out_min=record["depthwise"]["out_min"], out_max=record["depthwise"]["out_max"])
                layers = {}
                for part in ("expand", "project"):
                    relative = record[part]
                    if not isinstance(relative, str) or not relative.isprintable():
                        raise BundleError(f"{path}: blocks[{index}].{part} must be a relative path, got {relative!r}")
                    if not (directory / relative).resolve().is_relative_to(directory.resolve()):
                        raise BundleError(f"{path}: blocks[{index}].{part} ({relative}) leads outside {directory}")
                    layers[part] = LayerBundle.load(directory / relative)
                blocks.append(NetworkBlock(name=record["name"], depthwise=stage, skip_multiplier=record["skip_multiplier"],
                                           skip_shift=record["skip_shift"], output_scale=record["output_scale"],
                                           **layers))
            except (KeyError, TypeError) as error:
                raise BundleError(f"{path}: blocks[{index}] is incomplete ({error})") from None
        missing = [key for key in cls.FLOAT_ARRAYS if key not in arrays]
        if missing:
            raise BundleError(f"{directory / 'network.npz'}: missing array {missing[0]!r}")
        return cls(**{key: arrays[key] for key in cls.FLOAT_ARRAYS}, input_scale=meta["input_scale"],
                   stream_bits=meta["stream_bits"], blocks=blocks, name=meta["name"], source=meta["source"])


def _check_scale(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise BundleError(f"{name}: must be a positive finite number, got {value!r}")


# -- running ---------------------------------------------------------------------------------------------------
def tiles_of(codes, tile):
    """Cut a ``(C, H, W)`` map into ``tile``-sized frames in raster order, zero-padding the right and bottom edges.

    Returns
    -------
    (list of numpy.ndarray, (int, int))
        The tiles and the grid (tile rows, tile columns).
    """
    height, width = tile
    rows, columns = -(-codes.shape[1] // height), -(-codes.shape[2] // width)
    padded = np.pad(codes, ((0, 0), (0, rows * height - codes.shape[1]), (0, columns * width - codes.shape[2])))
    return [padded[:, r * height:(r + 1) * height, c * width:(c + 1) * width]
            for r in range(rows) for c in range(columns)], (rows, columns)


def untile(tiles, grid, size):
    """The ``(C, H, W)`` map of ``size = (H, W)`` from its tiles in raster order (the padding cropped away)."""
    rows = [np.concatenate(tiles[r * grid[1]:(r + 1) * grid[1]], axis=2) for r in range(grid[0])]
    return np.concatenate(rows, axis=1)[:, :size[0], :size[1]]


def golden_tiles(name, bundle, tiles):
    """The integer model's output of every tile: the default way :func:`integer_network` runs a WCC layer."""
    return [wcc_layer(tile, bundle).output for tile in tiles]


@dataclass
class NetworkTrace:
    """What :func:`integer_network` computed: every WCC layer's input and output tiles, and the image."""

    layer_inputs: dict  #: layer name -> list of (C_in, h, w) input tiles
    layer_outputs: dict  #: layer name -> list of (C_out, h, w) output tiles
    grid: tuple  #: tile rows, tile columns
    codes: list  #: the (C, H, W) codes entering each block, and those leaving the last one
    output: np.ndarray  #: (H, W) denoised image, float


def _conv3x3(image, weight, bias):
    import torch

    with torch.no_grad():
        return torch.nn.functional.conv2d(torch.from_numpy(image)[None], torch.from_numpy(weight),
                                          torch.from_numpy(bias), padding=1)[0].numpy()


def integer_network(network, noisy, run_tiles=golden_tiles, progress=lambda message: None):
    """Denoise ``noisy`` with the integer network.

    Parameters
    ----------
    network : NetworkBundle
    noisy : array_like of float, shape (H, W)
        Grey levels in about [0, 1] with noise.
    run_tiles : callable
        ``run_tiles(name, bundle, tiles) -> output tiles`` computes one WCC
        layer on every tile; the default is the integer model.
    progress : callable

    Returns
    -------
    NetworkTrace
    """
    if not isinstance(network, NetworkBundle):
        raise TypeError(f"network: must be a NetworkBundle, got {type(network).__name__}")
    noisy = np.asarray(noisy, dtype=np.float32)
    if noisy.ndim != 2 or noisy.size == 0 or not np.isfinite(noisy).all():
        raise ValueError(f"noisy: must be a finite (H, W) grey image, got shape {noisy.shape}")
    size = noisy.shape
    limit = symmetric_limit(network.stream_bits)
    head = np.clip(_conv3x3(noisy[None], network.head_weight, network.head_bias), 0.0, 6.0)
    codes = np.clip(np.round(head.astype(np.float64) / network.input_scale), -limit, limit).astype(np.int64)
    inputs, outputs, entering = {}, {}, [codes]
    grid = None

    def through(name, bundle, feature_map):
        nonlocal grid
        tiles, grid = tiles_of(feature_map, network.tile)
        progress(f"{name}: {len(tiles)} tiles of {network.tile[0]}x{network.tile[1]}")
        results = run_tiles(name, bundle, tiles)
        inputs[name], outputs[name] = tiles, results
        return untile(results, grid, size)

    for block in network.blocks:
        hidden = through(f"{block.name}.expand", block.expand, codes)
        hidden = block.depthwise(hidden)
        branch = through(f"{block.name}.project", block.project, hidden)
        codes = residual_add(codes, branch, block.skip_multiplier, block.skip_shift, -limit, limit)
        entering.append(codes)
    features = (codes * network.blocks[-1].output_scale).astype(np.float32)
    output = noisy - _conv3x3(features, network.tail_weight, network.tail_bias)[0]
    return NetworkTrace(layer_inputs=inputs, layer_outputs=outputs, grid=grid, codes=entering, output=output)
