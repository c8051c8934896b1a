"""Reading back the compacted models a run folder holds (``models/trial-K.pt``).

A run saves each trial's best autoencoder after :func:`~deap_nnprune.compact`
as a ``state_dict`` (weights only, loadable with ``weights_only=True``).
:func:`load_model` rebuilds the :class:`~deap_nnprune.CompactAutoencoder`
from the tensor shapes and the activations named in the run's
``config.json``, so a model can be used without the library's training code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ..compaction import CompactAutoencoder
from ..network import ACTIVATIONS

__all__ = ["load_model", "ModelError"]


class ModelError(ValueError):
    """A model file that is missing or does not fit its run's configuration."""


def _sequential(
    state: dict, prefix: str, hidden: Callable[[], nn.Module], last: Callable[[], nn.Module]
) -> nn.Sequential:
    indices = sorted(int(key.split(".")[1]) for key in state if key.startswith(prefix) and key.endswith(".weight"))
    if not indices:
        raise ModelError(f"no {prefix.rstrip('.')} layers in the state_dict")
    modules: dict[int, nn.Module] = {}
    for k, index in enumerate(indices):
        out_features, in_features = state[f"{prefix}{index}.weight"].shape
        modules[index] = nn.Linear(in_features, out_features, bias=f"{prefix}{index}.bias" in state)
        following = indices[k + 1] if k + 1 < len(indices) else None
        activation = hidden if following is not None else last
        if following is None or following == index + 2:  # an activation module sits between two linears
            if activation is not nn.Identity:
                modules[index + 1] = activation()
    return nn.Sequential(*(modules[i] for i in sorted(modules)))


def load_model(folder: str | Path, trial: int = 0) -> CompactAutoencoder:
    """The compacted autoencoder of *trial* in run *folder* (MLP architectures).

    >>> import tempfile, torch
    >>> from deap_nnprune.experiments.cli import main
    >>> out = tempfile.mkdtemp()
    >>> main(["run", "--preset", "quick", "--trials", "1", "--epochs", "1", "--quiet", "--overwrite", "--out", out])
    ... # doctest: +ELLIPSIS
    quick: 1 trial(s), test L1 median ...
    0
    >>> model = load_model(out, 0)
    >>> model(torch.rand(2, 100)).shape
    torch.Size([2, 100])
    """
    folder = Path(folder)
    path = folder / "models" / f"trial-{trial}.pt"
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))["config"]
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise ModelError(f"load_model: {path} cannot be read with its run's config.json ({error})") from None
    network = config["network"]
    if network.get("architecture") == "conv":
        raise ModelError(f"load_model: {folder} holds convolutional models; rebuild them with conv_halves")
    hidden, output = ACTIVATIONS[network["activation"]], ACTIVATIONS[network["output_activation"]]
    encoder = _sequential(state, "encoder.", hidden, hidden)
    model = CompactAutoencoder(encoder, _sequential(state, "decoder.", hidden, output))
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ModelError(f"load_model: {path} does not fit the rebuilt network ({error})") from None
    return model
