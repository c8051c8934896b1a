"""The canonical (1+λ)-style loop: one parent autoencoder trained, pruned and replaced."""

from __future__ import annotations

from collections.abc import Callable

from deap import tools

from .._rng import derive_rng
from .._validation import check_int
from ..capacity import capacity
from ..devices import DeviceLike, resolve_device
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

__all__ = ["ea_one_plus_lambda"]


class _Varier:
    """Picklable offspring variation for ``toolbox.map``: train, maybe prune, maybe mutate lr.

    It carries the operators it needs, not the toolbox: a toolbox holding
    SCOOP's ``futures.map`` cannot be pickled.
    """

    def __init__(self, toolbox, gen: int, ngen: int, seed: int) -> None:
        self.train = toolbox.train
        self.prune = getattr(toolbox, "prune", None)
        self.prune_probability = getattr(toolbox, "prune_probability", None)
        self.mutate_lr = getattr(toolbox, "mutate_lr", None)
        self.gen, self.ngen, self.seed = gen, ngen, seed

    def __call__(self, task):
        index, child = task
        rng = derive_rng(self.seed, self.gen, index)
        self.train(child, rng=rng)
        if self.prune is not None:
            probability = 1.0 if self.prune_probability is None else self.prune_probability(self.gen, self.ngen)
            if rng.random() < probability:
                self.prune(child, rng=rng)
        if self.mutate_lr is not None:
            self.mutate_lr(child, rng=rng)
        del child.fitness.values
        return child


def ea_one_plus_lambda(
    individual,
    toolbox,
    lambda_: int = 1,
    ngen: int = 400,
    elitist: bool = False,
    stats: tools.Statistics | None = None,
    halloffame: tools.HallOfFame | None = None,
    verbose: bool = __debug__,
    seed: int | None = None,
    *,
    checkpoint: str | None = None,
    checkpoint_every: int = 1,
    resume: str | None = None,
    progress: bool = False,
    device: DeviceLike = None,
    on_generation: Callable[[int, dict], dict | None] | None = None,
    stop_when: Callable[[int], bool] | None = None,
) -> tuple[list, tools.Logbook]:
    """(1+λ)-style evolution of one autoencoder, the paper's canonical training.

    ::

        evaluate(parent)
        for gen in 1..ngen:
            offspring = [clone(parent) for _ in range(lambda_)]
            for child in offspring:
                train(child)                                   # one epoch
                if random() < prune_probability(gen, ngen): prune(child)
                mutate_lr(child)                               # if registered
            evaluate(offspring)                                # via toolbox.map
            parent = best(offspring + [parent] if elitist else offspring)

    Toolbox aliases: ``clone``, ``train`` (e.g. :func:`mut_train` with data
    bound), ``evaluate``, ``map``; optional ``prune``, ``prune_probability``
    (always prune when absent), ``mutate_lr``. Bind data at registration:
    guided pruning operators take their (training or validation) data there.
    Variation runs through ``toolbox.map``, so λ children train in parallel
    under SCOOP. Each child ``k`` of generation ``gen`` draws from a generator
    derived from ``(seed, gen, k)``. λ = 1, non-elitist, is the paper's setting.
    With ``seed=None`` a fresh seed is drawn (and stored in checkpoints; a
    resume with ``seed=None`` uses the stored one). A checkpoint resumes only
    with the same ``lambda_``, ``ngen``, ``elitist`` and seed.

    The logbook records ``gen``, ``nevals``, the *stats* fields over the
    offspring (the parent at generation 0), and the parent's ``fitness``
    values, ``capacity`` and learning rate ``lr``. Returns ``(population, logbook)``, the final parent
    first in *population*.

    Hooks: ``on_generation(gen, {"parent": ..., "offspring": [...]})`` is
    called after every generation (and at generation 0, with no offspring)
    before its logbook row is written; the fields of the dict it returns
    are added to that row. ``stop_when(gen)`` is asked after every
    generation; when it returns true the loop saves a checkpoint (if
    *checkpoint* is set) and returns early, with the logbook ending at
    ``gen``: resume from the checkpoint to go on.
    """
    lambda_ = check_int("lambda_", lambda_, minimum=1)
    ngen = check_int("ngen", ngen, minimum=0)
    check_int("checkpoint_every", checkpoint_every, minimum=1)
    require_aliases(toolbox, ("clone", "train", "evaluate", "map"))
    if not hasattr(individual, "fitness"):
        raise TypeError(
            f"individual of type {type(individual).__name__} has no fitness; build it from a deap.creator class"
        )
    if hasattr(toolbox, "prune") and unbound_parameter(toolbox.prune, "data"):
        raise ValueError(
            "toolbox.prune needs data: bind it at registration, e.g. toolbox.register('prune', op, data=train)"
        )
    if device is not None:
        individual = individual.to(resolve_device(device))
    check_checkpoint_path(checkpoint)
    refuse_scheduled_prune(toolbox)
    if seed is None and resume is not None:
        seed = saved_seed(resume, "seed")
    seed = new_seed() if seed is None else check_int("seed", seed, minimum=0)
    config = dict(lambda_=lambda_, ngen=ngen, elitist=bool(elitist), seed=seed)
    logbook = make_logbook(stats)
    logbook.header += ["fitness", "capacity", "lr"]
    parent, population = individual, [individual]
    if resume is not None:
        state = load_checkpoint(resume, "ea_one_plus_lambda", config)
        parent, population, logbook, start = state["parent"], state["population"], state["logbook"], state["gen"]
        if halloffame is not None and state["halloffame"] is not None:
            halloffame.update(state["halloffame"])
    else:
        if not parent.fitness.valid:
            parent.fitness.values = toolbox.evaluate(parent)
        if halloffame is not None:
            halloffame.update([parent])
        record = stats.compile([parent]) if stats else {}
        record.update(call_hook(on_generation, 0, dict(parent=parent, offspring=[])))
        logbook.record(
            gen=0, nevals=1, **record, fitness=parent.fitness.values, capacity=capacity(parent), lr=parent.learning_rate
        )
        start = 0
        if verbose:
            print(logbook.stream)

    for gen in generation_range(start, ngen, progress, "(1+λ)"):
        offspring = [toolbox.clone(parent) for _ in range(lambda_)]
        offspring = list(toolbox.map(_Varier(toolbox, gen, ngen, seed), enumerate(offspring)))
        for child, fitness in zip(offspring, toolbox.map(toolbox.evaluate, offspring)):
            child.fitness.values = fitness
        if halloffame is not None:
            halloffame.update(offspring)
        pool = offspring + [parent] if elitist else offspring
        parent = tools.selBest(pool, 1)[0]
        population = [parent] + [ind for ind in pool if ind is not parent]
        record = stats.compile(offspring) if stats else {}
        record.update(call_hook(on_generation, gen, dict(parent=parent, offspring=offspring)))
        logbook.record(
            gen=gen,
            nevals=len(offspring),
            **record,
            fitness=parent.fitness.values,
            capacity=capacity(parent),
            lr=parent.learning_rate,
        )
        if verbose:
            print(logbook.stream)
        stop = stop_when is not None and bool(stop_when(gen))
        if checkpoint is not None and (gen % checkpoint_every == 0 or gen == ngen or stop):
            save_checkpoint(
                checkpoint,
                "ea_one_plus_lambda",
                config,
                dict(
                    parent=parent,
                    population=population,
                    logbook=logbook,
                    gen=gen,
                    halloffame=list(halloffame) if halloffame is not None else None,
                ),
            )
        if stop:
            break
    return population, logbook
