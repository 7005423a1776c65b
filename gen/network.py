"""The whole network: generate the hardware of every WCC layer, simulate a photograph through all of them.

``generate_network`` exports a trained WCC denoiser to a
:class:`~wccgen.golden.network.NetworkBundle` and generates one layer engine
(the Verilog of :func:`~wccgen.gen.layer.generate`) per WCC layer, under
``layers/<name>/``, with a ``manifest.json`` of kind ``network`` that lists
them and how they are scheduled. ``simulate_network`` denoises a noisy
photograph: every WCC layer's tiles go through that layer's Verilog in
simulation, the hardware's output tiles feed the next layers, and the other
layers (float head and tail, integer depthwise 3x3, ReLU6, residual adds) run
in the integer model between them. Each layer's hardware output is compared
bit for bit with the integer model on the same input tiles, and the denoised
photograph's PSNR and SSIM are reported beside the integer model's and the
float model's on the same noisy input.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from ..hw.ecp5_block_ram import DENSE_DEPTH
from ..hw.verilog import emit_verilog, header_values
from ..hw.wcc_layer import WccLayer, WccLayerSpec
from ..hw.wcc_network import WccNetwork, WccNetworkSpec
from . import devices
from .options import check_frame_size, parse_size
from .layer import (LAYER_PARAMETERS, TOP, ManifestError, _inside, _recorded_parameters, atomic_directory,
                    check_output_directory, default_checkpoint, manifest_kind, relocated)

__all__ = ["DEFAULT_TILE", "NETWORK_MANIFEST_VERSION", "NETWORK_TOP", "engine_groups",
           "generate_network", "is_network", "read_network_manifest", "simulate_network"]

NETWORK_MANIFEST_VERSION = 2
#: Module of the network's Verilog: its engines side by side.
NETWORK_TOP = "wcc_network"
#: Frame (tile) size of the WCC layer engines unless asked otherwise.
DEFAULT_TILE = (16, 16)
#: The noise of a simulated photograph is seeded with ``NOISE_SEED + seed``.
NOISE_SEED = 2000


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def network_from_checkpoint(checkpoint, tile=DEFAULT_TILE, progress=lambda message: None):
    """The :class:`~wccgen.golden.network.NetworkBundle` of a WCC checkpoint, its WCC layers built for ``tile``."""
    from ..golden.checkpoints import load_checkpoint
    from ..golden.network_export import CALIBRATION_NOISE_SEED, CALIBRATION_SIZE, calibration_images, export_network
    from ..golden.training import TRAINING_PHOTOGRAPHS

    model, stage, _ = load_checkpoint(checkpoint)
    progress(f"exporting the {stage.label} network of {checkpoint} for {tile[0]}x{tile[1]} tiles; the last scale "
             f"calibrated on the {len(TRAINING_PHOTOGRAPHS)} training photographs at {CALIBRATION_SIZE}x"
             f"{CALIBRATION_SIZE}")
    calibration = calibration_images()
    source = {"checkpoint": str(Path(checkpoint).resolve()), "checkpoint_sha256": _sha256(checkpoint),
              "stage": stage.name, "label": stage.label,
              "calibration": {"photographs": list(TRAINING_PHOTOGRAPHS), "size": CALIBRATION_SIZE,
                              "noise_seed": CALIBRATION_NOISE_SEED}}
    return export_network(model, tile, calibration, name=Path(checkpoint).stem, source=source), model


def engine_groups(network):
    """The engines a network needs: its WCC layers grouped by shape (config and output clamp), in order of use.

    Returns a list of ``(engine name, [(layer name, bundle), ...])``. An
    engine is named by what its layers' names share after their last dot
    (``expand``, ``project``), or ``engine<i>`` when that is not one name.
    """
    groups = {}
    for name, bundle in network.wcc_layers:
        key = (dataclasses.astuple(bundle.config), bundle.out_min, bundle.out_max)
        groups.setdefault(key, []).append((name, bundle))
    named = []
    for index, layers in enumerate(groups.values()):
        suffixes = {name.rsplit(".", 1)[-1] for name, _ in layers}
        suffix = suffixes.pop() if len(suffixes) == 1 else ""
        named.append((suffix if suffix.isidentifier() else f"engine{index}", layers))
    if len({name for name, _ in named}) != len(named):
        named = [(f"engine{index}", layers) for index, (_, layers) in enumerate(named)]
    return named


def generate_network(checkpoint=None, out=None, *, size=DEFAULT_TILE, lanes_in=None, pe=None, simd=None,
                     lanes_out=None, compressors=2, device="ecp5-85f", force=False, progress=lambda message: None):
    """Write the network bundle, one engine per shape of WCC layer and the network's top into ``out``; return
    the manifest.

    Layers of one shape (config and output clamp: the default denoiser's
    three expansions, its three projections) share one engine that holds all
    their weights and tables and computes one of them at a time (its
    ``layer`` input). Each engine's Verilog is written under
    ``engines/<name>/`` (simulated on its own), and ``wcc_network.v`` holds
    the engines side by side (synthesized as one design). As
    :func:`~wccgen.gen.layer.generate`, ``out`` must be empty unless
    ``force``, and it is replaced only once everything is written.
    ``lanes_in``, ``pe``, ``simd`` and ``lanes_out`` apply to every engine
    (each must suit every layer's channels); by default each engine takes
    :func:`~wccgen.hw.wcc_layer.balanced_array` and its own lanes.
    """
    verilog_target = devices.device(device).verilog_target
    size = check_frame_size(size)
    out = check_output_directory(out, force)
    checkpoint = checkpoint or default_checkpoint()
    network, _ = network_from_checkpoint(checkpoint, size, progress)
    engines, specs = [], {}
    with atomic_directory(out) as partial:
        network.save(partial / "network")
        for engine_name, layers in engine_groups(network):
            bundles = [bundle for _, bundle in layers]
            spec = WccLayerSpec(bundles=bundles, lanes_in=lanes_in, pe=pe, simd=simd, lanes_out=lanes_out,
                                compressors=compressors)
            specs[engine_name] = spec
            engines.append(_generate_engine(partial, engine_name, layers, spec, device, verilog_target, progress))
        progress(f"the network's top {NETWORK_TOP}.v: {len(specs)} engines side by side")
        top = WccNetworkSpec(engines=specs)
        (partial / f"{NETWORK_TOP}.v").write_text(emit_verilog(
            WccNetwork(top), NETWORK_TOP, {engine["name"]: _header(engine) for engine in engines},
            target=verilog_target, lut_ram_words=DENSE_DEPTH))
        layers = []
        for engine in engines:
            for index, name in enumerate(engine["layers"]):
                bundle = dict(network.wcc_layers)[name]
                cfg = bundle.config
                layers.append({"name": name, "engine": engine["name"], "layer_setting": index,
                               "bundle": f"network/layers/{name}", "bundle_sha256": bundle.digest(),
                               "channels_in": cfg.channels_in, "channels_out": cfg.channels_out,
                               "activation": bundle.activation, "compressed_bits": cfg.compressed_bits,
                               "uncompressed_bits": cfg.uncompressed_bits})
        order = [name for name, _ in network.wcc_layers]
        layers.sort(key=lambda layer: order.index(layer["name"]))
        manifest = {
            "manifest_version": NETWORK_MANIFEST_VERSION,
            "kind": "network",
            "name": network.name,
            "device": device,
            "verilog_target": verilog_target,
            "top": NETWORK_TOP,
            "verilog": f"{NETWORK_TOP}.v",
            "network": "network",
            "source": network.source,
            "tile": list(network.tile),
            "engines": engines,
            "layers": layers,
            "schedule": {
                "engines": "one engine per shape of WCC layer, holding the weights and tables of every layer of "
                           "that shape; its layer input chooses which it computes",
                "order": order,
                "layer_switch": "an engine computes every tile of one layer, then empties; only then does its "
                                "layer input change (no parameters are loaded: every layer's are held)",
                "between_layers": "float 3x3 head and tail, integer depthwise 3x3 + ReLU6 and residual adds, "
                                  "in software (golden.network)",
            },
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _header(record):
    """The parameters an engine's Verilog records, from its manifest record (its config aside)."""
    return {key: value for key, value in record["parameters"].items() if key != "config"}


def _generate_engine(out, name, layers, spec, device, verilog_target, progress):
    """Write one engine's Verilog and manifest under ``out/engines/<name>``; return its record."""
    directory = out / "engines" / name
    directory.mkdir(parents=True)
    cfg = spec.config
    progress(f"engine {name} for {', '.join(layer for layer, _ in layers)}: {cfg.channels_in} -> "
             f"{cfg.channels_out} channels, PE {spec.pe} x SIMD {spec.simd}, lanes {spec.lanes_in} in, "
             f"{spec.lanes_out} out, {spec.compressors} compressor(s); Verilog for {device}")
    parameters = {**spec.header_parameters(), "lut_ram_words": DENSE_DEPTH}
    (directory / f"{TOP}.v").write_text(emit_verilog(WccLayer(spec), TOP, parameters, target=verilog_target,
                                                     lut_ram_words=DENSE_DEPTH))
    record = {
        "name": name, "directory": f"engines/{name}", "top": TOP, "verilog": f"engines/{name}/{TOP}.v",
        "layers": [layer for layer, _ in layers], "channels_in": cfg.channels_in, "channels_out": cfg.channels_out,
        "parameters": {"config": dataclasses.asdict(cfg), **parameters},
        "cycles": {"stages": spec.stage_cycles, "bound": spec.cycle_bound, "mac_bound": spec.mac_bound},
        "hard_multipliers": spec.part("mac").hard_multipliers,
    }
    (directory / "manifest.json").write_text(json.dumps({"manifest_version": NETWORK_MANIFEST_VERSION,
                                                          "kind": "engine", "network": "../..", **record},
                                                         indent=2) + "\n")
    return record


def is_network(out):
    """Whether ``out`` holds a generated network (its manifest says so)."""
    return manifest_kind(out) == "network"


def read_network_manifest(out):
    """The manifest of a generated network, checked against the files it names.

    Returns ``(manifest, NetworkBundle)``. Every path stays inside ``out``;
    each engine's Verilog records the parameters the manifest lists, and its
    layers are the network's (same bundles, by SHA-256); the network's top
    records every engine. Otherwise a
    :class:`~wccgen.gen.layer.ManifestError` names what changed since generate.
    """
    from ..golden.bundle import LayerBundle
    from ..golden.network import NetworkBundle

    out = Path(out)
    path = out / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"{path}: not a readable manifest ({error})") from None
    for key in ("manifest_version", "kind", "network", "engines", "layers", "source", "tile", "verilog", "top",
                "device", "verilog_target"):
        if not isinstance(manifest, dict) or key not in manifest:
            raise ManifestError(f"{path}: missing field {key!r}")
    if manifest["manifest_version"] != NETWORK_MANIFEST_VERSION:
        raise ManifestError(f"{path}: manifest_version {manifest['manifest_version']!r}, this wccgen reads "
                            f"{NETWORK_MANIFEST_VERSION}; generate again")
    if manifest["top"] != NETWORK_TOP:
        raise ManifestError(f"{path}: field 'top' is {manifest['top']!r}; the network's module is {NETWORK_TOP!r}")
    if not isinstance(manifest["device"], str) or manifest["device"] not in devices.DEVICES or \
            manifest["verilog_target"] != devices.DEVICES[manifest["device"]].verilog_target:
        raise ManifestError(f"{path}: fields 'device' and 'verilog_target' ({manifest['device']!r}, "
                            f"{manifest['verilog_target']!r}) are not a device and its Verilog")
    source = manifest["source"]
    if not isinstance(source, dict) or not all(isinstance(source.get(key), str) for key in
                                               ("checkpoint", "checkpoint_sha256")):
        raise ManifestError(f"{path}: field 'source' must name the checkpoint and its SHA-256, got {source!r}"[:300])
    for key in ("engines", "layers"):
        if not isinstance(manifest[key], list) or not all(isinstance(entry, dict) for entry in manifest[key]):
            raise ManifestError(f"{path}: field {key!r} must be a list of records, got {manifest[key]!r}"[:300])
    network = NetworkBundle.load(_inside(out, manifest["network"], "network", path))
    if manifest["tile"] != list(network.tile):
        raise ManifestError(f"{path}: field 'tile' is {manifest['tile']!r}, the network bundle's tiles are "
                            f"{list(network.tile)}")
    names = [name for name, _ in network.wcc_layers]
    listed = [layer.get("name") for layer in manifest["layers"]]
    if listed != names:
        raise ManifestError(f"{path}: lists layers {listed}, the network has {names}")
    bundles = dict(network.wcc_layers)
    engines = {}
    for record in manifest["engines"]:
        name = record.get("name")
        if not isinstance(record.get("layers"), list) or not record["layers"] or \
                not isinstance(record.get("parameters"), dict) or not isinstance(name, str):
            raise ManifestError(f"{path}: field 'engines' holds {record!r}, not an engine record"[:300])
        verilog = _inside(out, record.get("verilog"), f"engines[{name}].verilog", path)
        if not verilog.is_file():
            raise ManifestError(f"{out}: the Verilog of engine {name!r} ({record.get('verilog')!r}) is missing")
        for layer in record["layers"]:
            if not isinstance(layer, str) or layer not in bundles:
                raise ManifestError(f"{path}: engine {name!r} serves {layer!r}, not a WCC layer of the network")
        claimed = header_values(_header(record))
        digests = [{"name": bundles[layer].name, "sha256": bundles[layer].digest()} for layer in record["layers"]]
        recorded = _recorded_parameters(verilog) or {}
        built_for = recorded.get("bundles", recorded.get("bundle"))
        key = "bundles" if len(digests) > 1 else "bundle"
        if built_for != header_values({key: digests if len(digests) > 1 else digests[0]})[key]:
            raise ManifestError(f"{out}: the engine {name!r} was built for other layers than the network's "
                                f"{', '.join(record['layers'])} (the network bundle changed since generate); "
                                "generate again")
        if recorded != claimed:
            raise ManifestError(f"{out}: the manifest's parameters of engine {name!r} are not those its Verilog "
                                "records: one of them changed since generate; generate again")
        engines[name] = record
    for layer in manifest["layers"]:
        engine = engines.get(layer.get("engine")) if isinstance(layer.get("engine"), str) else None
        setting = layer.get("layer_setting")
        if engine is None or isinstance(setting, bool) or not isinstance(setting, int) or \
                not 0 <= setting < len(engine["layers"]) or engine["layers"][setting] != layer["name"]:
            raise ManifestError(f"{path}: layer {layer['name']!r} names engine {layer.get('engine')!r} and setting "
                                f"{layer.get('layer_setting')!r}, which do not serve it")
    for layer in manifest["layers"]:
        stem = _inside(out, layer.get("bundle"), f"layers[{layer['name']}].bundle", path)
        if LayerBundle.load(stem).digest() != bundles[layer["name"]].digest():
            raise ManifestError(f"{path}: field 'layers' names {layer.get('bundle')!r} as the bundle of "
                                f"{layer['name']!r}, which is another layer's")
    top = _inside(out, manifest["verilog"], "verilog", path)
    if not top.is_file():
        raise ManifestError(f"{out}: the network's Verilog {manifest['verilog']!r} is missing")
    if _recorded_parameters(top) != header_values({name: _header(engine) for name, engine in engines.items()}):
        raise ManifestError(f"{out}: the network's Verilog {manifest['verilog']!r} does not hold the engines the "
                            "manifest lists; generate again")
    return manifest, network


def _noisy_photograph(image, size, seed):
    """``(noisy, clean)`` grey images (H, W) of ``image``, resized to ``size`` unless it is ``None``."""
    import torch

    from ..golden.photographs import grey_photograph
    from ..golden.training import noisy

    clean = grey_photograph(image, *(size or (None, None)))
    return noisy(clean, torch.Generator().manual_seed(NOISE_SEED + seed)), clean


def _quality(output, clean):
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    got = np.clip(np.asarray(output, dtype=np.float64), 0.0, 1.0)
    want = np.asarray(clean, dtype=np.float64)
    return (round(float(peak_signal_noise_ratio(want, got, data_range=1.0)), 3),
            round(float(structural_similarity(want, got, data_range=1.0)), 4))


class _HardwareTiles:
    """Runs one WCC layer's tiles through its engine's generated Verilog, the engine's ``layer`` input set to that
    layer; the hardware's outputs go on through the network."""

    def __init__(self, out, directory, manifest, network, *, idle, backpressure, seed, simulator, progress):
        self.out, self.directory, self.verilog_target = Path(out), Path(directory), manifest["verilog_target"]
        self.engines = {engine["name"]: engine for engine in manifest["engines"]}
        self.records = {layer["name"]: layer for layer in manifest["layers"]}
        self.bundles = dict(network.wcc_layers)
        self.idle, self.backpressure, self.seed, self.simulator = idle, backpressure, seed, simulator
        self.progress = progress
        self.layers = {}

    def __call__(self, name, bundle, tiles):
        from ..sim.harness import run_block
        from ..sim.layer_streams import layer_expectation

        record = self.records[name]
        engine = self.engines[record["engine"]]
        index = record["layer_setting"]
        parameters = {key: engine["parameters"][key] for key in LAYER_PARAMETERS}
        # The network's bundles are the engine's (read_network_manifest compared their digests with its Verilog).
        bundles = [self.bundles[layer] for layer in engine["layers"]]
        spec = WccLayerSpec(bundles=bundles, **parameters)
        _, expected, taps = layer_expectation(spec, tiles, index)
        paths = [str((self.out / self.records[layer]["bundle"]).resolve()) for layer in engine["layers"]]
        params = {**({"bundles": paths} if len(paths) > 1 else {"bundle": paths[0]}), **parameters}
        self.progress(f"{name}: {len(tiles)} tiles through engine {engine['name']} (layer setting {index}; every "
                      "stream compared)")
        received = []
        report = run_block("WccLayer", params, tiles, expected, self.directory / name, taps_expected=taps,
                           target=self.verilog_target, idle=self.idle, backpressure=self.backpressure, seed=self.seed,
                           verilog=self.out / engine["verilog"], simulator=self.simulator, progress=self.progress,
                           received=received, settings={"layer": index} if len(paths) > 1 else None)
        ends = report.get("last_out_cycles") or []
        self.layers[name] = {
            "engine": engine["name"], "layer_setting": index,
            "bit_exact": bool(report["passed"]), "first_mismatch": report["mismatch"],
            "protocol_errors": report["protocol_errors"], "tiles": len(tiles), "frames_received": len(received),
            "simulated_cycles": report["cycles"], "watchdog_cycles": report["watchdog_cycles"],
            "frame_interval_cycles": round((ends[-1] - ends[0]) / (len(ends) - 1), 1) if len(ends) > 1 else None,
            "latency_cycles": report.get("latency"), "simulator": report["simulator"],
            "build_seconds": report["build_seconds"], "build_cached": report["build_cached"],
            "run_seconds": report["run_seconds"]}
        if not report["passed"]:
            self.progress(f"{name}: NOT bit-exact: {report['mismatch']['message'] if report['mismatch'] else ''}")
        # Frames the hardware did not send whole go on as the model's, so the rest of the image is still made.
        return [got if got.shape == want.shape else want for got, want in zip(received, expected)] \
            + expected[len(received):]

def simulate_network(out, *, image="astronaut", size=(96, 128), seed=0, idle=0.0, backpressure=0.0, simulator="auto",
                     progress=lambda message: None):
    """Denoise a noisy photograph with the generated network's Verilog (every WCC layer in simulation).

    Parameters
    ----------
    out : path
        Directory written by :func:`generate_network`.
    image : str
        A scikit-image photograph name or an image file.
    size : (int, int) or None
        Size the photograph is resized to; ``None`` keeps its own.
    seed : int
        Seed of the noise (``NOISE_SEED + seed``) and of idle and backpressure.

    Returns
    -------
    dict
        ``bit_exact`` (every layer on every tile), per-layer results,
        ``psnr``/``ssim`` of the hardware's, the integer model's and the float
        model's outputs and of the noisy input, cycles, files written; also
        ``<out>/sim/summary.json``.
    """
    from ..golden.evaluation import check_quality_size
    from ..golden.network import integer_network
    from .layer import check_simulation_options

    check_simulation_options(1, idle, backpressure)
    if size is not None:
        size = parse_size("x".join(map(str, size)) if isinstance(size, (tuple, list)) else size)
    out = Path(out)
    manifest, network = read_network_manifest(out)
    noisy_image, clean = _noisy_photograph(image, size, seed)
    height, width = noisy_image.shape[2:]
    check_quality_size(height, width, "full" if size is not None else "image")
    progress(f"{image} at {height}x{width}, noise sigma 25/255 (seed {NOISE_SEED + seed}); "
             f"{len(network.wcc_layers)} WCC layers of {network.tile[0]}x{network.tile[1]} tiles")
    start = time.monotonic()
    integer = integer_network(network, noisy_image[0, 0].numpy())
    integer_seconds = time.monotonic() - start
    # Written beside sim/ and moved into place when complete: a failed run leaves the last one as it was, and
    # its own files in sim.failed/.
    with atomic_directory(out / "sim", failed=out / "sim.failed") as directory:
        hardware_tiles = _HardwareTiles(out, directory / "layers", manifest, network, idle=idle,
                                        backpressure=backpressure, seed=seed, simulator=simulator, progress=progress)
        start = time.monotonic()
        hardware = integer_network(network, noisy_image[0, 0].numpy(), run_tiles=hardware_tiles, progress=progress)
        seconds = time.monotonic() - start
        reference, float_note = _float_output(manifest["source"], noisy_image)
        clean = clean[0, 0].numpy()
        outputs = {"hardware": hardware.output, "integer": integer.output, "noisy": noisy_image[0, 0].numpy()}
        if reference is not None:
            outputs["float"] = reference
        quality = {name: _quality(image_out, clean) for name, image_out in outputs.items()}
        layers = hardware_tiles.layers
        bit_exact = all(layer["bit_exact"] for layer in layers.values())
        same_as_model = bool(np.array_equal(hardware.output, integer.output))
        files = _write_images(directory, image, outputs, clean, quality, bit_exact)
        build = sum(layer["build_seconds"] for layer in layers.values() if not layer["build_cached"])
        summary = {
            "command": "simulate", "kind": "network", "out": str(out), "image": str(image), "size": [height, width],
            "noise_seed": NOISE_SEED + seed, "tile": list(network.tile), "grid": list(hardware.grid),
            "bit_exact": bit_exact, "hardware_equals_integer_model": same_as_model,
            "layers": layers,
            "psnr": {name: value[0] for name, value in quality.items()},
            "ssim": {name: value[1] for name, value in quality.items()},
            "float_model": float_note,
            "simulated_cycles": sum(layer["simulated_cycles"] for layer in layers.values()),
            "seconds": round(seconds, 1), "build_seconds": round(build, 1),
            "integer_model_seconds": round(integer_seconds, 1),
            "idle": idle, "backpressure": backpressure, "files": files,
        }
        # The summary names the files where they will be once the folder is in place.
        summary = relocated(summary, directory, out / "sim")
        (directory / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _float_output(source, noisy_image):
    """The float model's output for ``noisy_image`` if the checkpoint recorded at generate is still there."""
    import torch

    from ..golden.checkpoints import load_checkpoint

    path = Path(source.get("checkpoint", ""))
    if not path.is_file():
        return None, f"checkpoint {path} not found: no float figures"
    if _sha256(path) != source.get("checkpoint_sha256"):
        return None, f"checkpoint {path} changed since generate: no float figures"
    model, _, _ = load_checkpoint(path)
    with torch.no_grad():
        return model(noisy_image)[0, 0].numpy(), f"{path} (the float WCC model, positions selected over the image)"


def _write_images(directory, image, outputs, clean, quality, bit_exact):
    """The denoised photograph as PNG (8-bit grey) and a figure of every version with its PSNR/SSIM."""
    import matplotlib
    from skimage.io import imsave

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    to_bytes = lambda picture: np.round(np.clip(picture, 0.0, 1.0) * 255).astype(np.uint8)  # noqa: E731
    imsave(directory / "denoised.png", to_bytes(outputs["hardware"]), check_contrast=False)
    imsave(directory / "noisy.png", to_bytes(outputs["noisy"]), check_contrast=False)
    order = [name for name in ("noisy", "float", "integer", "hardware") if name in outputs]
    titles = {"noisy": "noisy input", "float": "float model", "integer": "integer model",
              "hardware": "generated Verilog (simulated)"}
    figure, axes = plt.subplots(1, len(order) + 1, figsize=(3.6 * (len(order) + 1), 3.6))
    for axis, name in zip(axes, order):
        axis.imshow(np.clip(outputs[name], 0, 1), cmap="gray", vmin=0, vmax=1)
        axis.set_title(f"{titles[name]}\nPSNR {quality[name][0]:.2f} dB, SSIM {quality[name][1]:.3f}", fontsize=9)
        axis.axis("off")
    axes[-1].imshow(clean, cmap="gray", vmin=0, vmax=1)
    axes[-1].set_title("clean", fontsize=9)
    axes[-1].axis("off")
    verdict = "every WCC layer bit-exact" if bit_exact else "NOT bit-exact"
    figure.suptitle(f"{image}: the whole network, {verdict}", fontsize=10)
    figure.tight_layout()
    figure.savefig(directory / "network.png", dpi=110)
    plt.close(figure)
    return {"denoised": str(directory / "denoised.png"), "noisy": str(directory / "noisy.png"),
            "figure": str(directory / "network.png")}
