"""How much of a masked network is still alive."""

from __future__ import annotations

from torch import nn

from ._masking import maskable_entries, masked_layers

__all__ = ["capacity", "count_alive"]


def count_alive(module: nn.Module) -> tuple[int, int]:
    """``(alive, total)`` maskable entries (weights and biases) of *module*.

    >>> from deap_nnprune import MaskedMLP
    >>> count_alive(MaskedMLP((3, 2)))
    (8, 8)
    """
    alive = total = 0
    for layer in masked_layers(module):
        for name, tensor in maskable_entries(layer):
            alive += int(layer.alive(name).sum())
            total += tensor.numel()
    return alive, total


def capacity(module: nn.Module) -> float:
    """Fraction of maskable entries (weights and biases) still alive, in [0, 1].

    Works on an autoencoder or on one half.

    >>> from deap_nnprune import MaskedMLP
    >>> net = MaskedMLP((3, 2))
    >>> net.layers[0].weight_mask[0] = 0   # 3 of 8 entries pruned
    >>> capacity(net)
    0.625
    """
    alive, total = count_alive(module)
    return alive / total
