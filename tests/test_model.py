"""The built-in default model: architecture, conversions, checkpoints, training, evaluation, `wccgen eval`."""

import json

import pytest
import torch

from wccgen.cli import main
from wccgen.golden import WccConfig
from wccgen.golden.checkpoints import CheckpointError, Stage, default_checkpoint_dir, load_checkpoint, save_checkpoint
from wccgen.golden.conversion import quantize_model, wccify
from wccgen.golden.denoiser import Denoiser
from wccgen.golden.evaluation import activation_bits, evaluate, noisy_photograph
from wccgen.golden.quant_conv import QuantConv2d
from wccgen.golden.training import HELD_OUT, STAGES, TRAINING_PHOTOGRAPHS, TrainingPlan, train, train_stage

STAGE = {stage.name: stage for stage in STAGES}


def test_denoiser_cost_is_dominated_by_pointwise_convolutions():
    model = Denoiser()
    total, pointwise = model.macs_per_pixel()
    # Brute force over the layers' weights: one MAC per weight per output pixel.
    brute = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert total == brute
    assert pointwise / total >= 0.7
    out = model(torch.rand(2, 1, 20, 28))
    assert out.shape == (2, 1, 20, 28)
    with pytest.raises(ValueError, match="x"):
        model(torch.rand(1, 3, 8, 8))


def test_conversions_keep_first_and_last_layers_and_compress_the_pointwise_ones():
    model = Denoiser(channels=4, expansion=2, blocks=2)
    wcc = wccify(model, rate=0.25)
    assert wcc.wcc_layers == ["blocks.0.expand", "blocks.0.project", "blocks.1.expand", "blocks.1.project"]
    assert type(wcc.head) is torch.nn.Conv2d and type(wcc.tail) is torch.nn.Conv2d
    assert isinstance(wcc.blocks[0].depthwise, QuantConv2d) and wcc.blocks[0].depthwise.bit_a == 8
    quantized = quantize_model(model, 8, 8, pointwise_bit_a=2)
    assert quantized.blocks[1].project.bit_a == 2 and quantized.blocks[1].depthwise.bit_a == 8
    assert type(quantized.head) is torch.nn.Conv2d


def test_activation_bits_match_the_stream_size_of_every_layer():
    """Against ``WccConfig.compressed_bits`` of each WCC layer's geometry, an independent count."""
    model = Denoiser(channels=4, expansion=2, blocks=1)
    wcc = wccify(model, rate=0.25, levels=3)
    x = torch.rand(1, 1, 21, 30)
    wcc(x)
    counts = activation_bits(wcc, x)
    expand = WccConfig(height=21, width=30, channels_in=4, channels_out=8, levels=3, rate=0.25)
    project = WccConfig(height=21, width=30, channels_in=8, channels_out=4, levels=3, rate=0.25)
    assert counts["pointwise"] == (expand.compressed_bits + project.compressed_bits, (4 + 8) * 21 * 30)
    assert counts["inner"] == (counts["pointwise"][0] + 8 * 8 * 21 * 30, (4 + 8 + 8) * 21 * 30)
    plain = quantize_model(model, 8, 8, pointwise_bit_a=4)
    assert activation_bits(plain, x)["pointwise"] == (4 * 12 * 21 * 30, 12 * 21 * 30)
    assert activation_bits(model, x)["pointwise"] == (32 * 12 * 21 * 30, 12 * 21 * 30)


def test_training_and_photographs_are_disjoint():
    assert not set(TRAINING_PHOTOGRAPHS) & set(HELD_OUT)
    noisy, clean = noisy_photograph(0, "moon", crop=32)
    again, _ = noisy_photograph(0, "moon", crop=32)
    assert torch.equal(noisy, again)  # seeded noise
    assert 0.05 < float((noisy - clean).std()) < 0.15


TINY = dict(float_steps=4, tune_steps=2, batch=2, patch=16)


def tiny_stages():
    return [STAGE["fp32"], STAGE["q8a8"], Stage("wcc25", "wcc", "q8a8", rate=0.25)]


def test_training_is_deterministic_given_a_seed(tmp_path):
    architecture = Denoiser(channels=4, expansion=2, blocks=1).architecture
    states = []
    for run, seed in enumerate((3, 3, 4)):
        paths = train(tmp_path / str(run), TrainingPlan(**TINY, seed=seed), tiny_stages(), architecture)
        states.append([load_checkpoint(path)[0].state_dict() for path in paths])
    same = all(torch.equal(a[k], b[k]) for a, b in zip(states[0], states[1]) for k in a)
    different = any(not torch.equal(a[k], b[k]) for a, b in zip(states[0], states[2]) for k in a)
    assert same and different


def test_a_stage_needs_its_parent_first(tmp_path):
    with pytest.raises(ValueError, match="wcc50"):
        train(tmp_path, TrainingPlan(**TINY), [STAGE["fp32"], STAGE["wcc50"]])


def test_training_plan_refuses_bad_values():
    with pytest.raises(ValueError, match="patch"):
        TrainingPlan(patch=20)
    with pytest.raises(ValueError, match="tune_steps"):
        TrainingPlan(tune_steps=0)


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("checkpoint") / "q8a8.pt"
    architecture = Denoiser(channels=4, expansion=2, blocks=1).architecture
    model = train_stage(STAGE["fp32"], TrainingPlan(**TINY), architecture)
    model = train_stage(STAGE["q8a8"], TrainingPlan(**TINY), architecture, model.state_dict())
    save_checkpoint(path, model, architecture, STAGE["q8a8"], {"seed": 0})
    return path


def test_checkpoint_round_trip(small_checkpoint):
    model, stage, training = load_checkpoint(small_checkpoint, STAGE["q8a8"])
    assert stage == STAGE["q8a8"] and training == {"seed": 0}
    assert not model.training
    assert isinstance(model.blocks[0].expand, QuantConv2d)


def corrupt(path, source, how):
    data = torch.load(source, weights_only=True)
    if how == "bytes":
        path.write_bytes(b"not a checkpoint at all")
        return
    if how == "truncated":
        path.write_bytes(source.read_bytes()[:1000])
        return
    if how == "format":
        data["format"] = "something-else"
    elif how == "shape":
        data["state"]["blocks.0.expand.weight"] = torch.zeros(3, 3, 1, 1)
    elif how == "missing-key":
        del data["state"]["tail.bias"]
    elif how == "nan":
        data["state"]["head.weight"][0, 0, 0, 0] = float("nan")
    elif how == "architecture":
        data["model"] = {"channels": 4, "expansion": 2, "blocks": 1, "depth": 9}
    torch.save(data, path)


@pytest.mark.parametrize("how,message", [
    ("bytes", "not a readable checkpoint"), ("truncated", "not a readable checkpoint"), ("format", "format"),
    ("shape", "blocks.0.expand.weight has shape"), ("missing-key", "tail.bias"), ("nan", "non-finite"),
    ("architecture", "architecture"),
])
def test_corrupt_checkpoints_are_refused_by_name(tmp_path, small_checkpoint, how, message):
    path = tmp_path / "bad.pt"
    corrupt(path, small_checkpoint, how)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_missing_or_mismatched_checkpoint(tmp_path, small_checkpoint):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nothing.pt")
    with pytest.raises(CheckpointError, match="holds stage 'q8a8'"):
        load_checkpoint(small_checkpoint, STAGE["wcc50"])


# -- the shipped checkpoints -------------------------------------------------------------

def test_shipped_checkpoints_are_the_stages_of_the_default_model():
    for stage in STAGES:
        path = default_checkpoint_dir() / f"{stage.name}.pt"
        assert path.stat().st_size < 200_000
        model, found, training = load_checkpoint(path, stage)
        assert found == stage
        assert training["parent"] == stage.parent
        assert training == {**TrainingPlan().record(), "parent": stage.parent}
        assert [type(m).__name__ for m in model.modules()].count("WCCConv2d") == (6 if stage.kind == "wcc" else 0)


def test_shipped_model_denoises_and_wcc_keeps_most_of_it():
    """On a held-out crop: every stage beats the noisy input; WCC 25 % beats plain 2-bit quantization."""
    result = evaluate(photographs=["astronaut"], crop=96)
    rows = {row["stage"]: row for row in result["rows"]}
    assert all(row["psnr"] > result["noisy"]["psnr"] + 2 for row in result["rows"] if row["stage"] != "q8a2")
    assert rows["fp32"]["psnr"] > rows["q8a2"]["psnr"]
    # At about the same bits (2 + 1/C against 2), WCC keeps more of the float model's quality.
    assert rows["wcc25"]["bits_per_activation"] <= rows["q8a2"]["bits_per_activation"] + 1 / 16
    assert rows["wcc25"]["psnr"] > rows["q8a2"]["psnr"]


def test_wccgen_eval_json_and_plot(tmp_path, capsys):
    plot = tmp_path / "quality.png"
    assert main(["eval", "--photographs", "moon", "--crop", "48", "--plot", str(plot), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [row["stage"] for row in summary["rows"]] == [stage.name for stage in STAGES]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # WCC 50 %: four bits per activation of codes, and a bitmap bit per position shared by 16 or 64 channels.
    assert 4 < summary["rows"][4]["bits_per_activation"] <= 4 + 1 / 16


def test_wccgen_eval_table(capsys):
    assert main(["eval", "--photographs", "gravel", "--crop", "32"]) == 0
    out = capsys.readouterr().out
    assert "| WCC 8/8 12.5% |" in out and "| 8/2 |" in out and "noisy input" in out


def test_wccgen_eval_missing_checkpoints_is_one_line(tmp_path, capsys):
    assert main(["eval", "--checkpoints", str(tmp_path), "--crop", "32"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("wccgen: error:") and "fp32.pt: checkpoint not found" in err
