"""The command line end to end: presets, show, run (files, resume, SCOOP), and every bad input refused cleanly."""

import importlib.util
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from deap_nnprune.experiments.cli import main
from deap_nnprune.experiments.outputs import EPOCH_COLUMNS, FINAL_COLUMNS, TIMING_COLUMNS
from deap_nnprune.experiments.presets import PRESETS



def tiny(*settings, trials=2, epochs=2, rows=20):
    """Arguments of a tiny run (16 dims, *rows* rows per split, 3 cells) with extra ``--set`` *settings*."""
    return ["--set", "data.n_dim=16", f"data.n_samples={rows}", *settings, "--epochs", str(epochs),
            "--trials", str(trials), "--quiet"]


TINY = tiny()
#: Long enough (~1-3 s per trial) for a kill to land mid-run; checkpoints after every epoch.
LONGER = tiny("run.checkpoint_every=1", epochs=60, rows=40)


def cli(env, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "deap_nnprune", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def read_bytes(folder, *names):
    return {name: (Path(folder) / name).read_bytes() for name in names}


# -- presets, show -------------------------------------------------------------------
def test_presets_lists_every_preset_with_a_description(subprocess_env):
    result = cli(subprocess_env, "presets")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(PRESETS)
    listed = {line.split()[0] for line in lines}
    assert {n for n in PRESETS if n.startswith("paper-")} <= listed and "quick" in listed
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_show_prints_the_resolved_config_with_overrides(capsys):
    assert main(["show", "paper-coevolution-variance-population", "--set", "training.lr=0.002"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["training"]["lr"] == 0.002 and shown["pruning"]["p"] == 0.1
    assert main(["show", "quick", "--format", "toml"]) == 0
    assert "[algorithm]" in capsys.readouterr().out


# -- run -------------------------------------------------------------------------------
def test_run_quick_end_to_end_writes_every_file_with_the_documented_columns(subprocess_env, tmp_path):
    out = tmp_path / "run"
    result = cli(subprocess_env, "run", "--preset", "quick", *tiny("training.lr=0.002"), "--seed", "7",
                 "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "test L1 median" in result.stdout
    epochs, final, timings = (pd.read_csv(out / f"{t}.csv") for t in ("epochs", "final", "timings"))
    assert tuple(epochs.columns) == EPOCH_COLUMNS and tuple(final.columns) == FINAL_COLUMNS
    assert tuple(timings.columns) == TIMING_COLUMNS
    assert len(epochs) == 2 * 3 and sorted(epochs.epoch.unique()) == [0, 1, 2] and list(final.trial) == [0, 1]
    assert epochs[["train_l1", "validation_l1", "capacity"]].notna().all().all()
    if importlib.util.find_spec("pyarrow") is not None:  # Parquet copies only where pyarrow is installed
        for table in ("epochs", "final", "timings"):
            assert pd.read_parquet(out / f"{table}.parquet").equals(pd.read_csv(out / f"{table}.csv"))
    else:
        assert not list(out.glob("*.parquet"))
    assert not any("second" in c for c in list(epochs.columns) + list(final.columns))
    for k in range(2):
        state = torch.load(out / "models" / f"trial-{k}.pt", weights_only=True)
        assert all(isinstance(v, torch.Tensor) for v in state.values())
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["training"]["lr"] == 0.002 and config["config"]["data"]["n_dim"] == 16
    assert config["seed"] == 7 and config["config"]["run"]["trials"] == 2 and len(config["trial_seeds"]) == 2
    assert {"torch", "deap", "deap_nnprune", "python"} <= set(config["versions"])
    assert list(final.seed) == config["trial_seeds"]
    assert not list((out / "checkpoints").iterdir())


def test_final_row_is_the_last_epoch_of_the_best_pair(tmp_path):
    assert main(["run", "--preset", "quick", *TINY, "--out", str(tmp_path / "r")]) == 0
    epochs, final = pd.read_csv(tmp_path / "r" / "epochs.csv"), pd.read_csv(tmp_path / "r" / "final.csv")
    last = epochs[epochs.epoch == 2].set_index("trial")
    assert np.allclose(last.loc[final.trial, "validation_l1"], final.validation_l1)
    assert np.allclose(last.loc[final.trial, "capacity"], final.capacity)


def test_canonical_run_logs_the_steplr_rate(tmp_path):
    args = ["run", "--preset", "paper-canonical-conjunctive-exponential", *tiny(epochs=8, trials=1),
            "--out", str(tmp_path / "c")]
    assert main(args) == 0
    epochs = pd.read_csv(tmp_path / "c" / "epochs.csv")
    # 20 rows / batch 5 = 4 steps per epoch; a quarter of 8 epochs: rate / 10 every 8 steps.
    assert list(epochs.lr_encoder) == pytest.approx([1e-3, 1e-3, 1e-3, 1e-4, 1e-4, 1e-5, 1e-5, 1e-6, 1e-6])


@pytest.mark.parametrize("preset", ["quick", "paper-coevolution-random-exponential"])
def test_batch_trials_gives_the_same_bytes(tmp_path, preset):
    small = TINY if preset == "quick" else ["--epochs", "3", "--trials", "3", "--quiet", "--set", "data.n_samples=60",
                                            "--set", "data.n_dim=40"]
    assert main(["run", "--preset", preset, *small, "--out", str(tmp_path / "a")]) == 0
    assert main(["run", "--preset", preset, *small, "--batch-trials", "--out", str(tmp_path / "b")]) == 0
    for table in ("epochs.csv", "final.csv"):
        assert (tmp_path / "a" / table).read_bytes() == (tmp_path / "b" / table).read_bytes()


def test_autograd_and_stacked_engines_agree_to_float_rounding(tmp_path):
    for engine in ("autograd", "stacked"):
        assert main(["run", "--preset", "quick", *tiny(f"run.engine={engine}"), "--out", str(tmp_path / engine)]) == 0
    a, b = (pd.read_csv(tmp_path / x / "final.csv") for x in ("autograd", "stacked"))
    assert np.allclose(a.test_l1, b.test_l1, rtol=1e-4) and (a.capacity == b.capacity).all()
    assert set(pd.read_csv(tmp_path / "autograd" / "timings.csv").engine) == {"autograd"}


def test_run_on_the_digits_data_set(tmp_path):
    pytest.importorskip("sklearn")
    assert main(["run", "--preset", "quick", "--data", "digits", "--epochs", "1", "--trials", "1", "--quiet",
                 "--out", str(tmp_path / "d")]) == 0
    config = json.loads((tmp_path / "d" / "config.json").read_text())
    assert config["config"]["data"]["source"] == "digits"
    state = torch.load(tmp_path / "d" / "models" / "trial-0.pt", weights_only=True)
    assert 64 in {t.shape[-1] for t in state.values() if t.dim() == 2}


def test_overwrite_replaces_a_previous_run(tmp_path):
    out = tmp_path / "r"
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out)]) == 0
    assert main(["run", "--preset", "quick", *TINY, "--trials", "1", "--out", str(out), "--overwrite"]) == 0
    assert len(pd.read_csv(out / "final.csv")) == 1 and not (out / "models" / "trial-1.pt").exists()


def test_serial_and_scoop_runs_write_identical_tables(subprocess_env, tmp_path):
    assert main(["run", "--preset", "quick", *TINY, "--out", str(tmp_path / "serial")]) == 0
    script = Path(sys.executable).parent / "deap-nnprune"
    if not script.is_file():  # not installed as a console script: SCOOP runs the module's file
        script = Path(__import__("deap_nnprune.__main__").__main__.__file__)
    result = subprocess.run([sys.executable, "-m", "scoop", "-n", "2", "--quiet", str(script), "run", "--preset",
                             "quick", *TINY, "--out", str(tmp_path / "scoop")],
                            capture_output=True, text=True, timeout=120, env=subprocess_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    names = ("epochs.csv", "final.csv")
    assert read_bytes(tmp_path / "scoop", *names) == read_bytes(tmp_path / "serial", *names)
    assert set(pd.read_csv(tmp_path / "scoop" / "timings.csv").executor) == {"scoop"}


# -- interrupt and resume -----------------------------------------------------------------
def _start(env, out):
    return subprocess.Popen([sys.executable, "-m", "deap_nnprune", "run", "--preset", "quick", *LONGER,
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for(path, process, timeout=60):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.005)


def _same_results(a, b):
    assert read_bytes(a, "epochs.csv", "final.csv") == read_bytes(b, "epochs.csv", "final.csv")
    for k in range(2):
        wa = torch.load(Path(a) / "models" / f"trial-{k}.pt", weights_only=True)
        wb = torch.load(Path(b) / "models" / f"trial-{k}.pt", weights_only=True)
        assert wa.keys() == wb.keys() and all(torch.equal(wa[n], wb[n]) for n in wa)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    assert main(["run", "--preset", "quick", *LONGER, "--out", str(out)]) == 0
    return out


def test_resume_after_sigkill_keeps_finished_trials_and_ends_identical(subprocess_env, tmp_path, uninterrupted):
    out = tmp_path / "killed"
    process = _start(subprocess_env, out)
    _wait_for(out / "checkpoints" / "trial-1.ckpt", process)  # trial 0 finished, trial 1 under way
    process.kill()
    process.wait()
    assert (out / "trials" / "trial-0" / "final.csv").is_file() and not (out / "final.csv").exists()
    result = cli(subprocess_env, "run", "--preset", "quick", *LONGER, "--out", str(out), "--resume")
    assert result.returncode == 0, result.stderr
    timings = pd.read_csv(out / "timings.csv")
    assert timings.resumed_from_epoch.iloc[1] > 0  # trial 1 restarted from its checkpoint
    _same_results(out, uninterrupted)


def test_ctrl_c_checkpoints_prints_the_resume_command_and_that_command_finishes_identically(
        subprocess_env, tmp_path, uninterrupted):
    out = tmp_path / "interrupted"
    process = _start(subprocess_env, out)
    _wait_for(out / "checkpoints" / "trial-0.ckpt", process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    command = err.strip().splitlines()[-1].strip()
    assert command.startswith(sys.executable) and command.endswith("--resume") and "Traceback" not in err
    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60, env=subprocess_env)
    assert result.returncode == 0, result.stderr
    _same_results(out, uninterrupted)


# -- bad input: the table of cases is in tests/test_bad_input.py ------------------------------------
def test_bad_input_in_a_real_process_exits_2_with_one_line(subprocess_env, tmp_path):
    result = cli(subprocess_env, "run", "--preset", "paper-coevolution-randm-exponential", "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "paper-coevolution-random-exponential" in result.stderr and not (tmp_path / "o").exists()


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ValueError, match="cuda:7"):
        main(["run", "--preset", "quick", "--device", "cuda:7", "--out", str(tmp_path / "o"), "--debug"])


def _snapshot(folder):
    return {p: p.stat().st_mtime_ns for p in Path(folder).rglob("*")}


def test_non_empty_folder_without_resume_or_overwrite_is_refused_untouched(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out)]) == 0
    before = _snapshot(out)
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err and _snapshot(out) == before


def test_resume_with_a_different_configuration_is_refused_untouched(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out)]) == 0
    before = _snapshot(out)
    capsys.readouterr()
    assert main(["run", "--preset", "quick", *tiny("training.lr=0.5"), "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "different configuration" in err and "training.lr" in err
    assert _snapshot(out) == before


def test_resume_of_a_finished_run_changes_no_result(tmp_path):
    out = tmp_path / "r"
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out)]) == 0
    before = read_bytes(out, "epochs.csv", "final.csv")
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out), "--resume"]) == 0
    assert read_bytes(out, "epochs.csv", "final.csv") == before


def test_resume_from_a_damaged_checkpoint_is_refused_clearly(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out)]) == 0
    (out / "trials" / "trial-1" / "final.csv").unlink()
    (out / "checkpoints" / "trial-1.ckpt").write_bytes(b"not a checkpoint")
    capsys.readouterr()
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "trial-1.ckpt" in err and "cannot be read" in err


def test_unwritable_existing_folder_is_refused(tmp_path, capsys):
    if shutil.which("chattr") is None or not hasattr(__import__("os"), "geteuid"):
        pytest.skip("needs Linux")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        import os

        if os.geteuid() == 0:
            pytest.skip("root can write anywhere; covered by the /proc case")
        assert main(["run", "--preset", "quick", *TINY, "--out", str(folder / "out")]) == 2
        assert "cannot write" in capsys.readouterr().err
    finally:
        folder.chmod(0o700)
