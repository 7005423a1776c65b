"""The cocotb side of the testbench: start the bench's phases and wait for their end.

Players and recorders run inside the simulator (:mod:`wccgen.sim.bench`); no
Python runs per cycle. A test job (JSON, written by
:mod:`wccgen.sim.harness`) lists the seeds and probabilities of every stream
and a sequence of steps:

- ``{"play": port, "beats": n}``: the player sends ``n`` more beats; the step
  ends when all are taken;
- ``{"reset": cycles, "delay": d}``: wait ``d`` cycles, then hold the
  block's reset for ``cycles`` cycles;
- ``{"expect": {port: n}}``: wait until each recorder has ``n`` transfers since
  the last reset ended, then ``drain_cycles`` more (anything extra shows up there).

The run record (``run.json``) gives the cycles at which resets ended, the
counts of every stream and, when the watchdog fired, where things stalled.
"""

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, SimTimeoutError, Timer, with_timeout

__all__ = ["CLOCK_NS", "run_bench"]

CLOCK_NS = 10
#: Cycles the bench's generators hold their seeds, with the block in reset, before the first step.
START_CYCLES = 3


async def _until(dut, name):
    """Wait for the bench output ``name`` (a ``_done`` flag) to be high."""
    signal = getattr(dut, name)
    # The step's new target reaches the bench at the next edge; the flag is checked after it.
    await RisingEdge(dut.clk)
    while signal.value != 1:
        await RisingEdge(signal)


async def _steps(dut, job, record):
    for step in job["steps"]:
        if "play" in step:
            port = step["play"]
            total = record["played"][port] + step["beats"]
            record["played"][port] = total
            getattr(dut, f"{port}_play").value = total
            if step["beats"]:
                await _until(dut, f"{port}_done")
        elif "reset" in step:
            await ClockCycles(dut.clk, step.get("delay", 0))
            dut.rst.value = 1
            record["resets"].append({"start": int(dut.cycle.value)})
            await ClockCycles(dut.clk, step["reset"])
            dut.rst.value = 0
            await RisingEdge(dut.clk)
            record["resets"][-1]["end"] = int(dut.cycle.value)
            # A block may send beats of the cut frame before the reset: those are not counted.
            recorded = {port: int(getattr(dut, f"{port}_count").value) for port in job["recorders"]}
            record["resets"][-1]["recorded"] = recorded
        elif "expect" in step:
            before = record["resets"][-1]["recorded"] if record["resets"] else {}
            for port, count in step["expect"].items():
                getattr(dut, f"{port}_expect").value = count + before.get(port, 0)
            for port in step["expect"]:
                await _until(dut, f"{port}_done")
            await ClockCycles(dut.clk, job.get("drain_cycles", 20))


def _counts(dut, job):
    counts = {}
    for port in job["players"]:
        counts[port] = {"sent": int(getattr(dut, f"{port}_sent").value),
                        "underrun": int(getattr(dut, f"{port}_underrun").value)}
    for port in job["recorders"]:
        counts[port] = {"count": int(getattr(dut, f"{port}_count").value),
                        "last": int(getattr(dut, f"{port}_last").value),
                        "errors": int(getattr(dut, f"{port}_errors").value)}
    return counts


@cocotb.test()
async def run_bench(dut):
    """Run the job named by the WCCGEN_JOB environment variable and write its run record."""
    with open(os.environ["WCCGEN_JOB"]) as f:
        job = json.load(f)
    # Writes at time 0 are lost on Icarus: settle first.
    await Timer(1, "ns")
    dut.rst.value = 1
    dut.running.value = 0
    for name, value in job.get("settings", {}).items():
        getattr(dut, f"setting_{name}").value = value
    for port, stream in job["players"].items():
        getattr(dut, f"{port}_play").value = 0
        getattr(dut, f"{port}_seed").value = stream["seed"]
        getattr(dut, f"{port}_idle").value = stream["idle"]
    for port, stream in job["recorders"].items():
        getattr(dut, f"{port}_expect").value = 0
        getattr(dut, f"{port}_seed").value = stream["seed"]
        getattr(dut, f"{port}_backpressure").value = stream["backpressure"]
    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    await ClockCycles(dut.clk, START_CYCLES)
    dut.running.value = 1
    dut.rst.value = 0
    record = {"played": {port: 0 for port in job["players"]}, "resets": [], "timed_out": False,
              "watchdog_cycles": job["watchdog_cycles"]}
    await RisingEdge(dut.clk)
    record["start_cycle"] = int(dut.cycle.value)
    try:
        await with_timeout(_steps(dut, job, record), job["watchdog_cycles"] * CLOCK_NS, "ns")
    except SimTimeoutError:
        record["timed_out"] = True
    record["end_cycle"] = int(dut.cycle.value)
    record["counts"] = _counts(dut, job)
    record["status"] = {name: int(getattr(dut, f"status_{name}").value) for name in job.get("status", [])}
    with open(job["record"], "w") as f:
        json.dump(record, f, indent=2)
