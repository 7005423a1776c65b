"""The ``wccgen`` command line: summaries that add up, and clean failures."""

import json
import subprocess
import sys

import pytest

from wccgen.cli import main


def test_rates_json_reports_what_was_stored(capsys):
    assert main(["rates", "--json", "--size", "40x52", "--rates", "0.5,0.125"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # The default model's first expansion layer: 16 -> 64 channels. 40x52 pads to 40x56 at 3 levels: 2240 positions.
    assert (summary["channels_in"], summary["channels_out"], summary["layer"]) == (16, 64, "blocks.0.expand")
    first, second = summary["results"]
    assert (first["checkpoint"], second["checkpoint"]) == ("wcc50", "wcc12")
    assert (first["positions"], first["kept_positions"], second["kept_positions"]) == (2240, 1120, 280)
    assert first["compressed_bits"] == 16 * 1120 * 8 + 2240
    assert second["stream_bytes"] == -(-(16 * 280 * 8 + 2240) // 8)
    assert first["uncompressed_bits"] == 16 * 40 * 52 * 8
    assert sum(first["kept_per_level"].values()) == 1120
    assert 0 < second["energy_kept"] < first["energy_kept"] <= 1
    assert max(r["max_float_difference_lsb"] for r in summary["results"]) <= 0.51
    assert all(r["denoised_psnr"] > summary["noisy_psnr"] for r in summary["results"])


def test_rates_table(capsys):
    assert main(["rates", "--size", "24x24", "--rates", "0.25", "--layer", "blocks.2.project"]) == 0
    out = capsys.readouterr()
    assert "144/576" in out.out and "bits/act" in out.out and "64 -> 16 channels" in out.out
    assert "rate 0.25" in out.err  # progress goes to standard error


@pytest.mark.parametrize("args,message", [
    (["rates", "--rates", "0.3"], "wccgen: error: rates: the default model has WCC checkpoints for 0.5, 0.25, 0.125; "
                                 "got 0.3"),
    (["rates", "--layer", "tail"], "wccgen: error: layer: 'tail' is not a WCC layer of the default model"),
    (["rates", "--checkpoints", "/nonexistent"], "wccgen: error: /nonexistent/wcc50.pt: checkpoint not found"),
    (["demo", "--checkpoints", "/nonexistent"], "wccgen: error: /nonexistent/wcc25.pt: checkpoint not found"),
    (["demo", "--hw-rate", "0.3"], "wccgen: error: hw-rate: the default model has WCC checkpoints for 0.5, 0.25, "
                                   "0.125; got 0.3"),
    (["rates", "--rates", "0"], "rates: each rate must lie in (0, 1]"),
    (["demo", "--size", "big"], "size: expected HEIGHTxWIDTH"),
    (["demo", "--image", "mars"], "invalid choice: 'mars'"),
    (["eval", "--crop", "0"], "expected a positive integer, got 0"),
    (["train", "--tune-steps", "x"], "expected a positive integer, got 'x'"),
])
def test_bad_input_is_one_clear_line(args, message):
    done = subprocess.run([sys.executable, "-m", "wccgen.cli", *args], capture_output=True, text=True)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
