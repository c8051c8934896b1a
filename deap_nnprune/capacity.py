"""How much of a masked network is still alive."""

from __future__ import annotations

from typing import Any

from torch import nn

from ._masking import maskable_entries, masked_layers
from .network import MaskedNetwork

__all__ = ["capacity", "count_alive", "paper_capacity", "record_pruned"]


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


def _counted_halves(module: nn.Module) -> list[nn.Module]:
    """The networks that carry a counter: every :class:`MaskedMLP` inside *module*, else *module*."""
    halves: list[nn.Module] = [m for m in module.modules() if isinstance(m, MaskedNetwork)]
    return halves or [module]


def record_pruned(module: nn.Module) -> None:
    """Set each half's ``pruned_count`` to its dead entries now: what the pruning operators call after a prune.

    This is the paper authors' bookkeeping, kept for :func:`paper_capacity`;
    nothing recounts it later, so weights that training regrows (in the
    regrowth compatibility mode) still count as pruned.

    >>> from deap_nnprune import MaskedMLP
    >>> net = MaskedMLP((3, 2))
    >>> net.layers[0].weight_mask[0] = 0
    >>> record_pruned(net); net.pruned_count
    3
    """
    for half in _counted_halves(module):
        alive, total = count_alive(half)
        counted: Any = half  # a MaskedMLP, or a module of masked layers that takes the attribute
        counted.pruned_count = total - alive


def paper_capacity(module: nn.Module) -> float:
    """``1 - pruned_count / entries`` over the halves of *module*: the capacity the paper reports.

    The authors count the zeros of a network right after each prune, store
    the count on the network, copy it on clone and never recount it; a
    network never pruned counts 0. With persistent masks this equals
    :func:`capacity` right after a pruning operator (crossover, which is no
    prune, does not count); in the regrowth compatibility mode
    it ignores regrowth, so it can be far below the true alive fraction.

    >>> import torch
    >>> from deap_nnprune import MaskedAutoencoder, capacity
    >>> ae = MaskedAutoencoder.from_preset("paper", n_dim=10, persistent_masks=False)
    >>> with torch.no_grad():
    ...     _ = ae.encoder.layers[0].weight.zero_()   # zeroed, but not by a prune: not counted
    >>> paper_capacity(ae), round(capacity(ae), 3)
    (1.0, 0.766)
    """
    pruned = total = 0
    for half in _counted_halves(module):
        pruned += int(getattr(half, "pruned_count", 0))
        total += count_alive(half)[1]
    return 1.0 - pruned / total
