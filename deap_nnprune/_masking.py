"""Finding masked layers and applying masks: the one place a mask changes.

Pruning operators decide *which* entries die; :func:`apply_keep` is the single
routine that kills them, keeping weights, masks and the Adam moments stored
beside them consistent (a dead entry is zero in all four, so no optimiser
update can move it again).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from .network import MaskedLayer

__all__ = ["masked_layers", "maskable_entries", "apply_keep", "freeze_masks"]


def masked_layers(module: nn.Module) -> list[MaskedLayer]:
    """All masked layers of *module* (:class:`MaskedLinear`, the masked convolutions), in forward order; by type.

    >>> from deap_nnprune import MaskedMLP
    >>> len(masked_layers(MaskedMLP((4, 3, 2))))
    2
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"expected a torch.nn.Module with masked layers, got {type(module).__name__}")
    layers: list[MaskedLayer] = [m for m in module.modules() if isinstance(m, MaskedLayer)]
    if not layers:
        raise TypeError(
            f"{type(module).__name__} has no MaskedLinear layers (nor other masked layers) to prune or measure"
        )
    return layers


def maskable_entries(layer: MaskedLayer) -> Iterator[tuple[str, Tensor]]:
    """``("weight", tensor)`` and, if present, ``("bias", tensor)``.

    >>> from deap_nnprune import MaskedLinear
    >>> [name for name, _ in maskable_entries(MaskedLinear(2, 2, bias=False))]
    ['weight']
    """
    yield "weight", layer.weight
    if layer.bias is not None:
        yield "bias", layer.bias


@torch.no_grad()
def apply_keep(layer: MaskedLayer, name: str, keep: Tensor, *, once: bool = False) -> None:
    """Kill the entries of ``layer.<name>`` where *keep* is false.

    With persistent masks the mask only ever loses ones (``mask &= keep``)
    and the parameter and its Adam moments are zeroed where the mask is
    zero, so no optimiser update can move a dead entry again. In the
    regrowth compatibility mode (``persistent_masks=False``) this is what
    ``torch.nn.utils.prune`` followed by ``prune.remove`` does: the
    parameter is zeroed once where *keep* is false, and nothing else changes
    (not the mask, not the optimiser's moments), so a later prune does not
    zero again what training regrew. Operators call it through
    :func:`~deap_nnprune.prune_by`, which adds the floor, the guard and the
    counter; call it directly only to prune by hand.

    ``once=True`` gives any layer the regrowth mode's semantics for this
    call: the entries are zeroed once and the mask stays as it is (what
    :func:`~deap_nnprune.mut_perturb_random` does to persistent-mask
    networks: a perturbation, not a prune).

    >>> from deap_nnprune import MaskedLinear
    >>> layer = MaskedLinear(2, 1, bias=False)
    >>> apply_keep(layer, "weight", torch.tensor([[True, False]]))
    >>> layer.weight_mask.tolist()
    [[1.0, 0.0]]
    """
    keep = keep.to(device=layer.weight.device)
    if once or not layer.persistent_masks:
        param = getattr(layer, name)
        param.mul_(keep.to(dtype=param.dtype))
        return
    mask = layer.mask(name)
    mask.mul_(keep.to(dtype=mask.dtype))
    for tensor in (getattr(layer, name), *layer.moments(name)):
        tensor.mul_(mask)


@torch.no_grad()
def freeze_masks(module: nn.Module) -> None:
    """Give every masked layer of *module* persistent masks, starting from what is alive now.

    A layer in the regrowth compatibility mode (``persistent_masks=False``)
    counts its non-zero entries as alive; they become its mask, and from then
    on the layer keeps its masks for good (pruned entries stay zero whatever
    training does). A layer that already has persistent masks is unchanged.
    This is how a network trained with regrowth is turned into one that can
    be pruned for good (:func:`~deap_nnprune.mut_prune_finetune`).

    >>> from deap_nnprune import MaskedLinear
    >>> layer = MaskedLinear(2, 1, bias=False, persistent_masks=False)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([[0.0, 0.5]]))
    >>> freeze_masks(layer)
    >>> layer.persistent_masks, layer.weight_mask.tolist()
    (True, [[0.0, 1.0]])
    """
    for layer in masked_layers(module):
        if layer.persistent_masks:
            continue
        for name, tensor in maskable_entries(layer):
            alive = (tensor != 0).to(dtype=layer.mask(name).dtype)
            layer.mask(name).copy_(alive)
            for moment in layer.moments(name):
                moment.mul_(alive)
        layer.persistent_masks = True
