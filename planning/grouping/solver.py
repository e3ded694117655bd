"""The numeric core of education grouping: members to cores, exactly, over plain numpy arrays.

Model (b-matching as a flow): source → member (cap 1) → core (one arc per allowed pair, cost =
distance in centimetres plus the pair's id tie offset, ``planning.ties``) → sink (cap = the
core's remaining places). Private members reach their
core through a side node whose capacity is the core's remaining private places, so the
"private schools only as a minority" rule stays a pure flow constraint.

Objective, lexicographic: first the most members placed, then the least total distance. With
``min_members`` ≤ 1 everywhere this is a max-flow-min-cost problem (OR-tools
``solve_max_flow_with_min_cost``, exact and integral). A lower bound per opened core ("0 or at
least m members") is not a flow constraint, so those instances go to an exact two-phase MILP
(HiGHS via ``scipy.optimize.milp``, zero gap): phase 1 maximises members placed, phase 2 fixes that
count and minimises distance.

``solve_networkx`` builds the same model for networkx ``network_simplex`` (a big-M bypass arc turns
the lexicographic objective into one cost); the benchmark and the tests compare it with OR-tools.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

SOURCE, SINK = 0, 1


@dataclass(frozen=True)
class GroupingProblem:
    """Arcs member → core that the rules allow, with the cores' remaining capacities.

    ``arc_member``/``arc_core`` index members 0..n_members-1 and cores 0..n_cores-1;
    ``arc_cost`` is an integer cost (the engine gives ``planning.ties.tied_cost``: centimetres
    with the pair's tie offset; any non-negative integers work). ``core_cap`` are places left after locked
    pairs, ``core_private_cap`` private places left, ``core_min`` the fewest members an opened
    core must take (≤ 1 means no bound), ``core_open`` marks cores already opened by locked pairs
    (their minimum is not enforced: the planner chose them).
    """

    n_members: int
    n_cores: int
    arc_member: np.ndarray
    arc_core: np.ndarray
    arc_cost: np.ndarray
    core_cap: np.ndarray
    member_private: np.ndarray | None = None
    core_private_cap: np.ndarray | None = None
    core_min: np.ndarray | None = None
    core_open: np.ndarray | None = None

    def __post_init__(self) -> None:
        n_arcs = len(self.arc_member)
        if len(self.arc_core) != n_arcs or len(self.arc_cost) != n_arcs:
            raise ValueError("arc arrays must have the same length")
        if len(self.core_cap) != self.n_cores:
            raise ValueError("core_cap must have one entry per core")
        if n_arcs and (self.arc_member.min() < 0 or self.arc_member.max() >= self.n_members):
            raise ValueError("arc_member out of range")
        if n_arcs and (self.arc_core.min() < 0 or self.arc_core.max() >= self.n_cores):
            raise ValueError("arc_core out of range")
        if n_arcs and self.arc_cost.min() < 0:
            raise ValueError("arc costs must be ≥ 0")

    @property
    def private(self) -> np.ndarray:
        if self.member_private is None:
            return np.zeros(self.n_members, bool)
        return np.asarray(self.member_private, bool)

    @property
    def private_cap(self) -> np.ndarray:
        if self.core_private_cap is None:
            return np.asarray(self.core_cap, np.int64)
        cap: np.ndarray = np.minimum(np.asarray(self.core_private_cap, np.int64), self.core_cap)
        return cap

    @property
    def mins(self) -> np.ndarray:
        if self.core_min is None:
            return np.zeros(self.n_cores, np.int64)
        m = np.asarray(self.core_min, np.int64).copy()
        if self.core_open is not None:
            m[np.asarray(self.core_open, bool)] = 0
        return m

    @property
    def needs_milp(self) -> bool:
        return bool((self.mins > 1).any())


@dataclass(frozen=True)
class Solution:
    """``assign[i]`` = core of member i or -1; ``arc_used`` marks chosen arcs."""

    assign: np.ndarray
    arc_used: np.ndarray
    placed: int
    cost: int
    seconds: float
    method: str
    opened: np.ndarray  # per core: True when it has at least one member in the solution

    @classmethod
    def from_arcs(
        cls, p: GroupingProblem, used: np.ndarray, seconds: float, method: str
    ) -> Solution:
        used = np.asarray(used, bool)
        assign = np.full(p.n_members, -1, np.int64)
        assign[p.arc_member[used]] = p.arc_core[used]
        opened = np.zeros(p.n_cores, bool)
        opened[p.arc_core[used]] = True
        return cls(
            assign=assign,
            arc_used=used,
            placed=int(used.sum()),
            cost=int(np.asarray(p.arc_cost, np.int64)[used].sum()),
            seconds=seconds,
            method=method,
            opened=opened,
        )


def solve(p: GroupingProblem) -> Solution:
    """The exact lexicographic optimum: OR-tools flow, or the MILP when a core minimum > 1."""
    if p.needs_milp:
        return solve_milp(p)
    return solve_flow(p)


def _private_nodes(p: GroupingProblem) -> dict[int, int]:
    """Side node for each core that private members reach (node ids after the core nodes)."""
    priv = p.private
    if not priv.any() or len(p.arc_member) == 0:
        return {}
    cores = np.unique(p.arc_core[priv[p.arc_member]])
    base = 2 + p.n_members + p.n_cores
    return {int(c): base + k for k, c in enumerate(cores)}


def _network(p: GroupingProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(tails, heads, caps, costs, n_nodes) of the flow model; the member → core arcs come first,
    in the problem's arc order, so their flows are the first ``len(arc_member)`` entries."""
    m0 = 2
    c0 = m0 + p.n_members
    side = _private_nodes(p)
    am = np.asarray(p.arc_member, np.int64)
    ac = np.asarray(p.arc_core, np.int64)
    heads_mc = c0 + ac
    priv_arc = p.private[am]
    if side:
        side_of = np.full(p.n_cores, -1, np.int64)
        side_of[list(side)] = list(side.values())
        heads_mc = np.where(priv_arc, side_of[ac], heads_mc)
    side_cores = np.fromiter(side.keys(), np.int64, len(side))
    side_nodes = np.fromiter(side.values(), np.int64, len(side))
    members = np.arange(p.n_members, dtype=np.int64)
    cores = np.arange(p.n_cores, dtype=np.int64)
    tails = np.concatenate([m0 + am, np.full(p.n_members, SOURCE), side_nodes, c0 + cores])
    heads = np.concatenate([heads_mc, m0 + members, c0 + side_cores, np.full(p.n_cores, SINK)])
    caps = np.concatenate(
        [
            np.ones(len(am), np.int64),
            np.ones(p.n_members, np.int64),
            p.private_cap[side_cores] if len(side_cores) else np.zeros(0, np.int64),
            np.asarray(p.core_cap, np.int64),
        ]
    )
    costs = np.concatenate(
        [np.asarray(p.arc_cost, np.int64), np.zeros(p.n_members + len(side) + p.n_cores, np.int64)]
    )
    n_nodes = c0 + p.n_cores + len(side)
    return tails.astype(np.int32), heads.astype(np.int32), caps, costs, n_nodes


def solve_flow(p: GroupingProblem) -> Solution:
    """Max flow at min cost with OR-tools; exact when no core has a minimum above 1."""
    t0 = time.perf_counter()
    n_arcs = len(p.arc_member)
    if n_arcs == 0 or p.n_members == 0:
        return Solution.from_arcs(
            p, np.zeros(n_arcs, bool), time.perf_counter() - t0, "ortools-flow"
        )
    tails, heads, caps, costs, _ = _network(p)
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    mcf.set_node_supply(SOURCE, p.n_members)
    mcf.set_node_supply(SINK, -p.n_members)
    status = mcf.solve_max_flow_with_min_cost()
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flows = mcf.flows(np.arange(n_arcs, dtype=np.int32))
    return Solution.from_arcs(p, flows > 0, time.perf_counter() - t0, "ortools-flow")


def solve_networkx(p: GroupingProblem) -> Solution:
    """The same model with networkx network_simplex; a bypass arc source → sink priced above any
    possible distance saving makes "most members first" part of a single cost."""
    # Only the tests and the benchmark use this reference: the app does not pay networkx's import.
    import networkx as nx

    t0 = time.perf_counter()
    n_arcs = len(p.arc_member)
    if n_arcs == 0 or p.n_members == 0:
        return Solution.from_arcs(p, np.zeros(n_arcs, bool), time.perf_counter() - t0, "networkx")
    tails, heads, caps, costs, n_nodes = _network(p)
    # One more member placed may reroute every other member: at most n × the largest arc cost.
    big = int(p.n_members) * (int(np.max(p.arc_cost)) + 1) + 1
    g = nx.DiGraph()
    g.add_nodes_from(range(n_nodes))
    g.nodes[SOURCE]["demand"] = -p.n_members
    g.nodes[SINK]["demand"] = p.n_members
    for t, h, cap, cost in zip(tails.tolist(), heads.tolist(), caps.tolist(), costs.tolist()):
        g.add_edge(t, h, capacity=cap, weight=cost)
    bypass = n_nodes  # a middle node keeps the graph simple (no parallel source → sink arcs)
    g.add_edge(SOURCE, bypass, capacity=p.n_members, weight=big)
    g.add_edge(bypass, SINK, capacity=p.n_members, weight=0)
    _, flow = nx.network_simplex(g)
    used = np.array(
        [flow[int(t)][int(h)] > 0 for t, h in zip(tails[:n_arcs], heads[:n_arcs])], dtype=bool
    )
    return Solution.from_arcs(p, used, time.perf_counter() - t0, "networkx")


def _milp_constraints(p: GroupingProblem, y_of: dict[int, int], n_var: int) -> LinearConstraint:
    """Each member at most once; per core m·y ≤ Σx ≤ cap·y (or Σx ≤ cap); private places."""
    n_arcs = len(p.arc_member)
    mins = p.mins
    arcs = np.arange(n_arcs)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    hi: list[float] = []
    # each member at most once
    rows += list(p.arc_member)
    cols += list(arcs)
    vals += [1.0] * n_arcs
    lo += [0.0] * p.n_members
    hi += [1.0] * p.n_members
    r = p.n_members

    def add_row(a: np.ndarray, low: float, high: float, y: tuple[int, float] | None = None) -> None:
        """low ≤ Σ x[a] (+ coef · y) ≤ high as the next row."""
        nonlocal r
        y_col, y_val = ([y[0]], [y[1]]) if y is not None else ([], [])
        rows.extend([r] * (len(a) + len(y_col)))
        cols.extend(list(a) + y_col)
        vals.extend([1.0] * len(a) + y_val)
        lo.append(low)
        hi.append(high)
        r += 1

    caps = np.asarray(p.core_cap, np.int64)
    pcap = p.private_cap
    priv_arc = p.private[p.arc_member]
    for c in range(p.n_cores):
        a_c = arcs[p.arc_core == c]
        if len(a_c) == 0:
            continue
        if c in y_of:
            # m·y ≤ Σx ≤ cap·y
            add_row(a_c, -np.inf, 0.0, (y_of[c], -float(caps[c])))
            add_row(a_c, 0.0, np.inf, (y_of[c], -float(mins[c])))
        else:
            add_row(a_c, 0.0, float(caps[c]))
        a_p = a_c[priv_arc[a_c]]
        if len(a_p) and pcap[c] < len(a_p):
            add_row(a_p, 0.0, float(pcap[c]))
    a_mat = coo_matrix((vals, (rows, cols)), shape=(r, n_var)).tocsr()
    return LinearConstraint(a_mat, lo, hi)


def solve_milp(p: GroupingProblem) -> Solution:
    """Exact two-phase MILP (HiGHS, zero gap) for cores that need 0 or ≥ m members."""
    t0 = time.perf_counter()
    n_arcs = len(p.arc_member)
    if n_arcs == 0 or p.n_members == 0:
        return Solution.from_arcs(p, np.zeros(n_arcs, bool), time.perf_counter() - t0, "milp")
    gated = np.flatnonzero(p.mins > 1)  # cores with an open/closed decision y_c
    n_var = n_arcs + len(gated)
    y_of = {int(c): n_arcs + k for k, c in enumerate(gated)}
    cons = [_milp_constraints(p, y_of, n_var)]
    integ = np.ones(n_var)
    bounds = Bounds(np.zeros(n_var), np.ones(n_var))
    opts = {"mip_rel_gap": 0.0}
    c1 = np.zeros(n_var)
    c1[:n_arcs] = -1.0
    res1 = milp(c1, constraints=cons, integrality=integ, bounds=bounds, options=opts)
    if res1.x is None:
        raise RuntimeError(f"grouping MILP phase 1 failed: {res1.message}")
    best = int(round(-res1.fun))
    count_row = LinearConstraint(np.r_[np.ones(n_arcs), np.zeros(len(gated))][None, :], best, best)
    c2 = np.zeros(n_var)
    c2[:n_arcs] = np.asarray(p.arc_cost, float)
    res2 = milp(c2, constraints=cons + [count_row], integrality=integ, bounds=bounds, options=opts)
    if res2.x is None:
        raise RuntimeError(f"grouping MILP phase 2 failed: {res2.message}")
    used = res2.x[:n_arcs] > 0.5
    return Solution.from_arcs(p, used, time.perf_counter() - t0, "milp")


def check_solution(p: GroupingProblem, s: Solution) -> list[str]:
    """Every constraint of the model on a solution; empty when it is feasible."""
    bad = []
    used = s.arc_used
    members = p.arc_member[used]
    if len(members) != len(np.unique(members)):
        bad.append("a member is in two groups")
    counts = np.bincount(p.arc_core[used], minlength=p.n_cores)
    if (counts > p.core_cap).any():
        bad.append("a core takes more members than its capacity")
    pc = np.bincount(p.arc_core[used & p.private[p.arc_member]], minlength=p.n_cores)
    if (pc > p.private_cap).any():
        bad.append("a core takes more private members than allowed")
    mins = p.mins
    if ((counts > 0) & (counts < mins)).any():
        bad.append("an opened core has fewer members than its minimum")
    return bad
