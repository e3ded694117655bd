"""Whole units within capacity: from the min-cost flow to an assignment that keeps units whole.

A generalised assignment problem (NP-hard). Deterministic in every step, no wall-clock limit
anywhere, so the same input always gives the same zones whatever the machine's load:

1. Rounding: units the flow left whole keep their school; split or short units (largest first,
   ties by index) go whole to the candidate that took most of them, else the nearest with room.
2. Ejection: a unit still without a place makes room at one of its schools by moving units there
   to another candidate with room (cheapest extra distance per pupil first).
3. Local search, in rounds until no move improves: insert units without a place where room
   appeared; shift a unit to a nearer school with room; swap two units between their schools;
   an ejection chain (u moves to t, a unit v at t moves on to a school with room). Each applied
   move lowers the total pupil-centimetres (integers, ``planning.ties.COST_PER_KM``; with the
   id tie offsets below ``planning.ties.TIE_KM`` when the caller gives keys), so the search
   ends; a round cap only bounds it.
4. Large-neighbourhood search (``assign_lns``), alternating with the moves of 3: a few
   schools that share candidate units, all their units freed, the sub-problem solved exactly
   (a vectorised branch and bound), kept only when strictly better (most pupils placed, then
   least pupil-metres). It fixes the bin-packing cases the moves miss, e.g. small schools whose
   villages are bigger than half their places (the sample county's primary level: mean distance
   2.25 → 2.02 km). Its work is bounded by counts (sub-problem units, re-solves without a gain,
   states per layer), never by time. Skipped when the caller is about to widen the candidate
   lists and solve again (``_widened_next``).
5. Small models (≤ ``CPSAT_MAX_ARCS`` arcs): CP-SAT from that solution as a hint, one worker,
   a deterministic work budget; kept only when better (done by ``assign``).

``milp_place`` is the exact model (HiGHS under a *node* limit, deterministic) used as a
reference to measure the heuristic; it is not in the plan's path: even 20 × 10 models took
seconds at the root node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from planning.catchments import assign_lns
from planning.ties import cost_units

# Local-search rounds at most (each round applies every non-conflicting improving move found);
# the search usually stops by itself after a few rounds.
_MAX_ROUNDS = 60
# Alternations of the large-neighbourhood search and the moves above at most.
_LNS_ROUNDS = 4
# Branch-and-bound nodes of the reference MILP: a count, not seconds, so its results never
# depend on machine load.
_NODE_LIMIT = 500
# CP-SAT polish of small models: at most this many (unit, school) arcs, and a deterministic time
# budget (CP-SAT work units, about seconds on a quiet machine; the same on a loaded one).
CPSAT_MAX_ARCS = 400
_CPSAT_WORK = 0.5
# Distances are compared in integer centimetres (``planning.ties.COST_PER_KM``) plus, when the
# caller gives the ids, a fixed per-(unit, school) offset below ``planning.ties.TIE_KM``: see
# planning/ties.py for why (the plan must not follow centimetre noise or row order).


def round_whole(
    demand: np.ndarray,
    capacity: np.ndarray,
    cand_d: np.ndarray,
    cand_i: np.ndarray,
    flow: tuple[np.ndarray, ...],
) -> np.ndarray:
    """Whole-unit school per unit from a flow ``(unit, school, pupils, ...)`` of used arcs:
    (school (n,), -1 when none). ``demand`` int."""
    fu, fs, fp = flow[0], flow[1], flow[2]
    n, m = len(demand), len(capacity)
    arcs = np.bincount(fu, minlength=n)
    placed = np.bincount(fu, fp, n)
    whole = (arcs == 1) & (placed == demand)
    school = np.full(n, -1, np.int64)
    keep = whole[fu]
    school[fu[keep]] = fs[keep]
    room = capacity - np.bincount(school[whole], demand[whole], m).astype(np.int64)
    todo = np.flatnonzero(~whole & (demand > 0))
    if len(todo) == 0:
        return school
    # Largest share first for each todo unit, then the candidates by distance.
    share: dict[int, int] = {}
    sel = ~keep
    order = np.lexsort((fs[sel], -fp[sel], fu[sel]))
    for u, s in zip(fu[sel][order], fs[sel][order], strict=True):
        share.setdefault(int(u), int(s))
    for u in todo[np.lexsort((todo, -demand[todo]))]:
        w = demand[u]
        first = share.get(int(u), -1)
        if first >= 0 and room[first] >= w:
            school[u] = first
            room[first] -= w
            continue
        for s, d in zip(cand_i[u], cand_d[u], strict=True):
            if s < 0:
                break
            if room[s] >= w and np.isfinite(d):
                school[u] = s
                room[s] -= w
                break
    return school


def eject(
    demand: np.ndarray,
    capacity: np.ndarray,
    cand_d: np.ndarray,
    cand_i: np.ndarray,
    school: np.ndarray,
    short: np.ndarray,
) -> int:
    """Place units without a place (largest first) by moving units out of one of their schools,
    nearest first, to another candidate with room. Changes ``school`` in place; returns units
    placed."""
    m = len(capacity)
    dist = _dist_of(cand_d, cand_i, school)
    assigned = school >= 0
    room = capacity - np.bincount(school[assigned], demand[assigned], m).astype(np.int64)
    members = _Members(school, m)
    placed = 0
    for u in short[np.lexsort((short, -demand[short]))]:
        for j in range(cand_i.shape[1]):
            s = int(cand_i[u, j])
            if s < 0:
                break
            need = demand[u] - room[s]
            plan: list[tuple[int, int]] = []
            if need > 0:
                # each unit there with pupils: its first other candidate with room now
                vs = np.array(members[s], np.int64)
                vs = vs[demand[vs] != 0]
                to = cand_i[vs]
                ok = (to >= 0) & (to != s) & (room[np.maximum(to, 0)] >= demand[vs, None])
                has = ok.any(axis=1)
                vs, jj = vs[has], ok[has].argmax(axis=1)
                extra = (cand_d[vs, jj] - dist[vs]) / demand[vs]
                options = sorted(zip(extra.tolist(), vs.tolist(), cand_i[vs, jj].tolist()))
                freed, used = 0, dict[int, int]()
                for _extra, v, t in options:
                    if room[t] - used.get(t, 0) < demand[v]:
                        continue
                    plan.append((v, t))
                    used[t] = used.get(t, 0) + demand[v]
                    freed += demand[v]
                    if freed >= need:
                        break
                if freed < need:
                    continue
            for v, t in plan:
                members[s].remove(v)
                members[t].append(v)
                room[t] -= demand[v]
                room[s] += demand[v]
                school[v] = t
                dist[v] = cand_d[v, np.flatnonzero(cand_i[v] == t)[0]]
            school[u], dist[u] = s, cand_d[u, j]
            room[s] -= demand[u]
            members[s].append(int(u))
            placed += 1
            break
    return placed


class _Members(dict[int, list[int]]):
    """Units at each school as lists (ascending when made), made from one sort of the units
    when a school is first asked for: most searches look at few schools."""

    def __init__(self, school: np.ndarray, m: int):
        super().__init__()
        placed = np.flatnonzero(school >= 0)
        # a stable sort of small integers is a radix sort in numpy: int16 when the ids fit
        key = school[placed].astype(np.int16) if m < 2**15 else school[placed]
        self._units = placed[np.argsort(key, kind="stable")]
        self._start = np.searchsorted(school[self._units], np.arange(m + 1))

    def __missing__(self, s: int) -> list[int]:
        got: list[int] = self._units[self._start[s] : self._start[s + 1]].tolist()
        self[s] = got
        return got


def improve(
    demand: np.ndarray,
    capacity: np.ndarray,
    cand_d: np.ndarray,
    cand_i: np.ndarray,
    school: np.ndarray,
    *,
    place_more: bool = False,
) -> dict[str, int]:
    """Local search on ``school`` (changed in place). Returns counts of applied moves.

    ``place_more``: the large-neighbourhood search may also place units left without a place,
    at any cost in pupil-metres (most pupils placed first). Off, it only saves pupil-metres
    and keeps who is placed (the moves still place units where room appears): right when the
    units left out are shared among schools with room afterwards (``split_large``), since
    placing them whole elsewhere costs more than sharing them (sample county, primary: mean
    2.04 km with it, 1.92 km without)."""
    w = demand.astype(np.int64)
    valid = (cand_i >= 0) & np.isfinite(cand_d) & (w[:, None] > 0)
    # Integer pupil-centimetres: exact comparisons, strict decrease, guaranteed end.
    cm = np.where(valid, cost_units(np.where(valid, cand_d, 0)), 0)
    ci = np.where(valid, cand_i, -1)
    stats = {"insert": 0, "bump": 0, "shift": 0, "swap": 0, "chain": 0, "rounds": 0, "lns": 0}
    st = _Search(demand, capacity, cand_d, cand_i, school, w, cm, ci, np.maximum(ci, 0), stats)
    _moves(st)
    if _widened_next(w, ci, capacity, school):
        return stats
    # Re-packings of a few schools at once (exact on each neighbourhood), then the cheap moves
    # again where those opened room; both only ever improve, so this ends.
    budget = [assign_lns.WORK_PER_UNIT * int(np.count_nonzero(w))]
    shared = assign_lns.shared_neighbours(w, ci, len(capacity))
    for r in range(_LNS_ROUNDS):
        gained = assign_lns.lns(
            w,
            cm,
            ci,
            capacity.astype(np.int64),
            school,
            budget=budget,
            place_more=place_more,
            shared=shared,
        )
        stats["lns"] += gained
        if not gained or r + 1 == _LNS_ROUNDS:
            break
        if not _moves(st):
            break
    return stats


def _widened_next(w: np.ndarray, ci: np.ndarray, capacity: np.ndarray, school: np.ndarray) -> bool:
    """The rule of ``assign.assign_capacity``: a whole unit left out with all its k slots filled
    while a school has room for it makes the caller widen k and solve again, so a
    large-neighbourhood search here would be thrown away."""
    if ci.shape[1] >= len(capacity):
        return False
    out = np.flatnonzero((school < 0) & (w > 0) & (ci[:, -1] >= 0))
    if not len(out):
        return False
    placed = school >= 0
    room = capacity - np.bincount(school[placed], w[placed], len(capacity))
    return bool(room.max(initial=0) >= w[out].min())


# Improving moves as (units, candidate columns), as ``np.nonzero`` gives them.
Moves = tuple[np.ndarray, ...]


@dataclass(slots=True)
class _Search:
    """The arrays one local search reads and changes (``school`` in place), shared by its
    moves. ``w``/``cm``/``ci``: pupils, integer metres and candidate schools with the
    invalid arcs masked (-1 / 0); ``ci0``: ``ci`` with -1 as 0, for lookups by school."""

    demand: np.ndarray
    capacity: np.ndarray
    cand_d: np.ndarray
    cand_i: np.ndarray
    school: np.ndarray
    w: np.ndarray
    cm: np.ndarray
    ci: np.ndarray
    ci0: np.ndarray
    stats: dict[str, int]


def _moves(st: _Search) -> bool:
    """Rounds of insert/bump/shift/swap/chain until none applies; True when any did."""
    w, cm, ci, school, stats, capacity = st.w, st.cm, st.ci, st.school, st.stats, st.capacity
    m = len(capacity)
    any_change = False
    for _ in range(_MAX_ROUNDS):
        stats["rounds"] += 1
        # Each move kind reads the units' current schools (moves) and metres; they are read
        # again only after a kind changed something. The shifts read the metres as they were
        # at the start of the round.
        arc, cur = _state(cm, ci, school)
        placed = school >= 0
        room = capacity - np.bincount(school[placed], w[placed], m).astype(np.int64)
        changed = _insert(w, ci, school, room, stats)
        if _bump(w, ci, school, room, stats):
            changed = True
            short = np.flatnonzero((school < 0) & (w > 0) & (ci[:, 0] >= 0))
            stats["insert"] += eject(st.demand, capacity, st.cand_d, st.cand_i, school, short)
            placed = school >= 0
            room = capacity - np.bincount(school[placed], w[placed], m).astype(np.int64)
        if changed:
            arc = _arc_mask(ci, school)
        if _shift(st, arc, cur, room) or changed:
            changed = True
            arc, cur = _state(cm, ci, school)
        better = np.nonzero(arc & (cm < cur[:, None]))  # improving moves (w > 0 on arcs)
        if _swap(st, arc, cur, better, room):
            changed = True
            arc, cur = _state(cm, ci, school)
            better = np.nonzero(arc & (cm < cur[:, None]))
        changed |= _chain(st, arc, cur, better, room)
        if not changed:
            break
        any_change = True
    return any_change


def _state(cm: np.ndarray, ci: np.ndarray, school: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate moves of every placed unit (n, k) and the metres to its school (0: none; the
    columns without a candidate hold -1 and 0 metres, so a unit without a school reads 0)."""
    s = school[:, None]
    at = ci == s
    hit = np.flatnonzero(at)  # one column per placed unit; unplaced rows hit 0-metre columns
    cur = np.zeros(len(school), np.int64)
    cur[hit // ci.shape[1]] = cm.ravel()[hit]
    return (ci >= 0) & ~at & (s >= 0), cur


def _dist_of(cand_d: np.ndarray, cand_i: np.ndarray, school: np.ndarray) -> np.ndarray:
    hit = (cand_i == school[:, None]) & (school[:, None] >= 0)
    j = hit.argmax(axis=1)
    return np.where(hit.any(axis=1), cand_d[np.arange(len(school)), j], np.inf)


def _insert(
    w: np.ndarray, ci: np.ndarray, school: np.ndarray, room: np.ndarray, stats: dict[str, int]
) -> bool:
    out = np.flatnonzero((school < 0) & (w > 0))
    changed = False
    for u in out[np.lexsort((out, -w[out]))]:
        for s in ci[u]:
            if s >= 0 and room[s] >= w[u]:
                school[u] = s
                room[s] -= w[u]
                stats["insert"] += 1
                changed = True
                break
    return changed


def _bump(
    w: np.ndarray, ci: np.ndarray, school: np.ndarray, room: np.ndarray, stats: dict[str, int]
) -> bool:
    """A unit without a place takes the place of smaller units at one of its schools (more
    pupils placed, the first aim); the bumped units look for a place again."""
    out = np.flatnonzero((school < 0) & (w > 0))
    if len(out) == 0:
        return False
    members = _Members(school, len(room))
    changed = False
    for u in out[np.lexsort((out, -w[out]))]:
        if school[u] >= 0:
            continue
        for s in ci[u]:
            if s < 0:
                break
            need = w[u] - room[s]
            mem = sorted(members[int(s)], key=lambda v: (w[v], v))
            # the smallest single unit that frees enough, else the smallest units together
            one = [v for v in mem if need <= w[v] < w[u]]
            if one:
                drop: list[int] = one[:1]
            else:
                drop, freed = [], 0
                for v in mem:
                    if freed >= need:
                        break
                    drop.append(v)
                    freed += w[v]
                if freed < need or freed >= w[u]:
                    continue
            for v in drop:
                school[v] = -1
                members[int(s)].remove(v)
                room[s] += w[v]
            school[u] = s
            room[s] -= w[u]
            members[int(s)].append(int(u))
            stats["bump"] += 1
            changed = True
            break
    return changed


def _arc_mask(ci: np.ndarray, school: np.ndarray) -> np.ndarray:
    """(n, k) mask of every candidate move of a placed unit (to a school other than its own)."""
    s = school[:, None]
    mask: np.ndarray = (ci >= 0) & (ci != s) & (s >= 0)
    return mask


def _pairs(
    units: np.ndarray, val: np.ndarray, school: np.ndarray, m: int, t: np.ndarray, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(query, unit) for every unit of ``units`` (ascending, placed) at the query's school
    ``t`` whose value ``val`` (aligned with ``units``) is below the query's ``q``: only the
    units below their school's largest query are sorted, by (school, value), and each query
    bisects its school's run."""
    top = np.full(m, np.iinfo(np.int64).min)
    np.maximum.at(top, t, q)
    keep = val < top[school[units]]
    units, val = units[keep], val[keep]
    o = np.argsort(val, kind="stable")
    units, val = units[o], val[o]
    # a stable sort of small integers is a radix sort in numpy: int16 when the schools fit
    key = school[units].astype(np.int16) if m < 2**15 else school[units]
    o = np.argsort(key, kind="stable")
    units, val = units[o], val[o]
    start = np.searchsorted(school[units], np.arange(m + 1))
    a, b = _ranges(*_below(start, val, t, q))
    return a, units[b]


def _at_schools(school: np.ndarray, schools: np.ndarray, m: int) -> np.ndarray:
    """Units placed at any of ``schools``, ascending."""
    flag = np.zeros(m + 1, bool)  # the last entry stands for "no place" (-1)
    flag[schools] = True
    return np.flatnonzero(flag[school])


def _below(
    start: np.ndarray, val: np.ndarray, q_group: np.ndarray, q_val: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Values sorted within each group's run ``start[g]:start[g + 1]``: for each query, the
    run's positions ``[lo, hi)`` whose value is below the query's (a bisection per query)."""
    lo = start[q_group]
    a, b = lo.copy(), start[q_group + 1]
    last = max(len(val) - 1, 0)
    while True:
        act = a < b
        if not act.any():
            return lo, a
        mid = (a + b) >> 1
        less = act & (val[np.minimum(mid, last)] < q_val)
        a = np.where(less, mid + 1, a)
        b = np.where(act & ~less, mid, b)


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(query, position) for every position in ``[lo[q], hi[q])`` of every query ``q``."""
    cnt = hi - lo
    q = np.repeat(np.arange(len(lo)), cnt)
    return q, np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())


def _shift(st: _Search, arc: np.ndarray, cur: np.ndarray, room: np.ndarray) -> bool:
    w, cm, ci, ci0, school, stats = st.w, st.cm, st.ci, st.ci0, st.school, st.stats
    # an arc's unit has pupils: the move gains exactly when it is nearer
    u, j = np.nonzero(arc & (cm < cur[:, None]) & (room[ci0] >= w[:, None]))
    t, gain = ci[u, j], w[u] * (cur[u] - cm[u, j])
    moved = np.zeros(len(school), bool)
    changed = False
    for i in np.lexsort((t, u, -gain)):
        uu, tt = u[i], t[i]
        if moved[uu] or room[tt] < w[uu]:
            continue
        room[school[uu]] += w[uu]
        room[tt] -= w[uu]
        school[uu] = tt
        moved[uu] = True
        stats["shift"] += 1
        changed = True
    return changed


def _swap(st: _Search, arc: np.ndarray, cur: np.ndarray, better: Moves, room: np.ndarray) -> bool:
    w, cm, ci, school, stats = st.w, st.cm, st.ci, st.school, st.stats
    m = len(room)
    # A swap gains only if one of its two moves does: pair each improving move (u: s → t)
    # with the moves back (v: t → s) that lose less than it gains.
    u, j = better
    if len(u) == 0:
        return False
    t, s = ci[u, j], school[u]
    gain_u = w[u] * (cur[u] - cm[u, j])
    # A move back gains at most v's best move (least metres among its moves): for each
    # improving move, the units at its target whose best move loses less than it gains.
    at = _at_schools(school, t, m)
    ok = arc[at]
    has = ok.any(axis=1)
    at, ok = at[has], ok[has]
    best = w[at] * (cur[at] - np.where(ok, cm[at], np.iinfo(np.int64).max).min(axis=1))
    a, v = _pairs(at, -best, school, m, t, gain_u)
    hit = ci[v] == s[a][:, None]
    back = hit.any(axis=1)
    a, v, hit = a[back], v[back], hit[back]
    gain = gain_u[a] + w[v] * (cur[v] - cm[v, hit.argmax(axis=1)])
    ua, ub = u[a], v
    ok = (gain > 0) & (room[t[a]] + w[ub] >= w[ua]) & (room[s[a]] + w[ua] >= w[ub])
    gain, ua, ub = gain[ok], ua[ok], ub[ok]
    moved = np.zeros(len(school), bool)
    changed = False
    for i in np.lexsort((np.maximum(ua, ub), np.minimum(ua, ub), -gain)):
        x, y = ua[i], ub[i]
        if moved[x] or moved[y]:
            continue
        sx, sy = school[x], school[y]
        if room[sy] + w[y] < w[x] or room[sx] + w[x] < w[y]:
            continue
        room[sx] += w[x] - w[y]
        room[sy] += w[y] - w[x]
        school[x], school[y] = sy, sx
        moved[x] = moved[y] = True
        stats["swap"] += 1
        changed = True
    return changed


def _chain(st: _Search, arc: np.ndarray, cur: np.ndarray, better: Moves, room: np.ndarray) -> bool:
    """u: s → t blocked by room; a unit v at t moves on to its cheapest school with room."""
    w, cm, ci, ci0, school, stats = st.w, st.cm, st.ci, st.ci0, st.school, st.stats
    m = len(room)
    u, j = better
    t = ci[u, j]
    blocked = room[t] < w[u]
    u, j, t = u[blocked], j[blocked], t[blocked]
    if len(u) == 0:
        return False
    gain_u = w[u] * (cur[u] - cm[u, j])
    # Best exit of every unit at those targets: least extra pupil-metres to a school with room
    # now (least metres: w > 0), ties by the school's index.
    at = _at_schools(school, t, m)
    fit = arc[at] & (room[ci0[at]] >= w[at, None])
    has = fit.any(axis=1)
    at, fit = at[has], fit[has]
    near = np.where(fit, cm[at], np.iinfo(np.int64).max)
    least = near.min(axis=1)
    best_loss = np.zeros(len(school), np.int64)
    best_loss[at] = w[at] * (least - cur[at])
    best_r = np.full(len(school), -1, np.int64)
    best_r[at] = np.where(near == least[:, None], ci[at], m).min(axis=1)
    # For each blocked move, the units at its target whose exit loses less than it gains.
    a, v = _pairs(at, best_loss[at], school, m, t, gain_u)
    gain = gain_u[a] - best_loss[v]
    ok = room[t[a]] + w[v] >= w[u[a]]
    a, v, gain = a[ok], v[ok], gain[ok]
    moved = np.zeros(len(school), bool)
    changed = False
    for i in np.lexsort((v, u[a], -gain)):
        x, y, tt = u[a[i]], v[i], t[a[i]]
        r = best_r[y]
        if moved[x] or moved[y]:
            continue
        sx = school[x]
        free_r = room[r] + (w[x] if r == sx else 0)
        if free_r < w[y] or room[tt] + w[y] < w[x]:
            continue
        room[r] -= w[y]
        room[tt] += w[y] - w[x]
        room[sx] += w[x]
        school[y], school[x] = r, tt
        moved[x] = moved[y] = True
        stats["chain"] += 1
        changed = True
    return changed


def milp_place(
    w: np.ndarray, cd: np.ndarray, ci: np.ndarray, room: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Exact whole-unit placement (most pupils first, then least pupil-km) by HiGHS with a node
    limit. Returns (school, km) per unit, -1 / inf when unplaced, and whether proven optimal."""
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
        options={"node_limit": _NODE_LIMIT},
    )
    out_s = np.full(t, -1, np.int64)
    out_d = np.full(t, np.inf)
    if res.x is None:
        return out_s, out_d, False
    x = np.flatnonzero(res.x[: len(r)] > 0.5)
    out_s[r[x]] = schools[x]
    out_d[r[x]] = cd[r[x], c[x]]
    return out_s, out_d, res.status == 0


def cpsat_polish(
    w: np.ndarray, cd: np.ndarray, ci: np.ndarray, cap: np.ndarray, school: np.ndarray
) -> tuple[np.ndarray, bool]:
    """Exact search (OR-tools CP-SAT) from the heuristic ``school`` as a hint, for small models:
    one worker and a *deterministic* time budget (work units, not seconds), so the same input
    gives the same answer at any machine load. Two stages, most pupils placed, then (with that
    many placed) least pupil-centimetres: one weighted objective made proofs hopeless (17 × 5
    took 50 work units), the two stages usually prove optimality within the budget, and a
    proven optimum does not move with centimetre noise. Returns (school, proven optimal)."""
    # Loaded only for the small models that use it: ortools loaded before highspy (the bench's
    # peers) clashes, and CP-SAT is a large import most plans never need.
    from ortools.sat.python import cp_model

    n = len(w)
    ok = (ci >= 0) & np.isfinite(cd) & (w[:, None] <= cap[np.maximum(ci, 0)]) & (w[:, None] > 0)
    r, c = np.nonzero(ok)
    s_of = ci[r, c]
    cost = cost_units(cd[r, c]) * w[r]
    mdl = cp_model.CpModel()
    x = [mdl.new_bool_var(f"x{i}") for i in range(len(r))]
    for u in np.unique(r):
        mdl.add_at_most_one([x[i] for i in np.flatnonzero(r == u)])
    for s in np.unique(s_of):
        ii = np.flatnonzero(s_of == s)
        mdl.add(sum(int(w[r[i]]) * x[i] for i in ii) <= int(cap[s]))
    for i in range(len(r)):
        mdl.add_hint(x[i], bool(school[r[i]] == s_of[i]))
    placed = sum(int(w[r[i]]) * x[i] for i in range(len(r)))
    mdl.maximize(placed)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = _CPSAT_WORK
    status = solver.solve(mdl)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return school, False
    first_proven = status == cp_model.OPTIMAL
    mdl.add(placed >= int(solver.objective_value))
    mdl.clear_objective()  # type: ignore[no-untyped-call]  # ortools leaves it unannotated
    mdl.minimize(sum(int(cost[i]) * x[i] for i in range(len(r))))
    status = solver.solve(mdl)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return school, False
    out = np.full(n, -1, np.int64)
    for i in range(len(r)):
        if solver.value(x[i]):
            out[r[i]] = s_of[i]
    return out, first_proven and status == cp_model.OPTIMAL
