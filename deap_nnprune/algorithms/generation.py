"""The public steps of one coevolution generation, in the order a cell takes them.

:func:`~deap_nnprune.algorithms.ea_spatial_coevolution` is a loop over these
functions, and a user who wants a variant copies that loop and swaps a step,
as one copies a loop of ``deap.algorithms``::

    for group in update_groups(topology, seeds, gen, update):
        chosen = []
        for cell in group:
            rng = cell_rng(topology, seeds, gen, cell)
            hood = topology.neighbourhoods[cell]
            E, D = [encoders[j] for j in hood], [decoders[j] for j in hood]
            batch = score_batch(datas[cell].train, score_batch_size, rng)
            scores = score_neighbourhood(toolbox, E, D, batch, concept)
            e, d = choose_pair(toolbox, E, D, *scores, tournament_size, rng)
            chosen.append((e, d, rng))
        E, D, rngs = (list(column) for column in zip(*chosen))
        trained = toolbox.train_pairs(E, D, [datas[cell].train for cell in group], rngs)
        for cell, (e, d), rng in zip(group, trained, rngs):
            vary_pair(toolbox, e, d, rng, gen, ngen)
            encoders[cell], decoders[cell] = e, d
            assess_pair(toolbox, e, d, datas[cell].validation)

A single population is a topology of one grid (``make_topology("ring", n)``)
with ``seeds=[seed]``; several independent populations stepped together are a
topology of disjoint grids (``make_topology("ring", T * n, trials=T)``) with
one seed each.

``toolbox.train_pairs(encoders, decoders, datas, rngs)`` must return the
trained pairs ``[(encoder, decoder), ...]`` in input order, and leave each
generator ``rngs[k]`` where its pair's training left it (the same generator
then draws the pair's variation): :func:`~deap_nnprune.batched.train_pairs`
and :func:`train_each` both do.

Every random draw of a cell comes from :func:`cell_rng`, a generator that
depends only on (trial seed, generation, the cell's place in its trial), so a
generation gives the same bytes however its cells are grouped or spread over
processes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch

from .._rng import derive_rng
from .._validation import check_choice, check_int
from ..capacity import capacity, paper_capacity
from ..network import MaskedAutoencoder
from .topology import Topology

__all__ = [
    "SOLUTION_CONCEPTS",
    "UPDATES",
    "PAIR_SELECTIONS",
    "LR_OWNERS",
    "cell_rng",
    "update_groups",
    "score_batch",
    "solution_scores",
    "score_neighbourhood",
    "tournament",
    "check_tournament_size",
    "choose_pair",
    "vary_pair",
    "assess_pair",
    "evaluate_each",
    "train_each",
    "log_generation",
]

SOLUTION_CONCEPTS = ("best", "worst", "mean")
UPDATES = ("sequential", "synchronous")
#: ``independent``: a tournament for the encoder and one for the decoder; ``same_index``: one tournament on the
#: encoders' scores picks a neighbour, whose encoder and decoder are both taken (the paper authors' code).
PAIR_SELECTIONS = ("independent", "same_index")
#: ``individual``: each half carries its own learning rate; ``cell``: one rate per cell for both halves,
#: mutated once after the cell's update (the paper authors' code).
LR_OWNERS = ("individual", "cell")
_ORDER, _CELL = 0, 1  # keys that keep the per-generation random streams apart


def cell_rng(topology: Topology, seeds: Sequence[int], gen: int, cell: int) -> np.random.Generator:
    """The generator of *cell* at generation *gen*: every draw the cell makes that generation.

    It depends on the seed of the cell's trial, *gen* and the cell's place
    in its trial only, so trial ``t`` of a batched run draws what it draws alone.

    >>> from deap_nnprune.algorithms import make_topology
    >>> two = make_topology("ring", 6, trials=2)
    >>> a = cell_rng(two, [7, 8], 3, 4).random()
    >>> a == cell_rng(make_topology("ring", 3), [8], 3, 1).random()
    True
    """
    trial = topology.trial_of(cell)
    return derive_rng(seeds[trial], gen, _CELL, cell - trial * topology.cells_per_trial)


def update_groups(topology: Topology, seeds: Sequence[int], gen: int, update: str) -> list[list[int]]:
    """Cells updated together at generation *gen*, in order.

    ``synchronous``: one group of every cell (all read the previous
    generation). ``sequential``: each trial visits its cells in a random
    order drawn from its seed and *gen*; group ``k`` holds the ``k``-th
    visited cell of every trial (cells of different trials never interact,
    so they may be trained together).

    >>> from deap_nnprune.algorithms import make_topology
    >>> update_groups(make_topology("ring", 3), [0], 1, "synchronous")
    [[0, 1, 2]]
    >>> sorted(sum(update_groups(make_topology("ring", 3), [0], 1, "sequential"), []))
    [0, 1, 2]
    """
    check_choice("update", update, UPDATES)
    if update == "synchronous":
        return [list(range(topology.n_cells))]
    orders = [
        [topology.trial_cells(t)[i] for i in derive_rng(seeds[t], gen, _ORDER).permutation(topology.cells_per_trial)]
        for t in range(topology.trials)
    ]
    return [list(group) for group in zip(*orders)]


def score_batch(train: torch.Tensor, size: int, rng: np.random.Generator) -> torch.Tensor:
    """*size* distinct rows of *train* (all of them when it has fewer) on which a neighbourhood is scored.

    >>> score_batch(torch.arange(10.0).reshape(5, 2), 2, np.random.default_rng(0)).shape
    torch.Size([2, 2])
    """
    rows = rng.choice(train.shape[0], size=min(size, train.shape[0]), replace=False)
    return train[torch.from_numpy(rows).to(train.device)]


def solution_scores(scores: np.ndarray, concept: str) -> tuple[np.ndarray, np.ndarray]:
    """Score of each encoder (row) and decoder (column) of a pair-loss matrix.

    ``best`` takes the lowest loss over the partners (the paper's), ``worst``
    the highest, ``mean`` the average.

    >>> s = np.array([[0.1, 0.9], [0.5, 0.6]])
    >>> solution_scores(s, "best")
    (array([0.1, 0.5]), array([0.1, 0.6]))
    """
    check_choice("solution_concept", concept, SOLUTION_CONCEPTS)
    if concept == "best":
        return scores.min(axis=1), scores.min(axis=0)
    if concept == "worst":
        return scores.max(axis=1), scores.max(axis=0)
    return scores.mean(axis=1), scores.mean(axis=0)


def score_neighbourhood(
    toolbox, encoders: Sequence, decoders: Sequence, batch: torch.Tensor, concept: str = "best"
) -> tuple[np.ndarray, np.ndarray]:
    """Scores of a neighbourhood's encoders and decoders: ``toolbox.evaluate_pairs`` on *batch*, then *concept*.

    ``toolbox.evaluate_pairs(encoders, decoders, batch)`` returns the
    ``len(encoders) × len(decoders)`` matrix of pair losses.

    >>> from deap import base
    >>> toolbox = base.Toolbox()
    >>> toolbox.register("evaluate_pairs", lambda E, D, x: [[e + d for d in D] for e in E])
    >>> score_neighbourhood(toolbox, [1.0, 2.0], [0.5, 0.0], None)
    (array([1., 2.]), array([1.5, 1. ]))
    """
    scores = toolbox.evaluate_pairs(encoders, decoders, batch)
    return solution_scores(np.asarray(torch.as_tensor(scores).cpu(), dtype=float), concept)


def check_tournament_size(
    size: int, neighbourhood: int, replacement: bool = False, argument: str = "tournament_size"
) -> int:
    """The one rule for a tournament's size: at least 1, and (drawing without replacement) at most the neighbourhood.

    >>> check_tournament_size(2, 3)
    2
    >>> check_tournament_size(4, 3)
    Traceback (most recent call last):
    ...
    ValueError: tournament_size=4 is larger than the neighbourhood (3 cells)
    """
    size = check_int(argument, size, minimum=1)
    if size > neighbourhood and not replacement:
        raise ValueError(f"{argument}={size} is larger than the neighbourhood ({neighbourhood} cells)")
    return size


def tournament(scores: np.ndarray, size: int, rng: np.random.Generator, replace: bool = False) -> int:
    """Index of the lowest score among *size* candidates drawn with *rng*.

    Candidates are distinct unless *replace* is true (then the same one may
    be drawn twice, as in the paper authors' code).

    >>> tournament(np.array([3.0, 1.0, 2.0]), 3, np.random.default_rng(0))
    1
    """
    candidates = rng.choice(len(scores), size=size, replace=bool(replace))
    return int(candidates[np.argmin(scores[candidates])])


def choose_pair(
    toolbox,
    encoders: Sequence,
    decoders: Sequence,
    encoder_scores: np.ndarray,
    decoder_scores: np.ndarray,
    tournament_size: int,
    rng: np.random.Generator,
    *,
    pair_selection: str = "independent",
    replace: bool = False,
) -> tuple:
    """Clones (``toolbox.clone``) of the encoder and decoder that win their tournaments.

    ``independent``: one tournament on the encoders' scores, one on the
    decoders'. ``same_index``: one tournament on the encoders' scores; the
    winner's encoder *and* decoder are taken. With *replace*, tournament
    candidates are drawn with replacement. Returns ``(encoder, decoder)``,
    clones of the winners (the neighbourhood is not changed).

    >>> from deap import base
    >>> toolbox = base.Toolbox()
    >>> toolbox.register("clone", lambda x: x)
    >>> choose_pair(toolbox, "ab", "xy", np.array([1.0, 0.0]), np.array([0.0, 1.0]), 2, np.random.default_rng(0))
    ('b', 'x')
    """
    check_choice("pair_selection", pair_selection, PAIR_SELECTIONS)
    a = tournament(encoder_scores, tournament_size, rng, replace)
    b = a if pair_selection == "same_index" else tournament(decoder_scores, tournament_size, rng, replace)
    return toolbox.clone(encoders[a]), toolbox.clone(decoders[b])


def vary_pair(
    toolbox,
    encoder,
    decoder,
    rng: np.random.Generator,
    gen: int,
    ngen: int,
    *,
    data: torch.Tensor | None = None,
    shared_rate: bool = False,
) -> None:
    """Variation of a trained pair, in place: prune it, then mutate the learning rates.

    With a ``prune`` alias, the pair is pruned as one autoencoder with
    probability ``toolbox.prune_probability(gen, ngen)``, or at every call
    when no ``prune_probability`` is registered; *data* (a cell's training
    rows), when given, is passed to ``prune`` as ``data=``. With a ``mutate_lr`` alias each half's rate is
    mutated, or, with *shared_rate*, the encoder's only and copied to the
    decoder (one rate per cell). Missing aliases mean "no such variation".

    >>> from deap import base
    >>> from deap_nnprune import MaskedMLP, capacity, mut_prune_random
    >>> toolbox = base.Toolbox()
    >>> toolbox.register("prune", mut_prune_random, amount=0.5)
    >>> e, d = MaskedMLP([4, 2]), MaskedMLP([2, 4])
    >>> vary_pair(toolbox, e, d, np.random.default_rng(0), 1, 10)
    >>> capacity(e) < 1.0
    True
    """
    prune = getattr(toolbox, "prune", None)
    if prune is not None:
        probability_of = getattr(toolbox, "prune_probability", None)
        probability = 1.0 if probability_of is None else probability_of(gen, ngen)
        if rng.random() < probability:
            extra = {} if data is None else {"data": data}
            prune(MaskedAutoencoder(encoder, decoder), rng=rng, **extra)
    mutate_lr = getattr(toolbox, "mutate_lr", None)
    if mutate_lr is not None:
        mutate_lr(encoder, rng=rng)
        if shared_rate:
            decoder.learning_rate = encoder.learning_rate
        else:
            mutate_lr(decoder, rng=rng)


def assess_pair(toolbox, encoder, decoder, validation: torch.Tensor) -> tuple[float, ...]:
    """Give both halves the fitness ``toolbox.evaluate_pair(encoder, decoder, validation)``; return it.

    >>> from deap import base, creator
    >>> from deap_nnprune import MaskedMLP, evaluate_pair
    >>> from deap_nnprune.experiments.individuals import Encoder, Decoder
    >>> toolbox = base.Toolbox()
    >>> toolbox.register("evaluate_pair", evaluate_pair)
    >>> e, d = Encoder([4, 2]), Decoder([2, 4])
    >>> assess_pair(toolbox, e, d, torch.rand(3, 4)) == e.fitness.values == d.fitness.values
    True
    """
    fitness = toolbox.evaluate_pair(encoder, decoder, validation)
    encoder.fitness.values = fitness
    decoder.fitness.values = fitness
    return fitness


def evaluate_each(encoders: Sequence, decoders: Sequence, data: torch.Tensor, *, evaluate_pair: Callable) -> np.ndarray:
    """``evaluate_pairs`` from a one-pair ``evaluate_pair``: the matrix of ``evaluate_pair(e, d, data)[0]``.

    Register it when the batched :func:`~deap_nnprune.batched.evaluate_pairs`
    does not fit (e.g. convolutional networks)::

        toolbox.register("evaluate_pairs", evaluate_each, evaluate_pair=dnp.evaluate_pair)

    >>> evaluate_each([1.0, 2.0], [3.0], None, evaluate_pair=lambda e, d, x: (e * d,))
    array([[3.],
           [6.]])
    """
    return np.array([[evaluate_pair(e, d, data)[0] for d in decoders] for e in encoders], dtype=float)


class _PairTrainer:
    """Picklable task for a ``map``: train one pair, send back the pair and its generator."""

    def __init__(self, train_pair: Callable) -> None:
        self.train_pair = train_pair

    def __call__(self, task):
        encoder, decoder, data, rng = task
        encoder, decoder = self.train_pair(encoder, decoder, data, rng=rng)
        return encoder, decoder, rng


def train_each(
    encoders: Sequence,
    decoders: Sequence,
    datas: Sequence[torch.Tensor],
    rngs: Sequence[np.random.Generator],
    *,
    train_pair: Callable,
    map: Callable = map,
) -> list[tuple]:
    """``train_pairs`` from a one-pair ``train_pair``: pair ``k`` is ``train_pair(e, d, datas[k], rng=rngs[k])``.

    The pairs go through *map* (e.g. SCOOP's ``futures.map`` to spread them
    over workers) and the trained pairs come back, in order (with a process
    map they are new objects: use what is returned). Each generator
    ``rngs[k]`` is left where the pair's training left it, also when a
    worker did the training, so a run gives the same bytes under any map.
    Register it as::

        toolbox.register("train_pairs", train_each, train_pair=toolbox.train_pair, map=futures.map)

    >>> double = lambda e, d, x, rng: (2 * e, 2 * d)
    >>> train_each([1, 2], [3, 4], [None] * 2, [None] * 2, train_pair=double)
    [(2, 6), (4, 8)]
    """
    tasks = list(zip(encoders, decoders, datas, rngs))
    trained = []
    for rng, (encoder, decoder, back) in zip(rngs, map(_PairTrainer(train_pair), tasks)):
        if rng is not None and back is not rng:  # trained elsewhere: take the generator's state back
            rng.bit_generator.state = back.bit_generator.state
        trained.append((encoder, decoder))
    return trained


def log_generation(
    logbook,
    toolbox,
    gen: int,
    encoders: Sequence,
    decoders: Sequence,
    datas: Sequence,
    topology: Topology,
    nevals: Sequence[int],
    stats=None,
    halloffame=None,
    extra: dict | None = None,
) -> None:
    """Write one logbook row per trial for generation *gen* (and update *halloffame* with each trial's best pair).

    A row holds ``gen``, ``trial``, ``nevals``, the *stats* fields (over the
    trial's encoders), the *extra* fields, the best cell's (lowest
    validation fitness) ``best_cell``, ``best_train``, ``best_validation``,
    capacities and learning rates, and the paper's metrics over the trial's
    cells: ``paper_l1`` (mean training L1 of the centre pairs) and
    ``paper_capacity`` (mean :func:`~deap_nnprune.paper_capacity`).
    *datas* holds each cell's :class:`~deap_nnprune.datasets.DataSplits`.

    >>> from deap import base, tools
    >>> from deap_nnprune import MaskedMLP, evaluate_pair
    >>> from deap_nnprune.datasets import DataSplits
    >>> from deap_nnprune.algorithms import make_topology
    >>> from deap_nnprune.experiments.individuals import Encoder, Decoder
    >>> toolbox = base.Toolbox()
    >>> toolbox.register("evaluate_pair", evaluate_pair)
    >>> E, D = [Encoder([4, 2]) for _ in range(3)], [Decoder([2, 4]) for _ in range(3)]
    >>> data = DataSplits(torch.rand(6, 4), torch.rand(2, 4), torch.rand(2, 4))
    >>> for e, d in zip(E, D): _ = assess_pair(toolbox, e, d, data.validation)
    >>> logbook = tools.Logbook()
    >>> log_generation(logbook, toolbox, 0, E, D, [data] * 3, make_topology("ring", 3), [3])
    >>> logbook[0]["gen"], logbook[0]["capacity"]
    (0, 1.0)
    """
    for trial in range(topology.trials):
        cells = topology.trial_cells(trial)
        best = min(cells, key=lambda c: encoders[c].fitness.values[0])
        encoder, decoder = encoders[best], decoders[best]
        pair = MaskedAutoencoder(encoder, decoder)
        train_l1 = {c: toolbox.evaluate_pair(encoders[c], decoders[c], datas[c].train)[0] for c in cells}
        logbook.record(
            gen=gen,
            trial=trial,
            nevals=nevals[trial],
            **(stats.compile([encoders[c] for c in cells]) if stats else {}),
            **(extra or {}),
            best_cell=best,
            best_train=train_l1[best],
            best_validation=encoder.fitness.values[0],
            paper_l1=float(np.mean(list(train_l1.values()))),
            paper_capacity=float(np.mean([paper_capacity(MaskedAutoencoder(encoders[c], decoders[c])) for c in cells])),
            capacity=capacity(pair),
            capacity_encoder=capacity(encoder),
            capacity_decoder=capacity(decoder),
            lr_encoder=encoder.learning_rate,
            lr_decoder=decoder.learning_rate,
            mean_capacity_encoder=float(np.mean([capacity(encoders[c]) for c in cells])),
            mean_capacity_decoder=float(np.mean([capacity(decoders[c]) for c in cells])),
        )
        if halloffame is not None:
            pair.fitness = copy.deepcopy(encoder.fitness)
            halloffame.update([pair])
