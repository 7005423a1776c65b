"""One WCC layer from a model checkpoint, a bundle or a config file: generated, simulated, synthesized.

``generate`` writes an output directory: the Verilog of a
:class:`~wccgen.hw.wcc_layer.WccLayer`, the layer's bundle (what the integer
model reads), the contents of every initialized memory as hex files, and
``manifest.json`` (parameters, ports, per-stage latencies and cycles).
``simulate`` and ``synth`` work on such a directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from amaranth.hdl import Shape

from ..golden.bundle import LayerBundle
from ..hw.axi_stream_ports import AxiStreamPorts
from ..hw.memory_map import memory_map, memory_totals
from ..hw.verilog import emit_verilog, verilog_difference
from ..hw.wcc_layer import WccLayer, WccLayerSpec, signature_taps
from ..spec.fixed_point import signed_range
from . import devices
from .options import PORT_STYLES

__all__ = ["LayerSource", "ManifestError", "TOP", "generate", "layer_from_bundle",
           "layer_from_checkpoint", "layer_input", "read_manifest", "simulate"]

#: Module name of the generated layer.
TOP = "wcc_layer"
#: The ``WccLayer`` parameters a manifest records besides the bundle.
LAYER_PARAMETERS = ("lanes_in", "pe", "simd", "lanes_out", "digit_bits", "compressors")
#: Checkpoint of the default model used when none is given.
DEFAULT_STAGE = "wcc25"
MANIFEST_VERSION = 1


#: Where a generated layer's integers came from (``LayerSource.kind``).
SOURCE_KINDS = ("checkpoint", "bundle", "network", "model")
#: Where a layer converted from a model of one's own keeps its input frames, in the generated directory.
MODEL_FRAMES = "frames/model_frames.npz"


class ManifestError(ValueError):
    """An output directory without a readable, complete manifest."""


@dataclass
class LayerSource:
    """Where a layer's integers come from, and how to make its input frames from a photograph.

    ``kind`` is ``checkpoint`` (a trained model: the input frames are the
    activations the model feeds the layer when it denoises the photograph)
    or ``bundle`` (a saved bundle: the frames are
    :func:`~wccgen.golden.photographs.photograph_features` of the photograph,
    quantized with the bundle's input scale), or ``network`` (a layer of a
    network from ``generate --network``; simulated alone, its frames are made
    as a bundle's, while ``simulate`` of the network feeds it the network's own
    activations), or ``model`` (a layer of a model of one's own,
    :func:`~wccgen.gen.convert.convert`: the frames are its input on the
    calibration images, kept with the generated layer, ``stored``).
    """

    kind: str
    bundle: LayerBundle
    checkpoint: str | None = None
    layer: str | None = None
    bundle_path: str | None = None
    calibration: dict = field(default_factory=dict)
    stored: tuple | None = field(default=None, repr=False)  #: (input frames, float outputs in LSBs) of a model

    def record(self):
        """The source as the manifest records it."""
        return {"kind": self.kind, "checkpoint": self.checkpoint, "layer": self.layer,
                "bundle_path": self.bundle_path, "calibration": self.calibration}

    def frames(self, image, seed=0):
        """Input frame of the layer for ``image`` and the float layer's output in output LSBs (or ``None``)."""
        cfg = self.bundle.config
        codes, references, _ = self.tiles(image, cfg.height, cfg.width, seed=seed)
        return codes[0], references[0]

    def tiles(self, image, height, width, seed=0):
        """The layer's input for ``image`` at ``height`` x ``width``, cut into frames (tiles) of the layer's size.

        Returns
        -------
        (list of numpy.ndarray, list, (int, int))
            The input codes of every tile in raster order of tiles, the float
            layer's output of each tile in output LSBs (``None`` each for a
            bundle source), and the grid (tile rows, tile columns).
        """
        cfg = self.bundle.config
        for name, size, tile in (("height", height, cfg.height), ("width", width, cfg.width)):
            if isinstance(size, bool) or not isinstance(size, int) or size < tile or size % tile:
                raise ValueError(f"{name}: the photograph's {name} must be a positive multiple of the layer's frame "
                                 f"{name} {tile}, got {size!r}")
        grid = (height // cfg.height, width // cfg.width)
        windows = [(slice(r * cfg.height, (r + 1) * cfg.height), slice(c * cfg.width, (c + 1) * cfg.width))
                   for r in range(grid[0]) for c in range(grid[1])]
        if self.kind == "checkpoint":
            codes, references = _model_tiles(self.checkpoint, self.layer, image, height, width, seed, self.bundle,
                                             windows)
            return codes, references, grid
        from ..golden.photographs import photograph_features

        features = photograph_features(image, height, width, cfg.channels_in, seed=seed)[0].double().numpy()
        lo, hi = signed_range(cfg.in_bits)
        codes = np.clip(np.round(features / self.bundle.scales["input_scale"]), lo + 1, hi).astype(np.int64)
        return [codes[:, rows, cols] for rows, cols in windows], [None] * len(windows), grid


def _load_model_layer(checkpoint, layer_name):
    from ..golden.checkpoints import load_checkpoint
    from ..golden.wcc_conv import WCCConv2d

    model, _, _ = load_checkpoint(checkpoint)
    modules = dict(model.named_modules())
    if layer_name not in modules or not layer_name:
        raise ValueError(f"layer: {layer_name!r} is not a layer of the model in {checkpoint}; its WCC layers are "
                         f"{', '.join(model.wcc_layers) or 'none'}")
    layer = modules[layer_name]
    if not isinstance(layer, WCCConv2d):
        kernel = getattr(layer, "kernel_size", None)
        what = f"a {kernel[0]}x{kernel[1]} convolution" if kernel else f"a {type(layer).__name__}"
        raise ValueError(f"layer: {layer_name!r} is {what}, not a 1x1 WCC layer; wccgen builds 1x1 WCC layers "
                         f"(this model's: {', '.join(model.wcc_layers) or 'none'})")
    return model, layer


def layer_input(model, layer, x):
    """Run ``model`` on ``x``; return its output and what ``layer`` received on the way."""
    import torch

    seen = []
    handle = layer.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0]))
    try:
        with torch.no_grad():
            output = model(x)
    finally:
        handle.remove()
    return output, seen[0]


def _layer_features(checkpoint, layer_name, image, height, width, seed):
    """The layer and its input features when the model denoises ``image`` (noisy, seeded)."""
    import torch

    from .. import golden
    from ..golden.training import noisy

    model, layer = _load_model_layer(checkpoint, layer_name)
    x = noisy(golden.grey_photograph(image, height, width), torch.Generator().manual_seed(seed))
    return layer, layer_input(model, layer, x)[1]


def _model_tiles(checkpoint, layer_name, image, height, width, seed, bundle, windows):
    """The layer's input codes for ``image`` cut at ``windows``, and the float layer's output of each tile.

    The float layer runs on each tile alone, as the hardware does: WCC keeps
    the top-k positions of each frame it is given.
    """
    import torch

    from .. import golden
    from ..golden.denoiser import Denoiser

    layer, features = _layer_features(checkpoint, layer_name, image, height, width, seed)
    codes = golden.input_codes(layer, features)[0]
    activation = Denoiser.activation_after(layer_name)
    references = []
    with torch.no_grad():
        for rows, cols in windows:
            output = golden.apply_tail(layer(features[:, :, rows, cols]), activation=activation)
            references.append((output / bundle.scales["output_scale"]).double().numpy()[0])
    return [np.asarray(codes[:, rows, cols]) for rows, cols in windows], references


def layer_from_checkpoint(checkpoint, layer_name, height, width, image="astronaut", seed=0):
    """Export ``layer_name`` of a trained model, calibrating its output scale on ``image``."""
    from .. import golden
    from ..golden.denoiser import Denoiser

    layer, features = _layer_features(checkpoint, layer_name, image, height, width, seed)
    activation = Denoiser.activation_after(layer_name)
    scale = golden.calibrate_output_scale(layer, features, activation=activation)
    bundle = golden.export_layer(layer, height, width, output_scale=scale, activation=activation,
                                 name=f"{Path(checkpoint).stem}.{layer_name}")
    return LayerSource("checkpoint", bundle, checkpoint=str(Path(checkpoint).resolve()), layer=layer_name,
                       calibration={"image": image, "seed": seed})


def layer_from_bundle(path):
    """A saved bundle as a layer source."""
    bundle = LayerBundle.load(path)
    return LayerSource("bundle", bundle, bundle_path=str(Path(path).resolve()))


def default_checkpoint():
    from ..golden.checkpoints import default_checkpoint_dir

    return str(Path(default_checkpoint_dir()) / f"{DEFAULT_STAGE}.pt")


# -- generate ----------------------------------------------------------------------------------------------------
def _ports(top):
    ports = [{"name": "clk", "direction": "in", "width": 1}, {"name": "rst", "direction": "in", "width": 1}]
    for name, member in top.signature.members.items():
        if member.is_port:
            ports.append({"name": name, "direction": member.flow.name.lower(), "width": Shape.cast(member.shape).width})
            continue
        # An In member's signature is already seen from the component: each flow is the port's direction.
        for sub, sub_member in member.signature.members.items():
            ports.append({"name": f"{name}__{sub}", "direction": sub_member.flow.name.lower(),
                          "width": Shape.cast(sub_member.shape).width})
    return ports


def _hex(value, bits):
    return format(int(value) & ((1 << bits) - 1), f"0{-(-bits // 4)}x")


def _write_memories(layer, directory):
    """Contents of the layer's initialized memories as hex files, one word per line; returns their names."""
    directory.mkdir(parents=True, exist_ok=True)
    mac, requant = layer.part("mac"), layer.part("requantizer")
    files = []
    word_bits = mac.simd * mac.bit_w
    for pe in range(mac.pe):
        name = f"weights_pe{pe}.hex"
        words = mac.weight_words(pe)
        (directory / name).write_text("".join(_hex(w, word_bits) + "\n" for w in words))
        files.append(name)
    bundle = layer.bundle
    tables = {
        "coef_quantizer.hex": [(m, s) for m, s in zip(bundle.coef_multiplier, bundle.coef_shift)],
        "requantizer.hex": [(m, s, b) for m, s, b in zip(requant.multipliers, requant.shifts,
                                                         requant.rounded_biases)],
    }
    for name, rows in tables.items():
        (directory / name).write_text("".join(" ".join(_hex(v, 64) for v in row) + "\n" for row in rows))
        files.append(name)
    return files


def check_output_directory(out, force=False):
    """``out`` as a path a command may fill: not empty text, not a file, and empty unless ``force``.

    Returns the path; nothing is written.
    """
    if out is None or str(out) == "":
        raise ValueError("out: give the output directory")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: {out} is a file, not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValueError(f"out: {out} is not empty; give --force to replace what it holds")
    return out


@contextlib.contextmanager
def atomic_directory(out, failed=None):
    """A fresh folder beside ``out`` to write into; it replaces ``out`` when the block ends without an error, so
    ``out`` is either as it was or complete.

    On an error the folder is removed, or with ``failed`` (a path) kept there
    for its logs, replacing an earlier one, unless the error is bad input
    (``ValueError``, ``TypeError``) or an interrupt; the error's text then
    names the files where they are. A complete run removes ``failed``.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    partial.chmod(0o777 & ~umask)  # as mkdir would make it (mkdtemp's folder is private)
    try:
        yield partial
    except BaseException as error:
        # Bad input found late, or an interrupted run, leaves nothing: only a failing tool's files are kept.
        if failed is None or isinstance(error, (ValueError, TypeError, KeyboardInterrupt)):
            shutil.rmtree(partial, ignore_errors=True)
            raise
        shutil.rmtree(failed, ignore_errors=True)
        partial.rename(failed)
        error.args = tuple(arg.replace(str(partial), str(failed)) if isinstance(arg, str) else arg
                           for arg in error.args)
        raise
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    if failed is not None:
        shutil.rmtree(failed, ignore_errors=True)  # an earlier failure's files: this run has replaced them


def relocated(value, partial, final):
    """``value`` (a summary: dicts, lists, strings) with every path inside the folder ``partial`` moved to
    ``final``, where :func:`atomic_directory` puts it."""
    if isinstance(value, dict):
        return {key: relocated(item, partial, final) for key, item in value.items()}
    if isinstance(value, list):
        return [relocated(item, partial, final) for item in value]
    prefix = str(partial)
    if isinstance(value, str) and (value == prefix or value.startswith(prefix + os.sep)):
        return str(final) + value[len(prefix):]
    return value


def generate(source, out, *, lanes_in=None, pe=None, simd=None, lanes_out=None, compressors=2, device="ecp5-85f",
             ports="axi", force=False, progress=lambda message: None):
    """Write the layer's Verilog, bundle, memory files and manifest into ``out``; return the manifest.

    ``ports`` names the top's input and output: ``axi`` (AXI4-Stream, ``s_axis_*`` and ``m_axis_*``; see
    :class:`~wccgen.hw.axi_stream_ports.AxiStreamPorts`) or ``native`` (the streams' own names, ``pixels__*``
    and ``output__*``). ``out`` must be empty (or absent) unless ``force``, which replaces what it holds.
    Everything is written into a folder beside it first, which takes its place once complete: a refused or
    failed generate leaves ``out`` as it was.
    """
    if ports not in PORT_STYLES:
        raise ValueError(f"ports: must be one of {', '.join(PORT_STYLES)}, got {ports!r}")
    verilog_target = devices.device(device).verilog_target
    out = check_output_directory(out, force)
    with atomic_directory(out) as partial:
        return _generate_into(partial, source, lanes_in=lanes_in, pe=pe, simd=simd, lanes_out=lanes_out,
                              compressors=compressors, device=device, verilog_target=verilog_target, ports=ports,
                              progress=progress)


def layer_top(layer, ports):
    """The component a layer's Verilog top is: the layer, or the layer with AXI4-Stream ports (``ports``)."""
    return AxiStreamPorts(WccLayer(layer), "pixels", "output") if ports == "axi" else WccLayer(layer)


def _generate_into(out, source, *, lanes_in, pe, simd, lanes_out, compressors, device, verilog_target, ports,
                   progress):
    bundle = source.bundle
    bundle_stem = out / "bundle" / "layer"
    bundle.save(bundle_stem)
    if source.kind == "model":
        # The layer's input on the calibration images, and the float layer's output of each frame: simulate's
        # frames, since the model itself is not kept.
        codes, references = source.stored
        (out / MODEL_FRAMES).parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out / MODEL_FRAMES, **{f"codes{i}": c for i, c in enumerate(codes)},
                            **{f"reference{i}": r for i, r in enumerate(references)})
    layer = WccLayerSpec(bundle=bundle, lanes_in=lanes_in, pe=pe, simd=simd, lanes_out=lanes_out,
                         compressors=compressors)
    cfg = bundle.config
    progress(f"layer {bundle.name}: {cfg.channels_in} -> {cfg.channels_out} channels, {cfg.height}x{cfg.width}, "
             f"{cfg.levels} levels, rate {cfg.rate:g}; PE {layer.pe} x SIMD {layer.simd}, lanes {layer.lanes_in} in, "
             f"{layer.lanes_out} out, {layer.compressors} compressor(s); {ports} ports; Verilog for {device}")
    top = layer_top(layer, ports)
    verilog = emit_verilog(top, TOP, layer.header_parameters(), target=verilog_target)
    (out / f"{TOP}.v").write_text(verilog)
    memories = _write_memories(layer, out / "mem")
    # Where the memories go (ECP5 Verilog only: elsewhere the synthesis tool chooses).
    block_ram = _block_ram(layer) if verilog_target == "ecp5" else None
    if block_ram:
        progress(f"block RAM: {block_ram['dp16kd']} DP16KD, {block_ram['lut_ram']} TRELLIS_DPR16X4 ("
                 + ", ".join(f"{block} {use['dp16kd']}" for block, use in block_ram["by_block"].items()
                             if use["dp16kd"]) + ")")
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "top": TOP,
        "verilog": f"{TOP}.v",
        "device": device,
        "verilog_target": verilog_target,
        "bundle": "bundle/layer",
        "bundle_sha256": bundle.digest(),
        "source": source.record(),
        "parameters": {"config": dataclasses.asdict(cfg), **layer.header_parameters()},
        "memories": {"directory": "mem", "files": memories,
                     "note": "the Verilog embeds the same contents as memory initialization"},
        "port_style": ports,
        "ports": _ports(top),
        "taps": [{"name": tap.name, "block": tap.block} for tap in signature_taps(top.signature)],
        "latency": _latencies(layer),
        "cycles": {"stages": layer.stage_cycles, "bound": layer.cycle_bound, "mac_bound": layer.mac_bound},
        "compressed_bits": cfg.compressed_bits,
        "uncompressed_bits": cfg.uncompressed_bits,
        "block_ram": block_ram,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _block_ram(layer):
    """The layer's memories on the ECP5 (``hw.memory_map``): DP16KD blocks and LUT RAM cells in all, per block,
    and each memory's width, depth and mode."""
    uses = memory_map(WccLayer(layer))
    return {"dp16kd": sum(use.dp16kd for use in uses), "lut_ram": sum(use.lut_ram for use in uses),
            "by_block": memory_totals(uses),
            "memories": [{"path": use.path, "width": use.width, "depth": use.depth, "kind": use.kind,
                          "mode": use.mode, "dp16kd": use.dp16kd, "lut_ram": use.lut_ram} for use in uses]}


def _latencies(layer):
    """Per-stage latencies the components state (cycles; the whole layer's is measured by ``simulate``)."""
    forward, inverse = layer.part("haar_forward"), layer.part("haar_inverse")
    return {"haar_forward": forward.latency, "mac_pipeline": layer.part("mac").pipeline_latency,
            "haar_inverse": inverse.latency, "requantizer": layer.part("requantizer").latency,
            "layer": "measured by `wccgen simulate` (latency in sim/summary.json): the compressor's and the "
                     "scatter's frames lie on the way, see cycles"}


def _inside(out, relative, field, path):
    """``out / relative``, refused unless it is a relative path that stays inside ``out``."""
    if not isinstance(relative, str) or not relative or not relative.isprintable():
        raise ManifestError(f"{path}: field {field!r} must be a relative path, got {relative!r}")
    target = (Path(out) / relative).resolve()
    if Path(relative).is_absolute() or not target.is_relative_to(Path(out).resolve()):
        raise ManifestError(f"{path}: field {field!r} ({relative!r}) leads outside {out}")
    return Path(out) / relative


def _recorded_parameters(verilog):
    """The parameters a generated Verilog file records in its header (its second line), or ``None``."""
    with open(verilog, encoding="utf-8", errors="replace") as text:
        text.readline()
        line = text.readline()
    if not line.startswith("// parameters: "):
        return None
    try:
        return json.loads(line.removeprefix("// parameters: "))
    except json.JSONDecodeError:
        return None


def manifest_kind(out):
    """The ``kind`` ``out``'s manifest.json names (``network``, ``codec``, ``engine``), None if it names none or
    cannot be read."""
    try:
        return json.loads((Path(out) / "manifest.json").read_text()).get("kind")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None


def manifest_json(out, command):
    """``(path, content)`` of ``out``'s manifest.json; a :class:`ManifestError` when it is missing (naming the
    ``command`` that writes it) or not JSON."""
    path = Path(out) / "manifest.json"
    if not path.is_file():
        raise ManifestError(f"{out}: no manifest.json; run `{command} --out {out}` first")
    try:
        return path, json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"{path}: corrupt JSON: {error}") from None


def read_manifest(out):
    """The manifest of a generated directory, checked against the files it names.

    Every path it names stays inside ``out``; the bundle is the one generated
    (its SHA-256 is the manifest's ``bundle_sha256``); the Verilog's header
    records the manifest's parameters. Otherwise a :class:`ManifestError`
    says which file changed since ``wccgen generate``.
    """
    path, manifest = manifest_json(out, "wccgen generate")
    if isinstance(manifest, dict) and manifest.get("kind") == "network":
        raise ManifestError(f"{out}: holds a network of WCC layer engines; this command takes the directory of one "
                            "layer (`wccgen generate --layer NAME`)")
    if isinstance(manifest, dict) and manifest.get("kind") == "codec":
        raise ManifestError(f"{out}: holds a {manifest.get('codec')} layer (`wccgen generate --codec`); this command "
                            "takes the directory of a WCC layer")
    if isinstance(manifest, dict) and manifest.get("kind") == "engine":
        raise ManifestError(f"{out}: holds an engine of a network; `wccgen simulate` and `wccgen synth` take the "
                            f"network's directory ({(Path(out) / '../..').resolve()})")
    for key in ("manifest_version", "top", "verilog", "device", "verilog_target", "bundle", "bundle_sha256",
                "source", "parameters"):
        if not isinstance(manifest, dict) or key not in manifest:
            raise ManifestError(f"{path}: missing field {key!r}")
    if manifest["manifest_version"] != MANIFEST_VERSION:
        raise ManifestError(f"{path}: manifest_version {manifest['manifest_version']!r}, this wccgen reads "
                            f"{MANIFEST_VERSION}")
    if manifest["top"] != TOP:
        raise ManifestError(f"{path}: field 'top' is {manifest['top']!r}; the generated Verilog's module is {TOP!r}")
    if not isinstance(manifest["device"], str) or manifest["device"] not in devices.DEVICES:
        raise ManifestError(f"{path}: field 'device' is {manifest['device']!r}, not a device wccgen generates for "
                            f"({', '.join(devices.DEVICES)})")
    if manifest["verilog_target"] != devices.DEVICES[manifest["device"]].verilog_target:
        raise ManifestError(f"{path}: field 'verilog_target' is {manifest['verilog_target']!r}; the Verilog for "
                            f"{manifest['device']} is {devices.DEVICES[manifest['device']].verilog_target!r}")
    source = manifest["source"]
    if not isinstance(source, dict) or source.get("kind") not in SOURCE_KINDS:
        raise ManifestError(f"{path}: field 'source' must be an object whose kind is one of "
                            f"{', '.join(SOURCE_KINDS)}, got {source!r}"[:300])
    verilog = _inside(out, manifest["verilog"], "verilog", path)
    bundle = _inside(out, manifest["bundle"], "bundle", path)
    if isinstance(manifest.get("memories"), dict):
        _inside(out, manifest["memories"].get("directory"), "memories.directory", path)
    if not verilog.is_file():
        raise ManifestError(f"{out}: the Verilog {manifest['verilog']!r} named by the manifest is missing")
    digest = LayerBundle.load(bundle).digest()
    if digest != manifest["bundle_sha256"]:
        raise ManifestError(f"{out}: the bundle {manifest['bundle']!r} changed since generate (SHA-256 {digest[:12]}..., "
                            f"the manifest records {str(manifest['bundle_sha256'])[:12]}...); generate again")
    parameters = manifest["parameters"]
    recorded = _recorded_parameters(verilog)
    claimed = {key: value for key, value in parameters.items() if key != "config"} \
        if isinstance(parameters, dict) else None
    if recorded != claimed:
        raise ManifestError(f"{out}: the manifest's parameters are not those the Verilog {manifest['verilog']!r} "
                            f"records (manifest {json.dumps(claimed, sort_keys=True)}, Verilog "
                            f"{json.dumps(recorded, sort_keys=True)}): one of them changed since generate; "
                            "generate again")
    return manifest


# -- simulate ----------------------------------------------------------------------------------------------------
def _next_images(image, count):
    from ..golden.training import HELD_OUT

    others = [name for name in HELD_OUT if name != image]
    return [image] + [others[i % len(others)] for i in range(count - 1)]


def _frame_interval(ends, compressors):
    """Mean cycles between output frames, over whole rounds of the compressors (frames leave in groups)."""
    usable = max(len(ends) - 1, 0) // compressors * compressors
    return (ends[usable] - ends[0]) / usable if usable else None


#: Most frames one simulation takes (each is a photograph's activations and its expected streams in memory).
MAX_FRAMES = 1000
#: Highest idle or backpressure probability: the run takes about 1 / (1 - p) times as many cycles.
MAX_STALL = 0.9


def check_simulation_options(frames, idle, backpressure):
    """Refuse a frame count or stall probabilities that would not finish in reasonable time."""
    if isinstance(frames, bool) or not isinstance(frames, int) or not 1 <= frames <= MAX_FRAMES:
        raise ValueError(f"frames: must be an integer in [1, {MAX_FRAMES}], got {frames!r}")
    for name, value in (("idle", idle), ("backpressure", backpressure)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= MAX_STALL:
            raise ValueError(f"{name}: must lie in [0, {MAX_STALL:g}], got {value!r}")


def simulate(out, *, image=None, frames=3, seed=0, idle=0.0, backpressure=0.0, waves=False, simulator="auto",
             full=None, coverage_frames=12, progress=lambda message: None):
    """Simulate the generated Verilog in ``out`` on photograph activations; compare every stream exactly.

    The integer model runs on the bundle in ``out`` (so an edited bundle shows
    up as a mismatch); the hardware is the Verilog in ``out`` as generated.
    Frame 0 is ``image`` (default: the calibration photograph); the others are
    further photographs, so that the frame interval is measured too.

    With ``full = (height, width)`` the frames are instead every tile of the
    layer's input map for ``image`` at that size (a multiple of the layer's
    frame), in raster order of tiles; the hardware's output map is assembled
    from them and written to ``<out>/sim/photograph.npz`` and ``.png``.

    Returns
    -------
    dict
        ``bit_exact``, ``mismatches`` (streams that differ), ``first_mismatch``,
        ``cycles`` (frame interval, over whole rounds of the compressors: ``None``
        with fewer frames than compressors + 1), ``cycle_bound``, ``latency``,
        ``compressed_bits``, ``uncompressed_bits`` and more; also written to
        ``<out>/sim/summary.json``.
    """
    from ..sim.coverage import coverage_frames as draw_coverage_frames
    from ..sim.coverage import layer_coverage
    from ..sim.harness import run_block
    from ..sim.layer_streams import layer_expectation
    from ..sim.simulators import SIMULATOR_NAMES, choose_simulator

    check_simulation_options(frames, idle, backpressure)  # before any work
    out = Path(out)
    manifest = read_manifest(out)
    bundle = LayerBundle.load(out / manifest["bundle"])
    record = manifest["source"]
    source = LayerSource(record["kind"], bundle, checkpoint=record.get("checkpoint"), layer=record.get("layer"),
                         bundle_path=record.get("bundle_path"), calibration=record.get("calibration", {}))
    image = image or source.calibration.get("image", "astronaut")
    if source.kind == "model":
        if full is not None or image != "astronaut":
            raise ValueError("full, image: a layer converted from a model is simulated on its input frames from the "
                             "calibration images, kept with it; --full and --image take photographs")
        with np.load(_inside(out, MODEL_FRAMES, "frames", out / "manifest.json")) as stored:
            count = len([key for key in stored.files if key.startswith("codes")])
            picked = [(seed + index) % count for index in range(frames)]
            inputs = [stored[f"codes{index}"] for index in picked]
            references = [stored[f"reference{index}"] for index in picked]
        images = [f"calibration frame {index}" for index in picked]
        progress(f"input frames: the layer's input on the model's calibration images, frames "
                 f"{', '.join(map(str, picked))} of {count}")
    elif full is not None:
        inputs, references, grid = source.tiles(image, *full, seed=seed)
        images = [image]
        progress(f"input frames: the layer's activations on {image} at {full[0]}x{full[1]}, "
                 f"{len(inputs)} tiles ({grid[0]} x {grid[1]})")
    else:
        images = _next_images(image, frames)
        progress(f"input frames: the layer's activations on {', '.join(map(str, images))}")
        inputs, references = [], []
        for index, name in enumerate(images):
            codes, reference = source.frames(name, seed=seed + index)
            inputs.append(codes)
            references.append(reference)
    params = {"bundle": str((out / manifest["bundle"]).resolve()),
              **{key: manifest["parameters"][key] for key in LAYER_PARAMETERS}}
    layer = WccLayerSpec(bundle=bundle, **{key: params[key] for key in LAYER_PARAMETERS})
    photographs = len(inputs)
    extra = draw_coverage_frames(bundle.config, coverage_frames, seed=seed)
    if extra:
        progress(f"and {len(extra)} coverage frames (extremes, random codes at three amplitudes)")
    inputs = inputs + extra
    traces, outputs, taps = layer_expectation(layer, inputs)
    coverage = layer_coverage(bundle, traces)
    photo_traces = traces[:photographs]
    verilog = out / manifest["verilog"]
    # The Verilog must be what the bundle generates: a corrupted integer anywhere in it (also one no frame
    # would reveal) differs from the text generated again.
    progress("checking that the Verilog is the one the bundle generates")
    port_style = manifest.get("port_style", "native")  # (manifests before AXI4-Stream ports named none)
    regenerated = emit_verilog(layer_top(layer, port_style), TOP, layer.header_parameters(),
                               target=manifest["verilog_target"])
    provenance = verilog_difference(regenerated, verilog.read_text())
    simulator = choose_simulator(simulator, verilog.stat().st_size)
    progress(f"simulating {len(inputs)} frame(s) of the generated Verilog on {SIMULATOR_NAMES[simulator]} "
             "(every stream compared)")
    start = time.monotonic()
    # Written beside sim/ and moved into place when complete: a failed run leaves the last one as it was, and
    # its own files in sim.failed/.
    with atomic_directory(out / "sim", failed=out / "sim.failed") as partial:
        report = run_block("WccLayer", params, inputs, outputs, partial, taps_expected=taps,
                           target=manifest["verilog_target"], idle=idle, backpressure=backpressure, seed=seed,
                           waves=waves, verilog=verilog, simulator=simulator, progress=progress,
                           axi=port_style == "axi")
        elapsed = time.monotonic() - start
        cfg = bundle.config
        mismatch = report["mismatch"]
        summary = {
            "command": "simulate",
            "out": str(out),
            "bit_exact": bool(report["passed"]),
            "mismatches": len(report.get("stream_mismatches", {})) + len(report["protocol_errors"]),
            "first_mismatch": mismatch,
            "stream_mismatches": report.get("stream_mismatches", {}),
            "protocol_errors": report["protocol_errors"],
            "streams_compared": report.get("streams_compared", []),
            "verilog_from_bundle": provenance is None,
            "verilog_difference": provenance,
            "frames": photographs,
            "coverage_frames": len(extra),
            "coverage": coverage,
            "images": images,
            "cycles": _frame_interval(report.get("last_out_cycles") or [], layer.compressors),
            "cycle_bound": layer.cycle_bound,
            "stage_cycles": layer.stage_cycles,
            "latency": report.get("latency"),
            "first_in_cycle": report.get("first_in_cycle"),
            "last_out_cycles": report.get("last_out_cycles"),
            "compressed_bits": cfg.compressed_bits,
            "uncompressed_bits": cfg.uncompressed_bits,
            "stream_bytes": int(traces[0].stream.size),
            "kept_positions": cfg.keep,
            "positions": cfg.positions,
            # Against the float layer saturated to the output codes' range, as the hardware's clamp defines the layer;
            # how many float values lay beyond that range is reported beside it.
            "max_float_difference_lsb": (float(max(np.abs(t.output - np.clip(r, bundle.out_min, bundle.out_max)).max()
                                                   for t, r in zip(photo_traces, references)))
                                         if references[0] is not None else None),
            "saturated_float_outputs": (int(sum(((r < bundle.out_min) | (r > bundle.out_max)).sum() for r in references))
                                        if references[0] is not None else None),
            "simulation_seconds": round(elapsed, 1),
            "simulator": simulator,
            "simulator_name": SIMULATOR_NAMES[simulator],
            "build_seconds": report["build_seconds"],
            "build_cached": report["build_cached"],
            "run_seconds": report["run_seconds"],
            "simulated_cycles": report["cycles"],
            "watchdog_cycles": report["watchdog_cycles"],
            "idle": idle,
            "backpressure": backpressure,
        }
        if waves:
            summary["waves"] = report["waves"]
        np.savez(partial / "frames.npz", **{f"input{i}": t.pixels for i, t in enumerate(traces)},
                 **{f"output{i}": t.output for i, t in enumerate(traces)},
                 **{f"mask{i}": t.mask for i, t in enumerate(traces)},
                 **{f"reference{i}": r for i, r in enumerate(references) if r is not None})
        if full is not None:
            summary["full"] = _photograph_outputs(partial, image, full, grid, photo_traces, references,
                                                  (bundle.out_min, bundle.out_max), bit_exact=summary["bit_exact"])
        # The summary names the files where they will be once the folder is in place.
        summary = relocated(summary, partial, out / "sim")
        (partial / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _untile(tiles, grid):
    """A ``(C, H, W)`` map from its tiles in raster order (whole tiles: nothing cropped)."""
    from ..golden.network import untile

    tile = np.asarray(tiles[0]).shape[1:]
    return untile(tiles, grid, (grid[0] * tile[0], grid[1] * tile[1]))


def _photograph_outputs(directory, image, size, grid, traces, references, out_range, bit_exact):
    """The assembled input and output maps of a full photograph: an npz, a figure, and what the summary says."""
    inputs = _untile([t.pixels for t in traces], grid)
    outputs = _untile([t.output for t in traces], grid)
    arrays = {"input": inputs, "output": outputs, "masks": np.stack([t.mask for t in traces]),
              "grid": np.array(grid)}
    result = {"image": image, "size": list(size), "tiles": len(traces), "grid": list(grid),
              "maps": str(directory / "photograph.npz"), "figure": str(directory / "photograph.png")}
    difference = None
    if references[0] is not None:
        arrays["reference"] = _untile(references, grid)
        difference = np.abs(outputs - np.clip(arrays["reference"], *out_range))
        result["max_float_difference_lsb"] = float(difference.max())
        result["mean_float_difference_lsb"] = float(difference.mean())
        result["saturated_float_outputs"] = int(((arrays["reference"] < out_range[0])
                                                 | (arrays["reference"] > out_range[1])).sum())
    np.savez_compressed(directory / "photograph.npz", **arrays)
    verdict = "bit-exact to the integer model" if bit_exact else "NOT bit-exact to the integer model"
    _photograph_figure(directory / "photograph.png", f"{image}: every tile through the generated Verilog, {verdict}",
                       inputs, outputs, difference)
    return result


def _photograph_figure(path, title, inputs, outputs, difference):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    panels = [("layer input: mean |code| over channels", np.abs(inputs).mean(axis=0), "gray"),
              ("hardware output: mean over channels", outputs.mean(axis=0), "gray")]
    if difference is not None:
        panels.append(("|hardware - saturated float layer|: max over channels (LSB)", difference.max(axis=0),
                       "magma"))
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.8))
    for axis, (caption, values, colours) in zip(axes, panels):
        shown = axis.imshow(values, cmap=colours)
        axis.set_title(caption, fontsize=9)
        axis.axis("off")
        figure.colorbar(shown, ax=axis, fraction=0.035)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
