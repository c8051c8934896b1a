"""Turning a pruned network into a smaller dense one with the same outputs."""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .network import EncoderDecoder, MaskedAutoencoder, MaskedMLP

__all__ = ["compact", "CompactAutoencoder"]


class CompactAutoencoder(EncoderDecoder):
    """A plain dense autoencoder returned by :func:`compact`: ``decoder(encoder(x))``."""

    encoder: nn.Sequential
    decoder: nn.Sequential


@dataclass
class _Stage:
    """One layer during compaction: effective weights, alive pattern, activation."""

    weight: Tensor  # [out, in], dead entries zero
    alive: Tensor  # [out, in] bool
    bias: Tensor  # [out]
    has_bias: bool
    activation: nn.Module


def _stages(mlp: MaskedMLP) -> list[_Stage]:
    stages = []
    for layer, act in zip(mlp.layers, mlp.activations):
        has_bias = layer.bias is not None
        bias = layer.effective("bias").detach().clone() if has_bias else layer.weight.new_zeros(layer.out_features)
        stages.append(_Stage(layer.effective("weight").detach().clone(), layer.alive("weight"), bias, has_bias, act))
    return stages


@torch.no_grad()
def _remove_dead_neurons(stages: list[_Stage]) -> list[_Stage]:
    """Remove hidden neurons that cannot change the output, until none is left.

    A hidden neuron with no alive outgoing weight is dropped. One with no alive
    incoming weight emits the constant ``activation(bias)``; that constant is
    folded into the next layer's bias before the neuron is dropped, so the
    outputs stay identical whatever the bias and activation are.
    """
    changed = True
    while changed:
        changed = False
        for i in range(len(stages) - 1):
            here, nxt = stages[i], stages[i + 1]
            no_out = ~nxt.alive.any(dim=0)
            no_in = ~here.alive.any(dim=1)
            drop = no_out | no_in
            if not bool(drop.any()):
                continue
            constant_units = no_in & ~no_out
            if bool(constant_units.any()):
                constant = here.activation(here.bias[constant_units].unsqueeze(0)).squeeze(0)
                nxt.bias += nxt.weight[:, constant_units] @ constant
                nxt.has_bias = nxt.has_bias or bool((nxt.bias != 0).any())
            keep = ~drop
            here.weight, here.alive, here.bias = here.weight[keep], here.alive[keep], here.bias[keep]
            nxt.weight, nxt.alive = nxt.weight[:, keep], nxt.alive[:, keep]
            changed = True
    return stages


def _to_sequential(stages: list[_Stage]) -> nn.Sequential:
    modules: list[nn.Module] = []
    for stage in stages:
        out_features, in_features = stage.weight.shape
        with warnings.catch_warnings():  # a layer left with no inputs warns that its init is a no-op
            warnings.simplefilter("ignore", UserWarning)
            linear = nn.utils.skip_init(
                nn.Linear,
                in_features,
                out_features,
                bias=stage.has_bias,
                device=stage.weight.device,
                dtype=stage.weight.dtype,
            )
        with torch.no_grad():
            linear.weight.copy_(stage.weight)
            if stage.has_bias:
                linear.bias.copy_(stage.bias)
        modules.append(linear)
        if not isinstance(stage.activation, nn.Identity):
            modules.append(copy.deepcopy(stage.activation))
    return nn.Sequential(*modules)


def compact(module: nn.Module) -> nn.Module:
    """A plain dense copy of *module* with its dead neurons removed for real.

    A :class:`MaskedMLP` becomes an ``nn.Sequential`` of ``nn.Linear`` and
    activation modules; a :class:`MaskedAutoencoder` becomes a
    :class:`CompactAutoencoder` (dead latent units are removed from both
    halves). Input and output widths are kept; outputs equal the masked
    network's. The original is not changed.

    >>> import torch
    >>> from deap_nnprune import MaskedMLP
    >>> net = MaskedMLP((4, 3, 2))
    >>> net.layers[0].weight_mask[1] = 0          # hidden unit 1 loses its inputs...
    >>> net.layers[0].bias_mask[1] = 0            # ...and its bias: it is dead
    >>> small = compact(net)
    >>> small[0].weight.shape
    torch.Size([2, 4])
    >>> x = torch.rand(5, 4)
    >>> torch.allclose(small(x), net(x), atol=1e-6)
    True
    """
    if isinstance(module, MaskedAutoencoder) and not isinstance(module.encoder, MaskedMLP):
        from .conv import compact_conv

        return compact_conv(module)
    if isinstance(module, MaskedAutoencoder):
        assert isinstance(module.encoder, MaskedMLP) and isinstance(module.decoder, MaskedMLP)
        encoder_stages, decoder_stages = _stages(module.encoder), _stages(module.decoder)
        stages = _remove_dead_neurons(encoder_stages + decoder_stages)
        n = len(encoder_stages)
        return CompactAutoencoder(_to_sequential(stages[:n]), _to_sequential(stages[n:]))
    if isinstance(module, MaskedMLP):
        return _to_sequential(_remove_dead_neurons(_stages(module)))
    raise TypeError(f"compact expects a MaskedMLP or MaskedAutoencoder, got {type(module).__name__}")
