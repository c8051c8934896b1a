"""One writer per run folder: a second run on a folder in use is refused; a dead owner's lock is taken over."""

import json
import signal
import socket
import subprocess
import sys
import time

from deap_nnprune.experiments.cli import main
from deap_nnprune.experiments.lock import LOCK_NAME, lock_owner

from test_cli import LONGER, TINY, cli


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_second_run_on_a_folder_in_use_exits_2_naming_the_folder_and_the_owner(subprocess_env, tmp_path):
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "deap_nnprune", "run", "--preset", "quick", *LONGER,
                              "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=subprocess_env)
    deadline = time.monotonic() + 60
    while lock_owner(out) is None:  # the first run holds the lock as soon as it starts writing
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the first run never took the lock"
        time.sleep(0.005)
    # the first run is paused while the second tries, so on a fast machine it cannot finish (and free the
    # folder) first; a paused process is alive, so its lock still holds
    first.send_signal(signal.SIGSTOP)
    try:
        owner = lock_owner(out)
        assert owner["pid"] == first.pid and owner["host"] == socket.gethostname()
        for extra in (["--resume"], ["--overwrite"]):
            second = cli(subprocess_env, "run", "--preset", "quick", *LONGER, "--out", str(out), *extra)
            assert second.returncode == 2, second.stderr
            assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
            assert str(out) in second.stderr and f"PID {first.pid}" in second.stderr
    finally:
        first.send_signal(signal.SIGCONT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err  # the first run was not disturbed
    assert (out / "final.csv").is_file() and not (out / LOCK_NAME).exists()


def test_a_finished_run_leaves_no_lock(tmp_path):
    assert main(["run", "--preset", "quick", *TINY, "--out", str(tmp_path / "run")]) == 0
    assert not (tmp_path / "run" / LOCK_NAME).exists()


def test_the_lock_of_a_dead_process_on_this_host_is_taken_over_with_a_message(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK_NAME).write_text(json.dumps({"pid": dead_pid(), "host": socket.gethostname(), "started": 0.0}))
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out)]) == 0
    assert "taking over the stale lock" in capsys.readouterr().err
    assert (out / "final.csv").is_file() and not (out / LOCK_NAME).exists()


def test_a_lock_from_another_host_is_never_taken_over(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK_NAME).write_text(json.dumps({"pid": dead_pid(), "host": "another-host.invalid", "started": 0.0}))
    assert main(["run", "--preset", "quick", *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another-host.invalid" in err
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # nothing written
