"""The options of ``generate``: one dataclass that parses and checks them, from a config file and the command line."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from ..spec.frame import MAX_FRAME_SIDE
from .devices import DEVICES

#: How a generated WCC layer's input and output streams are named: AXI4-Stream (``s_axis_*``, ``m_axis_*``), or
#: the streams' own (``pixels__payload/__valid/__ready``, ``output__...``).
PORT_STYLES = ("axi", "native")

__all__ = ["GenerateOptions", "MAX_FRAME_SIDE", "MAX_IMAGE_SIDE", "PORT_STYLES", "check_frame_size", "parse_at_least",
           "parse_rates", "parse_size", "read_json_object"]


#: Largest side of a photograph the commands take (the held-out photographs are 512 pixels a side).
MAX_IMAGE_SIDE = 2048


def parse_size(text, option="size", largest=MAX_IMAGE_SIDE):
    """``(height, width)`` from ``"HxW"``, both in ``[1, largest]``; a ``ValueError`` naming ``option`` otherwise."""
    try:
        height, width = (int(part) for part in str(text).lower().split("x"))
    except ValueError:
        raise ValueError(f"{option}: expected HEIGHTxWIDTH such as 96x128, got {text!r}") from None
    if not (1 <= height <= largest and 1 <= width <= largest):
        raise ValueError(f"{option}: both sides must lie in [1, {largest}], got {text!r}")
    return height, width


def check_frame_size(size, option="size"):
    """A hardware frame size ``(height, width)`` (or ``"HxW"``), each side in ``[1, MAX_FRAME_SIDE]``."""
    if isinstance(size, str):
        size = parse_size(size, option)
    if not (isinstance(size, (tuple, list)) and len(size) == 2 and all(map(_positive, size))):
        raise ValueError(f"{option}: must be [height, width] of positive integers or \"HxW\", got {size!r}")
    if max(size) > MAX_FRAME_SIDE:
        raise ValueError(f"{option}: a hardware frame's sides must lie in [1, {MAX_FRAME_SIDE}] (each stage holds "
                         f"two frames), got {size[0]}x{size[1]}")
    return tuple(size)


def parse_rates(text):
    """Keep rates from ``"0.5,0.25"``, each in (0, 1]."""
    try:
        rates = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"rates: expected numbers separated by commas, got {text!r}") from None
    for rate in rates:
        if not 0.0 < rate <= 1.0:
            raise ValueError(f"rates: each rate must lie in (0, 1], got {rate}")
    return rates


def parse_at_least(minimum, what):
    """A parser of an integer of at least ``minimum``, named ``what`` in its error."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected a {what} integer, got {text!r}") from None
        if value < minimum:
            raise ValueError(f"expected a {what} integer, got {value}")
        return value
    return parse


def _positive(value):
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


def read_json_object(path, what):
    """The JSON object the file ``path`` holds (of ``what``, named in the message); a ``ValueError`` naming the
    file when it is missing, not JSON or not an object."""
    try:
        with open(path) as f:
            value = json.load(f)
    except FileNotFoundError:
        raise ValueError(f"config: {path}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"config: {path}: not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ValueError(f"config: {path}: must hold a JSON object of {what}")
    return value


@dataclass(frozen=True)
class GenerateOptions:
    """Where a layer comes from, the shape of its hardware, the device and the output directory.

    A config file (:meth:`from_file`) may set any field; options given on
    the command line win over it (:meth:`combine`). Checked on construction:
    every message names the option.
    """

    checkpoint: str | None = None
    layer: str = "blocks.0.expand"
    bundle: str | None = None
    size: tuple = (16, 16)
    image: str = "astronaut"
    lanes_in: int | None = None
    pe: int | None = None
    simd: int | None = None
    lanes_out: int | None = None
    compressors: int = 2
    target: str = "ecp5-85f"
    out: str | None = None
    network: bool = False
    codec: str | None = None
    ports: str | None = None  # a WCC layer's: AXI4-Stream by default
    model: str | None = None  # a torch.export program of one's own model
    images: str | None = None  # its calibration images: a folder or a .npy of inputs

    def __post_init__(self):
        object.__setattr__(self, "size", check_frame_size(self.size))
        for name in ("lanes_in", "pe", "simd", "lanes_out", "compressors"):
            value = getattr(self, name)
            if value is not None and not _positive(value):
                raise ValueError(f"{name}: must be a positive integer, got {value!r}")
        if self.target not in DEVICES:
            raise ValueError(f"target: unknown device {self.target!r}; choose one of {', '.join(DEVICES)}")
        if self.out is None or str(self.out) == "":
            raise ValueError("out: give the output directory (--out DIR, or \"out\" in the config file)")
        if self.bundle and self.checkpoint:
            raise ValueError("bundle, checkpoint: give one source of the layer, not both")
        if self.model and (self.bundle or self.checkpoint or self.network or self.codec):
            raise ValueError("model: a model of one's own is the source of its layers; not with --bundle, "
                             "--checkpoint, --network or --codec")
        if self.images and not self.model:
            raise ValueError("images: calibration images go with --model (a checkpoint's layers calibrate on "
                             "--image)")
        if not isinstance(self.network, bool):
            raise ValueError(f"network: must be true or false, got {self.network!r}")
        if self.ports is not None and self.ports not in PORT_STYLES:
            raise ValueError(f"ports: must be one of {', '.join(PORT_STYLES)}, got {self.ports!r}")

    @classmethod
    def read_file(cls, path):
        """The options a JSON config file sets (an object of known fields), as a dict."""
        config = read_json_object(path, "options")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ValueError(f"config: {path}: unknown option(s) {', '.join(map(repr, unknown))}; "
                             f"known: {', '.join(known)}")
        return config

    @classmethod
    def combine(cls, config=None, **given):
        """The defaults, under the config file ``config`` (a path), under the ``given`` options that are not None."""
        options = {}
        if config:
            options = cls.read_file(config)
            try:  # the file's options checked on their own, so that an error names the file
                cls(**{**options, "out": options.get("out") or "(given later)"})
            except ValueError as error:
                raise ValueError(f"config: {config}: {error}") from None
        options.update({key: value for key, value in given.items() if value is not None})
        if options.get("codec"):
            # A TCI or DCT-CM layer: its own transform and coder, none of a WCC layer's compressor options.
            ignored = [name for name in ("bundle", "network", "lanes_in", "simd", "compressors") if options.get(name)]
            if ignored:
                raise ValueError(f"{', '.join(ignored)}: options of a WCC layer; --codec builds a TCI or DCT-CM "
                                 "layer (its options: --checkpoint, --layer, --size, --image, --pe, --lanes-out)")
        if options.get("ports") == "axi" and (options.get("codec") or options.get("network")):
            raise ValueError("ports: AXI4-Stream ports are generated for a WCC layer; a --codec layer and a "
                             "--network keep the streams' own names (--ports native)")
        if options.get("network"):
            # Every WCC layer of the checkpoint, calibrated on the training photographs: these would be ignored.
            ignored = [name for name in ("layer", "bundle", "image") if name in options]
            if ignored:
                raise ValueError(f"{', '.join(ignored)}: --network builds every WCC layer of the checkpoint, "
                                 "calibrated on the training photographs; these options go with one layer")
        elif options.get("bundle"):
            # A bundle is one exported layer at one frame size, calibrated already: these would be ignored.
            ignored = [name for name in ("layer", "size", "image") if name in options]
            if ignored:
                raise ValueError(f"{', '.join(ignored)}: a bundle fixes the layer, its frame size and its output "
                                 "scale; these options go with a checkpoint, not with --bundle")
        return cls(**options)

    def source(self, progress=lambda message: None):
        """The :class:`~wccgen.gen.layer.LayerSource` of the layer these options name."""
        from .layer import default_checkpoint, layer_from_bundle, layer_from_checkpoint

        if self.bundle:
            progress(f"layer from the bundle {self.bundle}")
            return layer_from_bundle(self.bundle)
        checkpoint = self.checkpoint or default_checkpoint()
        height, width = self.size
        progress(f"layer {self.layer} of {checkpoint}, {height}x{width}, output scale calibrated on {self.image!r}")
        return layer_from_checkpoint(checkpoint, self.layer, height, width, image=self.image)
