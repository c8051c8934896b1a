"""The examples run as scripts, in a fresh Python, and print what they promise."""

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(env, name, *args):
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_quickstart_prunes_compacts_and_keeps_the_outputs(subprocess_env):
    result = run_example(subprocess_env, "quickstart.py", "--seed", "1", "--n-dim", "32")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"best: validation L1 = 0\.\d+, capacity = 1\.000", out)
    capacity = float(re.search(r"pruned: capacity = ([\d.]+)", out).group(1))
    assert 0.0 < capacity < 1.0
    before, after = map(int, re.search(r"compacted: (\d+) -> (\d+) parameters", out).groups())
    assert after < before
    assert "outputs match: True" in out
