"""Spatial grids for coevolution: which cells a cell sees.

A topology lists, for every cell, its neighbourhood (the cell itself first).
Several disjoint copies of a grid (one per trial) can share one population:
cells ``t*n .. (t+1)*n - 1`` form trial ``t``, and no neighbourhood crosses
trials.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .._validation import check_choice, check_int

__all__ = ["Topology", "ring", "torus", "make_topology", "replicate", "TOPOLOGIES"]

TOPOLOGIES = ("ring", "torus")
NEIGHBOURHOODS = ("moore", "von_neumann")


@dataclass(frozen=True)
class Topology:
    """Neighbourhoods of ``n_cells`` cells in ``trials`` disjoint grids."""

    neighbourhoods: tuple[tuple[int, ...], ...]
    trials: int = 1

    @property
    def n_cells(self) -> int:
        return len(self.neighbourhoods)

    @property
    def cells_per_trial(self) -> int:
        return self.n_cells // self.trials

    def trial_of(self, cell: int) -> int:
        return cell // self.cells_per_trial

    def trial_cells(self, trial: int) -> range:
        n = self.cells_per_trial
        return range(trial * n, (trial + 1) * n)


def ring(n_cells: int, radius: int = 1) -> list[tuple[int, ...]]:
    """Neighbourhoods on a ring: cell ``i`` sees ``i-r .. i+r`` (itself first).

    >>> ring(5, 1)[0]
    (0, 4, 1)
    """
    n_cells = check_int("n_cells", n_cells, minimum=1)
    radius = check_int("radius", radius, minimum=0)
    if 2 * radius + 1 > n_cells:
        raise ValueError(
            f"radius={radius} gives a neighbourhood of {2 * radius + 1} cells, larger than the ring of {n_cells}"
        )
    offsets = [0] + [s * d for d in range(1, radius + 1) for s in (-1, 1)]
    return [tuple((i + o) % n_cells for o in offsets) for i in range(n_cells)]


def torus(rows: int, cols: int, radius: int = 1, neighbourhood: str = "moore") -> list[tuple[int, ...]]:
    """Neighbourhoods on a 2-D torus of ``rows × cols`` cells (row-major numbering).

    ``moore``: the ``(2r+1)²`` square around a cell; ``von_neumann``: cells at
    Manhattan distance ≤ r.

    >>> torus(3, 3, 1, "von_neumann")[0]
    (0, 6, 2, 1, 3)
    """
    rows = check_int("rows", rows, minimum=1)
    cols = check_int("cols", cols, minimum=1)
    radius = check_int("radius", radius, minimum=0)
    check_choice("neighbourhood", neighbourhood, NEIGHBOURHOODS)
    if 2 * radius + 1 > min(rows, cols):
        raise ValueError(
            f"radius={radius} gives a neighbourhood wider than the {rows}x{cols} torus; "
            f"need 2*radius+1 <= {min(rows, cols)}"
        )
    offsets = [(0, 0)] + [
        (dr, dc)
        for dr in range(-radius, radius + 1)
        for dc in range(-radius, radius + 1)
        if (dr, dc) != (0, 0) and (neighbourhood == "moore" or abs(dr) + abs(dc) <= radius)
    ]
    return [
        tuple(((r + dr) % rows) * cols + (c + dc) % cols for dr, dc in offsets)
        for r in range(rows)
        for c in range(cols)
    ]


def _square_shape(n_cells: int) -> tuple[int, int]:
    rows = max(d for d in range(1, math.isqrt(n_cells) + 1) if n_cells % d == 0)
    return rows, n_cells // rows


def make_topology(
    kind: str,
    n_cells: int,
    radius: int = 1,
    trials: int = 1,
    shape: tuple[int, int] | None = None,
    neighbourhood: str = "moore",
) -> Topology:
    """Build ``trials`` disjoint copies of a ring or torus over ``n_cells`` cells in all.

    For a torus, *shape* is ``(rows, cols)`` of one trial's grid (default:
    the most square factorisation).

    >>> make_topology("ring", 6, trials=2).neighbourhoods[3]
    (3, 5, 4)
    """
    check_choice("topology", kind, TOPOLOGIES)
    trials = check_int("trials", trials, minimum=1)
    n_cells = check_int("n_cells", n_cells, minimum=1)
    if n_cells % trials:
        raise ValueError(f"{n_cells} cells cannot be split into trials={trials} equal grids")
    per_trial = n_cells // trials
    if kind == "ring":
        local = ring(per_trial, radius)
    else:
        rows, cols = shape if shape is not None else _square_shape(per_trial)
        if rows * cols != per_trial:
            raise ValueError(f"torus shape {rows}x{cols} = {rows * cols} cells, but each trial has {per_trial} cells")
        local = torus(rows, cols, radius, neighbourhood)
    return replicate(local, trials)


def replicate(local: Sequence[Sequence[int]], trials: int = 1) -> Topology:
    """*trials* disjoint copies of one grid's neighbourhoods (each a cell's visible cells, itself first).

    The one place a grid becomes a :class:`Topology`; refuses neighbourhoods that do not start with the
    cell itself or name a cell outside the grid.

    >>> replicate([(0, 1), (1, 0)], trials=2).neighbourhoods
    ((0, 1), (1, 0), (2, 3), (3, 2))
    """
    local = [tuple(int(j) for j in hood) for hood in local]
    n = len(local)
    for i, hood in enumerate(local):
        if not hood or hood[0] != i or not all(0 <= j < n for j in hood):
            raise ValueError(f"neighbourhood of cell {i} must start with {i} and name cells 0..{n - 1}, got {hood}")
    trials = check_int("trials", trials, minimum=1)
    return Topology(tuple(tuple(t * n + j for j in hood) for t in range(trials) for hood in local), trials)
