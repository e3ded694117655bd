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
     flow solution splits only about one unit per full school. The split units are rounded to
     one school, units left without a place eject others, and a local search (shift, swap,
     ejection chain) improves the result, then a large-neighbourhood search re-packs a few
     neighbouring schools at a time exactly (``assign_whole``, ``assign_lns``;
     work bounded by counts, not time). It never exceeds a capacity and is reported with its gap
     to the flow lower bound (``lower_bound_pupil_km``); not proven optimal for whole units. (An exact MILP was tried on small models:
     HiGHS needed up to 11 s on 20 units × 10 schools even under a 200-node limit, for a
     0.2–2.5 % better objective; ``assign_whole.milp_place`` stays as a reference for tests.)
  Every step is deterministic: no wall-clock limit decides a result. With ``keys`` (the ids)
  ties are broken by a fixed offset per (unit, school) below ``TIE_KM``, so the answer does
  not follow centimetre noise of the coordinates or the order of the rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from core.progress import Progress, check_canceled
from planning.catchments.assign_whole import (
    CPSAT_MAX_ARCS,
    cpsat_polish,
    eject,
    improve,
    round_whole,
)
from planning.ties import TIE_KM, cost_units, tie_offsets

# Candidate generator: k -> (dist_km (n, k), school index (n, k)), sorted, padded inf / -1.
Candidates = Callable[[int], tuple[np.ndarray, np.ndarray]]


class Arcs(NamedTuple):
    """Used (unit, school) arcs of an assignment: pupils on each and its distance in km."""

    unit: np.ndarray
    school: np.ndarray
    pupils: np.ndarray
    km: np.ndarray


@dataclass(frozen=True)
class Sparse:
    """A capacity model on candidate lists: integer pupils per unit and places per school, each
    unit's candidate schools (n, k) by distance km (sorted, padded inf / -1)."""

    demand: np.ndarray
    capacity: np.ndarray
    cand_d: np.ndarray
    cand_i: np.ndarray


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
        short: np.ndarray = self.demand - self.placed
        return short


def _result(demand: np.ndarray, arcs: Arcs, m: int, **kw: Any) -> Assignment:
    fu, fs, fp, dist_of = arcs
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
    return _result(
        demand,
        Arcs(np.flatnonzero(ok), cand_i[ok, 0], demand[ok], cand_d[ok, 0]),
        m,
        lower_bound_pupil_km=None,
        k_used=1,
        method="nearest",
        solve_seconds=time.perf_counter() - t0,
        notes=[],
    )


def solve_flow(
    demand: np.ndarray, capacity: np.ndarray, cand_d: np.ndarray, cand_i: np.ndarray
) -> Arcs:
    """Min-cost flow on the sparse model. Returns the used arcs.

    Most pupils placed first, then least pupil-centimetres (``cost_units``). Exact and deterministic (same input, same arcs)."""
    # Loaded when a model needs it, as every engine does: ortools loaded before highspy (the
    # bench's peers) clashes.
    from ortools.graph.python import min_cost_flow

    n, m = len(demand), len(capacity)
    ok = (cand_i >= 0) & np.isfinite(cand_d)
    ui, ci = np.nonzero(ok)
    si = cand_i[ui, ci]
    km = cand_d[ui, ci]
    shortcut = _all_fit_nearest(demand, capacity, cand_d, cand_i, ok)
    if shortcut is not None:
        return shortcut
    cost = cost_units(km)
    sink = n + m
    smcf = min_cost_flow.SimpleMinCostFlow()
    tails = np.concatenate([ui, n + np.arange(m)]).astype(np.int64)
    heads = np.concatenate([n + si, np.full(m, sink)]).astype(np.int64)
    caps = np.concatenate([demand[ui], capacity]).astype(np.int64)
    costs = np.concatenate([cost, np.zeros(m, np.int64)])
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.concatenate([demand, np.zeros(m), [-demand.sum()]]).astype(np.int64)
    smcf.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int64), supplies)
    # Maximum flow first (place as many pupils as capacity allows), least pupil-centimetres among
    # those: pupils without a place stay at their unit, i.e. unserved, never forced in.
    # The model is laid out exactly as before (units, schools, sink in index order): among
    # equally good flows OR-tools' pick depends on the layout, and the whole-unit rounding
    # downstream starts from that pick. Other layouts (schools as demand nodes, units grouped
    # by nearest school, hub nodes, offsets per unit, reversed arcs) were measured: none was
    # reliably faster on the 3,000 × 300 county (callgrind −7 % to +13 % instructions, the
    # best ones only with a 4 ms reordering not counted), and each changes the picked flow.
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    flows = smcf.flows(arcs[: len(ui)])
    used = flows > 0
    return Arcs(ui[used], si[used], flows[used].astype(float), km[used])


def _all_fit_nearest(
    demand: np.ndarray, capacity: np.ndarray, cand_d: np.ndarray, cand_i: np.ndarray, ok: np.ndarray
) -> Arcs | None:
    """When every unit fits wholly at its nearest school, that assignment is the flow optimum
    (each pupil at its least distance, every reachable pupil placed): no solver needed.
    Returns the arcs, or None when some school is over capacity this way."""
    has = ok[:, 0] & (np.asarray(demand) > 0)
    if (ok.any(axis=1) & (np.asarray(demand) > 0) & ~ok[:, 0]).any():
        return None  # a unit whose first candidate is padding: not the sorted layout
    first = np.flatnonzero(has)
    near = cand_i[first, 0]
    if np.any(np.bincount(near, demand[first], len(capacity)) > capacity):
        return None
    return Arcs(first, near, np.asarray(demand, float)[first], cand_d[first, 0].astype(float))


def assign_capacity(
    demand: np.ndarray,
    capacity: np.ndarray,
    candidates: Candidates,
    k: int,
    m: int,
    *,
    allow_split: bool = False,
    split_large: bool = False,
    keys: tuple[np.ndarray, np.ndarray] | None = None,
    keep: tuple[np.ndarray, float] | None = None,
    widen_km: float = np.inf,
    progress: Progress | None = None,
) -> Assignment:
    """Least total pupil-km within capacity on the k nearest schools, widened when needed.

    ``demand`` and ``capacity`` are integer pupils/places (non-negative). ``keys``: a key per
    unit and per school (``planning.ties.id_keys`` of their ids): ties are then broken by the
    ids (``planning.ties.TIE_KM``), not by sub-centimetre noise of the distances. ``keep``:
    (each unit's current school index or -1, km): minimal-change re-zoning, every other
    school of a unit with a current one costs that much more per pupil, so a unit moves only
    when it must (capacity, closure) or the move saves more than that; distances reported are
    the true ones, the lower bound stays that of the true distances (flow without ``keep``
    is not solved again: the bound then is the flow's true pupil-km minus the discounts).
    ``widen_km``: the lists are widened only for units left short whose k-th school is still
    within this distance (memory stays units × k, not units × schools, on a province)."""
    if keep is None:
        return _assign_capacity(
            demand, capacity, candidates, k, m, allow_split=allow_split, split_large=split_large,
            keys=keys, widen_km=widen_km, progress=progress,
        )  # fmt: skip
    # Re-zoning: the answer from the baseline and the fresh plan are both heuristic; the one
    # with the lower re-zoning cost is kept (most pupils placed, then pupil-km plus keep_km per
    # moved pupil), so a baseline never makes a plan move more than the fresh plan would.
    answers = [
        _assign_capacity(
            demand,
            capacity,
            candidates,
            k,
            m,
            allow_split=allow_split,
            split_large=split_large,
            keys=keys,
            keep=kp,
            widen_km=widen_km,
            progress=progress,
        )  # fmt: skip
        for kp in (keep, None)
    ]
    costs = [_rezoning_cost(a, keep) for a in answers]
    best = min(range(len(costs)), key=lambda i: costs[i][:2])
    taken = answers[best]
    taken.notes.append(
        "re-zoning: "
        + ("the answer from the baseline" if best == 0 else "the fresh answer")
        + f" has the lower cost ({costs[best][2]:,.0f} pupils moved; the other answer "
        f"{costs[1 - best][2]:,.0f})"
    )
    return taken


def _rezoning_cost(a: Assignment, keep: tuple[np.ndarray, float]) -> tuple[float, float, float]:
    """(−pupils placed, pupil-km + keep_km × moved pupils, moved pupils) of an answer."""
    current, keep_km = keep
    moved = (current >= 0) & (a.school != current)
    pupils_moved = float(a.demand[moved].sum())
    return -float(a.placed.sum()), a.pupil_km + keep_km * pupils_moved, pupils_moved


def _assign_capacity(
    demand: np.ndarray,
    capacity: np.ndarray,
    candidates: Candidates,
    k: int,
    m: int,
    *,
    allow_split: bool = False,
    split_large: bool = False,
    keys: tuple[np.ndarray, np.ndarray] | None = None,
    keep: tuple[np.ndarray, float] | None = None,
    widen_km: float = np.inf,
    progress: Progress | None = None,
) -> Assignment:
    """``assign_capacity`` for one objective (with or without the keep surcharge)."""
    t0 = time.perf_counter()
    k = max(1, min(k, m)) if m else 1
    if np.isfinite(widen_km):
        candidates = _within_reach(candidates, k, widen_km)
    true_candidates = candidates
    if keys is not None or keep is not None:
        candidates = _tie_broken(candidates, keys, keep)
    demand = np.rint(np.asarray(demand, float)).clip(0).astype(np.int64)
    capacity = np.rint(np.asarray(capacity, float)).clip(0).astype(np.int64)
    notes: list[str] = []
    k_first = k
    while True:
        k, model, flow = _flow_widening(
            Sparse(demand, capacity, *candidates(k)), candidates, (k, widen_km), notes, progress
        )
        # A lower bound on the true distances: the offsets add less than TIE_KM per pupil.
        tie = TIE_KM * float(flow.pupils.sum()) if keys is not None else 0.0
        if keep is not None:  # the keep surcharge is no distance: at most keep_km per pupil
            tie += keep[1] * float(flow.pupils.sum())
        lp_bound = max(float(np.dot(flow.pupils, flow.km)) - tie, 0.0)
        if allow_split:
            return _result(
                demand, _true_km(_zero_units(model, flow), true_candidates, k), m,
                lower_bound_pupil_km=None, k_used=k, method="min-cost flow (split allowed)",
                solve_seconds=time.perf_counter() - t0, notes=notes,
            )  # fmt: skip
        arcs, rnotes = _repair_whole(model, flow, progress, place_more=not split_large)
        # A whole unit left out while a school beyond its k has room for it: widen and redo.
        room = capacity - np.bincount(arcs.school, arcs.pupils, m)
        out = np.flatnonzero((np.bincount(arcs.unit, arcs.pupils, len(demand)) == 0) & (demand > 0))
        out = out[(model.cand_i[out, -1] >= 0) & (model.cand_d[out, -1] <= widen_km)]
        if k >= m or not len(out) or room.max(initial=0) < demand[out].min():
            break
        k = min(2 * k, m)
        notes.append(f"widened to the {k} nearest schools: a whole unit found no place")
    notes += rnotes  # of the last (widest) model only
    method = "min-cost flow + rounding + local search (whole units)"
    if split_large:
        arcs, snotes = _split_leftovers(model, arcs)
        notes += snotes
    rezoned = False
    if keep is not None:
        arcs, rezoned = _from_baseline(model, keep[0], arcs, notes, progress, split_large)
    if k > k_first and not rezoned:  # a re-zoning keeps its wide lists: units stay put
        arcs = _narrow_where_possible(
            model, k_first, arcs, notes=notes, progress=progress, split_large=split_large
        )
    return _result(
        demand, _true_km(_zero_units(model, arcs), true_candidates, k), m,
        lower_bound_pupil_km=lp_bound, k_used=k,
        method=method,
        solve_seconds=time.perf_counter() - t0, notes=notes,
    )  # fmt: skip


def _within_reach(candidates: Candidates, k_first: int, reach_km: float) -> Candidates:
    """The lists with every school beyond the first ``k_first`` dropped when farther than
    ``reach_km`` (a unit's own k nearest always stay, however far)."""

    def of(k: int) -> tuple[np.ndarray, np.ndarray]:
        d, i = candidates(k)
        far = (np.arange(d.shape[1]) >= k_first)[None, :] & (d > reach_km)
        return np.where(far, np.inf, d), np.where(far, -1, i)

    return of


def _from_baseline(
    model: Sparse,
    current: np.ndarray,
    arcs: Arcs,
    notes: list[str],
    progress: Progress | None,
    split_large: bool,
) -> tuple[Arcs, bool]:
    """Re-zoning: the baseline's own zoning as a start (each unit at its current school while
    that is open and among its candidates, the farthest units of an over-full school moved out
    first, the rest placed, ejecting others where needed, then the local search on the keep
    costs), taken (True) unless it places fewer pupils than ``arcs`` (the answer from the flow). The
    flow's rounding starts elsewhere and its local search, which only takes improving moves,
    does not find the way back to the units' current schools; and the whole-unit answer is a
    heuristic, so a fresh one may beat the baseline's by a reshuffle of far villages that the
    decision at hand did not call for: from the baseline every move either is needed or saves
    more than the keep surcharge."""
    demand, capacity, cand_d, cand_i = model.demand, model.capacity, model.cand_d, model.cand_i
    n, m = len(demand), len(capacity)
    hit = (cand_i == current[:, None]) & (current[:, None] >= 0)
    on = np.flatnonzero(hit.any(axis=1) & (demand > 0))
    dist = cand_d[on, hit[on].argmax(axis=1)]
    # Over-full schools: their largest units leave until the rest fits (the fewest moves; a
    # unit the baseline shared among schools is named by one of them and is among these).
    order = np.lexsort((on, -dist, -demand[on], current[on]))
    load = np.bincount(current[on], demand[on], m)
    keep = np.ones(len(on), bool)
    for t in order:
        s = current[on[t]]
        if load[s] > capacity[s]:
            keep[t] = False
            load[s] -= demand[on[t]]
    fixed = on[keep]
    work = capacity
    if split_large and not keep.all():
        # The units left out are shared afterwards, as the baseline did; the room they leave at
        # their school is theirs meanwhile, or the search fills it with others and they are
        # shared far away (a community of the town seat sent 11 km on the sample county).
        held = np.unique(current[on[~keep]])
        work = capacity.copy()
        work[held] = np.minimum(capacity[held], load[held].astype(np.int64))
    start = (fixed, current[fixed], demand[fixed].astype(float))
    school = round_whole(demand, work, cand_d, cand_i, start)
    short = (school < 0) & (demand > 0) & (cand_i[:, 0] >= 0)
    if split_large:  # those are shared among schools with room afterwards, as the baseline did
        short[on[~keep]] = False
    if short.any():
        eject(demand, work, cand_d, cand_i, school, np.flatnonzero(short))
    check_canceled(progress)
    improve(demand, work, cand_d, cand_i, school, place_more=not split_large)
    got = _arcs_of(school, model)
    if split_large:
        got, _ = _split_leftovers(model, got)
    # Both answers are heuristic: keep the better one by the re-zoning's own objective (most
    # pupils placed, then least pupil-km with the keep surcharge on every moved pupil).
    if (-got.pupils.sum(), float(np.dot(got.pupils, got.km))) > (
        -arcs.pupils.sum(),
        float(np.dot(arcs.pupils, arcs.km)),
    ):
        notes.append("re-zoning: the fresh answer moves fewer or nearer units than the baseline's")
        return arcs, False
    kept = int(np.count_nonzero(school[on] == current[on]))
    notes.append(f"re-zoning from the baseline: {kept} of {n} units kept their school")
    return got, True


def _tie_broken(
    candidates: Candidates,
    keys: tuple[np.ndarray, np.ndarray] | None,
    keep: tuple[np.ndarray, float] | None = None,
) -> Candidates:
    """The candidate lists as the solver sees them: each distance plus its id offset (and the
    keep surcharge on the schools a unit is not at now), each row sorted again by that
    (stable, padding stays last)."""
    known: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def of(k: int) -> tuple[np.ndarray, np.ndarray]:
        if k not in known:
            d, i = candidates(k)
            if keys is not None:
                d = d + tie_offsets(keys[0], keys[1], i)
            if keep is not None:
                cur = keep[0][:, None]
                d = d + np.where((cur >= 0) & (i != cur) & (i >= 0), keep[1], 0.0)
            o = np.argsort(d, axis=1, kind="stable")
            known[k] = (np.take_along_axis(d, o, 1), np.take_along_axis(i, o, 1))
        return known[k]

    return of


def _true_km(arcs: Arcs, candidates: Candidates, k: int) -> Arcs:
    """The arcs with their true distances (the solver saw them with the tie offsets)."""
    if not len(arcs.unit):
        return arcs
    d, i = candidates(k)
    hit = i[arcs.unit] == arcs.school[:, None]
    return arcs._replace(km=d[arcs.unit, hit.argmax(axis=1)].astype(float))


def _narrow_where_possible(
    model: Sparse,
    k_first: int,
    arcs: Arcs,
    *,
    notes: list[str],
    progress: Progress | None,
    split_large: bool,
) -> Arcs:
    """Widening k for every unit lets the rounding scatter units that never needed far schools;
    solve again with only the units now placed beyond their first k nearest keeping the wide
    list, and keep whichever whole-unit answer is better (most placed, then least pupil-km)."""
    demand, capacity, cand_d, cand_i = model.demand, model.capacity, model.cand_d, model.cand_i
    rank = np.full(len(demand), -1)
    hit = cand_i[arcs.unit] == arcs.school[:, None]
    rank[arcs.unit] = hit.argmax(axis=1)
    keep_wide = rank >= k_first
    cols = np.arange(cand_i.shape[1])[None, :]
    narrow = ~keep_wide[:, None] & (cols >= k_first)
    slim = Sparse(demand, capacity, np.where(narrow, np.inf, cand_d), np.where(narrow, -1, cand_i))
    flow = solve_flow(demand, capacity, slim.cand_d, slim.cand_i)
    got, _ = _repair_whole(slim, flow, progress, place_more=not split_large)
    if split_large:
        # Units still left out may be shared among schools with room, on the wide lists.
        got, _ = _split_leftovers(model, got)
    key = (-float(got.pupils.sum()), float(np.dot(got.pupils, got.km)))
    if key < (-float(arcs.pupils.sum()), float(np.dot(arcs.pupils, arcs.km))):
        notes.append(
            f"wide lists kept only for the {int(keep_wide.sum())} units placed beyond their "
            f"{k_first} nearest schools: a better whole-unit answer"
        )
        return got
    return arcs


def _flow_widening(
    model: Sparse,
    candidates: Candidates,
    k_reach: tuple[int, float],
    notes: list[str],
    progress: Progress | None,
) -> tuple[int, Sparse, Arcs]:
    """Min-cost flow on the k nearest (``model``'s lists), k doubled while pupils stay short
    and a unit left short had every one of its k slots filled within the reach (a school
    beyond them might have room). ``k_reach``: (k of ``model``, widening reach in km)."""
    k, reach = k_reach
    demand, capacity = model.demand, model.capacity
    m = len(capacity)
    while True:
        check_canceled(progress)
        flow = solve_flow(demand, capacity, model.cand_d, model.cand_i)
        placed = np.bincount(flow.unit, flow.pupils, len(demand))
        more = (placed < demand) & (model.cand_i[:, -1] >= 0) & (model.cand_d[:, -1] <= reach)
        if not more.any() or k >= m:
            return k, model, flow
        k = min(2 * k, m)
        notes.append(f"widened to the {k} nearest schools: pupils were left without a place")
        model = Sparse(demand, capacity, *candidates(k))


def _repair_whole(
    model: Sparse, flow: Arcs, progress: Progress | None = None, *, place_more: bool = False
) -> tuple[Arcs, list[str]]:
    """Whole units from the flow: rounding, ejection, local search (``assign_whole``).
    ``place_more``: units left out will not be shared afterwards, so the neighbourhood search
    may also place them (most pupils first). Returns the arcs and notes."""
    demand, capacity, cand_d, cand_i = model.demand, model.capacity, model.cand_d, model.cand_i
    n_split = int(np.count_nonzero(np.bincount(flow.unit, minlength=len(demand)) > 1))
    school = round_whole(demand, capacity, cand_d, cand_i, flow)
    notes: list[str] = []
    if n_split:
        notes.append(f"{n_split} units split by the flow were rounded to one school")
    check_canceled(progress)
    short = np.flatnonzero((school < 0) & (demand > 0) & (cand_i[:, 0] >= 0))
    if len(short):
        moved = eject(demand, capacity, cand_d, cand_i, school, short)
        if moved:
            notes.append(f"{moved} units without a place were placed by moving others")
    check_canceled(progress)
    st = improve(demand, capacity, cand_d, cand_i, school, place_more=place_more)
    moves = st["insert"] + st["bump"] + st["shift"] + st["swap"] + st["chain"] + st["lns"]
    if moves:
        notes.append(
            f"local search: {st['shift']} shifts, {st['swap']} swaps, {st['chain']} chains, "
            f"{st['insert']} insertions, {st['bump']} larger units placed instead of smaller "
            f"ones, {st['lns']} neighbourhoods re-packed, in {st['rounds']} rounds"
        )
    if 0 < np.count_nonzero(cand_i >= 0) <= CPSAT_MAX_ARCS:
        better, proven = cpsat_polish(demand, cand_d, cand_i, capacity, school)
        # Only a proven optimum: an unproven CP-SAT answer follows its search path, which
        # centimetres of noise change (the plan must not).
        if proven and _key(better, model) < _key(school, model):
            school = better
            notes.append("small model: improved by CP-SAT (optimal)")
    return _arcs_of(school, model), notes


def _key(school: np.ndarray, model: Sparse) -> tuple[float, float]:
    """Whole-unit objective as a comparable pair: most pupils placed, then least pupil-km."""
    arcs = _arcs_of(school, model)
    return (-arcs.pupils.sum(), float(np.dot(arcs.pupils, arcs.km)))


def _arcs_of(school: np.ndarray, model: Sparse) -> Arcs:
    got = np.flatnonzero(school >= 0)
    hit = model.cand_i[got] == school[got, None]
    km = model.cand_d[got, hit.argmax(axis=1)]
    return Arcs(got, school[got], model.demand[got].astype(float), km)


def _split_leftovers(model: Sparse, arcs: Arcs) -> tuple[Arcs, list[str]]:
    """Units no school could take whole are shared among schools with room (a flow on the room
    left), e.g. a town community with more pupils than any one school has places."""
    demand, capacity = model.demand, model.capacity
    n, m = len(demand), len(capacity)
    placed = np.bincount(arcs.unit, arcs.pupils, n)
    left = np.where(placed == 0, demand, 0)
    if not left.any():
        return arcs, []
    room = capacity - np.bincount(arcs.school, arcs.pupils, m).astype(np.int64)
    more = solve_flow(left, np.maximum(room, 0), model.cand_d, model.cand_i)
    n_split = len(np.unique(more.unit))
    note = [f"{n_split} units no single school could take whole were shared among schools"]
    joined = Arcs(*(np.concatenate([a, b]) for a, b in zip(arcs, more, strict=True)))
    return joined, note if n_split else []


def _zero_units(model: Sparse, arcs: Arcs) -> Arcs:
    """Units without pupils take no place but still belong to a zone: their nearest school."""
    cand_d, cand_i = model.cand_d, model.cand_i
    z = np.flatnonzero((model.demand == 0) & (cand_i[:, 0] >= 0))
    return Arcs(
        np.concatenate([arcs.unit, z]),
        np.concatenate([arcs.school, cand_i[z, 0]]),
        np.concatenate([arcs.pupils, np.zeros(len(z))]),
        np.concatenate([arcs.km, cand_d[z, 0]]),
    )
