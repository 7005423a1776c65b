"""cocotb test of a generated layer's AXI4-Stream ports with cocotbext-axi's source and sink.

Run by ``test_axi_stream_ports.py``: the job (``WCCGEN_AXI_JOB``, a JSON file) names the frames' bytes, the
pause and backpressure probabilities and their seed; the test writes what the sink received to the job's
``record`` file, and the pytest side compares it with the integer model.
"""

import json
import os
import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, with_timeout
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

CLOCK_NS = 10


def pauses(probability, seed):
    """A pause generator for cocotbext-axi: True (pause this cycle) with ``probability``, seeded."""
    draw = random.Random(seed)
    while True:
        yield draw.random() < probability


@cocotb.test()
async def frames_through_the_axi_stream_ports(dut):
    job = json.loads(Path(os.environ["WCCGEN_AXI_JOB"]).read_text())
    cocotb.start_soon(Clock(dut.clk, CLOCK_NS, unit="ns").start())
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst)
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst)
    source.set_pause_generator(pauses(job["idle"], job["seed"]))
    sink.set_pause_generator(pauses(job["backpressure"], job["seed"] + 1))
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    for frame in job["frames"]:
        data = bytes.fromhex(frame["tdata"])
        # tuser marks the frame's first beat: cocotbext-axi takes it per byte.
        first = frame["beat_bytes"]
        source.send_nowait(AxiStreamFrame(data, tuser=[1] * first + [0] * (len(data) - first)))
    received = []
    for _ in range(job["expected_frames"]):
        frame = await with_timeout(sink.recv(compact=False), job["timeout_cycles"] * CLOCK_NS, "ns")
        # (A frame whose bytes all carry one tuser value holds it once.)
        tuser = frame.tuser if isinstance(frame.tuser, list) else [frame.tuser] * len(frame.tdata)
        received.append({"tdata": bytes(frame.tdata).hex(), "tuser": [int(bit) for bit in tuser]})
    Path(job["record"]).write_text(json.dumps(received))
