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

import numpy as np
import torch
from deap import base

from .. import datasets, registry, schedules
from .._rng import derive_rng
from ..algorithms.generation import evaluate_each, train_each
from ..algorithms.topology import Topology
from ..batched import evaluate_pairs, train_pairs
from ..conv import conv_halves
from ..evaluation import evaluate_l1, evaluate_pair
from ..network import ACTIVATIONS, MaskedMLP
from ..spread import start_recording
from ..training import mut_learning_rate, mut_train, mut_train_pair
from .config import DataConfig, ExperimentConfig, base_probability, operator_spec
from .individuals import Autoencoder, Decoder, Encoder, FitnessMin

__all__ = [
    "load_data",
    "coevolution_toolbox",
    "canonical_toolbox",
    "initial_cells",
    "initial_autoencoder",
    "make_half",
    "make_halves",
    "prune_needs_data",
    "run_steps",
    "finish_rng",
    "batches_per_epoch",
    "topology",
    "breeding_population",
    "lr_step_size",
    "resolve_engine",
    "parameter_count",
]

_INIT = 0x1417  # keeps the initialisation stream apart from the algorithms' (seed, gen, cell) streams
_FINISH = 0xF1E  # and the finishing step's


@functools.lru_cache(maxsize=4)
def load_data(config: DataConfig, plugins: tuple[str, ...] = ()) -> datasets.DataSplits:
    """The train/validation/test splits a data config describes (cached per process).

    A registered data set (:func:`deap_nnprune.registry.datasets`, with the
    run's *plugins*) by name, else a file.
    """
    table = registry.datasets(plugins)
    if config.source in table:
        splits = table[config.source].load(config)
        if not isinstance(splits, datasets.DataSplits):
            raise TypeError(f"data set {config.source!r} returned a {type(splits).__name__}, not a DataSplits")
        return splits
    return datasets.load(Path(config.source), split=config.split, seed=config.seed, key=config.key)


def resolve_engine(config: ExperimentConfig) -> str:
    """The training engine a run uses (``run.engine``: ``stacked`` or ``autograd``)."""
    return config.run.engine


def lr_step_size(config: ExperimentConfig, n_train: int) -> int | None:
    """Adam steps between two StepLR multiplications (``training.lr_decay_every`` of the run), or None."""
    every = config.training.lr_decay_every
    if not every:
        return None
    return batches_per_epoch(config, n_train) * max(1, int(config.algorithm.epochs * every))


def _training_parameters(config: ExperimentConfig, n_train: int) -> dict:
    t = config.training
    return dict(
        epochs=1,
        batch_size=t.batch_size,
        betas=tuple(t.betas),
        weight_decay=t.weight_decay,
        optimizer_state=t.optimizer_state,
        lr_step_size=lr_step_size(config, n_train),
        lr_gamma=t.lr_gamma,
    )


def prune_needs_data(config: ExperimentConfig) -> bool:
    """Whether the configured operator takes the training rows as ``data`` (what its spec declares)."""
    spec = operator_spec(config)
    return spec is not None and spec.needs_data


def network_steps(config: ExperimentConfig, n_train: int) -> int:
    """Compute of one trial in network-steps: Adam steps of one autoencoder on one mini-batch, summed over the
    networks a generation trains (a coevolution's cells, a canonical loop's offspring).

    The finishing step's fine-tuning (``finish.epochs`` of the one best autoencoder) is added.
    Forward-only work (scoring neighbourhoods, validation) is not counted.
    """
    a = config.algorithm
    evolution = run_steps(config, n_train) * (a.cells if a.name == "coevolution" else a.offspring)
    return evolution + config.finish.epochs * batches_per_epoch(config, n_train)


def batches_per_epoch(config: ExperimentConfig, n_train: int) -> int:
    """Mini-batches (Adam steps) in one epoch over *n_train* rows; the last batch may be short.

    >>> from deap_nnprune.experiments.presets import get_preset
    >>> batches_per_epoch(get_preset("quick"), 202)   # batches of 5
    41
    """
    return math.ceil(n_train / config.training.batch_size)


def run_steps(config: ExperimentConfig, n_train: int) -> int:
    """Adam steps one network takes in a whole run: epochs × mini-batches per epoch."""
    return config.algorithm.epochs * batches_per_epoch(config, n_train)


def _register_pruning(toolbox: base.Toolbox, config: ExperimentConfig, data: torch.Tensor | None, n_train: int) -> None:
    """``prune`` and ``prune_probability``; guided operators get *data* bound (canonical) or unbound (coevolution)."""
    p, spec = config.pruning, operator_spec(config)
    if spec is None:
        return
    bound = {"data": data} if spec.needs_data and data is not None else {}
    parameters = {name: getattr(p, name) for name in spec.parameters}
    if spec.needs_run_length:
        parameters["total_steps"] = run_steps(config, n_train)
    toolbox.register("prune", spec.function, **parameters, min_alive=p.min_alive, min_capacity=p.min_capacity, **bound)
    extra = {"n": breeding_population(config)} if p.schedule == "population" else {}
    toolbox.register("prune_probability", schedules.SCHEDULES[p.schedule], p=base_probability(config), **extra)


def coevolution_toolbox(config: ExperimentConfig, n_train: int, engine: str) -> base.Toolbox:
    """Aliases of :func:`~deap_nnprune.algorithms.ea_spatial_coevolution` (``map`` is the builtin)."""
    toolbox = base.Toolbox()
    toolbox.register("map", map)
    toolbox.register("clone", copy.deepcopy)
    toolbox.register("evaluate_pair", evaluate_pair)
    training = _training_parameters(config, n_train)
    if engine == "stacked":
        toolbox.register("evaluate_pairs", evaluate_pairs)
        toolbox.register("train_pairs", train_pairs, lr=None, steps=None, **training)
    else:  # one pair at a time through the autograd engine
        toolbox.register("train_pair", mut_train_pair, engine=engine, **training)
        toolbox.register("evaluate_pairs", evaluate_each, evaluate_pair=evaluate_pair)
        toolbox.register("train_pairs", train_each, train_pair=toolbox.train_pair, map=toolbox.map)
    _register_pruning(toolbox, config, data=None, n_train=n_train)
    if config.training.lr_mutation_sigma > 0:
        toolbox.register("mutate_lr", mut_learning_rate, sigma=config.training.lr_mutation_sigma)
    return toolbox


def canonical_toolbox(config: ExperimentConfig, data: datasets.DataSplits) -> base.Toolbox:
    """Aliases of :func:`~deap_nnprune.algorithms.ea_one_plus_lambda`; data bound (train; validation to score)."""
    toolbox = base.Toolbox()
    toolbox.register("map", map)
    toolbox.register("clone", copy.deepcopy)
    toolbox.register(
        "train",
        mut_train,
        data=data.train,
        engine=config.run.engine,
        **_training_parameters(config, data.train.shape[0]),
    )
    toolbox.register("evaluate", evaluate_l1, data=data.validation)
    _register_pruning(toolbox, config, data=data.train, n_train=data.train.shape[0])
    if config.training.lr_mutation_sigma > 0:
        toolbox.register("mutate_lr", mut_learning_rate, sigma=config.training.lr_mutation_sigma)
    return toolbox


def _init_rng(seed: int) -> np.random.Generator:
    return derive_rng(seed, _INIT)


def finish_rng(seed: int) -> np.random.Generator:
    """The random stream of a trial's finishing step (its fine-tuning's batch order), apart from all others.

    >>> int(finish_rng(3).integers(1000)) == int(finish_rng(3).integers(1000)) != int(finish_rng(4).integers(1000))
    True
    """
    return derive_rng(seed, _FINISH)


def make_half(cls: type, config: ExperimentConfig, n_dim: int, part: str, rng: np.random.Generator) -> MaskedMLP:
    """The encoder or decoder the network config describes, as an instance of *cls* (a creator class)."""
    network = config.network
    sizes = network.sizes(n_dim)[0 if part == "encoder" else 1]
    activation = ACTIVATIONS[network.activation]
    output = activation if part == "encoder" else ACTIVATIONS[network.output_activation]
    return cls(
        sizes, activation, output, learning_rate=config.training.lr, persistent_masks=network.persistent_masks, rng=rng
    )


def make_halves(config: ExperimentConfig, n_dim: int, rng: np.random.Generator, individuals: bool = True):
    """The encoder and decoder the network config describes, initialised from *rng*.

    With *individuals* they carry a fitness (:mod:`.individuals`), as coevolution's cells do.
    """
    if config.network.convolutional:
        encoder, decoder = conv_halves(
            n_dim, rng, learning_rate=config.training.lr, persistent_masks=config.network.persistent_masks
        )
        if individuals:
            encoder.fitness, decoder.fitness = FitnessMin(), FitnessMin()
        return encoder, decoder
    classes = (Encoder, Decoder) if individuals else (MaskedMLP, MaskedMLP)
    return (make_half(classes[0], config, n_dim, "encoder", rng), make_half(classes[1], config, n_dim, "decoder", rng))


def initial_cells(config: ExperimentConfig, n_dim: int, seeds, device: torch.device) -> tuple[list, list]:
    """Encoders and decoders of ``len(seeds)`` trials' grids, trial ``t`` initialised from ``seeds[t]``."""
    encoders, decoders = [], []
    for seed in seeds:
        rng = _init_rng(seed)
        for _ in range(config.algorithm.cells):
            encoder, decoder = make_halves(config, n_dim, rng)
            encoders.append(_recording(config, encoder.to(device)))
            decoders.append(_recording(config, decoder.to(device)))
    return encoders, decoders


def initial_autoencoder(config: ExperimentConfig, n_dim: int, seed: int, device: torch.device):
    """The canonical loop's first parent, initialised from *seed*."""
    encoder, decoder = make_halves(config, n_dim, _init_rng(seed), individuals=False)
    return _recording(config, Autoencoder(encoder, decoder).to(device))


def _recording(config: ExperimentConfig, network):
    """*network*, recording its activations when the configured operator reads them (``records_spread``)."""
    spec = operator_spec(config)
    if spec is not None and spec.records_spread:
        start_recording(network)
    return network


def breeding_population(config: ExperimentConfig) -> int:
    """Individuals one step breeds from: a cell's neighbourhood in coevolution (the authors' ``n``), 1 in canonical."""
    if config.algorithm.name != "coevolution":
        return 1
    return min(len(hood) for hood in topology(config, 1).neighbourhoods)


def topology(config: ExperimentConfig, trials: int) -> Topology:
    """*trials* disjoint copies of the configured grid."""
    a = config.algorithm
    return registry.topology_of(a.topology, a.cells, a.radius, a.neighbourhood, trials, config.run.plugins)


def parameter_count(config: ExperimentConfig, n_dim: int) -> int:
    """Weights and biases of one autoencoder of the configured architecture."""
    if config.network.convolutional:
        return sum(p.numel() for half in conv_halves(n_dim) for p in half.parameters())
    return sum(a * b + b for sizes in config.network.sizes(n_dim) for a, b in zip(sizes[:-1], sizes[1:]))
