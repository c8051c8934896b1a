"""What a configuration can name: pruning operators and data sets, with what each needs.

One table per kind, read by the configuration (which names are valid, the
operator's base probability), the toolbox builder (what to register, with
which parameters, whether it gets data), the examples and the CLI. The
built-in entries are constants here; a user adds entries without editing the
package through a *plugin*: an importable module that defines ``OPERATORS``
(a sequence of :class:`OperatorSpec`) and/or ``DATASETS`` (of
:class:`DatasetSpec`), named in ``run.plugins`` (``--plugin MODULE`` on the
CLI). Tables are built from the built-ins and the named plugins on every
lookup — nothing global is changed — so a worker process that receives the
configuration finds the same operators.

>>> sorted(operators())
['conjunctive', 'gradual_magnitude', 'magnitude', 'random', 'variance', 'variance_batches']
>>> operators()["variance"].base_probability
0.1
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from . import datasets as _datasets
from .algorithms.topology import Topology, make_topology, replicate
from .pruning import (
    mut_prune_conjunctive,
    mut_prune_gradual,
    mut_prune_magnitude,
    mut_prune_random,
    mut_prune_spread,
    mut_prune_variance,
)

__all__ = [
    "OperatorSpec",
    "DatasetSpec",
    "TopologySpec",
    "BUILTIN_TOPOLOGIES",
    "topologies",
    "topology_of",
    "PRUNING_PARAMETERS",
    "BUILTIN_OPERATORS",
    "BUILTIN_DATASETS",
    "operators",
    "datasets",
    "load_plugin",
    "PluginError",
]

#: Settings of the ``pruning`` section an operator may take (besides ``min_alive`` and ``min_capacity``).
PRUNING_PARAMETERS = ("amount", "threshold", "n_cases", "scope", "final_capacity", "floor_action")


class PluginError(ValueError):
    """A plugin that cannot be imported or that declares something malformed."""


@dataclass(frozen=True)
class OperatorSpec:
    """A pruning operator as configurations see it.

    *function* has the shape of our operators:
    ``function(individual, [data,] **parameters, min_alive=, rng=, min_capacity=) -> (individual,)``
    (write it with :func:`deap_nnprune.prune_by`). *base_probability* is
    its probability at schedule value 1 when ``pruning.p`` is unset;
    *needs_data* says it takes the training rows as ``data`` (the algorithms
    pass each cell's); *parameters* are the ``pruning`` settings it takes,
    from :data:`PRUNING_PARAMETERS`; *needs_run_length* makes the toolbox
    bind ``total_steps``, the Adam steps of the whole run (a schedule such as
    gradual magnitude pruning reads its progress from the network's step
    count); *needs_persistent_masks* makes configurations with the
    regrowth compatibility mode refuse it; *records_spread* makes the
    toolbox start every initial network's activation record
    (:func:`deap_nnprune.spread.start_recording`) and configurations with
    the autograd engine (which records nothing) refuse it.

    >>> OperatorSpec("halve", lambda individual, **kw: (individual,), parameters=("amount",)).needs_data
    False
    """

    name: str
    function: Callable[..., tuple]
    base_probability: float = 0.5
    needs_data: bool = False
    parameters: tuple[str, ...] = ()
    needs_run_length: bool = False
    needs_persistent_masks: bool = False
    records_spread: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier() or self.name == "none":
            raise PluginError(f"an operator name must be an identifier other than 'none', got {self.name!r}")
        if not callable(self.function):
            raise PluginError(f"operator {self.name!r}: function is not callable ({self.function!r})")
        if not 0.0 <= float(self.base_probability) <= 1.0:
            raise PluginError(
                f"operator {self.name!r}: base_probability must be in [0, 1], got {self.base_probability!r}"
            )
        unknown = [p for p in self.parameters if p not in PRUNING_PARAMETERS]
        if unknown:
            raise PluginError(
                f"operator {self.name!r}: unknown parameter(s) {unknown}; choose from {list(PRUNING_PARAMETERS)}"
            )


@dataclass(frozen=True)
class DatasetSpec:
    """A data set configurations can name as ``data.source``.

    ``load(data)`` receives the ``data`` section (its ``n_samples``,
    ``n_dim``, ``seed``, ``split``, …) and returns a
    :class:`deap_nnprune.datasets.DataSplits`; it must depend on nothing else,
    so that every worker rebuilds the same splits. *generated* is False for
    a loader that reads from disk.

    >>> DatasetSpec("mine", lambda data: None).generated
    True
    """

    name: str
    load: Callable[[Any], _datasets.DataSplits]
    generated: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise PluginError(f"a data set name must be an identifier, got {self.name!r}")
        if not callable(self.load):
            raise PluginError(f"data set {self.name!r}: load is not callable ({self.load!r})")


@dataclass(frozen=True)
class TopologySpec:
    """A grid configurations can name as ``algorithm.topology``.

    ``build(n_cells, radius, neighbourhood)`` returns one trial's
    neighbourhoods: for each cell, the cells it sees, itself first.

    >>> spec = TopologySpec("pair", lambda n, radius, kind: [(i, (i + 1) % n) for i in range(n)])
    >>> spec.build(3, 1, "moore")
    [(0, 1), (1, 2), (2, 0)]
    """

    name: str
    build: Callable[[int, int, str], Sequence[Sequence[int]]]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise PluginError(f"a topology name must be an identifier, got {self.name!r}")
        if not callable(self.build):
            raise PluginError(f"topology {self.name!r}: build is not callable ({self.build!r})")


def _grid(kind: str) -> Callable[[int, int, str], Sequence[Sequence[int]]]:
    def build(n_cells: int, radius: int, neighbourhood: str) -> Sequence[Sequence[int]]:
        return make_topology(kind, n_cells, radius, neighbourhood=neighbourhood).neighbourhoods

    return build


BUILTIN_TOPOLOGIES = (TopologySpec("ring", _grid("ring")), TopologySpec("torus", _grid("torus")))


BUILTIN_OPERATORS = (
    OperatorSpec("random", mut_prune_random, 0.5, parameters=("amount", "floor_action")),
    OperatorSpec("magnitude", mut_prune_magnitude, 0.5, parameters=("amount", "scope")),
    OperatorSpec(
        "gradual_magnitude",
        mut_prune_gradual,
        1.0,
        parameters=("final_capacity",),
        needs_run_length=True,
        needs_persistent_masks=True,
    ),
    OperatorSpec("variance", mut_prune_variance, 0.1, needs_data=True),
    OperatorSpec("variance_batches", mut_prune_spread, 0.1, records_spread=True),
    OperatorSpec("conjunctive", mut_prune_conjunctive, 0.5, needs_data=True, parameters=("threshold", "n_cases")),
)


def _binary_clustering(data: Any) -> _datasets.DataSplits:
    return _datasets.binary_clustering(
        n_samples=data.n_samples, n_dim=data.n_dim, n_clusters=data.n_clusters, noise=data.noise, seed=data.seed
    )


def _digits(data: Any) -> _datasets.DataSplits:
    return _datasets.digits(split=data.split, seed=data.seed)


def _mnist1d(data: Any) -> _datasets.DataSplits:
    return _datasets.mnist1d(split=data.split, seed=data.seed)


BUILTIN_DATASETS = (
    DatasetSpec("binary_clustering", _binary_clustering),
    DatasetSpec("digits", _digits),
    DatasetSpec("mnist1d", _mnist1d),
)


def load_plugin(name: str) -> ModuleType:
    """Import the plugin module *name*; a clear error when it cannot be imported.

    >>> load_plugin("deap_nnprune.registry").__name__
    'deap_nnprune.registry'
    """
    if not isinstance(name, str) or not name:
        raise PluginError(f"a plugin is a module name such as mypackage.operators, got {name!r}")
    try:
        return importlib.import_module(name)
    except Exception as error:  # any failure while importing user code is reported the same way
        raise PluginError(f"plugin {name!r} cannot be imported: {type(error).__name__}: {error}") from None


def _table(kind: str, builtins: Sequence[Any], spec_type: type, plugins: Sequence[str]) -> dict[str, Any]:
    table: dict[str, Any] = {spec.name: spec for spec in builtins}
    for plugin in plugins:
        declared: Sequence[Any] = getattr(load_plugin(plugin), kind, ())
        for entry in declared:
            if not isinstance(entry, spec_type):
                raise PluginError(
                    f"plugin {plugin!r}: {kind} must hold {spec_type.__name__} entries, got {type(entry).__name__}"
                )
            spec: Any = entry
            if spec.name in table and table[spec.name] != spec:
                raise PluginError(
                    f"plugin {plugin!r} declares {kind[:-1].lower()} {spec.name!r}, which is already taken"
                )
            table[spec.name] = spec
    return table


def operators(plugins: Sequence[str] = ()) -> dict[str, OperatorSpec]:
    """Name → :class:`OperatorSpec`: the built-ins and those of the *plugins* (module names)."""
    return _table("OPERATORS", BUILTIN_OPERATORS, OperatorSpec, plugins)


def topologies(plugins: Sequence[str] = ()) -> dict[str, TopologySpec]:
    """Name → :class:`TopologySpec`: ``ring``, ``torus`` and those of the *plugins*.

    >>> sorted(topologies())
    ['ring', 'torus']
    """
    return _table("TOPOLOGIES", BUILTIN_TOPOLOGIES, TopologySpec, plugins)


def topology_of(
    name: str, n_cells: int, radius: int, neighbourhood: str, trials: int = 1, plugins: Sequence[str] = ()
) -> Topology:
    """*trials* disjoint copies of the registered grid *name* of *n_cells* cells each.

    >>> topology_of("ring", 5, 1, "moore", trials=2).n_cells
    10
    """
    return replicate(topologies(plugins)[name].build(n_cells, radius, neighbourhood), trials)


def datasets(plugins: Sequence[str] = ()) -> dict[str, DatasetSpec]:
    """Name → :class:`DatasetSpec`: the built-ins and those of the *plugins* (module names).

    >>> sorted(datasets())
    ['binary_clustering', 'digits', 'mnist1d']
    """
    return _table("DATASETS", BUILTIN_DATASETS, DatasetSpec, plugins)
