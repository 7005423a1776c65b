"""`wccgen sweep`: a grid of jobs on a Dask LocalCluster, a failing job reported without sinking the sweep, a
re-run that skips finished jobs; the sweep file's bad input; the table and the Pareto front."""

import json
import subprocess
import sys

import numpy as np
import pytest

from wccgen.gen.sweep import SweepError, load_sweep, pareto_front, pareto_plot, run_sweep, sweep_jobs, sweep_table


def write(tmp_path, sweep):
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(sweep))
    return path


def test_a_two_job_sweep_on_a_local_cluster(tmp_path):
    """Two jobs on a LocalCluster of two workers: one generates and simulates bit-exact, the other cannot be
    built (PE 65 of 64 channels) and is reported with its message; a re-run skips the finished job only."""
    config = write(tmp_path, {"base": {"size": "8x8", "target": "generic"}, "grid": {"pe": [4, 65]},
                              "simulate": True, "frames": 2, "synth": False})
    lines = []
    summary = run_sweep(config, tmp_path / "out", workers=2, progress=lines.append)
    assert summary["jobs"] == 2 and summary["failed"] == 1 and summary["scheduler"].startswith("a LocalCluster")
    good, bad = summary["rows"]
    assert good["name"] == "pe4" and good["bit_exact"] is True and good["pe"] == 4 and good["cycles"] > 0
    assert bad["name"] == "pe65" and "pe: must lie in [1, channels_out (64)], got 65" in bad["error"]
    assert summary["bit_exact"] is True  # the failed job has no simulation; the other's is exact
    table = (tmp_path / "out" / "sweep.md").read_text().splitlines()
    assert len(table) == 4 and table[2].startswith("| pe4 | 4 x ") and "got 65" in table[3]
    assert json.loads((tmp_path / "out" / "sweep.json").read_text())["rows"][0]["name"] == "pe4"
    assert any("pe65: failed: ValueError: pe: must lie" in line for line in lines)

    again = run_sweep(config, tmp_path / "out", workers=2, progress=lambda message: None)
    good_again, bad_again = again["rows"]
    assert good_again.get("skipped") is True and good_again["cycles"] == good["cycles"]
    assert "skipped" not in bad_again and "got 65" in bad_again["error"]


def test_a_sweep_of_a_model_of_ones_own(tmp_path):
    """From a torch.export program to a bit-exact simulation in one command: the job converts and calibrates the
    named layer of the model."""
    import torch
    from torch import nn

    torch.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 12, 1))
    torch.export.save(torch.export.export(model, (torch.zeros(1, 3, 16, 16),)), tmp_path / "model.pt2")
    config = write(tmp_path, {"base": {"model": str(tmp_path / "model.pt2"), "layer": "2", "size": "8x8",
                                       "target": "generic"},
                              "grid": {"simd": [4]}, "simulate": True, "frames": 2, "synth": False})
    done = subprocess.run([sys.executable, "-m", "wccgen.cli", "sweep", str(config), "--out", str(tmp_path / "out"),
                           "--workers", "1", "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    row, = json.loads(done.stdout)["rows"]
    assert row["name"] == "simd4" and row["bit_exact"] is True and "error" not in row
    manifest = json.loads((tmp_path / "out" / "jobs" / "simd4" / "layer" / "manifest.json").read_text())
    assert manifest["source"]["kind"] == "model" and manifest["parameters"]["config"]["channels_out"] == 12


def test_an_unreachable_scheduler_is_named(tmp_path):
    config = write(tmp_path, {"grid": {"pe": [4]}})
    with pytest.raises(SweepError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_sweep(config, tmp_path / "out", scheduler="tcp://127.0.0.1:9")


@pytest.mark.parametrize("sweep,message", [
    ([1, 2], "must hold a JSON object"),
    ({"grid": {"pe": [4]}, "speed": 3}, "unknown field(s) 'speed'"),
    ({"grid": {}}, "grid: give at least one option to vary"),
    ({"grid": {"pe": 4}}, "grid.pe: must be a non-empty list of values, got 4"),
    ({"grid": {"pe": []}}, "grid.pe: must be a non-empty list"),
    ({"grid": {"pe": [4]}, "base": {"out": "x"}}, "base: unknown or not sweepable option(s) 'out'"),
    ({"grid": {"codec": ["tci"]}}, "grid: unknown or not sweepable option(s) 'codec'"),
    ({"grid": {"pe": [4]}, "frames": 0}, "frames: must be an integer in [1, 1000], got 0"),
    ({"grid": {"pe": [4]}, "seeds": [0]}, "seeds: must be a non-empty list of positive integers"),
    ({"grid": {"pe": [4]}, "synth": "yes"}, "synth: must be true or false"),
    ({"grid": {"pe": [4]}, "synth": False, "simulate": False}, "a job must do one of them"),
])
def test_bad_sweep_files_are_named(tmp_path, sweep, message):
    with pytest.raises(SweepError, match=None) as raised:
        load_sweep(write(tmp_path, sweep))
    assert message in str(raised.value)


def test_a_corrupt_or_missing_sweep_file(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(SweepError, match="not valid JSON"):
        load_sweep(tmp_path / "bad.json")
    with pytest.raises(SweepError, match="no such file"):
        load_sweep(tmp_path / "absent.json")


def test_the_command_line_says_it_in_one_line(tmp_path):
    config = write(tmp_path, {"grid": {"pe": []}})
    done = subprocess.run([sys.executable, "-m", "wccgen.cli", "sweep", str(config), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("wccgen: error: grid.pe: must be a non-empty list")
    assert not (tmp_path / "o").exists()


def test_the_grid_is_the_product_of_its_lists(tmp_path):
    sweep = load_sweep(write(tmp_path, {"base": {"size": "8x8"}, "grid": {"pe": [4, 8], "size": ["8x8", "16x16"],
                                                                          "simd": [2]}}))
    jobs = sweep_jobs(sweep, tmp_path)
    assert [name for name, _ in jobs] == ["pe4_size8x8_simd2", "pe4_size16x16_simd2", "pe8_size8x8_simd2",
                                          "pe8_size16x16_simd2"]
    assert jobs[1][1]["size"] == (16, 16) and jobs[1][1]["out"] == str(tmp_path / "pe4_size16x16_simd2" / "layer")


def test_the_pareto_front_is_what_nothing_beats(tmp_path):
    rng = np.random.default_rng(2)
    rows = [{"name": f"job{i}", "luts": int(luts), "frames_per_second": float(fps)}
            for i, (luts, fps) in enumerate(zip(rng.integers(1000, 5000, 40), rng.integers(10, 100, 40)))]
    rows.append({"name": "failed", "error": "x"})
    front = set(pareto_front(rows))
    measured = [row for row in rows if "luts" in row]

    def beats(a, b):
        return (a["luts"] <= b["luts"] and a["frames_per_second"] >= b["frames_per_second"]
                and (a["luts"] < b["luts"] or a["frames_per_second"] > b["frames_per_second"]))

    assert front and "failed" not in front
    for row in measured:
        assert (row["name"] in front) == (not any(beats(other, row) for other in measured))
    pareto_plot(rows, tmp_path / "pareto.png")
    assert (tmp_path / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_table_keeps_one_line_per_job():
    rows = [{"name": "a", "pe": 4, "simd": 4, "luts": 10, "fmax_mhz": 200.5, "fmax_by_seed": {"1": 200.5, "2": 190.0},
             "frames_per_second": 97.9, "bit_exact": False},
            {"name": "b", "error": "RuntimeError: a | b\nsecond line"}]
    table = sweep_table(rows).splitlines()
    assert len(table) == 4
    assert "| a | 4 x 4 | **no** |" in table[2] and "200.5 (200.5 / 190.0)" in table[2]
    assert table[3].endswith("RuntimeError: a \\| b second line |")
