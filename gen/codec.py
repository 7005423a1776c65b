"""``wccgen generate --codec``: one TCI or DCT-CM layer of a trained model as Verilog, and its simulation.

A generated directory holds the layer's ``CodecBundle`` (``bundle/``), the
Verilog of its :class:`~wccgen.hw.codec_layer.CodecLayer` and
``manifest.json`` (``kind`` ``codec``). ``wccgen simulate`` drives it with
the layer's activations on held-out photographs and compares its output and
every internal stream (the coded bytes among them) with the integer model;
``wccgen synth`` places it as it does a WCC layer.
"""

import json
import time
from pathlib import Path

import numpy as np

from ..golden.codec_bundle import CODECS, CodecBundle
from ..hw.codec_layer import CODERS, CodecLayer, CodecLayerSpec
from ..hw.verilog import emit_verilog
from . import devices
from .layer import (ManifestError, _inside, _next_images, _recorded_parameters, atomic_directory,
                    check_output_directory, check_simulation_options, layer_input, manifest_json, manifest_kind)
from .options import check_frame_size

__all__ = ["CODEC_TOP", "generate_codec", "is_codec", "read_codec_manifest", "simulate_codec"]

#: The generated Verilog's module.
CODEC_TOP = "codec_layer"
#: Version of the manifest this module writes and reads.
CODEC_MANIFEST_VERSION = 1
#: The shipped checkpoint of each codec a layer is taken from by default (25 % of the channels kept).
DEFAULT_CHECKPOINTS = {codec: f"{codec}25.pt" for codec in CODECS}


def is_codec(out):
    """Whether ``out`` holds a generated TCI or DCT-CM layer (its manifest says so)."""
    return manifest_kind(out) == "codec"


def _codec_module(checkpoint, layer_name, codec):
    """The model in ``checkpoint`` and its ``codec`` layer ``layer_name``, or an error naming the layer."""
    from ..golden.checkpoints import load_checkpoint
    from ..golden.codec_conv import ChannelCodecConv2d

    model, _, _ = load_checkpoint(checkpoint)
    modules = dict(model.named_modules())
    codec_layers = [name for name, module in modules.items() if isinstance(module, ChannelCodecConv2d)]
    if not layer_name or layer_name not in modules:
        raise ValueError(f"layer: {layer_name!r} is not a layer of the model in {checkpoint}; its codec layers are "
                         f"{', '.join(codec_layers) or 'none'}")
    module = modules[layer_name]
    if not isinstance(module, ChannelCodecConv2d):
        raise ValueError(f"layer: {layer_name!r} of {checkpoint} is a {type(module).__name__}, not a channel-codec "
                         f"layer (its codec layers: {', '.join(codec_layers) or 'none'})")
    if module.codec != codec:
        raise ValueError(f"codec: {layer_name!r} of {checkpoint} is a {module.codec} layer, not {codec}")
    return model, module


def _input_codes(model, module, image, height, width, seed):
    """The layer's input codes ``(C, height, width)`` and input features when the model denoises ``image``."""
    import torch

    from .. import golden
    from ..golden.training import noisy

    x = noisy(golden.grey_photograph(image, height, width), torch.Generator().manual_seed(seed))
    features = layer_input(model, module, x)[1]
    return module.input_quant.codes(module.input_quant(features)).to(torch.int64).numpy()[0], features


def generate_codec(codec, out, *, checkpoint=None, layer="blocks.0.expand", size=(16, 16), image="astronaut",
                   pe=None, lanes_out=None, device="ecp5-85f", force=False, progress=lambda message: None):
    """Export ``layer`` of a trained ``codec`` model and write its bundle, Verilog and manifest into ``out``.

    The coefficient transform and the Huffman table (TCI) are calibrated on
    the training photographs; the output scale on ``image`` (a held-out
    photograph by default), as for a WCC layer. ``out`` must be empty unless
    ``force``; it is replaced only once everything is written. Returns the
    manifest.
    """
    from .. import golden
    from ..golden.codec_export import export_codec_layer
    from ..golden.denoiser import Denoiser
    from ..golden.network_export import calibration_images

    if codec not in CODECS:
        raise ValueError(f"codec: must be one of {', '.join(CODECS)}, got {codec!r}")
    height, width = check_frame_size(size)
    verilog_target = devices.device(device).verilog_target
    out = check_output_directory(out, force)
    if checkpoint is None:
        from ..golden.checkpoints import default_checkpoint_dir

        checkpoint = default_checkpoint_dir() / DEFAULT_CHECKPOINTS[codec]
    progress(f"{codec} layer {layer} of {checkpoint}, {height}x{width}, calibrated on the training photographs "
             f"and {image!r}")
    model, module = _codec_module(checkpoint, layer, codec)
    calibration = layer_input(model, module, calibration_images())[1]
    _, features = _input_codes(model, module, image, height, width, 0)
    activation = Denoiser.activation_after(layer)
    scale = golden.calibrate_output_scale(module, features, activation=activation)
    bundle = export_codec_layer(module, output_scale=scale, activation=activation, calibration=calibration,
                                name=f"{Path(checkpoint).stem}.{layer}")
    spec = CodecLayerSpec(bundle=bundle, height=height, width=width, pe=pe, lanes_out=lanes_out)
    parameters = spec.header_parameters()
    with atomic_directory(out) as partial:
        bundle.save(partial / "bundle" / "layer")
        progress(f"emitting {CODEC_TOP}.v for {device}")
        (partial / f"{CODEC_TOP}.v").write_text(emit_verilog(CodecLayer(spec), CODEC_TOP, parameters,
                                                             target=verilog_target))
        manifest = {
            "manifest_version": CODEC_MANIFEST_VERSION, "kind": "codec", "codec": codec, "top": CODEC_TOP,
            "verilog": f"{CODEC_TOP}.v", "device": device, "verilog_target": verilog_target,
            "bundle": "bundle/layer", "bundle_sha256": bundle.digest(),
            "source": {"checkpoint": str(Path(checkpoint).resolve()), "layer": layer, "image": image},
            "parameters": parameters,
            "layer": {"channels_in": bundle.channels_in, "components": bundle.components,
                      "channels_out": bundle.channels_out, "bit_a": bundle.bit_a, "height": height, "width": width,
                      "lanes_in": spec.lanes_in, "lanes_out": spec.lanes_out, "pe": spec.pe},
            "cycles": {"bound": spec.cycle_bound, "stages": spec.stage_cycles},
            "max_frame_bytes": spec.part("encoder").max_frame_bytes,
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_codec_manifest(out):
    """The manifest of a generated codec layer, checked against the files it names (a
    :class:`~wccgen.gen.layer.ManifestError` says which changed)."""
    path, manifest = manifest_json(out, "wccgen generate --codec CODEC")
    for key in ("manifest_version", "kind", "codec", "top", "verilog", "device", "verilog_target", "bundle",
                "bundle_sha256", "source", "parameters"):
        if not isinstance(manifest, dict) or key not in manifest:
            raise ManifestError(f"{path}: missing field {key!r}")
    if manifest["manifest_version"] != CODEC_MANIFEST_VERSION or manifest["kind"] != "codec":
        raise ManifestError(f"{path}: not a codec layer's manifest of version {CODEC_MANIFEST_VERSION}")
    if manifest["codec"] not in CODERS or manifest["top"] != CODEC_TOP:
        raise ManifestError(f"{path}: fields 'codec' and 'top' are {manifest['codec']!r} and {manifest['top']!r}")
    if manifest["device"] not in devices.DEVICES or \
            manifest["verilog_target"] != devices.DEVICES[manifest["device"]].verilog_target:
        raise ManifestError(f"{path}: field 'device' {manifest['device']!r} or 'verilog_target' "
                            f"{manifest['verilog_target']!r} is not one wccgen generates for")
    verilog = _inside(out, manifest["verilog"], "verilog", path)
    bundle_path = _inside(out, manifest["bundle"], "bundle", path)
    if not verilog.is_file():
        raise ManifestError(f"{out}: the Verilog {manifest['verilog']!r} named by the manifest is missing")
    bundle = CodecBundle.load(bundle_path, codec=manifest["codec"])
    if bundle.digest() != manifest["bundle_sha256"]:
        raise ManifestError(f"{out}: the bundle {manifest['bundle']!r} changed since generate; generate again")
    if _recorded_parameters(verilog) != manifest["parameters"]:
        raise ManifestError(f"{out}: the manifest's parameters are not those the Verilog {manifest['verilog']!r} "
                            "records: one of them changed since generate; generate again")
    return manifest


def simulate_codec(out, *, image=None, frames=3, seed=0, idle=0.0, backpressure=0.0, waves=False,
                   simulator="auto", progress=lambda message: None):
    """Simulate the layer generated in ``out`` on its activations for ``frames`` noisy held-out photographs
    (``image`` first); compare its output and every internal stream with ``golden.codec_layer``. Writes
    ``<out>/sim/summary.json`` and returns the summary."""
    from ..sim.harness import run_block
    from ..sim.layer_streams import codec_layer_expectation

    check_simulation_options(frames, idle, backpressure)
    manifest = read_codec_manifest(out)
    out = Path(out)
    bundle_path = out / manifest["bundle"]
    bundle = CodecBundle.load(bundle_path, codec=manifest["codec"])
    parameters = manifest["parameters"]
    height, width = parameters["height"], parameters["width"]
    source = manifest["source"]
    model, module = _codec_module(source["checkpoint"], source["layer"], manifest["codec"])
    images = _next_images(image or source["image"], frames)
    progress(f"the layer's input on {', '.join(images)} ({height}x{width}, noisy, seed {seed})")
    inputs = [_input_codes(model, module, name, height, width, seed)[0] for name in images]
    traces, outputs, taps = codec_layer_expectation(bundle, inputs)
    params = {"bundle": str(bundle_path), "height": height, "width": width, "pe": parameters["pe"],
              "lanes_out": parameters["lanes_out"]}
    progress(f"simulating {frames} frame(s) of {manifest['verilog']}")
    started = time.monotonic()
    report = run_block("CodecLayer", params, inputs, outputs, out / "sim", idle=idle,
                       backpressure=backpressure, seed=seed, taps_expected=taps, waves=waves,
                       verilog=out / manifest["verilog"], target=manifest["verilog_target"], simulator=simulator,
                       progress=progress)
    activations = bundle.channels_in * height * width
    spec = CodecLayerSpec(bundle=bundle, height=height, width=width, pe=parameters["pe"],
                          lanes_out=parameters["lanes_out"])
    summary = {
        "command": "simulate", "kind": "codec", "out": str(out), "codec": manifest["codec"],
        "bit_exact": report["passed"], "frames": frames, "images": images,
        "streams_compared": report.get("streams_compared", []),
        "first_mismatch": report.get("mismatch"), "status": report.get("status"),
        "cycles": report.get("cycles_per_frame"), "cycle_bound": spec.cycle_bound, "stage_cycles": spec.stage_cycles,
        "compressed_bits": [int(t.stream_bits) for t in traces],
        "bits_per_activation": round(float(np.mean([t.stream_bits for t in traces])) / activations, 3),
        "uncompressed_bits": activations * bundle.in_bits, "simulator_name": report.get("simulator"),
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / "sim").mkdir(exist_ok=True)
    (out / "sim" / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary
