"""Spatial cooperative coevolution of encoders and decoders (after Lipizzaner / Lipi-AE)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch
from deap import tools

from .._rng import derive_rng, spawn_seeds
from .._validation import check_bool, check_choice, check_int
from ..capacity import capacity, paper_capacity
from ..datasets import DataSplits
from ..devices import DeviceLike, resolve_device
from ..network import MaskedAutoencoder
from .checkpoint import load_checkpoint, save_checkpoint
from .loop import (
    call_hook,
    check_checkpoint_path,
    generation_range,
    make_logbook,
    new_seed,
    refuse_scheduled_prune,
    require_aliases,
    saved_seed,
    unbound_parameter,
)
from .topology import TOPOLOGIES, Topology, make_topology

__all__ = [
    "ea_spatial_coevolution",
    "SOLUTION_CONCEPTS",
    "UPDATES",
    "PAIR_SELECTIONS",
    "LR_OWNERS",
    "solution_scores",
    "check_tournament_size",
    "tournament",
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


class _PairTrainer:
    """Picklable task for ``toolbox.map``: train one pair, send back the pair and its generator."""

    def __init__(self, train_pair) -> None:
        self.train_pair = train_pair

    def __call__(self, task):
        encoder, decoder, data, rng = task
        encoder, decoder = self.train_pair(encoder, decoder, data.train, rng=rng)
        return encoder, decoder, rng


class _Coevolution:
    """State and steps of one run; :func:`ea_spatial_coevolution` drives it."""

    def __init__(
        self,
        encoders,
        decoders,
        toolbox,
        ngen,
        data,
        topology,
        concept,
        tsize,
        update,
        seeds,
        score_batch_size,
        pair_selection,
        replacement,
        lr_owner,
        prune_data,
    ):
        self.encoders, self.decoders = list(encoders), list(decoders)
        self.pair_selection, self.replacement, self.lr_owner = pair_selection, replacement, lr_owner
        self.toolbox, self.ngen, self.topology = toolbox, ngen, topology
        self.concept, self.tsize, self.update, self.seeds = concept, tsize, update, seeds
        self.score_batch_size = score_batch_size
        self.data = data if isinstance(data, (list, tuple)) else [data] * len(self.encoders)
        if prune_data is None:  # not declared: the registration leaves data unbound or not
            prune_data = hasattr(toolbox, "prune") and unbound_parameter(toolbox.prune, "data")
        self.prune_takes_data = bool(prune_data)

    # -- random streams -------------------------------------------------
    def _local(self, cell: int) -> tuple[int, int]:
        trial = self.topology.trial_of(cell)
        return trial, cell - trial * self.topology.cells_per_trial

    def cell_rng(self, gen: int, cell: int) -> np.random.Generator:
        trial, local = self._local(cell)
        return derive_rng(self.seeds[trial], gen, _CELL, local)

    def groups(self, gen: int) -> list[list[int]]:
        """Cells updated together: all of them, or the k-th visited cell of every trial."""
        if self.update == "synchronous":
            return [list(range(self.topology.n_cells))]
        orders = [
            [
                self.topology.trial_cells(t)[i]
                for i in derive_rng(self.seeds[t], gen, _ORDER).permutation(self.topology.cells_per_trial)
            ]
            for t in range(self.topology.trials)
        ]
        return [list(group) for group in zip(*orders)]

    # -- one generation ---------------------------------------------------
    def pair_scores(self, encoders, decoders, batch) -> np.ndarray:
        if hasattr(self.toolbox, "evaluate_pairs"):
            return np.asarray(
                torch.as_tensor(self.toolbox.evaluate_pairs(encoders, decoders, batch)).cpu(), dtype=float
            )
        return np.array([[self.toolbox.evaluate_pair(e, d, batch)[0] for d in decoders] for e in encoders])

    def select(self, gen: int, cell: int):
        """Steps 1-4 of SPEC §5 up to the choice of a pair: score the neighbourhood, run tournaments."""
        rng = self.cell_rng(gen, cell)
        hood = self.topology.neighbourhoods[cell]
        train = self.data[cell].train
        rows = rng.choice(train.shape[0], size=min(self.score_batch_size, train.shape[0]), replace=False)
        batch = train[torch.from_numpy(rows).to(train.device)]
        encoders = [self.encoders[j] for j in hood]
        decoders = [self.decoders[j] for j in hood]
        enc_scores, dec_scores = solution_scores(self.pair_scores(encoders, decoders, batch), self.concept)
        a = tournament(enc_scores, self.tsize, rng, self.replacement)
        b = a if self.pair_selection == "same_index" else tournament(dec_scores, self.tsize, rng, self.replacement)
        encoder, decoder = self.toolbox.clone(encoders[a]), self.toolbox.clone(decoders[b])
        if self.lr_owner == "cell":  # the pair trains at the cell's rate, not at the rates it carries
            encoder.learning_rate = decoder.learning_rate = self.encoders[cell].learning_rate
        return encoder, decoder, rng, len(hood) ** 2

    def train(self, picks, cells):
        encoders = [p[0] for p in picks]
        decoders = [p[1] for p in picks]
        rngs = [p[2] for p in picks]
        if hasattr(self.toolbox, "train_pairs"):
            self.toolbox.train_pairs(encoders, decoders, [self.data[c].train for c in cells], rngs)
            return list(zip(encoders, decoders, rngs))
        tasks = [(e, d, self.data[c], r) for e, d, c, r in zip(encoders, decoders, cells, rngs)]
        return list(self.toolbox.map(_PairTrainer(self.toolbox.train_pair), tasks))

    def vary(self, gen: int, cell: int, encoder, decoder, rng) -> None:
        """Step 5: prune with the schedule's probability, then mutate the learning rates."""
        if hasattr(self.toolbox, "prune"):
            probability = (
                self.toolbox.prune_probability(gen, self.ngen) if hasattr(self.toolbox, "prune_probability") else 1.0
            )
            if rng.random() < probability:
                extra = {"data": self.data[cell].train} if self.prune_takes_data else {}
                self.toolbox.prune(MaskedAutoencoder(encoder, decoder), rng=rng, **extra)
        if hasattr(self.toolbox, "mutate_lr"):
            self.toolbox.mutate_lr(encoder, rng=rng)
            if self.lr_owner == "cell":
                decoder.learning_rate = encoder.learning_rate
            else:
                self.toolbox.mutate_lr(decoder, rng=rng)

    def assess(self, cell: int) -> None:
        """Fitness of a cell's centre pair: its L1 on the cell's validation data."""
        fitness = self.toolbox.evaluate_pair(self.encoders[cell], self.decoders[cell], self.data[cell].validation)
        self.encoders[cell].fitness.values = fitness
        self.decoders[cell].fitness.values = fitness

    def step(self, gen: int) -> list[int]:
        """One generation; returns the number of pair evaluations per trial."""
        nevals = [0] * self.topology.trials
        for group in self.groups(gen):
            picks = [self.select(gen, cell) for cell in group]
            for cell, pick in zip(group, picks):
                nevals[self.topology.trial_of(cell)] += pick[3] + 1
            for cell, (encoder, decoder, rng) in zip(group, self.train(picks, group)):
                self.vary(gen, cell, encoder, decoder, rng)
                self.encoders[cell], self.decoders[cell] = encoder, decoder
                self.assess(cell)
        return nevals

    # -- reporting ----------------------------------------------------------
    def state(self) -> dict:
        """What an ``on_generation`` hook sees."""
        return dict(encoders=self.encoders, decoders=self.decoders, trials=self.topology.trials)

    def best_cell(self, trial: int) -> int:
        cells = self.topology.trial_cells(trial)
        return min(cells, key=lambda c: self.encoders[c].fitness.values[0])

    def record(self, logbook, gen, nevals, stats, halloffame, extra: dict) -> None:
        for trial in range(self.topology.trials):
            cells = self.topology.trial_cells(trial)
            best = self.best_cell(trial)
            encoder, decoder = self.encoders[best], self.decoders[best]
            pair = MaskedAutoencoder(encoder, decoder)
            train_l1 = {
                c: self.toolbox.evaluate_pair(self.encoders[c], self.decoders[c], self.data[c].train)[0] for c in cells
            }
            record = stats.compile([self.encoders[c] for c in cells]) if stats else {}
            logbook.record(
                gen=gen,
                trial=trial,
                nevals=nevals[trial],
                **record,
                **extra,
                best_cell=best,
                best_train=train_l1[best],
                best_validation=encoder.fitness.values[0],
                paper_l1=float(np.mean(list(train_l1.values()))),
                paper_capacity=float(
                    np.mean([paper_capacity(MaskedAutoencoder(self.encoders[c], self.decoders[c])) for c in cells])
                ),
                capacity=capacity(pair),
                capacity_encoder=capacity(encoder),
                capacity_decoder=capacity(decoder),
                lr_encoder=encoder.learning_rate,
                lr_decoder=decoder.learning_rate,
                mean_capacity_encoder=float(np.mean([capacity(self.encoders[c]) for c in cells])),
                mean_capacity_decoder=float(np.mean([capacity(self.decoders[c]) for c in cells])),
            )
            if halloffame is not None:
                pair.fitness = copy.deepcopy(encoder.fitness)
                halloffame.update([pair])


def _seeds(seed: int | Sequence[int] | None, trials: int) -> list[int]:
    if seed is None:
        return [new_seed() for _ in range(trials)]
    if isinstance(seed, (list, tuple)):
        if len(seed) != trials:
            raise ValueError(f"seed lists {len(seed)} seeds but trials={trials}; give one seed per trial")
        return [check_int(f"seed[{i}]", s, minimum=0) for i, s in enumerate(seed)]
    base = check_int("seed", seed, minimum=0)
    if trials == 1:
        return [base]
    return spawn_seeds(base, trials)


def ea_spatial_coevolution(
    encoders: Sequence,
    decoders: Sequence,
    toolbox,
    ngen: int,
    data: DataSplits | Sequence[DataSplits],
    radius: int = 1,
    topology: str | Topology = "ring",
    solution_concept: str = "best",
    tournament_size: int = 2,
    update: str = "sequential",
    stats: tools.Statistics | None = None,
    halloffame: tools.HallOfFame | None = None,
    verbose: bool = __debug__,
    seed: int | Sequence[int] | None = None,
    *,
    trials: int = 1,
    score_batch_size: int = 5,
    checkpoint: str | None = None,
    checkpoint_every: int = 1,
    resume: str | None = None,
    progress: bool = False,
    device: DeviceLike = None,
    pair_selection: str = "independent",
    tournament_replacement: bool = False,
    lr_owner: str = "individual",
    on_generation: Callable[[int, dict], dict | None] | None = None,
    stop_when: Callable[[int], bool] | None = None,
    prune_data: bool | None = None,
) -> tuple[list, list, tools.Logbook]:
    """Spatial cooperative coevolution of encoders and decoders.

    Cell ``i`` holds ``encoders[i]`` and ``decoders[i]`` (individuals with a
    ``fitness``, each with its own learning rate). Every generation, for
    every cell (in a random order per trial with ``update="sequential"``,
    each seeing the newest state; all reading the previous generation with
    ``"synchronous"``)::

        hood = neighbourhood(cell)                       # ring or torus
        S[a, b] = evaluate_pair(E[a], D[b], one batch)   # all pairs of hood
        score E by concept(S[a, :]), D by concept(S[:, b])
        e, d = clone(tournament(E)), clone(tournament(D))
        train_pair(e, d, cell data)                      # one epoch
        if random() < prune_probability(gen, ngen): prune(AE(e, d))
        mutate_lr(e); mutate_lr(d)
        cell = (e, d); fitness = evaluate_pair(e, d, validation)

    Three switches reproduce the paper authors' code (SPEC §5):
    ``pair_selection="same_index"`` takes encoder *and* decoder of the
    neighbour that wins one tournament on the encoders' scores;
    ``tournament_replacement=True`` draws tournament candidates with
    replacement; ``lr_owner="cell"`` trains the chosen pair at the cell's
    own rate (the centre's) and mutates that one rate once, for both halves.

    Toolbox aliases: ``clone``, ``evaluate_pair`` (and optionally the
    batched ``evaluate_pairs``), ``train_pair`` (or batched ``train_pairs``),
    optional ``prune``, ``prune_probability``, ``mutate_lr``, and ``map``
    (used to train the pairs of a group in parallel, e.g. SCOOP's
    ``futures.map``). A ``prune`` operator that takes ``data`` gets the cell's
    training data; it prunes the pair as one autoencoder. Declare it with
    ``prune_data=True`` (or ``False``); left ``None``, the algorithm passes
    data when the registration left a ``data`` parameter without a value.

    *data* is one :class:`DataSplits` for all cells or a list with one per
    cell. With ``trials=T`` the population holds T independent runs as
    disjoint grids of ``len(encoders) // T`` cells, trial ``t`` seeded with
    ``seed[t]`` (or seeds spawned from an int); each trial gives the same
    results as running it alone. Every random draw comes from a generator
    derived from (trial seed, generation, cell), so results do not depend on
    which process did what. The logbook has one row per generation and
    trial: ``gen``, ``trial``, ``nevals``, the *stats* fields (over the
    trial's encoders), the best pair's ``best_train``,
    ``best_validation``, capacities and learning rates, and the paper's
    metrics over the trial's cells: ``paper_l1`` (the mean training L1 of
    the cells' centre pairs) and ``paper_capacity`` (the mean of
    :func:`~deap_nnprune.paper_capacity`).

    With ``seed=None`` fresh seeds are drawn (and stored in checkpoints; a
    resume with ``seed=None`` uses the stored ones). A checkpoint resumes only
    with the same settings, ``ngen`` included.

    With *device* (``"cpu"``, ``"cuda"``, ``"cuda:N"``; checked up front)
    the networks and data are moved there before the first generation.

    Hooks: ``on_generation(gen, {"encoders": [...], "decoders": [...],
    "trials": T})`` is called after every generation (and at generation 0)
    before its logbook rows are written; the fields of the dict it returns
    are added to every trial's row. ``stop_when(gen)`` is asked after every
    generation; when it returns true the loop saves a checkpoint (if
    *checkpoint* is set) and returns early, the logbook ending at ``gen``:
    resume from the checkpoint to go on.

    Returns ``(encoders, decoders, logbook)``.
    """
    ngen = check_int("ngen", ngen, minimum=0)
    encoders, decoders = list(encoders), list(decoders)
    if len(encoders) != len(decoders):
        raise ValueError(f"got {len(encoders)} encoders but {len(decoders)} decoders; each cell needs one of each")
    if not len(encoders):
        raise ValueError("encoders is empty: coevolution needs at least one cell")
    check_choice("solution_concept", solution_concept, SOLUTION_CONCEPTS)
    check_choice("update", update, UPDATES)
    check_choice("pair_selection", pair_selection, PAIR_SELECTIONS)
    tournament_replacement = check_bool("tournament_replacement", tournament_replacement)
    check_choice("lr_owner", lr_owner, LR_OWNERS)
    trials = check_int("trials", trials, minimum=1)
    check_int("score_batch_size", score_batch_size, minimum=1)
    check_int("checkpoint_every", checkpoint_every, minimum=1)
    if not isinstance(topology, Topology):
        check_choice("topology", topology, TOPOLOGIES)
        topology = make_topology(topology, len(encoders), radius, trials)
    elif topology.n_cells != len(encoders):
        raise ValueError(f"topology has {topology.n_cells} cells but there are {len(encoders)} encoders")
    hood = min(len(h) for h in topology.neighbourhoods)
    tournament_size = check_int("tournament_size", tournament_size, minimum=1)
    check_tournament_size(tournament_size, hood, tournament_replacement)
    if isinstance(data, (list, tuple)):
        if len(data) != len(encoders):
            raise ValueError(f"data lists {len(data)} data sets for {len(encoders)} cells; give one or one per cell")
        wrong = [type(d).__name__ for d in data if not isinstance(d, DataSplits)]
    else:
        wrong = [] if isinstance(data, DataSplits) else [type(data).__name__]
    if wrong:
        raise TypeError(f"data must be a DataSplits (train/validation/test), or a list of one per cell; got {wrong[0]}")
    require_aliases(toolbox, ("clone", "evaluate_pair", "map"))
    if not hasattr(toolbox, "train_pairs"):
        require_aliases(toolbox, ("train_pair",))
    for argument, population in (("encoders", encoders), ("decoders", decoders)):
        if not all(hasattr(ind, "fitness") for ind in population):
            raise TypeError(f"every member of {argument} needs a fitness (build them from a deap.creator class)")

    if device is not None:
        target = resolve_device(device)
        encoders = [e.to(target) for e in encoders]
        decoders = [d.to(target) for d in decoders]
        data = [d.to(target) for d in data] if isinstance(data, (list, tuple)) else data.to(target)  # type: ignore[union-attr]  # a DataSplits here
    check_checkpoint_path(checkpoint)
    refuse_scheduled_prune(toolbox)
    if seed is None and resume is not None:
        seed = saved_seed(resume, "seeds")
    seeds = _seeds(seed, topology.trials)
    config = dict(
        ngen=ngen,
        n_cells=len(encoders),
        neighbourhoods=topology.neighbourhoods,
        trials=topology.trials,
        solution_concept=solution_concept,
        tournament_size=tournament_size,
        update=update,
        seeds=seeds,
        score_batch_size=score_batch_size,
        pair_selection=pair_selection,
        tournament_replacement=tournament_replacement,
        lr_owner=lr_owner,
    )
    run = _Coevolution(
        encoders,
        decoders,
        toolbox,
        ngen,
        data,
        topology,
        solution_concept,
        tournament_size,
        update,
        seeds,
        score_batch_size,
        pair_selection,
        tournament_replacement,
        lr_owner,
        prune_data,
    )
    logbook = make_logbook(stats, extra=("trial",))
    if resume is not None:
        state = load_checkpoint(resume, "ea_spatial_coevolution", config)
        run.encoders, run.decoders, logbook, start = (
            state["encoders"],
            state["decoders"],
            state["logbook"],
            state["gen"],
        )
        if halloffame is not None and state["halloffame"] is not None:
            halloffame.update(state["halloffame"])
    else:
        for cell in range(len(encoders)):
            run.assess(cell)
        run.record(
            logbook,
            0,
            [topology.cells_per_trial] * topology.trials,
            stats,
            halloffame,
            call_hook(on_generation, 0, run.state()),
        )
        start = 0
        if verbose:
            print(logbook.stream)

    for gen in generation_range(start, ngen, progress, "coevolution"):
        nevals = run.step(gen)
        run.record(logbook, gen, nevals, stats, halloffame, call_hook(on_generation, gen, run.state()))
        if verbose:
            print(logbook.stream)
        stop = stop_when is not None and bool(stop_when(gen))
        if checkpoint is not None and (gen % checkpoint_every == 0 or gen == ngen or stop):
            save_checkpoint(
                checkpoint,
                "ea_spatial_coevolution",
                config,
                dict(
                    encoders=run.encoders,
                    decoders=run.decoders,
                    logbook=logbook,
                    gen=gen,
                    halloffame=list(halloffame) if halloffame is not None else None,
                ),
            )
        if stop:
            break
    return run.encoders, run.decoders, logbook
