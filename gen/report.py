"""The report of a generated, simulated and synthesized layer: markdown and PNG figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .synth import seeds_text

__all__ = ["write_layer_report"]


def _figures(directory, frames, photograph, summary):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    files = {}
    output, reference, mask = frames["output0"], frames.get("reference0"), frames["mask0"]

    fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
    axes[0].imshow(photograph, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("input photograph (noisy)")
    axes[1].imshow(np.abs(frames["input0"]).mean(axis=0), cmap="magma")
    axes[1].set_title("layer input, mean |code| over channels")
    for axis in axes:
        axis.axis("off")
    files["input"] = _save(fig, directory / "input.png")

    channel = int(np.argmax(output.reshape(output.shape[0], -1).std(axis=1)))
    panels = 3 if reference is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(3.6 * panels, 3.4), squeeze=False)
    axes = axes[0]
    axes[0].imshow(output[channel], cmap="viridis")
    axes[0].set_title(f"hardware output, channel {channel}")
    axes[0].axis("off")
    if reference is not None:
        axes[1].imshow(reference[channel], cmap="viridis", vmin=output[channel].min(), vmax=output[channel].max())
        axes[1].set_title("float PyTorch layer")
        axes[1].axis("off")
        axes[2].plot(reference.ravel(), output.ravel(), ".", markersize=1.5, alpha=0.4)
        low, high = float(reference.min()), float(reference.max())
        axes[2].plot([low, high], [low, high], "k-", linewidth=0.8)
        axes[2].set_xlabel("float layer (output LSBs)")
        axes[2].set_ylabel("hardware (codes)")
        axes[2].set_title(f"all channels, max |diff| {np.abs(output - reference).max():.2f} LSB", fontsize=9)
    files["output"] = _save(fig, directory / "output_vs_float.png")

    fig, axis = plt.subplots(figsize=(3.6, 3.6))
    axis.imshow(mask, cmap="gray_r", interpolation="nearest")
    axis.set_title(f"kept positions ({int(mask.sum())} of {mask.size}), Mallat layout", fontsize=9)
    axis.axis("off")
    files["bitmap"] = _save(fig, directory / "kept_bitmap.png")

    stages = summary["stage_cycles"]
    fig, axis = plt.subplots(figsize=(6, 3.2))
    axis.bar(list(stages), list(stages.values()), color="tab:blue")
    if summary.get("cycles"):
        axis.axhline(summary["cycles"], color="tab:red", linestyle="--",
                     label=f"measured frame interval {summary['cycles']:g}")
        axis.legend(fontsize=8)
    axis.set_ylabel("cycles per frame")
    axis.set_title("cycles each stage needs per frame")
    axis.tick_params(axis="x", labelsize=8)
    files["cycles"] = _save(fig, directory / "cycles.png")
    return files


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path.name


def _network_section(directory, network):
    """The report's headline: the whole network's denoised photograph out of the simulated Verilog."""
    def inside(path):
        return Path(path).resolve().relative_to(Path(directory).resolve())

    figure, denoised = inside(network["files"]["figure"]), inside(network["files"]["denoised"])
    verdict = "every WCC layer bit-exact on every tile" if network["bit_exact"] else "**NOT bit-exact**"
    same = "the same image as" if network["hardware_equals_integer_model"] else "**not** the image of"
    psnr, ssim = network["psnr"], network["ssim"]
    names = {"noisy": "noisy input", "float": "float PyTorch model", "integer": "integer model",
             "hardware": "generated Verilog (simulated)"}
    lines = [
        "## The whole network: a noisy photograph in, the denoised photograph out of the simulated Verilog",
        "",
        f"![the whole network]({figure})",
        "",
        f"{network['size'][0]}x{network['size'][1]} pixels, {network['grid'][0] * network['grid'][1]} tiles per "
        f"WCC layer; {network['layers']} WCC layers on {len(network['engines'])} engines ("
        + ", ".join(f"{engine['name']}: {', '.join(engine['layers'])}, PE {engine['parameters']['pe']} x SIMD "
                    f"{engine['parameters']['simd']}" for engine in network["engines"])
        + f"). {verdict}; the hardware's output is {same} the integer model. The head and tail (float 3x3), the "
        "depthwise 3x3 layers, ReLU6 and the residual adds run in the integer model between the WCC layers.",
        "",
        "| output | PSNR (dB) | SSIM |",
        "|---|---|---|",
        *(f"| {names[name]} | {psnr[name]:.2f} | {ssim[name]:.3f} |" for name in names if name in psnr),
        "",
        f"{network['simulated_cycles']} cycles simulated in {network['seconds']:.0f} s"
        + (f" ({network['build_seconds']:.0f} s of them simulator builds)" if network["build_seconds"] else "")
        + f". The denoised photograph alone: `{denoised}`.",
        "",
    ]
    return lines


def write_layer_report(directory, *, manifest, simulation, synthesis=None, rates=None, photograph=None,
                       network=None):
    """Write ``report.md`` and its figures into ``directory``; return the report's path.

    Parameters
    ----------
    directory : path
        The generated layer's directory (its ``sim/frames.npz`` is read).
    manifest, simulation, synthesis : dict
        What ``generate``, ``simulate`` and ``synth`` returned (``synthesis`` may be ``None``).
    rates : dict, optional
        The integer model's figures at several keep rates (``wccgen demo``).
    network : dict, optional
        The whole network's run on a photograph (``wccgen demo``): the report's headline.
    photograph : numpy.ndarray, optional
        The grey input photograph (H, W) in [0, 1].
    """
    directory = Path(directory)
    with np.load(directory / "sim" / "frames.npz") as stored:
        frames = {key: stored[key] for key in stored.files}
    if photograph is None:
        photograph = np.zeros(frames["input0"].shape[1:])
    figures = _figures(directory, frames, photograph, simulation)
    cfg = manifest["parameters"]["config"]
    params = manifest["parameters"]
    name = manifest['source'].get('layer') or 'bundle'
    lines = [f"# The whole network, and its WCC layer `{name}`, in hardware", "", *_network_section(directory, network),
             f"## WCC layer `{name}`"] if network else [f"# WCC layer `{name}` in hardware"]
    lines += [
        "",
        f"{cfg['channels_in']} -> {cfg['channels_out']} channels, {cfg['height']}x{cfg['width']} pixels, "
        f"{cfg['levels']} Haar levels, keep rate {cfg['rate']:g} ({simulation['kept_positions']} of "
        f"{simulation['positions']} positions), {cfg['bit_w']}-bit weights, {cfg['bit_a']}-bit codes; "
        f"PE {params['pe']} x SIMD {params['simd']}, {params['lanes_in']} channels per input beat, "
        f"{params['lanes_out']} per output beat. Verilog: `{manifest['verilog']}` ({manifest['device']}).",
        "",
        f"## Simulation ({simulation.get('simulator_name', 'simulator')}, the generated Verilog in the HDL testbench)",
        "",
        f"- **{'bit-exact' if simulation['bit_exact'] else 'MISMATCH'}** against the integer model on "
        f"{simulation['frames']} frame(s) of real activations ({', '.join(simulation['images'])}) and "
        f"{simulation.get('coverage_frames', 0)} coverage frame(s); streams compared: "
        f"{', '.join(simulation['streams_compared'])}; mismatching streams: {simulation['mismatches']}.",
    ]
    if "verilog_from_bundle" in simulation:
        lines.append("- the Verilog is the text the bundle generates" if simulation["verilog_from_bundle"] else
                     f"- **the Verilog is not the one the bundle generates**: "
                     f"{simulation['verilog_difference']['message']}")
    if "coverage" in simulation:
        coverage = simulation["coverage"]
        shares = ", ".join(f"{name.replace('_', ' ')} {coverage[name]['caught']}/{coverage[name]['total']}"
                           for name in ("weights", "quantizer", "requantizer", "code_extremes"))
        lines.append(f"- corruptions the simulated frames reveal (docs/verification.md): {shares}.")
    if simulation["first_mismatch"]:
        lines.append(f"- first mismatch: {simulation['first_mismatch']['message']}")
    lines += [
        f"- frame interval {simulation['cycles']} cycles; bound (slowest stage) {simulation['cycle_bound']}; "
        f"latency (last input beat to first output beat) {simulation['latency']} cycles.",
        f"- compressed frame {simulation['compressed_bits']} bits against {simulation['uncompressed_bits']} bits "
        f"stored plainly ({simulation['uncompressed_bits'] / simulation['compressed_bits']:.2f}x less traffic).",
    ]
    if "simulated_cycles" in simulation:
        build = ("taken from the cache" if simulation["build_cached"]
                 else f"built in {simulation['build_seconds']:.0f} s")
        lines.append(f"- {simulation['simulated_cycles']} cycles simulated in {simulation['run_seconds']:.1f} s "
                     f"(the simulator {build}).")
    if simulation.get("max_float_difference_lsb") is not None:
        lines.append(f"- largest distance from the float PyTorch layer: {simulation['max_float_difference_lsb']:.3f} "
                     "output LSB.")
    lines += ["", "| stage | cycles per frame |", "|---|---|"]
    lines += [f"| {name} | {cycles} |" for name, cycles in simulation["stage_cycles"].items()]
    lines += ["", "## Synthesis", ""]
    if synthesis:
        lines.append(f"{synthesis['target']}: {synthesis['luts']} LUTs, {synthesis['ffs']} FFs, {synthesis['dsps']} "
                     f"DSPs, {synthesis['brams']} block RAMs; Fmax **{synthesis['fmax_mhz']} MHz** (nextpnr, "
                     f"constraint {synthesis['clock_constraint_mhz']:g} MHz){seeds_text(synthesis)}.")
    else:
        lines.append("Not run (`--no-synth`).")
    if rates:
        lines += ["", f"## The integer model at other keep rates ({rates['height']}x{rates['width']}, "
                  f"'{rates['image']}')", "",
                  "| rate | kept | energy kept | stored bits | bits/activation | ratio | MACs | |int - float| | "
                  "denoised PSNR |", "|---|---|---|---|---|---|---|---|---|"]
        for r in rates["results"]:
            lines.append(f"| {r['rate']:g} | {r['kept_positions']}/{r['positions']} | {100 * r['energy_kept']:.2f} % | "
                         f"{r['compressed_bits']} | {r['bits_per_activation']:.3f} | {r['compression_ratio']:.2f}x | "
                         f"{100 * r['macs'] / r['dense_macs']:.1f} % | {r['max_float_difference_lsb']:.3f} LSB | "
                         f"{r['denoised_psnr']:.2f} dB |")
    lines += ["", "## Figures", ""]
    titles = {"input": "Input", "output": "Hardware output against the float layer", "bitmap": "Kept positions",
              "cycles": "Cycles per stage"}
    lines += [f"![{titles[key]}]({name})" for key, name in figures.items()]
    path = directory / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
