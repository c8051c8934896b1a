"""A network's activation spread over its training passes, batch position by batch position.

This is the activation statistic of the paper authors' variance pruning,
kept as a record on each network half (encoder or decoder). Every training
step of the stacked engine (:func:`deap_nnprune.batched.train_pairs`, so
:func:`~deap_nnprune.mut_train` and :func:`~deap_nnprune.mut_train_pair`
too) adds, for each layer, the ``[rows, width]`` block of outputs the
step's batch produced: a hidden layer's output after its activation, and a
decoder's last layer's output *before* its output activation (the
reconstruction's logits). The *spread* of neuron ``j`` is

    spread[j] = Σ over batch positions p of std over passes of output[pass, p, j]

(population standard deviation), which grows both with how differently the
neuron answers different rows and with how much its answers drifted while
the network trained. :func:`deap_nnprune.pruning.mut_prune_spread` prunes
with it and then clears the record, so each prune sees the passes since the
previous one.

A network records only after :func:`start_recording`; a record is an
ordinary attribute, so ``copy.deepcopy`` (``toolbox.clone``), pickling and
checkpoints carry it, and a saved ``state_dict`` does not. (In the authors'
coevolution a clone starts with an empty store and their scoring passes are
stored too; here a clone keeps its parent's record and only training passes
count, so this matches their canonical loop, not their coevolution.) Passes
whose batch has another number of rows than the record's first (the short
last batch of an epoch; the authors' code fails there) are not recorded.
Records are kept in float64 on the device of the outputs they receive. An
update costs a few elementwise operations per layer and step; on a network
as small as the paper's that makes an epoch noticeably slower
(``benchmarks/bench_spread.py``, figures in ``benchmarks/RESULTS.md``). The autograd
engine records nothing, so it refuses networks that record.

>>> import torch
>>> from deap_nnprune import MaskedAutoencoder, mut_train
>>> ae = MaskedAutoencoder.from_preset("paper", n_dim=16)
>>> start_recording(ae)
>>> _ = mut_train(ae, torch.rand(40, 16), epochs=2)
>>> record = spread_record(ae.decoder)
>>> record.passes, [s.shape for s in record.spread()]
(16, [(30,), (16,)])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from .network import MaskedAutoencoder, MaskedMLP

__all__ = ["SpreadRecord", "start_recording", "spread_record", "is_recording", "recorded_halves"]

#: The attribute of a network half that holds its record.
_ATTRIBUTE = "spread_record"


class SpreadRecord:
    """Running mean and sum of squared deviations (Welford) of each layer's outputs, per batch position.

    One positive width per layer, the layers' output widths in forward order.

    >>> record = SpreadRecord([1])
    >>> for value in (0.0, 2.0):
    ...     record.update([torch.full((2, 1), value)])   # 2 batch positions, 1 neuron
    >>> record.spread()[0].tolist()                       # std 1.0 at each of the 2 positions
    [2.0]
    """

    def __init__(self, widths: Sequence[int]) -> None:
        self.widths = tuple(int(w) for w in widths)
        if not self.widths or min(self.widths) < 1:
            raise ValueError(f"SpreadRecord: widths must be one positive width per layer, got {list(widths)}")
        self.passes = 0
        self.rows: int | None = None
        self._mean: list[Tensor] = []
        self._m2: list[Tensor] = []

    def update(self, outputs: Sequence[Tensor]) -> None:
        """Add one pass: *outputs* holds each layer's ``[rows, width]`` outputs for one batch.

        >>> record = SpreadRecord([3])
        >>> record.update([torch.zeros(4, 3)]); record.update([torch.zeros(1, 3)])   # the short batch is skipped
        >>> record.passes, record.rows
        (1, 4)
        """
        if len(outputs) != len(self.widths):
            raise ValueError(f"SpreadRecord.update: outputs holds {len(outputs)} layers, the record {len(self.widths)}")
        for i, (out, width) in enumerate(zip(outputs, self.widths)):
            if out.dim() != 2 or out.shape[1] != width or out.shape[0] != outputs[0].shape[0]:
                raise ValueError(
                    f"SpreadRecord.update: outputs[{i}] must be [rows, {width}] with the rows of outputs[0], "
                    f"got {list(out.shape)}"
                )
        rows = int(outputs[0].shape[0])
        if self.rows is None:
            self.rows = rows
        if rows != self.rows:
            return
        device = outputs[0].device
        if not self._mean:
            self._mean = [torch.zeros(o.shape, dtype=torch.float64, device=device) for o in outputs]
            self._m2 = [torch.zeros_like(m) for m in self._mean]
        elif self._mean[0].device != device:  # the network moved to another device
            self._mean = [m.to(device) for m in self._mean]
            self._m2 = [m.to(device) for m in self._m2]
        self.passes += 1
        for out, mean, m2 in zip(outputs, self._mean, self._m2):
            x = out.to(torch.float64)
            delta = x - mean
            mean.add_(delta / self.passes)
            m2.add_(delta * (x - mean))

    def spread(self) -> list[np.ndarray]:
        """Per layer, ``Σ_p std(output[:, p, j])`` over the recorded passes (zeros before any pass).

        >>> SpreadRecord([2, 1]).spread()
        [array([0., 0.]), array([0.])]
        """
        if not self.passes:
            return [np.zeros(width) for width in self.widths]
        return [(m2 / self.passes).sqrt().sum(0).cpu().numpy() for m2 in self._m2]

    def clear(self) -> None:
        """Forget every pass (the batch size is chosen again by the next one).

        >>> record = SpreadRecord([1])
        >>> record.update([torch.ones(2, 1)]); record.clear()
        >>> record.passes, record.rows
        (0, None)
        """
        self.passes, self.rows, self._mean, self._m2 = 0, None, [], []


def recorded_halves(network: nn.Module, argument: str = "network") -> list[MaskedMLP]:
    """The :class:`MaskedMLP` halves of *network* (itself when it is one), encoder first.

    Anything else is refused with a ``TypeError`` naming *argument*.

    >>> from deap_nnprune import MaskedAutoencoder
    >>> len(recorded_halves(MaskedAutoencoder.from_preset("paper", n_dim=16)))
    2
    """
    halves = [network.encoder, network.decoder] if isinstance(network, MaskedAutoencoder) else [network]
    if not all(isinstance(half, MaskedMLP) for half in halves):
        raise TypeError(
            f"{argument} must be a MaskedAutoencoder of MaskedMLP halves or a MaskedMLP (activations are "
            f"recorded on those), got {' and '.join(type(half).__name__ for half in halves)}"
        )
    return [half for half in halves if isinstance(half, MaskedMLP)]


def start_recording(network: nn.Module) -> None:
    """Give every half of *network* an empty :class:`SpreadRecord` (replacing any it had).

    >>> from deap_nnprune import MaskedMLP
    >>> half = MaskedMLP.from_preset("paper", 16, part="encoder")
    >>> start_recording(half)
    >>> spread_record(half).passes
    0
    """
    for half in recorded_halves(network):
        setattr(half, _ATTRIBUTE, SpreadRecord([layer.out_features for layer in half.layers]))


def spread_record(half: nn.Module) -> SpreadRecord | None:
    """The record of one network half (a :class:`MaskedMLP`), or ``None`` when it does not record.

    >>> from deap_nnprune import MaskedMLP
    >>> spread_record(MaskedMLP.from_preset("paper", 16, part="decoder")) is None
    True
    """
    if isinstance(half, MaskedAutoencoder):
        raise TypeError("spread_record takes one half: pass half=network.encoder or half=network.decoder")
    return _record_of(half)


def _record_of(module: nn.Module) -> SpreadRecord | None:
    record = getattr(module, _ATTRIBUTE, None)
    return record if isinstance(record, SpreadRecord) else None


def is_recording(network: nn.Module) -> bool:
    """Whether any half of *network* (an autoencoder, a half, or any module) keeps a record.

    >>> from deap_nnprune import MaskedAutoencoder
    >>> ae = MaskedAutoencoder.from_preset("paper", n_dim=16)
    >>> is_recording(ae), start_recording(ae), is_recording(ae)
    (False, None, True)
    """
    return any(_record_of(m) is not None for m in network.modules())
