"""TopKSelector: ``golden.topk_select`` against a brute-force sort (and the float layer's selection), then the block
in Amaranth's simulator against ``golden.topk_select``, frame after frame."""

import numpy as np
import pytest
import torch

from wccgen.golden import topk_select
from wccgen.golden.wcc_conv import select_positions
from wccgen.hw.topk_selector import TopKSelector, TopKSelectorSpec

from helpers import simulate


def brute_force_topk(values, keep):
    flat = [int(v) for v in values.ravel()]
    ranked = sorted(range(len(flat)), key=lambda i: (-flat[i], i))
    return sorted(ranked[:keep])


@pytest.mark.parametrize("keep", [1, 7, 32, 63, 64])
def test_topk_matches_brute_force(rng, keep):
    values = rng.integers(0, 1000, size=(8, 8))
    mask, indices = topk_select(values, keep)
    assert list(indices) == brute_force_topk(values, keep)
    assert mask.sum() == keep and np.array_equal(np.flatnonzero(mask.ravel()), indices)


@pytest.mark.parametrize("keep", [1, 5, 40, 64])
def test_topk_all_equal_energies_keeps_lowest_indices(keep):
    mask, indices = topk_select(np.full((8, 8), 77), keep)
    assert list(indices) == list(range(keep))


def test_topk_heavy_ties_match_brute_force(rng):
    for _ in range(50):
        values = rng.integers(0, 3, size=(4, 8))
        keep = int(rng.integers(1, 33))
        assert list(topk_select(values, keep)[1]) == brute_force_topk(values, keep)


def test_float_selection_follows_the_same_tie_break(rng):
    values = rng.integers(0, 4, size=(3, 64))
    for n in range(3):
        torch_indices = select_positions(torch.from_numpy(values.astype(np.float64)), 20)[n].tolist()
        assert torch_indices == brute_force_topk(values[n], 20)


def test_single_dominant_position():
    values = np.zeros((8, 8), dtype=np.int64)
    values[5, 3] = 9
    assert list(topk_select(values, 1)[1]) == [5 * 8 + 3]


@pytest.mark.parametrize("keep", [0, 65, -1])
def test_topk_bad_keep(keep):
    with pytest.raises(ValueError, match="keep"):
        topk_select(np.ones((8, 8), dtype=np.int64), keep)


def test_topk_refuses_negative_energies():
    with pytest.raises(ValueError, match="energy: must be non-negative"):
        topk_select(-np.ones((2, 2), dtype=np.int64), 1)


def test_selector_default_radix_keeps_three_passes():
    """The default digit splits a 31-bit energy into three; the passes are the two histograms and the mask."""
    unit = TopKSelectorSpec(positions=1024, keep=256, energy_bits=31)
    assert (unit.digit_bits, unit.digits, unit.passes) == (11, 3, 3)
    # Wider energies need more digits rather than wider histograms.
    assert TopKSelectorSpec(positions=1024, keep=256, energy_bits=40).digits == 4




# -- the block, in Amaranth's simulator against ``topk_select`` ---------------------------------------------------

def run_selector(spec, frames, *, idle, seed):
    """Feed each frame's energies once the selector is ready, in a random order of positions with random gaps,
    step its mask pass with random gaps; return each frame's verdicts."""
    dut = TopKSelector(spec)
    rng = np.random.default_rng(seed)
    verdicts = []

    async def bench(ctx):
        for energies in frames:
            while not ctx.get(dut.ready):
                await ctx.tick()
            for position in rng.permutation(len(energies)):
                while rng.random() < idle:
                    await ctx.tick()
                ctx.set(dut.energies.valid, 1)
                ctx.set(dut.energies.payload, {"energy": int(energies[position]), "position": int(position)})
                await ctx.tick()
                ctx.set(dut.energies.valid, 0)
            waited = 0
            while not ctx.get(dut.done):
                await ctx.tick()
                waited += 1
                assert waited <= spec.select_cycles, "done later than select_cycles"
            frame_verdicts = []
            steps = 0
            while len(frame_verdicts) < spec.positions:
                stepping = steps < spec.positions and rng.random() >= idle
                ctx.set(dut.step, stepping)
                steps += stepping
                if ctx.get(dut.verdicts.valid):
                    frame_verdicts.append(ctx.get(dut.verdicts.payload))
                await ctx.tick()
            ctx.set(dut.step, 0)
            verdicts.append(frame_verdicts)

    simulate(dut, bench)
    return verdicts


@pytest.mark.parametrize("positions,keep,energy_bits,digit_bits,idle", [
    (16, 1, 8, 2, 0.0), (64, 17, 12, 4, 0.3), (48, 48, 20, None, 0.2), (40, 13, 30, 12, 0.0),
])
def test_topk_selector_block_equals_topk_select(positions, keep, energy_bits, digit_bits, idle):
    rng = np.random.default_rng(positions + keep)
    spec = TopKSelectorSpec(positions=positions, keep=keep, energy_bits=energy_bits, digit_bits=digit_bits)
    top = 2 ** energy_bits
    frames = [rng.integers(0, top, size=positions),
              rng.integers(0, 3, size=positions),  # heavy ties
              np.full(positions, top - 1),  # all equal, at the top of the range
              np.zeros(positions, dtype=np.int64)]
    got = run_selector(spec, frames, idle=idle, seed=keep)
    for energies, verdicts in zip(frames, got):
        mask, _ = topk_select(energies.reshape(1, -1), keep)
        assert verdicts == mask.ravel().astype(int).tolist()
