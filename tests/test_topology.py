"""Neighbourhoods of rings and tori, hand-checked at the edges."""

import pytest

from deap_nnprune.algorithms import make_topology, ring, torus


def test_ring_radius_one_wraps_at_both_ends():
    hoods = ring(10, 1)
    assert set(hoods[0]) == {9, 0, 1} and hoods[0][0] == 0
    assert set(hoods[9]) == {8, 9, 0}
    assert all(len(h) == 3 for h in hoods)


def test_ring_radius_two():
    assert set(ring(10, 2)[1]) == {9, 0, 1, 2, 3}


def test_ring_radius_zero_is_alone():
    assert ring(4, 0) == [(0,), (1,), (2,), (3,)]


def test_torus_moore_corner():
    hoods = torus(3, 4, 1, "moore")
    # cell 0 is (row 0, col 0); neighbours wrap to row 2 and col 3
    assert set(hoods[0]) == {0, 1, 3, 4, 5, 7, 8, 9, 11}
    assert len(hoods[0]) == 9


def test_torus_von_neumann_corner():
    assert set(torus(3, 4, 1, "von_neumann")[11]) == {11, 7, 3, 10, 8}


def test_disjoint_trials_never_share_cells():
    topology = make_topology("ring", 12, radius=1, trials=3)
    for cell, hood in enumerate(topology.neighbourhoods):
        assert {topology.trial_of(c) for c in hood} == {topology.trial_of(cell)}
    assert set(topology.neighbourhoods[4]) == {4, 5, 7}


def test_torus_shape_must_match_cells():
    with pytest.raises(ValueError, match="3x3"):
        make_topology("torus", 12, shape=(3, 3))


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: ring(4, 2), r"radius=2.*4"),
        (lambda: ring(4, -1), r"radius.*-1"),
        (lambda: torus(2, 5, 1), r"radius=1"),
        (lambda: make_topology("hexagon", 4), r"topology.*hexagon"),
        (lambda: torus(3, 3, 1, "hex"), r"neighbourhood.*hex"),
        (lambda: make_topology("ring", 10, trials=3), r"trials=3"),
    ],
)
def test_bad_topologies_are_refused(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
