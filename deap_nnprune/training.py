"""Training and learning-rate operators, in DEAP's mutation shape.

:func:`mut_train` runs Adam with an L1 reconstruction loss on shuffled
mini-batches. The Adam moments are buffers of the network (see
``deap_nnprune._adam``), so they belong to the individual: they survive
across calls, ``toolbox.clone`` and pickling, and an encoder trained with one
decoder and later with another keeps its own state.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ._adam import OPTIMIZER_STATES, AdamSettings, adam_update
from ._masking import maskable_entries, masked_layers
from ._rng import as_generator
from ._validation import check_float, check_int
from .devices import module_device
from .evaluation import check_data
from .network import MaskedAutoencoder, MaskedLinear, MaskedMLP

__all__ = ["mut_train", "mut_train_pair", "mut_learning_rate", "batch_order", "OPTIMIZER_STATES"]


def batch_order(
    n_rows: int,
    batch_size: int,
    epochs: int = 1,
    steps: Optional[int] = None,
    rng: Optional[np.random.Generator] = None,
) -> list[np.ndarray]:
    """Row indices of each mini-batch: a fresh permutation per epoch.

    With *steps* the permutations continue until exactly that many batches
    are drawn; otherwise *epochs* full passes (the last batch of a pass may
    be smaller). Exposed so batched engines draw the same order as
    :func:`mut_train`.

    >>> [len(b) for b in batch_order(5, 2, rng=np.random.default_rng(0))]
    [2, 2, 1]
    >>> sorted(np.concatenate(batch_order(5, 2, rng=np.random.default_rng(0))).tolist())
    [0, 1, 2, 3, 4]
    """
    rng = as_generator(rng)
    total = steps if steps is not None else epochs * -(-n_rows // batch_size)
    batches: list[np.ndarray] = []
    while len(batches) < total:
        order = rng.permutation(n_rows)
        batches.extend(order[start:start + batch_size] for start in range(0, n_rows, batch_size))
    return batches[:total]


def _owner_learning_rates(module: nn.Module, layers: Sequence[MaskedLinear], lr: Optional[float]) -> list[float]:
    """Learning rate of each layer: *lr* if given, else the rate of the MaskedMLP holding it."""
    if lr is not None:
        return [check_float("lr", lr, low=0.0, low_open=True)] * len(layers)
    owners = {}
    for mlp in (m for m in module.modules() if isinstance(m, MaskedMLP)):
        for layer in mlp.layers:
            owners[id(layer)] = mlp.learning_rate
    if len(owners) < len(layers):
        raise ValueError(f"lr=None needs MaskedMLP halves with a learning_rate; pass lr for {type(module).__name__}")
    return [owners[id(layer)] for layer in layers]


def _check_common(data: Tensor, width: int, epochs: int, batch_size: int, steps: Optional[int]) -> None:
    check_data(data, width)
    check_int("epochs", epochs, minimum=0)
    check_int("batch_size", batch_size, minimum=1)
    if steps is not None:
        check_int("steps", steps, minimum=0)


def _run_adam(
    forward: nn.Module,
    layers: Sequence[MaskedLinear],
    lrs: Sequence[float],
    data: Tensor,
    batches: Sequence[np.ndarray],
    settings: AdamSettings,
) -> None:
    """The training loop shared by :func:`mut_train` and :func:`mut_train_pair`."""
    if not batches:
        return
    device = module_device(layers[0])
    data = data.to(device=device, dtype=layers[0].weight.dtype)
    entries = [(layer, name, lr) for layer, lr in zip(layers, lrs) for name, _ in maskable_entries(layer)]
    params = [getattr(layer, name) for layer, name, _ in entries]
    exp_avgs = [getattr(layer, f"{name}_exp_avg") for layer, name, _ in entries]
    exp_avg_sqs = [getattr(layer, f"{name}_exp_avg_sq") for layer, name, _ in entries]
    start_steps = [int(layer.adam_step) for layer in layers]
    layer_index = {id(layer): i for i, layer in enumerate(layers)}
    entry_layer = [layer_index[id(layer)] for layer, _, _ in entries]
    index = torch.from_numpy(np.concatenate(batches)).to(device)
    bounds = np.cumsum([0] + [len(b) for b in batches])
    forward.train()
    for k in range(len(batches)):
        batch = data[index[bounds[k]:bounds[k + 1]]]
        loss = (forward(batch) - batch).abs().mean()
        grads = torch.autograd.grad(loss, params)
        steps = [start_steps[entry_layer[j]] + k + 1 for j in range(len(entries))]
        lrs_now = [settings.scheduled_lr(lr, t - 1) for (_, _, lr), t in zip(entries, steps)]
        adam_update(params, grads, exp_avgs, exp_avg_sqs, steps, lrs_now, settings)
    with torch.no_grad():
        for layer, start in zip(layers, start_steps):
            layer.adam_step.fill_(start + len(batches))


def mut_train(
    individual: nn.Module,
    data: Tensor,
    epochs: int = 1,
    batch_size: int = 5,
    lr: Optional[float] = None,
    betas: tuple[float, float] = (0.5, 0.999),
    steps: Optional[int] = None,
    rng: Optional[np.random.Generator] = None,
    *,
    weight_decay: float = 0.0,
    optimizer_state: str = "persistent",
    lr_step_size: Optional[int] = None,
    lr_gamma: float = 0.1,
) -> tuple[nn.Module]:
    """Train an autoencoder with Adam and an L1 reconstruction loss, in place.

    Parameters
    ----------
    individual:
        A :class:`MaskedAutoencoder` (or any module of masked layers whose
        output width equals its input width).
    data:
        Training rows, ``[n, n_dim]``; moved once to the individual's device.
    epochs, steps:
        Full shuffled passes over *data*, or (if *steps* is given) exactly
        that many mini-batches.
    batch_size:
        Rows per mini-batch (the paper uses 5).
    lr:
        Learning rate; ``None`` uses each half's own ``learning_rate``.
    betas:
        Adam's betas (the paper's ``(0.5, 0.999)``).
    rng:
        ``numpy.random.Generator`` for the batch order (fallback: torch's
        global generator).
    weight_decay:
        L2 penalty added to the gradient, as in ``torch.optim.Adam``.
    optimizer_state:
        ``"persistent"`` (default): the moments carry over between batches and
        calls. ``"fresh_per_batch"``: restart Adam on every batch, as the
        paper authors' code does. Every step is then Adam's first,
        ``lr·g/(|g| + eps)``: sign descent, which on the paper's data trains
        better than persistent Adam (docs/v0.1/RESULTS.md).
    lr_step_size, lr_gamma:
        Optional StepLR: the rate is multiplied by *lr_gamma* every
        *lr_step_size* optimiser steps of the individual (the paper's
        canonical run divides by 10 every quarter of the run).

    Returns
    -------
    ``(individual,)``, trained in place; fitness is left to the algorithm.

    >>> import torch
    >>> from deap_nnprune import MaskedAutoencoder, evaluate_l1
    >>> torch.manual_seed(0) and None
    >>> ae = MaskedAutoencoder.from_preset("paper", n_dim=16, learning_rate=1e-2)
    >>> data = (torch.rand(40, 16) > 0.5).float()
    >>> before = evaluate_l1(ae, data)[0]
    >>> ae, = mut_train(ae, data, epochs=5, rng=np.random.default_rng(0))
    >>> evaluate_l1(ae, data)[0] < before
    True
    """
    layers = masked_layers(individual)
    width = layers[0].in_features
    if layers[-1].out_features != width:
        raise ValueError(
            f"mut_train needs an autoencoder (output width == input width); {type(individual).__name__} "
            f"maps {width} -> {layers[-1].out_features}"
        )
    _check_common(data, width, epochs, batch_size, steps)
    settings = AdamSettings(betas, weight_decay=weight_decay, optimizer_state=optimizer_state,
                            lr_step_size=lr_step_size, lr_gamma=lr_gamma)
    lrs = _owner_learning_rates(individual, layers, lr)
    batches = batch_order(data.shape[0], batch_size, epochs, steps, as_generator(rng))
    _run_adam(individual, layers, lrs, data, batches, settings)
    return (individual,)


def mut_train_pair(
    encoder: MaskedMLP,
    decoder: MaskedMLP,
    data: Tensor,
    epochs: int = 1,
    batch_size: int = 5,
    lr: Optional[float] = None,
    betas: tuple[float, float] = (0.5, 0.999),
    steps: Optional[int] = None,
    rng: Optional[np.random.Generator] = None,
    *,
    weight_decay: float = 0.0,
    optimizer_state: str = "persistent",
    lr_step_size: Optional[int] = None,
    lr_gamma: float = 0.1,
) -> tuple[MaskedMLP, MaskedMLP]:
    """Train an encoder and a decoder together, each with its own Adam state.

    Same parameters as :func:`mut_train`; with ``lr=None`` each half uses its
    own ``learning_rate``. Returns ``(encoder, decoder)``, both changed in place.

    >>> import torch
    >>> from deap_nnprune import MaskedMLP
    >>> enc = MaskedMLP.from_preset("paper", 8, part="encoder")
    >>> dec = MaskedMLP.from_preset("paper", 8, part="decoder")
    >>> enc2, dec2 = mut_train_pair(enc, dec, torch.rand(10, 8), rng=np.random.default_rng(0))
    >>> enc2 is enc, int(enc.layers[0].adam_step), int(dec.layers[0].adam_step)
    (True, 2, 2)
    """
    for argument, half in (("encoder", encoder), ("decoder", decoder)):
        if not isinstance(half, MaskedMLP):
            raise TypeError(f"{argument} must be a MaskedMLP, got {type(half).__name__}")
    pair = MaskedAutoencoder(encoder, decoder)  # checks the widths
    _check_common(data, encoder.in_features, epochs, batch_size, steps)
    settings = AdamSettings(betas, weight_decay=weight_decay, optimizer_state=optimizer_state,
                            lr_step_size=lr_step_size, lr_gamma=lr_gamma)
    layers = masked_layers(pair)
    lrs = _owner_learning_rates(pair, layers, lr)
    batches = batch_order(data.shape[0], batch_size, epochs, steps, as_generator(rng))
    _run_adam(pair, layers, lrs, data, batches, settings)
    return encoder, decoder


def mut_learning_rate(
    individual: nn.Module,
    sigma: float = 1e-5,
    low: float = 1e-9,
    high: float = 10.0,
    rng: Optional[np.random.Generator] = None,
) -> tuple[nn.Module]:
    """Add a Gaussian step to the individual's learning rate and clamp it to ``[low, high]``.

    For an autoencoder one step is drawn and both halves get the new rate.

    >>> from deap_nnprune import MaskedMLP
    >>> net = MaskedMLP((4, 2), learning_rate=1e-3)
    >>> net, = mut_learning_rate(net, sigma=1e-4, rng=np.random.default_rng(1))
    >>> 0.0009 < net.learning_rate < 0.0011
    True
    """
    sigma = check_float("sigma", sigma, low=0.0)
    low = check_float("low", low, low=0.0, low_open=True)
    high = check_float("high", high, low=0.0, low_open=True)
    if low > high:
        raise ValueError(f"low must be <= high, got low={low!r}, high={high!r}")
    if not hasattr(individual, "learning_rate"):
        raise TypeError(f"{type(individual).__name__} has no learning_rate to mutate")
    rng = as_generator(rng)
    value = float(individual.learning_rate) + sigma * float(rng.standard_normal())
    individual.learning_rate = min(max(value, low), high)
    return (individual,)
