"""The soak's trials: drawn from their seeds, varied, and a sample of them run bit-exact on Verilator."""

import pytest

from wccgen.sim.soak import FRAME_KINDS, draw_frames, draw_trial, run_trial


def test_trials_are_seeded_and_varied():
    trials = [draw_trial(seed, 50) for seed in range(1000, 1060)]
    assert [t.describe() for t in trials] == [draw_trial(seed, 50).describe() for seed in range(1000, 1060)]
    assert len({t.describe() for t in trials}) >= 50
    assert {t.target for t in trials} == {"generic", "ecp5"}
    assert {t.params["compressors"] for t in trials} == {1, 2, 3}
    assert {t.config["levels"] for t in trials} == {1, 2, 3}
    assert any(t.reset_after_beats for t in trials) and any(t.reset_after_beats is None for t in trials)
    assert any(t.idle and t.backpressure for t in trials)
    frames = draw_frames(trials[0])
    assert len(frames) == 50 and sum(trials[0].frame_kinds.values()) == 50
    assert set(trials[0].frame_kinds) == set(FRAME_KINDS)


@pytest.mark.parametrize("seed", [0, 1, 3, 1002])
def test_soak_trials_are_bit_exact(seed):
    result = run_trial(draw_trial(seed, 120))
    assert result["passed"], f"seed {seed} ({result['geometry']}): {result['mismatch']}"
    assert result["frames_received"] == 120 and result["simulator"] == "verilator"
