"""Networks as DEAP individuals: creator classes, cloning, pickling, other processes.

The creator classes (FitnessMin, FitnessMulti, AE, AEMulti, Encoder, Decoder)
are made in conftest.py, at import time, the way a DEAP script makes them.

DEAP pickles a creator class by its recipe, and unpickling rebuilds it and
replaces ``creator.<Name>``: after any ``pickle.loads`` of an individual,
``creator.FitnessMin`` may be a newer class than the fitness of an individual
built earlier. So these tests check a fitness by its weights, never by
identity with a creator class built at another time.
"""

import io
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from deap import base, creator, tools

import deap_nnprune as dnp
from deap_nnprune._masking import apply_keep, masked_layers

N_DIM = 16


def make(cls=None, seed=0, **overrides):
    cls = creator.AE if cls is None else cls
    return cls.from_preset("paper", n_dim=N_DIM, rng=np.random.default_rng(seed), **overrides)


def prune_some(ind, seed=0):
    rng = np.random.default_rng(seed)
    for layer in masked_layers(ind):
        apply_keep(layer, "weight", torch.from_numpy(rng.random(tuple(layer.weight.shape)) < 0.6))
        apply_keep(layer, "bias", torch.from_numpy(rng.random(tuple(layer.bias.shape)) < 0.6))


def tensors_equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    keys = [k for k in sa if not k.endswith("_extra_state")]
    return keys == [k for k in sb if not k.endswith("_extra_state")] and all(torch.equal(sa[k], sb[k]) for k in keys)


def masks_of(module):
    return [t.clone() for layer in masked_layers(module) for t in (layer.weight_mask, layer.bias_mask)]


@pytest.fixture
def toolbox():
    tb = base.Toolbox()
    tb.register("evaluate", dnp.evaluate_l1)
    return tb


@pytest.fixture
def evaluated(data):
    """A pruned, evaluated creator.AE with a custom learning rate."""
    ind = make(learning_rate=3e-4)
    prune_some(ind)
    ind.fitness.values = dnp.evaluate_l1(ind, data.validation)
    return ind


# --- creator classes -----------------------------------------------------------------


def test_creator_autoencoder_from_preset_is_an_individual_with_an_empty_fitness():
    ind = make()
    assert type(ind) is creator.AE
    assert isinstance(ind, dnp.MaskedAutoencoder)
    assert isinstance(ind.fitness, base.Fitness)
    assert ind.fitness.weights == (-1.0,)
    assert not ind.fitness.valid


def test_creator_individuals_get_fitness_objects_of_their_own():
    a, b = make(seed=0), make(seed=1)
    a.fitness.values = (0.3,)
    assert not b.fitness.valid


def test_creator_halves_are_individuals_with_a_fitness():
    encoder = creator.Encoder.from_preset("paper", N_DIM, part="encoder")
    decoder = creator.Decoder.from_preset("paper", N_DIM, part="decoder")
    assert isinstance(encoder.fitness, base.Fitness) and encoder.fitness.weights == (-1.0,)
    assert isinstance(decoder, dnp.MaskedMLP)
    assert decoder.sizes == (10, 30, N_DIM)


def test_creator_autoencoder_assembled_from_creator_halves_shares_them():
    encoder = creator.Encoder.from_preset("paper", N_DIM, part="encoder")
    decoder = creator.Decoder.from_preset("paper", N_DIM, part="decoder")
    ae = creator.AE(encoder, decoder)
    assert ae.halves() == (encoder, decoder)
    assert ae.fitness is not encoder.fitness


def test_fitness_of_a_creator_individual_is_evaluated_l1(data, toolbox):
    ind = make()
    ind.fitness.values = toolbox.evaluate(ind, data.test)
    assert ind.fitness.valid
    assert ind.fitness.values == dnp.evaluate_l1(ind, data.test)


def test_lower_l1_is_the_better_single_objective_fitness(data):
    population = [make(seed=s) for s in range(4)]
    for ind in population:
        ind.fitness.values = dnp.evaluate_l1(ind, data.validation)
    best = tools.selBest(population, 1)[0]
    assert best.fitness.values[0] == min(ind.fitness.values[0] for ind in population)


def test_deleting_fitness_values_invalidates_the_individual(evaluated):
    del evaluated.fitness.values
    assert not evaluated.fitness.valid


# --- toolbox.clone (deepcopy) ---------------------------------------------------------


def test_clone_keeps_weights_masks_fitness_and_learning_rate(evaluated, toolbox):
    clone = toolbox.clone(evaluated)
    assert type(clone) is creator.AE
    assert tensors_equal(clone, evaluated)
    assert clone.fitness.values == evaluated.fitness.values
    assert clone.learning_rate == evaluated.learning_rate == 3e-4


def test_clone_keeps_other_per_individual_attributes(evaluated, toolbox):
    evaluated.age = 7
    assert toolbox.clone(evaluated).age == 7


def test_clone_is_independent_of_the_original(evaluated, toolbox):
    clone = toolbox.clone(evaluated)
    clone.encoder.layers[0].weight_mask.fill_(0)
    clone.learning_rate = 1e-2
    del clone.fitness.values
    assert evaluated.encoder.layers[0].weight_mask.any()
    assert evaluated.learning_rate == 3e-4
    assert evaluated.fitness.valid


def test_clone_of_a_creator_half_keeps_its_masks_and_fitness(toolbox):
    encoder = creator.Encoder.from_preset("paper", N_DIM, part="encoder", learning_rate=2e-4)
    prune_some(encoder)
    encoder.fitness.values = (0.4,)
    clone = toolbox.clone(encoder)
    assert tensors_equal(clone, encoder)
    assert clone.fitness.values == (0.4,)
    assert clone.learning_rate == 2e-4


# --- pickle and state_dict --------------------------------------------------------------


def test_pickle_round_trip_keeps_class_weights_masks_fitness_and_learning_rate(evaluated, x):
    loaded = pickle.loads(pickle.dumps(evaluated))
    assert type(loaded) is creator.AE
    assert tensors_equal(loaded, evaluated)
    assert loaded.fitness.values == evaluated.fitness.values
    assert loaded.learning_rate == 3e-4
    assert torch.equal(loaded(x), evaluated(x))


def test_unpickled_individual_competes_with_ones_built_before(evaluated):
    # Unpickling rebuilds the creator classes (DEAP's design); fitnesses still compare.
    loaded = pickle.loads(pickle.dumps(evaluated))
    loaded.fitness.values = (evaluated.fitness.values[0] / 2,)
    assert tools.selBest([evaluated, loaded], 1)[0] is loaded
    assert loaded.fitness > evaluated.fitness


def test_pickled_population_keeps_shared_halves_shared():
    ae = make()
    loaded = pickle.loads(pickle.dumps([ae, ae.encoder]))
    assert loaded[0].encoder is loaded[1]


def test_state_dict_round_trip_keeps_masks_and_learning_rate(evaluated, x):
    buffer = io.BytesIO()
    torch.save(evaluated.state_dict(), buffer)
    buffer.seek(0)
    fresh = make(seed=99)
    fresh.load_state_dict(torch.load(buffer))
    assert tensors_equal(fresh, evaluated)
    assert all(torch.equal(a, b) for a, b in zip(masks_of(fresh), masks_of(evaluated)))
    assert fresh.learning_rate == 3e-4
    assert fresh.decoder.learning_rate == 3e-4
    assert torch.equal(fresh(x), evaluated(x))


# --- multi-objective fitness ------------------------------------------------------------


def test_multi_objective_individual_takes_l1_and_capacity(data):
    ind = make(creator.AEMulti)
    prune_some(ind)
    ind.fitness.values = dnp.evaluate_l1_capacity(ind, data.validation)
    assert len(ind.fitness.values) == 2
    assert ind.fitness.values[1] == dnp.capacity(ind)


def test_multi_objective_fitness_survives_clone_and_pickle(data, toolbox):
    ind = make(creator.AEMulti)
    ind.fitness.values = dnp.evaluate_l1_capacity(ind, data.validation)
    assert toolbox.clone(ind).fitness.values == ind.fitness.values
    loaded = pickle.loads(pickle.dumps(ind))
    assert type(loaded) is creator.AEMulti
    assert loaded.fitness.values == ind.fitness.values


def test_lower_l1_and_lower_capacity_dominates():
    better, worse = make(creator.AEMulti), make(creator.AEMulti)
    better.fitness.values = (0.1, 0.5)
    worse.fitness.values = (0.2, 0.8)
    assert better.fitness.dominates(worse.fitness)
    assert not worse.fitness.dominates(better.fitness)


def test_nsga2_selection_accepts_multi_objective_individuals(data):
    population = [make(creator.AEMulti, seed=s) for s in range(4)]
    for i, ind in enumerate(population):
        prune_some(ind, seed=i)
        ind.fitness.values = dnp.evaluate_l1_capacity(ind, data.validation)
    chosen = tools.selNSGA2(population, 2)
    assert len(chosen) == 2 and all(type(ind) is creator.AEMulti for ind in chosen)


# --- another process ------------------------------------------------------------------------

CHILD = r"""
import json, pickle, sys
import torch
from deap import base, creator
import deap_nnprune as dnp
from deap_nnprune._masking import apply_keep

creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
creator.create("FitnessMulti", base.Fitness, weights=(-1.0, -1.0))
creator.create("AE", dnp.MaskedAutoencoder, fitness=creator.FitnessMin)
creator.create("AEMulti", dnp.MaskedAutoencoder, fitness=creator.FitnessMulti)

path = sys.argv[1]
with open(path, "rb") as handle:
    single, multi = pickle.load(handle)
seen = {
    "types": [type(single).__name__, type(multi).__name__],
    "fitness": [list(single.fitness.values), list(multi.fitness.values)],
    "learning_rate": single.learning_rate,
    "capacity": dnp.capacity(single),
}
data = dnp.datasets.binary_clustering(n_samples=40, n_dim=16, n_clusters=4, seed=0)
layer = single.encoder.layers[0]
keep = torch.ones_like(layer.weight, dtype=torch.bool)
keep[:5] = False
apply_keep(layer, "weight", keep)
single.learning_rate = 5e-4
single.fitness.values = dnp.evaluate_l1(single, data.validation)
multi.fitness.values = dnp.evaluate_l1_capacity(multi, data.validation)
with open(path, "wb") as handle:
    pickle.dump([single, multi], handle)
print(json.dumps(seen))
"""


def test_individual_pickled_changed_in_another_process_and_pickled_back(evaluated, data, tmp_path, subprocess_env):
    multi = make(creator.AEMulti, seed=3)
    multi.fitness.values = (0.9, 1.0)
    path = tmp_path / "individuals.pkl"
    path.write_bytes(pickle.dumps([evaluated, multi]))

    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=120, env=subprocess_env
    )
    assert result.returncode == 0, result.stderr

    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["types"] == ["AE", "AEMulti"]
    assert seen["fitness"] == [list(evaluated.fitness.values), [0.9, 1.0]]
    assert seen["learning_rate"] == 3e-4
    assert seen["capacity"] == dnp.capacity(evaluated)

    single, multi_back = pickle.loads(path.read_bytes())
    assert type(single) is creator.AE and type(multi_back) is creator.AEMulti
    assert not single.encoder.layers[0].weight_mask[:5].any()
    assert torch.equal(single.encoder.layers[0].weight_mask[5:], evaluated.encoder.layers[0].weight_mask[5:])
    assert single.learning_rate == 5e-4
    assert single.fitness.values == dnp.evaluate_l1(single, data.validation)
    assert multi_back.fitness.values == dnp.evaluate_l1_capacity(multi_back, data.validation)
