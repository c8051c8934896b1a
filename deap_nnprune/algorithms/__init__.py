"""Evolutionary loops written like ``deap.algorithms``: they return ``(population, logbook)``."""

from . import generation
from .canonical import ea_one_plus_lambda
from .checkpoint import CheckpointError
from .coevolution import ea_spatial_coevolution
from .generation import (
    LR_OWNERS,
    PAIR_SELECTIONS,
    SOLUTION_CONCEPTS,
    UPDATES,
    assess_pair,
    cell_rng,
    check_tournament_size,
    choose_pair,
    evaluate_each,
    log_generation,
    score_batch,
    score_neighbourhood,
    solution_scores,
    tournament,
    train_each,
    update_groups,
    vary_pair,
)
from .topology import TOPOLOGIES, Topology, make_topology, replicate, ring, torus

__all__ = [
    "ea_one_plus_lambda",
    "ea_spatial_coevolution",
    "CheckpointError",
    "SOLUTION_CONCEPTS",
    "UPDATES",
    "PAIR_SELECTIONS",
    "LR_OWNERS",
    "TOPOLOGIES",
    "Topology",
    "make_topology",
    "ring",
    "torus",
    "solution_scores",
    "tournament",
    "check_tournament_size",
    "generation",
    "cell_rng",
    "update_groups",
    "score_batch",
    "score_neighbourhood",
    "choose_pair",
    "vary_pair",
    "assess_pair",
    "log_generation",
    "evaluate_each",
    "train_each",
    "replicate",
]
