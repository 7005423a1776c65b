"""Quality against compression of the default model's stages, on held-out photographs.

For every stage (FP32, plain 8/8, 8/4, 8/2 quantization, WCC 8/8 at 50, 25,
12.5 %, selecting by squares or by magnitudes, each compression with LSQ and
with PACT scales) and every seed it was trained with, the denoiser runs on
noisy versions of the held-out photographs; PSNR and SSIM (scikit-image's) of
its output against the clean photograph are averaged over them, then over
the seeds (with their spread). For the WCC stages the generator builds from,
the integer model also runs the whole network as the hardware does, with the
top-k chosen per tile. Bits per
activation are counted over the activations WCC compresses, the inputs of
the 1x1 convolutions: the code width for plain quantization, 32 for float,
and for WCC and the channel codecs (TCI, DCT-CM, CAP) the compressed
stream's real size divided by the activations it holds (WCC: kept codes
plus the bitmap; TCI: Huffman codewords with tables built on the
calibration photographs, their side information counted once per image and
layer; DCT-CM: zero flags plus non-zero codes; CAP: the codes); a second
figure counts the inputs of every inner convolution (the depthwise ones at 8
bits in quantized stages). Multiply-accumulates per pixel of the 1x1 layers
are counted beside the bits.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ..spec.frame import MAX_FRAME_SIDE, padded_size
from .checkpoints import default_checkpoint_dir, load_checkpoint
from .codec_conv import ChannelCodecConv2d
from .huffman import build_table, coded_bits
from .network import integer_network
from .network_export import calibration_images, export_network
from .photographs import grey_photograph
from .processes import in_processes
from .quant_conv import QuantConv2d
from .training import HELD_OUT, MAX_REPLICAS, STAGES, checkpoint_name, noisy, select_stages
from .wcc_conv import WCCConv2d

__all__ = ["TILES", "WHOLE_IMAGE", "activation_bits", "check_tile", "counted_activation_bits", "evaluate",
           "evaluate_and_plot", "noisy_photograph", "psnr_ssim", "replicas_of"]

#: Tile sides the quality table measures the hardware's per-tile selection at, and the whole image.
WHOLE_IMAGE = "image"
TILES = (8, 16, 32, 64, WHOLE_IMAGE)

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


def coded_stream_bits(module, x, tables=None):
    """``(bits, entropy bits)`` of the compressed stream a :class:`ChannelCodecConv2d` makes of its input ``x``.

    TCI: its Huffman codewords under ``tables[module]`` plus the table's side
    information (counted once per image), and the empirical entropy of the
    codes; DCT-CM: one flag per code plus the non-zero codes; CAP: every code
    at its width. The entropy is ``None`` but for TCI.
    """
    codes = module.stream_codes(x)
    if module.codec == "cap":
        return codes.size * module.bit_a, None
    if module.codec == "dctcm":
        return codes.size + int(np.count_nonzero(codes)) * module.bit_a, None
    if not tables or module not in tables:
        raise ValueError("tables: a TCI layer's bits need its Huffman table (see huffman_tables)")
    table = tables[module]
    _, counts = np.unique(codes, return_counts=True)
    entropy = float(-(counts * np.log2(counts / codes.size)).sum())
    return coded_bits(codes, table) + table.side_bits * codes.shape[0], entropy


def huffman_tables(model, images, max_length=12):
    """A Huffman table per TCI layer of ``model``, from the codes of its inputs when the model runs on ``images``."""
    layers = [m for m in model.modules() if isinstance(m, ChannelCodecConv2d) and m.codec == "tci"]
    histograms = {m: {} for m in layers}

    def record(module, inputs):
        codes = module.stream_codes(inputs[0])
        for symbol, count in zip(*np.unique(codes, return_counts=True)):
            histograms[module][int(symbol)] = histograms[module].get(int(symbol), 0) + int(count)

    handles = [m.register_forward_pre_hook(record) for m in layers]
    try:
        with torch.no_grad():
            for image in images:
                model(image[None])
    finally:
        for handle in handles:
            handle.remove()
    return {m: build_table(histograms[m], max_length, m.bit_a) for m in layers}


def pointwise_macs_per_pixel(model):
    """Multiply-accumulates per pixel of the 1x1 convolutions: ``C_in C_out`` plain, ``rate C_in C_out`` for WCC
    (the kept positions' share), the transform and the folded convolution for a channel codec."""
    macs = 0.0
    for module in model.modules():
        if isinstance(module, ChannelCodecConv2d):
            macs += module.macs_per_pixel()
        elif isinstance(module, WCCConv2d):
            macs += module.rate * module.in_channels * module.out_channels
        elif isinstance(module, torch.nn.Conv2d) and module.kernel_size == (1, 1):
            macs += module.in_channels * module.out_channels
    return macs


@contextlib.contextmanager
def counted_activation_bits(model, tables=None):
    """Count, during the forward passes inside the ``with``, the bits and activations entering the model's inner
    layers; yields the dictionary :func:`activation_bits` returns, filled as the passes run. A TCI model needs its
    Huffman ``tables`` (:func:`huffman_tables`)."""
    counts = {"pointwise": [0, 0], "inner": [0, 0], "entropy": [0, 0]}

    def record(module, inputs):
        _, channels, height, width = inputs[0].shape
        activations = channels * height * width * inputs[0].shape[0]
        if isinstance(module, ChannelCodecConv2d):
            bits, entropy = coded_stream_bits(module, inputs[0], tables)
            if entropy is not None:
                counts["entropy"][0] += entropy
                counts["entropy"][1] += activations
        elif isinstance(module, WCCConv2d):
            positions = padded_size(height, module.levels) * padded_size(width, module.levels)
            bits = inputs[0].shape[0] * (channels * module.keep(height, width) * module.bit_a + positions)
        elif isinstance(module, QuantConv2d):
            bits = activations * module.bit_a
        else:
            bits = activations * 32
        pointwise = isinstance(module, (WCCConv2d, ChannelCodecConv2d)) or module.kernel_size == (1, 1)
        for key in ("pointwise", "inner") if pointwise else ("inner",):
            counts[key][0] += bits
            counts[key][1] += activations

    convs = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, WCCConv2d, ChannelCodecConv2d))]
    handles = [m.register_forward_pre_hook(record) for m in convs[1:-1]]
    try:
        yield counts
    finally:
        for handle in handles:
            handle.remove()


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
    with counted_activation_bits(model) as counts, torch.no_grad():
        model(x)
    return {key: tuple(value) for key, value in counts.items()}


def replicas_of(checkpoint_dir, stage):
    """The replicas (seeds) of ``stage`` whose checkpoints are in ``checkpoint_dir``: 0, then 1, 2, ... while found."""
    replicas = [0]
    while replicas[-1] + 1 < MAX_REPLICAS and (Path(checkpoint_dir) / checkpoint_name(stage, replicas[-1] + 1)).is_file():
        replicas.append(replicas[-1] + 1)
    return replicas


def _hardware_tiles(stage):
    """Whether the hardware-as-built columns are measured for ``stage``: the WCC stages the generator builds from."""
    return stage.kind == "wcc" and stage.energy == "square" and stage.quantizer == "lsq"


def _evaluate_one(task):
    """One checkpoint on every photograph: float model, and for WCC stages the integer model per tile size."""
    path, stage, replica, photographs, crop, tiles, threads = task
    torch.set_num_threads(threads)
    model, _, training = load_checkpoint(path, stage)
    images = [noisy_photograph(i, name, crop) for i, name in enumerate(photographs)]
    tables = huffman_tables(model, calibration_images()) if stage.kind == "tci" else None
    per_photo, totals = [], {"pointwise": [0, 0], "inner": [0, 0], "entropy": [0, 0]}
    for (x, clean), name in zip(images, photographs):
        with counted_activation_bits(model, tables) as counts, torch.no_grad():
            out = model(x)
        for key in totals:
            totals[key] = [a + b for a, b in zip(totals[key], counts[key])]
        psnr, ssim = psnr_ssim(out, clean)
        per_photo.append({"photograph": name, "psnr": psnr, "ssim": ssim})
    result = {"replica": replica, "photographs": per_photo, **_means(per_photo),
              "bits": {key: tuple(value) for key, value in totals.items()},
              "macs_per_pixel": pointwise_macs_per_pixel(model),
              "components": [m.components for m in model.modules() if isinstance(m, ChannelCodecConv2d)],
              "steps": training.get("float_steps" if stage.kind == "float" else "tune_steps"),
              "curve": training.get("curve")}
    if tiles and _hardware_tiles(stage):
        calibration = calibration_images()
        result["tiles"] = {}
        for tile in tiles:
            scores = []
            for (x, clean), name in zip(images, photographs):
                size = tuple(x.shape[2:]) if tile == WHOLE_IMAGE else (tile, tile)
                network = export_network(model, size, calibration)
                output = integer_network(network, x[0, 0].numpy()).output
                psnr, ssim = psnr_ssim(torch.from_numpy(output)[None, None], clean)
                scores.append({"photograph": name, "psnr": psnr, "ssim": ssim})
            result["tiles"][str(tile)] = {"photographs": scores, **_means(scores)}
    return result


def _means(scores):
    return {metric: float(np.mean([s[metric] for s in scores])) for metric in ("psnr", "ssim")}


def _spread(values):
    """Mean, sample standard deviation (0 for one value), lowest and highest."""
    values = [float(v) for v in values]
    return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}


def evaluate(checkpoint_dir=None, stages=STAGES, photographs=HELD_OUT, crop=None, tiles=TILES, replicas=None,
             jobs=1, threads=1, progress=None):
    """Evaluate every stage's checkpoints on the held-out photographs (whole, or their central ``crop``).

    Every replica (seed) of a stage found in ``checkpoint_dir`` is evaluated
    (at most ``replicas`` of them, when given). For the WCC stages the
    generator builds from (LSQ, energy by squares) the integer model also
    runs the whole network with the top-k chosen per tile, for each tile side
    in ``tiles`` (``"image"``: one tile as large as the photograph), as the
    hardware computes it. Checkpoints run in ``jobs`` processes of
    ``threads`` PyTorch threads each.

    Returns
    -------
    dict
        ``noisy`` (PSNR and SSIM of the noisy inputs), ``tiles`` and ``rows``:
        per stage its name, label, kind, quantizer, rate, energy, bits per
        activation, PSNR and SSIM (mean over replicas of the mean over the
        photographs), their spread over the replicas, the per-photograph
        means, the per-replica values, and per tile side the integer model's
        PSNR and SSIM with their spread.

    Raises
    ------
    CheckpointError
        A checkpoint is missing or does not match its stage.
    """
    checkpoint_dir = default_checkpoint_dir() if checkpoint_dir is None else checkpoint_dir
    progress = progress or (lambda message: None)
    if crop is not None:
        check_quality_size(crop, crop, "crop")
    tiles = [check_tile(tile) for tile in tiles]
    # Refuse a missing or mismatched checkpoint before spending minutes on the others.
    tasks = []
    for stage in stages:
        found = replicas_of(checkpoint_dir, stage)[:replicas]
        for replica in found:
            path = Path(checkpoint_dir) / checkpoint_name(stage, replica)
            load_checkpoint(path, stage)
            tasks.append((str(path), stage, replica, list(photographs), crop, tiles, threads))
    images = [noisy_photograph(i, name, crop) for i, name in enumerate(photographs)]
    noisy_scores = [psnr_ssim(x, clean) for x, clean in images]
    progress(f"evaluating {len(tasks)} checkpoints in {min(jobs, len(tasks))} process(es)"
             + (f"; integer model with per-tile selection at tiles {', '.join(map(str, tiles))}" if tiles else ""))
    started = time.monotonic()
    results = {}
    for (path, stage, *_), result in zip(tasks, in_processes(_evaluate_one, tasks, jobs)):
        results.setdefault(stage.name, []).append(result)
        progress(f"{stage.label} replica {result['replica']}: PSNR {result['psnr']:.2f} dB, SSIM {result['ssim']:.4f}"
                 + "".join(f", tile {tile} {value['psnr']:.2f} dB" for tile, value in result.get("tiles", {}).items())
                 + f" ({time.monotonic() - started:.0f} s)")
    rows = [_row(stage, results[stage.name], photographs) for stage in stages]
    return {
        "photographs": list(photographs), "crop": crop, "tiles": [str(tile) for tile in tiles],
        "noisy": {"psnr": float(np.mean([s[0] for s in noisy_scores])),
                  "ssim": float(np.mean([s[1] for s in noisy_scores]))},
        "rows": rows,
    }


def _row(stage, replicas, photographs):
    """One stage's row of :func:`evaluate` from its replicas' results."""
    bits = replicas[0]["bits"]
    row = {"stage": stage.name, "label": stage.label, "kind": stage.kind, "bit_a": stage.bit_a,
           "quantizer": stage.quantizer if stage.kind != "float" else None,
           "rate": stage.rate if stage.kind not in ("float", "quant") else None,
           "energy": stage.energy if stage.kind == "wcc" else None,
           "bits_per_activation": float(np.mean([r["bits"]["pointwise"][0] / r["bits"]["pointwise"][1]
                                                 for r in replicas])),
           "bits_per_activation_inner": bits["inner"][0] / bits["inner"][1],
           "macs_per_pixel": float(np.mean([r["macs_per_pixel"] for r in replicas])),
           "seeds": len(replicas)}
    if stage.kind == "tci":
        row["entropy_bits_per_activation"] = float(np.mean([r["bits"]["entropy"][0] / r["bits"]["entropy"][1]
                                                            for r in replicas]))
    for metric in ("psnr", "ssim"):
        spread = _spread([r[metric] for r in replicas])
        row[metric], row[f"{metric}_std"], row[f"{metric}_min"], row[f"{metric}_max"] = (
            spread["mean"], spread["std"], spread["min"], spread["max"])
    row["photographs"] = [{"photograph": name, **{metric: float(np.mean([r["photographs"][i][metric] for r in replicas]))
                                                 for metric in ("psnr", "ssim")}}
                          for i, name in enumerate(photographs)]
    if "tiles" in replicas[0]:
        row["tiles"] = {}
        for tile in replicas[0]["tiles"]:
            values = [r["tiles"][tile] for r in replicas]
            spreads = {metric: _spread([v[metric] for v in values]) for metric in ("psnr", "ssim")}
            row["tiles"][tile] = {
                **{metric: spread["mean"] for metric, spread in spreads.items()},
                **{f"{metric}_std": spread["std"] for metric, spread in spreads.items()},
                "photographs": [{"photograph": name, **{metric: float(np.mean([v["photographs"][i][metric]
                                                                            for v in values]))
                                                        for metric in ("psnr", "ssim")}}
                                for i, name in enumerate(photographs)]}
    row["replicas"] = [{key: value for key, value in r.items() if key != "bits"} for r in replicas]
    return row


def check_tile(tile):
    """A tile side of :func:`evaluate`: a multiple of 8 (3 Haar levels) from 8 to the generator's largest frame,
    or ``"image"``."""
    if tile == WHOLE_IMAGE:
        return tile
    if isinstance(tile, bool) or not isinstance(tile, int) or tile < 8 or tile % 8 or tile > MAX_FRAME_SIDE:
        raise ValueError(f"tiles: each must be a multiple of 8 from 8 to {MAX_FRAME_SIDE}, or {WHOLE_IMAGE!r}, got {tile!r}")
    return tile


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



#: What ``--quick`` evaluates: the central crop of each photograph, one replica, one tile side.
QUICK = {"crop": 64, "replicas": 1, "tiles": (16,)}


def evaluate_and_plot(checkpoint_dir=None, *, photographs=None, crop=None, tiles=TILES, replicas=None, quick=False,
                      jobs=1, plot=None, methods=None, progress=lambda message: None):
    """:func:`evaluate` on ``photographs`` (default: the held-out ones), as a summary; ``quick`` evaluates as
    :data:`QUICK` says (a minute instead of many). With ``plot``, the PSNR/SSIM plot is written there and the
    learning curves beside it (``<plot stem>_curves.png``). ``methods`` chooses the stages
    (:func:`~wccgen.golden.training.select_stages`; default the shipped ones)."""
    photographs = list(photographs or HELD_OUT)
    if quick:
        crop, replicas, tiles = crop or QUICK["crop"], QUICK["replicas"], QUICK["tiles"]
    progress(f"evaluating the checkpoints in {checkpoint_dir or 'the shipped set'} on {', '.join(photographs)}"
             + (f" (central {crop}x{crop})" if crop else ""))
    result = evaluate(checkpoint_dir, select_stages(methods), photographs=photographs, crop=crop, tiles=tiles,
                      replicas=replicas, jobs=jobs, progress=progress)
    summary = {"command": "eval", **result}
    if plot:
        from .report import plot_learning_curves, plot_quality

        curves = Path(plot).with_name(f"{Path(plot).stem}_curves.png")
        plot_quality(result, plot)
        plot_learning_curves(result, curves)
        summary["plot"], summary["curves"] = str(plot), str(curves)
        progress(f"wrote {plot} and {curves}")
    return summary
