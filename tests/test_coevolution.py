"""ea_spatial_coevolution: the paper's coevolution, step by step."""

import copy

import numpy as np
import pytest
import torch
from deap import base, creator, tools

import deap_nnprune as dnp
from deap_nnprune.algorithms import (CheckpointError, ea_spatial_coevolution, evaluate_each, make_topology,
                                     solution_scores, tournament, train_each)

N_DIM = 16


@pytest.fixture(scope="module")
def data():
    return dnp.datasets.binary_clustering(n_samples=40, n_dim=N_DIM, n_clusters=4, seed=0)


def population(n, seed=0, lr=1e-2):
    rng = np.random.default_rng(seed)
    encoders = [creator.Encoder.from_preset("paper", N_DIM, "encoder", rng=rng, learning_rate=lr) for _ in range(n)]
    decoders = [creator.Decoder.from_preset("paper", N_DIM, "decoder", rng=rng, learning_rate=lr) for _ in range(n)]
    return encoders, decoders


def toolbox(prune=True):
    tb = base.Toolbox()
    tb.register("evaluate_pair", dnp.evaluate_pair)
    tb.register("evaluate_pairs", dnp.batched.evaluate_pairs)
    tb.register("train_pairs", dnp.batched.train_pairs, epochs=1, batch_size=5)
    if prune:
        tb.register("prune", dnp.mut_prune_random, amount=0.1)
        tb.register("prune_probability", dnp.schedules.fixed, p=0.5)
    tb.register("mutate_lr", dnp.mut_learning_rate, sigma=1e-4)
    return tb


def run(data, n=3, ngen=2, seed=1, tb=None, **kwargs):
    encoders, decoders = population(n)
    return ea_spatial_coevolution(encoders, decoders, tb or toolbox(), ngen, data, seed=seed, verbose=False, **kwargs)


def weights(population):
    return [p.detach().clone() for ind in population for p in ind.parameters()]


def test_logbook_has_a_row_per_generation_with_the_documented_keys(data):
    stats = tools.Statistics(lambda ind: ind.fitness.values)
    stats.register("min", np.min)
    _, _, logbook = run(data, ngen=2, stats=stats)
    assert logbook.select("gen") == [0, 1, 2]
    for key in ("trial", "nevals", "min", "best_train", "best_validation", "capacity", "capacity_encoder",
                "capacity_decoder", "lr_encoder", "lr_decoder", "mean_capacity_encoder", "mean_capacity_decoder"):
        assert key in logbook[0], key
    assert logbook[1]["nevals"] == 3 * (9 + 1)


def test_loss_falls_over_generations(data):
    _, _, logbook = run(data, ngen=6, tb=toolbox(prune=False))
    losses = logbook.select("best_validation")
    assert losses[-1] < losses[0] - 0.05


def test_pruning_lowers_capacity_and_fitness_is_validation_l1(data):
    encoders, decoders, logbook = run(data, ngen=3)
    assert logbook[-1]["mean_capacity_encoder"] < 1.0
    for e, d in zip(encoders, decoders):
        assert e.fitness.values == pytest.approx(dnp.evaluate_pair(e, d, data.validation))


def test_same_seed_same_run_and_other_seed_differs(data):
    e1, _, log1 = run(data, seed=4)
    e2, _, log2 = run(data, seed=4)
    e3, _, log3 = run(data, seed=5)
    assert log1.select("best_validation") == log2.select("best_validation")
    assert all(torch.equal(a, b) for a, b in zip(weights(e1), weights(e2)))
    assert log1.select("best_validation") != log3.select("best_validation")


def test_solution_concepts_on_a_hand_built_matrix():
    scores = np.array([[0.2, 0.9, 0.4], [0.5, 0.1, 0.8], [0.3, 0.6, 0.7]])
    enc, dec = solution_scores(scores, "best")
    assert enc.tolist() == [0.2, 0.1, 0.3] and dec.tolist() == [0.2, 0.1, 0.4]
    enc, dec = solution_scores(scores, "worst")
    assert enc.tolist() == [0.9, 0.8, 0.7] and dec.tolist() == [0.5, 0.9, 0.8]
    enc, dec = solution_scores(scores, "mean")
    np.testing.assert_allclose(enc, [0.5, 0.4666666, 0.5333333], rtol=1e-5)


def test_tournament_is_seeded_and_picks_the_lowest_of_its_draw():
    scores = np.array([0.5, 0.1, 0.9, 0.3])
    picks = [tournament(scores, 2, np.random.default_rng(s)) for s in range(50)]
    assert picks == [tournament(scores, 2, np.random.default_rng(s)) for s in range(50)]
    assert 2 not in picks  # the worst can never win a tournament of two distinct candidates
    assert tournament(scores, 4, np.random.default_rng(0)) == 1


def _tagging_train_pair(encoder, decoder, data, rng=None):
    encoder.lineage = getattr(encoder, "lineage", 0) + 1
    return encoder, decoder


def _score_by_lineage(encoder, decoder, data):
    return (-float(getattr(encoder, "lineage", 0)),)


@pytest.mark.parametrize("update, deepest", [("sequential", 3), ("synchronous", 1)])
def test_sequential_update_sees_newer_neighbours_and_synchronous_does_not(data, update, deepest):
    tb = base.Toolbox()
    tb.register("evaluate_pair", _score_by_lineage)
    tb.register("evaluate_pairs", evaluate_each, evaluate_pair=_score_by_lineage)
    tb.register("train_pairs", train_each, train_pair=_tagging_train_pair)
    encoders, decoders = population(3)
    encoders, _, _ = ea_spatial_coevolution(encoders, decoders, tb, 1, data, tournament_size=3, update=update,
                                            seed=0, verbose=False)
    # sequentially, each visited cell trains the newest encoder of its (whole-ring) neighbourhood
    assert max(e.lineage for e in encoders) == deepest


def test_trials_in_one_population_equal_trials_run_alone(data):
    encoders, decoders = population(6)
    together, _, log = ea_spatial_coevolution(copy.deepcopy(encoders), copy.deepcopy(decoders), toolbox(), 2, data,
                                              topology=make_topology("ring", 6, trials=2), seed=[11, 12],
                                              verbose=False)
    for trial, seed in enumerate((11, 12)):
        cells = slice(3 * trial, 3 * trial + 3)
        alone, _, log_alone = ea_spatial_coevolution(copy.deepcopy(encoders[cells]), copy.deepcopy(decoders[cells]),
                                                     toolbox(), 2, data, seed=seed, verbose=False)
        assert [r["best_validation"] for r in log if r["trial"] == trial] == log_alone.select("best_validation")
        assert all(torch.equal(a, b) for a, b in zip(weights(together[cells]), weights(alone)))


def test_torus_topology_runs(data):
    encoders, _, logbook = run(data, n=9, ngen=1, topology="torus")
    assert len(encoders) == 9 and logbook[-1]["nevals"] == 9 * (81 + 1)


def test_checkpoint_and_resume_equal_an_uninterrupted_run(data, tmp_path):
    path = tmp_path / "coevolution.ckpt"
    full_enc, full_dec, full_log = run(data, ngen=4, seed=3)
    # interrupted during generation 3: the last checkpoint is generation 2's
    encoders, decoders = population(3)
    with pytest.raises(KeyboardInterrupt):
        ea_spatial_coevolution(encoders, decoders, _InterruptAfter(toolbox(), calls=3 * 2 + 1), 4, data, seed=3,
                               verbose=False, checkpoint=str(path), checkpoint_every=2)
    encoders, decoders = population(3)
    encoders, decoders, logbook = ea_spatial_coevolution(encoders, decoders, toolbox(), 4, data, seed=3,
                                                         verbose=False, resume=str(path))
    assert logbook.select("best_validation") == full_log.select("best_validation")
    assert all(torch.equal(a, b) for a, b in zip(weights(encoders + decoders), weights(full_enc + full_dec)))


class _InterruptAfter(base.Toolbox):
    """A toolbox whose train_pairs raises KeyboardInterrupt after a number of calls."""

    def __init__(self, inner, calls):
        super().__init__()
        self.__dict__.update(inner.__dict__)
        self._left = calls
        self._inner_train = inner.train_pairs
        self.train_pairs = self._train

    def _train(self, *args, **kwargs):
        if self._left == 0:
            raise KeyboardInterrupt
        self._left -= 1
        return self._inner_train(*args, **kwargs)


def test_resume_refuses_a_checkpoint_from_another_configuration(data, tmp_path):
    path = tmp_path / "c.ckpt"
    run(data, ngen=1, seed=3, checkpoint=str(path))
    with pytest.raises(CheckpointError, match="seeds"):
        run(data, ngen=1, seed=4, resume=str(path))


def test_resume_refuses_missing_and_truncated_checkpoints(data, tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        run(data, resume=str(tmp_path / "missing.ckpt"))
    path = tmp_path / "c.ckpt"
    run(data, ngen=1, seed=3, checkpoint=str(path))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="cannot be read"):
        run(data, ngen=1, seed=3, resume=str(path))


def test_halloffame_gets_assembled_best_pairs(data):
    hof = tools.HallOfFame(2)
    run(data, ngen=2, halloffame=hof)
    assert len(hof) == 2 and isinstance(hof[0], dnp.MaskedAutoencoder)
    assert hof[0].fitness.values[0] <= hof[1].fitness.values[0]


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(ngen=-1), r"ngen.*-1"),
        (dict(radius=-1), r"radius.*-1"),
        (dict(radius=2), r"radius=2"),
        (dict(topology="hexagon"), r"topology.*hexagon"),
        (dict(solution_concept="median"), r"solution_concept.*median"),
        (dict(update="async"), r"update.*async"),
        (dict(tournament_size=0), r"tournament_size.*0"),
        (dict(tournament_size=4), r"tournament_size=4"),
        (dict(topology=make_topology("torus", 4, shape=(2, 2), radius=0)), r"topology has 4 cells"),
    ],
)
def test_bad_arguments_are_refused(data, kwargs, pattern):
    kwargs.setdefault("ngen", 1)
    with pytest.raises(ValueError, match=pattern):
        run(data, **kwargs)


def test_mismatched_populations_are_refused(data):
    encoders, decoders = population(3)
    with pytest.raises(ValueError, match="3 encoders but 2 decoders"):
        ea_spatial_coevolution(encoders, decoders[:2], toolbox(), 1, data, verbose=False)


def test_missing_toolbox_alias_is_named(data):
    tb = toolbox()
    tb.unregister("train_pairs")
    with pytest.raises(ValueError, match="'train_pairs'"):
        run(data, tb=tb)


def test_explicit_cpu_device_runs(data):
    encoders, _, logbook = run(data, ngen=1, device="cpu")
    assert encoders[0].layers[0].weight.device.type == "cpu"


def test_unavailable_device_is_refused_before_any_work(data):
    if torch.cuda.device_count() > 7:
        pytest.skip("this machine has a cuda:7")
    with pytest.raises(ValueError, match=r"cuda:7.*not available"):
        run(data, ngen=1, device="cuda:7")


def test_a_run_started_without_a_seed_resumes_with_the_seeds_it_stored(data, tmp_path):
    path = tmp_path / "c.ckpt"
    encoders, decoders = population(3)
    ea_spatial_coevolution(encoders, decoders, toolbox(), 1, data, verbose=False, checkpoint=str(path))
    encoders, decoders = population(3)
    _, _, logbook = ea_spatial_coevolution(encoders, decoders, toolbox(), 1, data, verbose=False, resume=str(path))
    assert logbook.select("gen") == [0, 1]


def test_an_on_generation_hook_may_not_overwrite_the_algorithms_fields():
    from deap_nnprune.algorithms.loop import call_hook

    assert call_hook(lambda gen, state: {"extra": gen}, 3, {}) == {"extra": 3}
    assert call_hook(None, 3, {}) == {} and call_hook(lambda gen, state: None, 3, {}) == {}
    with pytest.raises(ValueError, match=r"\['gen'\], which the algorithm's logbook already records"):
        call_hook(lambda gen, state: {"gen": 1}, 3, {})
    with pytest.raises(TypeError, match="must return a dict"):
        call_hook(lambda gen, state: 5, 3, {})


def test_a_prune_that_needs_data_must_be_declared(data):
    tb = toolbox(prune=False)
    tb.register("prune", dnp.mut_prune_conjunctive, threshold=0.1)
    with pytest.raises(ValueError, match="prune_data=True"):
        run(data, tb=tb)
    _, _, logbook = run(data, tb=tb, prune_data=True)
    assert len(logbook) == 3


def test_the_loop_written_with_the_public_steps_is_the_algorithm(data):
    """One generation copied from the docs' step-by-step loop gives the algorithm's bytes."""
    from deap_nnprune.algorithms import (assess_pair, cell_rng, choose_pair, score_batch, score_neighbourhood,
                                         update_groups, vary_pair)
    tb = toolbox()
    encoders, decoders = population(3)
    reference, _, _ = ea_spatial_coevolution(copy.deepcopy(encoders), copy.deepcopy(decoders), tb, 1, data, seed=5,
                                             verbose=False)
    topology, seeds = make_topology("ring", 3), [5]
    for group in update_groups(topology, seeds, 1, "sequential"):
        chosen = []
        for cell in group:
            rng = cell_rng(topology, seeds, 1, cell)
            hood = topology.neighbourhoods[cell]
            E, D = [encoders[j] for j in hood], [decoders[j] for j in hood]
            scores = score_neighbourhood(tb, E, D, score_batch(data.train, 5, rng), "best")
            chosen.append((*choose_pair(tb, E, D, *scores, 2, rng), rng))
        E, D, rngs = (list(column) for column in zip(*chosen))
        for cell, (e, d), rng in zip(group, tb.train_pairs(E, D, [data.train] * len(group), rngs), rngs):
            vary_pair(tb, e, d, rng, 1, 1)
            encoders[cell], decoders[cell] = e, d
            assess_pair(tb, e, d, data.validation)
    assert all(torch.equal(a, b) for a, b in zip(weights(encoders), weights(reference)))
    assert [e.fitness.values for e in encoders] == [e.fitness.values for e in reference]


def _pickling_map(function, tasks):
    """What a process map does to the tasks and results: they cross a pickle, both ways."""
    import pickle
    return [pickle.loads(pickle.dumps(function(pickle.loads(pickle.dumps(task))))) for task in tasks]


def test_train_each_over_a_process_map_gives_the_serial_bytes(data):
    """The pairs' generators come back from the workers: variation draws what it draws serially."""
    runs = {}
    for name, mapper in (("serial", map), ("pickled", _pickling_map)):
        tb = toolbox()
        tb.register("train_pairs", train_each, train_pair=dnp.mut_train_pair, map=mapper)
        tb.register("evaluate_pairs", evaluate_each, evaluate_pair=dnp.evaluate_pair)
        runs[name] = run(data, ngen=3, seed=2, tb=tb)
    (e1, d1, log1), (e2, d2, log2) = runs["serial"], runs["pickled"]
    assert log1.select("best_validation") == log2.select("best_validation")
    assert log1.select("capacity") == log2.select("capacity")
    assert all(torch.equal(a, b) for a, b in zip(weights(e1 + d1), weights(e2 + d2)))


def test_prune_data_declared_for_an_operator_without_data_is_refused(data):
    with pytest.raises(ValueError, match="takes no data"):
        run(data, prune_data=True)
