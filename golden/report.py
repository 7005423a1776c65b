"""The quality-against-compression table and plot of an evaluation (see :mod:`wccgen.golden.evaluation`)."""

from __future__ import annotations

__all__ = ["plot_learning_curves", "plot_quality", "quality_table"]


def _label(row):
    """The row's label with its bars escaped, for a markdown table cell."""
    return row["label"].replace("|", "\\|")


def _spread(row, metric, digits):
    """``mean ± std`` over the replicas (``mean`` alone for one)."""
    text = f"{row[metric]:.{digits}f}"
    return text + (f" ± {row[f'{metric}_std']:.{digits}f}" if row.get("seeds", 1) > 1 else "")


def quality_table(result):
    """Markdown tables: one row per stage, PSNR and SSIM (mean ± standard deviation over the seeds) against bits per
    activation; then, for the stages measured per tile, the integer model's PSNR with the top-k chosen per tile."""
    lines = [
        f"Denoising (Gaussian noise, sigma 25/255) of {', '.join(result['photographs'])}"
        + (f", central {result['crop']}x{result['crop']}" if result.get("crop") else "")
        + f"; noisy input: PSNR {result['noisy']['psnr']:.2f} dB, SSIM {result['noisy']['ssim']:.4f}",
        "",
        "| model | seeds | bits/activation (1x1 inputs) | bits/activation (all inner layers) | MACs/pixel (1x1 layers) "
        "| PSNR (dB) | SSIM |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(f"| {_label(row)} | {row.get('seeds', 1)} | {row['bits_per_activation']:.3f} "
                     f"| {row['bits_per_activation_inner']:.3f} | {row['macs_per_pixel']:.0f} "
                     f"| {_spread(row, 'psnr', 2)} | {_spread(row, 'ssim', 4)} |")
    coded = [row for row in result["rows"] if "entropy_bits_per_activation" in row]
    if coded:
        lines += ["", "TCI's codes: empirical entropy against the Huffman stream (tables from the calibration "
                  "photographs, their side information counted once per image and layer)", "",
                  "| model | entropy bits/activation | Huffman bits/activation |", "|---|---|---|"]
        lines += [f"| {_label(row)} | {row['entropy_bits_per_activation']:.3f} | {row['bits_per_activation']:.3f} |"
                  for row in coded]
    tiled = [row for row in result["rows"] if row.get("tiles")]
    if tiled:
        tiles = list(tiled[0]["tiles"])
        names = ["whole image" if tile == "image" else f"{tile}x{tile} tiles" for tile in tiles]
        lines += ["", "PSNR (dB) as the hardware computes it: the integer model, top-k chosen per tile "
                  "(whole image: the float model's selection over the photograph)", "",
                  "| model | float model, whole image | " + " | ".join(f"integer, {name}" for name in names) + " |",
                  "|---|---|" + "---|" * len(tiles)]
        for row in tiled:
            lines.append(f"| {_label(row)} | {_spread(row, 'psnr', 2)} | "
                         + " | ".join(_spread({**row["tiles"][tile], "seeds": row["seeds"]}, "psnr", 2)
                                      for tile in tiles) + " |")
    if len(result["photographs"]) > 1:
        lines += ["", "PSNR (dB) per photograph, mean over the seeds", "",
                  "| model | " + " | ".join(result["photographs"]) + " |", "|---|" + "---|" * len(result["photographs"])]
        for row in result["rows"]:
            lines.append(f"| {_label(row)} | " + " | ".join(f"{p['psnr']:.2f}" for p in row["photographs"]) + " |")
    return "\n".join(lines)


def plot_quality(result, path):
    """PSNR and SSIM against bits per activation (1x1 inputs, log scale), one series per method, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = result["rows"]
    parents = [r for r in rows if r["kind"] == "float" or (r["kind"] == "quant" and r["bit_a"] == 8)]
    series = {
        "low-bit quantization, LSQ (8/b)": parents + [r for r in rows if r["kind"] == "quant" and r["bit_a"] < 8
                                                      and r["quantizer"] == "lsq"],
        "WCC 8/8, LSQ codes": [r for r in rows if r["kind"] == "wcc" and r["energy"] == "square"
                               and r["quantizer"] == "lsq"],
        "low-bit quantization, PACT (8/8 parent's clip)": [
            r for r in rows if r["kind"] == "quant" and r["bit_a"] < 8 and r["quantizer"] == "pact"],
        "WCC 8/8, PACT codes": [r for r in rows if r["kind"] == "wcc" and r["energy"] == "square"
                                and r["quantizer"] == "pact"],
        "WCC 8/8, LSQ codes, energy sum of |c|": [r for r in rows if r["kind"] == "wcc" and r["energy"] == "abs"],
        "TCI (PCA, Huffman)": [r for r in rows if r["kind"] == "tci"],
        "DCT-CM (channel DCT, zero flags)": [r for r in rows if r["kind"] == "dctcm"],
        "CAP (learned projection, greedy rows)": [r for r in rows if r["kind"] == "cap"],
    }
    styles = {"low-bit quantization, LSQ (8/b)": ("o", "-"), "WCC 8/8, LSQ codes": ("s", "-"),
              "low-bit quantization, PACT (8/8 parent's clip)": ("o", ":"),
              "WCC 8/8, PACT codes": ("s", ":"), "WCC 8/8, LSQ codes, energy sum of |c|": ("^", "--"),
              "TCI (PCA, Huffman)": ("D", "-."), "DCT-CM (channel DCT, zero flags)": ("v", "-."),
              "CAP (learned projection, greedy rows)": ("P", "-.")}
    figure, axes = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    for axis, metric, name in ((axes[0], "psnr", "PSNR (dB)"), (axes[1], "ssim", "SSIM")):
        for label, members in series.items():
            if not members:
                continue
            marker, line = styles[label]
            members = sorted(members, key=lambda r: r["bits_per_activation"])
            # Error bars: the lowest and highest seed.
            errors = [[r[metric] - r.get(f"{metric}_min", r[metric]) for r in members],
                      [r.get(f"{metric}_max", r[metric]) - r[metric] for r in members]]
            axis.errorbar([r["bits_per_activation"] for r in members], [r[metric] for r in members], yerr=errors,
                          marker=marker, linestyle=line, capsize=3, label=label)
            if label not in ("low-bit quantization, LSQ (8/b)", "WCC 8/8, LSQ codes"):
                continue  # the other series lie near these; the legend names them
            for r in members:
                text = f"{100 * r['rate']:g}%" if r["kind"] == "wcc" else r["label"]
                # WCC's labels above its points, the baseline's below, so that they do not meet.
                axis.annotate(text, (r["bits_per_activation"], r[metric]), fontsize=8,
                              textcoords="offset points", xytext=(4, 6) if r["kind"] == "wcc" else (4, -12))
        axis.set_xscale("log", base=2)
        axis.set_xlabel("bits per activation (inputs of the 1x1 layers)")
        axis.set_ylabel(name)
        axis.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    noisy = result["noisy"]
    figure.suptitle(f"Denoiser on held-out photographs ({', '.join(result['photographs'])}; noisy input "
                    f"{noisy['psnr']:.2f} dB, SSIM {noisy['ssim']:.3f})\nerror bars: lowest and highest of the seeds")
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_learning_curves(result, path):
    """Validation PSNR against fine-tuning step of every compressed stage's seeds, one panel per kind, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = [row for row in result["rows"] if row["kind"] == "wcc" or (row["kind"] == "quant" and row["bit_a"] < 8)]
    panels = {"low-bit quantization": [r for r in rows if r["kind"] == "quant"],
              "WCC": [r for r in rows if r["kind"] == "wcc"]}
    figure, axes = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    for axis, (title, members) in zip(axes, panels.items()):
        for index, row in enumerate(members):
            color = f"C{index % 10}"
            for replica in row["replicas"]:
                curve = replica.get("curve") or []
                axis.plot([point[0] for point in curve], [point[2] for point in curve], color=color, alpha=0.8,
                          label=row["label"] if replica is row["replicas"][0] else None)
        axis.set_title(f"{title}: fine-tuning from 8/8, every seed")
        axis.set_xlabel("fine-tuning step")
        axis.set_ylabel("validation PSNR (dB), 32 training-photograph patches")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7)
    figure.savefig(path, dpi=120)
    plt.close(figure)
