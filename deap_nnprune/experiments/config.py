"""Typed configuration of an experiment: one small frozen dataclass per concern.

An :class:`ExperimentConfig` composes the data, the network, the training,
the pruning, the algorithm and the run (trials, seed, device). Every field
is checked when a config is built, so a bad value is refused with a message
that names the dotted key (``training.lr``) and the value. Command-line
overrides are dotted ``key=value`` strings, parsed by the field's type::

    >>> from deap_nnprune.experiments.presets import get_preset
    >>> config = apply_overrides(get_preset("quick"), ["training.lr=1e-2", "algorithm.cells=4"])
    >>> config.training.lr, config.algorithm.cells
    (0.01, 4)
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .. import registry, schedules
from .._validation import check_bool, check_choice, check_float, check_int
from ..algorithms.generation import LR_OWNERS, PAIR_SELECTIONS, check_tournament_size
from ..conv import CONV_ARCHITECTURES
from ..network import ACTIVATIONS
from ..network import PRESETS as ARCHITECTURES
from ..pruning import FLOOR_ACTIONS, MAGNITUDE_SCOPES
from ..registry import PluginError
from ..training import ENGINES, OPTIMIZER_STATES
from .executors import EXECUTORS

__all__ = [
    "DataConfig",
    "NetworkConfig",
    "TrainingConfig",
    "PruningConfig",
    "AlgorithmConfig",
    "FinishConfig",
    "RunConfig",
    "ExperimentConfig",
    "ConfigError",
    "apply_overrides",
    "operator_spec",
    "valid_keys",
    "to_dict",
    "from_dict",
    "to_json",
    "to_toml",
    "identity",
    "resolved",
    "base_probability",
    "operator_names",
    "dataset_names",
]

#: Data files ``data.source`` may name (by suffix) besides the registered data sets.
DATA_FILE_SUFFIXES = (".npy", ".npz", ".csv")
#: Formats ``run.export`` can write beside each trial's ``models/trial-K.pt``.
EXPORT_FORMATS = ("onnx",)
#: Experiment loggers ``run.log`` can write beside the tables.
LOGGERS = ("tensorboard",)


class ConfigError(ValueError):
    """A configuration value, key or combination that cannot run."""


@dataclass(frozen=True)
class DataConfig:
    """Where the data comes from: the paper's generator, scikit-learn's digits, MNIST-1D or a file.

    ``source`` is ``binary_clustering``, ``digits``, ``mnist1d`` (the 5000
    signals of 40 values of MNIST-1D's published generator, scaled to
    [0, 1]) or a path to a ``.npy``, ``.npz`` or ``.csv`` matrix of values in
    [0, 1]. The generator uses ``n_samples`` rows per split, ``n_dim``,
    ``n_clusters``, ``noise`` and ``seed`` (the data is the same for every
    trial, so configurations are compared on the same data); digits,
    MNIST-1D and files are shuffled with ``seed`` and cut by ``split`` (an
    ``.npz`` with several arrays needs ``key``).
    """

    source: str = "binary_clustering"
    n_samples: int = 1000
    n_dim: int = 1000
    n_clusters: int = 10
    noise: float = 0.05
    seed: int = 0
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    key: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source:
            raise ConfigError(
                f"data.source must be binary_clustering, digits, mnist1d or a file path, got {self.source!r}"
            )
        check_int("data.n_samples", self.n_samples, minimum=1)
        check_int("data.n_dim", self.n_dim, minimum=1)
        check_int("data.n_clusters", self.n_clusters, minimum=1)
        check_float("data.noise", self.noise, low=0.0, high=1.0)
        if self.key is not None and not isinstance(self.key, str):
            raise ConfigError(f"data.key must be the name of an array in the .npz file, got {self.key!r}")
        check_int("data.seed", self.seed, minimum=0)
        if (
            not isinstance(self.split, tuple)
            or len(self.split) != 3
            or not all(isinstance(f, (int, float)) and not isinstance(f, bool) for f in self.split)
            or abs(sum(self.split) - 1.0) > 1e-6
            or min(self.split) <= 0
        ):
            raise ConfigError(f"data.split must be three positive fractions summing to 1, got {self.split!r}")
        if self.source == "binary_clustering" and self.n_samples % self.n_clusters:
            raise ConfigError(
                f"data.n_samples must be a multiple of data.n_clusters ({self.n_clusters}) so every "
                f"centre is used equally often, got {self.n_samples}"
            )


def _check_widths(key: str, widths: Any) -> None:
    if not isinstance(widths, tuple):
        raise ConfigError(f"{key} must be a list of layer widths, got {widths!r}")
    for i, width in enumerate(widths):
        check_int(f"{key}[{i}]", width, minimum=1)


@dataclass(frozen=True)
class NetworkConfig:
    """The autoencoder: a named architecture, or layer widths, activations and the mask mode.

    ``architecture`` names one of :data:`deap_nnprune.PRESETS`. ``hidden``
    replaces its widths with the encoder's after the input, latent last
    (``[256, 64]``: ``n_dim→256→64``), the decoder mirrored (``64→256→n_dim``);
    or ``encoder`` and ``decoder`` give both halves' widths explicitly (the
    decoder's after the latent, before the output: ``encoder=[256, 64]``,
    ``decoder=[128]`` is ``n_dim→256→64`` and ``64→128→n_dim``; an
    ``encoder`` alone gets a mirrored decoder).
    ``activation`` follows every layer but the decoder's last, which has
    ``output_activation`` (names of :data:`deap_nnprune.ACTIVATIONS`; with
    neither widths nor names set, the preset's own). ``persistent_masks=False``
    is the authors' behaviour: pruning zeroes weights once and training may
    regrow them.
    """

    architecture: str = "paper"
    persistent_masks: bool = True
    hidden: tuple[int, ...] = ()
    encoder: tuple[int, ...] = ()
    decoder: tuple[int, ...] = ()
    activation: str = "relu"
    output_activation: str = "sigmoid"

    def __post_init__(self) -> None:
        check_choice("network.architecture", self.architecture, (*ARCHITECTURES, *CONV_ARCHITECTURES))
        check_bool("network.persistent_masks", self.persistent_masks)
        if self.convolutional and (self.hidden or self.encoder or self.decoder):
            raise ConfigError(
                "network.architecture = conv has its own layers; network.hidden/encoder/decoder are for MLPs"
            )
        for key in ("hidden", "encoder", "decoder"):
            _check_widths(f"network.{key}", getattr(self, key))
        if self.hidden and (self.encoder or self.decoder):
            raise ConfigError("network.hidden and network.encoder/decoder contradict each other; give one")
        if self.decoder and not self.encoder:
            raise ConfigError("network.decoder needs network.encoder (the latent width is the encoder's last)")
        check_choice("network.activation", self.activation, tuple(ACTIVATIONS))
        check_choice("network.output_activation", self.output_activation, tuple(ACTIVATIONS))

    @property
    def convolutional(self) -> bool:
        """Whether the halves are convolutional (:mod:`deap_nnprune.conv`), not MLPs."""
        return self.architecture in CONV_ARCHITECTURES

    def sizes(self, n_dim: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Layer widths (input first) of the encoder and the decoder for *n_dim* inputs.

        (Not for the conv architecture, whose layers are convolutions.)

        >>> NetworkConfig(hidden=(256, 64)).sizes(784)
        ((784, 256, 64), (64, 256, 784))
        >>> NetworkConfig().sizes(100)
        ((100, 30, 10), (10, 30, 100))
        """
        if self.convolutional:
            raise ValueError("network.architecture = conv has convolutional layers, not widths")
        if self.encoder:
            decoder = self.decoder if self.decoder else tuple(reversed(self.encoder[:-1]))
            return (n_dim, *self.encoder), (self.encoder[-1], *decoder, n_dim)
        if self.hidden:
            widths = self.hidden
        else:
            preset = ARCHITECTURES[self.architecture]
            widths = (*preset.hidden, preset.latent)
        return (n_dim, *widths), (*reversed(widths), n_dim)


@dataclass(frozen=True)
class TrainingConfig:
    """Adam on mini-batches, one epoch per generation.

    ``optimizer_state="fresh_per_batch"`` restarts Adam on every batch (the
    authors' coevolution code). ``lr_mutation_sigma > 0`` adds the paper's
    Gaussian learning-rate random walk after every training. ``lr_decay_every``
    (canonical only) multiplies the rate by ``lr_gamma`` every that fraction
    of the run (0.25: every quarter, the paper's canonical StepLR); 0 keeps it.
    ``lr_owner`` (coevolution): ``individual``, each half carries its rate, or
    ``cell``, one rate per cell for both halves (the authors' code).
    """

    lr: float = 1e-3
    batch_size: int = 5
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0
    optimizer_state: str = "persistent"
    lr_mutation_sigma: float = 0.0
    lr_decay_every: float = 0.0
    lr_gamma: float = 0.1
    lr_owner: str = "individual"

    def __post_init__(self) -> None:
        check_float("training.lr", self.lr, low=0.0, high=10.0, low_open=True)
        check_int("training.batch_size", self.batch_size, minimum=1)
        if (
            not isinstance(self.betas, tuple)
            or len(self.betas) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0.0 <= b < 1.0 for b in self.betas)
        ):
            raise ConfigError(f"training.betas must be two numbers in [0, 1), got {self.betas!r}")
        check_float("training.weight_decay", self.weight_decay, low=0.0)
        check_choice("training.optimizer_state", self.optimizer_state, OPTIMIZER_STATES)
        check_float("training.lr_mutation_sigma", self.lr_mutation_sigma, low=0.0)
        check_float("training.lr_decay_every", self.lr_decay_every, low=0.0, high=1.0)
        check_float("training.lr_gamma", self.lr_gamma, low=0.0, high=1.0, low_open=True)
        check_choice("training.lr_owner", self.lr_owner, LR_OWNERS)


@dataclass(frozen=True)
class PruningConfig:
    """A pruning operator fired with a schedule's probability.

    ``p=None`` means the paper's base probability for the operator (0.5
    random, conjunctive and magnitude; 0.1 variance; 1.0 for ``prune_after``).
    ``amount`` is the fraction random and magnitude pruning remove;
    ``threshold`` and ``n_cases`` belong to conjunctive pruning; every
    operator keeps at least ``min_alive`` neurons per layer and leaves alone
    an autoencoder whose capacity is at or below ``min_capacity`` (random
    pruning with ``floor_action="perturb"`` then perturbs it instead:
    :func:`~deap_nnprune.mut_perturb_random`).
    """

    operator: str = "none"
    schedule: str = "exponential"
    p: float | None = None
    amount: float = 0.1
    threshold: float = 0.1
    n_cases: int = 100
    min_alive: int = 1
    min_capacity: float = 0.0
    scope: str = "layer"
    final_capacity: float = 0.5
    floor_action: str = "stop"

    def __post_init__(self) -> None:
        if not isinstance(self.operator, str) or not self.operator:
            raise ConfigError(f"pruning.operator must be an operator name, got {self.operator!r}")
        check_choice("pruning.schedule", self.schedule, tuple(schedules.SCHEDULES))
        if self.p is not None:
            check_float("pruning.p", self.p, low=0.0, high=1.0)
        check_float("pruning.amount", self.amount, low=0.0, high=1.0)
        check_float("pruning.threshold", self.threshold, low=0.0, high=1.0)
        check_int("pruning.n_cases", self.n_cases, minimum=1)
        check_int("pruning.min_alive", self.min_alive, minimum=0)
        check_float("pruning.min_capacity", self.min_capacity, low=0.0, high=1.0)
        check_choice("pruning.scope", self.scope, MAGNITUDE_SCOPES)
        check_float("pruning.final_capacity", self.final_capacity, low=0.0, high=1.0)
        check_choice("pruning.floor_action", self.floor_action, FLOOR_ACTIONS)


@dataclass(frozen=True)
class AlgorithmConfig:
    """The evolutionary loop: ``coevolution`` (spatial, cells on a grid) or ``canonical`` ((1+λ)).

    One generation is one training epoch. Coevolution uses ``cells``,
    ``topology`` (``ring`` or ``torus``), ``radius``, ``neighbourhood`` (torus:
    ``moore`` or ``von_neumann``), ``solution_concept``, ``tournament_size``,
    ``update`` (``sequential``, the paper's, or ``synchronous``),
    ``score_batch_size``, ``pair_selection`` (``independent`` tournaments for
    encoder and decoder, or ``same_index``: both halves of one neighbour, the
    authors' code) and ``tournament_replacement`` (draws with replacement, the
    authors' code); canonical uses ``offspring`` (λ) and ``elitist``.
    """

    name: str = "coevolution"
    epochs: int = 400
    cells: int = 10
    topology: str = "ring"
    radius: int = 1
    neighbourhood: str = "moore"
    solution_concept: str = "best"
    tournament_size: int = 2
    update: str = "sequential"
    score_batch_size: int = 5
    pair_selection: str = "independent"
    tournament_replacement: bool = False
    offspring: int = 1
    elitist: bool = False

    def __post_init__(self) -> None:
        check_choice("algorithm.name", self.name, ("coevolution", "canonical"))
        check_int("algorithm.epochs", self.epochs, minimum=0)
        check_int("algorithm.cells", self.cells, minimum=1)
        if not isinstance(self.topology, str) or not self.topology:
            raise ConfigError(
                f"algorithm.topology must be a topology name such as ring or torus, got {self.topology!r}"
            )
        check_int("algorithm.radius", self.radius, minimum=0)
        check_choice("algorithm.neighbourhood", self.neighbourhood, ("moore", "von_neumann"))
        check_choice("algorithm.solution_concept", self.solution_concept, ("best", "worst", "mean"))
        check_int("algorithm.tournament_size", self.tournament_size, minimum=1)
        check_choice("algorithm.update", self.update, ("sequential", "synchronous"))
        check_int("algorithm.score_batch_size", self.score_batch_size, minimum=1)
        check_choice("algorithm.pair_selection", self.pair_selection, PAIR_SELECTIONS)
        check_bool("algorithm.tournament_replacement", self.tournament_replacement)
        check_int("algorithm.offspring", self.offspring, minimum=1)
        check_bool("algorithm.elitist", self.elitist)


@dataclass(frozen=True)
class FinishConfig:
    """What happens to each trial's best autoencoder after the evolution: compress, then repair.

    ``capacity < 1``: its masks are frozen and the smallest weights, ranked
    across all layers, are pruned until :func:`~deap_nnprune.capacity` is
    at most ``capacity`` (biases are not pruned and every layer keeps its
    strongest weight, so a very low target stops above it); then it trains
    ``epochs`` epochs with a fresh, persistent Adam at ``lr`` (batch size and
    betas from ``training``, no weight decay):
    :func:`~deap_nnprune.mut_prune_finetune`. With ``capacity = 1`` and
    ``epochs > 0`` the masks are frozen and the autoencoder only fine-tuned.
    The defaults (1.0, 0 epochs) leave the result as the evolution made it.
    The paper's metrics (``paper_l1``, ``paper_capacity``) stay the
    evolution's.
    """

    capacity: float = 1.0
    epochs: int = 0
    lr: float = 1e-4

    def __post_init__(self) -> None:
        check_float("finish.capacity", self.capacity, low=0.0, high=1.0, low_open=True)
        check_int("finish.epochs", self.epochs, minimum=0)
        check_float("finish.lr", self.lr, low=0.0, high=10.0, low_open=True)

    @property
    def enabled(self) -> bool:
        """Whether the finishing step changes anything (a capacity below 1 or some epochs)."""
        return self.capacity < 1.0 or self.epochs > 0


def _check_names(key: str, names: Any, choices: tuple[str, ...], what: str) -> None:
    if not isinstance(names, tuple):
        raise ConfigError(f"{key} must be a list of {what}, got {names!r}")
    for i, name in enumerate(names):
        check_choice(f"{key}[{i}]", name, choices)


@dataclass(frozen=True)
class RunConfig:
    """How trials run: how many, their seeds' root, the device and checkpoints.

    ``batch_trials`` runs all coevolution trials as disjoint grids of one
    population (faster; the same bytes as one trial per task). ``engine`` is
    the training engine: ``stacked`` (:mod:`deap_nnprune.batched`, MLP
    autoencoders) or ``autograd`` (any masked network, slower; its numbers
    agree with ``stacked`` to float rounding, not to the bit).
    ``executor`` says where trials run (``serial``, ``processes``,
    ``scoop``, ``dask``; ``auto``: SCOOP under ``python -m scoop``, else
    serial; see :mod:`.executors`), ``workers`` how many processes (0: one
    per CPU), ``scheduler`` a Dask scheduler to join; none changes a result.
    ``threads`` sets torch's intra-op threads in every process (0: torch's
    default). The default, 1, is the fastest for these small networks on a
    CPU and keeps workers from fighting over cores (2 workers × 2 threads on
    2 cores ran 20× slower); it is also what makes results independent of
    how work is split, since several threads split kernels at places that
    depend on tensor sizes.
    """

    trials: int = 10
    seed: int = 0
    device: str = "cpu"
    batch_trials: bool = False
    engine: str = "stacked"
    plugins: tuple[str, ...] = ()
    executor: str = "auto"
    workers: int = 0
    scheduler: str = ""
    threads: int = 1
    checkpoint_every: int = 10
    keep_checkpoints: bool = False
    export: tuple[str, ...] = ()
    log: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_int("run.trials", self.trials, minimum=1)
        check_int("run.seed", self.seed, minimum=0)
        if not isinstance(self.device, str) or not self.device:
            raise ConfigError(f"run.device must be a device name such as cpu or cuda:0, got {self.device!r}")
        check_choice("run.engine", self.engine, ENGINES)
        if not isinstance(self.plugins, tuple) or not all(isinstance(m, str) and m for m in self.plugins):
            raise ConfigError(f"run.plugins must be a list of module names, got {self.plugins!r}")
        check_choice("run.executor", self.executor, EXECUTORS)
        check_int("run.workers", self.workers, minimum=0)
        if not isinstance(self.scheduler, str):
            raise ConfigError(f"run.scheduler must be an address such as tcp://host:8786, got {self.scheduler!r}")
        if self.scheduler and self.executor not in ("auto", "dask"):
            raise ConfigError(f"run.scheduler is for run.executor = dask, not {self.executor!r}")
        check_int("run.threads", self.threads, minimum=0)
        check_int("run.checkpoint_every", self.checkpoint_every, minimum=1)
        check_bool("run.batch_trials", self.batch_trials)
        check_bool("run.keep_checkpoints", self.keep_checkpoints)
        _check_names("run.export", self.export, EXPORT_FORMATS, "formats")
        _check_names("run.log", self.log, LOGGERS, "loggers")


SECTIONS = ("data", "network", "training", "pruning", "algorithm", "finish", "run")


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment; ``name`` and ``description`` label it in outputs and reports."""

    name: str
    description: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    pruning: PruningConfig = field(default_factory=PruningConfig)
    algorithm: AlgorithmConfig = field(default_factory=AlgorithmConfig)
    finish: FinishConfig = field(default_factory=FinishConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def __post_init__(self) -> None:
        try:
            names = operator_names(self.run.plugins)
            data_names = dataset_names(self.run.plugins)
        except PluginError as error:
            raise ConfigError(f"run.plugins: {error}") from None
        if self.pruning.operator not in ("none", *names):
            raise ConfigError(
                f"pruning.operator must be one of none, {', '.join(names)} (a plugin's operator needs "
                f"run.plugins / --plugin, importable from PYTHONPATH), got {self.pruning.operator!r}"
            )
        if self.network.convolutional and self.run.engine != "autograd":
            raise ConfigError(
                "network.architecture = conv trains with the autograd engine (the stacked one is MLP-only): "
                "add --set run.engine=autograd"
            )
        spec = operator_spec(self)
        if spec is not None:
            if spec.needs_persistent_masks and not self.network.persistent_masks:
                raise ConfigError(f"pruning.operator = {self.pruning.operator} needs network.persistent_masks = true")
            if spec.records_spread and (self.run.engine != "stacked" or self.network.convolutional):
                raise ConfigError(
                    f"pruning.operator = {self.pruning.operator} reads activations the stacked engine records for "
                    f"MLPs; run.engine = {self.run.engine} with network.architecture = "
                    f"{self.network.architecture} records none"
                )
        source = self.data.source
        if source not in data_names and Path(source).suffix.lower() not in DATA_FILE_SUFFIXES:
            raise ConfigError(
                f"data.source must be one of {', '.join(data_names)} or a "
                f"{'/'.join(DATA_FILE_SUFFIXES)} file, got {source!r}"
            )
        algorithm = self.algorithm
        if self.training.lr_decay_every and algorithm.name != "canonical":
            raise ConfigError("training.lr_decay_every > 0 is only supported with algorithm.name=canonical")
        if algorithm.name == "coevolution":
            _check_grid(algorithm, self.run.plugins)


def _check_grid(algorithm: AlgorithmConfig, plugins: Sequence[str]) -> None:
    check_choice("algorithm.topology", algorithm.topology, tuple(registry.topologies(plugins)))
    try:
        topology = registry.topology_of(
            algorithm.topology, algorithm.cells, algorithm.radius, algorithm.neighbourhood, plugins=plugins
        )
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"algorithm: {error} (algorithm.cells={algorithm.cells}, algorithm.radius={algorithm.radius})"
        ) from None
    hood = min(len(h) for h in topology.neighbourhoods)
    try:
        check_tournament_size(
            algorithm.tournament_size, hood, algorithm.tournament_replacement, argument="algorithm.tournament_size"
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None


# -- dictionaries, JSON, TOML ---------------------------------------------------
def to_dict(config: ExperimentConfig) -> dict:
    """A JSON-able nested dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def changed_settings(base: ExperimentConfig, config: ExperimentConfig) -> list[str]:
    """``section.key=value`` for every setting of *config* that differs from *base*.

    >>> from deap_nnprune.experiments.presets import get_preset
    >>> quick = get_preset("quick")
    >>> changed_settings(quick, dataclasses.replace(quick, data=dataclasses.replace(quick.data, n_dim=16)))
    ['data.n_dim=16']
    """
    old, new = to_dict(base), to_dict(config)
    return [
        f"{section}.{key}={value}"
        for section in SECTIONS
        for key, value in new[section].items()
        if old[section].get(key) != value
    ]


def from_dict(data: dict) -> ExperimentConfig:
    """The inverse of :func:`to_dict`; unknown keys are refused."""
    sections = {}
    for name in SECTIONS:
        cls = _section_class(name)
        values = dict(data.get(name, {}))
        hints = typing.get_type_hints(cls)
        for key, value in values.items():
            if key not in hints:
                raise ConfigError(f"unknown key {name}.{key}")
            if isinstance(value, list):
                values[key] = tuple(value)
        sections[name] = cls(**values)
    return ExperimentConfig(name=data["name"], description=data.get("description", ""), **sections)


def to_json(config: ExperimentConfig) -> str:
    return json.dumps(to_dict(config), indent=2) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def to_toml(config: ExperimentConfig) -> str:
    """The config as TOML (a ``None`` value is written as a comment: TOML has no null)."""
    data = to_dict(config)
    lines = [f"name = {_toml_value(data['name'])}", f"description = {_toml_value(data['description'])}"]
    for section in SECTIONS:
        lines += ["", f"[{section}]"]
        for key, value in data[section].items():
            lines.append(f"# {key} = (none)" if value is None else f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


#: Run settings that change no result: how often checkpoints are written, whether they are kept, exports, logs.
NO_RESULT_RUN_KEYS = ("checkpoint_every", "keep_checkpoints", "export", "log", "executor", "workers", "scheduler")


def identity_of_dict(data: dict) -> dict:
    """:func:`identity` of a config dict as :func:`to_dict` writes it (a copy; *data* is not changed)."""
    data = json.loads(json.dumps(data))
    data.pop("description", None)
    for key in NO_RESULT_RUN_KEYS:
        data.get("run", {}).pop(key, None)
    return data


def identity(config: ExperimentConfig) -> dict:
    """The settings that change results: what ``--resume`` compares.

    Leaves out the description, how often checkpoints are written, whether
    they are kept, and which exports and logs are written.
    """
    return identity_of_dict(to_dict(config))


def operator_spec(config: ExperimentConfig) -> registry.OperatorSpec | None:
    """The registry's entry for ``config.pruning.operator`` (with the run's plugins); ``None`` for ``none``.

    >>> from deap_nnprune.experiments.presets import get_preset
    >>> operator_spec(get_preset("paper-canonical-variance-exponential")).records_spread
    True
    >>> operator_spec(get_preset("paper-canonical-none")) is None
    True
    """
    operator = config.pruning.operator
    return None if operator == "none" else registry.operators(config.run.plugins)[operator]


def operator_names(plugins: Sequence[str] = ()) -> tuple[str, ...]:
    """Pruning operators a config may name (besides ``none``): the registry's, with *plugins*."""
    return tuple(registry.operators(plugins))


def dataset_names(plugins: Sequence[str] = ()) -> tuple[str, ...]:
    """Data sets ``data.source`` may name (besides files): the registry's, with *plugins*."""
    return tuple(registry.datasets(plugins))


def base_probability(config: ExperimentConfig) -> float:
    """``pruning.p``, or the operator's base probability (1.0 with ``prune_after``) when it is unset.

    >>> from deap_nnprune.experiments.presets import get_preset
    >>> base_probability(get_preset("paper-coevolution-variance-population"))
    0.1
    """
    p = config.pruning
    if p.p is not None:
        return p.p
    if p.schedule == "prune_after":
        return 1.0
    spec = operator_spec(config)
    return 0.5 if spec is None else spec.base_probability  # 0.5 for none: never used, nothing is pruned


def resolved(config: ExperimentConfig) -> ExperimentConfig:
    """*config* with the defaults that depend on other fields made explicit (``pruning.p``)."""
    if config.pruning.p is None:
        config = replace(config, pruning=replace(config.pruning, p=base_probability(config)))
    return config


# -- --set overrides ------------------------------------------------------------
def _section_class(name: str) -> type:
    return typing.get_type_hints(ExperimentConfig)[name]


def valid_keys() -> list[str]:
    """Every dotted key ``--set`` accepts, e.g. ``training.lr``."""
    return [f"{section}.{f.name}" for section in SECTIONS for f in fields(_section_class(section))]


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def _parse(key: str, kind: Any, text: str) -> Any:
    """Convert *text* to the type *kind* of the field *key*."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType) and type(None) in args:  # Optional[X] and X | None
        if text.strip().lower() in ("none", "null", ""):
            return None
        return _parse(key, next(a for a in args if a is not type(None)), text)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        parts = [p for p in text.strip().strip("[]()").split(",") if p.strip()]
        return tuple(_parse(key, args[0], p) for p in parts)
    if origin is tuple:
        parts = [p for p in text.strip().strip("[]()").split(",") if p.strip()]
        if len(parts) != len(args):
            raise ConfigError(f"--set {key}={text}: expected {len(args)} comma-separated numbers")
        return tuple(_parse(key, a, p) for a, p in zip(args, parts))
    text = text.strip()
    if kind is bool:
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise ConfigError(f"--set {key}={text}: expected true or false")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"--set {key}={text}: expected an integer") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"--set {key}={text}: expected a number") from None
    return text


def apply_overrides(config: ExperimentConfig, assignments: Sequence[str]) -> ExperimentConfig:
    """Apply ``key=value`` strings to *config*; refuse unknown keys and bad values clearly."""
    keys = valid_keys()
    changes: dict[str, dict[str, Any]] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep:
            raise ConfigError(f"--set {assignment!r}: expected key=value, e.g. training.lr=1e-3")
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(f"--set {key}: unknown key{hint}; valid keys: {', '.join(keys)}")
        section, name = key.split(".", 1)
        kind = typing.get_type_hints(_section_class(section))[name]
        changes.setdefault(section, {})[name] = _parse(key, kind, text)
    try:
        sections = {s: replace(getattr(config, s), **values) for s, values in changes.items()}
        return replace(config, **sections)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"invalid --set value: {error}") from None
