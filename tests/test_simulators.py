"""The simulator build cache: builds found by hash, and the oldest evicted to keep it under its bound."""

import json
import os
import time

import pytest

from wccgen.sim.simulators import CACHE_MIN_AGE_SECONDS, build_simulation, evict_builds


def fake_build(root, name, size, used, stamped=True):
    build = root / name
    (build / "obj").mkdir(parents=True)
    (build / "obj" / "binary").write_bytes(b"x" * size)
    if stamped:
        stamp = build / "wccgen_build.json"
        stamp.write_text(json.dumps({"build_seconds": 1.0}))
        os.utime(stamp, (used, used))
    return build


def test_eviction_removes_the_builds_used_longest_ago_until_the_cache_fits(tmp_path):
    now = time.time()
    old = now - 10 * CACHE_MIN_AGE_SECONDS
    oldest = fake_build(tmp_path, "icarus-a", 4000, old)
    older = fake_build(tmp_path, "icarus-b", 4000, old + 1)
    recent = fake_build(tmp_path, "icarus-c", 4000, now - 60)  # in use within the hour: stays whatever the size
    unfinished = fake_build(tmp_path, "icarus-d", 4000, old, stamped=False)
    (tmp_path / "icarus-a.lock").write_text("")
    removed = evict_builds(tmp_path, limit_bytes=9000, now=now)
    # Three stamped builds of 4000 bytes (the unfinished one does not count): 12000 -> 8000 once the oldest goes.
    assert removed == [oldest]
    assert not oldest.exists() and not (tmp_path / "icarus-a.lock").exists()
    assert older.exists() and recent.exists() and unfinished.exists()
    assert evict_builds(tmp_path, limit_bytes=1, now=now) == [older]  # the recent one is never taken
    assert recent.exists()


def test_a_new_build_evicts_old_ones_beyond_the_bound(tmp_path, monkeypatch):
    """Two real Icarus builds under a bound that holds one: the first, made long ago, goes when the second is made;
    a build found in the cache is marked used."""
    monkeypatch.setenv("WCCGEN_SIM_CACHE", str(tmp_path / "cache"))
    sources = []
    for name in ("first", "second"):
        source = tmp_path / f"{name}.v"
        source.write_text(f"module {name}(input wire a, output wire b); assign b = a; endmodule\n")
        sources.append(source)
    first = build_simulation("icarus", [sources[0]], "first")
    size = sum(path.stat().st_size for path in first.build_dir.rglob("*") if path.is_file())
    long_ago = time.time() - 10 * CACHE_MIN_AGE_SECONDS
    os.utime(first.build_dir / "wccgen_build.json", (long_ago, long_ago))
    again = build_simulation("icarus", [sources[0]], "first")
    assert again.cached and (first.build_dir / "wccgen_build.json").stat().st_mtime > long_ago
    os.utime(first.build_dir / "wccgen_build.json", (long_ago, long_ago))
    monkeypatch.setenv("WCCGEN_SIM_CACHE_GB", str(1.5 * size / 1e9))
    second = build_simulation("icarus", [sources[1]], "second")
    assert not first.build_dir.exists() and second.build_dir.exists()


@pytest.mark.parametrize("value", ["lots", "0", "-1", "nan"])
def test_a_bad_cache_bound_is_refused_naming_the_variable(tmp_path, monkeypatch, value):
    monkeypatch.setenv("WCCGEN_SIM_CACHE", str(tmp_path))
    monkeypatch.setenv("WCCGEN_SIM_CACHE_GB", value)
    source = tmp_path / "top.v"
    source.write_text("module top; endmodule\n")
    with pytest.raises(ValueError, match="WCCGEN_SIM_CACHE_GB"):
        build_simulation("icarus", [source], "top")
