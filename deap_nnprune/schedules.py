"""Pruning schedules: the probability that a pruning operator fires at generation *gen* of *ngen*.

Each is a plain function ``f(gen, ngen, p=..., ...) -> float`` from SPEC §4,
registered in a toolbox as ``prune_probability``::

    toolbox.register("prune_probability", schedules.exponential, p=0.5)

Generations count from 1 to *ngen* in the algorithms; ``gen = 0`` is before
any training. The paper's base probabilities are 0.5 for random and
conjunctive pruning and 0.1 for variance pruning.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._rng import as_generator
from ._validation import check_float, check_int

__all__ = [
    "fixed",
    "increase",
    "decrease",
    "exponential",
    "final_n",
    "population",
    "prune_after",
    "SCHEDULES",
    "Scheduled",
]


def _checked(gen: int, ngen: int, p: float) -> tuple[int, int, float]:
    ngen = check_int("ngen", ngen, minimum=1)
    gen = check_int("gen", gen, minimum=0)
    if gen > ngen:
        raise ValueError(f"gen must be <= ngen, got gen={gen}, ngen={ngen}")
    return gen, ngen, check_float("p", p, low=0.0, high=1.0)


def fixed(gen: int, ngen: int, p: float = 0.5) -> float:
    """``p`` at every generation.

    >>> fixed(3, 10, p=0.2)
    0.2
    """
    return _checked(gen, ngen, p)[2]


def increase(gen: int, ngen: int, p: float = 0.5) -> float:
    """``p·t/T``: from 0 up to ``p``.

    >>> increase(5, 10)
    0.25
    """
    t, T, p = _checked(gen, ngen, p)
    return p * t / T


def decrease(gen: int, ngen: int, p: float = 0.5) -> float:
    """``1 − p·t/T``: from 1 down to ``1 − p``.

    >>> decrease(10, 10)
    0.5
    """
    t, T, p = _checked(gen, ngen, p)
    return 1.0 - p * t / T


def exponential(gen: int, ngen: int, p: float = 0.5) -> float:
    """``p·(1 − e^{−2t/T})``: rises fast, then levels off below ``p``.

    >>> round(exponential(10, 10), 4)
    0.4323
    """
    t, T, p = _checked(gen, ngen, p)
    return p * (1.0 - math.exp(-2.0 * t / T))


def final_n(gen: int, ngen: int, p: float = 0.5) -> float:
    """``p`` in the last quarter of the run (``t ≥ 3T/4``), else 0.

    >>> final_n(7, 10), final_n(8, 10)
    (0.0, 0.5)
    """
    t, T, p = _checked(gen, ngen, p)
    return p if 4 * t >= 3 * T else 0.0


def population(gen: int, ngen: int, p: float = 0.5, n: int | None = None) -> float:
    """``p·t/(T·n)`` with ``n`` the size of the population an individual is bred from.

    In coevolution that is a cell's neighbourhood (3 on a ring of radius 1),
    as in the paper authors' code, not the number of cells; in the canonical
    loop it is 1.

    >>> population(10, 10, p=0.5, n=10)
    0.05
    """
    if n is None:
        raise TypeError(
            "population schedule needs n, the size of the population bred from (a neighbourhood): "
            "register it with n=..."
        )
    n = check_int("n", n, minimum=1)
    t, T, p = _checked(gen, ngen, p)
    return p * t / (T * n)


def prune_after(gen: int, ngen: int, p: float = 1.0) -> float:
    """Prune once, after training: ``p`` at the last generation, else 0.

    >>> prune_after(9, 10), prune_after(10, 10)
    (0.0, 1.0)
    """
    t, T, p = _checked(gen, ngen, p)
    return p if t == T else 0.0


#: Schedules by name, as the examples and the command line spell them.
SCHEDULES: dict[str, Callable[..., float]] = {
    "fixed": fixed,
    "increase": increase,
    "decrease": decrease,
    "exponential": exponential,
    "final_n": final_n,
    "population": population,
    "prune_after": prune_after,
}


class Scheduled:
    """An operator that fires with probability ``schedule(gen, ngen)``.

    Picklable (no closures), so it can be registered in a toolbox sent to
    SCOOP workers. Extra keyword arguments at call time go to the operator.

    >>> import numpy as np
    >>> from deap_nnprune import MaskedMLP, capacity
    >>> from deap_nnprune.pruning import mut_prune_random
    >>> prune = Scheduled(mut_prune_random, final_n)
    >>> net = MaskedMLP((8, 4))
    >>> net, = prune(net, gen=1, ngen=10, rng=np.random.default_rng(0))   # not in the last quarter
    >>> capacity(net)
    1.0
    """

    def __init__(self, operator: Callable, schedule: Callable[[int, int], float]) -> None:
        if not callable(operator) or not callable(schedule):
            raise TypeError("Scheduled needs a callable operator and a callable schedule")
        self.operator = operator
        self.schedule = schedule

    def __call__(self, individual, gen: int, ngen: int, rng: np.random.Generator | None = None, **params):
        rng = as_generator(rng)
        if rng.random() < self.schedule(gen, ngen):
            return self.operator(individual, rng=rng, **params)
        return (individual,)

    def __repr__(self) -> str:
        operator = getattr(self.operator, "__name__", self.operator)
        schedule = getattr(self.schedule, "__name__", self.schedule)
        return f"Scheduled({operator!r}, {schedule!r})"
