"""Bad input, generated: every case ends with exit status 2, one line naming its culprit, and nothing changed.

Hypothesis draws the bad values (options, config file keys and values,
manifest fields, cut or overwritten files); each case runs ``wccgen`` in this
process and checks that the command printed nothing on standard output, no
traceback, progress lines at most and then one ``wccgen: error:`` line that
names the option, field or file, and that every file of the generated layer
it was pointed at is as it was.
"""

import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wccgen.cli import main

#: The same 25 cases per family on every run, so that a run's verdict is the code's; HYPOTHESIS_PROFILE=thorough
#: draws fresh ones (1000 per family) to look for more.
CASES = settings() if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else settings(max_examples=25,
                                                                                        derandomize=True)


def run(*argv):
    """``wccgen argv`` in this process: (exit status, standard output, standard error)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(arg) for arg in argv])
        except SystemExit as exit:
            status = exit.code
    return status, out.getvalue(), err.getvalue()


def snapshot(directory):
    """Every file under ``directory`` with its SHA-256."""
    return {str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(Path(directory).rglob("*")) if path.is_file()}


def assert_refused(result, *culprits):
    """Exit status 2, nothing on standard output, and one error line after the progress lines naming a culprit."""
    status, out, err = result
    assert status == 2, (status, err)
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("wccgen: error: "), err
    assert all(line.startswith("[") for line in lines[:-1]), err  # progress lines, then the error
    assert any(culprit in lines[-1] for culprit in culprits), (culprits, lines[-1])


@pytest.fixture(scope="module")
def layer():
    """A generated layer (8x8, generic Verilog) that every case points at and must leave as it was."""
    directory = Path(tempfile.mkdtemp(prefix="wccgen-bad-input-"))
    status, _, err = run("generate", "--size", "8x8", "--target", "generic", "--out", directory / "layer")
    assert status == 0, err
    yield directory / "layer", snapshot(directory / "layer")
    shutil.rmtree(directory)


def not_an_integer():
    return st.sampled_from(["", "x", "1.5", "0x10", "1e3", "-", "nan", " ", "3 4", "++3"])


INTEGER_OPTIONS = ["--lanes-in", "--pe", "--simd", "--lanes-out", "--compressors"]


@CASES
@given(option=st.sampled_from(INTEGER_OPTIONS),
       value=st.one_of(st.integers(max_value=0).map(str), not_an_integer()))
def test_generate_refuses_integer_options_that_are_not_positive(layer, option, value):
    directory, before = layer
    assert_refused(run("generate", "--size", "8x8", "--out", directory, "--force", f"{option}={value}"), option)
    assert snapshot(directory) == before


@CASES
@given(option=st.sampled_from(["--pe", "--simd", "--lanes-in", "--lanes-out"]),
       value=st.integers(min_value=65, max_value=10**9))
def test_generate_refuses_parallelism_beyond_the_channels(layer, option, value):
    directory, before = layer
    name = option.removeprefix("--").replace("-", "_")
    assert_refused(run("generate", "--size", "8x8", "--out", directory, "--force", option, value), f"{name}:")
    assert snapshot(directory) == before


@CASES
@given(size=st.one_of(
    st.tuples(st.integers(max_value=0), st.integers(min_value=1, max_value=64)).map(lambda s: f"{s[0]}x{s[1]}"),
    st.tuples(st.integers(min_value=1, max_value=64), st.integers(max_value=0)).map(lambda s: f"{s[0]}x{s[1]}"),
    st.integers(min_value=1, max_value=64).map(str),
    st.sampled_from(["", "x", "8x", "x8", "8x8x8", "eightxeight", "8*8", "8 x 8x"]),
    st.integers(min_value=4097, max_value=10**12).map(lambda side: f"{side}x8")))
def test_generate_refuses_sizes_that_are_not_a_frame(layer, size):
    directory, before = layer
    assert_refused(run("generate", "--size", size, "--out", directory, "--force"), "size")
    assert snapshot(directory) == before


GENERATE_FIELDS = {
    "size": st.one_of(st.integers(), st.lists(st.integers(max_value=0), min_size=2, max_size=2), st.just("0x8")),
    "pe": st.one_of(st.integers(max_value=0), st.text(max_size=3), st.booleans(), st.floats()),
    "simd": st.one_of(st.integers(max_value=0), st.booleans(), st.floats()),
    "lanes_in": st.one_of(st.integers(max_value=0), st.text(max_size=3)),
    "compressors": st.one_of(st.integers(max_value=0), st.floats()),
    "target": st.text(max_size=8).filter(lambda text: text not in ("ecp5-85f", "ice40-up5k", "generic")),
    "network": st.one_of(st.integers(), st.text(max_size=3)),
}


@CASES
@given(data=st.data())
def test_generate_refuses_config_files_with_a_bad_key_or_value(layer, data):
    directory, before = layer
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "layer.json"
        if data.draw(st.booleans(), label="unknown key"):
            key = data.draw(st.text(min_size=1, max_size=12).filter(
                lambda text: text not in ("checkpoint", "layer", "bundle", "size", "image", "lanes_in", "pe", "simd",
                                          "lanes_out", "compressors", "target", "out", "network")), label="key")
            fields = {key: 1}
            culprit = f"unknown option(s) {key!r}"
        else:
            key = data.draw(st.sampled_from(sorted(GENERATE_FIELDS)), label="key")
            value = data.draw(GENERATE_FIELDS[key], label="value")
            if isinstance(value, float) and not math.isfinite(value):
                value = str(value)  # JSON has no NaN or infinity
            fields = {key: value}
            culprit = key
        config.write_text(json.dumps({**fields, "out": str(directory)}))
        assert_refused(run("generate", "--config", config, "--force"), culprit, str(config))
    assert snapshot(directory) == before


@CASES
@given(option=st.sampled_from(["--idle", "--backpressure"]),
       value=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=0.9001), st.just(float("nan"))))
def test_simulate_refuses_stalls_that_would_not_finish(layer, option, value):
    directory, before = layer
    assert_refused(run("simulate", directory, option, repr(value)), option.removeprefix("--"))
    assert snapshot(directory) == before


@CASES
@given(args=st.one_of(
    st.integers(min_value=1001, max_value=10**12).map(lambda n: ["--frames", n]),
    st.integers(max_value=0).map(lambda n: ["--frames", n]),
    st.integers(max_value=-1).map(lambda n: ["--coverage-frames", n]),
    not_an_integer().map(lambda text: ["--frames", text]),
    st.sampled_from(["modelsim", "xsim", "", "ICARUS"]).map(lambda name: ["--sim", name])))
def test_simulate_refuses_frame_counts_and_simulators_out_of_range(layer, args):
    directory, before = layer
    assert_refused(run("simulate", directory, *args), args[0].removeprefix("--").replace("-", "_"), args[0])
    assert snapshot(directory) == before


@CASES
@given(args=st.one_of(
    st.floats(max_value=0.999).map(lambda mhz: ["--clock", repr(mhz)]),
    st.floats(min_value=1000.001).map(lambda mhz: ["--clock", repr(mhz)]),
    st.just(["--clock", "nan"]),
    st.integers(max_value=0).map(lambda n: ["--seeds", n]),
    st.sampled_from(["xc7a35t", "ecp5", ""]).map(lambda target: ["--target", target])))
def test_synth_refuses_clocks_seeds_and_targets_out_of_range(layer, args):
    directory, before = layer
    assert_refused(run("synth", directory, *args), args[0].removeprefix("--"))
    assert snapshot(directory) == before


MANIFEST_VALUES = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.just("../../../etc/passwd"),
                            st.just("/etc/passwd"), st.just("wcc_layer.v\x00"), st.just("bundle/layer\n"),
                            st.lists(st.integers(), max_size=2), st.booleans())


@CASES
@given(field=st.sampled_from(["manifest_version", "top", "verilog", "device", "verilog_target", "bundle",
                              "bundle_sha256", "source", "parameters"]),
       value=MANIFEST_VALUES, delete=st.booleans(), command=st.sampled_from(["simulate", "synth", "bitstream"]))
def test_a_manifest_field_changed_after_generate_is_refused(layer, field, value, delete, command):
    directory, _ = layer
    assert_changed_manifest_refused(directory, field, value, delete, command, "changed since generate",
                                    "generated for")


def assert_changed_manifest_refused(directory, field, value, delete, command, *culprits):
    """``command`` on a copy of ``directory`` whose manifest's ``field`` is ``value`` (or deleted) is refused
    naming the field or one of ``culprits``, and the copy is left as it was."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / Path(directory).name
        shutil.copytree(directory, copy)
        manifest = json.loads((copy / "manifest.json").read_text())
        if not delete and manifest[field] == value:
            return
        if delete:
            del manifest[field]
        else:
            manifest[field] = value
        (copy / "manifest.json").write_text(json.dumps(manifest))
        before = snapshot(copy)
        assert_refused(run(command, copy), field, "manifest", *culprits)
        assert snapshot(copy) == before


@CASES
@given(name=st.sampled_from(["bundle/layer.json", "bundle/layer.npz", "manifest.json"]),
       cut=st.floats(min_value=0.0, max_value=0.95), garbage=st.binary(max_size=16),
       command=st.sampled_from(["simulate", "synth"]))
def test_a_cut_or_overwritten_file_is_refused_naming_it(layer, name, cut, garbage, command):
    directory, _ = layer
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "layer"
        shutil.copytree(directory, copy)
        path = copy / name
        text = path.read_bytes()
        path.write_bytes(text[:int(len(text) * cut)] + garbage)
        before = snapshot(copy)
        assert_refused(run(command, copy), Path(name).name, "manifest", "changed since generate", "bundle")
        assert snapshot(copy) == before


def _earlier_results(copy):
    """Results of an earlier run in ``copy``'s sim/ and synth/ folders, as a run leaves them."""
    for folder in ("sim", "synth/ecp5-85f"):
        (copy / folder).mkdir(parents=True, exist_ok=True)
        (copy / folder / "summary.json").write_text('{"earlier": true}\n')


@pytest.mark.parametrize("command,failing", [("simulate", "wccgen.sim.harness.run_block"),
                                             ("synth", "wccgen.gen.synth.synthesize")])
def test_a_run_that_fails_midway_leaves_the_last_results(layer, monkeypatch, command, failing):
    """A simulation or synthesis that fails after writing part of its folder leaves the earlier results whole, and
    what it wrote in a folder of its own beside them (each writes beside its folder and moves it into place when
    complete)."""
    directory, _ = layer

    def fail_midway(*args, **kwargs):
        folder = Path(args[2] if command == "synth" else args[4])
        (folder / "half-written.txt").write_text("a run that stopped here")
        raise RuntimeError("the tool died")

    monkeypatch.setattr(failing, fail_midway)
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "layer"
        if command == "synth":  # the shared layer's Verilog is generic, which synth refuses before any work
            status, _, err = run("generate", "--size", "8x8", "--out", copy)
            assert status == 0, err
        else:
            shutil.copytree(directory, copy)
        _earlier_results(copy)
        before = snapshot(copy)
        with pytest.raises(RuntimeError, match="the tool died"):
            run(command, copy, *(["--frames", "1"] if command == "simulate" else []))
        failed = copy / ("sim.failed" if command == "simulate" else "synth/ecp5-85f.failed")
        assert (failed / "half-written.txt").is_file()
        shutil.rmtree(failed)
        assert snapshot(copy) == before
        assert not [path for path in copy.rglob("*partial*")]


def test_a_complete_run_replaces_the_last_results_and_names_its_files_in_place(layer):
    directory, _ = layer
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "layer"
        shutil.copytree(directory, copy)
        _earlier_results(copy)
        (copy / "sim.failed").mkdir()  # an earlier failure's files: a complete run makes them stale
        status, out, err = run("simulate", copy, "--full", "8x16", "--coverage-frames", "1", "--json")
        assert status == 0, err
        assert not (copy / "sim.failed").exists()
        summary = json.loads(out)
        assert json.loads((copy / "sim" / "summary.json").read_text()) == summary
        assert summary["full"]["figure"] == str(copy / "sim" / "photograph.png")
        assert Path(summary["full"]["figure"]).is_file() and not [path for path in copy.rglob("*partial*")]


@pytest.fixture(scope="module")
def network():
    """A generated network (a small denoiser of two blocks: four WCC layers on two engines, generic Verilog)."""
    import torch

    from wccgen.golden.checkpoints import Stage, build_model, save_checkpoint
    from wccgen.golden.photographs import grey_photograph
    from wccgen.golden.training import noisy

    directory = Path(tempfile.mkdtemp(prefix="wccgen-bad-network-"))
    architecture, stage = {"channels": 4, "expansion": 2, "blocks": 2}, Stage("tiny", "wcc", rate=0.25)
    torch.manual_seed(3)
    model = build_model(architecture, stage)
    with torch.no_grad():  # calibrates the quantizers' clips
        model(noisy(grey_photograph("camera", 32, 32), torch.Generator().manual_seed(1)))
    model.eval()
    save_checkpoint(directory / "tiny.pt", model, architecture, stage, {"seed": 3, "note": "calibrated, untrained"})
    status, _, err = run("generate", "--network", "--checkpoint", directory / "tiny.pt", "--size", "8x8", "--target",
                         "generic", "--out", directory / "network")
    assert status == 0, err
    yield directory / "network"
    shutil.rmtree(directory)


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 300), st.text(max_size=12),
                        st.lists(st.one_of(st.integers(0, 3), st.text(max_size=6)), max_size=3),
                        st.dictionaries(st.text(max_size=6), st.integers(0, 3), max_size=2))


@CASES
@given(field=st.sampled_from(["manifest_version", "kind", "network", "engines", "layers", "tile", "verilog", "top",
                              "device", "verilog_target", "source"]),
       value=JSON_VALUES, delete=st.booleans(), command=st.sampled_from(["simulate", "synth"]))
def test_a_network_manifest_field_changed_after_generate_is_refused(network, field, value, delete, command):
    assert_changed_manifest_refused(network, field, value, delete, command, "changed since generate",
                                    "generated for", "network")


@CASES
@given(index=st.integers(0, 3), key=st.sampled_from(["engine", "layer_setting", "bundle", "name"]), value=JSON_VALUES)
def test_a_network_layer_record_changed_after_generate_is_refused(network, index, key, value):
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "network"
        shutil.copytree(network, copy)
        manifest = json.loads((copy / "manifest.json").read_text())
        if manifest["layers"][index][key] == value:
            return
        manifest["layers"][index][key] = value
        (copy / "manifest.json").write_text(json.dumps(manifest))
        before = snapshot(copy)
        assert_refused(run("simulate", copy), "layers", "manifest")
        assert snapshot(copy) == before


# -- the model commands: rates, eval, train, demo ------------------------------------------------------------------
MODEL_INTEGER_OPTIONS = [("eval", "--crop"), ("eval", "--replicas"), ("eval", "--jobs"), ("train", "--tune-steps"),
                         ("train", "--float-steps"), ("train", "--replicas"), ("train", "--jobs"), ("train", "--threads"),
                         ("demo", "--frames"), ("demo", "--seeds")]


def model_command(command, tmp, *options):
    """``command`` with ``options``, writing (if it ever wrote) under ``tmp``, which must stay absent."""
    out = {"train": ("--out", tmp / "out"), "demo": ("--out", tmp / "out")}.get(command, ())
    return run(command, *out, *options)


@CASES
@given(pair=st.sampled_from(MODEL_INTEGER_OPTIONS),
       value=st.one_of(st.integers(max_value=0).map(str), not_an_integer()))
def test_model_commands_refuse_integer_options_that_are_not_positive(tmp_path_factory, pair, value):
    tmp = tmp_path_factory.mktemp("model")
    command, option = pair
    assert_refused(model_command(command, tmp, f"{option}={value}"), option)
    assert not (tmp / "out").exists()


@CASES
@given(pair=st.sampled_from([("rates", "--size"), ("demo", "--size"), ("demo", "--hw-size")]),
       size=st.one_of(st.sampled_from(["", "x", "8x", "x8", "8x8x8", "0x8", "8x0", "-8x8", "8.5x8"]),
                      st.integers(min_value=2049, max_value=10**9).map(lambda side: f"{side}x16")))
def test_model_commands_refuse_sizes_that_are_not_a_frame(tmp_path_factory, pair, size):
    tmp = tmp_path_factory.mktemp("model")
    command, option = pair
    assert_refused(model_command(command, tmp, f"{option}={size}"), option.removeprefix("--"))
    assert not (tmp / "out").exists()


@CASES
@given(command=st.sampled_from(["rates", "demo"]),
       rates=st.one_of(st.sampled_from(["", "0", "1.5", "-0.25", "x", "0.5,,0.25", "nan", "inf", "0.5;0.25"]),
                       st.floats(min_value=1.0, exclude_min=True, allow_infinity=False).map(str)))
def test_rates_and_demo_refuse_keep_rates_outside_the_model(tmp_path_factory, command, rates):
    tmp = tmp_path_factory.mktemp("model")
    assert_refused(model_command(command, tmp, f"--rates={rates}"), "rates")
    assert not (tmp / "out").exists()


@CASES
@given(rate=st.one_of(st.sampled_from(["0", "nan", "inf", "-1", "x", ""]), st.floats(0.0, 1.0).map(str)))
def test_demo_refuses_a_hardware_rate_without_a_checkpoint(tmp_path_factory, rate):
    if rate in ("0.5", "0.25", "0.125"):
        return
    tmp = tmp_path_factory.mktemp("model")
    assert_refused(model_command("demo", tmp, f"--hw-rate={rate}"), "hw-rate")
    assert not (tmp / "out").exists()


@CASES
@given(tiles=st.one_of(st.sampled_from(["", ",", "x", "16 32", "IMAGE", "-16", "16,whole"]),
                       st.integers().filter(lambda side: side < 8 or side % 8 or side > 256).map(str)))
def test_eval_refuses_tile_sides_the_generator_does_not_build(tiles):
    assert_refused(run("eval", f"--tiles={tiles}"), "--tiles")
