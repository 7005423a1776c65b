"""Energy and top-k selection against brute-force oracles."""

import numpy as np
import pytest
import torch

from wccgen.golden import energy, haar_forward, keep_count, level_map, topk_select
from wccgen.golden.torch_haar import haar_forward_float
from wccgen.golden.wcc_conv import select_positions


def brute_force_topk(values, keep):
    flat = [int(v) for v in values.ravel()]
    ranked = sorted(range(len(flat)), key=lambda i: (-flat[i], i))
    return sorted(ranked[:keep])


@pytest.mark.parametrize("mode", ["square", "abs"])
@pytest.mark.parametrize("levels", [1, 2, 3])
def test_energy_is_scaled_orthonormal_energy(rng, mode, levels):
    x = rng.integers(-128, 128, size=(5, 12, 20))
    ours = energy(haar_forward(x, levels), levels, mode)
    orthonormal = haar_forward_float(torch.from_numpy(x[None].astype(np.float64)), levels)[0].numpy()
    if mode == "square":
        expected = (orthonormal**2).sum(axis=0) * 4**levels
    else:
        expected = np.abs(orthonormal).sum(axis=0) * 2**levels
    assert np.array_equal(ours, np.rint(expected).astype(np.int64))
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_energy_loop_oracle(rng):
    levels = 2
    coeffs = rng.integers(-300, 300, size=(3, 8, 12))
    ours = energy(coeffs, levels)
    lmap = level_map(8, 12, levels)
    for i in range(8):
        for j in range(12):
            expected = sum(int(coeffs[c, i, j]) ** 2 for c in range(3)) * 4 ** (levels - int(lmap[i, j]))
            assert ours[i, j] == expected


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


def test_keep_count_forgives_float_rounding():
    assert keep_count(100, 0.29) == 29  # binary 0.29 * 100 is 28.999...
    for positions in (3, 768, 1000, 4096 * 3):
        counts = range(1, min(positions, 40) + 1)
        assert [keep_count(positions, n / positions) for n in counts] == list(counts)
    assert keep_count(100, 0.2999) == 29  # a true fraction still floors
    assert keep_count(64, 0.125) == 8
    assert keep_count(63, 0.5) == 31
    with pytest.raises(ValueError, match="rate: .* keeps no position"):
        keep_count(64, 0.01)


@pytest.mark.parametrize("keep", [0, 65, -1])
def test_topk_bad_keep(keep):
    with pytest.raises(ValueError, match="keep"):
        topk_select(np.ones((8, 8), dtype=np.int64), keep)


def test_bad_energy_inputs():
    with pytest.raises(ValueError, match="energy: must be non-negative"):
        topk_select(-np.ones((2, 2), dtype=np.int64), 1)
    with pytest.raises(ValueError, match="mode"):
        energy(np.ones((1, 2, 2), dtype=np.int64), 1, "cube")
