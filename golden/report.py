"""The quality-against-compression table and plot of an evaluation (see :mod:`wccgen.golden.evaluation`)."""

from __future__ import annotations

__all__ = ["plot_quality", "quality_table"]


def quality_table(result):
    """A markdown table: one row per stage, PSNR and SSIM against bits per activation."""
    lines = [
        f"Denoising (Gaussian noise, sigma 25/255) of {', '.join(result['photographs'])}"
        + (f", central {result['crop']}x{result['crop']}" if result.get("crop") else "")
        + f"; noisy input: PSNR {result['noisy']['psnr']:.2f} dB, SSIM {result['noisy']['ssim']:.4f}",
        "",
        "| model | bits/activation (1x1 inputs) | bits/activation (all inner layers) | PSNR (dB) | SSIM |",
        "|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(f"| {row['label']} | {row['bits_per_activation']:.3f} | {row['bits_per_activation_inner']:.3f} "
                     f"| {row['psnr']:.2f} | {row['ssim']:.4f} |")
    return "\n".join(lines)


def plot_quality(result, path):
    """PSNR and SSIM against bits per activation (1x1 inputs, log scale), one series per method, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    series = {
        "plain quantization (8/b)": [r for r in result["rows"] if r["kind"] in ("float", "quant")],
        "WCC 8/8, energy sum of squares": [r for r in result["rows"] if r["kind"] == "wcc" and r["energy"] == "square"],
        "WCC 8/8, energy sum of |c|": [r for r in result["rows"] if r["kind"] == "wcc" and r["energy"] == "abs"],
    }
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for axis, metric, name in ((axes[0], "psnr", "PSNR (dB)"), (axes[1], "ssim", "SSIM")):
        for (label, rows), marker in zip(series.items(), ("o", "s", "^")):
            if not rows:
                continue
            rows = sorted(rows, key=lambda r: r["bits_per_activation"])
            axis.plot([r["bits_per_activation"] for r in rows], [r[metric] for r in rows], marker=marker,
                      label=label)
            if marker == "^":
                continue  # the |c| variant lies on top of the squares one; the legend names it
            for r in rows:
                text = f"{100 * r['rate']:g}%" if r["kind"] == "wcc" else r["label"]
                axis.annotate(text, (r["bits_per_activation"], r[metric]), fontsize=8,
                              textcoords="offset points", xytext=(4, 5))
        axis.axhline(result["noisy"][metric], color="grey", linestyle=":", label="noisy input")
        axis.set_xscale("log", base=2)
        axis.set_xlabel("bits per activation (inputs of the 1x1 layers)")
        axis.set_ylabel(name)
        axis.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.suptitle(f"Denoiser on held-out photographs ({', '.join(result['photographs'])})")
    figure.savefig(path, dpi=120)
    plt.close(figure)
