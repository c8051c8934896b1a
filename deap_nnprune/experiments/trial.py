"""One task of a run: one trial (or, with ``run.batch_trials``, all coevolution trials as one population).

A :class:`TrialTask` is what ``map`` sends to a worker: the config, the
trials' global indices and seeds, and the run folder. :func:`run_task`
builds the data, toolbox and individuals itself, resumes from the trial's
checkpoint when there is one, runs the algorithm, and writes the trial's
files (``trials/trial-K/…``, ``models/trial-K.pt``). The same function runs
under every executor (:mod:`.executors`), so all give byte-identical tables.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from .. import algorithms
from ..algorithms import checkpoint
from ..capacity import capacity, paper_capacity
from ..compaction import compact
from ..devices import resolve_device
from ..evaluation import evaluate_l1, evaluate_pair
from ..finishing import mut_prune_finetune
from ..network import MaskedAutoencoder
from . import interrupt, tensorboard_log, toolboxes
from .config import ExperimentConfig
from .monitor import CanonicalMonitor, CoevolutionMonitor, stop_requested
from .outputs import write_trial

__all__ = ["TrialTask", "run_task", "checkpoint_path", "read_checkpoint"]


@dataclass(frozen=True)
class TrialTask:
    """Trials ``trials`` (global indices) with seeds ``seeds``, written under ``out``."""

    config: ExperimentConfig
    trials: tuple[int, ...]
    seeds: tuple[int, ...]
    out: str
    engine: str
    executor: str = "serial"


def checkpoint_path(out: Path, trials: tuple[int, ...]) -> Path:
    name = f"trial-{trials[0]}" if len(trials) == 1 else f"trials-{trials[0]}-{trials[-1]}"
    return Path(out) / "checkpoints" / f"{name}.ckpt"


def read_checkpoint(path: Path) -> dict | None:
    """The state saved in a checkpoint (None when there is none yet)."""
    if not path.is_file():
        return None
    return checkpoint.read_checkpoint(path)["state"]


def run_task(task: TrialTask, bar=None) -> dict:
    """Run *task*'s trials to the end and write their files; returns a small summary."""
    if interrupt.requested():
        raise KeyboardInterrupt
    config = task.config
    if config.run.threads:
        torch.set_num_threads(config.run.threads)
    device = resolve_device(config.run.device)
    data = toolboxes.load_data(config.data, config.run.plugins)
    if device.type != "cpu":
        data = data.to(device)
    out = Path(task.out)
    ckpt = checkpoint_path(out, task.trials)
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    state = read_checkpoint(ckpt)
    start_gen = state["gen"] if state is not None else 0
    start = time.perf_counter()
    if config.algorithm.name == "coevolution":
        tables = _run_coevolution(task, data, device, ckpt, state, bar)
    else:
        tables = _run_canonical(task, data, device, ckpt, state, bar)
    seconds = time.perf_counter() - start
    epochs_run = config.algorithm.epochs - start_gen
    for k, trial in enumerate(task.trials):
        epochs, final, model = tables[k]
        timings = pd.DataFrame(
            [
                dict(
                    trial=trial,
                    epochs_run=epochs_run,
                    resumed_from_epoch=start_gen,
                    seconds=seconds,
                    seconds_per_epoch=seconds / epochs_run if epochs_run else float("nan"),
                    device=str(device),
                    engine=task.engine,
                    batched_trials=len(task.trials) > 1,
                    executor=task.executor,
                )
            ]
        )
        if "tensorboard" in config.run.log:
            tensorboard_log.write_epochs(out / "tensorboard" / f"trial-{trial}", epochs)
        write_trial(out, trial, epochs, final, timings, model, config.run.export)
    if not config.run.keep_checkpoints:
        ckpt.unlink(missing_ok=True)
    return dict(
        trials=task.trials,
        epochs=config.algorithm.epochs,
        start_gen=start_gen,
        test_l1=[float(tables[k][1].test_l1.iloc[0]) for k in range(len(task.trials))],
    )


def _finish(config: ExperimentConfig, autoencoder: MaskedAutoencoder, data, seed: int, engine: str) -> dict:
    """Apply ``config.finish`` to a trial's best *autoencoder* in place; the columns it adds to ``final.csv``.

    Nothing (and no column) when the finishing step is off. Otherwise the
    autoencoder's test L1 and capacity before it (``unfinished_test_l1``,
    ``unfinished_capacity``), so a table shows what the step changed, and its
    fitness becomes its validation L1 after it.
    """
    f = config.finish
    if not f.enabled:
        return {}
    before = dict(unfinished_test_l1=evaluate_l1(autoencoder, data.test)[0], unfinished_capacity=capacity(autoencoder))
    t = config.training
    mut_prune_finetune(
        autoencoder,
        data.train,
        f.capacity,
        f.epochs,
        f.lr,
        t.batch_size,
        t.betas,
        toolboxes.finish_rng(seed),
        engine=engine,
    )
    fitness = evaluate_l1(autoencoder, data.validation)
    for individual in (autoencoder, autoencoder.encoder, autoencoder.decoder):
        individual_fitness = getattr(individual, "fitness", None)  # DEAP individuals carry one
        if individual_fitness is not None:
            individual_fitness.values = fitness
    return before


def _final_row(trial: int, seed: int, encoder, decoder, data) -> pd.DataFrame:
    pair = MaskedAutoencoder(encoder, decoder)
    return pd.DataFrame(
        [
            dict(
                trial=trial,
                seed=seed,
                test_l1=evaluate_pair(encoder, decoder, data.test)[0],
                validation_l1=encoder.fitness.values[0],
                train_l1=evaluate_pair(encoder, decoder, data.train)[0],
                capacity=capacity(pair),
                capacity_encoder=capacity(encoder),
                capacity_decoder=capacity(decoder),
            )
        ]
    )


def _stopped_early(logbook, epochs: int) -> None:
    """An algorithm that returned before *epochs* was stopped by Ctrl-C, after saving its checkpoint."""
    if logbook[-1]["gen"] < epochs:
        raise KeyboardInterrupt


def _run_coevolution(task, data, device, ckpt, state, bar):
    config, a = task.config, task.config.algorithm
    n_trials = len(task.trials)
    toolbox = toolboxes.coevolution_toolbox(config, data.train.shape[0], task.engine)
    if state is None:
        encoders, decoders = toolboxes.initial_cells(config, data.n_dim, task.seeds, device)
    else:  # the algorithm replaces them with the checkpoint's
        encoders, decoders = state["encoders"], state["decoders"]
    monitor = CoevolutionMonitor(n_trials, bar)
    encoders, decoders, logbook = algorithms.ea_spatial_coevolution(
        encoders,
        decoders,
        toolbox,
        a.epochs,
        data,
        radius=a.radius,
        topology=toolboxes.topology(config, n_trials),
        solution_concept=a.solution_concept,
        tournament_size=a.tournament_size,
        update=a.update,
        on_generation=monitor.on_generation,
        stop_when=stop_requested,
        prune_data=toolboxes.prune_needs_data(config),
        pair_selection=a.pair_selection,
        tournament_replacement=a.tournament_replacement,
        lr_owner=config.training.lr_owner,
        verbose=False,
        seed=list(task.seeds),
        score_batch_size=a.score_batch_size,
        checkpoint=str(ckpt),
        checkpoint_every=config.run.checkpoint_every,
        resume=str(ckpt) if state is not None else None,
    )
    _stopped_early(logbook, a.epochs)
    rows = pd.DataFrame(list(logbook))
    tables = []
    for local, (trial, seed) in enumerate(zip(task.trials, task.seeds)):
        mine = rows[rows.trial == local]
        epochs = pd.DataFrame(
            dict(
                trial=trial,
                epoch=mine.gen.to_numpy(),
                train_l1=mine.best_train.to_numpy(),
                validation_l1=mine.best_validation.to_numpy(),
                capacity=mine.capacity.to_numpy(),
                capacity_encoder=mine.capacity_encoder.to_numpy(),
                capacity_decoder=mine.capacity_decoder.to_numpy(),
                lr_encoder=mine.lr_encoder.to_numpy(),
                lr_decoder=mine.lr_decoder.to_numpy(),
                paper_l1=mine.paper_l1.to_numpy(),
                paper_capacity=mine.paper_capacity.to_numpy(),
            )
        )
        cells = range(local * a.cells, (local + 1) * a.cells)
        best = min(cells, key=lambda c: encoders[c].fitness.values[0])
        pair = MaskedAutoencoder(encoders[best], decoders[best])
        finished = _finish(config, pair, data, seed, task.engine)
        final = _final_row(trial, seed, encoders[best], decoders[best], data).assign(
            paper_l1=mine.paper_l1.iloc[-1], paper_capacity=mine.paper_capacity.iloc[-1], **finished
        )
        tables.append((epochs, final, compact(pair)))
    return tables


def _run_canonical(task, data, device, ckpt, state, bar):
    config, a = task.config, task.config.algorithm
    (trial,), (seed,) = task.trials, task.seeds
    toolbox = toolboxes.canonical_toolbox(config, data)
    step_size = toolboxes.lr_step_size(config, data.train.shape[0])
    parent = toolboxes.initial_autoencoder(config, data.n_dim, seed, device)
    monitor = CanonicalMonitor(data, step_size, config.training.lr_gamma, bar)
    population, logbook = algorithms.ea_one_plus_lambda(
        parent,
        toolbox,
        lambda_=a.offspring,
        ngen=a.epochs,
        elitist=a.elitist,
        verbose=False,
        on_generation=monitor.on_generation,
        stop_when=stop_requested,
        seed=seed,
        checkpoint=str(ckpt),
        checkpoint_every=config.run.checkpoint_every,
        resume=str(ckpt) if state is not None else None,
    )
    _stopped_early(logbook, a.epochs)
    best = population[0]
    paper_capacity_before = paper_capacity(best)  # the evolution's counter: the finishing step is no paper prune
    finished = _finish(config, best, data, seed, task.engine)
    rows = pd.DataFrame(list(logbook))
    epochs = pd.DataFrame(
        dict(
            trial=trial,
            epoch=rows.gen.to_numpy(),
            train_l1=rows.train_l1.to_numpy(),
            validation_l1=[f[0] for f in rows.fitness],
            capacity=rows.capacity.to_numpy(),
            capacity_encoder=rows.capacity_encoder.to_numpy(),
            capacity_decoder=rows.capacity_decoder.to_numpy(),
            lr_encoder=rows.lr_effective.to_numpy(),
            lr_decoder=rows.lr_effective.to_numpy(),
            paper_l1=rows.train_l1.to_numpy(),
            paper_capacity=rows.paper_capacity.to_numpy(),
        )
    )
    final = pd.DataFrame(
        [
            dict(
                trial=trial,
                seed=seed,
                test_l1=evaluate_l1(best, data.test)[0],
                validation_l1=best.fitness.values[0],
                train_l1=evaluate_l1(best, data.train)[0],
                capacity=capacity(best),
                capacity_encoder=capacity(best.encoder),
                capacity_decoder=capacity(best.decoder),
                paper_l1=rows.train_l1.iloc[-1],
                paper_capacity=paper_capacity_before,
                **finished,
            )
        ]
    )
    return [(epochs, final, compact(best))]
