"""Whole-unit assignment: the large-neighbourhood search against exact references.

- ``solve_small`` (the exact sub-solver) equals a brute force over every choice;
- ``improve`` with the search is never worse than the local search alone, never over capacity,
  every unit at one of its candidates;
- when one neighbourhood holds the whole model, ``improve(place_more=True)`` reaches the
  brute-force optimum;
- the hand-built bin-packing case the single-unit moves cannot fix.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import planning.catchments.assign_lns as lns_mod
import planning.catchments.assign_whole as aw
from planning.catchments.assign import assign_capacity
from planning.catchments.assign_lns import solve_small


def _instance(draw, n_max, m_max, k_max):
    n = draw(st.integers(1, n_max))
    m = draw(st.integers(1, m_max))
    k = draw(st.integers(1, min(k_max, m)))
    w = np.array(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)), np.int64)
    cap = np.array(draw(st.lists(st.integers(0, 120), min_size=m, max_size=m)), np.int64)
    rows_i, rows_d = [], []
    for _ in range(n):
        sch = draw(st.permutations(range(m)))[:k]
        d = sorted(draw(st.lists(st.integers(1, 9000), min_size=k, max_size=k)))
        rows_i.append(sch)
        rows_d.append([x / 1000.0 for x in d])
    return w, cap, np.array(rows_d, float), np.array(rows_i, np.int64)


@st.composite
def instances(draw, n_max=14, m_max=7, k_max=4):
    return _instance(draw, n_max, m_max, k_max)


def _key(school, w, cand_d, cand_i):
    """(pupils without a place, pupil-metres): the order ``improve`` minimises."""
    metres = np.rint(cand_d * 1000.0).astype(np.int64)
    out, pm = 0, 0
    for u in range(len(w)):
        if school[u] < 0:
            out += int(w[u])
            continue
        j = int(np.flatnonzero(cand_i[u] == school[u])[0])
        pm += int(w[u]) * int(metres[u, j])
    return out, pm


def _check_valid(school, w, cap, cand_i):
    for u in range(len(w)):
        if school[u] >= 0:
            assert school[u] in cand_i[u]
    placed = school >= 0
    load = np.bincount(school[placed], w[placed], len(cap))
    assert (load <= cap).all()


def _full(cand_d, cand_i, m):
    """The candidate lists followed by every other school, farther than any listed one."""
    n, k = cand_i.shape
    full_i = np.array([np.concatenate([r, [s for s in range(m) if s not in r]]) for r in cand_i])
    extra = np.tile(9.0 + 0.5 * np.arange(1, m - k + 1), (n, 1))
    return np.concatenate([cand_d, extra], axis=1), full_i.astype(np.int64)


def _start(w, cap, cand_d, cand_i):
    """A starting whole-unit solution as the pipeline makes it: flow, rounding, ejection."""
    from planning.catchments.assign import solve_flow

    fu, fs, fp, _ = solve_flow(w, cap, cand_d, cand_i)
    school = aw.round_whole(w, cap, cand_d, cand_i, (fu, fs, fp))
    short = np.flatnonzero((school < 0) & (w > 0))
    if len(short):
        aw.eject(w, cap, cand_d, cand_i, school, short)
    return school


def _brute(w, cap, cand_d, cand_i):
    """Least (pupils without a place, pupil-metres) over every whole-unit choice."""
    n, k = cand_i.shape
    best = None
    for choice in itertools.product(range(k + 1), repeat=n):
        school = np.array([cand_i[u, c] if c < k else -1 for u, c in enumerate(choice)])
        placed = school >= 0
        if (np.bincount(school[placed], w[placed], len(cap)) > cap).any():
            continue
        key = _key(school, w, cand_d, cand_i)
        if best is None or key < best:
            best = key
    return best


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_solve_small_equals_brute_force(data):
    t = data.draw(st.integers(1, 6))
    b = data.draw(st.integers(1, 3))
    w = np.array(data.draw(st.lists(st.integers(1, 40), min_size=t, max_size=t)), np.int64)
    room = np.array(data.draw(st.lists(st.integers(0, 80), min_size=b, max_size=b)), np.int64)
    opt_s = np.full((t, b + 1), -1, np.int64)
    opt_c = np.zeros((t, b + 1), np.int64)
    for i in range(t):
        sch = data.draw(st.lists(st.integers(0, b - 1), unique=True, max_size=b))
        for j, s in enumerate(sch):
            opt_s[i, j] = s
            opt_c[i, j] = data.draw(st.integers(0, 5000))
        if data.draw(st.booleans()) or not sch:  # "no place", at a price
            opt_s[i, b] = b
            opt_c[i, b] = 10**6 * int(w[i])
    best = None
    cols = [np.flatnonzero(opt_s[i] >= 0) for i in range(t)]
    for choice in itertools.product(*cols):
        load = np.zeros(b + 1, np.int64)
        for i, j in enumerate(choice):
            load[opt_s[i, j]] += w[i]
        if (load[:b] <= room).all():
            c = sum(int(opt_c[i, j]) for i, j in enumerate(choice))
            best = c if best is None else min(best, c)
    incumbent = data.draw(st.integers(0, 10**8))
    res = solve_small(w, opt_s, opt_c, room, incumbent, max_states=10**6)
    if best is None or best >= incumbent:
        assert res is None
        return
    assert res is not None
    col, cost = res
    assert cost == best
    assert sum(int(opt_c[i, col[i]]) for i in range(t)) == cost
    load = np.zeros(b + 1, np.int64)
    for i in range(t):
        assert opt_s[i, col[i]] >= 0
        load[opt_s[i, col[i]]] += w[i]
    assert (load[:b] <= room).all()


@settings(max_examples=120, deadline=None)
@given(instances(), st.booleans())
def test_improve_never_worse_than_the_local_search(inst, place_more):
    w, cap, cand_d, cand_i = inst
    start = _start(w, cap, cand_d, cand_i)
    old = start.copy()
    saved = aw._LNS_ROUNDS
    aw._LNS_ROUNDS = 0
    try:
        aw.improve(w, cap, cand_d, cand_i, old)
    finally:
        aw._LNS_ROUNDS = saved
    new = start.copy()
    aw.improve(w, cap, cand_d, cand_i, new, place_more=place_more)
    _check_valid(new, w, cap, cand_i)
    assert _key(new, w, cand_d, cand_i) <= _key(old, w, cand_d, cand_i)
    again = start.copy()
    aw.improve(w, cap, cand_d, cand_i, again, place_more=place_more)
    assert (again == new).all()  # deterministic


@settings(max_examples=120, deadline=None)
@given(instances(n_max=6, m_max=4, k_max=4))
def test_improve_is_optimal_when_one_neighbourhood_holds_the_model(inst):
    w, cap, cand_d, cand_i = inst
    # every school is a candidate of every unit: the first neighbourhood holds them all
    full_d, full_i = _full(cand_d, cand_i, len(cap))
    saved = lns_mod.MAX_STATES
    lns_mod.MAX_STATES = 10**6
    try:
        school = _start(w, cap, full_d, full_i)
        aw.improve(w, cap, full_d, full_i, school, place_more=True)
    finally:
        lns_mod.MAX_STATES = saved
    _check_valid(school, w, cap, full_i)
    assert _key(school, w, full_d, full_i) == _brute(w, cap, full_d, full_i)


@settings(max_examples=80, deadline=None)
@given(instances())
def test_search_without_place_more_keeps_who_is_placed(inst):
    w, cap, cand_d, cand_i = inst
    school = _start(w, cap, cand_d, cand_i)
    saved = aw._LNS_ROUNDS
    aw._LNS_ROUNDS = 0
    try:
        aw.improve(w, cap, cand_d, cand_i, school)
    finally:
        aw._LNS_ROUNDS = saved
    valid = (cand_i >= 0) & (w[:, None] > 0)
    cm = np.where(valid, np.rint(cand_d * 1000.0), 0).astype(np.int64)
    ci = np.where(valid, cand_i, -1)
    before = school.copy()
    lns_mod.lns(w, cm, ci, cap, school, budget=[10**6], place_more=False)
    _check_valid(school, w, cap, cand_i)
    assert ((school >= 0) == (before >= 0)).all()
    assert _key(school, w, cand_d, cand_i) <= _key(before, w, cand_d, cand_i)


def test_bin_packing_case_the_moves_miss():
    """Two schools of 100 places; units 60, 40 (near A), 50, 50 (near B), placed 60+40 at B and
    50+50 at A: every single shift or swap overfills a school or gains nothing, the re-packing
    of both schools gains."""
    w = np.array([60, 40, 50, 50], np.int64)
    cap = np.array([100, 100], np.int64)
    cand_i = np.array([[0, 1], [0, 1], [1, 0], [1, 0]])
    cand_d = np.array([[1.0, 3.0], [1.0, 3.0], [1.0, 3.0], [1.0, 3.0]])
    school = np.array([1, 1, 0, 0])
    st_ = aw.improve(w, cap, cand_d, cand_i, school)
    assert school.tolist() == [0, 0, 1, 1]
    assert st_["lns"] >= 1


@settings(max_examples=60, deadline=None)
@given(instances(n_max=30, m_max=10, k_max=5), st.booleans())
def test_assign_capacity_whole_units_within_capacity_and_deterministic(inst, split_large):
    w, cap, cand_d, cand_i = inst
    m = len(cap)
    full_d, full_i = _full(cand_d, cand_i, m)

    def cands(k):
        return full_d[:, :k], full_i[:, :k]

    a = assign_capacity(w, cap, cands, cand_i.shape[1], m, split_large=split_large)
    b = assign_capacity(w, cap, cands, cand_i.shape[1], m, split_large=split_large)
    assert (a.load <= cap + 1e-9).all()
    assert (a.placed <= a.demand + 1e-9).all()
    assert np.array_equal(a.school, b.school) and a.pupil_km == b.pupil_km


@pytest.mark.parametrize("states", [1, 4])
def test_a_small_beam_still_gives_a_valid_answer(states, monkeypatch):
    monkeypatch.setattr(lns_mod, "MAX_STATES", states)
    rng = np.random.default_rng(3)
    n, m, k = 40, 6, 4
    w = rng.integers(5, 60, n)
    cap = np.full(m, int(w.sum() / m * 1.1))
    cand_i = np.array([rng.permutation(m)[:k] for _ in range(n)])
    cand_d = np.sort(rng.uniform(0.2, 8.0, (n, k)), axis=1)
    school = _start(w, cap, cand_d, cand_i)
    before = _key(school, w, cand_d, cand_i)
    aw.improve(w, cap, cand_d, cand_i, school)
    _check_valid(school, w, cap, cand_i)
    assert _key(school, w, cand_d, cand_i) <= before


@st.composite
def crowded(draw):
    """Many units per school, coarse distances (ties), units without pupils, capacities from
    short to loose, and a start that is either the pipeline's or any feasible placement."""
    n = draw(st.integers(1, 150))
    m = draw(st.integers(1, 12))
    k = draw(st.integers(1, min(6, m)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.integers(0, 80, n)
    w[rng.random(n) < 0.1] = 0
    slack = draw(st.sampled_from([0.5, 0.9, 1.0, 1.2, 2.0]))
    cap = np.full(m, int(w.sum() / m * slack)) + rng.integers(0, 30, m)
    cand_i = np.array([rng.permutation(m)[:k] for _ in range(n)], np.int64)
    cand_d = np.sort(rng.integers(1, 60, (n, k)) / 10.0, axis=1)
    if draw(st.booleans()):
        school = _start(w, cap, cand_d, cand_i)
    else:
        school = np.full(n, -1, np.int64)
        room = cap.copy()
        for u in rng.permutation(n):
            s = cand_i[u, rng.integers(k)]
            if w[u] > 0 and room[s] >= w[u] and rng.random() < 0.8:
                school[u] = s
                room[s] -= w[u]
    return w, cap, cand_d, cand_i, school


@settings(max_examples=150, deadline=None)
@given(crowded(), st.booleans())
def test_improve_equals_the_first_version(inst, place_more):
    """The faster moves and search (per-school unit lists, pairs by bisection, early bound)
    give the very same schools and counts as the version that listed and sorted every arc."""
    w, cap, cand_d, cand_i, start = inst
    new, old = start.copy(), start.copy()
    got = aw.improve(w, cap, cand_d, cand_i, new, place_more=place_more)
    want = _ref_improve(w, cap, cand_d, cand_i, old, place_more=place_more)
    assert np.array_equal(new, old)
    assert got == want


@settings(max_examples=150, deadline=None)
@given(crowded())
def test_eject_equals_the_first_version(inst):
    w, cap, cand_d, cand_i, start = inst
    short = np.flatnonzero((start < 0) & (w > 0))
    new, old = start.copy(), start.copy()
    assert aw.eject(w, cap, cand_d, cand_i, new, short) == _ref_eject(
        w, cap, cand_d, cand_i, old, short
    )
    assert np.array_equal(new, old)


@pytest.mark.parametrize("seed", [0, 1])
def test_improve_equals_the_first_version_on_large_schools(seed):
    """Few schools with hundreds of units each (a senior level): long pair lists."""
    rng = np.random.default_rng(seed)
    n, m, k = 1500, 12, 8
    w = rng.integers(1, 120, n)
    cap = np.full(m, int(w.sum() / m * 1.05))
    pts, sites = rng.uniform(0, 30, (n, 2)), rng.uniform(0, 30, (m, 2))
    d = np.hypot(*(pts[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    cand_i = np.argsort(d, axis=1, kind="stable")[:, :k]
    cand_d = np.take_along_axis(d, cand_i, axis=1)
    for place_more in (False, True):
        start = _start(w, cap, cand_d, cand_i)
        new, old = start.copy(), start.copy()
        got = aw.improve(w, cap, cand_d, cand_i, new, place_more=place_more)
        want = _ref_improve(w, cap, cand_d, cand_i, old, place_more=place_more)
        assert np.array_equal(new, old) and got == want


# --- Reference: the whole-unit repair as first written (before it was made faster). --------
# Straightforward versions: every arc listed and sorted each round, units per school from a
# scan, the exact sub-solver without its first-bound exit. ``improve``, ``eject`` and ``lns``
# must give the same schools and counts on every input.


def _ref_eject(demand, capacity, cand_d, cand_i, school, short):
    m = len(capacity)
    dist = aw._dist_of(cand_d, cand_i, school)
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
            plan = []
            if need > 0:
                options = []
                for v in members.get(s, []):
                    if demand[v] == 0:
                        continue
                    for jj in range(cand_i.shape[1]):
                        t = int(cand_i[v, jj])
                        if t >= 0 and t != s and room[t] >= demand[v]:
                            options.append(((cand_d[v, jj] - dist[v]) / demand[v], v, t))
                            break
                options.sort()
                freed, used = 0, {}
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
                members.setdefault(t, []).append(v)
                room[t] -= demand[v]
                room[s] += demand[v]
                school[v] = t
                dist[v] = cand_d[v, np.flatnonzero(cand_i[v] == t)[0]]
            school[u], dist[u] = s, cand_d[u, j]
            room[s] -= demand[u]
            members.setdefault(s, []).append(int(u))
            placed += 1
            break
    return placed


def _ref_improve(demand, capacity, cand_d, cand_i, school, *, place_more=False):
    w = demand.astype(np.int64)
    valid = (cand_i >= 0) & np.isfinite(cand_d) & (w[:, None] > 0)
    cm = np.where(valid, np.rint(np.where(valid, cand_d, 0) * 1000.0), 0).astype(np.int64)
    ci = np.where(valid, cand_i, -1)
    stats = {"insert": 0, "bump": 0, "shift": 0, "swap": 0, "chain": 0, "rounds": 0, "lns": 0}
    _ref_moves(demand, capacity, cand_d, cand_i, school, w, cm, ci, stats)
    if aw._widened_next(w, ci, capacity, school):
        return stats
    budget = [lns_mod.WORK_PER_UNIT * int(np.count_nonzero(w))]
    for r in range(aw._LNS_ROUNDS):
        gained = _ref_lns(w, cm, ci, capacity.astype(np.int64), school, budget, place_more)
        stats["lns"] += gained
        if not gained or r + 1 == aw._LNS_ROUNDS:
            break
        if not _ref_moves(demand, capacity, cand_d, cand_i, school, w, cm, ci, stats):
            break
    return stats


def _ref_moves(demand, capacity, cand_d, cand_i, school, w, cm, ci, stats):
    n, m = len(demand), len(capacity)
    any_change = False
    for _ in range(aw._MAX_ROUNDS):
        stats["rounds"] += 1
        cur = _ref_cur(cm, ci, school)
        placed = school >= 0
        room = capacity - np.bincount(school[placed], w[placed], m).astype(np.int64)
        changed = aw._insert(w, ci, school, room, stats)
        if _ref_bump(w, ci, school, room, stats):
            changed = True
            short = np.flatnonzero((school < 0) & (w > 0) & (ci[:, 0] >= 0))
            stats["insert"] += _ref_eject(demand, capacity, cand_d, cand_i, school, short)
            placed = school >= 0
            room = capacity - np.bincount(school[placed], w[placed], m).astype(np.int64)
        changed |= _ref_shift(w, cm, ci, school, cur, room, stats)
        cur = _ref_cur(cm, ci, school)
        changed |= _ref_swap(w, cm, ci, school, cur, room, m, stats)
        cur = _ref_cur(cm, ci, school)
        changed |= _ref_chain(w, cm, ci, school, cur, room, n, stats)
        if not changed:
            break
        any_change = True
    return any_change


def _ref_cur(cm, ci, school):
    hit = (ci == school[:, None]) & (school[:, None] >= 0)
    return np.where(hit.any(axis=1), (cm * hit).sum(axis=1), 0)


def _ref_bump(w, ci, school, room, stats):
    out = np.flatnonzero((school < 0) & (w > 0))
    if len(out) == 0:
        return False
    members: dict[int, list[int]] = {}
    for v in np.flatnonzero(school >= 0):
        members.setdefault(int(school[v]), []).append(int(v))
    changed = False
    for u in out[np.lexsort((out, -w[out]))]:
        if school[u] >= 0:
            continue
        for s in ci[u]:
            if s < 0:
                break
            need = w[u] - room[s]
            mem = sorted(members.get(int(s), []), key=lambda v: (w[v], v))
            one = [v for v in mem if need <= w[v] < w[u]]
            if one:
                drop = one[:1]
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


def _ref_arcs(cm, ci, school):
    u, j = np.nonzero((ci >= 0) & (ci != school[:, None]) & (school[:, None] >= 0))
    return u, ci[u, j], cm[u, j]


def _ref_shift(w, cm, ci, school, cur, room, stats):
    u, t, c = _ref_arcs(cm, ci, school)
    gain = w[u] * (cur[u] - c)
    ok = (gain > 0) & (room[t] >= w[u])
    u, t, c, gain = u[ok], t[ok], c[ok], gain[ok]
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


def _ref_swap(w, cm, ci, school, cur, room, m, stats):
    u, t, c = _ref_arcs(cm, ci, school)
    s = school[u]
    gain_u = w[u] * (cur[u] - c)
    imp = np.flatnonzero(gain_u > 0)
    if len(imp) == 0:
        return False
    key = s * m + t
    order = np.argsort(key, kind="stable")
    skey = key[order]
    back = t[imp] * m + s[imp]
    lo = np.searchsorted(skey, back, "left")
    cnt = np.searchsorted(skey, back, "right") - lo
    a = np.repeat(imp, cnt)
    b = order[np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())]
    gain = gain_u[a] + gain_u[b]
    ua, ub = u[a], u[b]
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


def _ref_chain(w, cm, ci, school, cur, room, n, stats):
    u, t, c = _ref_arcs(cm, ci, school)
    gain_u = w[u] * (cur[u] - c)
    blocked = (gain_u > 0) & (room[t] < w[u])
    u, t, gain_u = u[blocked], t[blocked], gain_u[blocked]
    if len(u) == 0:
        return False
    vu, vr, vc = _ref_arcs(cm, ci, school)
    fits = room[vr] >= w[vu]
    vu, vr, loss = vu[fits], vr[fits], w[vu[fits]] * (vc[fits] - cur[vu[fits]])
    best_r = np.full(n, -1, np.int64)
    best_loss = np.full(n, np.iinfo(np.int64).max)
    order = np.lexsort((vr, loss, vu))
    first = order[np.r_[True, vu[order][1:] != vu[order][:-1]]] if len(order) else order
    best_r[vu[first]] = vr[first]
    best_loss[vu[first]] = loss[first]
    mem = np.flatnonzero((school >= 0) & (best_r >= 0))
    mem = mem[np.argsort(school[mem], kind="stable")]
    ms = school[mem]
    lo = np.searchsorted(ms, t, "left")
    cnt = np.searchsorted(ms, t, "right") - lo
    a = np.repeat(np.arange(len(u)), cnt)
    v = mem[np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())]
    gain = gain_u[a] - best_loss[v]
    ok = (gain > 0) & (room[t[a]] + w[v] >= w[u[a]])
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


def _ref_lns(w, cm, ci, capacity, school, budget, place_more):
    n, m = len(w), len(capacity)
    if n == 0 or m == 0:
        return 0
    penalty = lns_mod.MAX_FREE_UNITS * int(w.max()) * int(cm.max(initial=0)) + 1
    shared = lns_mod.shared_neighbours(w, ci, m)
    load = np.bincount(school[school >= 0], w[school >= 0], m).astype(np.int64)
    version = np.ones(m, np.int64)
    solved_at = np.zeros(m, np.int64)
    clock = 1
    improved = stall = 0
    for _ in range(lns_mod.MAX_PASSES):
        any_change = False
        for seed in lns_mod._seed_order(w, cm, ci, capacity, school, place_more):
            hood = _ref_hood(int(seed), w, cm, ci, school, shared(seed))
            if solved_at[seed] >= version[hood].max():
                continue
            if budget[0] <= 0:
                return improved
            solved_at[seed] = clock
            res = _ref_solve_hood(w, cm, ci, capacity, school, load, hood, penalty, budget,
                                  place_more)  # fmt: skip
            if res is None:
                stall += 1
                if stall >= lns_mod.STALL:
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
            solved_at[seed] = clock
            improved += 1
            any_change = True
        if not any_change:
            break
    return improved


def _ref_hood(seed, w, cm, ci, school, shared):
    size = lns_mod.NEIGHBOURHOOD_SCHOOLS
    h = [seed]
    at = np.flatnonzero(school == seed)
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


def _ref_solve_hood(w, cm, ci, capacity, school, load, hood, penalty, budget, place_more):
    b, m = len(hood), len(capacity)
    local = np.full(m + 1, -1, np.int64)
    local[hood] = np.arange(b)
    near = local[school] >= 0
    if place_more:
        near |= (school < 0) & (w > 0)
    near = np.flatnonzero(near)
    cin = local[ci[near]]
    n_in = (cin >= 0).sum(axis=1)
    at = local[school[near]]
    waiting = (at < 0) & (n_in >= 1)
    free = np.flatnonzero(np.where(at >= 0, n_in >= (1 if waiting.any() else 2), waiting))
    if not len(free) or (len(free) == 1 and at[free[0]] >= 0):
        return None
    if len(free) > lns_mod.MAX_FREE_UNITS:
        free = np.sort(free[np.lexsort((free, -w[near[free]]))[: lns_mod.MAX_FREE_UNITS]])
    units = near[free]
    t = len(units)
    budget[0] -= t
    wu, at_u, cin = w[units], at[free], cin[free]
    room = capacity[hood] - load[hood]
    np.add.at(room, at_u[at_u >= 0], wu[at_u >= 0])
    if (room < 0).any():
        return None
    r, j = np.nonzero(cin >= 0)
    rank = np.arange(len(r)) - np.searchsorted(r, r)
    opt_s = np.full((t, b + 1), -1, np.int64)
    opt_c = np.zeros((t, b + 1), np.int64)
    opt_j = np.full((t, b + 1), -1, np.int64)
    opt_s[r, rank] = cin[r, j]
    opt_c[r, rank] = wu[r] * cm[units[r], j]
    opt_j[r, rank] = j
    opt_s[:, b] = b if place_more else -1
    opt_c[:, b] = penalty * wu
    cur = (opt_s == at_u[:, None]) & (at_u[:, None] >= 0)
    cur[:, b] = at_u < 0
    incumbent = int((opt_c * cur).sum())
    res = _ref_solve_small(wu, opt_s, opt_c, room, incumbent, lns_mod.MAX_STATES)
    if res is None:
        return None
    jj = opt_j[np.arange(t), res[0]]
    return units, np.where(jj >= 0, ci[units, np.maximum(jj, 0)], -1)


def _ref_solve_small(w, opt_s, opt_c, room, incumbent, max_states):
    t, b = len(w), len(room)
    radix = lns_mod._radix(room)
    if radix is None:
        return None
    huge = lns_mod._HUGE
    valid = opt_s >= 0
    is_s = valid & (opt_s < b)
    s_of = np.where(is_s, opt_s, 0)
    rad = np.where(is_s, radix[s_of], 1)
    mod = np.where(is_s, room[s_of] + 1, huge)
    lim = np.where(is_s, room[s_of] - w[:, None], huge)
    add = np.where(is_s, w[:, None] * rad, 0)
    cst = np.where(valid, opt_c, huge)
    order = np.lexsort((np.arange(t), -w))
    lb_rest = np.concatenate([np.cumsum(cst.min(axis=1)[order][::-1])[::-1], [0]])
    key = np.zeros(1, np.int64)
    cost = np.zeros(1, np.int64)
    parents = []
    for step, i in enumerate(order):
        c = cost[:, None] + cst[i]
        ok = ((key[:, None] // rad[i]) % mod[i] <= lim[i]) & (c < incumbent - lb_rest[step + 1])
        par, col = np.nonzero(ok)
        if not len(par):
            return None
        key = key[par] + add[i, col]
        cost = c[par, col]
        o = np.lexsort((cost, key))
        ko = key[o]
        first = np.empty(len(o), bool)
        first[0] = True
        np.not_equal(ko[1:], ko[:-1], out=first[1:])
        keep = o[first]
        if len(keep) > max_states:
            keep = keep[np.argsort(cost[keep], kind="stable")[:max_states]]
        key, cost = key[keep], cost[keep]
        parents.append((par[keep], col[keep]))
    best = int(np.argmin(cost))
    total = int(cost[best])
    out = np.empty(t, np.int64)
    p = best
    for step in range(t - 1, -1, -1):
        par, col = parents[step]
        out[order[step]] = col[p]
        p = par[p]
    return out, total
