"""Fault tests: a run killed at any moment, or losing a SCOOP worker, ends with the same results.

Each test starts real processes (the command line, SCOOP workers), kills
them, and compares the final tables and model weights byte for byte with an
uninterrupted run. Every wait is bounded.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from deap_nnprune.experiments.cli import main

#: 2 trials × 60 epochs of a tiny coevolution, a checkpoint every epoch: a few seconds per trial.
RUN = ["run", "--preset", "quick", "--set", "data.n_dim=16", "data.n_samples=40", "run.checkpoint_every=1",
       "--epochs", "60", "--trials", "2", "--quiet"]
RESULTS = ("epochs.csv", "final.csv")


def _same_results(a: Path, b: Path) -> None:
    for name in RESULTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for k in range(2):
        wa = torch.load(a / "models" / f"trial-{k}.pt", weights_only=True)
        wb = torch.load(b / "models" / f"trial-{k}.pt", weights_only=True)
        assert wa.keys() == wb.keys() and all(torch.equal(wa[n], wb[n]) for n in wa)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"the run ended before {path.name} appeared: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{path} did not appear within {timeout} s")
        time.sleep(0.002)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("faults") / "uninterrupted"
    assert main([*RUN, "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(
    "moment",
    ["checkpoints/trial-0.ckpt", "trials/trial-0/final.csv", "checkpoints/trial-1.ckpt"],
    ids=["first-trial-started", "first-trial-finished", "second-trial-started"],
)
def test_sigkill_at_any_moment_then_resume_ends_identical(subprocess_env, tmp_path, uninterrupted, moment):
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "deap_nnprune", *RUN, "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env)
    _wait_for(out / moment, process)
    process.kill()
    process.communicate(timeout=30)
    assert not (out / "final.csv").exists()
    for leftover in out.rglob("*"):  # atomic writes: no half-written file under its real name
        assert not leftover.name.endswith(".tmp") or leftover.name.startswith(".")
    resumed = subprocess.run([sys.executable, "-m", "deap_nnprune", *RUN, "--out", str(out), "--resume"],
                             capture_output=True, text=True, timeout=120, env=subprocess_env)
    assert resumed.returncode == 0, resumed.stderr
    _same_results(out, uninterrupted)


def _scoop_workers(root_pid: int) -> list[int]:
    """PIDs of SCOOP worker processes (not the origin) below *root_pid*, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        for child in children.get(pid, []):
            stack.append(child)
            try:
                command = (Path("/proc") / str(child) / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"scoop.bootstrap.__main__" in command and b"--origin" not in command:
                found.append(child)
    return found


def _kill_a_worker_holding_a_trial(process: subprocess.Popen, out: Path, timeout: float = 60) -> bool:
    """SIGKILL the SCOOP worker (not the origin) while both trials are unfinished; False when that never happened.

    A trial's checkpoint lives from its first epoch until its result is about to go back, so while both
    checkpoints exist neither trial has returned, and the origin holds at most one of them: the worker
    holds the other. The worker is paused while that is checked, so it cannot finish in between.
    """
    both = [out / "checkpoints" / f"trial-{k}.ckpt" for k in range(2)]
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        for pid in _scoop_workers(process.pid):
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                continue
            if all(path.exists() for path in both):
                os.kill(pid, signal.SIGKILL)
                return True
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.002)
    return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds worker processes through /proc")
def test_losing_a_scoop_worker_mid_run_still_ends_identical(subprocess_env, tmp_path, uninterrupted):
    out = tmp_path / "scoop"
    script = Path(sys.executable).parent / "deap-nnprune"
    if not script.is_file():
        script = Path(__import__("deap_nnprune.__main__").__main__.__file__)
    process = subprocess.Popen([sys.executable, "-m", "scoop", "-n", "2", "--quiet", str(script), *RUN,
                                "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=subprocess_env, start_new_session=True)
    try:
        killed = _kill_a_worker_holding_a_trial(process, out)
        _, stderr = process.communicate(timeout=150)  # SCOOP notices the lost task and resends it
        if not killed:
            pytest.skip("SCOOP ran the two trials one after the other; no worker held a trial to lose")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert (out / "final.csv").exists(), stderr.decode()[-2000:]
    assert b"Lost track of future" in stderr, stderr.decode()[-2000:]  # SCOOP resent the lost trial
    _same_results(out, uninterrupted)


def test_a_failed_write_names_the_file_and_leaves_no_partial_file(tmp_path, subprocess_env):
    import resource

    out = tmp_path / "run"

    def small_files():  # as `ulimit -f`: writes past 20 kB fail with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    result = subprocess.run([sys.executable, "-m", "deap_nnprune", "run", "--preset", "quick", "--set",
                             "data.n_dim=16", "data.n_samples=20", "--epochs", "2", "--trials", "2", "--quiet",
                             "--out", str(out)], capture_output=True, text=True, timeout=120, env=subprocess_env,
                            preexec_fn=small_files)
    assert result.returncode == 1, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line and "File too large" in line and str(out) in line
    assert not list(out.rglob("*.tmp"))  # the temporary file was removed
