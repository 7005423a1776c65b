"""CAP's greedy choice of rows against an independent recomputation of every step (SVD reconstructions)."""

import numpy as np
import pytest
import torch

from wccgen.golden.cap_allocation import greedy_allocation, rows_step
from wccgen.golden.denoiser import Denoiser

LAYERS = ["blocks.0.expand", "blocks.0.project", "blocks.1.expand", "blocks.1.project"]


@pytest.fixture(scope="module")
def problem():
    torch.manual_seed(5)
    model = Denoiser(channels=8, expansion=2, blocks=2)
    generator = torch.Generator().manual_seed(6)
    clean = torch.rand(4, 1, 16, 16, generator=generator)
    noisy = clean + 0.1 * torch.randn(clean.shape, generator=generator)
    return model, noisy, clean


def reference_loss(model, noisy, clean, rows):
    """The loss with each layer's input replaced by its rank-``rows[name]`` reconstruction, the principal
    directions taken from an SVD of the unreduced inputs (numpy), applied by replacing the layer's forward."""
    inputs = {}
    hooks = [model.get_submodule(name).register_forward_pre_hook(
        lambda m, a, name=name: inputs.__setitem__(name, a[0].double().numpy())) for name in LAYERS]
    with torch.no_grad():
        model(noisy)
    for hook in hooks:
        hook.remove()
    originals = {}
    for name in LAYERS:
        pixels = inputs[name].transpose(1, 0, 2, 3).reshape(inputs[name].shape[1], -1)
        mean = pixels.mean(axis=1, keepdims=True)
        basis = np.linalg.svd(pixels - mean, full_matrices=False)[0][:, :rows[name]]  # (C, k)
        projector = torch.from_numpy(basis @ basis.T).float()
        offset = torch.from_numpy(mean[:, 0]).float()[None, :, None, None]
        module = model.get_submodule(name)
        originals[name] = module.forward
        module.forward = lambda x, module=module, p=projector, m=offset: torch.nn.Conv2d.forward(
            module, torch.einsum("dc,nchw->ndhw", p, x - m) + m)
    try:
        with torch.no_grad():
            return float(torch.mean((model(noisy) - clean) ** 2))
    finally:
        for name in LAYERS:
            del model.get_submodule(name).forward


def test_every_step_takes_the_cheapest_reduction_per_bit(problem):
    model, noisy, clean = problem
    allocation = greedy_allocation(model, LAYERS, noisy, clean, 4, 2.0)
    channels = {"blocks.0.expand": 8, "blocks.0.project": 16, "blocks.1.expand": 8, "blocks.1.project": 16}
    rows = dict(channels)
    current = reference_loss(model, noisy, clean, rows)
    for name, kept, loss, bits in allocation.steps:
        costs = {}
        for candidate in LAYERS:
            step = rows_step(channels[candidate])
            if rows[candidate] - step >= 1:
                trial = {**rows, candidate: rows[candidate] - step}
                costs[candidate] = (reference_loss(model, noisy, clean, trial) - current) / (step * 4)
        best = min(costs.values())
        # The choice is the cheapest, up to float32 noise between the two implementations.
        assert costs[name] <= best + 1e-6 * max(1.0, abs(best))
        rows[name] -= rows_step(channels[name])
        assert rows[name] == kept
        current = reference_loss(model, noisy, clean, rows)
        assert loss == pytest.approx(current, rel=1e-4)
        assert bits == pytest.approx(sum(rows.values()) * 4 / sum(channels.values()))
    assert allocation.components == tuple(rows[name] for name in LAYERS)
    assert allocation.bits_per_activation <= 2.0 < allocation.steps[-2][3]


@pytest.mark.parametrize("budget, message", [(0, "budget: must lie in"), (4.5, "budget: must lie in"),
                                             ("2", "budget: must lie in")])
def test_a_budget_outside_the_codes_is_refused(problem, budget, message):
    model, noisy, clean = problem
    with pytest.raises(ValueError, match=message):
        greedy_allocation(model, LAYERS, noisy, clean, 4, budget)


def test_no_layers_is_refused(problem):
    model, noisy, clean = problem
    with pytest.raises(ValueError, match="layers: no layer"):
        greedy_allocation(model, [], noisy, clean, 4, 2.0)
