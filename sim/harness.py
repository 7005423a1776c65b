"""Build a block's Verilog, simulate it on Icarus with the shared testbench, return the report."""

import json
import re
from pathlib import Path

import numpy as np
from cocotb_tools.runner import get_runner

from ..gen.verilog import emit_verilog, simulation_models
from ..hw.params import for_inspection
from .blocks import BLOCKS

__all__ = ["SimulationError", "run_block", "toplevel_name"]

#: The testbench gives up (and fails) after this many cycles per value in and out, plus a base.
WATCHDOG_CYCLES_PER_VALUE = 200
WATCHDOG_BASE_CYCLES = 200_000


class SimulationError(RuntimeError):
    """The simulation did not produce a report (build failure, crash, time-out)."""


def toplevel_name(block):
    """Verilog module name of a block: ``HaarForward`` -> ``haar_forward``, ``PointwiseMAC`` -> ``pointwise_mac``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", block).lower()


def _save_frames(path, frames):
    np.savez(path, **{f"frame{i}": np.asarray(frame, dtype=np.int64) for i, frame in enumerate(frames)})


def run_block(block, params, frames, expected, build_dir, *, idle=0.0, backpressure=0.0, seed=0,
              reset_after_beats=None, partial_frame=None, timeout_cycles=None, target="generic", loads=None,
              taps_expected=None, waves=False, verilog=None, watchdog_cycles=None):
    """Simulate ``block`` on ``frames`` and compare its output with ``expected``.

    Parameters
    ----------
    block : str
        Key of :data:`wccgen.sim.blocks.BLOCKS`.
    params : dict
        Component parameters.
    frames, expected : list of numpy.ndarray, each (C, H, W)
        Input frames and the frames the golden model produces from them.
    build_dir : path
        Private directory for the Verilog, the simulator build and the report.
    idle, backpressure : float
        Probability that the source idles / the sink refuses a beat in a cycle.
    seed : int
        Seed of the random idle and backpressure.
    reset_after_beats : int, optional
        First send this many beats of ``partial_frame``, then reset the DUT.
    target : str
        Verilog target (``generic`` or ``ecp5``); device primitives are
        simulated with the models of ``sim/models``.
    loads : dict of int to numpy.ndarray, optional
        Frames for the block's second input stream (weights): ``loads[i]`` is
        sent after input frame ``i - 1`` and before input frame ``i``.
    taps_expected : dict of str to list of numpy.ndarray, optional
        For a block with taps (``WccLayer``): the frames each internal stream
        must carry, compared before the output.
    waves : bool
        Dump every signal to ``<build_dir>/waves.fst`` (FST, as GTKWave and Surfer read it).
    verilog : path, optional
        Simulate this Verilog file (generated earlier from the same parameters) instead of emitting it.
    watchdog_cycles : int, optional
        End the simulation as failed after this many cycles (default: generously past any frame's cycles).

    Returns
    -------
    dict
        The testbench report: ``passed``, ``mismatch`` (first difference or
        ``None``), ``latency``, ``cycles_per_frame`` and the raw cycle lists.
    """
    spec = BLOCKS[block]
    component = spec.build(**params)
    # Absolute: the simulator runs in its own build directory, where a relative path would not resolve.
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    toplevel = toplevel_name(block)
    verilog_path = build_dir / f"{toplevel}.v"
    if verilog is not None:
        for_inspection(component)
        verilog_path.write_text(Path(verilog).read_text())
    else:
        recorded = component.header_parameters() if hasattr(component, "header_parameters") else params
        verilog_path.write_text(emit_verilog(component, toplevel, recorded, target=target))
    _save_frames(build_dir / "inputs.npz", frames)
    _save_frames(build_dir / "expected.npz", expected)
    job = {
        "block": block, "params": params, "seed": seed, "idle": idle, "backpressure": backpressure,
        "inputs": str(build_dir / "inputs.npz"), "expected": str(build_dir / "expected.npz"),
        "report": str(build_dir / "report.json"),
    }
    if reset_after_beats is not None:
        _save_frames(build_dir / "partial.npz", [partial_frame])
        job.update(reset_after_beats=reset_after_beats, partial_frame=str(build_dir / "partial.npz"))
    if timeout_cycles is not None:
        job["timeout_cycles"] = timeout_cycles
    # However the design misbehaves, the simulation ends: generously past any frame's cycles.
    values = sum(np.asarray(frame).size for frame in [*frames, *expected])
    job["watchdog_cycles"] = watchdog_cycles or WATCHDOG_CYCLES_PER_VALUE * values + WATCHDOG_BASE_CYCLES
    if loads:
        order = sorted(loads)
        _save_frames(build_dir / "loads.npz", [loads[i] for i in order])
        job.update(loads=str(build_dir / "loads.npz"), load_before=order)
    if taps_expected:
        np.savez(build_dir / "taps.npz", **{f"{name}{i}": np.asarray(frame) for name, frames in taps_expected.items()
                                            for i, frame in enumerate(frames)})
        job["taps_expected"] = str(build_dir / "taps.npz")
    job_path = build_dir / "job.json"
    job_path.write_text(json.dumps(job, indent=2))

    runner = get_runner("icarus")
    sim_build = build_dir / "sim_build"
    sources = [verilog_path, *simulation_models(target)]
    if waves:
        # Icarus under -g2005 dumps only through a module of one's own.
        dump = build_dir / "waves_dump.v"
        dump.write_text(f"module waves_dump;\ninitial begin\n  $dumpfile(\"{build_dir.resolve() / 'waves.fst'}\");\n"
                        f"  $dumpvars(0, {toplevel});\nend\nendmodule\n")
        sources.append(dump)
    runner.build(sources=sources, hdl_toplevel=toplevel, build_dir=sim_build,
                 build_args=["-g2005"] + (["-s", "waves_dump"] if waves else []), timescale=("1ns", "1ps"),
                 always=True)
    report_path = Path(job["report"])
    report_path.unlink(missing_ok=True)
    try:
        runner.test(test_module="wccgen.sim.tb", hdl_toplevel=toplevel, build_dir=sim_build, waves=waves,
                    extra_env={"WCCGEN_JOB": str(job_path)}, results_xml=str(build_dir / "results.xml"),
                    log_file=str(build_dir / "sim.log"))
    except SystemExit:
        pass  # a failing test ends the runner this way; the report says what failed
    if not report_path.is_file():
        log = (build_dir / "sim.log").read_text(errors="replace")[-3000:] if (build_dir / "sim.log").is_file() else ""
        raise SimulationError(f"{block}: the simulation wrote no report; end of its log:\n{log}")
    return json.loads(report_path.read_text())
