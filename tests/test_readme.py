"""The README's set-up commands are the ones CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(), flags=re.S)


def test_ci_runs_the_readme_test_command_word_for_word():
    test_command = [c for c in _readme_commands() if "pytest" in c]
    assert len(test_command) == 1
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command[0] in ci_lines  # word for word, then the lint, type and docs checks
    commands = [line for line in ci_lines if line.strip() and not line.startswith("#")]
    assert commands[commands.index(test_command[0]) - 1] == ". .venv/bin/activate"
    assert "set -euo pipefail" in ci_lines


def test_readme_install_pins_the_cpu_torch_build():
    for command in _readme_commands()[:2]:
        assert "torch==2.13.0" in command
