"""Coverage frames and the coverage measure: checked against brute force, then on a real layer's dead channels."""

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from wccgen.gen.layer import LAYER_PARAMETERS, default_checkpoint, generate, layer_from_checkpoint, simulate
from wccgen.golden.bundle import LayerBundle, random_bundle
from wccgen.golden.wcc_layer import wcc_layer
from wccgen.hw.wcc_layer import WccLayerSpec
from wccgen.sim.coverage import coverage_frames, layer_coverage
from wccgen.spec.wcc_config import WccConfig

STREAMS = ("codes", "accumulators", "output")


def changed(bundle, frames, traces, edit):
    """Whether the edited bundle changes any stream on any frame: the whole integer model run again."""
    other = LayerBundle(**{name: getattr(bundle, name) for name in bundle.__dataclass_fields__})
    edit(other)
    for frame, trace in zip(frames, traces):
        again = wcc_layer(frame, other)
        if any(not np.array_equal(getattr(again, name), getattr(trace, name)) for name in STREAMS):
            return True
    return False


def table_edit(name, entry, bit):
    def edit(bundle):
        table = np.array(getattr(bundle, name), dtype=np.int64)
        table[entry] = table[entry] ^ (1 << bit)
        if name in ("coef_multiplier", "coef_shift", "out_shift"):  # fields without a sign
            table[entry] = max(table[entry], 0)
        setattr(bundle, name, table)
    return edit


@pytest.mark.parametrize("seed", [0, 1])
def test_coverage_agrees_with_rerunning_the_whole_model(seed):
    cfg = WccConfig(height=4, width=8, channels_in=3, channels_out=2, levels=2, rate=0.5)
    bundle = random_bundle(cfg, seed=seed, activation="relu")
    rng = np.random.default_rng(seed)
    # Input channel 1 is zero everywhere: its weights can not be seen.
    frames = [rng.integers(-40, 41, size=(3, 4, 8)) * np.array([1, 0, 1])[:, None, None] for _ in range(3)]
    traces = [wcc_layer(f, bundle) for f in frames]
    coverage = layer_coverage(bundle, traces)
    assert "weights of input channel 1 (no nonzero kept code)" in coverage["uncaught"]
    weights_caught = 0
    for o in range(2):
        for i in range(3):
            def edit(b, o=o, i=i):
                b.weights = np.array(b.weights)
                b.weights[o, i] += 1 if b.weights[o, i] < 0 else -1
            weights_caught += changed(bundle, frames, traces, edit)
    assert coverage["weights"]["caught"] == weights_caught == 4
    for block, tables in (("quantizer", {"coef_multiplier": "multiplier", "coef_shift": "shift"}),
                          ("requantizer", {"out_multiplier": "multiplier", "out_shift": "shift",
                                           "out_bias": "bias"})):
        caught = total = 0
        for field, label in tables.items():
            table = np.asarray(getattr(bundle, field))
            missed = [line for line in coverage["uncaught"] if line.startswith(f"{block} {label} ")]
            for entry in range(len(table)):
                bits = 16 if label == "multiplier" else int(np.abs(table).max()).bit_length() + (label == "bias")
                for bit in range(max(bits, 1)):
                    found = changed(bundle, frames, traces, table_edit(field, entry, bit))
                    caught += found
                    total += 1
            assert all(block in line for line in missed)
        assert (coverage[block]["caught"], coverage[block]["total"]) == (caught, total), block


def test_coverage_frames_reach_every_weight_and_both_code_extremes():
    cfg = WccConfig(height=8, width=8, channels_in=6, channels_out=4, levels=3, rate=0.25, in_bits=6)
    bundle = random_bundle(cfg, seed=4)
    frames = coverage_frames(cfg, seed=2)
    assert len(frames) == 12 and all(f.shape == (6, 8, 8) for f in frames)
    assert max(f.max() for f in frames) == 31 and min(f.min() for f in frames) == -31
    coverage = layer_coverage(bundle, [wcc_layer(f, bundle) for f in frames])
    assert coverage["weights"]["fraction"] == 1.0 and coverage["code_extremes"]["fraction"] == 1.0
    # Seeded, and a shorter list is the start of a longer one.
    assert all(np.array_equal(a, b) for a, b in zip(coverage_frames(cfg, 5, seed=2), frames))
    assert coverage_frames(cfg, 0) == []
    with pytest.raises(ValueError, match="coverage frames: must be a non-negative integer"):
        coverage_frames(cfg, -1)


def test_a_corrupt_weight_of_a_channel_photographs_never_reach_is_caught(tmp_path):
    """blocks.2.project of the WCC 12.5 % model: several input channels are zero on every photograph frame."""
    checkpoint = Path(default_checkpoint()).with_name("wcc12.pt")
    generate(layer_from_checkpoint(checkpoint, "blocks.2.project", 8, 8), tmp_path, device="generic")
    photographs_only = simulate(tmp_path, frames=2, coverage_frames=0)
    dead = [line for line in photographs_only["coverage"]["uncaught"] if line.startswith("weights of input channel")]
    assert photographs_only["bit_exact"] and dead, "the photographs reach every channel: pick another layer"
    channel = int(dead[0].split()[4])
    # The hardware made wrong in one weight of that channel: its word in the Verilog's weight memory.
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    mac = WccLayerSpec(bundle=LayerBundle.load(tmp_path / "bundle" / "layer"),
                       **{key: manifest["parameters"][key] for key in LAYER_PARAMETERS}).part("mac")
    weights = np.array(mac.weights)
    weights[3, channel] += 1 if weights[3, channel] < 0 else -1
    wrong = dataclasses.replace(mac, weights=weights)
    (pe, word, value), = [(pe, index, new) for pe in range(mac.pe)
                          for index, (old, new) in enumerate(zip(mac.weight_words(pe), wrong.weight_words(pe)))
                          if old != new]
    verilog = tmp_path / "wcc_layer.v"
    line = re.compile(rf"^(\s*weights{pe}\[{word}\] = (\d+)'h)([0-9a-f]+);$", re.MULTILINE)
    found = line.search(verilog.read_text())
    verilog.write_text(line.sub(lambda m: f"{m.group(1)}{value:0{len(m.group(3))}x};", verilog.read_text(), count=1))
    assert found and line.search(verilog.read_text()).group(3) != found.group(3)
    # The Verilog now differs from the integer model in one weight of that channel.
    assert simulate(tmp_path, frames=2, coverage_frames=0)["bit_exact"]  # photographs alone miss it
    summary = simulate(tmp_path, frames=2)
    assert not summary["bit_exact"]
    assert summary["first_mismatch"]["block"] == "PointwiseMAC" and summary["first_mismatch"]["channel"] == 3
    assert summary["coverage"]["weights"]["fraction"] == 1.0
