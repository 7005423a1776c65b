"""The human summaries of the ``wccgen`` commands: each prints the dict its command returns."""

from __future__ import annotations

__all__ = ["print_bitstream", "print_demo", "print_eval", "print_generate", "print_rates_table", "print_simulate",
           "print_synth", "print_train"]


def print_rates_table(summary):
    print(f"WCC layer {summary['layer']} of the default model on {summary['image']!r} ({summary['height']}x"
          f"{summary['width']}, {summary['channels_in']} -> {summary['channels_out']} channels, {summary['levels']} "
          f"Haar levels, {summary['bit_w']}-bit weights, {summary['bit_a']}-bit codes)")
    print(f"  network: {summary['network']}")
    header = (f"  {'rate':>6} {'kept':>11} {'energy kept':>11} {'stored bits':>11} {'bits/act':>8} {'ratio':>6} "
              f"{'MACs':>7} {'|int-float|':>11} {'denoised':>9}")
    print(header)
    for r in summary["results"]:
        print(f"  {r['rate']:>6.3f} {r['kept_positions']:>5}/{r['positions']:<5} {100 * r['energy_kept']:>10.2f}% "
              f"{r['compressed_bits']:>11} {r['bits_per_activation']:>8.3f} {r['compression_ratio']:>5.2f}x "
              f"{100 * r['macs'] / r['dense_macs']:>6.1f}% {r['max_float_difference_lsb']:>8.3f} LSB "
              f"{r['denoised_psnr']:>6.2f} dB")
    print("  stored bits = channels * kept * bit_a + bitmap; plain storage is "
          f"{summary['results'][0]['uncompressed_bits']} bits at 8 bits per activation; denoised = PSNR of the "
          f"whole model's output (noisy input: {summary['noisy_psnr']:.2f} dB)")

def print_generate(summary):
    if summary.get("kind") == "network":
        return _print_network_generate(summary)
    if summary.get("kind") == "codec":
        return _print_codec_generate(summary)
    if "layers" in summary:  # every converted layer of a model of one's own
        for name, directory in summary["layers"].items():
            print(f"wrote {directory}: layer {name}")
        for name, why in summary["skipped"].items():
            print(f"  left as it was (runs in software): {name} {why}")
        return None
    cfg = summary["parameters"]["config"]
    print(f"wrote {summary['out']}/{summary['verilog']} ({summary['device']}), the bundle, "
          f"{len(summary['memories']['files'])} memory files and manifest.json")
    print(f"  layer: {cfg['channels_in']} -> {cfg['channels_out']} channels, {cfg['height']}x{cfg['width']}, "
          f"{cfg['levels']} levels, rate {cfg['rate']:g}; PE {summary['parameters']['pe']} x SIMD "
          f"{summary['parameters']['simd']}")
    print(f"  cycles per frame: bound {summary['cycles']['bound']} (slowest stage of "
          + ", ".join(f"{k} {v}" for k, v in summary["cycles"]["stages"].items()) + ")")

def _print_codec_generate(summary):
    layer = summary["layer"]
    print(f"wrote {summary['out']}/{summary['verilog']} ({summary['device']}), the {summary['codec']} bundle and "
          "manifest.json")
    print(f"  layer: {layer['channels_in']} -> {layer['components']} coefficients -> {layer['channels_out']} "
          f"channels, {layer['height']}x{layer['width']}, {layer['bit_a']}-bit codes; consumer PE {layer['pe']}")
    print(f"  cycles per frame: bound {summary['cycles']['bound']} (slowest stage of "
          + ", ".join(f"{k} {v}" for k, v in summary["cycles"]["stages"].items()) + f"); a coded frame is at most "
          f"{summary['max_frame_bytes']} bytes")


def _print_codec_simulate(summary):
    verdict = "bit-exact" if summary["bit_exact"] else "MISMATCH"
    print(f"{verdict}: {summary['frames']} frame(s) ({', '.join(summary['images'])}) through the {summary['codec']} "
          f"layer, streams compared: {', '.join(summary['streams_compared'])}")
    if summary["first_mismatch"]:
        print(f"  first mismatch: {summary['first_mismatch']['message']}")
    interval = summary["cycles"] if summary["cycles"] is not None else "not measured (too few frames)"
    print(f"  cycles per frame {interval} (bound {summary['cycle_bound']}); coded frames "
          f"{', '.join(map(str, summary['compressed_bits']))} bits, {summary['bits_per_activation']} bits per "
          f"activation ({summary['uncompressed_bits']} uncompressed)")
    print(f"  report: {summary['out']}/sim/summary.json")


def _share(part):
    return f"{part['caught']}/{part['total']}"

def _print_network_generate(summary):
    print(f"wrote the network {summary['name']} ({summary['source']['label']}) to {summary['out']}: "
          f"{len(summary['layers'])} WCC layers on {len(summary['engines'])} engines for {summary['tile'][0]}x"
          f"{summary['tile'][1]} tiles ({summary['device']}), the network's top {summary['verilog']} and the "
          "network bundle")
    for engine in summary["engines"]:
        print(f"  {engine['directory']}: {engine['channels_in']} -> {engine['channels_out']} channels for "
              f"{', '.join(engine['layers'])}; PE {engine['parameters']['pe']} x SIMD {engine['parameters']['simd']}, "
              f"bound {engine['cycles']['bound']} cycles per tile")
    print(f"  schedule: {summary['schedule']['engines']}; {summary['schedule']['layer_switch']}; between layers: "
          f"{summary['schedule']['between_layers']}")

def _print_network_simulate(summary):
    verdict = "bit-exact" if summary["bit_exact"] else "MISMATCH"
    print(f"{verdict}: {summary['image']} at {summary['size'][0]}x{summary['size'][1]} through the whole network, "
          f"{summary['grid'][0] * summary['grid'][1]} tiles per WCC layer")
    for name, layer in summary["layers"].items():
        state = "bit-exact" if layer["bit_exact"] else f"MISMATCH: {(layer['first_mismatch'] or {}).get('message')}"
        print(f"  {name} (engine {layer['engine']}, layer {layer['layer_setting']}): {state}; "
              f"{layer['simulated_cycles']} cycles, {layer['frame_interval_cycles']} per tile")
    print("  PSNR / SSIM against the clean photograph: " + ", ".join(
        f"{name} {summary['psnr'][name]:.2f} dB / {summary['ssim'][name]:.3f}" for name in summary["psnr"]))
    if "float" not in summary["psnr"]:
        print(f"  float model: {summary['float_model']}")
    print(f"  {summary['simulated_cycles']} cycles simulated in {summary['seconds']:.0f} s"
          + (f" ({summary['build_seconds']:.0f} s of them simulator builds)" if summary["build_seconds"] else ""))
    print(f"  denoised photograph {summary['files']['denoised']}, figure {summary['files']['figure']}")

def print_simulate(summary):
    if summary.get("kind") == "network":
        return _print_network_simulate(summary)
    if summary.get("kind") == "codec":
        return _print_codec_simulate(summary)
    verdict = "bit-exact" if summary["bit_exact"] else "MISMATCH"
    print(f"{verdict}: {summary['frames']} frame(s) ({', '.join(summary['images'])}), streams compared: "
          f"{', '.join(summary['streams_compared'])}")
    if summary["first_mismatch"]:
        print(f"  first mismatch: {summary['first_mismatch']['message']}")
    if summary["verilog_difference"]:
        print(f"  the Verilog is not the one the bundle generates: {summary['verilog_difference']['message']}")
    for error in summary["protocol_errors"]:
        print(f"  stream protocol: {error}")
    if summary.get("full"):
        full = summary["full"]
        print(f"  full photograph: {full['image']} at {full['size'][0]}x{full['size'][1]}, {full['tiles']} tiles; "
              f"output map {full['maps']}, figure {full['figure']}")
    coverage = summary["coverage"]
    print(f"  coverage ({summary['coverage_frames']} coverage frames): weights {_share(coverage['weights'])}, "
          f"quantizer entries {_share(coverage['quantizer'])}, requantizer entries "
          f"{_share(coverage['requantizer'])}, code extremes {_share(coverage['code_extremes'])}")
    for entry in coverage["uncaught"][:5]:
        print(f"    not reached: {entry}")
    build = "build taken from the cache" if summary["build_cached"] else f"built in {summary['build_seconds']:.0f} s"
    print(f"  {summary['simulated_cycles']} cycles in {summary['run_seconds']:.1f} s on {summary['simulator_name']} "
          f"({build})")
    interval = summary["cycles"] if summary["cycles"] is not None else "not measured (too few frames)"
    print(f"  cycles per frame {interval} (bound {summary['cycle_bound']}), latency {summary['latency']}")
    print(f"  compressed frame {summary['compressed_bits']} bits vs {summary['uncompressed_bits']} uncompressed")
    print(f"  report: {summary['out']}/sim/summary.json")

def print_synth(summary):
    from .gen.synth import seeds_text

    print(f"{summary['target']}: {summary['luts']} LUTs, {summary['ffs']} FFs, {summary['dsps']} DSPs, "
          f"{summary['brams']} block RAMs, Fmax {summary['fmax_mhz']} MHz{seeds_text(summary)} (constraint "
          f"{summary['clock_constraint_mhz']:g} MHz); reports in {summary['reports']}")

def print_sweep(summary):
    from .gen.sweep import sweep_table

    print(sweep_table(summary["rows"]), end="")
    print(f"{summary['jobs']} job(s) on {summary['scheduler']}, {summary['failed']} failed; table in "
          f"{summary['out']}/sweep.md and sweep.json" + (", LUTs against frames/s in pareto.png"
                                                          if summary.get("plot") else ""))

def print_bitstream(summary):
    print(f"wrote {summary['bitstream']} for {summary['board']} ({summary['bytes']} bytes); the layer runs on the "
          f"board clock, {summary['clock_mhz']:g} MHz (nextpnr: {summary['fmax_mhz']} MHz reachable in this build)")

def print_demo(summary):
    from .gen.synth import seeds_text

    network = summary.get("network")
    if network:
        verdict = "every WCC layer bit-exact" if network["bit_exact"] else "NOT bit-exact"
        print(f"The whole network on a noisy '{summary['image']}' ({network['size'][0]}x{network['size'][1]}): "
              f"{network['layers']} WCC layers in simulated Verilog on {len(network['engines'])} engines, {verdict}")
        print("  PSNR / SSIM: " + ", ".join(f"{name} {network['psnr'][name]:.2f} dB / {network['ssim'][name]:.3f}"
                                            for name in ("noisy", "float", "integer", "hardware")
                                            if name in network["psnr"]))
        print(f"  denoised photograph {network['files']['denoised']}, figure {network['files']['figure']}")
        print()
    print_rates_table(summary["rates"])
    print()
    print(f"Hardware: WCC layer {summary['layer']} at {summary['hw_size'][0]}x{summary['hw_size'][1]}, rate "
          f"{summary['hw_rate']:g} ({summary['out']})")
    verdict = "bit-exact" if summary["bit_exact"] else f"MISMATCH ({summary['first_mismatch']['message']})"
    print(f"  simulation: {verdict} on {summary['frames']} frames of real activations ({', '.join(summary['images'])})"
          f" and {summary['coverage_frames']} coverage frames, {summary['mismatches']} mismatching streams")
    coverage = summary["coverage"]
    print(f"  caught if corrupted: weights {_share(coverage['weights'])}, quantizer bits "
          f"{_share(coverage['quantizer'])}, requantizer bits {_share(coverage['requantizer'])}; "
          f"{summary['simulated_cycles']} cycles in {summary['run_seconds']:.1f} s on {summary['simulator']}")
    print(f"  cycles per frame {summary['cycles']} (bound {summary['cycle_bound']}), latency {summary['latency']}; "
          f"compressed frame {summary['compressed_bits']} bits vs {summary['uncompressed_bits']}")
    if summary.get("fmax_mhz") is not None:
        print(f"  ECP5-85F: {summary['luts']} LUTs, {summary['ffs']} FFs, {summary['dsps']} DSPs, {summary['brams']} "
              f"block RAMs, Fmax {summary['fmax_mhz']} MHz{seeds_text(summary)}")
    print(f"  report: {summary['report']}")

def print_train(summary):
    print(f"wrote {len(summary['checkpoints'])} checkpoints to {summary['out']}")

def print_eval(summary):
    from .golden.report import quality_table

    print(quality_table(summary))
    if summary.get("plot"):
        print(f"plot: {summary['plot']}")
