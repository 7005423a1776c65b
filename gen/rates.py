"""The keep-rate table: one WCC layer of the default model on a real photograph, at several keep rates.

For each rate: the float layer of that rate's checkpoint, its export, and the
integer model; what a compressed frame stores, how much of the energy it
keeps, how far the integers are from the float layer, and how well the whole
model denoises.
"""

from __future__ import annotations

__all__ = ["DEFAULT_RATES", "rates_table", "wcc_stages"]

#: Keep rates of the table by default.
DEFAULT_RATES = (0.5, 0.25, 0.125)


def wcc_stages():
    """The default model's WCC checkpoints (sum-of-squares energy, LSQ coefficient codes), by keep rate."""
    from ..golden.training import STAGES

    return {stage.rate: stage for stage in STAGES
            if stage.kind == "wcc" and stage.energy == "square" and stage.quantizer == "lsq"}


def check_rate_available(rate, option="rates"):
    """The default model's WCC stage of keep rate ``rate``, or a ``ValueError`` naming ``option``."""
    stages = wcc_stages()
    if rate not in stages:
        raise ValueError(f"{option}: the default model has WCC checkpoints for "
                         f"{', '.join(f'{r:g}' for r in stages)}; got {rate:g}")
    return stages[rate]


def rates_table(*, image="astronaut", size=(96, 128), rates=DEFAULT_RATES, layer="blocks.0.expand",
                checkpoints=None, seed=0, progress=lambda message: None):
    """The table as a dict: the photograph, the layer, and one row per keep rate (see the module)."""
    import numpy as np
    import torch

    from .. import golden
    from ..golden.checkpoints import default_checkpoint_dir, load_checkpoint
    from ..golden.denoiser import Denoiser
    from ..golden.evaluation import check_quality_size, psnr_ssim
    from ..golden.training import noisy
    from .layer import layer_input

    stages = {rate: check_rate_available(rate) for rate in rates}
    height, width = size
    check_quality_size(height, width, "size")
    progress(f"photograph {image!r} at {height}x{width}, grey, with noise (sigma 25/255, seed {seed})")
    clean = golden.grey_photograph(image, height, width)
    x = noisy(clean, torch.Generator().manual_seed(seed))
    directory = checkpoints or default_checkpoint_dir()
    results = []
    for rate in rates:
        stage = stages[rate]
        progress(f"rate {rate:g}: checkpoint {stage.name}, layer {layer}: float layer, export, integer model")
        model, _, _ = load_checkpoint(f"{directory}/{stage.name}.pt", stage)
        if layer not in model.wcc_layers:
            raise ValueError(f"layer: {layer!r} is not a WCC layer of the default model; its WCC layers are "
                             f"{', '.join(model.wcc_layers)}")
        module = model.get_submodule(layer)
        denoised, features = layer_input(model, module, x)
        activation = Denoiser.activation_after(layer)
        scale = golden.calibrate_output_scale(module, features, activation=activation)
        bundle = golden.export_layer(module, height, width, output_scale=scale, activation=activation,
                                     name=f"{stage.name}.{layer}")
        with torch.no_grad():
            reference = (golden.apply_tail(module(features), activation=activation) / scale).double().numpy()[0]
        trace = golden.wcc_layer(golden.input_codes(module, features)[0], bundle)
        cfg = bundle.config
        orthonormal_energy = trace.energy.astype(np.float64)
        psnr, ssim = psnr_ssim(denoised, clean)
        results.append({
            "rate": rate,
            "checkpoint": stage.name,
            "positions": cfg.positions,
            "kept_positions": cfg.keep,
            "kept_per_level": {str(level): int(count) for level, count in zip(
                *np.unique(golden.level_map(cfg.padded_height, cfg.padded_width, cfg.levels)[trace.mask],
                           return_counts=True))},
            "energy_kept": float(orthonormal_energy[trace.mask].sum() / max(orthonormal_energy.sum(), 1.0)),
            "compressed_bits": cfg.compressed_bits,
            "stream_bytes": int(trace.stream.size),
            "uncompressed_bits": cfg.uncompressed_bits,
            "bits_per_activation": cfg.bits_per_activation,
            "compression_ratio": cfg.uncompressed_bits / cfg.compressed_bits,
            "macs": cfg.macs,
            "dense_macs": cfg.channels_in * cfg.channels_out * height * width,
            "max_float_difference_lsb": float(np.abs(trace.output - reference).max()),
            "denoised_psnr": psnr,
            "denoised_ssim": ssim,
        })
    noisy_psnr, _ = psnr_ssim(x, clean)
    return {
        "image": image,
        "height": height,
        "width": width,
        "layer": layer,
        "channels_in": cfg.channels_in,
        "channels_out": cfg.channels_out,
        "levels": cfg.levels,
        "bit_w": cfg.bit_w,
        "bit_a": cfg.bit_a,
        "noisy_psnr": noisy_psnr,
        "network": "the default model: a denoiser of MobileNetV2 inverted residual blocks, trained on skimage.data "
                   "photographs (docs/results.md)",
        "results": results,
    }
