"""Per-neuron activation statistics, computed in one streaming pass.

Activation-guided pruning reads, for every neuron of every
:class:`~deap_nnprune.MaskedLinear` layer, its output *after* the layer's
activation function. :func:`activation_std` runs the data through the
network once, in batches, and merges each batch's mean and sum of squared
deviations into running float64 totals (Chan et al.'s parallel form of
Welford's algorithm, :class:`RunningMoments`). Memory is one batch of
activations and three numbers per neuron, whatever the number of rows: no
activation is ever stored. :func:`layer_activations` returns the activations
of a handful of rows, which is what the conjunctive operator needs.

Layers are visited in forward order: an autoencoder's encoder layers, then
its decoder layers, the order of ``deap_nnprune._masking.masked_layers``.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from ._masking import masked_layers
from ._validation import check_int
from .devices import module_device
from .evaluation import check_data
from .network import MaskedAutoencoder, MaskedLayer, MaskedLinear, MaskedMLP, MaskedNetwork

__all__ = [
    "RunningMoments",
    "activation_moments",
    "activation_std",
    "layer_activations",
    "input_width",
    "DEFAULT_BATCH_SIZE",
]

#: Rows per forward pass when ``batch_size=None``.
DEFAULT_BATCH_SIZE = 256


class RunningMoments:
    """Count, mean and sum of squared deviations of a stream of rows, per column.

    Each :meth:`update` merges a whole batch (Chan, Golub and LeVeque's
    pairwise update), in float64, so the variance stays accurate when the
    mean is large compared with the spread.

    >>> moments = RunningMoments(2)
    >>> moments.update(torch.tensor([[1.0, 5.0], [3.0, 5.0]]))
    >>> moments.update(torch.tensor([[5.0, 5.0]]))
    >>> moments.count, moments.mean.tolist(), moments.var().tolist()
    (3, [3.0, 5.0], [2.6666666666666665, 0.0])
    """

    def __init__(self, width: int, device: torch.device | str | None = None) -> None:
        self.width = check_int("width", width, minimum=1)
        self.count = 0
        self.mean = torch.zeros(width, dtype=torch.float64, device=device)
        self.m2 = torch.zeros(width, dtype=torch.float64, device=device)

    @torch.no_grad()
    def update(self, batch: Tensor) -> None:
        """Merge a ``(rows, width)`` batch into the running totals."""
        if batch.dim() != 2 or batch.shape[1] != self.width:
            raise ValueError(f"batch must have shape (rows, {self.width}), got {tuple(batch.shape)}")
        n_b = batch.shape[0]
        if n_b == 0:
            return
        centred = batch.to(device=self.mean.device, dtype=torch.float64, copy=True)
        mean_b = centred.mean(dim=0)
        m2_b = centred.sub_(mean_b).square_().sum(dim=0)
        total = self.count + n_b
        delta = mean_b - self.mean
        self.mean += delta * (n_b / total)
        self.m2 += m2_b + delta.square() * (self.count * n_b / total)
        self.count = total

    def var(self, unbiased: bool = False) -> Tensor:
        """Variance per column: population (divide by n) unless *unbiased* (n - 1)."""
        denominator = self.count - 1 if unbiased else self.count
        if denominator <= 0:
            return torch.full_like(self.m2, float("nan"))
        return self.m2 / denominator

    def std(self, unbiased: bool = False) -> Tensor:
        """Standard deviation per column (population by default, like ``unbiased=False``)."""
        return self.var(unbiased).sqrt()


def _layer_outputs(module: nn.Module, x: Tensor) -> Iterator[tuple[MaskedLayer, Tensor]]:
    """Yield ``(layer, post-activation output)`` for every masked layer, in forward order."""
    if isinstance(module, MaskedAutoencoder):
        code = x
        for layer, code in module.encoder.layer_outputs(x):
            yield layer, code
        if not isinstance(module.encoder, MaskedMLP):  # a conv half yields channel means: the code is its output
            code = module.encoder(x)
        yield from module.decoder.layer_outputs(code)
    elif isinstance(module, MaskedNetwork):
        yield from module.layer_outputs(x)
    elif isinstance(module, MaskedLinear):
        yield module, module(x)
    else:
        masked_layers(module)  # TypeError naming the type when there is no masked layer
        raise TypeError(
            f"{type(module).__name__} has MaskedLinear layers but no known forward order; activation "
            "statistics need a MaskedAutoencoder, a MaskedMLP or a MaskedLinear"
        )


def input_width(module: nn.Module) -> int:
    """Width of the rows *module* takes (a masked network's, or its first masked layer's).

    >>> from deap_nnprune import MaskedMLP
    >>> input_width(MaskedMLP((7, 3)))
    7
    """
    if isinstance(module, (MaskedAutoencoder, MaskedNetwork)):
        return module.in_features
    return masked_layers(module)[0].in_features  # type: ignore[attr-defined]  # a MaskedLinear


class _EvalMode:
    """Run a module in eval mode without gradients, then restore its mode."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.no_grad = torch.no_grad()

    def __enter__(self) -> torch.device:
        self.was_training = self.module.training
        self.module.eval()
        self.no_grad.__enter__()
        return module_device(self.module)

    def __exit__(self, *exc) -> None:
        self.no_grad.__exit__(*exc)
        self.module.train(self.was_training)


def _moments_by_layer(
    module: nn.Module, data: Tensor, batch_size: int | None
) -> list[tuple[MaskedLayer, RunningMoments]]:
    check_data(data, input_width(module))
    step = DEFAULT_BATCH_SIZE if batch_size is None else check_int("batch_size", batch_size, minimum=1)
    pairs: list[tuple[MaskedLayer, RunningMoments]] = []
    with _EvalMode(module) as device:
        dtype = masked_layers(module)[0].weight.dtype
        for start in range(0, data.shape[0], step):
            batch = data[start : start + step].to(device=device, dtype=dtype)
            for i, (layer, output) in enumerate(_layer_outputs(module, batch)):
                if start == 0:
                    pairs.append((layer, RunningMoments(output.shape[1], device=device)))
                pairs[i][1].update(output)
    return pairs


def activation_moments(module: nn.Module, data: Tensor, batch_size: int | None = None) -> list[RunningMoments]:
    """Running moments of every neuron's output over *data*, one entry per layer.

    One streaming pass in batches of *batch_size* rows (``None``:
    :data:`DEFAULT_BATCH_SIZE`), on the network's device, in eval mode and
    without gradients; the network's mode is restored afterwards.

    >>> from deap_nnprune import MaskedMLP
    >>> net = MaskedMLP((4, 3, 2), torch.nn.ReLU)
    >>> [m.count for m in activation_moments(net, torch.rand(10, 4), batch_size=3)]
    [10, 10]
    """
    return [moments for _, moments in _moments_by_layer(module, data, batch_size)]


def activation_std(module: nn.Module, data: Tensor, batch_size: int | None = None) -> list[Tensor]:
    """Population standard deviation (divide by n) of every neuron's output over *data*.

    Returns one float64 tensor of length ``out_features`` per
    :class:`~deap_nnprune.MaskedLinear` layer, in forward order (encoder then
    decoder), on the network's device. Outputs are read after each layer's
    activation function. Equal to ``outputs.std(dim=0, unbiased=False)`` over
    the stacked outputs, without ever stacking them.

    >>> from deap_nnprune import MaskedAutoencoder
    >>> ae = MaskedAutoencoder.from_preset("paper", n_dim=12)
    >>> [s.shape[0] for s in activation_std(ae, torch.rand(50, 12))]
    [30, 10, 30, 12]
    """
    return [moments.std() for moments in activation_moments(module, data, batch_size)]


def layer_activations(module: nn.Module, rows: Tensor) -> list[Tensor]:
    """Outputs of every layer for a few *rows*, after the activation: ``(rows, out_features)`` each.

    Meant for small inputs (a conjunctive filter's cases): all rows go
    through in one pass and every layer's output is kept.

    >>> from deap_nnprune import MaskedMLP
    >>> net = MaskedMLP((4, 3, 2), torch.nn.ReLU)
    >>> [tuple(a.shape) for a in layer_activations(net, torch.rand(5, 4))]
    [(5, 3), (5, 2)]
    """
    return [output for _, output in _outputs_by_layer(module, rows)]


def _outputs_by_layer(module: nn.Module, rows: Tensor) -> list[tuple[MaskedLayer, Tensor]]:
    check_data(rows, input_width(module), argument="rows")
    with _EvalMode(module) as device:
        dtype = masked_layers(module)[0].weight.dtype
        return list(_layer_outputs(module, rows.to(device=device, dtype=dtype)))
