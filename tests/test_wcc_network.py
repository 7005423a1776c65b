"""The network's top: its engines side by side, each engine's ports under its name, nothing between them."""

import dataclasses

import pytest

from wccgen.golden.bundle import random_bundle
from wccgen.hw.verilog import emit_verilog
from wccgen.hw.wcc_layer import WccLayer, WccLayerSpec
from wccgen.hw.wcc_network import WccNetwork, WccNetworkSpec
from wccgen.spec.wcc_config import WccConfig

EXPAND = WccConfig(height=8, width=8, channels_in=2, channels_out=4, levels=2, rate=0.5)
PROJECT = dataclasses.replace(EXPAND, channels_in=4, channels_out=2)


def engines():
    expansions = [random_bundle(EXPAND, seed=seed, activation="relu6") for seed in (1, 2)]
    return {"expand": WccLayerSpec(bundles=expansions, lanes_in=2, pe=2, simd=2),
            "project": WccLayerSpec(bundle=random_bundle(PROJECT, seed=3), lanes_in=2, pe=2, simd=2)}


def test_each_engine_brings_out_its_streams_and_layer_input():
    specs = engines()
    members = WccNetwork.members(WccNetworkSpec(engines=specs))
    assert set(members) == {"expand_pixels", "expand_output", "expand_layer", "project_pixels", "project_output"}
    for name, spec in specs.items():
        ports = WccLayer.members(spec)
        assert members[f"{name}_pixels"] == ports["pixels"] and members[f"{name}_output"] == ports["output"]
    text = emit_verilog(WccNetwork(WccNetworkSpec(engines=specs)), "wcc_network", {}, target="generic")
    header = text.split("module wcc_network(", 1)[1].split(");", 1)[0]
    assert "expand_layer" in header and "project_layer" not in header and "tap_" not in header
    assert "  input expand_layer;" in text


@pytest.mark.parametrize("engines_value,error,message", [
    ({}, TypeError, r"^engines: must be a non-empty dict"),
    ({"two words": None}, ValueError, r"^engines: an engine name must be an identifier, got 'two words'"),
    ({"expand": "spec"}, TypeError, r"^engines\['expand'\]: must be a WccLayerSpec, got str"),
])
def test_bad_engines_are_refused(engines_value, error, message):
    with pytest.raises(error, match=message):
        WccNetworkSpec(engines=engines_value)
