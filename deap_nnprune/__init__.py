"""deap_nnprune: evolve and prune neural networks with DEAP.

Masked autoencoders are DEAP individuals; pruning, training and
learning-rate operators follow ``deap.tools`` conventions; the algorithms
(a (1+λ) loop and spatial cooperative coevolution) follow ``deap.algorithms``.
"""

from . import datasets
from .capacity import capacity, count_alive
from .compaction import CompactAutoencoder, compact
from .devices import resolve_device
from .evaluation import NonFiniteOutputWarning, evaluate_l1, evaluate_l1_capacity, evaluate_pair
from .network import DEFAULT_LEARNING_RATE, PRESETS, ArchitecturePreset, MaskedAutoencoder, MaskedLinear, MaskedMLP

__version__ = "0.1.0"

__all__ = [
    "datasets",
    "capacity",
    "count_alive",
    "compact",
    "CompactAutoencoder",
    "resolve_device",
    "evaluate_l1",
    "evaluate_pair",
    "evaluate_l1_capacity",
    "NonFiniteOutputWarning",
    "MaskedLinear",
    "MaskedMLP",
    "MaskedAutoencoder",
    "ArchitecturePreset",
    "PRESETS",
    "DEFAULT_LEARNING_RATE",
]
