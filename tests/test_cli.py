"""The ``wccgen`` command line: summaries that add up, and clean failures."""

import json
import subprocess
import sys

import pytest

from wccgen.cli import main


def test_demo_json_reports_what_was_stored(capsys):
    assert main(["demo", "--json", "--size", "40x52", "--channels", "6", "--rates", "0.5,0.125"]) == 0
    summary = json.loads(capsys.readouterr().out)
    # 40x52 pads to 40x56 at 3 levels: 2240 positions.
    first, second = summary["results"]
    assert (first["positions"], first["kept_positions"], second["kept_positions"]) == (2240, 1120, 280)
    assert first["compressed_bits"] == 6 * 1120 * 8 + 2240
    assert second["stream_bytes"] == -(-(6 * 280 * 8 + 2240) // 8)
    assert first["uncompressed_bits"] == 6 * 40 * 52 * 8
    assert sum(first["kept_per_level"].values()) == 1120
    assert 0 < second["energy_kept"] < first["energy_kept"] <= 1
    assert max(r["max_float_difference_lsb"] for r in summary["results"]) <= 0.51


def test_demo_table(capsys):
    assert main(["demo", "--size", "24x24", "--channels", "4", "--rates", "0.25"]) == 0
    out = capsys.readouterr()
    assert "144/576" in out.out and "bits/act" in out.out
    assert "rate 0.25" in out.err  # progress goes to standard error


@pytest.mark.parametrize("args,message", [
    (["demo", "--levels", "9"], "wccgen: error: levels: must lie in [1, 6], got 9"),
    (["demo", "--bit-a", "1"], "wccgen: error: bit_a: must lie in [2, 16], got 1"),
    (["demo", "--size", "1x1", "--rates", "0.01"], "wccgen: error: rate: 0.01 keeps no position of 64"),
    (["demo", "--rates", "0"], "rates: each rate must lie in (0, 1]"),
    (["demo", "--size", "big"], "size: expected HEIGHTxWIDTH"),
    (["demo", "--image", "mars"], "invalid choice: 'mars'"),
])
def test_bad_input_is_one_clear_line(args, message):
    done = subprocess.run([sys.executable, "-m", "wccgen.cli", *args], capture_output=True, text=True)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
