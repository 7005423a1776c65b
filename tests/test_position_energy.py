"""PositionEnergy: ``golden.energy`` against the orthonormal energy of PyWavelets' scale and a plain loop, then the
block in Amaranth's simulator against ``golden.energy``."""

import numpy as np
import pytest
import torch

from wccgen.golden import energy, haar_forward, level_map
from wccgen.golden.torch_haar import haar_forward_float
from wccgen.hw.position_energy import PositionEnergy, PositionEnergySpec

from helpers import run_always_ready


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


def test_bad_energy_inputs():
    with pytest.raises(ValueError, match="mode"):
        energy(np.ones((1, 2, 2), dtype=np.int64), 1, "cube")


# -- the block, in Amaranth's simulator against ``energy`` --------------------------------------------------------

def level_ranged_frame(rng, coef_bits, channels, side, levels):
    """A coefficient frame whose level-``l`` coefficients span the ``coef_bits - 2 * (levels - l)`` bits that
    ``HaarForward`` gives them, extremes included."""
    gain = levels - level_map(side, side, levels)
    limit = 1 << (coef_bits - 1 - 2 * gain)
    frame = np.floor(rng.random((channels, side, side)) * 2 * limit).astype(np.int64) - limit
    frame[0] = -limit  # the most negative value at every position of one channel
    return frame


@pytest.mark.parametrize("mode", ["square", "abs"])
@pytest.mark.parametrize("coef_bits,channels,lanes,levels,idle", [(12, 4, 1, 1, 0.0), (14, 6, 3, 2, 0.3),
                                                                  (16, 8, 8, 3, 0.4)])
def test_position_energy_block_equals_energy(rng, mode, coef_bits, channels, lanes, levels, idle):
    side = 2 ** levels * 2
    spec = PositionEnergySpec(coef_bits=coef_bits, channels=channels, lanes=lanes, levels=levels, mode=mode)
    dut = PositionEnergy(spec)
    frame = level_ranged_frame(rng, coef_bits, channels, side, levels)
    gains = levels - level_map(side, side, levels)
    payloads = []
    for y in range(side):
        for x in range(side):
            for start in range(0, channels, lanes):
                payloads.append({"data": [int(v) for v in frame[start:start + lanes, y, x]],
                                 "gain": int(gains[y, x]), "group_last": int(start + lanes == channels)})
    received, sent, arrived = run_always_ready(dut, dut.coefficients, dut.energies, payloads, idle=idle,
                                               seed=coef_bits)
    expected = energy(frame, levels, mode)
    assert received == expected.ravel().tolist()
    assert max(received) < 2 ** spec.energy_bits
    last_beats = [cycle for cycle, p in zip(sent, payloads) if p["group_last"]]
    assert [a - s for s, a in zip(last_beats, arrived)] == [spec.latency] * len(arrived)
