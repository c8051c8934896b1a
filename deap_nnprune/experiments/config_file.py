"""Reading an experiment configuration from a file: TOML or JSON, as ``show`` writes them, or a run's config.json.

Every problem with a file — unreadable, not TOML/JSON, an unknown section or
key, a wrong type, a value out of range — is one :class:`~.config.ConfigError`
line that names the file (and the dotted key when there is one)::

    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lr.json"
    >>> _ = path.write_text(json.dumps({"training": {"lr": -1.0}}))
    >>> read_config_file(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    deap_nnprune.experiments.config.ConfigError: --config ...lr.json: training.lr must be > 0.0, got -1.0
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .config import SECTIONS, ConfigError, ExperimentConfig, from_dict

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["read_config_file", "CONFIG_SUFFIXES"]

CONFIG_SUFFIXES = (".toml", ".json")
_TOP_LEVEL = ("name", "description", *SECTIONS)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _document(path: Path) -> object:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"--config {path}: cannot be read ({error.strerror or error})") from None
    kind = path.suffix.lower()[1:].upper()
    try:
        text = raw.decode("utf-8")
        return tomllib.loads(text) if kind == "TOML" else json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # TOMLDecodeError and JSONDecodeError too
        raise ConfigError(f"--config {path}: not valid {kind} ({_one_line(error)})") from None


def read_config_file(path: str | Path) -> ExperimentConfig:
    """The :class:`~.config.ExperimentConfig` in *path* (``.toml`` or ``.json``).

    The layout is the one ``show --format toml|json`` writes: ``name``,
    ``description`` and one table per section (``data``, ``network``,
    ``training``, ``pruning``, ``algorithm``, ``run``). Missing keys take
    their defaults; a missing ``name`` is the file's stem. A run folder's
    ``config.json`` (which holds the resolved configuration under
    ``"config"``) is read as its configuration, so a run can be run again.
    """
    path = Path(path)
    if path.suffix.lower() not in CONFIG_SUFFIXES:
        raise ConfigError(f"--config {path}: expected a .toml or .json file")
    data = _document(path)
    if isinstance(data, dict) and isinstance(data.get("config"), dict) and "identity" in data:
        data = data["config"]  # a run folder's config.json
    if not isinstance(data, dict):
        raise ConfigError(
            f"--config {path}: expected a table of sections ({', '.join(SECTIONS)}), got {type(data).__name__}"
        )
    unknown = [str(key) for key in data if key not in _TOP_LEVEL]
    if unknown:
        raise ConfigError(f"--config {path}: unknown key {unknown[0]!r}; expected {', '.join(_TOP_LEVEL)}")
    for section in SECTIONS:
        if not isinstance(data.get(section, {}), dict):
            raise ConfigError(
                f"--config {path}: [{section}] must be a table of settings, got {type(data[section]).__name__}"
            )
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"--config {path}: {key} must be a string, got {data[key]!r}")
    data = {"name": path.stem, **data}
    try:
        return from_dict(data)
    except (ConfigError, TypeError, ValueError) as error:
        raise ConfigError(f"--config {path}: {_one_line(error)}") from None
