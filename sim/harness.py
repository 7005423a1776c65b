"""Build a block's Verilog, simulate it inside the HDL testbench, compare every stream in NumPy, return the report."""

import json
import random
import re
import time
from pathlib import Path

import numpy as np

from ..hw.axi_stream_ports import AxiStreamPorts
from ..hw.verilog import emit_verilog
from .bench import BENCH_SOURCES, BENCH_TOPLEVEL, bench_streams, bench_verilog
from .blocks import BLOCKS
from .payload import RecordError
from .simulators import SimulatorMissing, build_simulation, choose_simulator, simulation_models

__all__ = ["SimulationError", "SimulatorMissing", "run_block", "toplevel_name"]

#: The testbench gives up (and fails) after this many times the cycles the frames should take, stretched by the
#: idle and backpressure, plus a base for the pipeline's fill and drain.
WATCHDOG_MARGIN = 4
WATCHDOG_BASE_CYCLES = 20_000
#: Idle and backpressure probabilities above this stretch the watchdog as this one does.
WATCHDOG_STALL_CAP = 0.99
#: Probabilities are given to the bench in 1/65536 steps.
PROBABILITY_STEPS = 1 << 16


class SimulationError(RuntimeError):
    """The simulation did not produce a run record (build failure, crash)."""


def toplevel_name(block):
    """Verilog module name of a block: ``HaarForward`` -> ``haar_forward``, ``PointwiseMAC`` -> ``pointwise_mac``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", block).lower()


def _probability(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: must be a probability in [0, 1], got {value!r}")
    return round(value * PROBABILITY_STEPS)


def _flags(beats):
    first = np.zeros(beats, dtype=np.uint8)
    last = np.zeros(beats, dtype=np.uint8)
    if beats:
        first[0] = last[-1] = 1
    return first, last


def _write_player(path, stream, segments):
    """The player's file: every segment's beats (arrays), each a frame with its own first/last flags."""
    with open(path, "wb") as f:
        for beats in segments:
            f.write(stream.codec.encode(beats, *_flags(len(beats))))


def _plan(spec, facts, frames, expected, loads, reset_after_beats, partial_frame):
    """The testbench's steps (see :mod:`wccgen.sim.tb`) and each player's segments of beats, in order."""
    steps, segments = [], {spec.source: []}
    if reset_after_beats is not None:
        partial = spec.source_stream.beats(facts, partial_frame)[:reset_after_beats]
        segments[spec.source].append(partial)
        steps += [{"play": spec.source, "beats": len(partial)}, {"reset": 3, "delay": 5}]
    if loads:
        segments[spec.load] = []
    pending = 0
    for index, frame in enumerate(frames):
        if index in loads:
            if pending:
                steps.append({"play": spec.source, "beats": pending})
                pending = 0
            load = spec.load_stream.beats(facts, loads[index])
            segments[spec.load].append(load)
            steps.append({"play": spec.load, "beats": len(load)})
        beats = spec.source_stream.beats(facts, frame)
        segments[spec.source].append(beats)
        pending += len(beats)
    if pending:
        steps.append({"play": spec.source, "beats": pending})
    steps.append({"expect": {spec.sink: sum(spec.sink_stream.beat_count(facts, f) for f in expected)}})
    return steps, segments


def run_block(block, params, frames, expected, build_dir, *, idle=0.0, backpressure=0.0, seed=0,
              reset_after_beats=None, partial_frame=None, target="generic", loads=None, taps_expected=None,
              waves=False, verilog=None, watchdog_cycles=None, simulator="auto", progress=None, received=None,
              settings=None, axi=False):
    """Simulate ``block`` on ``frames`` and compare its output (and taps) with ``expected``.

    Parameters
    ----------
    block : str
        Key of :data:`wccgen.sim.blocks.BLOCKS`.
    params : dict
        Component parameters.
    frames, expected : list of numpy.ndarray, each (C, H, W)
        Input frames and the frames the golden model produces from them.
    build_dir : path
        Private directory for the Verilog, the run's files and the report.
    idle, backpressure : float
        Probability in [0, 1] that the player idles / the recorder refuses a beat in a cycle.
    seed : int
        Seed of the random idle and backpressure.
    reset_after_beats : int, optional
        First send this many beats of ``partial_frame``, then reset the block: the partial frame must leave no trace.
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
        Dump every signal to ``<build_dir>/run/`` (FST on Icarus, VCD on Verilator).
    verilog : path, optional
        Simulate this Verilog file (generated earlier from the same parameters) instead of emitting it.
    watchdog_cycles : int, optional
        End the simulation as failed after this many cycles (default: generously past any frame's cycles).
    simulator : str
        ``icarus``, ``verilator`` or ``auto`` (Verilator for large designs when it is installed).
    progress : callable, optional
        Called with a line of text before long steps.
    received : list, optional
        Filled with the output frames the hardware sent, decoded to arrays (as many as it sent whole,
        each shaped as the expected frame of its index): for a caller that goes on with the hardware's
        own results.
    settings : dict of str to int, optional
        Values of the block's setting inputs (``layer`` of an engine serving several layers), held from
        before reset to the end; a setting left out is 0.
    axi : bool
        The block's input and output streams are AXI4-Stream ports
        (:class:`~wccgen.hw.axi_stream_ports.AxiStreamPorts` around it): the
        Verilog emitted, or the one given, has them, and the bench drives them.

    Returns
    -------
    dict
        ``passed``, ``mismatch`` (first difference or ``None``),
        ``stream_mismatches``, ``protocol_errors``, ``latency``,
        ``cycles_per_frame``, the cycle lists, ``status``, ``simulator``,
        ``build_seconds``, ``build_cached``, ``run_seconds`` and ``cycles``.

    Raises
    ------
    SimulatorMissing
        The simulator is not installed (the message says how to install it).
    SimulationError
        The build failed or the simulator wrote no run record.
    """
    spec = BLOCKS[block]
    idle_steps = _probability(idle, "idle")
    backpressure_steps = _probability(backpressure, "backpressure")
    facts = spec.make_spec(params)
    signature = spec.signature(facts)
    # Absolute: the simulator runs in its own directory, where a relative path would not resolve.
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    toplevel = toplevel_name(block)
    verilog_path = build_dir / f"{toplevel}.v"
    if verilog is not None:
        verilog_path.write_text(Path(verilog).read_text())
    else:
        recorded = facts.header_parameters() if hasattr(facts, "header_parameters") else params
        component = spec.component(facts)
        if axi:
            component = AxiStreamPorts(component, spec.source, spec.sink)
        verilog_path.write_text(emit_verilog(component, toplevel, recorded, target=target))
    held = _settings(spec, signature, facts, settings or {})
    streams = bench_streams(signature, spec)
    bench_path = build_dir / f"{BENCH_TOPLEVEL}.v"
    bench_path.write_text(bench_verilog(signature, spec, toplevel, axi=axi))

    sources = [bench_path, *BENCH_SOURCES, verilog_path, *simulation_models(target)]
    simulator = choose_simulator(simulator, verilog_path.stat().st_size)
    if waves and simulator == "icarus":
        # Icarus under -g2005 dumps only through a module of one's own.
        dump = build_dir / "waves_dump.v"
        dump.write_text(f"module waves_dump;\ninitial begin\n  $dumpfile(\"waves.fst\");\n"
                        f"  $dumpvars(0, {BENCH_TOPLEVEL});\nend\nendmodule\n")
        sources.append(dump)
    try:
        build = build_simulation(simulator, sources, BENCH_TOPLEVEL, waves=waves, progress=progress)
    except SystemExit as error:  # the runner's way of saying the build failed
        raise SimulationError(f"{block}: the {simulator} build failed ({error})") from None

    run_dir = build_dir / "run"
    run_dir.mkdir(exist_ok=True)
    for old in run_dir.iterdir():
        if old.is_file():
            old.unlink()
    steps, segments = _plan(spec, facts, frames, expected, loads or {}, reset_after_beats, partial_frame)
    for stream in streams:
        if stream.role == "player":
            _write_player(run_dir / f"{stream.port}.beats", stream, segments.get(stream.port, []))

    draw = random.Random(seed)
    job = {
        "block": block,
        "players": {s.port: {"seed": draw.getrandbits(32), "idle": idle_steps}
                    for s in streams if s.role == "player"},
        "recorders": {s.port: {"seed": draw.getrandbits(32), "backpressure": backpressure_steps
                               if s.role == "recorder" else 0}
                      for s in streams if s.role != "player"},
        "steps": steps,
        "settings": held,
        "status": list(spec.status),
        # However the design misbehaves, the simulation ends: a few times past the cycles the frames should take.
        "watchdog_cycles": watchdog_cycles or default_watchdog(spec, facts, frames, expected, loads or {}, idle,
                                                               backpressure),
        "record": str(run_dir / "run.json"),
    }
    job_path = run_dir / "job.json"
    job_path.write_text(json.dumps(job, indent=2))

    start = time.monotonic()
    try:
        build.runner.test(test_module="wccgen.sim.tb", hdl_toplevel=BENCH_TOPLEVEL, hdl_toplevel_lang="verilog",
                          build_dir=build.build_dir, test_dir=run_dir, waves=waves,
                          extra_env={"WCCGEN_JOB": str(job_path)}, results_xml=str(run_dir / "results.xml"),
                          log_file=str(run_dir / "sim.log"))
    except SystemExit:
        pass  # a failing test ends the runner this way; the run record says what happened
    except RuntimeError as error:  # the simulator did not run at all
        raise SimulationError(f"{block}: the {simulator} run failed ({error}); see {run_dir / 'sim.log'}") from None
    run_seconds = time.monotonic() - start
    record_path = run_dir / "run.json"
    if not record_path.is_file():
        log = (run_dir / "sim.log").read_text(errors="replace")[-3000:] if (run_dir / "sim.log").is_file() else ""
        raise SimulationError(f"{block}: the simulation wrote no run record; see {run_dir / 'sim.log'}, which ends:\n"
                              f"{log}")
    record = json.loads(record_path.read_text())
    report = _report(block, params, spec, facts, spec.taps(signature), streams, run_dir, record, frames, expected,
                     taps_expected, received)
    report.update({"simulator": simulator, "watchdog_cycles": job["watchdog_cycles"],
                   "build_seconds": round(build.build_seconds, 2),
                   "build_cached": build.cached, "run_seconds": round(run_seconds, 3),
                   "cycles": record["end_cycle"] - record["start_cycle"]})
    if waves:
        report["waves"] = str(run_dir / ("waves.fst" if simulator == "icarus" else "dump.vcd"))
    (build_dir / "report.json").write_text(json.dumps(report, indent=2))
    return report


def _settings(spec, signature, facts, settings):
    """Every setting of the block with its value for the run (0 unless given); raises for one it lacks or a
    value out of its range (a ``layer`` below the layers the block holds)."""
    known = spec.bench_settings(signature)
    for name, value in settings.items():
        if name not in known:
            raise ValueError(f"settings: the block has no setting {name!r} (it has {sorted(known) or 'none'})")
        count = facts.layers if name == "layer" else 1 << known[name].width
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
            raise ValueError(f"settings: {name} must be an integer in [0, {count - 1}], got {value!r}")
    return {name: int(settings.get(name, 0)) for name in known}


def expected_cycles(spec, facts, frames, expected, loads=None):
    """The cycles a correct block should need for ``frames``: the most of its beats in, its beats out and its
    stated cycles per frame (``cycle_bound`` or ``cycles_per_frame``; ``cycles_per_vector`` per kept vector),
    plus the beats of its loads."""
    beats_in = sum(spec.source_stream.beat_count(facts, frame) for frame in frames)
    beats_out = sum(spec.sink_stream.beat_count(facts, frame) for frame in expected)
    per_frame = getattr(facts, "cycle_bound", None) or getattr(facts, "cycles_per_frame", None) or 0
    stated = per_frame * len(frames)
    if hasattr(facts, "cycles_per_vector"):
        stated = facts.cycles_per_vector * sum(np.asarray(frame).shape[-1] for frame in frames)
    loaded = sum(spec.load_stream.beat_count(facts, frame) for frame in (loads or {}).values())
    return max(beats_in, beats_out, stated) + loaded


def default_watchdog(spec, facts, frames, expected, loads, idle, backpressure):
    """The watchdog of a run: :data:`WATCHDOG_MARGIN` times :func:`expected_cycles`, stretched by
    ``1 / ((1 - idle) (1 - backpressure))``, plus :data:`WATCHDOG_BASE_CYCLES`."""
    stretch = 1.0 / ((1.0 - min(idle, WATCHDOG_STALL_CAP)) * (1.0 - min(backpressure, WATCHDOG_STALL_CAP)))
    return int(WATCHDOG_MARGIN * expected_cycles(spec, facts, frames, expected, loads) * stretch) \
        + WATCHDOG_BASE_CYCLES


def _recorded(stream, run_dir, after):
    """A recorder's transfers at or after cycle ``after``: values, first, last, cycles."""
    values, first, last, cycles = stream.codec.decode((run_dir / f"{stream.port}.rec").read_bytes())
    keep = cycles >= after
    return values[keep], first[keep], last[keep], cycles[keep]


def _protocol_errors(stream, run_dir, resets):
    """The recorder's breaches of the stream rules, but those a reset caused (a held beat dropped by reset)."""
    errors = []
    for line in (run_dir / f"{stream.port}.err").read_text().splitlines():
        cycle = int(line.split(" ", 1)[0])
        if not any(reset["start"] <= cycle <= reset["end"] + 1 for reset in resets):
            errors.append(f"{stream.port}: cycle {line}")
    return errors


def _split_frames(first, last, cycles, report):
    """(start, stop) beat ranges of the received frames, by their ``last`` flags; flag errors go into ``report``."""
    ends = np.flatnonzero(last) + 1
    starts = np.concatenate([[0], ends])
    if starts[-1] == len(last):
        starts = starts[:-1]
    bounds = list(zip(starts.tolist(), [*ends.tolist(), len(last)][:len(starts)]))
    want_first = np.zeros(len(first), dtype=np.uint8)
    want_first[starts] = 1
    wrong = np.flatnonzero(first != want_first)
    if wrong.size:
        beat = int(wrong[0])
        frame = int(np.searchsorted(starts, beat, side="right")) - 1
        report.setdefault("flag_errors", []).append(
            f"cycle {int(cycles[beat])}: first={int(first[beat])} at beat {beat - int(starts[frame])} of frame {frame}")
    return bounds


def _compare_frames(block, want_frames, values, bounds, sink, facts, received=None):
    """First mismatch of received frames (beat ranges of ``values``) against expected arrays.

    The decoded frames are appended to ``received`` when it is given (all whole ones, also past a mismatch).
    """
    first = None
    for index, (want, (start, stop)) in enumerate(zip(want_frames, bounds)):
        count = sink.beat_count(facts, want)
        if stop - start != count:
            first = first or {"block": block, "frame": index,
                              "message": f"{block}: frame {index} has {stop - start} beats, expected {count}"}
            break
        got = sink.frame(facts, values[start:stop], want)
        if received is not None:
            received.append(got)
        first = first or sink.mismatch(block, index, want, got, facts)
        if first is not None and received is None:
            return first
    if first is not None:
        return first
    if len(bounds) != len(want_frames):
        return {"block": block, "frame": min(len(bounds), len(want_frames)),
                "message": f"{block}: received {len(bounds)} frames, expected {len(want_frames)}"}
    return None


def _stall(block, spec, facts, taps, run_dir, record, frames, expected, taps_expected):
    """The watchdog's message, and every stream that has fewer beats than it should, in data path order."""
    counts = record["counts"]
    wants = {spec.source: sum(spec.source_stream.beat_count(facts, f) for f in frames),
             spec.sink: sum(spec.sink_stream.beat_count(facts, f) for f in expected)}
    tap_ports = {f"tap_{tap.name}": tap for tap in taps}
    if taps_expected:
        for port, tap in tap_ports.items():
            wants[port] = sum(tap.stream.beat_count(facts.part(tap.part), f) for f in taps_expected[tap.name])
    stalled = {}
    for port in [spec.source, *[p for p in tap_ports if p in wants], spec.sink]:
        if port == spec.source:
            accepted = (run_dir / f"{port}.accepted").read_text().split()
            done, last = len(accepted), int(accepted[-1]) if accepted else None
        else:
            done, last = counts[port]["count"], counts[port]["last"] if counts[port]["count"] else None
        if done < wants[port]:
            stalled[port] = {"beats": done, "expected": wants[port], "last_cycle": last}
    where = ", ".join(f"{port} {s['beats']} of {s['expected']} beats"
                      + (f" (last at cycle {s['last_cycle']})" if s["last_cycle"] is not None else "")
                      for port, s in stalled.items())
    message = (f"{block}: no end after {record['watchdog_cycles']} cycles (the testbench's watchdog); "
               + (f"stalled streams: {where}" if stalled else "no stream fell short"))
    return message, stalled


def _report(block, params, spec, facts, taps, streams, run_dir, record, frames, expected, taps_expected, received):
    by_port = {stream.port: stream for stream in streams}
    resets = record["resets"]
    after = resets[-1]["end"] if resets else 0
    report = {"block": block, "params": params, "status": record["status"]}
    protocol = [f"{port}: the player's file ran out of beats" for port, c in record["counts"].items()
                if c.get("underrun")]
    for stream in streams:
        if stream.role == "recorder":
            protocol += _protocol_errors(stream, run_dir, resets)
    report["protocol_errors"] = protocol[:10]
    if record["timed_out"]:
        message, stalled = _stall(block, spec, facts, taps, run_dir, record, frames, expected, taps_expected)
        report.update(passed=False, mismatch={"block": block, "frame": None, "message": message, "stalled": stalled},
                      stream_mismatches={}, streams_compared=[])
        return report
    streams_compared, mismatches = {}, {}
    try:
        out_values, out_first, out_last, out_cycles = _recorded(by_port[spec.sink], run_dir, after)
        bounds = _split_frames(out_first, out_last, out_cycles, report)
        # Internal streams first, in data path order: the first difference names the block that made it.
        if taps_expected:
            for tap in taps:
                tap_values, tap_first, tap_last, tap_cycles = _recorded(by_port[f"tap_{tap.name}"], run_dir, after)
                tap_bounds = _split_frames(tap_first, tap_last, tap_cycles, {})
                streams_compared[tap.name] = _compare_frames(
                    tap.block, taps_expected[tap.name], tap_values, tap_bounds, tap.stream, facts.part(tap.part))
        streams_compared["output"] = _compare_frames(spec.sink_block or block, expected, out_values, bounds,
                                                     spec.sink_stream, facts, received)
    except RecordError as error:
        report.update(passed=False, mismatch={"block": block, "frame": None, "message": f"{block}: {error}"},
                      stream_mismatches={}, streams_compared=[])
        return report
    failed = [m for m in streams_compared.values() if m is not None]
    mismatches = {name: m["message"] for name, m in streams_compared.items() if m is not None}
    report["mismatch"] = failed[0] if failed else None
    report["streams_compared"] = list(streams_compared)
    report["stream_mismatches"] = mismatches
    accepted = np.array((run_dir / f"{spec.source}.accepted").read_text().split(), dtype=np.int64)
    accepted = accepted[accepted >= after]
    in_last = _frame_ends(accepted, [spec.source_stream.beat_count(facts, f) for f in frames])
    out_first = [int(out_cycles[start]) for start, _ in bounds]
    out_last = [int(out_cycles[stop - 1]) for _, stop in bounds]
    report.update({
        "frames_expected": len(expected),
        "frames_received": len(bounds),
        "beats_received": int(len(out_values)),
        "first_in_cycle": int(accepted[0]) if accepted.size else None,
        "last_in_cycles": in_last,
        "first_out_cycles": out_first,
        "last_out_cycles": out_last,
    })
    if in_last and out_first:
        report["latency"] = out_first[0] - in_last[0]
    if len(out_last) >= 2:
        report["cycles_per_frame"] = (out_last[-1] - out_last[0]) / (len(out_last) - 1)
    report["passed"] = report["mismatch"] is None and not report["protocol_errors"] and "flag_errors" not in report
    return report


def _frame_ends(cycles, sizes):
    ends, total = [], 0
    for size in sizes:
        total += size
        if total <= len(cycles):
            ends.append(int(cycles[total - 1]))
    return ends
