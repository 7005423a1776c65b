"""The channel DCT of DCT-CM against scipy.fft.dct, and its calibrated mask against a brute-force energy ranking;
then the ChannelDCT block against the integer model on random, extreme and real activations."""

import numpy as np
import pytest
import scipy.fft
from helpers import assert_exact, verilog_that_lints

from wccgen.gen.synth import map_cells
from wccgen.golden.channel_dct import dct_mask_rows, dct_matrix, grouped_dct
from wccgen.golden.channel_transform import channel_transform, fixed_point_rows
from wccgen.golden.checkpoints import default_checkpoint_dir, load_checkpoint
from wccgen.golden.codec_export import codec_input_frames
from wccgen.golden.evaluation import noisy_photograph
from wccgen.hw.channel_dct import ChannelDCT, ChannelDCTSpec, signed_digits
from wccgen.hw.output_queue import OutputQueue
from wccgen.sim.harness import run_block


@pytest.mark.parametrize("size", [1, 2, 3, 8, 16])
def test_dct_matrix_is_scipys_orthonormal_dct(size):
    x = np.random.default_rng(size).normal(size=(size, 5))
    np.testing.assert_allclose(dct_matrix(size) @ x, scipy.fft.dct(x, axis=0, norm="ortho"), atol=1e-12)
    np.testing.assert_allclose(dct_matrix(size) @ dct_matrix(size).T, np.eye(size), atol=1e-12)


def test_grouped_dct_transforms_each_group_alone():
    x = np.random.default_rng(1).normal(size=(24, 7))
    expected = np.concatenate([scipy.fft.dct(x[g:g + 8], axis=0, norm="ortho") for g in range(0, 24, 8)])
    np.testing.assert_allclose(grouped_dct(24, 8) @ x, expected, atol=1e-12)


def test_mask_keeps_the_strongest_coefficients_of_the_calibration_data():
    rng = np.random.default_rng(2)
    activations = rng.normal(size=(3, 16, 5, 6)) * rng.uniform(0.1, 3, size=(1, 16, 1, 1)) + 2.0
    rows, mean = dct_mask_rows(activations, 5, 8)
    # Brute force: every coefficient's mean square, pixel by pixel, with scipy's DCT.
    energy = np.zeros(16)
    for n in range(3):
        for y in range(5):
            for x in range(6):
                pixel = activations[n, :, y, x] - activations.mean(axis=(0, 2, 3))
                energy += np.concatenate([scipy.fft.dct(pixel[g:g + 8], norm="ortho") for g in (0, 8)]) ** 2
    expected = sorted(np.argsort(-energy)[:5])
    np.testing.assert_allclose(rows, grouped_dct(16, 8)[expected], atol=1e-12)
    np.testing.assert_allclose(mean, activations.mean(axis=(0, 2, 3)))


@pytest.mark.parametrize("call, message", [
    (lambda: grouped_dct(12, 8), "group: must divide the channels"),
    (lambda: dct_mask_rows(np.zeros((1, 8, 2, 2)), 9, 8), "components: must lie in"),
    (lambda: dct_mask_rows(np.zeros((8, 2, 2)), 2, 8), "activations: must be"),
    (lambda: dct_matrix(0), "group: must be >= 1"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# The hardware: ChannelDCT against the integer model's channel transform of the same fixed-point rows.


def test_signed_digits_are_the_non_adjacent_form():
    """Brute force over every 13-bit constant: the digits sum to it, no two are neighbours, and none has fewer
    non-zero digits than the binary form of |c| (the NAF is minimal)."""
    for constant in range(-4096, 4097):
        digits = signed_digits(constant)
        assert sum(sign << shift for shift, sign in digits) == constant
        shifts = [shift for shift, _ in digits]
        assert all(b - a >= 2 for a, b in zip(shifts, shifts[1:]))
        assert len(digits) <= bin(abs(constant)).count("1")


@pytest.mark.parametrize("group", [2, 3, 4, 5, 8, 16])
def test_every_fixed_point_dct_row_folds_into_the_butterflies(group):
    """Each row's shifted terms over its folded sources, unfolded butterfly by butterfly, give the full
    fixed-point row (checked coefficient by coefficient), and the butterflies fold every row at least once."""
    spec = ChannelDCTSpec(channels=group, lanes=group, in_bits=8, group=group)
    rows = fixed_point_rows(dct_matrix(group))
    for row in range(group):
        parities, constants = spec.fold(row)
        assert parities, f"row {row} is not folded"
        weights = np.zeros(len(constants), dtype=np.int64)
        for index, shift, sign in spec.row_terms(row):
            weights[index] += sign << shift
        assert np.array_equal(weights, constants)
        # Unfold: a source folded from the pair (i, n-1-i) carries s[i] + parity * s[n-1-i].
        sizes = [group]
        for parity in parities[:-1]:
            sizes.append(sizes[-1] // 2 + (sizes[-1] % 2 if parity > 0 else 0))
        for size, parity in reversed(list(zip(sizes, parities))):
            outer = np.zeros(size, dtype=np.int64)
            for i in range(size // 2):
                outer[i], outer[size - 1 - i] = weights[i], parity * weights[i]
            if size % 2 and parity > 0:
                outer[size // 2] = weights[size // 2]
            weights = outer
        assert np.array_equal(weights, rows[row])


def golden_sums(spec, frame):
    rows = fixed_point_rows(grouped_dct(spec.channels, spec.group))
    return channel_transform(rows, frame)


def run_channel_dct(tmp_path, params, frames, **options):
    spec = ChannelDCTSpec(**params)
    return run_block("ChannelDCT", params, frames, [golden_sums(spec, f) for f in frames], tmp_path, **options)


@pytest.mark.parametrize("channels,lanes,group,in_bits", [(16, 8, 8, 8), (24, 24, 8, 6), (12, 6, 3, 9)])
@pytest.mark.parametrize("traffic", [(0.0, 0.0), (0.3, 0.4)], ids=["streaming", "idle+backpressure"])
def test_channel_dct_random(tmp_path, channels, lanes, group, in_bits, traffic):
    rng = np.random.default_rng(channels + in_bits)
    lo, hi = -(1 << (in_bits - 1)), (1 << (in_bits - 1)) - 1
    frames = [rng.integers(lo, hi + 1, size=(channels, 5, 6)) for _ in range(2)]
    params = dict(channels=channels, lanes=lanes, in_bits=in_bits, group=group)
    report = run_channel_dct(tmp_path, params, frames, idle=traffic[0], backpressure=traffic[1])
    assert_exact(report)
    if traffic == (0.0, 0.0):
        beats = 5 * 6 * channels // lanes
        assert report["cycles_per_frame"] == beats  # one beat per clock
        # The report's latency runs from a frame's last beat in to its first out: the pipeline and the queue,
        # less the frame's other beats.
        assert report["latency"] == ChannelDCTSpec(**params).latency + OutputQueue.push_latency(True) - (beats - 1)


def test_channel_dct_extremes(tmp_path):
    """Every row's largest sums of both signs (inputs at the ends of the range with the row's signs, the most
    negative code included), and constant frames."""
    spec = ChannelDCTSpec(channels=8, lanes=8, in_bits=8)
    rows = fixed_point_rows(dct_matrix(8))
    pixels = [np.where(rows[u] >= 0, 127, -128) for u in range(8)] + [np.where(rows[u] >= 0, -128, 127)
                                                                     for u in range(8)]
    frame = np.array(pixels).T.reshape(8, 4, 4)
    sums = golden_sums(spec, frame)
    bound = 1 << (spec.sum_bits - 1)
    assert sums.max() > bound // 2 and sums.min() < -bound // 2  # the width is used, not oversized
    report = run_channel_dct(tmp_path, dict(channels=8, lanes=8, in_bits=8),
                             [frame, np.full((8, 2, 3), -128), np.full((8, 2, 3), 127)], target="ecp5")
    assert_exact(report)


def shipped_dctcm_inputs(photograph="astronaut", crop=24):
    """The input codes of every DCT-CM layer of the shipped 50 % checkpoint on a noisy held-out crop."""
    model, _, _ = load_checkpoint(default_checkpoint_dir() / "dctcm50.pt")
    return codec_input_frames(model, noisy_photograph(0, photograph, crop)[0])


def test_channel_dct_on_real_activations(tmp_path):
    """The inputs of the shipped DCT-CM model's expansion and projection layers on a held-out photograph."""
    inputs = shipped_dctcm_inputs()
    for name, lanes in (("blocks.0.expand", 16), ("blocks.2.project", 16)):
        frame = inputs[name][0]
        assert np.unique(frame).size > 20
        channels = frame.shape[0]
        report = run_channel_dct(tmp_path / name, dict(channels=channels, lanes=lanes, in_bits=8), [frame],
                                 idle=0.1, backpressure=0.1, target="ecp5")
        assert_exact(report)


def test_channel_dct_maps_to_no_multiplier(tmp_path):
    params = dict(channels=16, lanes=8, in_bits=8)
    verilog_that_lints(tmp_path, lambda: ChannelDCT(**params), "channel_dct", "ecp5")
    _, rtl_cells, cells = map_cells(tmp_path / "channel_dct.v", "channel_dct", tmp_path / "synth")
    assert "$mul" not in rtl_cells and "MULT18X18D" not in cells and cells.get("TRELLIS_FF", 0) > 0


@pytest.mark.parametrize("bad,message", [
    (dict(lanes=5), "lanes: must divide channels"), (dict(group=16), "group: must divide lanes"),
    (dict(group=0), "group"), (dict(in_bits=1), "in_bits"), (dict(channels=0), "channels"),
])
def test_channel_dct_invalid_parameters(bad, message):
    with pytest.raises(ValueError, match=message):
        ChannelDCT(**{**dict(channels=16, lanes=8, in_bits=8), **bad})
