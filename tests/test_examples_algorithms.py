"""The algorithm examples run as scripts, end to end, and write the files they document.

Every script runs in a fresh Python with tiny settings. The SCOOP tests start
real workers (``python -m scoop -n 2``) beside a serial run with the same seed
and require byte-identical result files: timings live only in timings.csv.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIMEOUT = 120
TINY = ("--n-dim", "16", "--n-samples", "20", "--seed", "3", "--quiet")
FINAL = ["test_l1", "validation_l1", "train_l1", "capacity", "capacity_encoder", "capacity_decoder"]
CANONICAL_EPOCHS = ["gen", "train_l1", "validation_l1", "capacity", "capacity_encoder", "capacity_decoder",
                    "learning_rate"]
COEVOLUTION_EPOCHS = ["gen", "best_cell", "train_l1", "validation_l1", "capacity", "capacity_encoder",
                      "capacity_decoder", "lr_encoder", "lr_decoder", "mean_capacity_encoder", "mean_capacity_decoder"]
RESULTS = ("epochs.csv", "final.csv")


def start(script, *args, scoop=False):
    """Start an example in its own process group (so a hung SCOOP run can be stopped whole)."""
    launcher = ["-m", "scoop", "-n", "2"] if scoop else []
    command = [sys.executable, *launcher, str(EXAMPLES / script), *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def finish(process):
    """Wait for a started example; stop its whole process group if it outlives TIMEOUT."""
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{process.args} ran over {TIMEOUT} s\n{stdout}\n{stderr}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run(script, *args, scoop=False):
    return finish(start(script, *args, scoop=scoop))


def succeeded(result):
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


def check_results(out, epochs_columns, n_epochs, final_columns):
    epochs = pd.read_csv(out / "epochs.csv")
    assert list(epochs.columns) == epochs_columns
    assert epochs["gen"].tolist() == list(range(n_epochs + 1))
    final = pd.read_csv(out / "final.csv")
    assert list(final.columns) == final_columns and len(final) == 1
    row = final.iloc[0]
    assert 0.0 < row.test_l1 < 1.0 and 0.0 < row.capacity <= 1.0
    assert not any("second" in column for column in [*epochs.columns, *final.columns])
    timings = pd.read_csv(out / "timings.csv")
    assert {"seconds", "seconds_per_epoch"} <= set(timings.columns)
    state = torch.load(out / "model.pt", weights_only=True)
    assert all(isinstance(t, torch.Tensor) for t in state.values())
    assert state["encoder.0.weight"].shape[1] == 16
    return epochs, final


def assert_same_results(a, b):
    for name in RESULTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs:\n{(a / name).read_text()}\n" \
                                                                 f"{(b / name).read_text()}"
    for key, value in torch.load(a / "model.pt", weights_only=True).items():
        assert torch.equal(value, torch.load(b / "model.pt", weights_only=True)[key]), key


def test_canonical_writes_epochs_final_model_and_timings(tmp_path):
    out = tmp_path / "canonical"
    succeeded(run("canonical.py", "--epochs", "2", "--prune", "variance", "--probability", "1", *TINY,
                  "--out", out))
    epochs, final = check_results(out, CANONICAL_EPOCHS, 2, FINAL)
    assert epochs["capacity"].iloc[-1] < 1.0  # guided pruning ran, on the training rows bound in the toolbox
    assert final["validation_l1"].iloc[0] == epochs["validation_l1"].iloc[-1]


def test_coevolution_writes_epochs_final_model_and_timings(tmp_path):
    out = tmp_path / "coevolution"
    result = succeeded(run("coevolution.py", "--epochs", "2", "--cells", "3", "--prune", "random",
                           "--probability", "1", *TINY, "--out", out))
    epochs, final = check_results(out, COEVOLUTION_EPOCHS, 2, FINAL + ["best_cell"])
    assert epochs["capacity"].iloc[-1] < 1.0
    assert pd.read_csv(out / "timings.csv")["engine"].iloc[0] == "batched"
    assert "test L1" in result.stdout and "s per epoch" in result.stdout


@pytest.mark.parametrize("update", ["sequential", "synchronous"])
def test_coevolution_under_scoop_writes_the_serial_results_byte_for_byte(tmp_path, update):
    args = ("--epochs", "2", "--cells", "3", "--update", update, "--prune", "random", "--probability", "0.7", *TINY)
    parallel = start("coevolution.py", *args, "--out", tmp_path / "scoop", scoop=True)
    serial = start("coevolution.py", *args, "--engine", "map", "--out", tmp_path / "serial")
    succeeded(finish(parallel))
    succeeded(finish(serial))
    assert pd.read_csv(tmp_path / "scoop" / "timings.csv")["executor"].iloc[0] == "scoop"
    assert_same_results(tmp_path / "scoop", tmp_path / "serial")


def test_canonical_under_scoop_writes_the_serial_results_byte_for_byte(tmp_path):
    args = ("--epochs", "2", "--lambda", "2", "--prune", "conjunctive", "--probability", "1", *TINY)
    parallel = start("canonical.py", *args, "--out", tmp_path / "scoop", scoop=True)
    serial = start("canonical.py", *args, "--out", tmp_path / "serial")
    succeeded(finish(parallel))
    succeeded(finish(serial))
    assert pd.read_csv(tmp_path / "scoop" / "timings.csv")["executor"].iloc[0] == "scoop"
    assert_same_results(tmp_path / "scoop", tmp_path / "serial")


def test_mix_with_deap_runs_ea_mu_plus_lambda_and_prints_the_logbook():
    result = succeeded(run("mix_with_deap.py", "--generations", "2", "--mu", "2", "--lambda", "4",
                           "--n-dim", "16", "--n-samples", "20"))
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["gen", "nevals"] for line in lines)
    assert [line.split()[0] for line in lines if line[:1].isdigit()] == ["0", "1", "2"]
    assert "hall of fame: validation L1" in result.stdout


def test_nsga2_writes_a_non_dominated_front(tmp_path):
    out = tmp_path / "nsga2"
    succeeded(run("nsga2_prune.py", "--generations", "2", "--mu", "6", *TINY, "--out", out))
    front = pd.read_csv(out / "pareto.csv")
    assert list(front.columns) == ["validation_l1", "capacity", "test_l1"] and len(front) >= 1
    points = list(zip(front["validation_l1"], front["capacity"]))
    for a in points:
        for b in points:
            assert not (a[0] <= b[0] and a[1] <= b[1] and a != b), f"{a} dominates {b}"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_nsga2_sign_steps_option_reaches_the_training(tmp_path):
    fronts = {}
    for state in ("persistent", "fresh_per_batch"):
        out = tmp_path / state
        succeeded(run("nsga2_prune.py", "--generations", "2", "--mu", "4", *TINY, "--lr", "3e-4",
                      "--optimizer-state", state, "--out", out))
        fronts[state] = pd.read_csv(out / "pareto.csv")
    assert not fronts["persistent"].equals(fronts["fresh_per_batch"])


def test_compose_toolbox_prints_l1_and_capacity_per_generation():
    result = succeeded(run("compose_toolbox.py", "--generations", "2", "--guided-every", "1",
                           "--n-dim", "16", "--n-samples", "20"))
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in rows] == ["1", "2"]
    assert all(0.0 < float(row[1]) < 1.0 and 0.0 < float(row[2]) <= 1.0 for row in rows)
    assert "best: test L1" in result.stdout


@pytest.mark.parametrize("script", ["canonical.py", "coevolution.py", "mix_with_deap.py", "nsga2_prune.py",
                                    "compose_toolbox.py"])
def test_help_describes_the_options(script):
    result = succeeded(run(script, "--help"))
    assert result.stdout.startswith("usage:") and "--seed" in result.stdout and "--device" in result.stdout


@pytest.mark.parametrize("script, args, message", [
    ("canonical.py", ["--epochs", "-1"], "argument --epochs: must be an integer >= 0, got -1"),
    ("coevolution.py", ["--cells", "3", "--radius", "2"], "--radius"),
    ("coevolution.py", ["--prune", "sideways"], "argument --prune: invalid choice"),
])
def test_bad_arguments_are_refused_with_the_option_named(script, args, message):
    result = run(script, *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_a_non_empty_out_folder_is_refused_unless_overwrite(tmp_path):
    (tmp_path / "keep.txt").write_text("earlier results")
    result = run("coevolution.py", "--epochs", "0", *TINY, "--out", tmp_path)
    assert result.returncode == 2 and "is not empty" in result.stderr and "--overwrite" in result.stderr
    succeeded(run("coevolution.py", "--epochs", "0", "--cells", "3", *TINY, "--out", tmp_path, "--overwrite"))
    assert (tmp_path / "keep.txt").read_text() == "earlier results" and (tmp_path / "final.csv").exists()
