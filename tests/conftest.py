"""Shared fixtures: DEAP creator classes and tiny seeded networks and data.

The creator classes are made once, at import time, as a DEAP script makes
them; the guard keeps a second ``creator.create`` (from another test module
doing the same) from replacing them.
"""

import os

import numpy as np
import pytest
import torch
from deap import base, creator

import deap_nnprune as dnp

# Tiny networks gain nothing from intra-op threads, and on a busy machine with
# few cores torch's thread pool turns milliseconds into seconds.
torch.set_num_threads(1)

if not hasattr(creator, "FitnessMin"):
    creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
if not hasattr(creator, "FitnessMulti"):
    creator.create("FitnessMulti", base.Fitness, weights=(-1.0, -1.0))
if not hasattr(creator, "AE"):
    creator.create("AE", dnp.MaskedAutoencoder, fitness=creator.FitnessMin)
if not hasattr(creator, "AEMulti"):
    creator.create("AEMulti", dnp.MaskedAutoencoder, fitness=creator.FitnessMulti)
if not hasattr(creator, "Encoder"):
    creator.create("Encoder", dnp.MaskedMLP, fitness=creator.FitnessMin)
if not hasattr(creator, "Decoder"):
    creator.create("Decoder", dnp.MaskedMLP, fitness=creator.FitnessMin)

N_DIM = 16


@pytest.fixture
def rng():
    """A fresh seeded numpy generator."""
    return np.random.default_rng(12345)


@pytest.fixture
def ae(rng):
    """A tiny paper-preset autoencoder (16 → 30 → 10 → 30 → 16), seeded."""
    return dnp.MaskedAutoencoder.from_preset("paper", n_dim=N_DIM, rng=rng)


@pytest.fixture
def individual(rng):
    """A tiny creator.AE individual with a single-objective fitness."""
    return creator.AE.from_preset("paper", n_dim=N_DIM, rng=rng)


@pytest.fixture
def data():
    """Small binary clustering splits of width N_DIM."""
    return dnp.datasets.binary_clustering(n_samples=40, n_dim=N_DIM, n_clusters=4, seed=0)


@pytest.fixture
def x():
    """A batch of inputs in [0, 1] of width N_DIM."""
    return torch.rand(8, N_DIM, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def subprocess_env():
    """Environment for a test's child Python: one torch thread, as in this process."""
    return {**os.environ, "OMP_NUM_THREADS": "1"}
