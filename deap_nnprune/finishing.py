"""Compress, then repair: the last step that makes a trained autoencoder sparse for good.

Evolution with the regrowth compatibility mode (``persistent_masks=False``)
uses pruning as a perturbation: training regrows what a prune zeroed, and
the result is good but dense. :func:`mut_prune_finetune` turns such a
network (or any masked network) into a sparse one in three steps, the
classic prune-and-fine-tune recipe: freeze its masks
(:func:`~deap_nnprune.freeze_masks`), remove the weights of smallest
magnitude ranked across all layers until the capacity is at a target
(:func:`~deap_nnprune.mut_prune_magnitude` with ``scope="global"``), and
train the survivors with a fresh, persistent Adam for a few epochs.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from ._masking import freeze_masks, maskable_entries, masked_layers
from ._validation import check_float, check_int
from .capacity import count_alive
from .pruning import mut_prune_magnitude
from .training import mut_train

__all__ = ["mut_prune_finetune", "weights_to_prune"]


def weights_to_prune(individual: nn.Module, capacity: float) -> int:
    """How many alive weights must die for :func:`~deap_nnprune.capacity` to be at most *capacity*.

    Capacity counts weights and biases; only weights are pruned, so the
    count is ``alive - floor(capacity * entries)``, at least 0 and at most
    the alive weights.

    >>> from deap_nnprune import MaskedMLP
    >>> weights_to_prune(MaskedMLP((4, 3)), 0.5)   # 12 weights + 3 biases alive: keep 7
    8
    """
    capacity = check_float("capacity", capacity, low=0.0, high=1.0)
    alive, total = count_alive(individual)
    alive_weights = sum(int(layer.alive("weight").sum()) for layer in masked_layers(individual))
    return min(max(alive - math.floor(capacity * total), 0), alive_weights)


def mut_prune_finetune(
    individual: nn.Module,
    data: Tensor,
    capacity: float = 0.5,
    epochs: int = 10,
    lr: float = 1e-4,
    batch_size: int = 5,
    betas: tuple[float, float] = (0.5, 0.999),
    rng: np.random.Generator | None = None,
    *,
    min_alive: int = 1,
    engine: str = "stacked",
) -> tuple[nn.Module]:
    """Freeze the masks, prune by global magnitude down to *capacity*, then fine-tune with Adam, in place.

    1. :func:`~deap_nnprune.freeze_masks`: a regrowth-mode layer's non-zero
       entries become its mask, kept for good from now on.
    2. The :func:`weights_to_prune` alive weights of smallest ``|w|``, ranked
       across all layers (``torch.nn.utils.prune.global_unstructured`` with
       ``L1Unstructured``), die; biases stay; the largest weight of each
       layer's *min_alive* strongest neurons is spared, so no layer is cut
       off (:func:`~deap_nnprune.mut_prune_magnitude`, ``scope="global"``).
    3. The Adam moments and step counts are reset and the network trains
       *epochs* epochs on *data* (mini-batches of *batch_size*, rate *lr*,
       *betas*, persistent moments, no weight decay;
       :func:`~deap_nnprune.mut_train` with *rng* for the batch order). Dead
       entries stay dead.

    The Adam steps this adds are ``epochs * ceil(len(data) / batch_size)``.
    Returns ``(individual,)``; fitness is left to the caller.

    >>> import numpy as np, torch
    >>> from deap_nnprune import MaskedAutoencoder, capacity, evaluate_l1
    >>> torch.manual_seed(0) and None
    >>> ae = MaskedAutoencoder.from_preset("paper", n_dim=16, persistent_masks=False)
    >>> data = (torch.rand(40, 16) > 0.5).float()
    >>> ae, = mut_prune_finetune(ae, data, capacity=0.5, epochs=2, lr=1e-3, rng=np.random.default_rng(0))
    >>> capacity(ae) <= 0.5, ae.encoder.layers[0].persistent_masks
    (True, True)
    """
    capacity = check_float("capacity", capacity, low=0.0, high=1.0, low_open=True)
    epochs = check_int("epochs", epochs, minimum=0)
    lr = check_float("lr", lr, low=0.0, low_open=True)
    freeze_masks(individual)
    with torch.no_grad():
        for layer in masked_layers(individual):
            layer.adam_step.zero_()
            for name, _ in maskable_entries(layer):
                for moment in layer.moments(name):
                    moment.zero_()
    count = weights_to_prune(individual, capacity)
    if count:
        mut_prune_magnitude(individual, count, min_alive, scope="global")
    if epochs:
        mut_train(individual, data, epochs, batch_size, lr, betas, rng=rng, optimizer_state="persistent", engine=engine)
    return (individual,)
