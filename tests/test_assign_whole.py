"""Whole-unit assignment: the large-neighbourhood search against exact references.

- ``solve_small`` (the exact sub-solver) equals a brute force over every choice;
- ``improve`` with the search is never worse than the local search alone, never over capacity,
  every unit at one of its candidates;
- when one neighbourhood holds the whole model, ``improve(place_more=True)`` reaches the
  brute-force optimum;
- the hand-built bin-packing case the single-unit moves cannot fix;
- on crowded models (many units per school, ties): valid, never worse, repeatable.
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
def test_improve_on_crowded_models_never_worsens_and_repeats(inst, place_more):
    """Many units per school, ties, units without pupils: valid, never worse than the start
    (most pupils placed, then least pupil-metres), the same answer every time."""
    w, cap, cand_d, cand_i, start = inst
    a, b = start.copy(), start.copy()
    got = aw.improve(w, cap, cand_d, cand_i, a, place_more=place_more)
    assert aw.improve(w, cap, cand_d, cand_i, b, place_more=place_more) == got
    assert np.array_equal(a, b)
    _check_valid(a, w, cap, cand_i)
    assert _key(a, w, cand_d, cand_i) <= _key(start, w, cand_d, cand_i)


@settings(max_examples=150, deadline=None)
@given(crowded())
def test_eject_places_short_units_without_unplacing_others(inst):
    w, cap, cand_d, cand_i, start = inst
    short = np.flatnonzero((start < 0) & (w > 0))
    school = start.copy()
    placed = aw.eject(w, cap, cand_d, cand_i, school, short)
    _check_valid(school, w, cap, cand_i)
    assert (school[start >= 0] >= 0).all()  # units moved, never dropped
    assert placed == int((school[short] >= 0).sum())


@pytest.mark.parametrize("seed", [0, 1])
def test_improve_on_large_schools_is_valid_and_never_worse(seed):
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
        school = start.copy()
        aw.improve(w, cap, cand_d, cand_i, school, place_more=place_more)
        _check_valid(school, w, cap, cand_i)
        assert _key(school, w, cand_d, cand_i) <= _key(start, w, cand_d, cand_i)


def test_lists_widen_only_within_the_reach():
    """A unit whose near schools are full looks further only within ``widen_km``: a school with
    room 50 km away takes it without the reach, not with a 20 km reach."""
    from geo.distance import StraightLine

    units = np.array([[0.0, 0.0], [100.0, 0.0]])
    schools = np.array([[0.0, 500.0], [50_000.0, 0.0]])  # near one full after unit 0, far one
    demand, cap = np.array([50, 50]), np.array([50, 100])
    sl = StraightLine()

    def cands(k):
        return sl.knn_km(units, schools, k)

    wide = assign_capacity(demand, cap, cands, 1, 2)
    assert wide.k_used == 2 and wide.unserved.sum() == 0
    near = assign_capacity(demand, cap, cands, 1, 2, widen_km=20.0)
    assert near.school.tolist() == [0, -1] and near.unserved.sum() == 50
