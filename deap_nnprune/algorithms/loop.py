"""Pieces shared by the algorithm loops: logbooks, progress, toolbox checks, seeds."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from deap import tools
from tqdm.auto import tqdm

from .._rng import seed_of

__all__: list[str] = []


def make_logbook(stats: tools.Statistics | None, extra: Sequence[str] = ()) -> tools.Logbook:
    """A logbook whose header starts like ``deap.algorithms``': gen, nevals, stats fields."""
    logbook = tools.Logbook()
    logbook.header = ["gen", *extra, "nevals"] + (list(stats.fields) if stats else [])
    return logbook


def require_aliases(toolbox, names: Iterable[str], hints: Mapping[str, str] | None = None) -> None:
    """Refuse a toolbox that lacks an alias the algorithm calls, naming it (and, from *hints*, what to register)."""
    for name in names:
        if not hasattr(toolbox, name):
            how = (hints or {}).get(name, f"one with toolbox.register({name!r}, ...)")
            raise ValueError(f"toolbox has no {name!r} alias; register {how}")


def new_seed() -> int:
    """A fresh random seed (for runs started without one); recorded so the run can be repeated."""
    return seed_of(np.random.SeedSequence())


def generation_range(start: int, ngen: int, progress: bool, description: str) -> Iterable[int]:
    """Generations ``start+1 .. ngen``, with a tqdm bar when *progress* (quiet when not a TTY)."""
    gens = range(start + 1, ngen + 1)
    if not progress:
        return gens
    return tqdm(gens, desc=description, initial=start, total=ngen, disable=None, leave=False)


def unbound_parameter(function: Callable, name: str) -> bool:
    """Whether *function* (e.g. a toolbox alias, a partial) still expects argument *name*.

    True when *name* is a parameter that registration did not bind: the
    algorithm must pass it (coevolution passes each cell's data this way).
    """
    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.default is inspect.Parameter.empty


def accepts_parameter(function: Callable, name: str) -> bool:
    """Whether *function* can be called with the keyword *name* (a parameter of that name, or ``**kwargs``)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return True  # cannot tell: let the call decide
    return name in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def check_checkpoint_path(checkpoint: str | None) -> None:
    """Refuse, before any work, a checkpoint path whose folder does not exist."""
    if checkpoint is None:
        return
    folder = Path(checkpoint).expanduser().resolve().parent
    if not folder.is_dir():
        raise ValueError(f"checkpoint={str(checkpoint)!r}: its folder {str(folder)!r} does not exist")


def saved_seed(resume: str | None, key: str):
    """The seed stored in the checkpoint *resume* (so ``seed=None`` resumes the run it names)."""
    from .checkpoint import read_checkpoint

    if resume is None:
        return None
    return read_checkpoint(resume)["config"].get(key)


def refuse_scheduled_prune(toolbox) -> None:
    """A :class:`~deap_nnprune.schedules.Scheduled` operator needs gen/ngen the algorithms do not pass."""
    from ..schedules import Scheduled

    prune = getattr(toolbox, "prune", None)
    if isinstance(getattr(prune, "func", prune), Scheduled):
        raise ValueError(
            "toolbox.prune is a Scheduled operator; for the algorithms register the operator as 'prune' "
            "and the schedule as 'prune_probability' (Scheduled is for hand-written loops)"
        )


def call_hook(hook: Callable[..., dict | None] | None, *args) -> dict:
    """The extra logbook fields an ``on_generation`` hook returns (none when there is no hook)."""
    if hook is None:
        return {}
    fields = hook(*args)
    if fields is None:
        return {}
    if not isinstance(fields, dict):
        raise TypeError(
            f"on_generation must return a dict of extra logbook fields or None, got {type(fields).__name__}"
        )
    taken = sorted(set(fields) & RESERVED_FIELDS)
    if taken:
        raise ValueError(f"on_generation returned {taken}, which the algorithm's logbook already records; rename them")
    return fields


#: Logbook fields the algorithms write themselves (a hook may not return them).
RESERVED_FIELDS = frozenset({"gen", "trial", "nevals", "fitness", "capacity", "lr"})
