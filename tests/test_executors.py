"""Every executor writes the serial run's bytes: real process pools and real Dask clusters."""

import subprocess
import sys
import time

import pandas as pd
import pytest

from deap_nnprune.experiments.cli import main
from deap_nnprune.experiments.executors import executor_map, resolve_executor
from test_cli import TINY, read_bytes, tiny

TABLES = ("epochs.csv", "final.csv")


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "run"
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out)]) == 0
    return out


def test_a_process_pool_writes_the_serial_bytes(serial, tmp_path):
    out = tmp_path / "processes"
    assert main(["run", "--preset", "quick", *TINY, "--executor", "processes", "--workers", "2", "--out", str(out)]) == 0
    assert read_bytes(out, *TABLES) == read_bytes(serial, *TABLES)
    assert set(pd.read_csv(out / "timings.csv").executor) == {"processes"}


def test_a_dask_local_cluster_writes_the_serial_bytes(serial, tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    out = tmp_path / "dask"
    assert main(["run", "--preset", "quick", *TINY, "--executor", "dask", "--workers", "2", "--out", str(out)]) == 0
    assert read_bytes(out, *TABLES) == read_bytes(serial, *TABLES)


def test_joining_an_existing_dask_scheduler(serial, tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        out = tmp_path / "joined"
        assert main(["run", "--preset", "quick", *TINY, "--scheduler", cluster.scheduler_address,
                     "--out", str(out)]) == 0
    assert read_bytes(out, *TABLES) == read_bytes(serial, *TABLES)


def _dask_workers(pid):
    import psutil

    children = psutil.Process(pid).children(recursive=True)
    return [p for p in children if any("distributed" in part or "spawn" in part for part in p.cmdline())
            and not p.children()]


def test_a_killed_dask_worker_does_not_change_the_bytes(subprocess_env, tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    longer = tiny("run.checkpoint_every=1", epochs=150, rows=40)
    reference = tmp_path / "reference"
    assert main(["run", "--preset", "quick", *longer, "--out", str(reference)]) == 0
    out = tmp_path / "dask"
    process = subprocess.Popen([sys.executable, "-m", "deap_nnprune", "run", "--preset", "quick", *longer,
                                "--executor", "dask", "--workers", "2", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env)
    try:  # both workers busy with a trial that has a checkpoint: whichever dies, its trial resumes
        deadline = time.monotonic() + 120
        while len(list((out / "checkpoints").glob("*.ckpt"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list((out / "checkpoints").glob("*.ckpt"))) == 2, "the checkpoints did not appear"
        workers = _dask_workers(process.pid)
        assert workers, "found no Dask worker process"
        workers[0].kill()
        _, stderr = process.communicate(timeout=240)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert read_bytes(out, *TABLES) == read_bytes(reference, *TABLES)
    assert pd.read_csv(out / "timings.csv").resumed_from_epoch.max() > 0


def test_executor_errors_name_the_setting(tmp_path, capsys):
    with pytest.raises(ValueError, match="python -m scoop"):
        resolve_executor("scoop")
    assert main(["run", "--preset", "quick", *TINY, "--set", "run.executor=threads", "--out", str(tmp_path / "x")]) == 2
    assert "run.executor" in capsys.readouterr().err
    assert main(["run", "--preset", "quick", *TINY, "--set", "run.executor=processes", "--set",
                 "run.scheduler=tcp://x:1", "--out", str(tmp_path / "y")]) == 2
    assert "run.scheduler" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_executor_map_runs_every_task_once():
    with executor_map("processes", workers=2) as run_all:
        assert sorted(run_all(abs, [-3, 2, -1])) == [1, 2, 3]
