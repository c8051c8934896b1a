"""From a configuration to what DEAP runs: data, a toolbox and the initial individuals.

Everything registered is a module-level function bound with parameters
(``toolbox.register`` makes a ``functools.partial``), never a lambda, so a
toolbox pickles.
"""

from __future__ import annotations

import copy
import functools
import math
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from deap import base, creator

from .. import datasets, schedules
from ..algorithms.topology import Topology, make_topology
from ..batched import evaluate_pairs, train_pairs
from ..evaluation import evaluate_l1, evaluate_pair
from ..network import ACTIVATIONS, MaskedAutoencoder, MaskedMLP
from ..pruning import mut_prune_conjunctive, mut_prune_magnitude, mut_prune_random, mut_prune_variance
from ..training import mut_learning_rate, mut_train, mut_train_pair
from .config import DataConfig, ExperimentConfig

__all__ = ["load_data", "coevolution_toolbox", "canonical_toolbox", "initial_cells", "initial_autoencoder", "make_half",
           "topology", "breeding_population", "lr_step_size", "resolve_engine", "parameter_count"]

# Created once at import, as a DEAP script does; workers that unpickle a task import this module too.
if not hasattr(creator, "FitnessMin"):
    creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
if not hasattr(creator, "AE"):
    creator.create("AE", MaskedAutoencoder, fitness=creator.FitnessMin)
if not hasattr(creator, "Encoder"):
    creator.create("Encoder", MaskedMLP, fitness=creator.FitnessMin)
if not hasattr(creator, "Decoder"):
    creator.create("Decoder", MaskedMLP, fitness=creator.FitnessMin)

_INIT = 0x1417  # keeps the initialisation stream apart from the algorithms' (seed, gen, cell) streams


@functools.lru_cache(maxsize=4)
def load_data(config: DataConfig) -> datasets.DataSplits:
    """The train/validation/test splits a data config describes (cached per process)."""
    if config.source == "binary_clustering":
        return datasets.binary_clustering(n_samples=config.n_samples, n_dim=config.n_dim,
                                          n_clusters=config.n_clusters, noise=config.noise, seed=config.seed)
    if config.source == "digits":
        return datasets.digits(split=config.split, seed=config.seed)
    if config.source == "mnist1d":
        return datasets.mnist1d(split=config.split, seed=config.seed)
    return datasets.load(Path(config.source), split=config.split, seed=config.seed, key=config.key)


def resolve_engine(config: ExperimentConfig) -> str:
    """The training engine a run uses (``run.engine``: ``stacked`` or ``autograd``)."""
    return config.run.engine


def lr_step_size(config: ExperimentConfig, n_train: int) -> Optional[int]:
    """Adam steps between two StepLR multiplications (``training.lr_decay_every`` of the run), or None."""
    every = config.training.lr_decay_every
    if not every:
        return None
    batches = math.ceil(n_train / config.training.batch_size)
    return batches * max(1, int(config.algorithm.epochs * every))


def _training_parameters(config: ExperimentConfig, n_train: int) -> dict:
    t = config.training
    return dict(epochs=1, batch_size=t.batch_size, betas=tuple(t.betas), weight_decay=t.weight_decay,
                optimizer_state=t.optimizer_state, lr_step_size=lr_step_size(config, n_train), lr_gamma=t.lr_gamma)


def _register_pruning(toolbox: base.Toolbox, config: ExperimentConfig, data: Optional[torch.Tensor]) -> None:
    """``prune`` and ``prune_probability``; guided operators get *data* bound (canonical) or unbound (coevolution)."""
    p = config.pruning
    if p.operator == "none":
        return
    bound = {} if data is None else {"data": data}
    floor = dict(min_alive=p.min_alive, min_capacity=p.min_capacity)
    if p.operator == "random":
        toolbox.register("prune", mut_prune_random, amount=p.amount, **floor)
    elif p.operator == "magnitude":
        toolbox.register("prune", mut_prune_magnitude, amount=p.amount, **floor)
    elif p.operator == "variance":
        toolbox.register("prune", mut_prune_variance, **floor, **bound)
    else:
        toolbox.register("prune", mut_prune_conjunctive, threshold=p.threshold, n_cases=p.n_cases, **floor, **bound)
    extra = {"n": breeding_population(config)} if p.schedule == "population" else {}
    toolbox.register("prune_probability", schedules.SCHEDULES[p.schedule], p=p.base_probability, **extra)


def coevolution_toolbox(config: ExperimentConfig, n_train: int, engine: str) -> base.Toolbox:
    """Aliases of :func:`~deap_nnprune.algorithms.ea_spatial_coevolution` (``map`` is the builtin)."""
    toolbox = base.Toolbox()
    toolbox.register("map", map)
    toolbox.register("clone", copy.deepcopy)
    toolbox.register("evaluate_pair", evaluate_pair)
    training = _training_parameters(config, n_train)
    toolbox.register("train_pair", mut_train_pair, engine=engine, **training)
    if engine == "stacked":
        toolbox.register("evaluate_pairs", evaluate_pairs)
        toolbox.register("train_pairs", train_pairs, lr=None, steps=None, **training)
    _register_pruning(toolbox, config, data=None)
    if config.training.lr_mutation_sigma > 0:
        toolbox.register("mutate_lr", mut_learning_rate, sigma=config.training.lr_mutation_sigma)
    return toolbox


def canonical_toolbox(config: ExperimentConfig, data: datasets.DataSplits) -> base.Toolbox:
    """Aliases of :func:`~deap_nnprune.algorithms.ea_one_plus_lambda`; data bound (train; validation to score)."""
    toolbox = base.Toolbox()
    toolbox.register("map", map)
    toolbox.register("clone", copy.deepcopy)
    toolbox.register("train", mut_train, data=data.train, engine=config.run.engine,
                     **_training_parameters(config, data.train.shape[0]))
    toolbox.register("evaluate", evaluate_l1, data=data.validation)
    _register_pruning(toolbox, config, data=data.train)
    if config.training.lr_mutation_sigma > 0:
        toolbox.register("mutate_lr", mut_learning_rate, sigma=config.training.lr_mutation_sigma)
    return toolbox


def _init_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), _INIT]))


def make_half(cls: type, config: ExperimentConfig, n_dim: int, part: str, rng: np.random.Generator) -> MaskedMLP:
    """The encoder or decoder the network config describes, as an instance of *cls* (a creator class)."""
    network = config.network
    sizes = network.sizes(n_dim)[0 if part == "encoder" else 1]
    activation = ACTIVATIONS[network.activation]
    output = activation if part == "encoder" else ACTIVATIONS[network.output_activation]
    return cls(sizes, activation, output, learning_rate=config.training.lr,
               persistent_masks=network.persistent_masks, rng=rng)


def initial_cells(config: ExperimentConfig, n_dim: int, seeds, device: torch.device) -> tuple[list, list]:
    """Encoders and decoders of ``len(seeds)`` trials' grids, trial ``t`` initialised from ``seeds[t]``."""
    encoders, decoders = [], []
    for seed in seeds:
        rng = _init_rng(seed)
        for _ in range(config.algorithm.cells):
            encoders.append(make_half(creator.Encoder, config, n_dim, "encoder", rng).to(device))
            decoders.append(make_half(creator.Decoder, config, n_dim, "decoder", rng).to(device))
    return encoders, decoders


def initial_autoencoder(config: ExperimentConfig, n_dim: int, seed: int, device: torch.device):
    """The canonical loop's first parent, initialised from *seed*."""
    rng = _init_rng(seed)
    encoder = make_half(MaskedMLP, config, n_dim, "encoder", rng)
    return creator.AE(encoder, make_half(MaskedMLP, config, n_dim, "decoder", rng)).to(device)


def breeding_population(config: ExperimentConfig) -> int:
    """Individuals one step breeds from: a cell's neighbourhood in coevolution (the authors' ``n``), 1 in canonical."""
    if config.algorithm.name != "coevolution":
        return 1
    return min(len(hood) for hood in topology(config, 1).neighbourhoods)


def topology(config: ExperimentConfig, trials: int) -> Topology:
    """*trials* disjoint copies of the configured grid."""
    a = config.algorithm
    return make_topology(a.topology, a.cells * trials, a.radius, trials, neighbourhood=a.neighbourhood)


def parameter_count(config: ExperimentConfig, n_dim: int) -> int:
    """Weights and biases of one autoencoder of the configured architecture."""
    return sum(a * b + b for sizes in config.network.sizes(n_dim) for a, b in zip(sizes[:-1], sizes[1:]))
