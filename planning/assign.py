"""Numeric core of catchments: assign demand units to schools, over plain numpy arrays.

Inputs are per unit an integer demand (pupils) and its candidate schools as (n, k) arrays of
distance km and school index (sorted, padded with inf / -1), per school an integer capacity.

- ``assign_nearest``: every unit to its nearest reachable school; capacity is not looked at.
- ``assign_capacity``: least total pupil-km so that no school takes more than its capacity.
  Pupils that cannot be placed within the candidates are *unserved*, never forced in: the solver
  finds the maximum flow (most pupils placed) and, among those, the least pupil-km.
  1. Min-cost flow (OR-tools SimpleMinCostFlow) on the k nearest schools of each unit; when pupils
     stay unserved while their unit had more schools beyond its k, k is doubled and the flow
     solved again (the sparse model is widened, never silently accepted as infeasible).
  2. Splitting allowed: the flow is the answer (integral, exact optimum of the sparse model).
  3. Whole units (the default): a generalised assignment problem, NP-hard (a full MILP with HiGHS
     did not finish in 60 s on 3,000 × 10). The flow optimum is its LP relaxation, and a basic
     flow solution splits only about one unit per full school. Iterative rounding: the split
     units are fixed whole (at the school that took most of them, else the nearest candidate
     with room), the flow is re-solved for the others, until none is split. The result never
     exceeds a capacity and is reported with its gap to the flow lower bound
     (``lower_bound_pupil_km``); it is a heuristic, not proven optimal for whole units.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from planning.progress import Progress, check_canceled

# Whole-unit models up to this many (unit, school) arcs are also solved exactly by MILP (HiGHS
# takes well under a second there; at 30,000 arcs it did not finish in 60 s).
_EXACT_MAX_ARCS = 1000
# Time limits of the MILPs (seconds): tight capacities make them bin-packing hard to *prove*;
# the best solution found by then is used (and is never worse than the flow-based one).
_EXACT_SECONDS = 1.0
_REPAIR_SECONDS = 1.0

# Candidate generator: k -> (dist_km (n, k), school index (n, k)), sorted, padded inf / -1.
Candidates = Callable[[int], tuple[np.ndarray, np.ndarray]]


@dataclass
class Assignment:
    """Result of an assignment for one level."""

    school: np.ndarray  # (n,) main school of each unit, -1 when none
    distance_km: np.ndarray  # (n,) distance to the main school, inf when none
    placed: np.ndarray  # (n,) pupils placed at some school
    flow_unit: np.ndarray  # every (unit, school, pupils) arc with pupils > 0
    flow_school: np.ndarray
    flow_pupils: np.ndarray
    flow_km: np.ndarray  # distance of each flow arc
    load: np.ndarray  # (m,) pupils per school
    pupil_km: float  # objective: Σ pupils × km of placed pupils
    lower_bound_pupil_km: float | None  # LP bound (whole units); None when exact or nearest
    k_used: int
    method: str
    solve_seconds: float
    notes: list[str]
    demand: np.ndarray  # (n,) pupils of each unit as solved

    @property
    def unserved(self) -> np.ndarray:
        return self.demand - self.placed


def _result(demand, fu, fs, fp, dist_of, m, **kw) -> Assignment:
    n = len(demand)
    placed = np.bincount(fu, fp, n) if len(fu) else np.zeros(n)
    load = np.bincount(fs, fp, m) if len(fs) else np.zeros(m)
    # Main school: the one taking most of the unit's pupils, ties by distance then index.
    school = np.full(n, -1, np.int64)
    distance = np.full(n, np.inf)
    if len(fu):
        order = np.lexsort((fs, dist_of, -fp, fu))
        first = np.concatenate([[True], fu[order][1:] != fu[order][:-1]])
        sel = order[first]
        school[fu[sel]] = fs[sel]
        distance[fu[sel]] = dist_of[sel]
    return Assignment(
        demand=np.asarray(demand, float),
        school=school,
        distance_km=distance,
        placed=placed,
        flow_unit=fu,
        flow_school=fs,
        flow_pupils=fp,
        flow_km=np.asarray(dist_of, float),
        load=load,
        pupil_km=float(np.dot(fp, dist_of)) if len(fp) else 0.0,
        **kw,
    )


def assign_nearest(
    demand: np.ndarray, cand_d: np.ndarray, cand_i: np.ndarray, m: int
) -> Assignment:
    """Each unit wholly to its nearest reachable school (column 0 of the candidates)."""
    t0 = time.perf_counter()
    demand = np.asarray(demand, float)
    ok = cand_i[:, 0] >= 0
    fu = np.flatnonzero(ok)
    fs = cand_i[ok, 0]
    fp = demand[ok]
    return _result(
        demand,
        fu,
        fs,
        fp,
        cand_d[ok, 0],
        m,
        lower_bound_pupil_km=None,
        k_used=1,
        method="nearest",
        solve_seconds=time.perf_counter() - t0,
        notes=[],
    )


def _solve_flow(demand, capacity, cand_d, cand_i):
    """Min-cost flow on the sparse model. Returns (unit, school, pupils, km) of used arcs."""
    from ortools.graph.python import min_cost_flow

    n, m = len(demand), len(capacity)
    ok = (cand_i >= 0) & np.isfinite(cand_d)
    ui, ci = np.nonzero(ok)
    si = cand_i[ui, ci]
    km = cand_d[ui, ci]
    metres = np.rint(km * 1000.0).astype(np.int64)
    sink = n + m
    smcf = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([ui, n + np.arange(m)]).astype(np.int64)
    heads = np.concatenate([n + si, np.full(m, sink)]).astype(np.int64)
    caps = np.concatenate([demand[ui], capacity]).astype(np.int64)
    costs = np.concatenate([metres, np.zeros(m, np.int64)])
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.concatenate([demand, np.zeros(m), [-demand.sum()]]).astype(np.int64)
    smcf.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int64), supplies)
    # Maximum flow first (place as many pupils as capacity allows), least pupil-metres among
    # those: pupils without a place stay at their unit, i.e. unserved, never forced in.
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flows = smcf.flows(arcs[: len(ui)])
    used = flows > 0
    return ui[used], si[used], flows[used].astype(float), km[used]


def assign_capacity(
    demand: np.ndarray,
    capacity: np.ndarray,
    candidates: Candidates,
    k: int,
    m: int,
    *,
    allow_split: bool = False,
    split_large: bool = False,
    progress: Progress | None = None,
) -> Assignment:
    """Least total pupil-km within capacity on the k nearest schools, widened when needed.

    ``demand`` and ``capacity`` are integer pupils/places (non-negative)."""
    t0 = time.perf_counter()
    demand = np.rint(np.asarray(demand, float)).clip(0).astype(np.int64)
    capacity = np.rint(np.asarray(capacity, float)).clip(0).astype(np.int64)
    notes: list[str] = []
    k = max(1, min(k, m)) if m else 1
    while True:
        k, cand_d, cand_i, (fu, fs, fp, fd) = _flow_widening(
            demand, capacity, candidates, k, m, notes, progress
        )
        lp_bound = float(np.dot(fp, fd))
        if allow_split:
            fu, fs, fp, fd = _zero_units(demand, cand_d, cand_i, fu, fs, fp, fd)
            return _result(
                demand, fu, fs, fp, fd, m,
                lower_bound_pupil_km=None, k_used=k, method="min-cost flow (split allowed)",
                solve_seconds=time.perf_counter() - t0, notes=notes,
            )  # fmt: skip
        fu, fs, fp, fd, rnotes = _repair_whole(
            demand, capacity, cand_d, cand_i, fu, fs, fp, fd, progress
        )
        notes += rnotes
        if np.count_nonzero(cand_i >= 0) <= _EXACT_MAX_ARCS:
            # Small model: the exact whole-unit MILP, kept when it places more pupils or as
            # many nearer (it does at least as well unless stopped by its time limit).
            pos = demand > 0
            s_, d_ = _milp_place(demand[pos], cand_d[pos], cand_i[pos], capacity, _EXACT_SECONDS)
            got = s_ >= 0
            e_fu, e_fs = np.flatnonzero(pos)[got], s_[got]
            e_fp, e_fd = demand[e_fu].astype(float), d_[got]
            if (e_fp.sum(), -np.dot(e_fp, e_fd)) > (fp.sum(), -np.dot(fp, fd)):
                fu, fs, fp, fd = e_fu, e_fs, e_fp, e_fd
                notes.append("small model: exact whole-unit MILP used")
        # A whole unit left out while a school beyond its k has room for it: widen and redo.
        room = capacity - np.bincount(fs, fp, m)
        out = np.flatnonzero((np.bincount(fu, fp, len(demand)) == 0) & (demand > 0))
        out = out[cand_i[out, -1] >= 0]
        if k >= m or not len(out) or room.max(initial=0) < demand[out].min():
            break
        k = min(2 * k, m)
        notes.append(f"widened to the {k} nearest schools: a whole unit found no place")
    if split_large:
        fu, fs, fp, fd, snotes = _split_leftovers(demand, capacity, cand_d, cand_i, fu, fs, fp, fd)
        notes += snotes
    fu, fs, fp, fd = _zero_units(demand, cand_d, cand_i, fu, fs, fp, fd)
    return _result(
        demand, fu, fs, fp, fd, m,
        lower_bound_pupil_km=lp_bound, k_used=k,
        method="min-cost flow + MILP repair + ejection (whole units)",
        solve_seconds=time.perf_counter() - t0, notes=notes,
    )  # fmt: skip


def _flow_widening(demand, capacity, candidates, k, m, notes, progress):
    """Min-cost flow on the k nearest, k doubled while pupils stay short and a unit left short
    had every one of its k slots filled (a school beyond them might have room)."""
    while True:
        check_canceled(progress)
        cand_d, cand_i = candidates(k)
        flows = _solve_flow(demand, capacity, cand_d, cand_i)
        placed = np.bincount(flows[0], flows[2], len(demand))
        more = (placed < demand) & (cand_i[:, -1] >= 0)
        if not more.any() or k >= m:
            return k, cand_d, cand_i, flows
        k = min(2 * k, m)
        notes.append(f"widened to the {k} nearest schools: pupils were left without a place")


def _repair_whole(demand, capacity, cand_d, cand_i, fu, fs, fp, fd, progress=None):
    """Keep the units the flow left whole; place the split or short ones whole by a small MILP
    over the room they leave; then try ejection moves for any unit still without a place."""
    n, m = len(demand), len(capacity)
    arcs_per_unit = np.bincount(fu, minlength=n)
    placed = np.bincount(fu, fp, n)
    whole = (arcs_per_unit == 1) & (placed == demand)
    school = np.full(n, -1, np.int64)
    dist = np.full(n, np.inf)
    keep = whole[fu]
    school[fu[keep]] = fs[keep]
    dist[fu[keep]] = fd[keep]
    todo = np.flatnonzero(~whole & (demand > 0))
    notes: list[str] = []
    if len(todo):
        check_canceled(progress)
        room = capacity - np.bincount(school[school >= 0], demand[school >= 0], m).astype(np.int64)
        s_, d_ = _milp_place(demand[todo], cand_d[todo], cand_i[todo], room)
        school[todo], dist[todo] = s_, d_
        notes.append(f"{len(todo)} units split by the flow were placed whole by a MILP")
        short = np.flatnonzero((school < 0) & (demand > 0) & (cand_i[:, 0] >= 0))
        if len(short):
            moved = _eject(demand, capacity, cand_d, cand_i, school, dist, short)
            if moved:
                notes.append(f"{moved} units without a place were placed by moving others")
    got = np.flatnonzero(school >= 0)
    return got, school[got], demand[got].astype(float), dist[got], notes


def _milp_place(w, cd, ci, room, seconds=_REPAIR_SECONDS):
    """Place units (demand w, candidates cd/ci) whole into schools with ``room``; most pupils
    placed first, then least pupil-km. Returns (school, km) per unit, -1 / inf when unplaced."""
    w = w.astype(float)
    t = len(w)
    ok = (ci >= 0) & np.isfinite(cd) & (w[:, None] <= room[np.maximum(ci, 0)])
    r, c = np.nonzero(ok)
    schools = ci[r, c]
    nv = len(r) + t  # one variable per (unit, school) and one "unplaced" per unit
    dmax = float(cd[ok].max()) if ok.any() else 1.0
    # Leaving a pupil unplaced costs more than any re-arrangement of the others saves.
    penalty = (dmax + 1.0) * (t + 1)
    cost = np.concatenate([w[r] * cd[r, c], w * penalty])
    a_one = sparse.csr_matrix(
        (np.ones(nv), (np.concatenate([r, np.arange(t)]), np.arange(nv))), shape=(t, nv)
    )
    rows, inv = np.unique(schools, return_inverse=True)
    a_cap = sparse.csr_matrix((w[r], (inv, np.arange(len(r)))), shape=(len(rows), nv))
    res = milp(
        cost,
        integrality=np.ones(nv),
        bounds=Bounds(0, 1),
        constraints=[
            LinearConstraint(a_one, 1, 1),
            LinearConstraint(a_cap, -np.inf, room[rows].astype(float)),
        ],
        options={"time_limit": seconds},
    )
    out_s = np.full(t, -1, np.int64)
    out_d = np.full(t, np.inf)
    if res.x is None:
        return out_s, out_d
    x = np.flatnonzero(res.x[: len(r)] > 0.5)
    out_s[r[x]] = schools[x]
    out_d[r[x]] = cd[r[x], c[x]]
    return out_s, out_d


def _eject(demand, capacity, cand_d, cand_i, school, dist, short) -> int:
    """For each unit without a place (largest first): at one of its schools, nearest first, make
    room by moving units already there to another of their candidates that has room, cheapest
    extra distance per pupil first. Changes ``school``/``dist`` in place; returns units placed."""
    m = len(capacity)
    assigned = school >= 0
    room = capacity - np.bincount(school[assigned], demand[assigned], m).astype(np.int64)
    members: dict[int, list[int]] = {}
    for u in np.flatnonzero(assigned):
        members.setdefault(int(school[u]), []).append(int(u))
    placed = 0
    for u in short[np.lexsort((short, -demand[short]))]:
        for j in range(cand_i.shape[1]):
            s = int(cand_i[u, j])
            if s < 0:
                break
            need = demand[u] - room[s]
            if need <= 0:
                plan = []
            else:
                options = []
                for v in members.get(s, []):
                    if v == u or demand[v] == 0:
                        continue
                    for jj in range(cand_i.shape[1]):
                        t = int(cand_i[v, jj])
                        if t >= 0 and t != s and room[t] >= demand[v]:
                            extra = (cand_d[v, jj] - dist[v]) / demand[v]
                            options.append((extra, v, t, cand_d[v, jj]))
                            break
                options.sort()
                plan, freed, used = [], 0, {}
                for _extra, v, t, dv in options:
                    if room[t] - used.get(t, 0) < demand[v]:
                        continue
                    plan.append((v, t, dv))
                    used[t] = used.get(t, 0) + demand[v]
                    freed += demand[v]
                    if freed >= need:
                        break
                if freed < need:
                    continue
            for v, t, dv in plan:
                members[s].remove(v)
                members.setdefault(t, []).append(v)
                room[t] -= demand[v]
                room[s] += demand[v]
                school[v], dist[v] = t, dv
            school[u], dist[u] = s, cand_d[u, j]
            room[s] -= demand[u]
            members.setdefault(s, []).append(int(u))
            placed += 1
            break
    return placed


def _split_leftovers(demand, capacity, cand_d, cand_i, fu, fs, fp, fd):
    """Units no school could take whole are shared among schools with room (a flow on the room
    left), e.g. a town community with more pupils than any one school has places."""
    n, m = len(demand), len(capacity)
    placed = np.bincount(fu, fp, n)
    left = np.where(placed == 0, demand, 0)
    if not left.any():
        return fu, fs, fp, fd, []
    room = capacity - np.bincount(fs, fp, m).astype(np.int64)
    u2, s2, p2, d2 = _solve_flow(left, np.maximum(room, 0), cand_d, cand_i)
    n_split = len(np.unique(u2))
    note = [f"{n_split} units no single school could take whole were shared among schools"]
    return (
        np.concatenate([fu, u2]),
        np.concatenate([fs, s2]),
        np.concatenate([fp, p2]),
        np.concatenate([fd, d2]),
        note if n_split else [],
    )


def _zero_units(demand, cand_d, cand_i, fu, fs, fp, fd):
    """Units without pupils take no place but still belong to a zone: their nearest school."""
    z = np.flatnonzero((demand == 0) & (cand_i[:, 0] >= 0))
    return (
        np.concatenate([fu, z]),
        np.concatenate([fs, cand_i[z, 0]]),
        np.concatenate([fp, np.zeros(len(z))]),
        np.concatenate([fd, cand_d[z, 0]]),
    )
