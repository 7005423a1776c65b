"""The HDL testbench itself: its recorders catch a design that breaks the stream rules or loses beats."""

from dataclasses import dataclass

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import stream
from amaranth.lib.wiring import In, Out

from wccgen.hw.frame_beat import frame_beat
from wccgen.hw.spec_component import SpecComponent
from wccgen.sim import blocks
from wccgen.sim.bench import bench_verilog
from wccgen.sim.blocks import BlockSpec
from wccgen.sim.harness import run_block

from helpers import assert_exact


@dataclass(frozen=True)
class FaultyRegisterSpec:
    fault: str
    lanes: int = 2
    width: int = 8


class FaultyRegister(SpecComponent):
    """A one-beat register between two streams, with a fault on purpose (or none)."""

    Spec = FaultyRegisterSpec

    @classmethod
    def members(cls, spec):
        layout = frame_beat(spec.width, spec.lanes)
        return {"pixels": In(stream.Signature(layout)), "coefficients": Out(stream.Signature(layout))}

    def elaborate(self, platform):
        m = Module()
        i, o = self.pixels, self.coefficients
        m.d.comb += i.ready.eq(~o.valid | o.ready)
        with m.If(i.ready):
            m.d.sync += [o.valid.eq(i.valid), o.payload.eq(i.payload)]
            if self.fault == "swallow_last":
                with m.If(i.valid & i.payload.last):
                    m.d.sync += o.valid.eq(0)
        with m.If(o.valid & ~o.ready):
            if self.fault == "withdraw":
                m.d.sync += o.valid.eq(0)  # the stalled beat vanishes
            elif self.fault == "change_payload":
                m.d.sync += o.payload.data[0].eq(o.payload.data[0] + 1)
        return m


@pytest.fixture
def faulty_block(monkeypatch):
    spec = BlockSpec(FaultyRegister, source="pixels", sink="coefficients")
    monkeypatch.setitem(blocks.BLOCKS, "FaultyRegister", spec)


def run(tmp_path, fault, simulator, **options):
    rng = np.random.default_rng(1)
    frames = [rng.integers(-100, 100, size=(2, 3, 4)) for _ in range(3)]
    return run_block("FaultyRegister", {"fault": fault}, frames, frames, tmp_path, simulator=simulator,
                     idle=0.3, backpressure=0.5, seed=4, **options)


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_a_correct_register_passes_under_idle_and_backpressure(tmp_path, faulty_block, simulator):
    report = run(tmp_path, "none", simulator)
    assert_exact(report)
    assert report["simulator"] == simulator and report["frames_received"] == 3


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
@pytest.mark.parametrize("fault", ["withdraw", "change_payload"])
def test_a_beat_changed_or_withdrawn_while_stalled_is_a_protocol_error(tmp_path, faulty_block, simulator, fault):
    report = run(tmp_path, fault, simulator, watchdog_cycles=20_000)
    assert not report["passed"]
    assert report["protocol_errors"]
    assert all("valid or payload changed before the transfer" in e for e in report["protocol_errors"])


def test_lost_beats_fail_by_count_and_watchdog_never_pass(tmp_path, faulty_block):
    report = run(tmp_path, "swallow_last", "icarus", watchdog_cycles=5_000)
    assert not report["passed"]
    message = report["mismatch"]["message"]
    assert message.startswith("FaultyRegister: no end after 5000 cycles (the testbench's watchdog); stalled streams: ")
    assert report["mismatch"]["stalled"]["coefficients"] == {"beats": 33, "expected": 36,
                                                             "last_cycle": report["mismatch"]["stalled"]
                                                             ["coefficients"]["last_cycle"]}


def test_the_bench_top_depends_on_ports_only(faulty_block):
    """Seeds, probabilities and frames are inputs: one build serves every job of the same Verilog."""
    spec = blocks.BLOCKS["FaultyRegister"]
    text = bench_verilog(spec.signature(FaultyRegisterSpec("none")), spec, "faulty_register")
    assert text == bench_verilog(spec.signature(FaultyRegisterSpec("withdraw")), spec, "faulty_register")
    assert "pixels_idle" in text and "coefficients_backpressure" in text and "wccgen_stream_recorder" in text


def test_probabilities_out_of_range_are_refused(tmp_path, faulty_block):
    with pytest.raises(ValueError, match=r"idle: must be a probability in \[0, 1\], got 1.5"):
        run_block("FaultyRegister", {"fault": "none"}, [], [], tmp_path, idle=1.5)


def test_the_default_watchdog_is_sized_from_the_expected_cycles(tmp_path, faulty_block):
    """A block that never finishes ends a few times past the cycles its frames need, not after hours."""
    report = run(tmp_path, "swallow_last", "icarus")
    # 3 frames of 2 x 3 x 4 values at 2 lanes: 36 beats in and out; idle 0.3 and backpressure 0.5 stretch it.
    stretched = int(4 * 36 / ((1 - 0.3) * (1 - 0.5)))
    assert report["watchdog_cycles"] == stretched + 20_000
    assert report["mismatch"]["message"].startswith(f"FaultyRegister: no end after {stretched + 20_000} cycles")
    assert report["mismatch"]["stalled"]["coefficients"]["beats"] == 33
