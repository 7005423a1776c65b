"""Quality against compression of the default model's stages, on held-out photographs.

For every stage (FP32, plain 8/8, 8/4, 8/2 quantization, WCC 8/8 at 50, 25,
12.5 %, selecting by squares or by magnitudes) the denoiser runs on noisy
versions of the held-out photographs; PSNR and SSIM (scikit-image's) of its
output against the clean photograph are averaged over them. Bits per
activation are counted over the activations WCC compresses, the inputs of
the 1x1 convolutions: the code width for plain quantization, 32 for float,
and for WCC the compressed stream's real size (kept codes plus the bitmap)
divided by the activations it holds; a second figure counts the inputs of
every inner convolution (the depthwise ones at 8 bits in quantized stages).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ..spec.frame import padded_size
from .checkpoints import default_checkpoint_dir, load_checkpoint
from .photographs import grey_photograph
from .quant_conv import QuantConv2d
from .training import HELD_OUT, STAGES, noisy
from .wcc_conv import WCCConv2d

__all__ = ["activation_bits", "evaluate", "evaluate_and_plot", "noisy_photograph", "psnr_ssim"]

#: Seed of the noise added to the held-out photograph number ``i`` is ``NOISE_SEED + i``.
NOISE_SEED = 1000


def noisy_photograph(index, name, crop=None):
    """``(noisy, clean)`` grey tensors (1, 1, H, W) of a held-out photograph; the noise is seeded by ``index``.

    ``crop``, when given, keeps the central ``crop x crop`` pixels.
    """
    clean = grey_photograph(name)
    if crop is not None:
        top, left = (clean.shape[2] - crop) // 2, (clean.shape[3] - crop) // 2
        clean = clean[:, :, top:top + crop, left:left + crop].contiguous()
    return noisy(clean, torch.Generator().manual_seed(NOISE_SEED + index)), clean


def activation_bits(model, x):
    """Bits and activations entering the model's inner layers on input ``x``.

    A :class:`WCCConv2d` input counts its compressed stream (``C * k *
    bit_a`` code bits plus one bitmap bit per position), a
    :class:`QuantConv2d` input ``bit_a`` bits per activation, a float
    convolution's input 32. The first and last convolutions do not count.

    Returns
    -------
    dict
        ``pointwise`` and ``inner``, each ``(bits, activations)``: the inputs
        of the 1x1 convolutions (the activations WCC compresses), and those of
        every inner convolution.
    """
    counts = {"pointwise": [0, 0], "inner": [0, 0]}

    def record(module, inputs):
        _, channels, height, width = inputs[0].shape
        activations = channels * height * width
        if isinstance(module, WCCConv2d):
            positions = padded_size(height, module.levels) * padded_size(width, module.levels)
            bits = channels * module.keep(height, width) * module.bit_a + positions
        elif isinstance(module, QuantConv2d):
            bits = activations * module.bit_a
        else:
            bits = activations * 32
        pointwise = isinstance(module, WCCConv2d) or module.kernel_size == (1, 1)
        for key in ("pointwise", "inner") if pointwise else ("inner",):
            counts[key][0] += bits
            counts[key][1] += activations

    convs = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, WCCConv2d))]
    handles = [m.register_forward_pre_hook(record) for m in convs[1:-1]]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {key: tuple(value) for key, value in counts.items()}


def evaluate(checkpoint_dir=None, stages=STAGES, photographs=HELD_OUT, crop=None, progress=None):
    """Evaluate every stage's checkpoint on the held-out photographs (whole, or their central ``crop``).

    Returns
    -------
    dict
        ``noisy`` (PSNR and SSIM of the noisy inputs) and ``rows``: per stage
        its name, label, kind, rate, energy, bits per activation, mean PSNR
        and SSIM, and the per-photograph values.

    Raises
    ------
    CheckpointError
        A checkpoint is missing or does not match its stage.
    """
    checkpoint_dir = default_checkpoint_dir() if checkpoint_dir is None else checkpoint_dir
    if crop is not None:
        check_quality_size(crop, crop, "crop")
    # Refuse a missing or mismatched checkpoint before spending minutes on the others.
    models = {}
    for stage in stages:
        model, _, _ = load_checkpoint(f"{checkpoint_dir}/{stage.name}.pt", stage)
        models[stage.name] = model
    images = [noisy_photograph(i, name, crop) for i, name in enumerate(photographs)]
    noisy_scores = [psnr_ssim(x, clean) for x, clean in images]
    rows = []
    started = time.monotonic()
    for stage in stages:
        model = models[stage.name]
        per_photo, totals = [], {"pointwise": [0, 0], "inner": [0, 0]}
        for (x, clean), name in zip(images, photographs):
            with torch.no_grad():
                out = model(x)
            psnr, ssim = psnr_ssim(out, clean)
            for key, (bits, activations) in activation_bits(model, x).items():
                totals[key][0] += bits
                totals[key][1] += activations
            per_photo.append({"photograph": name, "psnr": psnr, "ssim": ssim})
        row = {"stage": stage.name, "label": stage.label, "kind": stage.kind, "bit_a": stage.bit_a,
               "rate": stage.rate if stage.kind == "wcc" else None,
               "energy": stage.energy if stage.kind == "wcc" else None,
               "bits_per_activation": totals["pointwise"][0] / totals["pointwise"][1],
               "bits_per_activation_inner": totals["inner"][0] / totals["inner"][1],
               "psnr": float(np.mean([p["psnr"] for p in per_photo])),
               "ssim": float(np.mean([p["ssim"] for p in per_photo])), "photographs": per_photo}
        rows.append(row)
        if progress is not None:
            progress(f"{stage.label}: {row['bits_per_activation']:.3f} bits/activation, PSNR {row['psnr']:.2f} dB, "
                     f"SSIM {row['ssim']:.4f} ({time.monotonic() - started:.0f} s)")
    return {
        "photographs": list(photographs), "crop": crop,
        "noisy": {"psnr": float(np.mean([s[0] for s in noisy_scores])),
                  "ssim": float(np.mean([s[1] for s in noisy_scores]))},
        "rows": rows,
    }


#: Smallest side of a photograph whose quality is measured: SSIM's 7x7 window must fit in it.
MIN_QUALITY_SIDE = 7


def check_quality_size(height, width, option):
    """Raise a ``ValueError`` naming ``option`` unless a ``height`` x ``width`` photograph can have its SSIM."""
    if min(height, width) < MIN_QUALITY_SIDE:
        raise ValueError(f"{option}: a photograph whose PSNR and SSIM are measured must be at least "
                         f"{MIN_QUALITY_SIDE}x{MIN_QUALITY_SIDE} (SSIM's window), got {height}x{width}")


def psnr_ssim(output, clean):
    """PSNR (dB) and SSIM of ``output`` clipped to [0, 1] against ``clean``."""
    got = torch.clamp(output, 0.0, 1.0)[0, 0].double().numpy()
    want = clean[0, 0].double().numpy()
    return (float(peak_signal_noise_ratio(want, got, data_range=1.0)),
            float(structural_similarity(want, got, data_range=1.0)))



def evaluate_and_plot(checkpoint_dir=None, *, photographs=None, crop=None, plot=None, progress=lambda message: None):
    """:func:`evaluate` on ``photographs`` (default: the held-out ones), as a summary; with ``plot``, the PSNR/SSIM
    plot written there."""
    photographs = list(photographs or HELD_OUT)
    progress(f"evaluating the checkpoints in {checkpoint_dir or 'the shipped set'} on {', '.join(photographs)}"
             + (f" (central {crop}x{crop})" if crop else ""))
    result = evaluate(checkpoint_dir, photographs=photographs, crop=crop, progress=progress)
    summary = {"command": "eval", **result}
    if plot:
        from .report import plot_quality

        plot_quality(result, plot)
        summary["plot"] = str(plot)
        progress(f"wrote {plot}")
    return summary
