"""The order of mini-batches, drawn the same way by every training engine."""

from __future__ import annotations

import numpy as np

from ._rng import as_generator

__all__ = ["batch_order"]


def batch_order(
    n_rows: int,
    batch_size: int,
    epochs: int = 1,
    steps: int | None = None,
    rng: np.random.Generator | None = None,
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
        batches.extend(order[start : start + batch_size] for start in range(0, n_rows, batch_size))
    return batches[:total]
