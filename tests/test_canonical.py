"""ea_one_plus_lambda: the paper's canonical (1+λ) loop."""


import numpy as np
import pytest
import torch
from deap import base, creator, tools

import deap_nnprune as dnp
from deap_nnprune.algorithms import CheckpointError, ea_one_plus_lambda

N_DIM = 16


@pytest.fixture(scope="module")
def data():
    return dnp.datasets.binary_clustering(n_samples=40, n_dim=N_DIM, n_clusters=4, seed=0)


def parent(seed=0, lr=1e-2):
    return creator.AE.from_preset("paper", N_DIM, rng=np.random.default_rng(seed), learning_rate=lr)


def toolbox(data, prune=True):
    tb = base.Toolbox()
    tb.register("train", dnp.mut_train, data=data.train, epochs=1, batch_size=5)
    tb.register("evaluate", dnp.evaluate_l1, data=data.validation)
    if prune:
        tb.register("prune", dnp.mut_prune_random, amount=0.1)
        tb.register("prune_probability", dnp.schedules.fixed, p=0.5)
    return tb


def test_logbook_rows_and_keys(data):
    stats = tools.Statistics(lambda ind: ind.fitness.values)
    stats.register("min", np.min)
    population, logbook = ea_one_plus_lambda(parent(), toolbox(data), lambda_=2, ngen=3, stats=stats, seed=0,
                                             verbose=False)
    assert logbook.select("gen") == [0, 1, 2, 3]
    assert logbook.select("nevals") == [1, 2, 2, 2]
    assert {"min", "fitness", "capacity", "lr"} <= set(logbook[0])
    assert len(population) == 2 and population[0].fitness.valid


def test_loss_falls_over_generations(data):
    population, logbook = ea_one_plus_lambda(parent(), toolbox(data, prune=False), ngen=8, seed=0, verbose=False)
    assert population[0].fitness.values[0] < dnp.evaluate_l1(parent(), data.validation)[0] - 0.05


def test_guided_pruning_with_bound_training_data_runs(data):
    tb = toolbox(data)
    tb.register("prune", dnp.mut_prune_conjunctive, data=data.train)
    population, logbook = ea_one_plus_lambda(parent(), tb, ngen=2, seed=0, verbose=False)
    assert logbook[-1]["capacity"] <= 1.0


def _spoil(individual, rng=None):
    """A 'training' that only makes the network worse."""
    with torch.no_grad():
        for p in individual.parameters():
            p.add_(torch.from_numpy(rng.normal(0, 1.0, tuple(p.shape)).astype(np.float32)))
    return (individual,)


@pytest.mark.parametrize("elitist", [True, False])
def test_elitist_parent_never_gets_worse_but_non_elitist_accepts_worse(data, elitist):
    tb = toolbox(data, prune=False)
    tb.register("train", _spoil)
    _, logbook = ea_one_plus_lambda(parent(), tb, ngen=4, elitist=elitist, seed=0, verbose=False)
    parent_losses = [f[0] for f in logbook.select("fitness")]
    if elitist:
        assert all(b <= a for a, b in zip(parent_losses, parent_losses[1:]))
    else:
        assert any(b > a for a, b in zip(parent_losses, parent_losses[1:]))


def test_same_seed_same_run(data):
    a, log_a = ea_one_plus_lambda(parent(), toolbox(data), lambda_=2, ngen=3, seed=5, verbose=False)
    b, log_b = ea_one_plus_lambda(parent(), toolbox(data), lambda_=2, ngen=3, seed=5, verbose=False)
    assert log_a.select("capacity") == log_b.select("capacity")
    assert all(torch.equal(x, y) for x, y in zip(a[0].parameters(), b[0].parameters()))


def test_checkpoint_resume_equals_uninterrupted(data, tmp_path):
    path = tmp_path / "canonical.ckpt"
    full, full_log = ea_one_plus_lambda(parent(), toolbox(data), ngen=4, seed=2, verbose=False)
    # interrupted in generation 3: the last checkpoint holds generation 2
    tb = toolbox(data)
    tb.register("train", _FailAfter(dnp.mut_train, calls=2, data=data.train))
    with pytest.raises(KeyboardInterrupt):
        ea_one_plus_lambda(parent(), tb, ngen=4, seed=2, verbose=False, checkpoint=str(path))
    resumed, log = ea_one_plus_lambda(parent(), toolbox(data), ngen=4, seed=2, verbose=False, resume=str(path))
    assert log.select("capacity") == full_log.select("capacity")
    assert all(torch.equal(x, y) for x, y in zip(resumed[0].parameters(), full[0].parameters()))


class _FailAfter:
    def __init__(self, operator, calls, **bound):
        self.operator, self.left, self.bound = operator, calls, bound

    def __call__(self, individual, rng=None):
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return self.operator(individual, rng=rng, **self.bound)


def test_resume_from_other_configuration_is_refused(data, tmp_path):
    path = tmp_path / "c.ckpt"
    ea_one_plus_lambda(parent(), toolbox(data), ngen=1, seed=2, verbose=False, checkpoint=str(path))
    with pytest.raises(CheckpointError, match="lambda_"):
        ea_one_plus_lambda(parent(), toolbox(data), lambda_=2, ngen=1, seed=2, verbose=False, resume=str(path))


@pytest.mark.parametrize("kwargs, pattern", [(dict(lambda_=0), r"lambda_.*0"), (dict(ngen=-1), r"ngen.*-1")])
def test_bad_arguments_are_refused(data, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        ea_one_plus_lambda(parent(), toolbox(data), verbose=False, **kwargs)


def test_missing_alias_is_named(data):
    tb = toolbox(data)
    tb.unregister("evaluate")
    with pytest.raises(ValueError, match="evaluate"):
        ea_one_plus_lambda(parent(), tb, ngen=1, verbose=False)


def test_guided_pruning_without_data_is_refused(data):
    tb = toolbox(data)
    tb.register("prune", dnp.mut_prune_variance)
    with pytest.raises(ValueError, match="data"):
        ea_one_plus_lambda(parent(), tb, ngen=1, verbose=False)


def test_individual_without_fitness_is_refused(data):
    with pytest.raises(TypeError, match="fitness"):
        ea_one_plus_lambda(dnp.MaskedAutoencoder.from_preset("paper", N_DIM), toolbox(data), ngen=1, verbose=False)


def test_unavailable_device_is_refused(data):
    if torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    with pytest.raises(ValueError, match=r"cuda:7.*not available"):
        ea_one_plus_lambda(parent(), toolbox(data), ngen=1, verbose=False, device="cuda:7")


def test_a_run_started_without_a_seed_resumes_with_the_seed_it_stored(data, tmp_path):
    path = tmp_path / "c.ckpt"
    tb = toolbox(data)
    tb.register("train", _FailAfter(dnp.mut_train, calls=2, data=data.train))
    with pytest.raises(KeyboardInterrupt):
        ea_one_plus_lambda(parent(), tb, ngen=3, verbose=False, checkpoint=str(path))
    population, logbook = ea_one_plus_lambda(parent(), toolbox(data), ngen=3, verbose=False, resume=str(path))
    assert logbook.select("gen") == [0, 1, 2, 3]
