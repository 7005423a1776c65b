"""The built-in default model: architecture, conversions, checkpoints, training, evaluation, `wccgen eval`."""

import json
from dataclasses import replace

import numpy as np
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


TINY = dict(float_steps=4, tune_steps=2, batch=2, patch=16, replicas=1, calibration=4)


def tiny_stages():
    return [STAGE["fp32"], STAGE["q8a8"], Stage("wcc25", "wcc", "q8a8", rate=0.25)]


def test_replicas_and_processes_give_the_checkpoints_of_one_process(tmp_path):
    """Two replicas of two stages from one parent, in one process and in two: the same checkpoints; replicas differ;
    a second run with keep trains nothing."""
    architecture = Denoiser(channels=4, expansion=2, blocks=1).architecture
    plan = TrainingPlan(**{**TINY, "replicas": 2})
    stages = [STAGE["fp32"], STAGE["q8a8"], STAGE["q8a2"], STAGE["wcc25"]]
    serial = train(tmp_path / "serial", plan, stages, architecture, jobs=1)
    parallel = train(tmp_path / "parallel", plan, stages, architecture, jobs=2)
    names = sorted(path.rsplit("/", 1)[1] for path in serial)
    assert names == sorted(path.rsplit("/", 1)[1] for path in parallel) == [
        "fp32.pt", "q8a2.pt", "q8a2.seed1.pt", "q8a8.pt", "wcc25.pt", "wcc25.seed1.pt"]
    for name in names:
        a, b = (load_checkpoint(tmp_path / run / name)[0].state_dict() for run in ("serial", "parallel"))
        assert all(torch.equal(a[key], b[key]) for key in a), name
    first, second = (load_checkpoint(tmp_path / "serial" / name)[0].state_dict() for name in ("wcc25.pt", "wcc25.seed1.pt"))
    assert any(not torch.equal(first[key], second[key]) for key in first)
    _, _, record = load_checkpoint(tmp_path / "serial" / "wcc25.seed1.pt")
    assert record["replica"] == 1 and record["parent"] == "q8a8" and record["stage_seed"] == plan.stage_seed(STAGE["wcc25"], 1)
    assert [point[0] for point in record["curve"]] == [0, 1, 2]  # validation PSNR at every step of a 2-step run
    messages = []
    again = train(tmp_path / "serial", plan, stages, architecture, progress=messages.append, keep=True)
    assert sorted(again) == sorted(serial) and not any(message.startswith("training") for message in messages)
    # Checkpoints another plan trained are not replaced without force, and nothing is touched before the refusal.
    before = {name: (tmp_path / "serial" / name).read_bytes() for name in names}
    other = TrainingPlan(**{**TINY, "replicas": 2, "seed": 7})
    for keep in (False, True):
        with pytest.raises(ValueError, match=r"out: .* holds 6 checkpoint\(s\) this run would replace \(fp32.pt, "
                                             r"q8a8.pt, q8a2.pt, \.\.\.\); give --force"):
            train(tmp_path / "serial", other, stages, architecture, keep=keep)
    assert before == {name: (tmp_path / "serial" / name).read_bytes() for name in names}
    train(tmp_path / "serial", other, stages[:1], architecture, force=True)
    assert load_checkpoint(tmp_path / "serial" / "fp32.pt")[2]["seed"] == 7


def test_a_learned_step_child_is_calibrated_and_a_pact_child_inherits_the_clip():
    """From the 8/8 parent: an LSQ 2-bit input quantizer gets an MSE-optimal step and unsigned codes on the
    calibration batch; the PACT 2-bit one keeps the parent's 8-bit clip (the baseline as first published)."""
    from wccgen.golden.quantizers import mse_optimal_step

    architecture = Denoiser(channels=4, expansion=2, blocks=1).architecture
    plan = TrainingPlan(**{**TINY, "tune_steps": 1})
    parent, _ = train_stage(STAGE["fp32"], plan, architecture)
    parent, _ = train_stage(STAGE["q8a8"], plan, architecture, parent.state_dict())
    clip = float(parent.blocks[0].project.input_quant.clip.detach())
    strong_plan = TrainingPlan(**{**TINY, "tune_steps": 1, "tune_lr": 1e-12})  # training barely moves the step
    strong, _ = train_stage(STAGE["q8a2"], strong_plan, architecture, parent.state_dict())
    quantizer = strong.blocks[0].project.input_quant
    assert bool(quantizer.unsigned) and quantizer.range == (0, 3)
    assert quantizer.scale != pytest.approx(1.0) and quantizer.scale < clip / 3
    weak, _ = train_stage(STAGE["q8a2pact"], strong_plan, architecture, parent.state_dict())
    assert float(weak.blocks[0].project.input_quant.clip.detach()) == pytest.approx(clip, rel=1e-6)
    # The step is the MSE-optimal one of what the calibration batch brings to the layer.
    seen = []
    probe = STAGE["q8a2"].convert(Denoiser(**architecture))
    probe.load_state_dict(strong.state_dict())
    probe.blocks[0].project.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0]))
    from wccgen.golden.training import PatchSampler
    sampler = PatchSampler(plan.patch, plan.batch, plan.stage_seed(STAGE["q8a2"], 0))
    with torch.no_grad():
        probe(sampler.sample(plan.calibration)[0])
    assert quantizer.scale == pytest.approx(mse_optimal_step(seen[0], 2, True), rel=1e-3)


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
    model, _ = train_stage(STAGE["fp32"], TrainingPlan(**TINY), architecture)
    model, _ = train_stage(STAGE["q8a8"], TrainingPlan(**TINY), architecture, model.state_dict())
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

@pytest.fixture(scope="module")
def replicated_checkpoints(tmp_path_factory):
    """Two seeds of 8/2 LSQ and WCC 25 % LSQ of a small denoiser, with their parents."""
    directory = tmp_path_factory.mktemp("replicated")
    architecture = Denoiser(channels=4, expansion=2, blocks=1).architecture
    stages = [STAGE["fp32"], STAGE["q8a8"], STAGE["q8a2"], STAGE["wcc25"]]
    train(directory, TrainingPlan(**{**TINY, "float_steps": 30, "tune_steps": 4, "replicas": 2}), stages, architecture)
    return directory, stages


def test_evaluation_rows_are_the_mean_and_spread_of_the_seeds(replicated_checkpoints):
    """Against the models run one by one: per-seed PSNR, their mean and standard deviation, and the integer model
    with per-tile selection (16x16 tiles, and one tile as large as the crop)."""
    import statistics

    from wccgen.golden.evaluation import psnr_ssim
    from wccgen.golden.network import integer_network
    from wccgen.golden.network_export import calibration_images, export_network

    directory, stages = replicated_checkpoints
    photographs = ["moon", "gravel"]
    result = evaluate(directory, stages, photographs, crop=40, tiles=(16, "image"), jobs=2)
    rows = {row["stage"]: row for row in result["rows"]}
    assert [row["seeds"] for row in result["rows"]] == [1, 1, 2, 2]
    images = [noisy_photograph(i, name, 40) for i, name in enumerate(photographs)]
    for name in ("q8a2", "wcc25"):
        per_seed, tiled = [], {"16": [], "image": []}
        for file in (f"{name}.pt", f"{name}.seed1.pt"):
            model = load_checkpoint(directory / file)[0]
            with torch.no_grad():
                per_seed.append(statistics.mean(psnr_ssim(model(x), clean)[0] for x, clean in images))
            if name == "wcc25":
                for tile, size in (("16", lambda x: (16, 16)), ("image", lambda x: tuple(x.shape[2:]))):
                    scores = [psnr_ssim(torch.from_numpy(integer_network(export_network(model, size(x), calibration_images()),
                                                                         x[0, 0].numpy()).output)[None, None], clean)[0]
                              for x, clean in images]
                    tiled[tile].append(statistics.mean(scores))
        row = rows[name]
        assert [r["psnr"] for r in row["replicas"]] == pytest.approx(per_seed, abs=1e-9)
        assert row["psnr"] == pytest.approx(statistics.mean(per_seed), abs=1e-9)
        assert row["psnr_std"] == pytest.approx(statistics.stdev(per_seed), abs=1e-9)
        assert (row["psnr_min"], row["psnr_max"]) == pytest.approx((min(per_seed), max(per_seed)), abs=1e-9)
        if name == "wcc25":
            for tile, values in tiled.items():
                assert row["tiles"][tile]["psnr"] == pytest.approx(statistics.mean(values), abs=1e-9)
                assert row["tiles"][tile]["psnr_std"] == pytest.approx(statistics.stdev(values), abs=1e-9)
        else:
            assert "tiles" not in row
    assert rows["wcc25"]["replicas"][1]["curve"][-1][0] == 4  # the learning curve travels with the row


def test_evaluation_refuses_a_directory_lacking_a_stage_before_any_work(replicated_checkpoints):
    directory, _ = replicated_checkpoints
    with pytest.raises(CheckpointError, match="q8a4.pt: checkpoint not found"):
        evaluate(directory, crop=32)


@pytest.mark.parametrize("tiles,message", [("12", "multiple of 8"), ("0", "positive"), ("16,x", "positive"),
                                           ("512", "to 256"), (",", "must list")])
def test_wccgen_eval_refuses_bad_tiles(tiles, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["eval", "--tiles", tiles])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wccgen: error:") and "--tiles" in err and message in err


def test_shipped_checkpoints_are_the_stages_of_the_default_model():
    """Every stage, the parents once and the compressed stages with every seed, trained by the default plan from
    the one 8/8 parent with equal steps; each carries its learning curve."""
    from wccgen.golden.evaluation import replicas_of
    from wccgen.golden.training import CURVE_POINTS, REPLICAS, checkpoint_name

    plan = TrainingPlan()
    for stage in STAGES:
        replicas = replicas_of(default_checkpoint_dir(), stage)
        assert replicas == list(range(REPLICAS if stage.compressed else 1)), stage.name
        for replica in replicas:
            path = default_checkpoint_dir() / checkpoint_name(stage, replica)
            assert path.stat().st_size < 200_000
            model, found, training = load_checkpoint(path, stage)
            assert found == replace(stage, components=found.components)
            if stage.kind == "cap":  # the greedy rows, within the budget of rate x bit_a bits per activation
                inputs = [m.in_channels for m in model.modules() if type(m).__name__ == "ChannelCodecConv2d"]
                assert len(found.components) == len(inputs)
                assert sum(found.components) * stage.bit_a <= stage.rate * stage.bit_a * sum(inputs)
            else:
                assert found.components == ()
            curve = training.pop("curve")
            assert training == {**plan.record(), "parent": stage.parent, "replica": replica,
                                "stage_seed": plan.stage_seed(stage, replica)}
            assert training["parent"] == (None if stage.kind == "float" else "fp32" if stage.name == "q8a8" else "q8a8")
            steps = plan.float_steps if stage.kind == "float" else plan.tune_steps
            assert len(curve) == CURVE_POINTS + 1 and curve[-1][0] == steps
            names = [type(m).__name__ for m in model.modules()]
            assert names.count("WCCConv2d") == (6 if stage.kind == "wcc" else 0)
            assert names.count("ChannelCodecConv2d") == (6 if stage.kind in ("tci", "dctcm", "cap") else 0)


def test_shipped_model_denoises_and_the_rates_and_quantizers_order_as_documented():
    """On a held-out crop, seed 0: every stage beats the noisy input by far; the strong (LSQ) baseline beats the PACT
    one at 4 and 2 bits and WCC 50 % at 4 bits (docs/results.md); WCC 25 % beats 2-bit quantization with PACT; lower
    keep rates cost quality; the integer model per 16x16 tile stays near the float model; CAP and TCI beat WCC."""
    result = evaluate(photographs=["astronaut"], crop=96, replicas=1, tiles=(16,))
    psnr = {row["stage"]: row["psnr"] for row in result["rows"]}
    assert all(value > result["noisy"]["psnr"] + 4 for value in psnr.values())
    assert psnr["q8a4"] > psnr["q8a4pact"] and psnr["q8a2"] > psnr["q8a2pact"]
    assert psnr["q8a4"] > psnr["wcc50"]
    rows = {row["stage"]: row for row in result["rows"]}
    # At about the same bits (2 + 1/C against 2).
    assert rows["wcc25"]["bits_per_activation"] <= rows["q8a2pact"]["bits_per_activation"] + 1 / 16
    assert psnr["wcc25"] > psnr["q8a2pact"] + 0.5
    assert psnr["wcc50"] > psnr["wcc25"] > psnr["wcc12"]
    for stage in ("wcc50", "wcc25", "wcc12"):
        assert abs(rows[stage]["tiles"]["16"]["psnr"] - psnr[stage]) < 0.5
    # The channel codecs that beat WCC by 0.4-0.55 dB over the four photographs (docs/results.md) are above it on
    # this crop too, at about its bits or fewer (TCI's Huffman bits at most a quarter above).
    for codec, wcc in (("cap50", "wcc50"), ("cap12", "wcc12"), ("tci50", "wcc25"), ("tci25", "wcc12")):
        assert psnr[codec] > psnr[wcc] + 0.15, codec
        assert rows[codec]["bits_per_activation"] < 1.25 * rows[wcc]["bits_per_activation"], codec


def test_wccgen_eval_quick_json_table_and_plots(tmp_path, capsys):
    plot = tmp_path / "quality.png"
    assert main(["eval", "--quick", "--photographs", "moon", "--plot", str(plot), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [row["stage"] for row in summary["rows"]] == [stage.name for stage in STAGES]
    assert summary["crop"] == 64 and summary["tiles"] == ["16"] and {row["seeds"] for row in summary["rows"]} == {1}
    for path in (plot, tmp_path / "quality_curves.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = {row["stage"]: row for row in summary["rows"]}
    # WCC 50 %: four bits per activation of codes, and a bitmap bit per position shared by 16 or 64 channels.
    assert 4 < rows["wcc50"]["bits_per_activation"] <= 4 + 1 / 16
    assert set(rows["wcc25"]["tiles"]) == {"16"} and "tiles" not in rows["wcc25pact"]
    assert main(["eval", "--quick", "--photographs", "gravel", "moon"]) == 0
    out = capsys.readouterr().out
    assert "| WCC 8/8 12.5% LSQ | 1 |" in out and "| 8/2 LSQ | 1 | 2.000 |" in out and "noisy input" in out
    assert "integer, 16x16 tiles" in out and "| model | gravel | moon |" in out


def test_wccgen_eval_missing_checkpoints_is_one_line(tmp_path, capsys):
    assert main(["eval", "--checkpoints", str(tmp_path), "--crop", "32"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("wccgen: error:") and "fp32.pt: checkpoint not found" in err


@pytest.mark.parametrize("codec", ["tci", "dctcm", "cap"])
def test_codec_bits_are_the_integer_models_streams(codec):
    """The bits the evaluation counts for a channel codec are the sizes of the streams its integer model writes,
    layer by layer (plus, for TCI, its Huffman table once per image per layer)."""
    from wccgen.golden.codec_conv import ChannelCodecConv2d
    from wccgen.golden.codec_export import codec_input_codes, export_codec_layer
    from wccgen.golden.codec_layer import codec_layer
    from wccgen.golden.conversion import codecify
    from wccgen.golden.evaluation import huffman_tables, pointwise_macs_per_pixel

    torch.manual_seed(3)
    model = codecify(Denoiser(channels=8, expansion=2, blocks=1), codec, rate=0.5, bit_a=4)
    x = torch.rand(2, 1, 12, 10)
    with torch.no_grad():
        model(x)  # calibration
    inputs = {}
    layers = [m for m in model.modules() if isinstance(m, ChannelCodecConv2d)]
    hooks = [m.register_forward_pre_hook(lambda m, a: inputs.__setitem__(m, a[0])) for m in layers]
    tables = huffman_tables(model, x) if codec == "tci" else None
    counts = activation_bits(model, x) if codec != "tci" else None
    if codec == "tci":
        from wccgen.golden.evaluation import counted_activation_bits

        with counted_activation_bits(model, tables) as counted, torch.no_grad():
            model(x)
        counts = {key: tuple(value) for key, value in counted.items()}
    for hook in hooks:
        hook.remove()
    expected = 0
    for layer in layers:
        bundle = export_codec_layer(layer, output_scale=0.05, calibration=inputs[layer])
        if codec == "tci":
            bundle.huffman = tables[layer]  # the table the evaluation built from its images
            expected += 2 * tables[layer].side_bits
        for frame in codec_input_codes(layer, inputs[layer]):
            expected += codec_layer(frame, bundle).stream_bits
    assert counts["pointwise"] == (expected, 2 * (8 + 16) * 12 * 10)
    assert pointwise_macs_per_pixel(model) == sum(layer.components * (layer.in_channels + layer.out_channels)
                                                  for layer in layers)
    if codec == "tci":
        with pytest.raises(ValueError, match="tables: a TCI layer's bits need its Huffman table"):
            activation_bits(model, x)


def test_stages_are_chosen_by_method_with_their_parents():
    from wccgen.golden.training import CODEC_STAGES, select_stages

    assert select_stages() == STAGES and set(CODEC_STAGES) <= set(STAGES)
    assert select_stages(("quant", "wcc", "tci", "dctcm", "cap")) == STAGES
    assert [stage.name for stage in select_stages(("cap",))] == ["fp32", "q8a8", "cap50", "cap25", "cap12"]
    chosen = select_stages(("quant", "tci"))
    assert {stage.kind for stage in chosen} == {"float", "quant", "tci"}
    assert [stage for stage in chosen if stage.kind == "tci"] == [s for s in CODEC_STAGES if s.kind == "tci"]
    with pytest.raises(ValueError, match="codecs: must name some of"):
        select_stages(("jpeg",))


@pytest.mark.parametrize("command", ["eval", "train"])
def test_an_unknown_method_is_one_line(command, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([command, "--codecs", "wcc,jpeg"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wccgen: error:") and "--codecs" in err and "'wcc,jpeg'" in err


def test_codec_stages_evaluate_with_their_bits_macs_and_rows(tmp_path):
    """A TCI and a CAP stage of a small denoiser, two seeds each: rows carry the measured bits (TCI's entropy
    below its Huffman bits), the MACs of the transform and the folded convolution, and CAP's rows per seed."""
    from wccgen.golden.training import CODEC_STAGES

    codec_stage = {stage.name: stage for stage in CODEC_STAGES}
    architecture = Denoiser(channels=8, expansion=2, blocks=1).architecture
    stages = [STAGE["fp32"], STAGE["q8a8"], codec_stage["tci50"], codec_stage["cap25"]]
    train(tmp_path, TrainingPlan(**{**TINY, "float_steps": 20, "tune_steps": 2, "replicas": 2}), stages, architecture)
    rows = {row["stage"]: row for row in evaluate(tmp_path, stages, ["moon"], crop=32, tiles=())["rows"]}
    tci, cap = rows["tci50"], rows["cap25"]
    assert tci["seeds"] == cap["seeds"] == 2 and tci["rate"] == 0.5
    assert 0 < tci["entropy_bits_per_activation"] < tci["bits_per_activation"]
    assert tci["macs_per_pixel"] == 4 * (8 + 16) + 8 * (16 + 8)  # 4 and 8 rows of 8 and 16 channels
    for replica in cap["replicas"]:
        rows_kept = replica["components"]
        assert sum(rows_kept) * 8 / (8 + 16) <= 0.25 * 8  # the greedy rows fit the budget
        assert replica["macs_per_pixel"] == rows_kept[0] * (8 + 16) + rows_kept[1] * (16 + 8)
    assert cap["bits_per_activation"] == pytest.approx(
        np.mean([sum(r["components"]) * 8 / (8 + 16) for r in cap["replicas"]]))
