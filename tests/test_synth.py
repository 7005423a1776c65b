"""Device capacities checked before place and route; placer seeds."""

import json

import pytest

from wccgen.gen.synth import TARGETS, DoesNotFit, SynthesisError, check_fit, child_modules, seeds_text, synthesize


def test_a_design_at_capacity_fits_and_one_more_cell_does_not():
    capacity = TARGETS["ecp5-85f"]["capacity"]
    check_fit(dict(capacity), "ecp5-85f")  # exactly full: fits
    for cell, available in capacity.items():
        cells = {**capacity, cell: available + 1}
        with pytest.raises(DoesNotFit) as error:
            check_fit(cells, "ecp5-85f")
        assert f"it needs {available + 1} " in str(error.value) and f"the device has {available}" in str(error.value)
        assert str(error.value).startswith("ecp5-85f: the design does not fit the ECP5 LFE5U-85F")


def test_ice40_counts_pins_too():
    check_fit({"SB_LUT4": 100}, "ice40-up5k", io_bits=39)
    with pytest.raises(DoesNotFit, match="its ports need 40 pins, the package has 39"):
        check_fit({"SB_LUT4": 100}, "ice40-up5k", io_bits=40)
    with pytest.raises(DoesNotFit, match="needs 31 SB_RAM40_4K block RAMs, the device has 30"):
        check_fit({"SB_RAM40_4K": 31}, "ice40-up5k")
    assert issubclass(DoesNotFit, SynthesisError)


COUNTER = """
module counter(input clk, input en, output reg [11:0] count);
  always @(posedge clk) if (en) count <= count + 1'b1;
endmodule
"""


def test_several_seeds_report_the_fastest_placement(tmp_path):
    """Two placer seeds on a small design: each one's Fmax is reported, the best is the result, and its report
    and log are the ones kept under the usual names."""
    verilog = tmp_path / "counter.v"
    verilog.write_text(COUNTER)
    result = synthesize(verilog, "counter", tmp_path / "synth", target="ice40-up5k", clock_mhz=100, seeds=(1, 2))
    assert sorted(result["fmax_by_seed"]) == ["1", "2"]
    assert result["fmax_mhz"] == max(result["fmax_by_seed"].values()) == result["fmax_by_seed"][str(result["seed"])]
    kept = json.loads((tmp_path / "synth" / "counter.pnr.json").read_text())
    best = json.loads((tmp_path / "synth" / f"counter.seed{result['seed']}.pnr.json").read_text())
    assert kept == best
    assert f"placer seed {result['seed']}, the fastest of seeds 1, 2" in seeds_text(result)
    single = synthesize(verilog, "counter", tmp_path / "one", target="ice40-up5k", clock_mhz=100)
    assert single["seed"] == 1 and list(single["fmax_by_seed"]) == ["1"] and seeds_text(single) == ""
    # The router the result names is the one that routed (router1 fails to converge on some layers).
    assert single["router"] == "router2" and "Router2 time" in (tmp_path / "one" / "nextpnr.log").read_text()


# Amaranth's naming: a submodule's module is its parent's name, a dot and its own, as an escaped identifier.
NESTED = COUNTER.replace("module counter(", "module \\top.inner.counter (") + """
module \\top.inner.counter.deep (input clk, output reg q);
  always @(posedge clk) q <= ~q;
endmodule
module \\top.inner (input clk, input en, output [11:0] count);
  \\top.inner.counter  counter (.clk(clk), .en(en), .count(count));
endmodule
module \\top.innermost (input clk, output reg q);
  always @(posedge clk) q <= ~q;
endmodule
module top(input clk, input en, output [11:0] count);
  \\top.inner  inner (.clk(clk), .en(en), .count(count));
endmodule
"""


def test_a_block_of_a_layer_is_placed_alone_by_its_module_name(tmp_path):
    """The children of a module are those one dot below it (not deeper, not a sibling sharing its prefix); one of
    them places alone, out of context, under its dotted name."""
    verilog = tmp_path / "top.v"
    verilog.write_text(NESTED)
    assert child_modules(verilog, "top") == ["top.inner", "top.innermost"]
    assert child_modules(verilog, "top.inner") == ["top.inner.counter"]
    assert child_modules(verilog, "top.inner.counter") == ["top.inner.counter.deep"]
    assert child_modules(verilog, "top.outer") == []
    alone = synthesize(verilog, "top.inner.counter", tmp_path / "alone", target="ecp5-85f", clock_mhz=100)
    whole = synthesize(verilog, "top", tmp_path / "whole", target="ecp5-85f", clock_mhz=100)
    # The counter is the whole design's only logic: alone it maps to the same flip-flops.
    assert alone["ffs"] == whole["ffs"] == 12 and alone["fmax_mhz"] > 100


@pytest.mark.parametrize("seeds", [(), (1, 1)])
def test_seeds_must_be_distinct_and_at_least_one(tmp_path, seeds):
    verilog = tmp_path / "counter.v"
    verilog.write_text(COUNTER)
    with pytest.raises(ValueError, match="^seeds: give one or more distinct placer seeds"):
        synthesize(verilog, "counter", tmp_path / "synth", target="ice40-up5k", seeds=seeds)
    assert not (tmp_path / "synth").exists()


def test_a_tool_past_its_time_limit_is_stopped_and_named(tmp_path, monkeypatch):
    """A limit far below Yosys's run: the tool is stopped and the error names it, the limit and its log."""
    verilog = tmp_path / "counter.v"
    verilog.write_text(COUNTER)
    monkeypatch.setenv("WCCGEN_TOOL_TIMEOUT_MIN", "0.0001")
    with pytest.raises(SynthesisError, match=r"yosys did not finish within 0.0001 minutes and was stopped .*"
                                             r"WCCGEN_TOOL_TIMEOUT_MIN.*yosys.log"):
        synthesize(verilog, "counter", tmp_path / "synth", target="ice40-up5k", clock_mhz=100)


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan"])
def test_a_bad_time_limit_is_refused_before_any_tool_runs(tmp_path, monkeypatch, value):
    verilog = tmp_path / "counter.v"
    verilog.write_text(COUNTER)
    monkeypatch.setenv("WCCGEN_TOOL_TIMEOUT_MIN", value)
    with pytest.raises(ValueError, match="WCCGEN_TOOL_TIMEOUT_MIN: must be a"):
        synthesize(verilog, "counter", tmp_path / "synth", target="ice40-up5k", clock_mhz=100)
    assert not (tmp_path / "synth").exists()
