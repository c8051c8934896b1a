"""``run --config FILE`` / ``show --config FILE``: TOML or JSON as ``show`` writes it, or a run's config.json."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deap_nnprune.experiments import config as cfg
from deap_nnprune.experiments.cli import main
from deap_nnprune.experiments.config_file import read_config_file
from deap_nnprune.experiments.presets import get_preset

from test_cli import TINY, read_bytes

SMALL = ["data.n_dim=16", "data.n_samples=20", "algorithm.epochs=2", "run.trials=2"]


def show(capsys, *args):
    assert main(["show", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_a_file_written_by_show_reads_back_as_the_same_config(capsys, tmp_path, fmt):
    path = tmp_path / f"quick.{fmt}"
    path.write_text(show(capsys, "quick", "--set", *SMALL, "--format", fmt))
    expected = cfg.resolved(cfg.apply_overrides(get_preset("quick"), SMALL))
    assert read_config_file(path) == expected
    assert show(capsys, "--config", str(path), "--format", fmt) == path.read_text()


def test_run_from_a_toml_file_writes_the_tables_of_the_preset_run(capsys, tmp_path):
    path = tmp_path / "quick.toml"
    path.write_text(show(capsys, "quick", "--set", *SMALL, "--format", "toml"))
    assert main(["run", "--preset", "quick", *TINY, "--out", str(tmp_path / "preset")]) == 0
    assert main(["run", "--config", str(path), "--quiet", "--out", str(tmp_path / "file")]) == 0
    names = ("epochs.csv", "final.csv")
    assert read_bytes(tmp_path / "file", *names) == read_bytes(tmp_path / "preset", *names)


def test_a_run_folders_config_json_reruns_byte_for_byte(tmp_path):
    first = tmp_path / "first"
    assert main(["run", "--preset", "quick", *TINY, "--seed", "7", "--out", str(first)]) == 0
    again = tmp_path / "again"
    assert main(["run", "--config", str(first / "config.json"), "--quiet", "--out", str(again)]) == 0
    names = ("epochs.csv", "final.csv")
    assert read_bytes(again, *names) == read_bytes(first, *names)


def test_flags_win_over_set_which_wins_over_the_file(capsys, tmp_path):
    path = tmp_path / "base.json"
    document = json.loads(show(capsys, "quick", "--set", *SMALL))
    document["training"]["lr"] = 0.02
    document["algorithm"]["epochs"] = 3
    document["training"]["batch_size"] = 4
    path.write_text(json.dumps(document))
    out = tmp_path / "run"
    assert main(["run", "--config", str(path), "--set", "training.lr=0.005", "algorithm.epochs=2",
                 "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    saved = json.loads((out / "config.json").read_text())["config"]
    assert saved["algorithm"]["epochs"] == 1        # the flag
    assert saved["training"]["lr"] == 0.005         # --set
    assert saved["training"]["batch_size"] == 4     # the file


@pytest.mark.parametrize("content, suffix, expected", [
    ('[training]\nlr = "fast"\n', ".toml", "training.lr must be a real number"),
    ('[training]\nlr = 100.0\n', ".toml", "training.lr must be <= 10.0, got 100.0"),
    ('[training]\nspeed = 1\n', ".toml", "unknown key training.speed"),
    ('[trainer]\nlr = 1\n', ".toml", "unknown key 'trainer'"),
    ('training = 3\n', ".toml", "[training] must be a table"),
    ('[training\nlr = 1\n', ".toml", "not valid TOML"),
    ('{"algorithm": {"cells": 2.5}}', ".json", "algorithm.cells must be an integer"),
    ('{"network": {"persistent_masks": "no"}}', ".json", "network.persistent_masks must be True or False"),
    ('[1, 2]', ".json", "expected a table of sections"),
    ('{"name": 3}', ".json", "name must be a string"),
    ('lr: 1', ".yaml", "expected a .toml or .json file"),
])
def test_bad_files_are_refused_in_one_line_naming_the_file_and_key(capsys, tmp_path, content, suffix, expected):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    out = tmp_path / "out"
    assert main(["run", "--config", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and expected in err, err
    assert not out.exists()


def test_a_missing_file_and_a_preset_with_a_file_are_refused(capsys, tmp_path):
    assert main(["run", "--config", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "cannot be read" in capsys.readouterr().err
    path = tmp_path / "quick.toml"
    path.write_text(show(capsys, "quick", "--format", "toml"))
    assert main(["run", "--preset", "quick", "--config", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "one of them" in capsys.readouterr().err
    assert main(["run", "--out", str(tmp_path / "o")]) == 2
    assert "give a preset or --config" in capsys.readouterr().err


# -- fuzzing: whatever the file holds, `show --config` prints a config or one line and exit 2 -------------
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                     st.text(max_size=12))
_json_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                 st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=4)), max_leaves=12)
_keys = st.sampled_from(cfg.valid_keys())


def _check_one_line_or_ok(capsys, path):
    try:
        status = main(["show", "--config", str(path)])
    except SystemExit as exit:  # argparse --help-like exits would be a bug too
        pytest.fail(f"SystemExit {exit.code}")
    captured = capsys.readouterr()
    assert status in (0, 2)
    if status == 2:
        assert captured.err.count("\n") == 1 and "Traceback" not in captured.err and str(path) in captured.err


_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_FUZZ
@given(data=st.binary(max_size=200), suffix=st.sampled_from([".toml", ".json"]))
def test_random_bytes_never_give_a_traceback(capsys, tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    _check_one_line_or_ok(capsys, path)


@_FUZZ
@given(document=_json_values)
def test_random_json_documents_never_give_a_traceback(capsys, tmp_path, document):
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(document))
    _check_one_line_or_ok(capsys, path)


@_FUZZ
@given(changes=st.lists(st.tuples(_keys, _json_values), min_size=1, max_size=3))
def test_valid_configs_with_random_values_never_give_a_traceback(capsys, tmp_path, changes):
    document = cfg.to_dict(get_preset("quick"))
    for key, value in changes:
        section, name = key.split(".")
        document[section][name] = value
    for suffix, text in ((".json", json.dumps(document)), (".toml", _toml(document))):
        path = tmp_path / f"fuzz{suffix}"
        path.write_text(text)
        _check_one_line_or_ok(capsys, path)


def _toml(document):
    """A TOML rendering of a nested dict for the fuzz test (tables one level deep; other values as JSON text)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)) and v == v and abs(v) != float("inf"):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v if isinstance(v, str) else json.dumps(v))
    lines = [f"name = {json.dumps(document['name'])}"]
    for section, table in document.items():
        if isinstance(table, dict):
            lines.append(f"[{section}]")
            lines += [f"{json.dumps(k)} = {value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"
