"""Property tests (hypothesis): assignment invariants and zone coverage."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import StraightLine
from geo.zones import zones_from_points, zones_from_polygons
from planning.catchments.assign import assign_capacity, assign_nearest


def instance(seed, n, m, tight):
    rng = np.random.default_rng(seed)
    u = rng.uniform(0, 20_000, (n, 2))
    s = rng.uniform(0, 20_000, (m, 2))
    demand = rng.integers(0, 120, n)
    cap = rng.integers(0, int(max(demand.sum(), 1) * tight / m) + 2, m)
    return u, s, demand, cap


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 40),
    m=st.integers(1, 12),
    k=st.integers(1, 6),
    tight=st.floats(0.3, 2.0),
    split=st.booleans(),
    split_large=st.booleans(),
)
def test_capacity_assignment_invariants(seed, n, m, k, tight, split, split_large):
    u, s, demand, cap = instance(seed, n, m, tight)
    sl = StraightLine()
    a = assign_capacity(
        demand, cap, lambda kk: sl.knn_km(u, s, kk), k, m, allow_split=split,
        split_large=split_large,
    )  # fmt: skip
    # no school over capacity
    assert np.all(a.load <= cap + 1e-9)
    # no unit placed more than its pupils; each unit at most once unless splitting is allowed
    assert np.all(a.placed <= demand + 1e-9)
    arcs = np.bincount(a.flow_unit[a.flow_pupils > 0], minlength=n)
    if not split and not split_large:
        assert np.all(arcs <= 1)
        # whole units: placed entirely or not at all
        assert np.all((a.placed == 0) | (a.placed == demand))
    # the main school is one of the schools the unit's pupils go to
    for i in np.flatnonzero(a.placed > 0):
        assert a.school[i] in set(a.flow_school[(a.flow_unit == i) & (a.flow_pupils > 0)])
    # nothing placed where capacity exists in reach of a wholly unserved, fitting unit
    if not split:
        room = cap - a.load
        d, idx = sl.knn_km(u, s, m)
        for i in np.flatnonzero((a.placed == 0) & (demand > 0)):
            assert not np.any(room[idx[i]] >= demand[i]), "a unit that fits somewhere was left"
    # unserved + placed = demand
    assert np.allclose(a.unserved + a.placed, demand)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 60), m=st.integers(1, 12))
def test_split_flow_places_max_and_nearest_is_nearest(seed, n, m):
    u, s, demand, cap = instance(seed, n, m, 1.0)
    sl = StraightLine()
    a = assign_capacity(demand, cap, lambda kk: sl.knn_km(u, s, kk), m, m, allow_split=True)
    # with every school a candidate, the flow places min(total demand, total capacity)
    assert a.placed.sum() == min(demand.sum(), cap.sum())
    d1, i1 = sl.knn_km(u, s, 1)
    b = assign_nearest(demand, d1, i1, m)
    full = sl.dense_km(u, s)
    assert np.allclose(b.distance_km, full.min(axis=1))
    assert np.all(np.bincount(b.flow_unit, minlength=n) <= 1)


def random_boundary(rng):
    pts = rng.uniform(0, 10_000, (12, 2))
    hull = shapely.MultiPoint(pts).convex_hull
    bite = shapely.Point(rng.uniform(2000, 8000, 2)).buffer(rng.uniform(300, 2000))
    return shapely.difference(hull, bite)


def check_cover(zones, geom):
    z = list(zones.values())
    total = sum(g.area for g in z)
    assert abs(total - geom.area) <= 1e-6 * geom.area
    assert abs(shapely.union_all(z).area - geom.area) <= 1e-6 * geom.area
    for i in range(len(z)):
        for j in range(i + 1, len(z)):
            assert shapely.intersection(z[i], z[j]).area <= 1e-6 * geom.area


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 80), labels=st.integers(1, 6),
       cell=st.sampled_from([100.0, 250.0, 700.0]))  # fmt: skip
def test_point_zones_cover_boundary_without_overlap(seed, n, labels, cell):
    rng = np.random.default_rng(seed)
    geom = random_boundary(rng)
    xy = rng.uniform(-500, 10_500, (n, 2))
    lab = rng.integers(0, labels, n)
    zones = zones_from_points(xy, lab, geom, cell)
    assert set(zones) <= set(lab.tolist())
    check_cover(zones, geom)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), k=st.integers(2, 6), labels=st.integers(1, 5),
       gap=st.booleans())  # fmt: skip
def test_polygon_zones_cover_boundary_without_overlap(seed, k, labels, gap):
    rng = np.random.default_rng(seed)
    geom = random_boundary(rng)
    step = 10_000 / k
    cells = [shapely.box(i * step, j * step, (i + 1) * step, (j + 1) * step)
             for i in range(k) for j in range(k)]  # fmt: skip
    if gap:  # units that leave holes and overlap each other
        cells = [c.buffer(rng.uniform(-step / 5, step / 5)) for c in cells]
    lab = rng.integers(0, labels, len(cells))
    zones = zones_from_polygons(np.array(cells, dtype=object), lab, geom)
    check_cover(zones, geom)
