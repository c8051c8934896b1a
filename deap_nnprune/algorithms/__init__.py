"""Evolutionary loops written like ``deap.algorithms``: they return ``(population, logbook)``."""

from .canonical import ea_one_plus_lambda
from .checkpoint import CheckpointError
from .coevolution import (
    SOLUTION_CONCEPTS,
    UPDATES,
    check_tournament_size,
    ea_spatial_coevolution,
    solution_scores,
    tournament,
)
from .topology import TOPOLOGIES, Topology, make_topology, ring, torus

__all__ = [
    "ea_one_plus_lambda",
    "ea_spatial_coevolution",
    "CheckpointError",
    "SOLUTION_CONCEPTS",
    "UPDATES",
    "TOPOLOGIES",
    "Topology",
    "make_topology",
    "ring",
    "torus",
    "solution_scores",
    "tournament",
    "check_tournament_size",
]
