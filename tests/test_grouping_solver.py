"""The numeric grouping core against brute force and against independent solvers."""

from __future__ import annotations

import ast
import inspect
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.grouping import solver
from planning.grouping.solver import (
    GroupingProblem,
    check_solution,
    solve,
    solve_flow,
    solve_milp,
    solve_networkx,
)


def brute_force(p: GroupingProblem) -> tuple[int, int]:
    """(most placed, least cost among those) by trying every assignment."""
    options = [[-1] for _ in range(p.n_members)]
    for a in range(len(p.arc_member)):
        options[int(p.arc_member[a])].append(a)
    caps = np.asarray(p.core_cap)
    pcaps = p.private_cap
    priv = p.private
    mins = p.mins
    best = (0, 0)
    for combo in itertools.product(*options):
        used = [a for a in combo if a >= 0]
        count = np.zeros(p.n_cores, int)
        pcount = np.zeros(p.n_cores, int)
        for a in used:
            c = int(p.arc_core[a])
            count[c] += 1
            pcount[c] += int(priv[p.arc_member[a]])
        if (count > caps).any() or (pcount > pcaps).any():
            continue
        if ((count > 0) & (count < mins)).any():
            continue
        cost = int(sum(int(p.arc_cost[a]) for a in used))
        key = (len(used), -cost)
        if key > (best[0], -best[1]):
            best = (len(used), cost)
    return best


@st.composite
def problems(draw, max_members=6, max_cores=3, with_min=True):
    m = draw(st.integers(0, max_members))
    c = draw(st.integers(1, max_cores))
    mask = draw(st.lists(st.booleans(), min_size=m * c, max_size=m * c))
    mask = np.array(mask, bool).reshape(m, c) if m else np.zeros((0, c), bool)
    am, ac = np.nonzero(mask)
    # Small integer costs make ties frequent, the hard case for tie handling.
    cost = np.array(draw(st.lists(st.integers(0, 9), min_size=len(am), max_size=len(am))), np.int64)
    cap = np.array(draw(st.lists(st.integers(0, 3), min_size=c, max_size=c)), np.int64)
    priv = np.array(draw(st.lists(st.booleans(), min_size=m, max_size=m)), bool)
    pcap = np.array(draw(st.lists(st.integers(0, 2), min_size=c, max_size=c)), np.int64)
    mins = (
        np.array(draw(st.lists(st.integers(0, 3), min_size=c, max_size=c)), np.int64)
        if with_min
        else None
    )
    opened = np.array(draw(st.lists(st.booleans(), min_size=c, max_size=c)), bool)
    return GroupingProblem(
        n_members=m,
        n_cores=c,
        arc_member=am.astype(np.int64),
        arc_core=ac.astype(np.int64),
        arc_cost=cost,
        core_cap=cap,
        member_private=priv,
        core_private_cap=pcap,
        core_min=mins,
        core_open=opened if with_min else None,
    )


@settings(max_examples=150, deadline=None)
@given(problems())
def test_solve_equals_brute_force(p):
    s = solve(p)
    assert check_solution(p, s) == []
    assert (s.placed, s.cost) == brute_force(p)


@settings(max_examples=80, deadline=None)
@given(problems(max_members=40, max_cores=8, with_min=False))
def test_flow_networkx_and_milp_agree(p):
    a, b, c = solve_flow(p), solve_networkx(p), solve_milp(p)
    for s in (a, b, c):
        assert check_solution(p, s) == []
    assert (a.placed, a.cost) == (b.placed, b.cost) == (c.placed, c.cost)


def test_assignment_is_consistent_with_arcs():
    p = GroupingProblem(
        n_members=3,
        n_cores=2,
        arc_member=np.array([0, 0, 1, 2]),
        arc_core=np.array([0, 1, 0, 1]),
        arc_cost=np.array([5, 1, 3, 2]),
        core_cap=np.array([1, 1]),
    )
    s = solve_flow(p)
    # Member 0 must yield core 1 to member 2 or core 0 to member 1: placing all three is impossible
    # with one place per core, so 2 placed; cheapest pair is (1→0: 3, 0→1: 1) = 4 vs (0→0,2→1) = 7.
    assert s.placed == 2
    assert s.cost == 4
    assert list(s.assign) == [1, 0, -1]
    assert s.opened.tolist() == [True, True]


def test_minimum_members_changes_the_optimum():
    # Two cores, three members. Without a minimum the nearest split is 2 + 1; with min 2 only one
    # core can open, capacity 3, so all three go to the core that costs least in total.
    p = dict(
        n_members=3,
        n_cores=2,
        arc_member=np.array([0, 0, 1, 1, 2, 2]),
        arc_core=np.array([0, 1, 0, 1, 0, 1]),
        arc_cost=np.array([1, 9, 1, 9, 8, 2]),
        core_cap=np.array([3, 3]),
    )
    free = solve(GroupingProblem(**p))
    assert free.method == "ortools-flow"
    assert (free.placed, free.cost) == (3, 4)
    gated = solve(GroupingProblem(**p, core_min=np.array([2, 2])))
    assert gated.method == "milp"
    assert (gated.placed, gated.cost) == (3, 10)
    assert gated.opened.tolist() == [True, False]


def test_private_side_capacity():
    p = GroupingProblem(
        n_members=3,
        n_cores=1,
        arc_member=np.array([0, 1, 2]),
        arc_core=np.array([0, 0, 0]),
        arc_cost=np.array([1, 2, 3]),
        core_cap=np.array([3]),
        member_private=np.array([True, True, False]),
        core_private_cap=np.array([1]),
    )
    for s in (solve_flow(p), solve_networkx(p), solve_milp(p)):
        assert s.placed == 2
        assert s.cost == 4
        assert s.assign.tolist() == [0, -1, 0]


def test_empty_problems():
    p = GroupingProblem(
        n_members=2,
        n_cores=1,
        arc_member=np.zeros(0, np.int64),
        arc_core=np.zeros(0, np.int64),
        arc_cost=np.zeros(0, np.int64),
        core_cap=np.array([3]),
    )
    for fn in (solve_flow, solve_networkx, solve_milp):
        s = fn(p)
        assert s.placed == 0 and s.assign.tolist() == [-1, -1]


def test_bad_problem_is_refused():
    with pytest.raises(ValueError):
        GroupingProblem(
            n_members=1,
            n_cores=1,
            arc_member=np.array([1]),
            arc_core=np.array([0]),
            arc_cost=np.array([1]),
            core_cap=np.array([1]),
        )


def test_solver_is_arrays_only():
    """The solve part reads and writes numpy arrays: no frames, no geometry, no words."""
    tree = ast.parse(inspect.getsource(solver))
    names = {
        a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    names |= {
        (n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
    }
    assert not names & {"pandas", "geopandas", "shapely", "core", "geo", "planning"}
