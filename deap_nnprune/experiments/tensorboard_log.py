"""An optional TensorBoard log of a run: every column of ``epochs.csv`` as a scalar per epoch and trial.

With ``run.log = ["tensorboard"]`` (CLI ``--log tensorboard``) each finished
trial writes ``tensorboard/trial-K/`` in the run folder, one scalar series per
column (``train_l1``, ``validation_l1``, ``capacity``, ``paper_l1``, …) with
the epoch as step; ``tensorboard --logdir RUN/tensorboard`` shows all trials
side by side. The CSV and Parquet tables stay the source of truth. Needs the
``tensorboard`` extra.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._optional import require

__all__ = ["write_epochs", "check_available"]


def check_available() -> None:
    """Refuse up front, naming the extra, when TensorBoard is not installed."""
    require("tensorboard", "tensorboard", "run.log = tensorboard")


def write_epochs(folder: Path, epochs: pd.DataFrame) -> None:
    """Write the per-epoch table of one trial to *folder* as TensorBoard scalars (step = epoch)."""
    check_available()
    from torch.utils.tensorboard import SummaryWriter

    columns = [c for c in epochs.columns if c not in ("trial", "epoch")]
    with SummaryWriter(log_dir=str(folder)) as writer:
        for row in epochs.itertuples(index=False):
            for column in columns:
                writer.add_scalar(column, float(getattr(row, column)), global_step=int(row.epoch))
