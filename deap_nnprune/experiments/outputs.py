"""The files of a run folder, their columns, and how they are written (always atomically).

A run folder holds::

    config.json          the resolved configuration, library versions, seeds, command
    epochs.csv           one row per trial and epoch (EPOCH_COLUMNS)
    final.csv            one row per trial (FINAL_COLUMNS, + FINISH_COLUMNS with a finishing step);
                         test data is used only here
    timings.csv          wall-clock seconds (the only file with timings)
    *.parquet            the same tables, when pyarrow is installed
    models/trial-K.pt    state_dict of the compacted best autoencoder of trial K
    models/trial-K.onnx  the same model as ONNX (with run.export = ["onnx"], CLI --export onnx)
    trials/trial-K/      per-trial tables, merged into the files above at the end
    checkpoints/         checkpoints of unfinished trials (for --resume)
    tensorboard/trial-K/ TensorBoard scalars of every epochs.csv column (with run.log = ["tensorboard"])

Every file is written to a temporary name and renamed into place, so an
interrupted run never leaves a truncated file.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import torch

from ..atomic import atomic_open, atomic_write_text

__all__ = [
    "EPOCH_COLUMNS",
    "FINAL_COLUMNS",
    "FINISH_COLUMNS",
    "TIMING_COLUMNS",
    "write_csv",
    "write_parquet",
    "write_json",
    "write_state_dict",
    "trial_dir",
    "trial_finished",
    "merge_trials",
    "read_csv",
    "OUTPUT_NAMES",
]

EPOCH_COLUMNS = (
    "trial",
    "epoch",
    "train_l1",
    "validation_l1",
    "capacity",
    "capacity_encoder",
    "capacity_decoder",
    "lr_encoder",
    "lr_decoder",
    "paper_l1",
    "paper_capacity",
)
FINAL_COLUMNS = (
    "trial",
    "seed",
    "test_l1",
    "validation_l1",
    "train_l1",
    "capacity",
    "capacity_encoder",
    "capacity_decoder",
    "paper_l1",
    "paper_capacity",
)
#: Written after FINAL_COLUMNS when the run has a finishing step (``finish``): the best autoencoder before it.
FINISH_COLUMNS = ("unfinished_test_l1", "unfinished_capacity")
TIMING_COLUMNS = (
    "trial",
    "epochs_run",
    "resumed_from_epoch",
    "seconds",
    "seconds_per_epoch",
    "device",
    "engine",
    "batched_trials",
    "executor",
)
TABLES = ("epochs", "final", "timings")
#: Everything a run writes at the top of its folder (what --overwrite removes).
OUTPUT_NAMES = (
    "config.json",
    *(f"{t}.csv" for t in TABLES),
    *(f"{t}.parquet" for t in TABLES),
    "models",
    "trials",
    "checkpoints",
    "report",
    "tensorboard",
)


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """CSV with full float precision (``repr``), ``\\n`` line ends, no index."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False, lineterminator="\n")


# pandas >= 3 parses floats exactly by default (and deprecates the option); older pandas needs asking.
_EXACT_FLOATS = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv`, floats exactly as written."""
    return pd.read_csv(path, **_EXACT_FLOATS)


def write_parquet(path: Path, frame: pd.DataFrame) -> bool:
    """Write a Parquet copy when pyarrow is importable; returns whether it did."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    with atomic_open(path, "wb") as handle:
        handle.write(buffer.getvalue())
    return True


def write_json(path: Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_state_dict(path: Path, module: torch.nn.Module) -> None:
    """``module.state_dict()`` on the CPU; loads with ``torch.load(path, weights_only=True)``."""
    state = {name: tensor.detach().cpu().clone() for name, tensor in module.state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with atomic_open(path, "wb") as handle:
        handle.write(buffer.getvalue())


def trial_dir(out: Path, trial: int) -> Path:
    return Path(out) / "trials" / f"trial-{trial}"


def trial_finished(out: Path, trial: int) -> bool:
    """A trial is finished once its ``final.csv`` exists (it is written last)."""
    return (trial_dir(out, trial) / "final.csv").is_file()


def write_trial(
    out: Path,
    trial: int,
    epochs: pd.DataFrame,
    final: pd.DataFrame,
    timings: pd.DataFrame,
    model: torch.nn.Module,
    exports: Sequence[str] = (),
) -> None:
    """A finished trial's files; ``final.csv`` last, as the mark that the trial is done.

    *exports* (``run.export``) adds ``models/trial-K.onnx`` for ``"onnx"``.
    """
    folder = trial_dir(out, trial)
    folder.mkdir(parents=True, exist_ok=True)
    (Path(out) / "models").mkdir(exist_ok=True)
    write_csv(folder / "epochs.csv", epochs.loc[:, list(EPOCH_COLUMNS)])
    write_state_dict(Path(out) / "models" / f"trial-{trial}.pt", model)
    if "onnx" in exports:
        from ..export import to_onnx

        to_onnx(model, Path(out) / "models" / f"trial-{trial}.onnx")
    write_csv(folder / "timings.csv", timings.loc[:, list(TIMING_COLUMNS)])
    extra = [column for column in FINISH_COLUMNS if column in final.columns]
    write_csv(folder / "final.csv", final.loc[:, [*FINAL_COLUMNS, *extra]])


def _concatenate_text(paths: Sequence[Path]) -> str:
    """The CSVs *paths* as one: the first header, then every file's rows, bytes unchanged."""
    header, rows = None, []
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if header is None:
            header = lines[0]
        elif lines[0] != header:
            raise ValueError(f"{path}: columns differ from the other trials' ({lines[0].strip()!r})")
        rows.extend(lines[1:])
    return (header or "") + "".join(rows)


def merge_trials(out: Path, trials: Iterable[int], parquet: bool | None = None) -> dict[str, pd.DataFrame]:
    """Merge every trial's tables into ``epochs``/``final``/``timings`` ``.csv`` (and ``.parquet``)."""
    out = Path(out)
    trials = list(trials)
    frames = {}
    for table in TABLES:
        paths = [trial_dir(out, k) / f"{table}.csv" for k in trials]
        text = _concatenate_text(paths)
        with atomic_open(out / f"{table}.csv", "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        frames[table] = read_csv(out / f"{table}.csv")
        if parquet is not False:
            write_parquet(out / f"{table}.parquet", frames[table])
    return frames
