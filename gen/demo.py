"""The demo: the default model's whole network denoising a photograph through its simulated Verilog, and one of
its WCC layers generated, simulated, synthesized and reported, with the keep-rate table."""

from __future__ import annotations

from pathlib import Path

from .rates import DEFAULT_RATES, check_rate_available, rates_table

__all__ = ["demo"]

#: Facts of the simulation the demo's summary carries.
SIMULATION_KEYS = ("bit_exact", "verilog_from_bundle", "mismatches", "first_mismatch", "cycles", "cycle_bound",
                   "latency", "compressed_bits", "uncompressed_bits", "max_float_difference_lsb", "frames", "images",
                   "coverage_frames", "coverage", "simulator", "simulated_cycles", "run_seconds", "build_seconds",
                   "build_cached")
#: Facts of the synthesis the demo's summary carries.
SYNTHESIS_KEYS = ("luts", "ffs", "dsps", "brams", "fmax_mhz", "seed", "fmax_by_seed")
#: The device the demo synthesizes for.
DEMO_DEVICE = "ecp5-85f"
#: Facts of the network's simulation the demo's summary carries.
NETWORK_KEYS = ("bit_exact", "hardware_equals_integer_model", "size", "grid", "psnr", "ssim", "simulated_cycles",
                "seconds", "build_seconds", "files")


def demo(out, *, image="astronaut", hw_size=(16, 16), hw_rate=0.25, frames=3, simulator="auto", synthesize=True,
         seeds=1, size=(96, 128), rates=DEFAULT_RATES, layer="blocks.0.expand", checkpoints=None, seed=0,
         network=True, force=False, progress=lambda message: None):
    """Denoise a noisy ``image`` at ``size`` with the whole network of the default model's WCC ``hw_rate``
    checkpoint, its WCC layers in simulated Verilog (``hw_size`` tiles; unless ``network`` is false); generate,
    simulate and synthesize its layer ``layer`` at ``hw_size``; compute the keep-rate table at ``size``; write
    ``<out>/report.md``. Returns the summary.

    ``out`` must be empty (or absent) unless ``force``, which replaces what it holds."""
    from .. import golden
    from ..golden.checkpoints import default_checkpoint_dir
    from ..golden.evaluation import check_quality_size
    from .layer import check_output_directory, check_simulation_options, generate, layer_from_checkpoint, simulate
    from .network import generate_network, simulate_network
    from .options import check_frame_size
    from .report import write_layer_report
    from .synth import synthesize as place_and_route
    from .synth import tool_timeout_minutes

    stage = check_rate_available(hw_rate, "hw-rate")
    for rate in rates:
        check_rate_available(rate)
    check_simulation_options(frames, 0.0, 0.0)
    height, width = check_frame_size(hw_size, "hw-size")
    check_quality_size(*size, "size")  # the table's and the network's photograph, measured at the end
    if synthesize:
        tool_timeout_minutes()  # the place and route's limit, refused now rather than after the simulation
    out = check_output_directory(out, force)
    checkpoint = Path(checkpoints or default_checkpoint_dir()) / f"{stage.name}.pt"
    progress(f"1/5 generate: layer {layer} of {checkpoint.name}, {height}x{width}, into {out}")
    source = layer_from_checkpoint(checkpoint, layer, height, width, image=image, seed=seed)
    manifest = generate(source, out, device=DEMO_DEVICE, force=True, progress=progress)
    progress("2/5 simulate")
    simulation = simulate(out, frames=frames, seed=seed, simulator=simulator, progress=progress)
    synthesis = None
    if synthesize:
        progress(f"3/5 synthesize for {DEMO_DEVICE} (Yosys, nextpnr: several minutes)")
        synthesis = place_and_route(out / manifest["verilog"], manifest["top"], out / "synth" / DEMO_DEVICE,
                                    target=DEMO_DEVICE, seeds=range(1, seeds + 1))
    else:
        progress("3/5 synthesis skipped")
    denoised = None
    if network:
        progress(f"4/5 the whole network: {image} at {size[0]}x{size[1]} with noise, every WCC layer's tiles "
                 "through the generated Verilog")
        network_manifest = generate_network(checkpoint, out / "network", size=(height, width), device=DEMO_DEVICE,
                                            progress=progress)
        run = simulate_network(out / "network", image=image, size=size, seed=seed, simulator=simulator,
                               progress=progress)
        denoised = {**{key: run[key] for key in NETWORK_KEYS}, "layers": len(run["layers"]),
                    "engines": [{key: engine[key] for key in ("name", "layers", "parameters")}
                                for engine in network_manifest["engines"]]}
    else:
        progress("4/5 the whole network skipped")
    progress("5/5 the integer model at each keep rate, and the report")
    table = rates_table(image=image, size=size, rates=rates, layer=layer, checkpoints=checkpoints, seed=seed,
                        progress=progress)
    photograph = golden.grey_photograph(image, height, width)[0, 0].numpy()
    report = write_layer_report(out, manifest=manifest, simulation=simulation, synthesis=synthesis, rates=table,
                                photograph=photograph, network=denoised)
    return {
        "command": "demo",
        "out": str(out),
        "report": str(report),
        "layer": layer,
        "checkpoint": str(checkpoint),
        "image": image,
        "hw_size": [height, width],
        "hw_rate": hw_rate,
        **{key: simulation[key] for key in SIMULATION_KEYS},
        "target": DEMO_DEVICE if synthesis else None,
        **({key: synthesis[key] for key in SYNTHESIS_KEYS} if synthesis else {}),
        "rates": table,
        "network": denoised,
    }
