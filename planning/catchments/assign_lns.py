"""Large-neighbourhood search for whole-unit assignment within capacity.

The moves of ``assign_whole`` change one or two units at a time; they miss the
re-packings that a few small schools need when their villages are bigger than half their places
(a bin-packing structure the flow bound does not see). Here a neighbourhood is a seed school,
the schools nearer than it to its worst-placed unit and the schools sharing the most candidate
units with it: every unit placed at one of them that could go to another one of them is freed,
and the sub-problem (freed units × those schools, with the places the other units leave) is
solved exactly; the answer is kept only when strictly better: least pupil-metres with the same
units placed, or (``place_more``) most pupils placed, then least pupil-metres. Seeds go in the
order most likely to gain: schools holding a unit bigger than half their places, then by the
pupil-metres their units lie beyond their nearest school.

The exact sub-solver is a breadth-first branch and bound over the units, vectorised in numpy:
the states of a layer are the schools' loads; equal loads keep only the cheapest; a state dies
when its cost plus each remaining unit's cheapest option is not below the current solution's
cost. Every bound is a count (states per layer, sub-problem units, re-solves without a gain),
never time, so the result is the same at any machine load. A neighbourhood is solved again only
when one of its schools changed since.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Schools per neighbourhood: the seed, the schools nearer than it to its worst-placed unit, then
# the schools sharing the most pupils of candidate units with it.
NEIGHBOURHOOD_SCHOOLS = 5
# Candidate columns that count as "sharing" a unit between two schools.
_SHARE_COLUMNS = 6
# Freed units per sub-problem at most (the largest are kept; the others stay where they are).
MAX_FREE_UNITS = 16
# Load vectors per layer of the exact sub-solver; beyond it only the cheapest go on (a beam).
MAX_STATES = 128
# Passes over the neighbourhoods (each pass re-solves only the ones that changed).
MAX_PASSES = 8
# Work of one search: sub-problem units (solver layers) per unit with pupils; a count, not
# seconds, so that the answer never depends on the machine's load.
WORK_PER_UNIT = 8
# Re-solves in a row without a gain after which the search stops (the gains come early: the
# seeds most likely to hold one go first).
STALL = 50
# Cost of an impossible option and the "no limit" of a load digit (int64 arithmetic stays exact).
_HUGE = 2**62

# School -> the other schools sharing units with it (``shared_neighbours``).
Neighbours = Callable[[int], np.ndarray]


def shared_neighbours(w: np.ndarray, ci: np.ndarray, m: int) -> Neighbours:
    """A function giving, for a school, the other schools ordered by the pupils of units having
    both among their first ``_SHARE_COLUMNS`` candidates (most first, ties by index); computed
    when first asked for, as a search looks at few schools of a large model."""
    k = min(_SHARE_COLUMNS, ci.shape[1])
    cols = ci[:, :k]
    u, j = np.nonzero((cols >= 0) & (w[:, None] > 0))
    s = cols[u, j]
    # a stable sort of small integers is a radix sort in numpy: int16 when the ids fit
    o = np.argsort(s.astype(np.int16) if m < 2**15 else s, kind="stable")
    start = np.searchsorted(s[o], np.arange(m + 1))
    rows = u[o]
    cache: dict[int, np.ndarray] = {}

    def of(school: int) -> np.ndarray:
        if school not in cache:
            r = rows[start[school] : start[school + 1]]
            c = cols[r]
            ok = (c >= 0) & (c != school)
            share = np.bincount(c[ok], np.broadcast_to(w[r][:, None], c.shape)[ok], m)
            nb = np.flatnonzero(share > 0)
            cache[school] = nb[np.lexsort((nb, -share[nb]))]
        return cache[school]

    return of


def solve_small(
    w: np.ndarray,
    opt_s: np.ndarray,
    opt_c: np.ndarray,
    room: np.ndarray,
    incumbent: int,
    max_states: int | None = None,
) -> tuple[np.ndarray, int] | None:
    """Least-cost choice of one option per unit within the schools' room.

    ``opt_s[i, j]`` is the local school of option ``j`` of unit ``i`` (``len(room)``: no
    place, which uses no room; -1: no option), ``opt_c[i, j]`` its cost. Returns (option column
    per unit, total cost) of the cheapest answer strictly below ``incumbent``, None when there is
    none. Exact unless a layer holds more than ``max_states`` load vectors (then only the
    cheapest go on)."""
    t, b = len(w), len(room)
    max_states = MAX_STATES if max_states is None else max_states
    valid = opt_s >= 0
    cst = np.where(valid, opt_c, _HUGE)
    # Big units first: capacities cut early and the layers stay small.
    order = np.lexsort((np.arange(t), -w))
    lb_rest = np.concatenate([np.cumsum(cst.min(axis=1)[order][::-1])[::-1], [0]])
    # Every unit at its cheapest option is not below the incumbent: no state would survive.
    if lb_rest[0] >= incumbent:
        return None
    radix = _radix(room)
    if radix is None:
        return None
    is_s = valid & (opt_s < b)
    s_of = np.where(is_s, opt_s, 0)
    # A state is one int64: the schools' loads in mixed radix. Option j of unit i fits when
    # the load digit of its school is at most room - w; "no place" always fits.
    rad = np.where(is_s, radix[s_of], 1)
    mod = np.where(is_s, room[s_of] + 1, _HUGE)
    lim = np.where(is_s, room[s_of] - w[:, None], _HUGE)
    add = np.where(is_s, w[:, None] * rad, 0)
    below = incumbent - lb_rest[1:]  # a state's cost must stay under it after each layer
    key = np.zeros(1, np.int64)
    cost = np.zeros(1, np.int64)
    parents: list[tuple[np.ndarray, np.ndarray]] = []
    for cst_i, rad_i, mod_i, lim_i, add_i, below_i in zip(
        cst[order], rad[order], mod[order], lim[order], add[order], below, strict=True
    ):
        c = cost[:, None] + cst_i
        ok = ((key[:, None] // rad_i) % mod_i <= lim_i) & (c < below_i)
        par, col = np.nonzero(ok)
        if not len(par):
            return None
        key = key[par] + add_i[col]
        cost = c[par, col]
        # Equal loads: only the cheapest state matters for the units still to come.
        o = np.lexsort((cost, key))
        ko = key[o]
        first = np.empty(len(o), bool)
        first[0] = True
        np.not_equal(ko[1:], ko[:-1], out=first[1:])
        keep = o[first]
        if len(keep) > max_states:
            # Beam: the cheapest states go on (ties by load order); the answer may then miss
            # the optimum, never feasibility.
            keep = keep[np.argsort(cost[keep], kind="stable")[:max_states]]
        key, cost = key[keep], cost[keep]
        parents.append((par[keep], col[keep]))
    best = int(np.argmin(cost))  # first of the cheapest: ties broken by the load order
    total = int(cost[best])
    out = np.empty(t, np.int64)
    p = best
    for step in range(t - 1, -1, -1):
        par, col = parents[step]
        out[order[step]] = col[p]
        p = par[p]
    return out, total


def _radix(room: np.ndarray) -> np.ndarray | None:
    """Mixed-radix weights turning a load vector into one int64 key, None when too large."""
    r: list[int] = []
    acc = 1
    for x in room:
        r.append(acc)
        acc *= int(x) + 1
        if acc >= 2**62:
            return None
    return np.array(r, np.int64)


class _Placed:
    """Units at each school (by index) and the units with pupils without a place, kept up to
    date as the search moves units: one sort at the start, a changed school listed again."""

    def __init__(self, w: np.ndarray, school: np.ndarray, m: int):
        self.w, self.school = w, school
        # a stable sort of small integers is a radix sort in numpy: int16 when the ids fit
        key = school.astype(np.int16) if m < 2**15 else school
        self.order = np.argsort(key, kind="stable")
        self.start = np.searchsorted(school[self.order], np.arange(-1, m + 1))
        self.changed: dict[int, np.ndarray] = {}
        self.out = np.flatnonzero((school < 0) & (w > 0))

    def at(self, s: int) -> np.ndarray:
        got = self.changed.get(s)
        if got is None:
            return self.order[self.start[s + 1] : self.start[s + 2]]
        return got

    def moved(self, schools: np.ndarray) -> None:
        for s in np.unique(schools[schools >= 0]):
            self.changed[int(s)] = np.flatnonzero(self.school == s)
        self.out = np.flatnonzero((self.school < 0) & (self.w > 0))


def lns(
    w: np.ndarray,
    cm: np.ndarray,
    ci: np.ndarray,
    capacity: np.ndarray,
    school: np.ndarray,
    *,
    budget: list[int],
    place_more: bool = False,
    shared: Neighbours | None = None,
) -> int:
    """Improve ``school`` (-1: no place) in place by exact re-solves of neighbourhoods.

    ``w`` pupils per unit, ``ci``/``cm`` candidate schools and integer metres (-1 / 0 where
    none), ``capacity`` places per school. ``budget[0]`` is the work left (sub-problem units);
    it is used up here. ``place_more``: a sub-problem may also place units now without a place
    (most pupils placed first, then least pupil-metres); otherwise the placed units stay placed,
    the others stay out, and only pupil-metres are saved. ``shared``: ``shared_neighbours(w,
    ci, m)`` when the caller keeps it between searches on the same units. Returns the number
    of improving re-solves."""
    n, m = len(w), len(capacity)
    if n == 0 or m == 0:
        return 0
    # One more pupil placed outweighs any saving of pupil-metres within a sub-problem.
    penalty = MAX_FREE_UNITS * int(w.max()) * int(cm.max(initial=0)) + 1
    if shared is None:
        shared = shared_neighbours(w, ci, m)
    load = np.bincount(school[school >= 0], w[school >= 0], m).astype(np.int64)
    placed = _Placed(w, school, m)
    hs = _Hoods(w, cm, ci, capacity, placed, load, penalty, budget, place_more)
    version = np.ones(m, np.int64)  # clock of the last change of a school's units
    solved_at = np.zeros(m, np.int64)  # clock when a seed's neighbourhood was last solved
    clock = 1
    improved = stall = 0
    for _ in range(MAX_PASSES):
        any_change = False
        for seed in _seed_order(w, cm, ci, capacity, school, place_more):
            hood = _hood(int(seed), hs, shared(seed), NEIGHBOURHOOD_SCHOOLS)
            # Solved since its schools last changed: the same sub-problem, no gain.
            if solved_at[seed] >= version[hood].max():
                continue
            if budget[0] <= 0:
                return improved
            solved_at[seed] = clock
            res = _solve_hood(hs, hood)
            if res is None:
                stall += 1
                if stall >= STALL:
                    return improved
                continue
            stall = 0
            units, new = res
            clock += 1
            old = school[units]
            np.subtract.at(load, old[old >= 0], w[units][old >= 0])
            np.add.at(load, new[new >= 0], w[units][new >= 0])
            school[units] = new
            touched = np.concatenate([old, new])
            version[touched[touched >= 0]] = clock
            placed.moved(touched)
            solved_at[seed] = clock
            improved += 1
            any_change = True
        if not any_change:
            break
    return improved


@dataclass(slots=True)
class _Hoods:
    """What every neighbourhood re-solve of one search reads: the units' pupils, metres and
    candidates, the places, who is where (``placed``, ``load``: changed by the search), the
    penalty of a pupil without a place and the work left (``budget[0]``, used up)."""

    w: np.ndarray
    cm: np.ndarray
    ci: np.ndarray
    capacity: np.ndarray
    placed: _Placed
    load: np.ndarray
    penalty: int
    budget: list[int]
    place_more: bool


def _hood(seed: int, hs: _Hoods, shared: np.ndarray, size: int) -> np.ndarray:
    """The seed, then the schools nearer than it to its unit lying farthest beyond its nearest
    school (pupil-metres, ties by index), then the schools sharing the most units with it."""
    w, cm, ci, placed = hs.w, hs.cm, hs.ci, hs.placed
    h = [seed]
    at = placed.at(seed)
    if len(at):
        col = (ci[at] == seed).argmax(axis=1)
        exc = w[at] * (cm[at, col] - cm[at, 0])
        i = int(np.lexsort((at, -exc))[0])
        if exc[i] > 0:
            h += [int(t) for t in ci[at[i], : col[i]] if t >= 0][: size - 1]
    for t in shared:
        if len(h) >= size:
            break
        if t not in h:
            h.append(int(t))
    return np.array(h, np.int64)


def _seed_order(
    w: np.ndarray,
    cm: np.ndarray,
    ci: np.ndarray,
    capacity: np.ndarray,
    school: np.ndarray,
    place_more: bool,
) -> np.ndarray:
    """Schools whose neighbourhood most likely holds a gain first: (with ``place_more``) those
    that units without a place could go to, most pupils first; those holding a unit bigger
    than half their places; then by the pupil-metres their units lie beyond their nearest
    school; ties by index."""
    m = len(capacity)
    placed = np.flatnonzero(school >= 0)
    s = school[placed]
    hit = ci[placed] == s[:, None]
    cur = (cm[placed] * hit).sum(axis=1)
    excess = np.bincount(s, w[placed] * (cur - cm[placed, 0]), m)
    big = np.zeros(m, bool)
    big[s[2 * w[placed] > capacity[s]]] = True
    out = np.flatnonzero((school < 0) & (w > 0))
    need: np.ndarray = np.zeros(m)
    if place_more and len(out):
        c = ci[out]
        ok = c >= 0
        need = np.bincount(c[ok], np.broadcast_to(w[out][:, None], c.shape)[ok], m)
    return np.lexsort((np.arange(m), -excess, ~big, -need))


def _solve_hood(hs: _Hoods, hood: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Re-solve one neighbourhood exactly: (units, new school per unit) when strictly better.

    Freed: the units placed at its schools that have another candidate among them, and with
    ``place_more`` the units without a place that have a candidate there."""
    w, cm, ci, capacity, placed, load = hs.w, hs.cm, hs.ci, hs.capacity, hs.placed, hs.load
    penalty, budget, place_more = hs.penalty, hs.budget, hs.place_more
    b, m = len(hood), len(capacity)
    school = placed.school
    local = np.full(m + 1, -1, np.int64)
    local[hood] = np.arange(b)
    parts = [placed.at(int(h)) for h in hood]
    if place_more:
        parts.append(placed.out)
    near = np.sort(np.concatenate(parts))
    cin = local[ci[near]]  # local school of each candidate column, -1 outside (ci -1 → m)
    n_in = (cin >= 0).sum(axis=1)
    at = local[school[near]]
    # A unit with one school here can only give its place up, which pays only when a unit
    # without a place takes it.
    waiting = (at < 0) & (n_in >= 1)
    free = np.flatnonzero(np.where(at >= 0, n_in >= (1 if waiting.any() else 2), waiting))
    if not len(free) or (len(free) == 1 and at[free[0]] >= 0):
        return None
    if len(free) > MAX_FREE_UNITS:
        free = np.sort(free[np.lexsort((free, -w[near[free]]))[:MAX_FREE_UNITS]])
    units = near[free]
    t = len(units)
    budget[0] -= t
    wu, at_u, cin = w[units], at[free], cin[free]
    room = capacity[hood] - load[hood]
    np.add.at(room, at_u[at_u >= 0], wu[at_u >= 0])
    if (room < 0).any():  # a school already over its places: not this search's business
        return None
    if (at_u >= 0).all():
        # Every unit already at its nearest school here: nothing is below the incumbent (the
        # exact solver's first bound; a unit waiting for a place never is: the penalty).
        here = np.where(cin >= 0, cm[units], np.iinfo(np.int64).max)
        if (cm[units, (ci[units] == school[units, None]).argmax(axis=1)] <= here.min(1)).all():
            return None
    # Options per unit: its candidate columns inside the neighbourhood, then "no place".
    r, j = np.nonzero(cin >= 0)
    rank = np.arange(len(r)) - np.searchsorted(r, r)
    opt_s = np.full((t, b + 1), -1, np.int64)
    opt_c = np.zeros((t, b + 1), np.int64)
    opt_j = np.full((t, b + 1), -1, np.int64)
    opt_s[r, rank] = cin[r, j]
    opt_c[r, rank] = wu[r] * cm[units[r], j]
    opt_j[r, rank] = j
    # "No place" only when units may be placed anew: a placed unit may then give its place up
    # to a larger one (the penalty allows it only when more pupils get a place).
    opt_s[:, b] = b if place_more else -1
    opt_c[:, b] = penalty * wu
    cur = (opt_s == at_u[:, None]) & (at_u[:, None] >= 0)
    cur[:, b] = at_u < 0
    incumbent = int((opt_c * cur).sum())
    res = solve_small(wu, opt_s, opt_c, room, incumbent)
    if res is None:
        return None
    jj = opt_j[np.arange(t), res[0]]
    return units, np.where(jj >= 0, ci[units, np.maximum(jj, 0)], -1)
