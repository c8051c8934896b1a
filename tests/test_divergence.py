"""A diverging network gets fitness inf, is reported once, loses selection; the run goes on."""

import math
import warnings

import numpy as np
import pandas as pd
import torch
from deap import base, creator

import deap_nnprune as dnp
from deap_nnprune.algorithms import ea_one_plus_lambda, ea_spatial_coevolution, evaluate_each

N_DIM = 16


def _data():
    return dnp.datasets.binary_clustering(n_samples=20, n_dim=N_DIM, n_clusters=4, seed=0)


def _no_nan(logbook):
    frame = pd.DataFrame(list(logbook))
    numbers = frame.select_dtypes("number")
    return not numbers.isna().any().any()


def test_coevolution_survives_a_diverged_cell():
    data = _data()
    rng = np.random.default_rng(0)
    encoders = [creator.Encoder.from_preset("paper", N_DIM, "encoder", rng=rng, learning_rate=1e-2) for _ in range(3)]
    decoders = [creator.Decoder.from_preset("paper", N_DIM, "decoder", rng=rng, learning_rate=1e-2) for _ in range(3)]
    with torch.no_grad():
        encoders[1].layers[0].weight.fill_(float("nan"))  # forced divergence
    tb = base.Toolbox()
    tb.register("evaluate_pair", dnp.evaluate_pair)
    tb.register("evaluate_pairs", evaluate_each, evaluate_pair=dnp.evaluate_pair)  # one warning site
    tb.register("train_pairs", dnp.batched.train_pairs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        encoders, decoders, logbook = ea_spatial_coevolution(encoders, decoders, tb, 3, data, tournament_size=3,
                                                             seed=0, verbose=False)
    diverged = [w for w in caught if issubclass(w.category, dnp.NonFiniteOutputWarning)]
    assert len(diverged) == 1
    assert logbook[0]["best_cell"] != 1 and math.isfinite(logbook[-1]["best_validation"])
    # with tournaments over the whole ring, the NaN encoder is never chosen again
    assert all(torch.isfinite(e.layers[0].weight).all() for e in encoders)
    assert _no_nan(logbook)


def _explode(individual, rng=None):
    individual.learning_rate = 10.0
    with torch.no_grad():
        individual.encoder.layers[0].weight.fill_(float("inf"))
    return (individual,)


def test_elitist_canonical_keeps_the_parent_when_the_child_diverges():
    data = _data()
    tb = base.Toolbox()
    tb.register("train", _explode)
    tb.register("evaluate", dnp.evaluate_l1, data=data.validation)
    parent = creator.AE.from_preset("paper", N_DIM, rng=np.random.default_rng(0))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("default")
        population, logbook = ea_one_plus_lambda(parent, tb, ngen=2, elitist=True, seed=0, verbose=False)
    assert math.isfinite(population[0].fitness.values[0])
    assert population[1].fitness.values == (math.inf,)
    assert _no_nan(logbook)
