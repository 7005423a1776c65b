"""The shared cocotb testbench: clock, reset, stream source and sink, frame checking.

A test job (JSON, written by :mod:`wccgen.sim.harness`) names the block and its
parameters, the input frames, the frames the golden model expects, the idle
and backpressure probabilities, and where to write the report. The
testbench drives the frames, collects the output, compares it with the
expectation and reports the first mismatch by block, frame, channel and
position, together with measured cycles.
"""

import json
import os
import random

import numpy as np
import cocotb
from cocotb.clock import Clock
from cocotb.simtime import get_sim_time
from cocotb.triggers import RisingEdge, SimTimeoutError, Timer, with_timeout

from ..hw.params import for_inspection
from .blocks import BLOCKS
from .payload import PayloadCodec

__all__ = ["StreamMonitor", "StreamSink", "StreamSource", "StreamTestbench", "run_job"]

CLOCK_NS = 10


def _cycle():
    return int(get_sim_time("ns")) // CLOCK_NS


def _bind_stream(driver, dut, port, layout, rng):
    """Give a source or sink the DUT's ``<port>__valid/__payload/__ready`` handles and a payload codec."""
    driver.clk = dut.clk
    driver.valid = getattr(dut, f"{port}__valid")
    driver.payload = getattr(dut, f"{port}__payload")
    driver.ready = getattr(dut, f"{port}__ready")
    driver.codec = PayloadCodec(layout)
    driver.rng = rng


class StreamSource:
    """Drives beats into a stream input, idling at random between beats.

    Once ``valid`` rises it stays high, with the payload unchanged, until the
    beat is accepted (verilog-axis style source).
    """

    def __init__(self, dut, port, layout, rng, idle=0.0):
        _bind_stream(self, dut, port, layout, rng)
        self.idle = idle
        self.accepted = []  # cycle of every accepted beat

    def quiet(self):
        self.valid.value = 0

    async def send(self, beats):
        """Send ``beats`` (payload values) one after the other; return when all are accepted."""
        index, holding = 0, False
        while index < len(beats):
            if not holding:
                holding = self.rng.random() >= self.idle
                if holding:
                    self.payload.value = self.codec.encode(beats[index])
                self.valid.value = int(holding)
            await RisingEdge(self.clk)
            if holding and self.ready.value == 1:
                self.accepted.append(_cycle())
                index += 1
                holding = False
        self.valid.value = 0


class StreamSink:
    """Collects beats from a stream output, applying random backpressure.

    It also checks the stream rule on the DUT: once ``valid`` is high and the
    beat is not taken, ``valid`` and the payload must hold.
    """

    def __init__(self, dut, port, layout, rng, backpressure=0.0):
        _bind_stream(self, dut, port, layout, rng)
        self.backpressure = backpressure
        self.beats = []  # (cycle, payload)
        self.protocol_errors = []

    def clear(self):
        self.beats.clear()

    async def run(self):
        waiting = None  # payload of a beat offered but not taken
        while True:
            ready = int(self.rng.random() >= self.backpressure)
            self.ready.value = ready
            await RisingEdge(self.clk)
            valid = self.valid.value
            if not valid.is_resolvable:
                self.protocol_errors.append(f"cycle {_cycle()}: valid is {valid}")
                continue
            if waiting is not None and (valid != 1 or self.payload.value != waiting):
                self.protocol_errors.append(f"cycle {_cycle()}: valid or payload changed before the transfer")
            waiting = None
            if valid == 1:
                payload = self.payload.value
                if not payload.is_resolvable:
                    self.protocol_errors.append(f"cycle {_cycle()}: payload is {payload}")
                    continue
                if ready:
                    self.beats.append((_cycle(), self.codec.decode(payload.to_unsigned())))
                else:
                    waiting = payload


class StreamMonitor:
    """Records the transfers of an internal stream from a ``tap_<name>`` output (``valid`` marks a transfer)."""

    def __init__(self, dut, port, layout):
        self.clk = dut.clk
        self.valid = getattr(dut, f"{port}__valid")
        self.payload = getattr(dut, f"{port}__payload")
        self.codec = PayloadCodec(layout)
        self.beats = []  # (cycle, payload)

    def clear(self):
        self.beats.clear()

    async def run(self):
        while True:
            await RisingEdge(self.clk)
            if self.valid.value == 1:
                self.beats.append((_cycle(), self.codec.decode(self.payload.value.to_unsigned())))


class StreamTestbench:
    """Clock, reset and the source and sink of a one-input, one-output block."""

    def __init__(self, dut, job):
        self.dut = dut
        self.job = job
        spec = BLOCKS[job["block"]]
        self.spec = spec
        self.component = for_inspection(spec.build(**job["params"]))
        members = self.component.signature.members
        rng = random.Random(job.get("seed", 0))
        self.source = StreamSource(dut, spec.source, _payload_layout(members[spec.source]), rng, job.get("idle", 0.0))
        self.sink = StreamSink(dut, spec.sink, _payload_layout(members[spec.sink]), rng, job.get("backpressure", 0.0))
        self.loader = None
        if spec.load in members:
            self.loader = StreamSource(dut, spec.load, _payload_layout(members[spec.load]), rng, job.get("idle", 0.0))
        self.monitors = {tap.name: StreamMonitor(dut, f"tap_{tap.name}", _payload_layout(members[f"tap_{tap.name}"]))
                         for tap in spec.taps if job.get("taps_expected")}

    async def start(self):
        # Writes at time 0 are lost on Icarus: settle first.
        await Timer(1, "ns")
        self.source.quiet()
        if self.loader is not None:
            self.loader.quiet()
        self.dut.rst.value = 1
        Clock(self.dut.clk, CLOCK_NS, unit="ns").start()
        await self.reset()
        cocotb.start_soon(self.sink.run())
        for monitor in self.monitors.values():
            cocotb.start_soon(monitor.run())

    async def reset(self, cycles=3):
        self.dut.rst.value = 1
        for _ in range(cycles):
            await RisingEdge(self.dut.clk)
        self.dut.rst.value = 0


def _payload_layout(member):
    return member.signature.members["payload"].shape


def _with_flags(beats):
    last = len(beats) - 1
    return [{"data": beat, "first": int(i == 0), "last": int(i == last)} for i, beat in enumerate(beats)]


def _split_frames(beats, report):
    """Frames of received beats, by their ``last`` flags; flag errors go into ``report``."""
    frames, current = [], []
    for cycle, payload in beats:
        if payload["first"] != int(not current):
            report.setdefault("flag_errors", []).append(
                f"cycle {cycle}: first={payload['first']} at beat {len(current)} of frame {len(frames)}")
        current.append((cycle, payload["data"]))
        if payload["last"]:
            frames.append(current)
            current = []
    if current:
        frames.append(current)
    return frames


async def run_job(dut, job):
    """Drive a job's frames through the DUT and return the report."""
    tb = StreamTestbench(dut, job)
    await tb.start()
    component, source, sink = tb.component, tb.spec.source_stream, tb.spec.sink_stream
    inputs = np.load(job["inputs"])
    expected = np.load(job["expected"])
    in_frames = [inputs[f"frame{i}"] for i in range(len(inputs.files))]
    want_frames = [expected[f"frame{i}"] for i in range(len(expected.files))]

    reset_after = job.get("reset_after_beats")
    if reset_after is not None:
        # A partial frame, a reset, then the real frames: the partial one must leave no trace.
        partial = job.get("partial_frame")
        partial_beats = source.beats(component, np.load(partial)["frame0"])[:reset_after]
        await tb.source.send(_with_flags(partial_beats))
        for _ in range(job.get("reset_delay", 5)):
            await RisingEdge(dut.clk)
        await tb.reset()
        tb.sink.clear()
        for monitor in tb.monitors.values():
            monitor.clear()
        tb.source.accepted.clear()

    loads = {}
    if job.get("loads"):
        stored = np.load(job["loads"])
        loads = {before: stored[f"frame{i}"] for i, before in enumerate(job["load_before"])}
    for index, frame in enumerate(in_frames):
        if index in loads:
            await tb.loader.send(_with_flags(tb.spec.load_stream.beats(component, loads[index])))
        await tb.source.send(_with_flags(source.beats(component, frame)))
    want_beats = sum(sink.beat_count(component, f) for f in want_frames)
    limit = job.get("timeout_cycles", 20 * want_beats + 5000)
    start = _cycle()
    while len(tb.sink.beats) < want_beats and _cycle() - start < limit:
        await RisingEdge(dut.clk)
    for _ in range(job.get("drain_cycles", 20)):  # anything extra would show up here
        await RisingEdge(dut.clk)

    report = {"block": job["block"], "params": job["params"]}
    frames = _split_frames(tb.sink.beats, report)
    # Internal streams first, in data path order: the first difference names the block that made it.
    streams = {}
    if job.get("taps_expected"):
        tap_expected = np.load(job["taps_expected"])
        for tap in tb.spec.taps:
            wants = [tap_expected[f"{tap.name}{i}"] for i in range(len(want_frames))]
            part = component.part(tap.part)
            tap_frames = _split_frames(tb.monitors[tap.name].beats, {})
            streams[tap.name] = _compare_frames(tap.block, wants, tap_frames, tap.stream, part)
    streams["output"] = _compare_frames(tb.spec.sink_block or job["block"], want_frames, frames, sink, component)
    failed = [mismatch for mismatch in streams.values() if mismatch is not None]
    report["mismatch"] = failed[0] if failed else None
    report["streams_compared"] = list(streams)
    report["stream_mismatches"] = {name: m["message"] for name, m in streams.items() if m is not None}
    in_last = _frame_ends(tb.source.accepted, [source.beat_count(component, f) for f in in_frames])
    out_first = [beats[0][0] for beats in frames]
    out_last = [beats[-1][0] for beats in frames]
    report.update({
        "protocol_errors": tb.sink.protocol_errors[:10],
        "frames_expected": len(want_frames),
        "frames_received": len(frames),
        "beats_received": len(tb.sink.beats),
        "first_in_cycle": tb.source.accepted[0] if tb.source.accepted else None,
        "last_in_cycles": in_last,
        "first_out_cycles": out_first,
        "last_out_cycles": out_last,
        "status": {name: getattr(dut, name).value.to_unsigned() for name in tb.spec.status},
    })
    if in_last and out_first:
        report["latency"] = out_first[0] - in_last[0]
    if len(out_last) >= 2:
        report["cycles_per_frame"] = (out_last[-1] - out_last[0]) / (len(out_last) - 1)
    report["passed"] = report["mismatch"] is None and not report["protocol_errors"] and "flag_errors" not in report
    return report


def _compare_frames(block, want_frames, frames, sink, component):
    """First mismatch of received frames (lists of (cycle, beat)) against expected arrays."""
    for index, (want, beats) in enumerate(zip(want_frames, frames)):
        count = sink.beat_count(component, want)
        if len(beats) != count:
            return {"block": block, "frame": index,
                    "message": f"{block}: frame {index} has {len(beats)} beats, expected {count}"}
        got = sink.frame(component, [beat for _, beat in beats], want)
        mismatch = sink.mismatch(block, index, want, got, component)
        if mismatch is not None:
            return mismatch
    if len(frames) != len(want_frames):
        return {"block": block, "frame": min(len(frames), len(want_frames)),
                "message": f"{block}: received {len(frames)} frames, expected {len(want_frames)}"}
    return None


def _frame_ends(cycles, sizes):
    ends, total = [], 0
    for size in sizes:
        total += size
        if total <= len(cycles):
            ends.append(cycles[total - 1])
    return ends


@cocotb.test()
async def run_block(dut):
    """Run the job named by the WCCGEN_JOB environment variable."""
    with open(os.environ["WCCGEN_JOB"]) as f:
        job = json.load(f)
    limit = job.get("watchdog_cycles")
    try:
        report = await (with_timeout(run_job(dut, job), limit * CLOCK_NS, "ns") if limit else run_job(dut, job))
    except SimTimeoutError:
        message = (f"{job['block']}: no end after {limit} cycles: the design stopped taking input or giving "
                   f"output (the testbench's watchdog)")
        report = {"block": job["block"], "params": job["params"], "passed": False, "protocol_errors": [],
                  "mismatch": {"block": job["block"], "frame": None, "message": message}, "stream_mismatches": {}}
    with open(job["report"], "w") as f:
        json.dump(report, f, indent=2)
    assert report["passed"], (report["mismatch"] or {}).get("message") or report
