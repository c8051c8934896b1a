"""``run --log tensorboard``: every epoch column per trial, read back from the event files."""

import pandas as pd
import pytest

from deap_nnprune.experiments.cli import main

from test_cli import TINY


def test_every_epoch_column_of_every_trial_is_in_the_event_files(tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    assert main(["run", "--preset", "quick", *TINY, "--log", "tensorboard", "--out", str(out)]) == 0
    epochs = pd.read_csv(out / "epochs.csv")
    for trial, rows in epochs.groupby("trial"):
        events = EventAccumulator(str(out / "tensorboard" / f"trial-{trial}"))
        events.Reload()
        columns = [c for c in epochs.columns if c not in ("trial", "epoch")]
        assert sorted(events.Tags()["scalars"]) == sorted(columns)
        for column in columns:
            logged = events.Scalars(column)
            assert [e.step for e in logged] == rows.epoch.tolist()
            assert [e.value for e in logged] == pytest.approx(rows[column].tolist(), rel=1e-6)


def test_a_bad_logger_is_refused_in_one_line(tmp_path, capsys):
    assert main(["run", "--preset", "quick", *TINY, "--log", "wandb", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
