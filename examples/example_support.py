"""What the example scripts share: command-line options, output files, pruning set-up, SCOOP.

The scripts import this module by name. Python puts a script's own folder
first on ``sys.path``, and ``python -m scoop`` adds it on every worker, so
the import works both ways without touching ``sys.path``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, Optional

import pandas as pd
import torch
from deap import base

import deap_nnprune as dnp
from deap_nnprune import schedules
from deap_nnprune.atomic import atomic_open
from deap_nnprune.experiments.cli import integer_at_least as integer

#: The operators the scripts offer: the package's registry (deap_nnprune.registry), plus "none".
PRUNERS = ("none", *dnp.registry.operators())


# -- processes ----------------------------------------------------------------
def use_one_thread() -> None:
    """Run torch on one thread in this process; the scripts call it when imported.

    The example networks are small, so more intra-op threads buy little,
    while under ``python -m scoop`` (a process per core) they oversubscribe
    the cores: on a 2-core machine a paper-sized synchronous epoch took 33 s
    on two workers instead of 1.8 s. The thread count also changes the
    rounding of reductions, so a serial run and the SCOOP workers must agree
    on it for their results to be byte-identical. SCOOP imports the script on
    every worker, so calling this at module level reaches them all.
    """
    torch.set_num_threads(1)


# -- SCOOP ------------------------------------------------------------------
def under_scoop() -> bool:
    """Whether this process was started by ``python -m scoop``."""
    try:
        import scoop
    except ImportError:
        return False
    return bool(getattr(scoop, "IS_RUNNING", False))


def register_map(toolbox: base.Toolbox) -> None:
    """``toolbox.register("map", futures.map)`` under ``python -m scoop``, else the builtin ``map``."""
    if under_scoop():
        from scoop import futures

        toolbox.register("map", futures.map)
    else:
        toolbox.register("map", map)


# -- command line -------------------------------------------------------------
class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The script's docstring as written, and every option's default."""


def make_parser(doc: str) -> argparse.ArgumentParser:
    """A parser whose ``--help`` shows the script's docstring and the defaults."""
    return argparse.ArgumentParser(description=doc, formatter_class=_HelpFormatter)


def real(low: float = 0.0, high: float = float("inf"), low_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a float in ``[low, high]`` (``(low, high]`` with *low_open*)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (low < value if low_open else low <= value) or not value <= high:
            bounds = f"{'(' if low_open else '['}{low:g}, {high:g}]"
            raise argparse.ArgumentTypeError(f"must be in {bounds}, got {text}")
        return value

    return parse


def add_common_options(parser: argparse.ArgumentParser, out: Optional[str]) -> None:
    """``--seed --out --overwrite --device --quiet``; ``out=None`` makes ``--out`` optional."""
    parser.add_argument("--seed", type=integer(0), default=0, help="seed of the data, the networks and the run")
    parser.add_argument("--out", type=Path, default=None if out is None else Path(out), metavar="DIR",
                        help="folder for the result files" + (" (none: write no files)" if out is None else ""))
    parser.add_argument("--overwrite", action="store_true", help="write into --out even if it is not empty")
    parser.add_argument("--device", default="cpu", help="torch device of the networks: cpu, cuda, cuda:N")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-generation output")


def add_pruning_options(parser: argparse.ArgumentParser) -> None:
    """``--prune --amount --schedule --probability``."""
    parser.add_argument("--prune", choices=PRUNERS, default="none", help="pruning operator")
    parser.add_argument("--amount", type=real(0.0, 1.0), default=0.1,
                        help="fraction of alive weights that random and magnitude pruning remove")
    parser.add_argument("--schedule", choices=tuple(schedules.SCHEDULES), default="fixed",
                        help="probability schedule of pruning over the epochs")
    # "--p" alone would be an ambiguous prefix of SCOOP's own options under python -m scoop.
    parser.add_argument("--probability", "--p", dest="p", type=real(0.0, 1.0), default=None,
                        help="base pruning probability p of the schedule; None: the paper's, 0.5 for "
                             "random/conjunctive/magnitude, 0.1 for variance, 1.0 for prune_after "
                             "(under python -m scoop spell it --probability)")


def check_common(parser: argparse.ArgumentParser, args: argparse.Namespace) -> torch.device:
    """Refuse a missing device or a non-empty ``--out`` before any work; create ``--out``."""
    try:
        device = dnp.resolve_device(args.device)
    except ValueError as error:
        parser.error(f"argument --device: {error}")
    out = args.out
    if out is not None:
        if out.exists() and not out.is_dir():
            parser.error(f"argument --out: {out} is a file, not a folder")
        if out.is_dir() and any(out.iterdir()) and not args.overwrite:
            parser.error(f"argument --out: {out} is not empty; choose another folder or pass --overwrite")
        out.mkdir(parents=True, exist_ok=True)
    return device


# -- toolbox pieces -------------------------------------------------------------
def on_split(individual, operator: Callable, data: dnp.datasets.DataSplits, split: str = "train", **params):
    """``operator(individual, data.<split>, **params)``: bind a whole :class:`DataSplits`, not a tensor.

    Registered as ``toolbox.register("train", on_split, operator=dnp.mut_train,
    data=splits)``, the toolbox pickles the data set's recipe, not its rows, so
    SCOOP sends a few bytes per task and each worker builds the data once.
    Only the training and validation splits can be bound: test data is kept
    for the final report.
    """
    if split not in ("train", "validation"):
        raise ValueError(f"split must be 'train' or 'validation', got {split!r}")
    return operator(individual, getattr(data, split), **params)


def register_pruning(toolbox: base.Toolbox, args: argparse.Namespace, data=None, n: Optional[int] = None) -> None:
    """Register ``prune`` and ``prune_probability`` from ``--prune --amount --schedule --probability``.

    Guided operators get *data* (a :class:`DataSplits`: its training rows)
    bound here; with ``data=None`` their ``data`` stays unbound and the
    algorithm passes it (coevolution passes each cell's training rows).
    *n* is the population size of the ``population`` schedule.
    """
    if args.prune == "none":
        return
    spec = dnp.registry.operators()[args.prune]
    parameters = {"amount": args.amount} if "amount" in spec.parameters else {}
    if spec.needs_data and data is not None:
        toolbox.register("prune", on_split, operator=spec.function, data=data, split="train", **parameters)
    else:
        toolbox.register("prune", spec.function, **parameters)
    p = args.p if args.p is not None else (1.0 if args.schedule == "prune_after" else spec.base_probability)
    extra = {"n": n} if args.schedule == "population" else {}
    toolbox.register("prune_probability", schedules.SCHEDULES[args.schedule], p=p, **extra)


# -- output files ---------------------------------------------------------------
def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Write *frame* as CSV atomically (a temporary file renamed into place)."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False, lineterminator="\n")


def write_state_dict(path: Path, module: torch.nn.Module) -> None:
    """Save ``module.state_dict()`` (on the CPU) atomically; it loads with ``torch.load(weights_only=True)``."""
    with atomic_open(path, "wb") as handle:
        torch.save(module.cpu().state_dict(), handle)


def write_results(out: Path, epochs: pd.DataFrame, final: pd.DataFrame, timings: pd.DataFrame,
                  model: torch.nn.Module) -> None:
    """The files every example writes: the results tables, the timings apart, the compacted model."""
    write_csv(out / "epochs.csv", epochs)
    write_csv(out / "final.csv", final)
    write_csv(out / "timings.csv", timings)
    write_state_dict(out / "model.pt", dnp.compact(model))
