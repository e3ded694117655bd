"""Road graph: snapping, exact shortest distances (against networkx), pieces, road ≥ straight."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import RoadNetwork, StraightLine, make_cost_model
from geo.roads import build_road_graph


def lattice(n=12, step=200.0, seed=0, keep=0.85):
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(n) * step, np.arange(n) * step)
    p = np.stack([xs, ys], -1) + rng.normal(0, step / 7, (n, n, 2))
    lines = []
    for i in range(n):
        for j in range(n):
            if j + 1 < n and rng.random() < keep:
                mid = (p[i, j] + p[i, j + 1]) / 2 + rng.normal(0, step / 10, 2)
                lines.append(shapely.LineString([p[i, j], mid, p[i, j + 1]]))
            if i + 1 < n and rng.random() < keep:
                lines.append(shapely.LineString([p[i, j], p[i + 1, j]]))
    return np.array(lines, dtype=object)


def brute_force(g, rn, org, dst):
    """Road distances in km by networkx, one Dijkstra per destination with its own leg."""
    G = nx.Graph()
    for a, b, length in zip(g.seg_a, g.seg_b, g.seg_len, strict=True):
        G.add_edge(int(a), int(b), weight=float(length))
    so, sd = rn.snap(org), rn.snap(dst)
    out = np.full((len(org), len(dst)), np.inf)
    for j in range(len(dst)):
        if sd.seg[j] < 0:
            continue
        H = G.copy()
        H.add_edge("s", int(sd.node_a[j]), weight=sd.cost_a_m[j])
        H.add_edge("s", int(sd.node_b[j]), weight=sd.cost_b_m[j])
        dist = nx.single_source_dijkstra_path_length(H, "s")
        for i in range(len(org)):
            if so.seg[i] < 0:
                continue
            v = min(
                dist.get(int(so.node_a[i]), np.inf) + so.cost_a_m[i],
                dist.get(int(so.node_b[i]), np.inf) + so.cost_b_m[i],
            )
            if so.seg[i] == sd.seg[j]:
                along = abs(so.t[i] - sd.t[j]) * g.seg_len[so.seg[i]]
                v = min(v, so.off_m[i] + sd.off_m[j] + along)
            out[i, j] = v
    return out / 1000.0


@pytest.fixture(scope="module")
def net():
    g = build_road_graph(lattice())
    return g, RoadNetwork(g, snap_max_m=600.0)


def test_snap_is_the_nearest_segment_point(net):
    g, rn = net
    pts = np.random.default_rng(3).uniform(-300, 2500, (400, 2))
    s = g.snap(pts)
    segs = shapely.linestrings(np.stack([g.node_xy[g.seg_a], g.node_xy[g.seg_b]], 1))
    ref = shapely.distance(shapely.points(pts), shapely.MultiLineString(list(segs)))
    assert np.allclose(s.off_m, ref, atol=1e-6)
    # the snapped point lies on its segment at that distance
    a, b = g.node_xy[g.seg_a[s.seg]], g.node_xy[g.seg_b[s.seg]]
    q = a + (b - a) * s.t[:, None]
    assert np.allclose(np.hypot(*(pts - q).T), s.off_m, atol=1e-6)


def test_dense_knn_nearest_equal_networkx(net):
    g, rn = net
    rng = np.random.default_rng(5)
    org = rng.uniform(-200, 2400, (120, 2))
    dst = rng.uniform(0, 2200, (15, 2))
    ref = brute_force(g, rn, org, dst)
    dense = rn.dense_km(org, dst)
    assert np.array_equal(np.isfinite(dense), np.isfinite(ref))
    fin = np.isfinite(ref)
    assert np.allclose(dense[fin], ref[fin], atol=1e-9)
    for k in (1, 4, 15):
        d, i = rn.knn_km(org, dst, k)
        want = np.sort(ref, axis=1)[:, :k]
        assert np.array_equal(np.isfinite(d), np.isfinite(want))
        assert np.allclose(d[np.isfinite(d)], want[np.isfinite(want)], atol=1e-9)
        got = np.take_along_axis(ref, np.maximum(i, 0), 1)
        assert np.allclose(got[np.isfinite(d)], d[np.isfinite(d)], atol=1e-9)
        assert np.all(i[~np.isfinite(d)] == -1)


def test_pieces_are_reported_and_unreachable():
    main = [shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(1000, 0), (1000, 1000)])]
    island = [shapely.LineString([(5000, 5000), (5500, 5000)])]
    g = build_road_graph(np.array(main + island, dtype=object))
    comps = g.components()
    assert len(comps) == 2
    assert comps[0]["length_km"] == pytest.approx(2.0)
    assert comps[1]["length_km"] == pytest.approx(0.5)
    rn = RoadNetwork(g)
    d = rn.dense_km([(5200, 5010)], [(100, 10), (5400, 4990)])
    assert np.isinf(d[0, 0])
    assert d[0, 1] == pytest.approx((10 + 200 + 10) / 1000)


def test_far_places_are_off_network():
    g = build_road_graph(np.array([shapely.LineString([(0, 0), (1000, 0)])], dtype=object))
    rn = RoadNetwork(g, snap_max_m=500)
    d, i = rn.knn_km([(500, 400), (500, 900)], [(0, 10)], 1)
    assert d[0, 0] == pytest.approx((400 + 500 + 10) / 1000)
    assert np.isinf(d[1, 0]) and i[1, 0] == -1


def test_same_segment_goes_straight_along():
    g = build_road_graph(np.array([shapely.LineString([(0, 0), (10000, 0)])], dtype=object))
    rn = RoadNetwork(g)
    assert rn.dense_km([(4000, 30)], [(4500, -20)])[0, 0] == pytest.approx(0.55)
    assert rn.knn_km([(4000, 30)], [(4500, -20), (9000, 0)], 2)[0][0, 0] == pytest.approx(0.55)


def test_duplicate_and_shared_vertices():
    a = shapely.LineString([(0, 0), (100, 0)])
    dup = shapely.LineString([(100, 0), (0, 0)])
    b = shapely.LineString([(100, 0.2), (100, 100)])  # joins within the vertex tolerance
    g = build_road_graph(np.array([a, dup, b], dtype=object))
    assert g.n_edges == 2 and g.n_components == 1


def test_make_cost_model_choice():
    assert make_cost_model(None, "auto").kind == "straight"
    roads = np.array([shapely.LineString([(0, 0), (1, 0)])], dtype=object)
    assert make_cost_model(roads, "auto").kind == "road"
    assert make_cost_model(roads, "straight").kind == "straight"
    from core.errors import InputError

    with pytest.raises(InputError):
        make_cost_model(None, "road")


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_org=st.integers(1, 40),
    n_dst=st.integers(1, 8),
    k=st.integers(1, 8),
)
def test_road_distance_never_below_straight(seed, n_org, n_dst, k):
    g = build_road_graph(lattice(n=6, seed=seed, keep=0.7))
    rn = RoadNetwork(g)
    rng = np.random.default_rng(seed)
    org = rng.uniform(-500, 1500, (n_org, 2))
    dst = rng.uniform(-500, 1500, (n_dst, 2))
    straight = StraightLine().dense_km(org, dst)
    dense = rn.dense_km(org, dst)
    assert np.all(dense >= straight - 1e-9)
    d, i = rn.knn_km(org, dst, k)
    ok = i >= 0
    assert np.all(d[ok] >= straight[np.nonzero(ok)[0], i[ok]] - 1e-9)
    # knn agrees with the dense table
    assert np.allclose(d[ok], dense[np.nonzero(ok)[0], i[ok]])


def winding(n=7, step=300.0, shape=5, seed=1):
    """Junction lattice whose links are winding lines with ``shape`` points, plus a ring road
    without junctions: long degree-2 chains for the junction graph."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(n) * step, np.arange(n) * step)
    p = np.stack([xs, ys], -1) + rng.normal(0, step / 8, (n, n, 2))
    lines = []
    f = np.linspace(0, 1, shape + 2)[:, None]
    for i in range(n):
        for j in range(n):
            for nb in [(i, j + 1), (i + 1, j)]:
                if nb[0] < n and nb[1] < n and rng.random() < 0.85:
                    a, b = p[i, j], p[nb]
                    pts = (
                        a
                        + (b - a) * f
                        + rng.normal(0, step / 15, (shape + 2, 2)) * (f * (1 - f) > 0)
                    )
                    lines.append(shapely.LineString(pts))
    ring = shapely.Point(n * step + 400, 500).buffer(300, 4).exterior
    lines.append(ring)
    return np.array(lines, dtype=object)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bounded_knn_on_junction_graph_equals_brute_force(seed):
    g = build_road_graph(winding(seed=seed))
    assert g.n_search_nodes < g.n_nodes / 2  # shape points were folded into chains
    rn = RoadNetwork(g, snap_max_m=800.0)
    rng = np.random.default_rng(seed + 10)
    org = rng.uniform(-200, 2600, (150, 2))
    dst = rng.uniform(-100, 2500, (25, 2))
    dst[:3] = [(2100 + 400, 500), (2100 + 400, 820), (2100 + 100, 500)]  # on or near the ring
    ref = brute_force(g, rn, org, dst)
    for k in (1, 3, 10, 25):
        d, i = g.knn(rn.snap(org), rn.snap(dst), k)
        d = d / 1000.0
        want = np.sort(ref, axis=1)[:, :k]
        assert np.array_equal(np.isfinite(d), np.isfinite(want))
        assert np.allclose(d[np.isfinite(d)], want[np.isfinite(want)], atol=1e-9)
        got = np.take_along_axis(ref, np.maximum(i, 0), 1)
        assert np.allclose(got[np.isfinite(d)], d[np.isfinite(d)], atol=1e-9)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("max_km", [0.3, 0.8, 2.0])
def test_bounded_dense_equals_full_table_cut_at_the_bound(seed, max_km, monkeypatch):
    import geo.roads as roads

    g = build_road_graph(winding(seed=seed))
    rn = RoadNetwork(g, snap_max_m=800.0)
    rng = np.random.default_rng(seed + 20)
    org = rng.uniform(-200, 2600, (120, 2))
    dst = rng.uniform(-100, 2500, (30, 2))
    full = rn.dense_km(org, dst)
    want = np.where(full <= max_km, full, np.inf)
    # Both paths: cached junction rows (small graph) and bounded chunked searches (large).
    for cells in (roads._ROW_CACHE_CELLS, 0):
        monkeypatch.setattr(roads, "_ROW_CACHE_CELLS", cells)
        got = RoadNetwork(g, snap_max_m=800.0).dense_km(org, dst, max_km=max_km)
        assert np.array_equal(np.isfinite(got), np.isfinite(want))
        assert np.allclose(got[np.isfinite(got)], want[np.isfinite(want)], atol=1e-9)
    straight = StraightLine().dense_km(org, dst, max_km=max_km)
    assert np.all(np.isinf(straight[StraightLine().dense_km(org, dst) > max_km]))


def test_snap_cache_keeps_recent_big_sets_past_many_small_ones(monkeypatch):
    import geo.distance as distance

    g = build_road_graph(lattice())
    rn = RoadNetwork(g, snap_max_m=600.0)
    calls = []
    real = g.snap
    monkeypatch.setattr(g, "snap", lambda xy, m: calls.append(len(xy)) or real(xy, m))
    monkeypatch.setattr(distance, "_SNAP_SETS", 8)
    monkeypatch.setattr(distance, "_SNAP_POINTS", 1000)
    rng = np.random.default_rng(1)
    big = rng.uniform(0, 2200, (600, 2))
    first = rn.snap(big)
    for _ in range(20):  # small per-area sets, each used once, the big one used between them
        rn.snap(rng.uniform(0, 2200, (3, 2)))
        assert rn.snap(big) is first
    assert calls.count(600) == 1 and len(rn._snaps) <= 8
    # Over the points bound the oldest go, the one just used stays.
    other = rng.uniform(0, 2200, (600, 2))
    rn.snap(other)
    assert list(rn._snaps) == [other.tobytes()]
    np.testing.assert_array_equal(rn.snap(big).seg, first.seg)  # snapped again, same answer
