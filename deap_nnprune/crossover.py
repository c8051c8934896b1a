"""Crossover of masked networks of the same architecture."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._masking import apply_keep, maskable_entries, masked_layers
from ._rng import as_generator
from ._validation import check_float

__all__ = ["cx_masked_uniform"]


def cx_masked_uniform(
    ind1: nn.Module,
    ind2: nn.Module,
    indpb: float = 0.5,
    rng: np.random.Generator | None = None,
) -> tuple[nn.Module, nn.Module]:
    """Uniform crossover of two same-shaped masked networks, in place.

    Each weight and bias entry is swapped between the parents with
    probability *indpb*, together with its Adam moments. Pruning is never
    undone: an entry pruned in either parent is pruned in both children (the
    masks are intersected), so capacity never grows. Returns ``(ind1, ind2)``
    and leaves fitness to the algorithm, like ``deap.tools.cxUniform``.

    >>> import numpy as np
    >>> from deap_nnprune import MaskedMLP
    >>> a, b = MaskedMLP((4, 3)), MaskedMLP((4, 3))
    >>> a.layers[0].weight_mask[0, 0] = 0
    >>> a, b = cx_masked_uniform(a, b, rng=np.random.default_rng(0))
    >>> float(b.layers[0].weight_mask[0, 0]), b.layers[0].weight[0, 0].item() == 0.0
    (0.0, True)
    """
    indpb = check_float("indpb", indpb, low=0.0, high=1.0)
    layers1, layers2 = masked_layers(ind1), masked_layers(ind2)
    shapes1 = [tuple(t.shape) for layer in layers1 for _, t in maskable_entries(layer)]
    shapes2 = [tuple(t.shape) for layer in layers2 for _, t in maskable_entries(layer)]
    if shapes1 != shapes2:
        raise ValueError(f"cx_masked_uniform needs parents of the same shape; got {shapes1} and {shapes2}")
    rng = as_generator(rng)
    with torch.no_grad():
        for layer1, layer2 in zip(layers1, layers2):
            for name, tensor in maskable_entries(layer1):
                swap = torch.from_numpy(rng.random(tuple(tensor.shape)) < indpb).to(tensor.device)
                for t1, t2 in zip((tensor, *layer1.moments(name)), (getattr(layer2, name), *layer2.moments(name))):
                    t1_old = t1.clone()
                    t1.copy_(torch.where(swap, t2, t1))
                    t2.copy_(torch.where(swap, t1_old, t2))
                both_alive = layer1.alive(name) & layer2.alive(name)
                apply_keep(layer1, name, both_alive)
                apply_keep(layer2, name, both_alive)
    return ind1, ind2
