"""Handing our networks to other tools: ``torch.nn.utils.prune`` and ONNX.

- :func:`to_torch_prune`: plain ``nn.Linear`` layers carrying our masks the
  way ``torch.nn.utils.prune`` keeps them (``weight_orig`` + ``weight_mask``
  and a forward pre-hook, through ``prune.custom_from_mask``), same outputs.
- :func:`from_torch_prune`: back from such a module (pruned or not) to a
  masked individual, masks kept.
- :func:`to_onnx`: the compacted network (dead neurons removed for real) as
  an ONNX file, with a dynamic batch axis.

>>> import torch
>>> from deap_nnprune import MaskedAutoencoder, capacity
>>> ae = MaskedAutoencoder.from_preset("paper", n_dim=12)
>>> ae.encoder.layers[0].weight_mask[:, :3] = 0
>>> theirs = to_torch_prune(ae)
>>> bool(theirs.encoder[0].weight_mask[:, :3].eq(0).all()), hasattr(theirs.encoder[0], "weight_orig")
(True, True)
>>> x = torch.rand(4, 12)
>>> torch.allclose(theirs(x), ae(x))
True
>>> capacity(from_torch_prune(theirs)) == capacity(ae)
True
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils import prune

from ._optional import require
from .atomic import atomic_write_bytes
from .compaction import CompactAutoencoder, compact
from .network import EncoderDecoder, MaskedAutoencoder, MaskedLinear, MaskedMLP

__all__ = ["to_torch_prune", "from_torch_prune", "to_onnx"]


@torch.no_grad()
def _linear(layer: MaskedLinear) -> nn.Linear:
    linear = nn.Linear(
        layer.in_features,
        layer.out_features,
        bias=layer.bias is not None,
        device=layer.weight.device,
        dtype=layer.weight.dtype,
    )
    for name, _ in layer._maskable():
        getattr(linear, name).copy_(layer.effective(name))
        prune.custom_from_mask(linear, name, layer.alive(name).to(layer.weight.dtype))
    return linear


def _sequential(mlp: MaskedMLP) -> nn.Sequential:
    modules: list[nn.Module] = []
    for layer, activation in zip(mlp.layers, mlp.activations):
        modules.append(_linear(layer))
        if not isinstance(activation, nn.Identity):
            modules.append(type(activation)())
    return nn.Sequential(*modules)


def to_torch_prune(individual: nn.Module) -> nn.Module:
    """*individual* as plain torch layers pruned with ``torch.nn.utils.prune.custom_from_mask``.

    A :class:`MaskedMLP` becomes an ``nn.Sequential`` of ``nn.Linear`` and
    activations; a :class:`MaskedAutoencoder` an :class:`EncoderDecoder` of
    two. Each ``nn.Linear`` holds ``weight_orig`` (our weights, dead entries
    zero) and the buffer ``weight_mask`` (ours), and the same for ``bias``:
    ``prune.remove`` makes the pruning permanent, ``prune.is_pruned`` is true.
    The outputs are ours. The individual is not changed.
    """
    if isinstance(individual, MaskedAutoencoder):
        encoder, decoder = individual.encoder, individual.decoder
        if not isinstance(encoder, MaskedMLP) or not isinstance(decoder, MaskedMLP):
            raise TypeError(
                "to_torch_prune exports MaskedMLP halves (torch.nn.utils.prune on nn.Linear); "
                f"this autoencoder has {type(encoder).__name__} halves"
            )
        return EncoderDecoder(_sequential(encoder), _sequential(decoder))
    if isinstance(individual, MaskedMLP):
        return _sequential(individual)
    raise TypeError(f"to_torch_prune expects a MaskedMLP or MaskedAutoencoder, got {type(individual).__name__}")


def _activation_class(module: nn.Module, where: str) -> type:
    cls = type(module)
    try:
        fresh = cls()
    except TypeError:
        fresh = None
    if fresh is None or repr(fresh) != repr(module) or any(True for _ in module.parameters()):
        raise ValueError(
            f"from_torch_prune: {where} is {module!r}; only activations built with no arguments "
            "(e.g. nn.ReLU(), nn.Sigmoid()) can be carried over"
        )
    return cls


def _mlp_from(sequential: nn.Module, where: str, cls: type) -> MaskedMLP:
    if not isinstance(sequential, nn.Sequential):
        raise TypeError(
            f"from_torch_prune: {where} must be an nn.Sequential of nn.Linear and activations, "
            f"got {type(sequential).__name__}"
        )
    linears: list[nn.Linear] = []
    activations: list[type[nn.Module] | None] = []  # the class after each Linear (None: no activation)
    for i, module in enumerate(sequential):
        if isinstance(module, nn.Linear):
            linears.append(module)
            activations.append(None)
        elif linears and activations[-1] is None:
            activations[-1] = _activation_class(module, f"{where}[{i}]")
        else:
            raise ValueError(
                f"from_torch_prune: {where}[{i}] ({type(module).__name__}) does not follow an nn.Linear; "
                "expected Linear, activation, Linear, ..."
            )
    if not linears:
        raise ValueError(f"from_torch_prune: {where} has no nn.Linear layer")
    hidden = {a or nn.Identity for a in activations[:-1]}
    if len(hidden) > 1:
        raise ValueError(
            f"from_torch_prune: {where} mixes hidden activations {sorted(a.__name__ for a in hidden)}; "
            "a MaskedMLP has one hidden activation"
        )
    sizes = (linears[0].in_features, *(linear.out_features for linear in linears))
    for i, (a, b) in enumerate(zip(linears[:-1], linears[1:])):
        if a.out_features != b.in_features:
            raise ValueError(
                f"from_torch_prune: {where} layer {i} gives {a.out_features} outputs to a layer of "
                f"{b.in_features} inputs"
            )
    mlp = cls(sizes, hidden.pop() if hidden else nn.ReLU, activations[-1], bias=linears[0].bias is not None)
    with torch.no_grad():
        for ours, theirs in zip(mlp.layers, linears):
            for name, _ in ours._maskable():
                mask = getattr(theirs, f"{name}_mask", None)
                value = getattr(theirs, f"{name}_orig", getattr(theirs, name)).detach()
                mask = torch.ones_like(value) if mask is None else mask.detach().to(value.dtype)
                ours.mask(name).copy_(mask)
                getattr(ours, name).copy_(value * mask)
    return mlp


def from_torch_prune(module: nn.Module, cls: type | None = None) -> nn.Module:
    """A masked individual from plain torch layers, pruned with ``torch.nn.utils.prune`` or not.

    *module* is an ``nn.Sequential`` of ``nn.Linear`` layers and
    argument-free activations (one kind between layers, any after the last),
    giving a :class:`MaskedMLP`; or a module with such ``encoder`` and
    ``decoder`` attributes, giving a :class:`MaskedAutoencoder`. A pruned
    layer's ``weight_mask`` becomes our mask and its entries outside the mask
    are zeroed; an unpruned one is all alive. *cls* (e.g. a ``deap.creator``
    class) is built instead of the default. Anything else is refused, naming
    the module.
    """
    if hasattr(module, "encoder") and hasattr(module, "decoder"):
        halves: Any = module  # any module with encoder and decoder submodules
        encoder = _mlp_from(halves.encoder, "encoder", MaskedMLP)
        decoder = _mlp_from(halves.decoder, "decoder", MaskedMLP)
        return (cls or MaskedAutoencoder)(encoder, decoder)
    return _mlp_from(module, "module", cls or MaskedMLP)


def to_onnx(model: nn.Module, path: str | Path, opset: int = 17) -> Path:
    """Write *model* as ONNX to *path*: a masked network is compacted first, so the file is really smaller.

    *model* is a :class:`MaskedAutoencoder` or :class:`MaskedMLP` (compacted
    with :func:`~deap_nnprune.compact`), or a model ``compact`` returned. The
    input is named ``x`` and the output ``reconstruction``, with a dynamic
    batch axis. Needs the ``onnx`` extra: ``pip install "deap_nnprune[onnx]"``.
    """
    require("onnx", "onnx", "to_onnx")
    if isinstance(model, (MaskedAutoencoder, MaskedMLP)):
        model = compact(model)
    if not isinstance(model, (CompactAutoencoder, nn.Sequential)):
        raise TypeError(f"to_onnx expects a masked network or what compact() returns, got {type(model).__name__}")
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    path = Path(path)
    example = torch.zeros(1, first.in_features, dtype=first.weight.dtype)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter needs no onnxscript
        torch.onnx.export(
            model.cpu().eval(),
            (example,),
            buffer,  # type: ignore[arg-type]  # torch.onnx.export writes to a file-like object too (documented)
            input_names=["x"],
            output_names=["reconstruction"],
            dynamic_axes={"x": {0: "batch"}, "reconstruction": {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
    atomic_write_bytes(path, buffer.getvalue())
    return path
