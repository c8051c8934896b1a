"""Running an experiment: check everything, then run the trials and write the run folder.

:func:`prepare` does all the checking (config, device, output folder, data,
memory) and writes nothing, so bad input never leaves a trace. :func:`execute`
then creates the folder, writes ``config.json``, runs the trials through
an executor (:mod:`.executors`: serial, a process pool, SCOOP or Dask; every
one writes the serial run's tables byte for byte) and merges the per-trial
files.
"""

from __future__ import annotations

import functools
import os
import platform
import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .._optional import require
from .._rng import spawn_seeds
from ..devices import resolve_device
from . import interrupt, tensorboard_log, toolboxes
from .config import ConfigError, ExperimentConfig, from_dict, identity, resolved, to_dict
from .executors import default_workers, executor_map, resolve_executor, under_scoop
from .lock import LOCK_NAME, RunLock, check_unlocked
from .outputs import OUTPUT_NAMES, merge_trials, trial_finished, write_json
from .trial import TrialTask, checkpoint_path, read_checkpoint, run_task

__all__ = [
    "RunPlan",
    "RunError",
    "prepare",
    "execute",
    "trial_seeds",
    "estimate_memory",
    "available_memory",
    "under_scoop",
    "check_output_folder",
    "check_resume",
    "resume_command",
]


class RunError(ValueError):
    """A run that cannot start (bad folder, not enough memory, different configuration)."""


def trial_seeds(seed: int, trials: int) -> list[int]:
    """Seed of each trial, spawned from *seed*: trial k's seed does not depend on how many trials run.

    >>> trial_seeds(0, 3)[:2] == trial_seeds(0, 2)
    True
    """
    return spawn_seeds(seed, trials)


@dataclass
class RunPlan:
    """A checked run, ready to execute."""

    config: ExperimentConfig
    out: Path
    resume: bool
    overwrite: bool
    seeds: list[int]
    engine: str
    command: list[str]
    finished: list[int]
    memory: tuple[int, int | None]


# -- checks ----------------------------------------------------------------------
def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable(folder: Path, out: Path) -> None:
    if not folder.is_dir():
        raise RunError(f"--out {out}: {folder} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise RunError(f"--out {out}: cannot write in {folder} ({error.strerror or error})") from None


def check_output_folder(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse a file, an unwritable place, or a non-empty folder without --resume/--overwrite."""
    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out}: is a file, not a folder")
    if resume and overwrite:
        raise RunError("--resume and --overwrite contradict each other; choose one")
    if out.is_dir():
        check_unlocked(out)
        _check_writable(out, out)
        if resume:
            if not (out / "config.json").is_file():
                raise RunError(f"--resume: {out} holds no run to resume (no config.json)")
        elif any(p.name != LOCK_NAME for p in out.iterdir()) and not overwrite:
            raise RunError(
                f"--out {out}: folder is not empty; pass --resume to continue the run in it, "
                "--overwrite to replace it, or choose another folder"
            )
    else:
        if resume:
            raise RunError(f"--resume: {out} does not exist; there is no run to resume")
        _check_writable(_nearest_existing(out.parent if out.parent != out else out), out)


def _differences(saved: dict, current: dict, prefix: str = "") -> list[str]:
    changed = []
    for key in sorted(set(saved) | set(current)):
        a, b = saved.get(key), current.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changed += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            changed.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return changed


def check_resume(out: Path, config: ExperimentConfig) -> None:
    """Refuse to resume a folder that was run with a different configuration."""
    import json

    try:
        meta = json.loads((out / "config.json").read_text(encoding="utf-8"))
        saved = meta["identity"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RunError(f"--resume: {out / 'config.json'} cannot be read ({error})") from None
    try:  # settings added since the run started take their defaults, which it ran with
        saved = identity(from_dict(meta["config"]))
    except (KeyError, TypeError, ValueError):
        pass
    changed = _differences(saved, identity(config))
    if changed:
        shown = "; ".join(changed[:4]) + ("; ..." if len(changed) > 4 else "")
        raise RunError(
            f"--resume: {out} was run with a different configuration ({shown}); "
            "use the same preset and options, or another --out"
        )


# -- memory ------------------------------------------------------------------------
def available_memory() -> int | None:
    """Bytes of memory available to a new process (``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


#: Floats held per network parameter: weight, mask, two Adam moments, gradient, a clone's copy, pickling slack.
FLOATS_PER_PARAMETER = 8
#: Python, torch and pandas themselves, per process.
PROCESS_OVERHEAD = 400 * 2**20


def estimate_memory(config: ExperimentConfig, n_dim: int, data_bytes: int, workers: int = 1) -> int:
    """Rough peak bytes of a run: networks of the trials held at once, their data, and each process."""
    per_network = toolboxes.parameter_count(config, n_dim) * FLOATS_PER_PARAMETER * 4
    networks = config.algorithm.cells if config.algorithm.name == "coevolution" else config.algorithm.offspring + 1
    batch = config.run.trials if (config.run.batch_trials and config.algorithm.name == "coevolution") else 1
    per_process = networks * batch * per_network + data_bytes + PROCESS_OVERHEAD
    return per_process * max(1, min(workers, config.run.trials))


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def _data_shape(config: ExperimentConfig) -> tuple[int, int, object | None]:
    """``(n_dim, bytes, data)``: generated data is measured without building it, other data is loaded."""
    if config.data.source == "binary_clustering":
        return config.data.n_dim, 3 * config.data.n_samples * config.data.n_dim * 4, None
    data = toolboxes.load_data(config.data, config.run.plugins)
    rows = data.train.shape[0] + data.validation.shape[0] + data.test.shape[0]
    return data.n_dim, rows * data.n_dim * 4, data


# -- the run -----------------------------------------------------------------------
def prepare(
    config: ExperimentConfig, out: Path, resume: bool = False, overwrite: bool = False, command: Sequence[str] = ()
) -> RunPlan:
    """Check a run completely; writes nothing. Raises ValueError subclasses with one-line messages."""
    config = resolved(config)
    resolve_device(config.run.device)
    if "onnx" in config.run.export:  # before any work: the export needs the onnx extra
        require("onnx", "onnx", "run.export = onnx")
    if "tensorboard" in config.run.log:
        tensorboard_log.check_available()
    if config.run.batch_trials and config.algorithm.name != "coevolution":
        raise ConfigError("run.batch_trials applies to coevolution only; canonical trials run one per task")
    engine = toolboxes.resolve_engine(config)
    config = replace(config, run=replace(config.run, engine=engine))
    out = Path(out).expanduser().absolute()
    check_output_folder(out, resume, overwrite)
    if resume:
        check_resume(out, config)
    n_dim, data_bytes, _ = _data_shape(config)
    executor = resolve_executor(config.run.executor)
    workers = {"serial": 1, "scoop": _scoop_workers() if executor == "scoop" else 1}.get(
        executor, config.run.workers or default_workers()
    )
    need, have = estimate_memory(config, n_dim, data_bytes, workers), available_memory()
    if have is not None and need > have:
        raise RunError(
            f"this run needs about {_gib(need)} of memory ({config.algorithm.cells} cells x "
            f"{toolboxes.parameter_count(config, n_dim)} parameters per network, {n_dim} dims) but only "
            f"{_gib(have)} is available; lower algorithm.cells, data.n_dim or the trials batched together"
        )
    toolboxes.load_data(config.data, config.run.plugins)  # generate (and cache) the data before creating anything
    finished = [k for k in range(config.run.trials) if resume and trial_finished(out, k)]
    if resume:  # a damaged checkpoint is refused now, before any work
        for k in range(config.run.trials):
            if k not in finished:
                read_checkpoint(checkpoint_path(out, (k,)))
        read_checkpoint(checkpoint_path(out, tuple(range(config.run.trials))))
    return RunPlan(
        config,
        out,
        resume,
        overwrite,
        trial_seeds(config.run.seed, config.run.trials),
        engine,
        list(command),
        finished,
        (need, have),
    )


def _scoop_workers() -> int:
    import scoop

    return int(getattr(scoop, "SIZE", 1) or 1)


def _versions() -> dict:
    import deap
    import pandas
    import torch

    from .. import __version__

    versions = dict(
        deap_nnprune=__version__,
        python=platform.python_version(),
        torch=torch.__version__,
        deap=getattr(deap, "__version__", "?"),
        numpy=np.__version__,
        pandas=pandas.__version__,
    )
    try:
        import scoop

        versions["scoop"] = getattr(scoop, "__version__", "?")
    except ImportError:
        pass
    return versions


def resume_command(command: Sequence[str]) -> str:
    """The command line that resumes a run started with *command* (the arguments after the program)."""
    args = [a for a in command if a != "--overwrite"]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join([sys.executable, "-m", "deap_nnprune", *args])


def _start_folder(plan: RunPlan) -> None:
    out = plan.out
    out.mkdir(parents=True, exist_ok=True)
    if plan.overwrite:
        for name in OUTPUT_NAMES:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    if not plan.resume:
        write_json(
            out / "config.json",
            dict(
                name=plan.config.name,
                config=to_dict(plan.config),
                identity=identity(plan.config),
                seed=plan.config.run.seed,
                trial_seeds=plan.seeds,
                engine=plan.engine,
                versions=_versions(),
                command=shlex.join([sys.executable, "-m", "deap_nnprune", *plan.command]),
            ),
        )
    for name in ("trials", "models", "checkpoints"):
        (out / name).mkdir(exist_ok=True)


def _tasks(plan: RunPlan, executor: str) -> list[TrialTask]:
    config, out = plan.config, str(plan.out)
    todo = [k for k in range(config.run.trials) if k not in plan.finished]
    if config.run.batch_trials and todo:
        return [TrialTask(config, tuple(range(config.run.trials)), tuple(plan.seeds), out, plan.engine, executor)]
    return [TrialTask(config, (k,), (plan.seeds[k],), out, plan.engine, executor) for k in todo]


def _resumed_epochs(plan: RunPlan, tasks: list[TrialTask]) -> int:
    done = len(plan.finished) * plan.config.algorithm.epochs
    for task in tasks:
        path = checkpoint_path(plan.out, task.trials)
        state = read_checkpoint(path)
        if state is not None:
            done += state["gen"] * len(task.trials)
    return done


def execute(plan: RunPlan, quiet: bool = False) -> dict:
    """Run a prepared plan; returns the merged tables. Ctrl-C raises KeyboardInterrupt after a checkpoint.

    The run folder is locked for the whole run (:class:`~.lock.RunLock`): a second run on it is refused
    with :class:`~.lock.FolderLocked`.
    """
    plan.out.mkdir(parents=True, exist_ok=True)
    with RunLock(plan.out):
        return _execute(plan, quiet)


def _execute(plan: RunPlan, quiet: bool) -> dict:
    _start_folder(plan)
    config = plan.config
    executor = resolve_executor(config.run.executor)
    tasks = _tasks(plan, executor)
    total = config.run.trials * config.algorithm.epochs
    bar = tqdm(total=total, desc=config.name, unit="epoch", disable=True if quiet else None, dynamic_ncols=True)
    if not bar.disable:
        bar.update(_resumed_epochs(plan, tasks))
    try:
        if executor == "serial":
            with interrupt.stop_on_signals():
                for _ in map(functools.partial(run_task, bar=bar), tasks):
                    pass
        else:
            with executor_map(executor, config.run.workers, config.run.scheduler or None) as run_all:
                for summary in run_all(run_task, tasks):
                    bar.update((summary["epochs"] - summary["start_gen"]) * len(summary["trials"]))
    finally:
        bar.close()
    frames = merge_trials(plan.out, range(config.run.trials))
    if not config.run.keep_checkpoints:  # a run killed between a trial's last file and its cleanup
        for k in range(config.run.trials):
            checkpoint_path(plan.out, (k,)).unlink(missing_ok=True)
    return frames
