"""planning.newschools.pmedian: swap-local optimality, exact on small cases, determinism, edge cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.newschools.pmedian import objective, solve_pmedian


def brute_force(cost, w, p):
    return min(objective(cost, w, c) for c in itertools.combinations(range(cost.shape[1]), p))


def test_hand_example():
    # Two clusters of demand; sites 0 and 3 sit in them, 1 and 2 in between.
    cost = np.array(
        [
            [0.0, 4.0, 6.0, 10.0],
            [1.0, 3.0, 5.0, 9.0],
            [10.0, 6.0, 4.0, 0.0],
            [9.0, 5.0, 3.0, 1.0],
        ]
    )
    w = np.array([1.0, 1.0, 1.0, 1.0])
    sol = solve_pmedian(cost, w, 2)
    assert sol.open.tolist() == [0, 3]
    assert sol.objective == pytest.approx(2.0)
    assert sol.assign.tolist() == [0, 0, 3, 3]
    one = solve_pmedian(cost, w, 1)
    assert one.objective == pytest.approx(brute_force(cost, w, 1))


def test_weights_move_the_median():
    cost = np.abs(np.subtract.outer(np.arange(5.0), np.arange(5.0)))
    assert solve_pmedian(cost, np.array([1, 1, 1, 1, 1.0]), 1).open.tolist() == [2]
    assert solve_pmedian(cost, np.array([10, 1, 1, 1, 1.0]), 1).open.tolist() == [0]


def test_edge_cases():
    cost = np.array([[1.0, 2.0], [2.0, 1.0]])
    w = np.ones(2)
    assert solve_pmedian(cost, w, 0).open.size == 0
    assert solve_pmedian(cost, w, 5).open.tolist() == [0, 1]
    assert solve_pmedian(np.zeros((0, 3)), np.zeros(0), 2).open.size == 2
    with pytest.raises(ValueError):
        solve_pmedian(cost, np.array([1.0, -1.0]), 1)
    # Unreachable pairs: the site that reaches everyone wins.
    cost = np.array([[1.0, np.inf], [np.inf, 1.0], [5.0, 5.0]]).T.copy()
    sol = solve_pmedian(cost, np.ones(2), 1)
    assert sol.open.tolist() == [2] and np.isfinite(sol.objective)


def test_ties_are_broken_by_lowest_index():
    cost = np.ones((3, 4))
    assert solve_pmedian(cost, np.ones(3), 2).open.tolist() == [0, 1]


def test_caller_matrix_not_modified():
    cost = np.array([[1.0, np.inf], [2.0, 3.0]])
    before = cost.copy()
    solve_pmedian(cost, np.ones(2), 1)
    np.testing.assert_array_equal(cost, before)


@settings(max_examples=120, deadline=None)
@given(
    n=st.integers(1, 9),
    m=st.integers(1, 7),
    p_frac=st.floats(0.01, 1.0),
    seed=st.integers(0, 100_000),
    with_inf=st.booleans(),
)
def test_swap_local_optimum_and_consistent_objective(n, m, p_frac, seed, with_inf):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 10, (n, m)).round(2)
    if with_inf:
        cost[rng.random((n, m)) < 0.2] = np.inf
    w = rng.uniform(0, 5, n).round(2)
    p = max(1, int(round(p_frac * m)))
    sol = solve_pmedian(cost, w, p)
    assert sol.open.size == min(p, m) and len(set(sol.open.tolist())) == sol.open.size
    assert sol.objective == pytest.approx(objective(cost, w, sol.open))
    if not np.isfinite(sol.objective):
        return
    assert sol.objective <= sol.greedy_objective + 1e-9
    open_ = sol.open.tolist()
    for r in open_:
        for c in range(m):
            if c not in open_:
                alt = [x for x in open_ if x != r] + [c]
                assert objective(cost, w, alt) >= sol.objective - 1e-9 * max(1, sol.objective)


def test_close_to_optimal_on_random_small_instances():
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(40):
        xy, sxy = rng.uniform(0, 10, (25, 2)), rng.uniform(0, 10, (10, 2))
        cost = np.linalg.norm(xy[:, None] - sxy[None], axis=2)
        w = rng.uniform(1, 10, 25)
        best = brute_force(cost, w, 3)
        worst = max(worst, solve_pmedian(cost, w, 3).objective / best - 1)
    assert worst < 0.02
