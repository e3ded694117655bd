"""The capacity flow (``planning.catchments.assign.solve_flow``) against networkx network_simplex on the same
model: same pupils placed, same pupil-metres, within every capacity, only along candidate arcs."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.catchments.assign import solve_flow


def reference(demand, capacity, cand_d, cand_i):
    """Most pupils placed, then least integer pupil-metres: networkx network_simplex with an
    overflow arc per unit whose cost outweighs any chain of moves (lexicographic, exact)."""
    n, m = len(demand), len(capacity)
    metres = np.where(cand_i >= 0, np.rint(np.where(np.isfinite(cand_d), cand_d, 0) * 1000), 0)
    big = int((min(n, m) + 2) * (metres.max(initial=0) + 1))
    g = nx.DiGraph()
    g.add_node("over")
    g.add_node("sink", demand=int(demand.sum()))
    for i in range(n):
        g.add_node(("u", i), demand=-int(demand[i]))
        g.add_edge(("u", i), "over", weight=big, capacity=int(demand[i]))
        for j in range(cand_i.shape[1]):
            if cand_i[i, j] >= 0 and np.isfinite(cand_d[i, j]):
                g.add_edge(("u", i), ("s", int(cand_i[i, j])), weight=int(metres[i, j]),
                           capacity=int(demand[i]))  # fmt: skip
    for s in range(m):
        g.add_edge(("s", s), "sink", weight=0, capacity=int(capacity[s]))
    g.add_edge("over", "sink", weight=0)
    _, flow = nx.network_simplex(g)
    placed = sum(flow[("s", s)]["sink"] for s in range(m) if ("s", s) in flow)
    cost = sum(
        f * g.edges[u, v]["weight"]
        for u, out in flow.items()
        if isinstance(u, tuple)
        for v, f in out.items()
        if isinstance(v, tuple)
    )
    return placed, cost


@st.composite
def instances(draw):
    n = draw(st.integers(1, 12))
    m = draw(st.integers(1, 5))
    k = draw(st.integers(1, m))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # Some units have no pupils; capacities range from none to plenty (over-demand included).
    demand = rng.integers(0, 60, n) * (rng.random(n) < 0.8)
    capacity = rng.integers(0, draw(st.sampled_from([20, 80, 400])), m)
    d = np.round(rng.uniform(0.1, 15.0, (n, m)), draw(st.sampled_from([1, 3, 6])))
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    cand_i = order.astype(np.int64)
    cand_d = np.take_along_axis(d, order, axis=1)
    # Fewer reachable schools for some units (padding at the end, as the generators give).
    reach = rng.integers(0, k + 1, n) if draw(st.booleans()) else np.full(n, k)
    pad = np.arange(k)[None, :] >= reach[:, None]
    cand_i[pad] = -1
    cand_d[pad] = np.inf
    return demand.astype(np.int64), capacity.astype(np.int64), cand_d, cand_i


def check(demand, capacity, cand_d, cand_i):
    fu, fs, fp, fd = solve_flow(demand, capacity, cand_d, cand_i)
    n, m = len(demand), len(capacity)
    assert np.all(fp > 0)
    assert np.all(np.bincount(fu, fp, n) <= demand)
    assert np.all(np.bincount(fs, fp, m) <= capacity)
    # Every arc is one of the unit's candidates, at that candidate's distance.
    hit = cand_i[fu] == fs[:, None]
    assert hit.any(axis=1).all()
    assert np.array_equal(fd, cand_d[fu, hit.argmax(axis=1)])
    placed, cost = reference(demand, capacity, cand_d, cand_i)
    assert fp.sum() == placed
    assert int(np.dot(fp, np.rint(fd * 1000))) == cost
    again = solve_flow(demand, capacity, cand_d, cand_i)
    for a, b in zip((fu, fs, fp, fd), again):
        assert np.array_equal(a, b)


@settings(max_examples=150, deadline=None)
@given(instances())
def test_flow_matches_networkx_simplex(inst):
    check(*inst)


def test_everyone_fits_at_the_nearest_school():
    rng = np.random.default_rng(1)
    d = np.sort(rng.uniform(0.5, 9.0, (30, 4)), axis=1)
    ci = np.tile(np.arange(4), (30, 1))
    demand = rng.integers(0, 50, 30)
    cap = np.full(4, demand.sum())  # room for all at any school
    fu, fs, fp, fd = solve_flow(demand, cap, d, ci)
    assert np.array_equal(fu, np.flatnonzero(demand > 0))
    assert np.all(fs == 0) and np.array_equal(fd, d[demand > 0, 0])
    check(demand, cap, d, ci)


def test_nothing_to_place():
    d = np.array([[1.0, 2.0], [np.inf, np.inf]])
    ci = np.array([[0, 1], [-1, -1]])
    fu, fs, fp, fd = solve_flow(np.array([0, 5]), np.array([3, 3]), d, ci)
    assert len(fu) == len(fs) == len(fp) == len(fd) == 0


def test_over_demand_places_the_most_pupils_then_the_nearest():
    # Two units share one school of 10 places; the near unit wins, the rest stays unserved.
    d = np.array([[1.0], [2.0]])
    ci = np.array([[0], [0]])
    fu, fs, fp, fd = solve_flow(np.array([8, 8]), np.array([10]), d, ci)
    assert fp.sum() == 10
    assert dict(zip(fu.tolist(), fp.tolist())) == {0: 8.0, 1: 2.0}
