"""Tables of several layers side by side: the layout helpers against brute force, then an engine serving several
layers of one shape (every layer's weights and tables held, the ``layer`` setting chooses), each layer bit-exact on
every stream with the others' tables beside it."""

import dataclasses

import numpy as np
import pytest
from amaranth.hdl import Const

from wccgen.golden.bundle import random_bundle
from wccgen.hw.layer_tables import MAX_LAYERS, check_layers, layer_address, layer_stride, split_layers, stacked_init
from wccgen.hw.wcc_layer import TAPS, WccLayer, WccLayerSpec
from wccgen.sim.harness import run_block
from wccgen.sim.layer_streams import layer_expectation
from wccgen.spec.wcc_config import WccConfig

from helpers import assert_exact

CONFIG = WccConfig(height=8, width=8, channels_in=4, channels_out=6, levels=2, rate=0.5)
#: PE 2 x SIMD 2 on 4 -> 6 channels: 6 folds per vector and 3 output groups, neither a power of two, so each
#: layer's part of the weight and requantizer memories is padded to its stride.
PARAMS = {"lanes_in": 2, "pe": 2, "simd": 2}


@pytest.mark.parametrize("depth", [1, 2, 3, 5, 6, 8, 9, 48])
def test_each_layer_starts_at_its_stride(depth):
    stride = layer_stride(depth)
    assert stride >= depth and stride & (stride - 1) == 0 and (stride == 1 or stride // 2 < depth)
    parts = [[100 * layer + entry for entry in range(depth)] for layer in range(3)]
    init = stacked_init(parts, depth)
    for layer in range(3):
        for entry in range(depth):
            address = Const.cast(layer_address(Const(layer, 2), Const(entry, max(depth - 1, 1).bit_length()), depth))
            assert address.value == layer * stride + entry and init[address.value] == parts[layer][entry]


def test_tables_split_by_layer_or_refused():
    assert split_layers(range(6), 2, "shifts", 3, "level") == ((0, 1, 2), (3, 4, 5))
    with pytest.raises(ValueError, match=r"^shifts: must give one value per level \(3\), got 4$"):
        split_layers(range(4), 1, "shifts", 3, "level")
    with pytest.raises(ValueError, match=r"^biases: must give one value per channel and layer \(4 x 2 layers = 8\), "
                                         r"got 6$"):
        split_layers(range(6), 2, "biases", 4, "channel")
    assert check_layers(MAX_LAYERS) == MAX_LAYERS
    with pytest.raises(ValueError, match=rf"^layers: must lie in \[1, {MAX_LAYERS}\], got {MAX_LAYERS + 1}$"):
        check_layers(MAX_LAYERS + 1)


def three_layers(config=CONFIG):
    """Three layers of one shape whose tables differ everywhere, shifts too (so every choice has options)."""
    first, second, third = (random_bundle(config, seed=seed, activation="relu") for seed in (1, 2, 3))
    second = dataclasses.replace(second, coef_shift=second.coef_shift + 1, name="second")
    third = dataclasses.replace(third, out_shift=third.out_shift - np.arange(config.channels_out) % 2,
                                name="third")
    return [dataclasses.replace(first, name="first"), second, third]


@pytest.fixture(scope="module")
def saved_layers(tmp_path_factory):
    directory = tmp_path_factory.mktemp("bundles")
    bundles = three_layers()
    for bundle in bundles:
        bundle.save(directory / bundle.name)
    return bundles, [str(directory / bundle.name) for bundle in bundles]


@pytest.mark.parametrize("index,traffic", [(0, {}), (1, {"idle": 0.3, "backpressure": 0.3}), (2, {})])
def test_each_layer_of_a_shared_engine_is_exact(tmp_path, rng, saved_layers, index, traffic):
    bundles, paths = saved_layers
    engine = WccLayerSpec(bundles=bundles, **PARAMS)
    frames = [rng.integers(-127, 128, size=(4, 8, 8)) for _ in range(3)]
    _, outputs, taps = layer_expectation(engine, frames, index)
    others = [layer_expectation(engine, frames, other)[1] for other in range(3) if other != index]
    # The layers compute different things on the same frames: a wrong choice of tables cannot pass.
    assert all(not np.array_equal(outputs[0], other[0]) for other in others)
    report = run_block("WccLayer", {"bundles": paths, **PARAMS}, frames, outputs, tmp_path / "sim",
                       taps_expected=taps, settings={"layer": index}, seed=index, **traffic)
    assert_exact(report)
    assert report["streams_compared"] == [tap.name for tap in TAPS] + ["output"]


def test_an_engine_of_one_layer_has_no_layer_input():
    bundle = random_bundle(CONFIG, seed=1)
    assert "layer" not in WccLayer.members(WccLayerSpec(bundle=bundle, **PARAMS))
    assert "layer" in WccLayer.members(WccLayerSpec(bundles=three_layers(), **PARAMS))
    header = WccLayerSpec(bundles=three_layers(), **PARAMS).header_parameters()
    assert [layer["name"] for layer in header["bundles"]] == ["first", "second", "third"]


def test_layers_of_another_shape_or_clamp_are_refused():
    bundles = three_layers()
    wider = random_bundle(dataclasses.replace(CONFIG, channels_out=8), seed=4)
    with pytest.raises(ValueError, match=r"^bundles\[1\]: random differs from bundles\[0\] \(first\) in "
                                         r"channels_out; one engine serves layers of one shape"):
        WccLayerSpec(bundles=[bundles[0], wider], **PARAMS)
    clamped = dataclasses.replace(bundles[2], out_max=bundles[2].out_max - 1)
    with pytest.raises(ValueError, match=r"^bundles\[2\]: its output clamp .* one engine has one clamp"):
        WccLayerSpec(bundles=[*bundles[:2], clamped], **PARAMS)
    with pytest.raises(ValueError, match=r"^bundle, bundles: give one layer"):
        WccLayerSpec(bundle=bundles[1], bundles=bundles, **PARAMS)
    with pytest.raises(TypeError, match=r"^bundle: missing"):
        WccLayerSpec(**PARAMS)
    with pytest.raises(TypeError, match=r"^bundles\[1\]: must be a LayerBundle, got str"):
        WccLayerSpec(bundles=[bundles[0], "second"], **PARAMS)


def test_a_layer_setting_out_of_range_is_refused_before_the_build(tmp_path, saved_layers):
    bundles, paths = saved_layers
    frame = np.zeros((4, 8, 8), dtype=np.int64)
    _, outputs, _ = layer_expectation(WccLayerSpec(bundles=bundles, **PARAMS), [frame])
    with pytest.raises(ValueError, match=r"^settings: layer must be an integer in \[0, 2\], got 3"):
        run_block("WccLayer", {"bundles": paths, **PARAMS}, [frame], outputs, tmp_path / "sim",
                  settings={"layer": 3})
    with pytest.raises(ValueError, match=r"^settings: the block has no setting 'lane'"):
        run_block("WccLayer", {"bundles": paths, **PARAMS}, [frame], outputs, tmp_path / "sim",
                  settings={"lane": 0})
