"""CAP's greedy layer-wise choice of dimensions: how many projection rows each 1x1 convolution keeps.

CAP (Tai et al., ICASSP 2022) picks the dimension of every layer's
projection greedily (only the abstract is public; the metric below is
wccgen's). Every compressed layer starts with all its channels; a step takes
``C / 8`` rows (at least one) from one layer, the one whose reduction costs
the least quality per bit saved, until the codes fit the budget. Quality is
the denoising loss (mean squared error against the clean patches) of the
parent model, in float, on the calibration batch, with every compressed
input replaced by its reconstruction from its leading principal components
(fitted once on the same batch, without any reduction); bits are
``k * bit_a`` per pixel of a layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..spec.checks import check_bits
from .channel_pca import fit_channel_pca

__all__ = ["Allocation", "greedy_allocation", "rows_step"]


def rows_step(channels):
    """Rows one greedy step takes from a layer of ``channels`` input channels: ``max(1, channels // 8)``."""
    return max(1, channels // 8)


@dataclass(frozen=True)
class Allocation:
    """The greedy choice.

    Attributes
    ----------
    layers : tuple of str
    components : tuple of int
        Rows kept per layer.
    bits_per_activation : float
        ``sum(k) * bit_a / sum(C)`` at the choice.
    steps : tuple of (str, int, float, float)
        Each step: layer reduced, its rows after the step, loss after it, bits per activation after it.
    """

    layers: tuple
    components: tuple
    bits_per_activation: float
    steps: tuple


class _Reconstruct:
    """Forward pre-hook that replaces a layer's input by its reconstruction from the leading ``k`` components."""

    def __init__(self, pca):
        self.basis = torch.from_numpy(pca.basis).float()
        self.mean = torch.from_numpy(pca.mean).float()[None, :, None, None]
        self.k = self.basis.shape[0]

    def __call__(self, module, args):
        if self.k == self.basis.shape[0]:
            return None
        rows = self.basis[:self.k]
        y = torch.einsum("kc,nchw->nkhw", rows, args[0] - self.mean)
        return (torch.einsum("kc,nkhw->nchw", rows, y) + self.mean,)


@torch.no_grad()
def greedy_allocation(model, layers, noisy, clean, bit_a, budget):
    """Choose the rows of every layer in ``layers`` (names in ``model``) for ``budget`` bits per activation.

    Parameters
    ----------
    model : torch.nn.Module
        The parent model, in float.
    layers : sequence of str
        The compressed 1x1 convolutions.
    noisy, clean : torch.Tensor, shape (N, 1, H, W)
        The calibration batch.
    bit_a : int
        Code width.
    budget : float
        Bits per activation to reach, ``(0, bit_a]``.

    Returns
    -------
    Allocation
    """
    bit_a = check_bits(bit_a, "bit_a")
    if not (isinstance(budget, (int, float)) and 0 < budget <= bit_a):
        raise ValueError(f"budget: must lie in (0, bit_a = {bit_a}] bits per activation, got {budget!r}")
    layers = tuple(layers)
    if not layers:
        raise ValueError("layers: no layer to allocate")
    inputs, hooks = {}, []
    for name in layers:
        hooks.append(model.get_submodule(name).register_forward_pre_hook(
            lambda module, args, name=name: inputs.__setitem__(name, args[0].double().numpy())))
    model.eval()
    model(noisy)
    for hook in hooks:
        hook.remove()
    reconstructions = {name: _Reconstruct(fit_channel_pca(inputs[name])) for name in layers}
    hooks = [model.get_submodule(name).register_forward_pre_hook(reconstructions[name]) for name in layers]
    channels = np.array([reconstructions[name].k for name in layers])

    def loss():
        return float(torch.mean((model(noisy) - clean) ** 2))

    def bits():
        return float(sum(reconstructions[name].k for name in layers) * bit_a / channels.sum())

    steps = []
    try:
        current = loss()
        while bits() > budget:
            best = None
            for index, name in enumerate(layers):
                step = rows_step(int(channels[index]))
                if reconstructions[name].k - step < 1:
                    continue
                reconstructions[name].k -= step
                cost = (loss() - current) / (step * bit_a)
                reconstructions[name].k += step
                if best is None or cost < best[0]:  # ties go to the earlier layer
                    best = (cost, name, step)
            if best is None:
                break
            _, name, step = best
            reconstructions[name].k -= step
            current = loss()
            steps.append((name, reconstructions[name].k, current, bits()))
    finally:
        for hook in hooks:
            hook.remove()
    return Allocation(layers=layers, components=tuple(reconstructions[name].k for name in layers),
                      bits_per_activation=bits(), steps=tuple(steps))
