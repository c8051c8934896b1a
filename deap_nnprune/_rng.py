"""The one random-number convention of the operators.

Every operator takes ``rng``: a ``numpy.random.Generator``. With
``rng=None`` it falls back to a generator seeded from torch's global
generator, so ``torch.manual_seed(s)`` makes such calls reproducible.
Algorithms never rely on the fallback: they derive a generator per
(seed, generation, cell) with :func:`derive_rng`.
"""

from __future__ import annotations

import numpy as np
import torch

__all__: list[str] = []


def as_generator(rng: np.random.Generator | None, argument: str = "rng") -> np.random.Generator:
    """Return *rng*, or the documented fallback when it is ``None``."""
    if rng is None:
        seed = int(torch.randint(0, 2**62, (), dtype=torch.int64))
        return np.random.default_rng(seed)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{argument} must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng


def seed_of(sequence: np.random.SeedSequence) -> int:
    """A 63-bit integer seed drawn from *sequence* (the one rule for turning entropy into a seed)."""
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def spawn_seeds(seed: int, n: int) -> list[int]:
    """Seeds of *n* independent runs spawned from *seed*; run k's does not depend on *n*.

    >>> spawn_seeds(0, 3)[:2] == spawn_seeds(0, 2)
    True
    """
    return [seed_of(s) for s in np.random.SeedSequence(seed).spawn(n)]


def derive_rng(seed: int | None, *key: int) -> np.random.Generator:
    """A generator that depends only on *seed* and the integers in *key*.

    ``derive_rng(seed, generation, cell)`` gives the same draws whichever
    process asks, which is what makes SCOOP runs equal serial ones.
    """
    entropy = 0 if seed is None else int(seed)
    return np.random.default_rng(np.random.SeedSequence([entropy, *map(int, key)]))
