"""Training and learning-rate operators, in DEAP's mutation shape.

:func:`mut_train` runs Adam with an L1 reconstruction loss on shuffled
mini-batches. The Adam moments are buffers of the network (see
``deap_nnprune._adam``), so they belong to the individual: they survive
across calls, ``toolbox.clone`` and pickling, and an encoder trained with one
decoder and later with another keeps its own state.

Training engines (``engine=``): ``"stacked"`` (the default) is
:func:`deap_nnprune.batched.train_pairs` with one pair, so a network trained
here gets exactly the bits it would get trained together with any others;
it takes :class:`MaskedAutoencoder` of :class:`MaskedMLP` halves with 0/1
masks. ``"autograd"`` differentiates any module of masked layers with
autograd (another layer type, a network the stacked engine refuses); it
agrees with the stacked engine to float rounding only, so choose one per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import Tensor, nn

from ._adam import OPTIMIZER_STATES, AdamSettings
from ._autograd import train_autograd
from ._batches import batch_order
from ._masking import masked_layers
from ._rng import as_generator
from ._validation import check_choice, check_float, check_int
from .batched import train_pairs
from .evaluation import check_data
from .network import MaskedAutoencoder, MaskedLayer, MaskedMLP, MaskedNetwork

__all__ = ["mut_train", "mut_train_pair", "mut_learning_rate", "batch_order", "OPTIMIZER_STATES", "ENGINES"]

#: ``stacked``: :func:`deap_nnprune.batched.train_pairs` (the default, partition-invariant);
#: ``autograd``: autograd on any module of masked layers (``deap_nnprune._autograd``).
ENGINES = ("stacked", "autograd")


def _owner_learning_rates(module: nn.Module, layers: Sequence[MaskedLayer], lr: float | None) -> list[float]:
    """Learning rate of each layer: *lr* if given, else the rate of the MaskedNetwork holding it."""
    if lr is not None:
        return [check_float("lr", lr, low=0.0, low_open=True)] * len(layers)
    owners = {}
    for mlp in (m for m in module.modules() if isinstance(m, MaskedNetwork)):
        for layer in mlp.layers:
            owners[id(layer)] = mlp.learning_rate
    if len(owners) < len(layers):
        raise ValueError(f"lr=None needs MaskedMLP halves with a learning_rate; pass lr for {type(module).__name__}")
    return [owners[id(layer)] for layer in layers]


def _check_common(data: Tensor, width: int, epochs: int, batch_size: int, steps: int | None) -> None:
    check_data(data, width)
    check_int("epochs", epochs, minimum=0)
    check_int("batch_size", batch_size, minimum=1)
    if steps is not None:
        check_int("steps", steps, minimum=0)


def _widths(module: nn.Module, layers: Sequence[MaskedLayer]) -> tuple[int, int]:
    """Input and output width of *module*: a masked network's own, else its first and last layers'."""
    if isinstance(module, (MaskedAutoencoder, MaskedNetwork)):
        return module.in_features, module.out_features
    first: Any = layers[0]  # a module of bare masked layers: MaskedLinear in, MaskedLinear out
    return first.in_features, layers[-1].out_features


def _stackable(encoder: nn.Module, decoder: nn.Module) -> tuple[MaskedMLP, MaskedMLP]:
    """The halves, when the stacked engine can train them (MaskedMLP); else a ValueError naming the way out."""
    for argument, half in (("encoder", encoder), ("decoder", decoder)):
        if not isinstance(half, MaskedMLP):
            raise ValueError(
                f"engine='stacked' trains MaskedMLP halves; the {argument} is a {type(half).__name__}: "
                f"pass engine='autograd'"
            )
    assert isinstance(encoder, MaskedMLP) and isinstance(decoder, MaskedMLP)
    return encoder, decoder


def _train_stacked(
    encoder: MaskedMLP,
    decoder: MaskedMLP,
    data: Tensor,
    lr: float | None,
    rng,
    settings: AdamSettings,
    epochs: int,
    batch_size: int,
    steps: int | None,
) -> None:
    """One pair through the stacked engine (``K = 1``)."""
    train_pairs(
        [encoder],
        [decoder],
        [data],
        [as_generator(rng)],
        epochs,
        batch_size,
        lr,
        settings.betas,
        steps,
        weight_decay=settings.weight_decay,
        optimizer_state=settings.optimizer_state,
        lr_step_size=settings.lr_step_size,
        lr_gamma=settings.lr_gamma,
    )


def mut_train(
    individual: nn.Module,
    data: Tensor,
    epochs: int = 1,
    batch_size: int = 5,
    lr: float | None = None,
    betas: tuple[float, float] = (0.5, 0.999),
    steps: int | None = None,
    rng: np.random.Generator | None = None,
    *,
    weight_decay: float = 0.0,
    optimizer_state: str = "persistent",
    lr_step_size: int | None = None,
    lr_gamma: float = 0.1,
    engine: str = "stacked",
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
    engine:
        ``"stacked"`` (default; a :class:`MaskedAutoencoder` of
        :class:`MaskedMLP` halves) or ``"autograd"`` (any module of masked
        layers); see the module docstring.

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
    width, out = _widths(individual, layers)
    if out != width:
        raise ValueError(
            f"mut_train needs an autoencoder (output width == input width); {type(individual).__name__} "
            f"maps {width} -> {out}"
        )
    _check_common(data, width, epochs, batch_size, steps)
    check_choice("engine", engine, ENGINES)
    settings = AdamSettings(
        betas, weight_decay=weight_decay, optimizer_state=optimizer_state, lr_step_size=lr_step_size, lr_gamma=lr_gamma
    )
    if engine == "stacked":
        if not isinstance(individual, MaskedAutoencoder):
            raise ValueError(
                f"engine='stacked' trains a MaskedAutoencoder of MaskedMLP halves, not a "
                f"{type(individual).__name__}; pass engine='autograd' for other modules"
            )
        encoder, decoder = _stackable(individual.encoder, individual.decoder)
        _train_stacked(encoder, decoder, data, lr, rng, settings, epochs, batch_size, steps)
        return (individual,)
    lrs = _owner_learning_rates(individual, layers, lr)
    batches = batch_order(data.shape[0], batch_size, epochs, steps, as_generator(rng))
    train_autograd(individual, layers, lrs, data, batches, settings)
    return (individual,)


def mut_train_pair(
    encoder: MaskedNetwork,
    decoder: MaskedNetwork,
    data: Tensor,
    epochs: int = 1,
    batch_size: int = 5,
    lr: float | None = None,
    betas: tuple[float, float] = (0.5, 0.999),
    steps: int | None = None,
    rng: np.random.Generator | None = None,
    *,
    weight_decay: float = 0.0,
    optimizer_state: str = "persistent",
    lr_step_size: int | None = None,
    lr_gamma: float = 0.1,
    engine: str = "stacked",
) -> tuple[MaskedNetwork, MaskedNetwork]:
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
        if not isinstance(half, MaskedNetwork):
            raise TypeError(f"{argument} must be a MaskedMLP (or another MaskedNetwork), got {type(half).__name__}")
    pair = MaskedAutoencoder(encoder, decoder)  # checks the widths
    _check_common(data, encoder.in_features, epochs, batch_size, steps)
    check_choice("engine", engine, ENGINES)
    settings = AdamSettings(
        betas, weight_decay=weight_decay, optimizer_state=optimizer_state, lr_step_size=lr_step_size, lr_gamma=lr_gamma
    )
    if engine == "stacked":
        _train_stacked(*_stackable(encoder, decoder), data, lr, rng, settings, epochs, batch_size, steps)
        return encoder, decoder
    layers = masked_layers(pair)
    lrs = _owner_learning_rates(pair, layers, lr)
    batches = batch_order(data.shape[0], batch_size, epochs, steps, as_generator(rng))
    train_autograd(pair, layers, lrs, data, batches, settings)
    return encoder, decoder


def mut_learning_rate(
    individual: nn.Module,
    sigma: float = 1e-5,
    low: float = 1e-9,
    high: float = 10.0,
    rng: np.random.Generator | None = None,
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
    holder: Any = individual  # any module with a learning_rate (checked above)
    value = float(holder.learning_rate) + sigma * float(rng.standard_normal())
    holder.learning_rate = min(max(value, low), high)
    return (individual,)
