"""Spatial cooperative coevolution of encoders and decoders (after Lipizzaner / Lipi-AE)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from deap import tools

from .._rng import spawn_seeds
from .._validation import check_bool, check_choice, check_int
from ..datasets import DataSplits
from ..devices import DeviceLike, resolve_device
from .checkpoint import load_checkpoint, save_checkpoint
from .generation import (
    LR_OWNERS,
    PAIR_SELECTIONS,
    SOLUTION_CONCEPTS,
    UPDATES,
    assess_pair,
    cell_rng,
    check_tournament_size,
    choose_pair,
    log_generation,
    score_batch,
    score_neighbourhood,
    update_groups,
    vary_pair,
)
from .loop import (
    accepts_parameter,
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

__all__ = ["ea_spatial_coevolution"]


def _seeds(seed: int | Sequence[int] | None, trials: int) -> list[int]:
    if seed is None:
        return [new_seed() for _ in range(trials)]
    if isinstance(seed, (list, tuple)):
        if len(seed) != trials:
            raise ValueError(
                f"seed lists {len(seed)} seeds but the topology has {trials} grid(s); give one seed per grid (trial)"
            )
        return [check_int(f"seed[{i}]", s, minimum=0) for i, s in enumerate(seed)]
    base = check_int("seed", seed, minimum=0)
    if trials == 1:
        return [base]
    return spawn_seeds(base, trials)


def ea_spatial_coevolution(
    encoders: list,
    decoders: list,
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
    prune_data: bool = False,
) -> tuple[list, list, tools.Logbook]:
    """Spatial cooperative coevolution of encoders and decoders.

    Cell ``i`` holds ``encoders[i]`` and ``decoders[i]`` (individuals with a
    ``fitness``, each with its own learning rate). Every generation, for
    every cell (in a random order per trial with ``update="sequential"``,
    each seeing the newest state; all reading the previous generation with
    ``"synchronous"``)::

        hood = neighbourhood(cell)                       # ring or torus
        S[a, b] = evaluate_pairs(E[hood], D[hood], one batch)
        score E by concept(S[a, :]), D by concept(S[:, b])
        e, d = clone(tournament(E)), clone(tournament(D))
        train_pairs([e], [d], [cell data])               # one epoch
        if random() < prune_probability(gen, ngen): prune(AE(e, d))
        mutate_lr(e); mutate_lr(d)
        cell = (e, d); fitness = evaluate_pair(e, d, validation)

    The loop below is written with the public steps of
    :mod:`deap_nnprune.algorithms.generation` (one function per line of the
    pseudo-code), so a variant is a copy of it with one step swapped.

    Three switches reproduce the paper authors' code (SPEC §5):
    ``pair_selection="same_index"`` takes encoder *and* decoder of the
    neighbour that wins one tournament on the encoders' scores;
    ``tournament_replacement=True`` draws tournament candidates with
    replacement; ``lr_owner="cell"`` trains the chosen pair at the cell's
    own rate (the centre's) and mutates that one rate once, for both halves.

    Toolbox aliases: ``clone``, ``evaluate_pair`` (one pair's fitness),
    ``evaluate_pairs`` (the loss matrix of a neighbourhood: the batched
    :func:`~deap_nnprune.batched.evaluate_pairs`, or
    :func:`~deap_nnprune.algorithms.generation.evaluate_each` over
    ``evaluate_pair``), ``train_pairs`` (train a group of pairs one epoch:
    the batched :func:`~deap_nnprune.batched.train_pairs`, or
    :func:`~deap_nnprune.algorithms.generation.train_each` over a
    ``train_pair`` and a ``map`` such as SCOOP's; it returns the trained
    pairs in order and leaves each pair's generator where training left
    it); and, when registered,
    ``prune``, ``prune_probability`` (always prune when absent) and
    ``mutate_lr``. A ``prune`` operator that needs data is declared with
    ``prune_data=True``: it then gets the cell's training rows as ``data=``.

    *data* is one :class:`DataSplits` for all cells or a list with one per
    cell. *topology* is ``"ring"``/``"torus"`` (one grid of all the cells,
    with *radius*) or a :class:`Topology`; a topology of ``T`` disjoint
    grids (:func:`~deap_nnprune.algorithms.make_topology` with ``trials=T``,
    or :func:`~deap_nnprune.algorithms.topology.replicate`) runs ``T``
    independent trials side by side, trial ``t`` seeded with ``seed[t]`` (or
    seeds spawned from an int); each trial gives the same results as run
    alone. Every random draw comes from a generator derived from (trial
    seed, generation, cell), so results do not depend on which process did
    what. The logbook has one row per generation and trial (see
    :func:`~deap_nnprune.algorithms.generation.log_generation`): ``gen``,
    ``trial``, ``nevals``, the *stats* fields, the best pair's
    ``best_train``, ``best_validation``, capacities and learning rates, and
    the paper's ``paper_l1`` and ``paper_capacity``.

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
    tournament_replacement = check_bool("tournament_replacement", tournament_replacement)
    grid, tournament_size, datas = _check_arguments(
        encoders, decoders, toolbox, data, topology, radius, tournament_size, tournament_replacement
    )
    check_choice("solution_concept", solution_concept, SOLUTION_CONCEPTS)
    check_choice("update", update, UPDATES)
    check_choice("pair_selection", pair_selection, PAIR_SELECTIONS)
    check_choice("lr_owner", lr_owner, LR_OWNERS)
    prune_data = check_bool("prune_data", prune_data)
    if hasattr(toolbox, "prune"):  # a guard on the declaration, which alone decides what prune gets
        expects_data = unbound_parameter(toolbox.prune, "data")
        if expects_data and not prune_data:
            raise ValueError(
                "toolbox.prune expects data: pass prune_data=True (each cell's training rows) or bind data at "
                "registration"
            )
        if prune_data and not expects_data and not accepts_parameter(toolbox.prune, "data"):
            raise ValueError("prune_data=True, but toolbox.prune takes no data argument; pass prune_data=False")
    check_int("score_batch_size", score_batch_size, minimum=1)
    check_int("checkpoint_every", checkpoint_every, minimum=1)
    if device is not None:
        target = resolve_device(device)
        encoders, decoders = [e.to(target) for e in encoders], [d.to(target) for d in decoders]
        datas = [d.to(target) for d in datas]
    check_checkpoint_path(checkpoint)
    refuse_scheduled_prune(toolbox)
    if seed is None and resume is not None:
        seed = saved_seed(resume, "seeds")
    seeds = _seeds(seed, grid.trials)
    config = dict(
        ngen=ngen,
        n_cells=len(encoders),
        neighbourhoods=grid.neighbourhoods,
        trials=grid.trials,
        solution_concept=solution_concept,
        tournament_size=tournament_size,
        update=update,
        seeds=seeds,
        score_batch_size=score_batch_size,
        pair_selection=pair_selection,
        tournament_replacement=tournament_replacement,
        lr_owner=lr_owner,
    )
    logbook = make_logbook(stats, extra=("trial",))
    choose = functools.partial(choose_pair, pair_selection=pair_selection, replace=tournament_replacement)

    def record(gen: int, nevals: list[int]) -> None:
        extra = call_hook(on_generation, gen, dict(encoders=encoders, decoders=decoders, trials=grid.trials))
        log_generation(logbook, toolbox, gen, encoders, decoders, datas, grid, nevals, stats, halloffame, extra)
        if verbose:
            print(logbook.stream)

    def save(gen: int, checkpoint: str) -> None:
        fame = list(halloffame) if halloffame is not None else None
        state = dict(encoders=encoders, decoders=decoders, logbook=logbook, gen=gen, halloffame=fame)
        save_checkpoint(checkpoint, "ea_spatial_coevolution", config, state)

    if resume is not None:
        saved = load_checkpoint(resume, "ea_spatial_coevolution", config)
        encoders, decoders, logbook, start = saved["encoders"], saved["decoders"], saved["logbook"], saved["gen"]
        if halloffame is not None and saved["halloffame"] is not None:
            halloffame.update(saved["halloffame"])
    else:
        start = 0
        for cell in range(len(encoders)):
            assess_pair(toolbox, encoders[cell], decoders[cell], datas[cell].validation)
        record(0, [grid.cells_per_trial] * grid.trials)

    for gen in generation_range(start, ngen, progress, "coevolution"):
        nevals = [0] * grid.trials
        for group in update_groups(grid, seeds, gen, update):
            chosen = []
            for cell in group:
                rng = cell_rng(grid, seeds, gen, cell)
                hood = grid.neighbourhoods[cell]
                E, D = [encoders[j] for j in hood], [decoders[j] for j in hood]
                batch = score_batch(datas[cell].train, score_batch_size, rng)
                scores = score_neighbourhood(toolbox, E, D, batch, solution_concept)
                e, d = choose(toolbox, E, D, *scores, tournament_size, rng)
                if lr_owner == "cell":  # the pair trains at the cell's rate, not at the rates it carries
                    e.learning_rate = d.learning_rate = encoders[cell].learning_rate
                chosen.append((e, d, rng))
                nevals[grid.trial_of(cell)] += len(hood) ** 2 + 1
            E, D, rngs = (list(column) for column in zip(*chosen))
            trained = toolbox.train_pairs(E, D, [datas[cell].train for cell in group], rngs)
            for cell, (e, d), rng in zip(group, trained, rngs):
                cell_data = datas[cell].train if prune_data else None
                vary_pair(toolbox, e, d, rng, gen, ngen, data=cell_data, shared_rate=lr_owner == "cell")
                encoders[cell], decoders[cell] = e, d
                assess_pair(toolbox, e, d, datas[cell].validation)
        record(gen, nevals)
        stop = stop_when is not None and bool(stop_when(gen))
        if checkpoint is not None and (gen % checkpoint_every == 0 or gen == ngen or stop):
            save(gen, checkpoint)
        if stop:
            break
    return encoders, decoders, logbook


#: What to register for the pair-batch aliases (the batched engine, or the one-pair adapters).
_ALIAS_HINTS = {
    "evaluate_pairs": "batched.evaluate_pairs, or algorithms.evaluate_each(evaluate_pair=...)",
    "train_pairs": "batched.train_pairs, or algorithms.train_each(train_pair=..., map=...)",
}


def _check_arguments(
    encoders, decoders, toolbox, data, topology, radius, tournament_size, replacement
) -> tuple[Topology, int, list[DataSplits]]:
    """Refuse a bad population, topology, tournament size, data or toolbox; return the topology and data per cell."""
    if len(encoders) != len(decoders):
        raise ValueError(f"got {len(encoders)} encoders but {len(decoders)} decoders; each cell needs one of each")
    if not len(encoders):
        raise ValueError("encoders is empty: coevolution needs at least one cell")
    if not isinstance(topology, Topology):
        check_choice("topology", topology, TOPOLOGIES)
        topology = make_topology(topology, len(encoders), radius)
    elif topology.n_cells != len(encoders):
        raise ValueError(f"topology has {topology.n_cells} cells but there are {len(encoders)} encoders")
    tournament_size = check_tournament_size(tournament_size, min(len(h) for h in topology.neighbourhoods), replacement)
    if isinstance(data, (list, tuple)):
        if len(data) != len(encoders):
            raise ValueError(f"data lists {len(data)} data sets for {len(encoders)} cells; give one or one per cell")
        wrong = [type(d).__name__ for d in data if not isinstance(d, DataSplits)]
    else:
        wrong = [] if isinstance(data, DataSplits) else [type(data).__name__]
    if wrong:
        raise TypeError(f"data must be a DataSplits (train/validation/test), or a list of one per cell; got {wrong[0]}")
    require_aliases(toolbox, ("clone", "evaluate_pair", "evaluate_pairs", "train_pairs"), _ALIAS_HINTS)
    for argument, population in (("encoders", encoders), ("decoders", decoders)):
        if not all(hasattr(ind, "fitness") for ind in population):
            raise TypeError(f"every member of {argument} needs a fitness (build them from a deap.creator class)")
    return topology, tournament_size, list(data) if isinstance(data, (list, tuple)) else [data] * len(encoders)
