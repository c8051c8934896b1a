"""Experiments: presets, runs, reports — what ``python -m deap_nnprune`` does.

- :mod:`.config`: the typed configuration (one frozen dataclass per concern);
- :mod:`.presets`: the paper's presets, ``quick`` and ours, with the published figures;
- :mod:`.toolboxes`: data, toolbox and individuals from a config;
- :mod:`.runner`: checks a run, runs its trials (serially or under SCOOP), writes the run folder;
  :mod:`.trial` runs one task, :mod:`.monitor` tracks generations (progress, Ctrl-C),
  :mod:`.outputs` writes the files, :mod:`.models` reads the saved models back;
- :mod:`.report`: tables, Mann–Whitney U tests and (:mod:`.figures`) figures of run folders;
- :mod:`.cli`: the command line.
"""

from .config import ConfigError, ExperimentConfig, apply_overrides
from .models import ModelError, load_model
from .presets import PAPER_RESULTS, PRESETS, get_preset

__all__ = [
    "ExperimentConfig",
    "ConfigError",
    "apply_overrides",
    "PRESETS",
    "PAPER_RESULTS",
    "get_preset",
    "load_model",
    "ModelError",
]
