"""LayerBundle files: round trip and every way a file can be bad."""

import json

import numpy as np
import pytest

from wccgen.golden import BundleError, LayerBundle, WccConfig, random_bundle
from wccgen.golden.bundle import SCHEMA_VERSION, bundle_paths


@pytest.fixture
def bundle():
    return random_bundle(WccConfig(height=12, width=20, channels_in=6, channels_out=4, levels=2, rate=0.25),
                         seed=3, activation="relu")


@pytest.fixture
def saved(tmp_path, bundle):
    bundle.save(tmp_path / "layer")
    return tmp_path / "layer"


def test_round_trip(saved, bundle):
    for name in ("layer", "layer.json", "layer.npz"):
        loaded = LayerBundle.load(saved.parent / name)
        assert loaded.config == bundle.config
        for array in LayerBundle.ARRAYS:
            assert np.array_equal(getattr(loaded, array), getattr(bundle, array))
        assert (loaded.out_min, loaded.out_max, loaded.activation, loaded.name) == (0, 127, "relu", "random")


def edit_json(saved, change):
    json_path, _ = bundle_paths(saved)
    meta = json.loads(json_path.read_text())
    change(meta)
    json_path.write_text(json.dumps(meta))


@pytest.mark.parametrize("change,match", [
    (lambda m: m.pop("out_min"), "missing field 'out_min'"),
    (lambda m: m["config"].pop("levels"), "missing field 'config.levels'"),
    (lambda m: m.update(schema_version=SCHEMA_VERSION + 1), "newer than this wccgen reads"),
    (lambda m: m.update(schema_version="one"), "schema_version must be a positive integer"),
    (lambda m: m["config"].update(rate=1.5), r"config.rate: must lie in \(0, 1\]"),
    (lambda m: m["config"].update(bit_a=1), r"config.bit_a: must lie in \[2, 16\]"),
    (lambda m: m["config"].update(channels_in=5), r"weights: has shape \(4, 6\), expected \(4, 5\)"),
    (lambda m: m["config"].update(extra=1), "unknown config fields"),
    (lambda m: m.update(out_max=300), r"out_max: 300 outside \[-127, 127\]"),
    (lambda m: m.update(activation="gelu"), "activation: must be one of"),
    (lambda m: m["scales"].update(output_scale=-1.0), "scales.output_scale: must be a positive"),
    (lambda m: m["arrays"].update(weights=[1, 2]), "array 'weights' has shape"),
])
def test_bad_json_fields(saved, change, match):
    edit_json(saved, change)
    with pytest.raises(BundleError, match=match):
        LayerBundle.load(saved)


def test_out_of_range_and_missing_arrays(saved, bundle):
    _, npz_path = bundle_paths(saved)
    arrays = {name: getattr(bundle, name) for name in LayerBundle.ARRAYS}
    arrays["weights"] = arrays["weights"].copy()
    arrays["weights"][2, 1] = 128
    np.savez(npz_path, **arrays)
    with pytest.raises(BundleError, match=r"weights: value 128 at index \(2, 1\) outside \[-127, 127\]"):
        LayerBundle.load(saved)
    del arrays["out_shift"]
    np.savez(npz_path, **arrays)
    with pytest.raises(BundleError, match="missing array 'out_shift'"):
        LayerBundle.load(saved)


def test_corrupt_and_missing_files(saved):
    json_path, npz_path = bundle_paths(saved)
    good = npz_path.read_bytes()
    npz_path.write_bytes(good[:40])
    with pytest.raises(BundleError, match=r"corrupt array file \(not a NumPy .npz archive;") as caught:
        LayerBundle.load(saved)
    np.savez(npz_path, weights=np.array([object()], dtype=object))
    with pytest.raises(BundleError, match=r"corrupt array file \(holds Python objects, not integer arrays;") as other:
        LayerBundle.load(saved)
    assert "pickle" not in str(caught.value) + str(other.value)  # NumPy's advice is not passed on
    npz_path.write_bytes(good)
    json_path.write_text("{not json")
    with pytest.raises(BundleError, match="corrupt JSON"):
        LayerBundle.load(saved)
    npz_path.unlink()
    with pytest.raises(BundleError, match="no such bundle file"):
        LayerBundle.load(saved)


def test_failed_save_leaves_old_files(saved, bundle, monkeypatch):
    json_path, npz_path = bundle_paths(saved)
    before = json_path.read_bytes(), npz_path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        bundle.save(saved)
    assert (json_path.read_bytes(), npz_path.read_bytes()) == before
    assert sorted(p.name for p in saved.parent.iterdir()) == ["layer.json", "layer.npz"]


def test_constructor_validates(bundle):
    with pytest.raises(BundleError, match="out_shift: value 0"):
        LayerBundle(**{**bundle.__dict__, "out_shift": np.zeros(4, dtype=np.int64)})
    with pytest.raises(BundleError, match="coef_multiplier: must hold integers"):
        LayerBundle(**{**bundle.__dict__, "coef_multiplier": np.ones(2)})
