"""Road graph build and snapping against plain references: a graph built vertex by vertex with
Python loops, distances by networkx on it, snaps by projecting on every segment.

Random small layers with the awkward cases: vertices merged within the node tolerance, lines
digitised twice, dead ends on another line's interior (T-junctions without a vertex), closed
rings without junctions, long shape-point chains, disconnected pieces, far places."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import geo.roads as roads
from geo.distance import RoadNetwork
from geo.roads import Snap, build_road_graph


def random_layer(seed: int, tol: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 8, (12, 2)) * 25.0
    lines = []
    for _ in range(rng.integers(1, 9)):
        k = int(rng.integers(2, 6))
        p = pool[rng.integers(0, len(pool), k)].copy()
        p += rng.uniform(-0.4, 0.4, p.shape) * tol * (rng.random() < 0.5)  # merged within tol
        if rng.random() < 0.3:  # winding: shape points between the pool vertices
            f = np.linspace(0, 1, int(rng.integers(3, 9)))[:, None]
            p = p[0] + (p[-1] - p[0]) * f + rng.normal(0, 3, (len(f), 2)) * (f * (1 - f) > 0)
        lines.append(p)
        if rng.random() < 0.15:
            lines.append(p[::-1].copy())  # digitised twice
    for _ in range(rng.integers(0, 4)):  # dead ends on another line's interior
        base = lines[int(rng.integers(0, len(lines)))]
        i = int(rng.integers(0, len(base) - 1))
        end = base[i] + (base[i + 1] - base[i]) * rng.uniform(0.2, 0.8)
        end = end + rng.uniform(-0.3, 0.3, 2) * tol * (rng.random() < 0.5)
        other = end + rng.normal(0, 30, 2)
        lines.append(np.array([other, end] if rng.random() < 0.5 else [end, other]))
    if rng.random() < 0.4:  # a ring without junctions
        c = rng.uniform(300, 400, 2)
        lines.append(np.asarray(shapely.Point(c).buffer(rng.uniform(5, 20), 3).exterior.coords))
    if rng.random() < 0.4:  # a piece of its own
        lines.append(np.array([[600.0, 600.0], [650.0, 610.0], [700.0, 600.0]]))
    return np.array([shapely.LineString(p) for p in lines], dtype=object)


def reference_graph(layer, tol: float, join_ends: bool = True):
    """Nodes (sorted by tolerance cell, at the cell's first vertex) and unique edges, built
    with loops; the same rules as build_road_graph."""
    parts = [np.asarray(g.coords) for g in layer]
    allc = np.concatenate(parts)
    mn = allc.min(axis=0)
    cells = np.floor((allc - mn) / tol).astype(np.int64)
    width = int(cells[:, 1].max()) + 1
    first: dict[int, tuple[float, float]] = {}
    for (gx, gy), c in zip(cells, allc, strict=True):
        first.setdefault(int(gx) * width + int(gy), (float(c[0]), float(c[1])))
    keys = sorted(first)
    node_of = {k: i for i, k in enumerate(keys)}
    xy = np.array([first[k] for k in keys])

    def node(c):
        g = np.floor((np.asarray(c) - mn) / tol).astype(np.int64)
        return node_of[int(g[0]) * width + int(g[1])]

    edges, ends = [], set()
    for p in parts:
        ids = [node(c) for c in p]
        ends.update((ids[0], ids[-1]))
        edges += [(u, v) for u, v in zip(ids[:-1], ids[1:], strict=True) if u != v]
    if join_ends:
        deg: dict[int, int] = {}
        for u, v in edges:
            deg[u] = deg.get(u, 0) + 1
            deg[v] = deg.get(v, 0) + 1
        dead = [x for x in sorted(ends) if deg.get(x, 0) == 1]
        new = []
        for u, v in edges:
            a, b = xy[u], xy[v]
            ab = b - a
            cuts = []
            for x in dead:
                if x in (u, v):
                    continue
                t = float(np.dot(xy[x] - a, ab) / max(np.dot(ab, ab), 1e-300))
                tc = min(max(t, 0.0), 1.0)
                if math.hypot(*(xy[x] - a - ab * tc)) <= tol and 0 < t < 1:
                    cuts.append((t, x))
            chain = [u] + [x for _, x in sorted(cuts)] + [v]
            new += [(p, q) for p, q in zip(chain[:-1], chain[1:], strict=True) if p != q]
        edges = new
    edges = sorted({(min(u, v), max(u, v)) for u, v in edges})
    return xy, edges


def reference_snap(xy, edges, pts, max_m):
    """(segment, t, metres) per place by projecting on every segment, ties by segment index."""
    out = []
    for p in pts:
        best = (np.inf, -1, 0.0)
        for s, (u, v) in enumerate(edges):
            a, ab = xy[u], xy[v] - xy[u]
            t = min(max(float(np.dot(p - a, ab) / np.dot(ab, ab)), 0.0), 1.0)
            d = math.hypot(*(p - a - ab * t))
            if d < best[0] - 1e-9:
                best = (d, s, t)
        out.append(best if best[0] <= max_m else (np.inf, -1, 0.0))
    return out


def reference_distances(xy, edges, org, dst, max_m):
    """Metres between places by networkx, places inserted on their segments."""
    G = nx.Graph()
    G.add_nodes_from(range(len(xy)))
    on_seg: dict[int, list] = {}
    places = [("o", i, p) for i, p in enumerate(org)] + [("d", j, p) for j, p in enumerate(dst)]
    snaps = reference_snap(xy, edges, np.array([p for *_, p in places]), max_m)
    for (kind, i, _), (d, s, t) in zip(places, snaps, strict=True):
        G.add_node((kind, i))
        if s >= 0:
            on_seg.setdefault(s, []).append((t, (kind, i), d))
    for s, (u, v) in enumerate(edges):
        length = math.hypot(*(xy[v] - xy[u]))
        stops = sorted(on_seg.get(s, []), key=lambda x: x[0])
        chain = [(0.0, u)] + [(t, ("r", name)) for t, name, _ in stops] + [(1.0, v)]
        for (t0, p0), (t1, p1) in zip(chain[:-1], chain[1:], strict=True):
            w = (t1 - t0) * length
            if not G.has_edge(p0, p1) or G[p0][p1]["weight"] > w:
                G.add_edge(p0, p1, weight=w)
        for _, name, d in stops:
            G.add_edge(name, ("r", name), weight=d)
    out = np.full((len(org), len(dst)), np.inf)
    for j in range(len(dst)):
        dist = nx.single_source_dijkstra_path_length(G, ("d", j))
        for i in range(len(org)):
            out[i, j] = dist.get(("o", i), np.inf)
    return out


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    tol=st.sampled_from([0.5, 2.0]),
    join=st.booleans(),
    max_m=st.sampled_from([np.inf, 40.0]),
)
def test_build_and_distances_equal_the_reference(seed, tol, join, max_m):
    layer = random_layer(seed, tol)
    g = build_road_graph(layer, node_tol_m=tol, join_ends=join)
    xy, edges = reference_graph(layer, tol, join)
    assert np.array_equal(g.node_xy, xy)
    assert np.array_equal(np.column_stack([g.seg_a, g.seg_b]), np.array(edges).reshape(-1, 2))
    rng = np.random.default_rng(seed + 1)
    org = rng.uniform(-50, 750, (12, 2))
    dst = rng.uniform(-50, 750, (5, 2))
    ref = reference_distances(xy, edges, org, dst, max_m)
    pieces = nx.Graph(edges)
    pieces.add_nodes_from(range(len(xy)))
    assert g.n_components == nx.number_connected_components(pieces)
    got = RoadNetwork(g, snap_max_m=max_m).dense_km(org, dst) * 1000.0
    assert np.array_equal(np.isfinite(got), np.isfinite(ref))
    fin = np.isfinite(ref)
    assert np.allclose(got[fin], ref[fin], rtol=1e-9, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), max_m=st.sampled_from([np.inf, 30.0, 300.0]))
def test_snap_equals_projection_on_every_segment(seed, max_m):
    layer = random_layer(seed, 0.5)
    g = build_road_graph(layer)
    rng = np.random.default_rng(seed + 2)
    pts = np.concatenate([rng.uniform(-100, 800, (40, 2)), rng.uniform(-5000, 5000, (5, 2))])
    pts[:4] = g.node_xy[rng.integers(0, g.n_nodes, 4)]  # on a vertex: several segments tie
    s = g.snap(pts, max_m)
    # brute force with the same projection: the exact nearest, ties by segment index
    d, t = g._project(pts[:, None, :], np.arange(g.n_edges)[None, :])
    best = d.min(axis=1)
    want = np.where(d == best[:, None], np.arange(g.n_edges), g.n_edges).min(axis=1)
    ok = best <= max_m
    assert np.array_equal(s.seg, np.where(ok, want, -1))
    assert np.array_equal(s.off_m, np.where(ok, best, np.inf))


@pytest.mark.parametrize("seed", range(6))
def test_far_places_and_small_blocks_snap_the_same(seed, monkeypatch):
    """The k-d tree and STRtree fallbacks (places far from every road) give the grid's snaps."""
    layer = random_layer(seed, 0.5)
    pts = np.random.default_rng(seed).uniform(-3000, 3000, (300, 2))
    want = build_road_graph(layer).snap(pts)
    monkeypatch.setattr(roads, "_SNAP_BLOCKS", (1,))
    got = build_road_graph(layer).snap(pts)
    for f in ("seg", "t", "off_m", "cost_a_m", "cost_b_m"):
        assert np.array_equal(getattr(got, f), getattr(want, f)), f


@pytest.mark.parametrize("seed", range(8))
def test_chains_by_doubling_equal_the_walk(seed, monkeypatch):
    """Very long chains take pointer doubling instead of the walk: the same graph."""
    layer = random_layer(seed, 0.5)
    want = build_road_graph(layer)
    monkeypatch.setattr(roads._walk, "__defaults__", (1,))
    got = build_road_graph(layer)
    for f in ("seg_chain", "seg_pos_a", "seg_pos_b", "chain_len", "chain_u", "chain_v",
              "junction", "component"):  # fmt: skip
        assert np.array_equal(getattr(got, f), getattr(want, f)), f


def test_ring_without_junction_is_one_chain_from_its_lowest_node():
    ring = shapely.Point(0, 0).buffer(100, 8).exterior
    g = build_road_graph(np.array([ring], dtype=object))
    assert g.n_search_nodes == 1 and len(g.chain_len) == 1
    assert g.chain_len[0] == pytest.approx(g.seg_len.sum())
    rn = RoadNetwork(g)
    # two places on opposite sides: half the ring apart plus their legs
    d = rn.dense_km([(0, 110)], [(0, -110)])[0, 0] * 1000
    assert d == pytest.approx(g.seg_len.sum() / 2 + 20, rel=1e-6)


@pytest.mark.parametrize("full", [0.0, np.inf])
@pytest.mark.parametrize("seed", [1, 2])
def test_knn_bounded_rounds_and_unbounded_search_agree(seed, full, monkeypatch):
    """k nearest by bounded rounds (searches on the box around each chunk of destinations) or
    by one unbounded search per destination: the same answer as the full table."""
    from test_roads import winding

    monkeypatch.setattr(roads, "_KNN_FULL", full)
    g = build_road_graph(winding(n=9, seed=seed))
    rn = RoadNetwork(g, snap_max_m=800.0)
    rng = np.random.default_rng(seed)
    org = rng.uniform(-200, 2800, (300, 2))
    dst = rng.uniform(-100, 2700, (40, 2))
    table = rn.dense_km(org, dst)
    for k in (1, 3, 8):
        d, i = g.knn(rn.snap(org), rn.snap(dst), k)
        want = np.sort(table, axis=1)[:, :k]
        assert np.array_equal(np.isfinite(d), np.isfinite(want))
        fin = np.isfinite(want)
        assert np.allclose(d[fin] / 1000.0, want[fin], atol=1e-9)
        got = np.take_along_axis(table, np.maximum(i, 0), 1)
        assert np.allclose(got[fin], d[fin] / 1000.0, atol=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("max_km", [0.3, 0.9])
def test_bounded_rows_on_boxes_equal_the_full_table_cut(seed, max_km):
    """Bounded junction rows searched on the box around them (no rows cached yet, or some
    cached by an earlier unbounded table): the full table cut at the bound, bit for bit."""
    from test_roads import winding

    layer = winding(n=8, seed=seed)
    rng = np.random.default_rng(seed)
    org = rng.uniform(-200, 2500, (150, 2))
    dst = rng.uniform(-100, 2400, (12, 2))
    full = RoadNetwork(build_road_graph(layer), 800.0).dense_km(org, dst)
    want = np.where(full <= max_km, full, np.inf)
    fresh = RoadNetwork(build_road_graph(layer), 800.0)
    assert np.array_equal(fresh.dense_km(org, dst, max_km=max_km), want)
    mixed = RoadNetwork(build_road_graph(layer), 800.0)
    mixed.dense_km(org, dst[:5])  # caches the rows of some destinations
    assert np.array_equal(mixed.dense_km(org, dst, max_km=max_km), want)
    small = RoadNetwork(build_road_graph(layer), 800.0)  # one place at a time
    for j in range(len(dst)):
        assert np.array_equal(
            small.dense_km(org[:3], dst[j : j + 1], max_km=max_km), want[:3, j : j + 1]
        )


@pytest.mark.parametrize("seed", [1, 2])
def test_network_builds_its_indexes_up_front_with_the_same_snaps(seed):
    """RoadNetwork prepares the snapping index and junction boxes when it is made (the plan's
    distance stage), and snaps and distances equal those of a graph indexed on first use."""
    from test_roads import winding

    layer = winding(n=6, seed=seed)
    lazy = build_road_graph(layer)
    net = RoadNetwork(build_road_graph(layer), 800.0)
    assert net.graph._seg_inv is not None and net.graph._jx is not None
    pts = np.random.default_rng(seed).uniform(-200, 2000, (200, 2))
    want, got = lazy.snap(pts, 800.0), net.snap(pts)
    for f in Snap.__dataclass_fields__:
        assert np.array_equal(getattr(got, f), getattr(want, f), equal_nan=True), f
    assert np.array_equal(
        net.dense_km(pts, pts[:9], max_km=0.7), RoadNetwork(lazy, 800.0).dense_km(pts, pts[:9], 0.7)
    )
