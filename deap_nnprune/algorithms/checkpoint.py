"""Checkpoints of running algorithms: one pickle, written atomically, checked on load.

A checkpoint holds the population, logbook, hall of fame and generation.
Random draws are derived from (seed, generation, cell), so no generator state
needs saving and a resumed run ends bit-identical to an uninterrupted one.
Checkpoints are pickles: resume only from files you trust (unpickling runs code).
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_bytes

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "read_checkpoint",
    "config_hash",
    "CHECKPOINT_FORMAT",
    "CheckpointError",
]

#: Bumped whenever the layout of a checkpoint changes.
CHECKPOINT_FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint file that is missing, damaged or from another configuration."""


def config_hash(config: dict) -> str:
    """A short stable hash of a JSON-able configuration dictionary."""
    text = json.dumps(config, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_checkpoint(path: str | Path, algorithm: str, config: dict, state: dict) -> None:
    """Pickle *state* with the format version and the configuration hash, atomically."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "algorithm": algorithm,
        "config_hash": config_hash(config),
        "config": config,
        "state": state,
    }
    atomic_write_bytes(path, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The whole payload of a checkpoint (format, algorithm, config, state), format-checked.

    For tools that inspect a checkpoint (which generation, which parent)
    without resuming it; :func:`load_checkpoint` also checks the configuration.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        payload = pickle.loads(path.read_bytes())
    except Exception as error:  # a truncated or foreign file raises many kinds of error
        raise CheckpointError(f"checkpoint {path}: cannot be read ({type(error).__name__}: {error})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"checkpoint {path}: format {found!r}, expected {CHECKPOINT_FORMAT}")
    return payload


def load_checkpoint(path: str | Path, algorithm: str, config: dict) -> dict[str, Any]:
    """Load the state saved by :func:`save_checkpoint`, refusing a mismatch clearly."""
    payload = read_checkpoint(path)
    if payload.get("algorithm") != algorithm:
        raise CheckpointError(f"checkpoint {path}: written by {payload.get('algorithm')!r}, not {algorithm!r}")
    if payload.get("config_hash") != config_hash(config):
        saved = payload.get("config", {})
        changed = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
        raise CheckpointError(
            f"checkpoint {path}: saved with a different configuration (differs in: {', '.join(changed) or '?'})"
        )
    return payload["state"]
