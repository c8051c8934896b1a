"""The autograd training engine: for networks the stacked engine cannot train.

:mod:`deap_nnprune.batched` (the stacked engine) trains encoder-decoder pairs
of :class:`~deap_nnprune.MaskedMLP` halves with 0/1 masks and an L1 loss, and
is what :func:`~deap_nnprune.mut_train` and
:func:`~deap_nnprune.mut_train_pair` use by default. Any other module of
masked layers trains here, when the caller asks for it with
``engine="autograd"``: the loss is differentiated by autograd, one network at
a time, and the update is the same Adam kernel (:func:`._adam.adam_step`).
The two engines agree to float rounding, not to the bit; a run uses one of
them, never a mix, and records which (``timings.csv``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ._adam import AdamSettings, adam_step
from ._masking import maskable_entries
from .network import MaskedLayer
from .spread import is_recording

__all__: list[str] = []


def train_autograd(
    forward: nn.Module,
    layers: Sequence[MaskedLayer],
    lrs: Sequence[float],
    data: Tensor,
    batches: Sequence[np.ndarray],
    settings: AdamSettings,
) -> None:
    """Train *forward* (an autoencoder) on *data* in the mini-batches *batches*.

    ``layers[i]`` is trained at base rate ``lrs[i]`` (StepLR applied per
    layer from its own ``adam_step``); the moments and step counts are the
    layers' buffers. A network that records its activations
    (:mod:`deap_nnprune.spread`) is refused: this engine does not record.
    """
    if is_recording(forward):
        raise ValueError(
            "engine='autograd' does not record activations, and this network keeps a record "
            "(deap_nnprune.spread.start_recording); train it with engine='stacked'"
        )
    if not batches:
        return
    device = layers[0].weight.device
    data = data.to(device=device, dtype=layers[0].weight.dtype)
    entries = [(i, layer, name) for i, layer in enumerate(layers) for name, _ in maskable_entries(layer)]
    params = [getattr(layer, name) for _, layer, name in entries]
    exp_avgs = [layer.moments(name)[0] for _, layer, name in entries]
    exp_avg_sqs = [layer.moments(name)[1] for _, layer, name in entries]
    masks = [layer.mask(name) if layer.persistent_masks else None for _, layer, name in entries]
    starts = [int(layer.adam_step) for layer in layers]
    index = torch.from_numpy(np.concatenate(batches)).to(device)
    bounds = np.cumsum([0] + [len(b) for b in batches])
    forward.train()
    for k in range(len(batches)):
        batch = data[index[bounds[k] : bounds[k + 1]]]
        loss = (forward(batch) - batch).abs().mean()
        grads = list(torch.autograd.grad(loss, params))
        with torch.no_grad():
            grads = [g if m is None else g.mul_(m) for g, m in zip(grads, masks)]
            if settings.fresh_per_batch:
                torch._foreach_zero_(exp_avgs + exp_avg_sqs)
            calls: dict[float, list[int]] = {}
            steps = []
            for j, (i, _, _) in enumerate(entries):
                step = 1 if settings.fresh_per_batch else starts[i] + k + 1
                steps.append(torch.tensor(float(step), device=device))
                calls.setdefault(settings.scheduled_lr(lrs[i], starts[i] + k), []).append(j)
            for lr, js in calls.items():
                adam_step(
                    [params[j] for j in js],
                    [grads[j] for j in js],
                    [exp_avgs[j] for j in js],
                    [exp_avg_sqs[j] for j in js],
                    [steps[j] for j in js],
                    lr,
                    settings,
                )
    with torch.no_grad():
        for layer, start in zip(layers, starts):
            layer.adam_step.fill_(start + len(batches))
