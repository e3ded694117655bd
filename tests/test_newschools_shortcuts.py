"""New schools' shortcuts give the answers of the plain computation they replace.

The engine skips distance tables it can prove useless (no unit with a gap within reach of a new
site in a straight line; candidate eligibility from each candidate's nearest demand point) and
groups areas in one pass. Each shortcut is checked here against the plain form, and the whole
engine with the shortcuts against the engine without them, on straight and road distances.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

import planning.newschools as ns
from geo.distance import RoadNetwork, StraightLine
from geo.roads import build_road_graph
from planning.newschools import build, reach, siting
from planning.newschools.thresholds import requires_none
from planning.rules import NewSchoolParams, Standards
from tests.test_newschools import CRS, X0, Y0, make_schools, make_units
from tests.test_roads import lattice as road_lattice


def lattice(n: int, step: float, seed: int, keep: float = 0.85) -> np.ndarray:
    """The road tests' jittered lattice, moved to this file's place in UTM."""
    return shapely.transform(road_lattice(n, step, seed, keep), lambda c: c + [X0, Y0])


def road_model(seed: int, n: int = 10, step: float = 1500.0, snap_max_m: float = np.inf):
    roads = gpd.GeoDataFrame(geometry=list(lattice(n, step, seed)), crs=CRS)
    return RoadNetwork(build_road_graph(roads), snap_max_m)


def points(rng, n: int, size_m: float) -> np.ndarray:
    return np.column_stack([X0 + rng.uniform(0, size_m, n), Y0 + rng.uniform(0, size_m, n)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 40),
    m=st.integers(1, 30),
    service=st.floats(0.2, 12.0),
    road=st.booleans(),
    snap=st.sampled_from([np.inf, 400.0]),
)
def test_within_reach_equals_the_table(seed, n, m, service, road, snap):
    rng = np.random.default_rng(seed)
    costs = road_model(seed % 7, snap_max_m=snap) if road else StraightLine()
    dxy, cxy = points(rng, n, 14_000), points(rng, m, 14_000)
    full = costs.dense_km(dxy, cxy)
    # A bound exactly on one of the distances exercises the fallback to the table.
    finite = full[np.isfinite(full)]
    for bound in (service, *(finite[:1] if len(finite) else ())):
        plain = (costs.dense_km(dxy, cxy, max_km=bound) <= bound).any(axis=0)
        idx = np.arange(m)
        assert np.array_equal(reach.within_reach(costs, dxy, cxy, idx, bound), plain)
        sub = idx[::2]
        assert np.array_equal(reach.within_reach(costs, dxy, cxy, sub, bound), plain[sub])


@given(st.lists(st.sampled_from(["a", "b", "town:甲", "unit:1", "unit:10", "*"]), max_size=60))
def test_group_matches_a_scan_per_key(keys):
    keys = np.array(keys, dtype=str)
    values = np.arange(len(keys), dtype=float) % 7
    members, sums, (more,) = siting.group_many(keys, values, values * 2)
    assert list(members) == sorted(set(keys.tolist()))
    for k in set(keys.tolist()):
        assert np.array_equal(members[k], np.nonzero(keys == k)[0])
        assert sums[k] == values[keys == k].sum()
        assert more[k] == 2 * values[keys == k].sum()


def test_unit_points_match_the_per_geometry_rule():
    c_shape = Polygon([(0, 0), (10, 0), (10, 2), (2, 2), (2, 8), (10, 8), (10, 10), (0, 10)])
    geoms = [
        Point(3, 4),
        box(0, 0, 4, 2),
        c_shape,
        Polygon(),
        None,
        shapely.MultiPoint([(0, 0), (2, 2)]),
    ]
    units = pd.DataFrame({"unit_id": list("abcdef")})
    got = build.unit_points(gpd.GeoDataFrame(units, geometry=geoms))
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            assert np.isnan(got[i]).all()
            continue
        c = g.centroid
        if g.geom_type != "Point" and not g.contains(c):
            c = g.representative_point()
        assert (got[i] == (c.x, c.y)).all()


@settings(max_examples=200, deadline=None)
@given(
    level=st.sampled_from(["primary", "junior", "senior"]),
    population=st.one_of(
        st.floats(0, 60_000),
        st.sampled_from([3999.99, 4000.0, 4000 * (1 - 1e-9), 19_999.9, 20_000.0, 0.0]),
    ),
    children=st.integers(0, 5000),
)
def test_requires_none_only_where_the_requirement_needs_no_school(level, population, children):
    params, std = NewSchoolParams(), Standards()
    if requires_none(level, population, float(children), params):
        # Also for the area's own sum, which may differ in the last bits.
        for pop in (population, population * (1 + 4e-16)):
            assert ns.requirement(level, pop, float(children), params, std).schools == 0


@given(
    values=st.lists(
        st.one_of(st.floats(-1e9, 1e9), st.just(-0.0)),
        min_size=1,
        max_size=9,
    ),
    pick=st.lists(st.integers(0, 8), min_size=1, max_size=5),
)
def test_total_equals_numpy_sum(values, pick):
    v = np.array(values)
    members = np.array([i % len(v) for i in pick])
    for got, want in (
        (siting.total(v, members), float(v[members].sum())),
        (siting.total(v[members], None), float(v[members].sum())),
    ):
        assert np.array_equal(np.array(got), np.array(want))
        assert np.signbit(got) == np.signbit(want)


def _arcs(dist_km, capacity, demand, service_km):
    """Pupils and places as whole numbers and the unit-school pairs within the service
    distance (metres, rounded), as allocate_supply documents them."""
    dem = np.rint(np.maximum(np.asarray(demand, float), 0)).astype(np.int64)
    cap = np.floor(np.maximum(np.nan_to_num(np.asarray(capacity, float)), 0)).astype(np.int64)
    ok = np.isfinite(dist_km) & (dist_km <= service_km)
    ok &= (dem > 0)[:, None] & (cap > 0)[None, :]
    arcs = [(int(u), int(j), int(np.rint(dist_km[u, j] * 1000.0))) for u, j in zip(*np.nonzero(ok))]
    return dem, cap, arcs


def nx_best(dist_km, capacity, demand, service_km):
    """(pupils served, pupil-metres) of a max-flow min-cost allocation by networkx."""
    dem, cap, arcs = _arcs(dist_km, capacity, demand, service_km)
    g = nx.DiGraph()
    g.add_node("s")
    g.add_node("t")
    for j, c in enumerate(cap):
        g.add_edge("s", ("school", j), capacity=int(c), weight=0)
    for u, d in enumerate(dem):
        g.add_edge(("unit", u), "t", capacity=int(d), weight=0)
    for u, j, metres in arcs:
        g.add_edge(("school", j), ("unit", u), capacity=int(dem[u]), weight=metres)
    flow = nx.max_flow_min_cost(g, "s", "t")
    return sum(flow["s"].values()), nx.cost_of_flow(g, flow)


def nx_cost_with(served, used, dist_km, capacity, demand, service_km):
    """Least pupil-metres of a flow that serves exactly ``served`` from exactly ``used``
    (networkx network simplex); None when no flow over the allowed pairs does."""
    _, _, arcs = _arcs(dist_km, capacity, demand, service_km)
    g = nx.DiGraph()
    for j, x in enumerate(used):
        g.add_node(("school", j), demand=-int(x))
    for u, x in enumerate(served):
        g.add_node(("unit", u), demand=int(x))
    for u, j, metres in arcs:
        g.add_edge(("school", j), ("unit", u), weight=metres)
    try:
        return nx.network_simplex(g)[0]
    except nx.NetworkXUnfeasible:
        return None


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 25),
    m=st.integers(0, 12),
    service=st.sampled_from([0.5, 2.0, 3.0, np.inf]),
)
def test_allocate_supply_is_a_max_flow_of_least_cost(seed, n, m, service):
    """Most pupils served, then least pupil-metres: the totals equal networkx's optimum, and
    some flow over the pairs within reach gives the returned per-unit and per-school counts
    at that least cost (an arc left out or a wrong cost fails one of the two)."""
    rng = np.random.default_rng(seed)
    dist = rng.uniform(0, 4, (n, m)).round(1)  # ties on purpose
    dist[rng.random((n, m)) < 0.2] = np.inf
    dist[rng.random((n, m)) < 0.05] = np.nan
    cap = rng.choice([0, 0, 30, 45.5, np.nan], m)
    dem = rng.choice([0, 0, 3, 12.4, 40], n)
    served, used = ns.allocate_supply(dist, cap, dem, service)
    again = ns.allocate_supply(dist, cap, dem, service)
    assert np.array_equal(served, again[0]) and np.array_equal(used, again[1])
    whole_dem, whole_cap, _ = _arcs(dist, cap, dem, service)
    assert (served >= 0).all() and (served <= whole_dem).all()
    assert (used >= 0).all() and (used <= whole_cap).all()
    assert served.sum() == used.sum()
    if n == 0 or m == 0:
        assert served.sum() == 0
        return
    most, least = nx_best(dist, cap, dem, service)
    assert served.sum() == most
    assert nx_cost_with(served, used, dist, cap, dem, service) == least


def instance(seed: int):
    """Villages in a few towns over ~15 km, schools too small for them, candidate sites."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 60))
    towns = ["甲镇", "乙镇", "丙镇"]
    rows = [
        (
            f"u{i}",
            float(rng.choice([800, 2500, 5000, 9000, 14000])),
            rng.uniform(0, 15),
            rng.uniform(0, 15),
            "village",
            towns[int(rng.integers(0, 3))],
        )
        for i in range(n)
    ]
    units = make_units(rows)
    srows = []
    for j in range(int(rng.integers(0, 12))):
        level = ["primary", "junior", "senior"][j % 3]
        students = int(rng.choice([10, 25, 80, 400]))
        cap = int(rng.choice([45, 450, 900]))
        srows.append((f"s{j}", level, cap, students, rng.uniform(0, 15), rng.uniform(0, 15)))
    schools = make_schools(srows)
    k = int(rng.integers(0, 15))
    cand = gpd.GeoDataFrame(
        {
            "candidate_id": [f"c{i}" for i in range(k)],
            "name": [f"地块{i}" for i in range(k)],
            "level": [["", "primary", "junior"][i % 3] for i in range(k)],
        },
        geometry=[Point(X0 + x * 1000, Y0 + y * 1000) for x, y in rng.uniform(0, 15, (k, 2))],
        crs=CRS,
    )
    return schools, units, cand


def outputs(res):
    summary = {k: v for k, v in res.summary.to_dict().items() if k != "solve_seconds"}
    return (
        pd.DataFrame(res.new_schools).assign(geometry=res.new_schools.geometry.to_wkb()),
        pd.DataFrame({"s": res.layout_status, "r": res.layout_reason, "m": res.merge_into}),
        res.requirements,
        res.context,
        summary,
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("road", [False, True])
def test_engine_same_with_and_without_shortcuts(seed, road, monkeypatch):
    schools, units, cand = instance(seed)
    params = NewSchoolParams(planning_unit="unit" if seed % 2 else "town")
    std = Standards()

    def run():
        costs = road_model(seed) if road else StraightLine()
        return ns.run_new_schools(schools, units, params, std, candidates=cand, costs=costs)

    fast = outputs(run())
    monkeypatch.setattr(reach, "straight_bounded", lambda costs: False)
    monkeypatch.setattr(siting, "requires_none", lambda *a: False)
    plain = outputs(run())
    assert len(fast[0]) == len(plain[0])
    for a, b in zip(fast[:4], plain[:4], strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert fast[4] == plain[4]
