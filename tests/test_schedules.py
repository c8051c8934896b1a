"""Pruning schedules: probabilities at t = 0, T/2, T, and the Scheduled wrapper."""

import math
import pickle

import numpy as np
import pytest

import deap_nnprune as dnp
from deap_nnprune import schedules

T = 100


@pytest.mark.parametrize(
    "name, kwargs, at_0, at_half, at_end",
    [
        ("fixed", dict(p=0.5), 0.5, 0.5, 0.5),
        ("increase", dict(p=0.5), 0.0, 0.25, 0.5),
        ("decrease", dict(p=0.5), 1.0, 0.75, 0.5),
        ("exponential", dict(p=0.5), 0.0, 0.5 * (1 - math.exp(-1)), 0.5 * (1 - math.exp(-2))),
        ("final_n", dict(p=0.5), 0.0, 0.0, 0.5),
        ("population", dict(p=0.5, n=10), 0.0, 0.025, 0.05),
        ("prune_after", dict(), 0.0, 0.0, 1.0),
    ],
)
def test_schedule_values_at_start_middle_and_end(name, kwargs, at_0, at_half, at_end):
    schedule = schedules.SCHEDULES[name]
    assert schedule(0, T, **kwargs) == pytest.approx(at_0)
    assert schedule(T // 2, T, **kwargs) == pytest.approx(at_half)
    assert schedule(T, T, **kwargs) == pytest.approx(at_end)


def test_final_n_starts_at_the_last_quarter():
    assert schedules.final_n(74, 100) == 0.0
    assert schedules.final_n(75, 100) == 0.5


def test_population_schedule_needs_n():
    with pytest.raises(TypeError, match="n"):
        schedules.population(5, 10)


@pytest.mark.parametrize(
    "args, kwargs, pattern",
    [((5, 0), {}, r"ngen.*0"), ((-1, 10), {}, r"gen.*-1"), ((11, 10), {}, r"gen.*11"), ((1, 10), dict(p=1.5), r"p.*1\.5")],
)
def test_bad_schedule_arguments_are_refused(args, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        schedules.exponential(*args, **kwargs)


def test_scheduled_fires_with_the_schedule_probability():
    fired = []

    def record(individual, rng=None):
        fired.append(individual)
        return (individual,)

    op = dnp.Scheduled(record, schedules.fixed)
    rng = np.random.default_rng(0)
    for i in range(2000):
        assert op(i, gen=1, ngen=10, rng=rng) == (i,)
    assert 0.45 < len(fired) / 2000 < 0.55


def test_scheduled_with_module_level_functions_pickles():
    op = dnp.Scheduled(dnp.mut_prune_random, schedules.exponential)
    clone = pickle.loads(pickle.dumps(op))
    assert clone.operator is dnp.mut_prune_random and clone.schedule is schedules.exponential
