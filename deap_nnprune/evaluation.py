"""Fitness functions: reconstruction L1 as DEAP fitness values (1-tuples of floats)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from ._validation import check_int
from .capacity import capacity
from .devices import DeviceLike, module_device, resolve_device
from .network import EncoderDecoder, MaskedNetwork

__all__ = ["evaluate_l1", "evaluate_pair", "evaluate_l1_capacity", "NonFiniteOutputWarning"]


class NonFiniteOutputWarning(RuntimeWarning):
    """A network produced NaN or inf; its fitness is set to ``inf``."""


def check_data(
    data: Tensor, width: int | None, argument: str = "data", what: str = "network input width", finite: bool = True
) -> Tensor:
    """Refuse data that is not a non-empty 2-D tensor of the network's width (``None``: any), nor finite.

    With ``finite=False`` the pass over every value is left out: for a
    caller whose result is non-finite whenever the data are, and who then
    calls :func:`check_finite` (the evaluations of this library's networks:
    an L1 over rows holding NaN or inf cannot be finite).

    >>> check_data(torch.zeros(3, 4), 4).shape
    torch.Size([3, 4])
    """
    if not isinstance(data, Tensor):
        hint = "; pass one split, e.g. data.train" if hasattr(data, "train") else ""
        raise TypeError(f"{argument} must be a torch.Tensor, got {type(data).__name__}{hint}")
    if data.dim() != 2:
        raise ValueError(f"{argument} must be 2-D (rows are samples), got shape {tuple(data.shape)}")
    if data.shape[0] == 0:
        raise ValueError(f"{argument} has no rows (shape {tuple(data.shape)})")
    if width is not None and data.shape[1] != width:
        raise ValueError(f"{argument} has width {data.shape[1]} but the {what} is {width}")
    return check_finite(data, argument) if finite else data


def check_finite(data: Tensor, argument: str = "data") -> Tensor:
    """*data* itself, or a ``ValueError`` naming *argument* when a floating tensor holds NaN or inf.

    >>> check_finite(torch.tensor([1.0, float("nan")]), "rows")
    Traceback (most recent call last):
    ...
    ValueError: rows contains NaN or inf
    """
    if data.is_floating_point() and not bool(torch.isfinite(data).all()):
        raise ValueError(f"{argument} contains NaN or inf")
    return data


def _keeps_its_input(*modules: nn.Module) -> bool:
    """Whether every module is one of this library's networks, whose forward never changes its input.

    For them a NaN or inf in the data always reaches the L1 (``|output - row|``
    is then NaN or inf), so the evaluations read the data for such values only
    when the L1 comes out non-finite. Any other module might clamp or clean
    its input in place; its data are read up front.
    """
    return all(isinstance(module, (MaskedNetwork, EncoderDecoder)) for module in modules)


def _check_module(module, argument: str) -> nn.Module:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{argument} must be a torch.nn.Module, got {type(module).__name__}")
    return module


def _dtype(module: nn.Module) -> torch.dtype:
    """The floating dtype of a module's parameters: data of any dtype is cast to it."""
    for param in module.parameters():
        return param.dtype
    return torch.get_default_dtype()


@contextmanager
def _placed(modules: Sequence[nn.Module], device: DeviceLike) -> Iterator[torch.device]:
    """Run on *device* (default: where the first module is), then put modules back."""
    homes = [module_device(m) for m in modules]
    target = homes[0] if device is None else resolve_device(device)
    was_training = [m.training for m in modules]
    for m in modules:
        m.to(target).eval()
    try:
        yield target
    finally:
        for m, home, training in zip(modules, homes, was_training):
            m.to(home).train(training)


@torch.no_grad()
def _mean_abs_error(forward: Callable[[Tensor], Tensor], data: Tensor, batch_size: int | None, source: Tensor) -> float:
    """The mean of ``|forward(row) - row|`` over *data*, which is *source* placed and cast for the network.

    A non-finite mean is the caller's error when *source*, the data as
    given, holds NaN or inf (:func:`check_finite` raises), else the network's
    (a warning, and ``inf``).
    """
    total = torch.zeros((), dtype=torch.float64, device=data.device)
    step = data.shape[0] if batch_size is None else batch_size
    for start in range(0, data.shape[0], step):
        batch = data[start : start + step]
        output = forward(batch)
        if output.shape != batch.shape:
            raise ValueError(
                f"the network maps rows of width {batch.shape[1]} to shape {tuple(output.shape[1:])}; "
                "a reconstruction must have the input's width"
            )
        total += (output - batch).abs().sum(dtype=torch.float64)
    value = total.item() / data.numel()
    if not math.isfinite(value):
        check_finite(source)
        warnings.warn(
            "network output is not finite (NaN or inf); fitness set to inf", NonFiniteOutputWarning, stacklevel=2
        )
        return math.inf
    return value


def evaluate_l1(
    individual: nn.Module,
    data: Tensor,
    batch_size: int | None = None,
    device: DeviceLike = None,
) -> tuple[float]:
    """Mean absolute reconstruction error of an autoencoder, as a DEAP fitness tuple.

    Runs in eval mode without gradients, in batches of *batch_size* rows (all
    at once by default), on *device* (default: where the individual is). A
    network whose output is not finite gets ``(inf,)`` and a warning, never NaN.

    >>> import torch
    >>> from deap_nnprune import MaskedAutoencoder
    >>> ae = MaskedAutoencoder.from_preset("paper", n_dim=16)
    >>> fitness = evaluate_l1(ae, torch.rand(8, 16))
    >>> type(fitness[0]), len(fitness)
    (<class 'float'>, 1)

    Any module that maps a row to a row of the same width works, e.g. the
    result of :func:`~deap_nnprune.compact`.
    """
    _check_module(individual, "individual")
    check_data(data, getattr(individual, "in_features", None), finite=not _keeps_its_input(individual))
    out_features = getattr(individual, "out_features", None)
    if out_features is not None and out_features != data.shape[1]:
        raise ValueError(
            f"individual output width {out_features} does not match data width {data.shape[1]}: "
            "evaluate_l1 scores reconstructions"
        )
    if batch_size is not None:
        check_int("batch_size", batch_size, minimum=1)
    with _placed([individual], device) as target:
        placed = data.to(device=target, dtype=_dtype(individual))
        return (_mean_abs_error(individual, placed, batch_size, source=data),)


def evaluate_pair(
    encoder: nn.Module,
    decoder: nn.Module,
    data: Tensor,
    batch_size: int | None = None,
    device: DeviceLike = None,
) -> tuple[float]:
    """L1 of ``decoder(encoder(x))`` for an encoder and decoder bred separately.

    >>> import torch
    >>> from deap_nnprune import MaskedMLP
    >>> enc = MaskedMLP.from_preset("paper", 16, part="encoder")
    >>> dec = MaskedMLP.from_preset("paper", 16, part="decoder")
    >>> evaluate_pair(enc, dec, torch.rand(4, 16))[0] > 0
    True
    """
    _check_module(encoder, "encoder")
    _check_module(decoder, "decoder")
    if encoder.out_features != decoder.in_features:
        raise ValueError(
            f"encoder output width {encoder.out_features} does not match decoder input width {decoder.in_features}"
        )
    width: Any = encoder.in_features  # an int on every masked network (checked by _check_module)
    check_data(data, width, what="encoder input width", finite=not _keeps_its_input(encoder, decoder))
    if decoder.out_features != data.shape[1]:
        raise ValueError(f"decoder output width {decoder.out_features} does not match data width {data.shape[1]}")
    if batch_size is not None:
        check_int("batch_size", batch_size, minimum=1)
    with _placed([encoder, decoder], device) as target:
        placed = data.to(device=target, dtype=_dtype(encoder))
        return (_mean_abs_error(lambda x: decoder(encoder(x)), placed, batch_size, source=data),)


def evaluate_l1_capacity(
    individual: nn.Module,
    data: Tensor,
    batch_size: int | None = None,
    device: DeviceLike = None,
) -> tuple[float, float]:
    """``(L1, capacity)``: the two objectives of a pruning trade-off (e.g. NSGA-II).

    >>> import torch
    >>> from deap_nnprune import MaskedAutoencoder
    >>> evaluate_l1_capacity(MaskedAutoencoder.from_preset("paper", 16), torch.rand(4, 16))[1]
    1.0
    """
    return evaluate_l1(individual, data, batch_size, device) + (capacity(individual),)
