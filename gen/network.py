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

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from ..hw.wcc_layer import WccLayerSpec
from . import devices
from .options import check_frame_size, parse_size
from .layer import (LAYER_PARAMETERS, LayerSource, ManifestError, _generate_into, _inside, atomic_directory,
                    check_output_directory, default_checkpoint, read_manifest)

__all__ = ["DEFAULT_TILE", "NETWORK_MANIFEST_VERSION", "generate_network", "read_network_manifest",
           "simulate_network"]

NETWORK_MANIFEST_VERSION = 1
#: Frame (tile) size of the WCC layer engines unless asked otherwise.
DEFAULT_TILE = (16, 16)
#: Side of the training photographs' noisy versions the last scale is calibrated on.
CALIBRATION_SIZE = 128
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
    import torch

    from ..golden.checkpoints import load_checkpoint
    from ..golden.network_export import export_network
    from ..golden.photographs import grey_photograph
    from ..golden.training import TRAINING_PHOTOGRAPHS, noisy

    model, stage, _ = load_checkpoint(checkpoint)
    progress(f"exporting the {stage.label} network of {checkpoint} for {tile[0]}x{tile[1]} tiles; the last scale "
             f"calibrated on the {len(TRAINING_PHOTOGRAPHS)} training photographs at {CALIBRATION_SIZE}x"
             f"{CALIBRATION_SIZE}")
    generator = torch.Generator().manual_seed(NOISE_SEED)
    calibration = torch.cat([noisy(grey_photograph(name, CALIBRATION_SIZE, CALIBRATION_SIZE), generator)
                             for name in TRAINING_PHOTOGRAPHS])
    source = {"checkpoint": str(Path(checkpoint).resolve()), "checkpoint_sha256": _sha256(checkpoint),
              "stage": stage.name, "label": stage.label,
              "calibration": {"photographs": list(TRAINING_PHOTOGRAPHS), "size": CALIBRATION_SIZE,
                              "noise_seed": NOISE_SEED}}
    return export_network(model, tile, calibration, name=Path(checkpoint).stem, source=source), model


def generate_network(checkpoint=None, out=None, *, size=DEFAULT_TILE, lanes_in=None, pe=None, simd=None,
                     lanes_out=None, compressors=2, device="ecp5-85f", force=False, progress=lambda message: None):
    """Write the network bundle and one layer engine per WCC layer into ``out``; return the manifest.

    As :func:`~wccgen.gen.layer.generate`, ``out`` must be empty unless
    ``force``, and it is replaced only once everything is written.
    ``lanes_in``, ``pe``, ``simd`` and ``lanes_out`` apply to every layer
    (each must suit every layer's channels); by default each layer takes its own.
    """
    verilog_target = devices.device(device).verilog_target
    size = check_frame_size(size)
    out = check_output_directory(out, force)
    checkpoint = checkpoint or default_checkpoint()
    network, _ = network_from_checkpoint(checkpoint, size, progress)
    layers = []
    with atomic_directory(out) as partial:
        network.save(partial / "network")
        for name, bundle in network.wcc_layers:
            source = LayerSource("network", bundle, checkpoint=network.source["checkpoint"], layer=name,
                                 calibration={"network": "../../network"})
            layer = _generate_into(partial / "layers" / name, source, lanes_in=lanes_in, pe=pe, simd=simd,
                                   lanes_out=lanes_out, compressors=compressors, device=device,
                                   verilog_target=verilog_target, progress=progress)
            cfg = bundle.config
            layers.append({"name": name, "directory": f"layers/{name}", "bundle_sha256": layer["bundle_sha256"],
                           "channels_in": cfg.channels_in, "channels_out": cfg.channels_out,
                           "activation": bundle.activation, "parameters": {key: layer["parameters"][key] for key in
                                                                           LAYER_PARAMETERS},
                           "cycles": layer["cycles"], "compressed_bits": cfg.compressed_bits,
                           "uncompressed_bits": cfg.uncompressed_bits})
        manifest = {
            "manifest_version": NETWORK_MANIFEST_VERSION,
            "kind": "network",
            "name": network.name,
            "device": device,
            "network": "network",
            "source": network.source,
            "tile": list(network.tile),
            "layers": layers,
            "schedule": {
                "engines": "one WCC layer engine per layer, its weights and tables built in",
                "order": [layer["name"] for layer in layers],
                "between_layers": "float 3x3 head and tail, integer depthwise 3x3 + ReLU6 and residual adds, "
                                  "in software (golden.network)",
            },
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def is_network(out):
    """Whether ``out`` holds a generated network (its manifest says so)."""
    path = Path(out) / "manifest.json"
    try:
        return json.loads(path.read_text()).get("kind") == "network"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return False


def read_network_manifest(out):
    """The manifest of a generated network, with every layer's own manifest checked (see ``read_manifest``).

    Returns ``(manifest, NetworkBundle, {name: layer manifest})``; a
    :class:`~wccgen.gen.layer.ManifestError` names what changed since generate.
    """
    from ..golden.network import NetworkBundle

    out = Path(out)
    path = out / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"{path}: not a readable manifest ({error})") from None
    for key in ("manifest_version", "kind", "network", "layers", "source", "tile"):
        if not isinstance(manifest, dict) or key not in manifest:
            raise ManifestError(f"{path}: missing field {key!r}")
    if manifest["manifest_version"] != NETWORK_MANIFEST_VERSION:
        raise ManifestError(f"{path}: manifest_version {manifest['manifest_version']!r}, this wccgen reads "
                            f"{NETWORK_MANIFEST_VERSION}")
    network = NetworkBundle.load(_inside(out, manifest["network"], "network", path))
    names = [name for name, _ in network.wcc_layers]
    if [layer.get("name") for layer in manifest["layers"]] != names:
        raise ManifestError(f"{path}: lists layers {[layer.get('name') for layer in manifest['layers']]}, the network "
                            f"has {names}")
    layer_manifests = {}
    for record, (name, bundle) in zip(manifest["layers"], network.wcc_layers):
        directory = _inside(out, record.get("directory"), f"layers[{name}].directory", path)
        layer_manifest = read_manifest(directory)
        if layer_manifest["bundle_sha256"] != bundle.digest():
            raise ManifestError(f"{directory}: its bundle is not the network's {name} (the network bundle changed "
                                "since generate); generate again")
        layer_manifests[name] = layer_manifest
    return manifest, network, layer_manifests


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
    """Runs one WCC layer's tiles through its generated Verilog; the hardware's outputs go on through the network."""

    def __init__(self, out, layer_manifests, *, idle, backpressure, seed, simulator, progress):
        self.out, self.layer_manifests = Path(out), layer_manifests
        self.idle, self.backpressure, self.seed, self.simulator = idle, backpressure, seed, simulator
        self.progress = progress
        self.layers = {}

    def __call__(self, name, bundle, tiles):
        from ..sim.harness import run_block
        from ..sim.layer_streams import layer_expectation

        manifest = self.layer_manifests[name]
        directory = self.out / "layers" / name
        params = {"bundle": str((directory / manifest["bundle"]).resolve()),
                  **{key: manifest["parameters"][key] for key in LAYER_PARAMETERS}}
        # The network's bundle of this layer is the layer directory's (read_network_manifest compared digests).
        spec = WccLayerSpec(bundle=bundle, **{key: params[key] for key in LAYER_PARAMETERS})
        _, expected, taps = layer_expectation(spec, tiles)
        self.progress(f"{name}: {len(tiles)} tiles through its Verilog (every stream compared)")
        received = []
        report = run_block("WccLayer", params, tiles, expected, directory / "sim", taps_expected=taps,
                           target=manifest["verilog_target"], idle=self.idle, backpressure=self.backpressure,
                           seed=self.seed, verilog=directory / manifest["verilog"], simulator=self.simulator,
                           progress=self.progress, received=received)
        ends = report.get("last_out_cycles") or []
        self.layers[name] = {
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
    from ..golden.network import integer_network
    from .layer import check_simulation_options

    check_simulation_options(1, idle, backpressure)
    if size is not None:
        size = parse_size("x".join(map(str, size)) if isinstance(size, (tuple, list)) else size)
    out = Path(out)
    manifest, network, layer_manifests = read_network_manifest(out)
    noisy_image, clean = _noisy_photograph(image, size, seed)
    height, width = noisy_image.shape[2:]
    progress(f"{image} at {height}x{width}, noise sigma 25/255 (seed {NOISE_SEED + seed}); "
             f"{len(network.wcc_layers)} WCC layers of {network.tile[0]}x{network.tile[1]} tiles")
    start = time.monotonic()
    integer = integer_network(network, noisy_image[0, 0].numpy())
    integer_seconds = time.monotonic() - start
    hardware_tiles = _HardwareTiles(out, layer_manifests, idle=idle, backpressure=backpressure, seed=seed,
                                    simulator=simulator, progress=progress)
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
    directory = out / "sim"
    directory.mkdir(exist_ok=True)
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
