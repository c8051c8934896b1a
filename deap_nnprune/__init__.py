"""deap_nnprune: evolve and prune neural networks with DEAP.

Masked autoencoders are DEAP individuals; pruning, training and
learning-rate operators follow ``deap.tools`` conventions; the algorithms
(a (1+λ) loop and spatial cooperative coevolution) follow ``deap.algorithms``.
"""

from . import _reproducible  # noqa: F401 -- first, for its side effect: MKL's alignment-independent mode

# isort: split
from . import algorithms, datasets, export, registry, schedules, spread
from ._masking import apply_keep, freeze_masks, maskable_entries, masked_layers
from .capacity import capacity, count_alive, paper_capacity, record_pruned
from .compaction import CompactAutoencoder, compact
from .conv import MaskedConv1d, MaskedConv2d, MaskedConvNet, MaskedConvTranspose1d, MaskedConvTranspose2d
from .crossover import cx_masked_uniform
from .devices import resolve_device
from .evaluation import NonFiniteOutputWarning, evaluate_l1, evaluate_l1_capacity, evaluate_pair
from .finishing import mut_prune_finetune, weights_to_prune
from .network import (
    DEFAULT_LEARNING_RATE,
    PRESETS,
    ArchitecturePreset,
    MaskedAutoencoder,
    MaskedLayer,
    MaskedLinear,
    MaskedMLP,
    MaskedNetwork,
)
from .pruning import (
    Decision,
    at_floor,
    keep_all_but,
    mut_perturb_random,
    mut_prune_conjunctive,
    mut_prune_gradual,
    mut_prune_magnitude,
    mut_prune_random,
    mut_prune_spread,
    mut_prune_variance,
    neurons_alive,
    prune_by,
    prune_candidates,
    validate_amount,
)
from .schedules import Scheduled
from .training import batch_order, mut_learning_rate, mut_train, mut_train_pair

__version__ = "0.2.0"

__all__ = [
    "algorithms",
    "datasets",
    "export",
    "schedules",
    "spread",
    "registry",
    "apply_keep",
    "freeze_masks",
    "maskable_entries",
    "masked_layers",
    "prune_by",
    "prune_candidates",
    "neurons_alive",
    "keep_all_but",
    "at_floor",
    "Decision",
    "capacity",
    "count_alive",
    "paper_capacity",
    "record_pruned",
    "compact",
    "CompactAutoencoder",
    "cx_masked_uniform",
    "resolve_device",
    "evaluate_l1",
    "evaluate_pair",
    "evaluate_l1_capacity",
    "NonFiniteOutputWarning",
    "MaskedLinear",
    "MaskedLayer",
    "MaskedNetwork",
    "MaskedConv1d",
    "MaskedConv2d",
    "MaskedConvTranspose1d",
    "MaskedConvTranspose2d",
    "MaskedConvNet",
    "MaskedMLP",
    "MaskedAutoencoder",
    "ArchitecturePreset",
    "PRESETS",
    "DEFAULT_LEARNING_RATE",
    "mut_prune_random",
    "mut_perturb_random",
    "mut_prune_magnitude",
    "mut_prune_variance",
    "mut_prune_spread",
    "mut_prune_conjunctive",
    "mut_prune_gradual",
    "mut_prune_finetune",
    "weights_to_prune",
    "validate_amount",
    "Scheduled",
    "mut_train",
    "mut_train_pair",
    "mut_learning_rate",
    "batch_order",
]
