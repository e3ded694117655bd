"""Benchmark catchments on a generated county and a 5× prefecture; peers measured in the same run.

    .venv/bin/python bench/bench_catchments.py [--county-only]

Prints times and ratios against the targets of issue 5 (compute only, no file reading):
road-distance nearest (graph + snap + shortest paths), capacity assignment (min-cost flow on the
10 nearest vs networkx network_simplex on the same model, same objective), zone polygons (label
raster vs geopandas dissolve), and run_catchments end to end.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import geopandas as gpd  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from geo.distance import RoadNetwork, StraightLine  # noqa: E402
from geo.roads import build_road_graph  # noqa: E402
from geo.zones import zones_from_points  # noqa: E402
from planning.catchments import run_catchments  # noqa: E402
from planning.catchments.assign import assign_capacity, solve_flow  # noqa: E402
from planning.pipeline import cost_model  # noqa: E402
from planning.rules import CatchmentParams, DistanceParams, Standards  # noqa: E402
from planning.ties import cost_units, id_keys  # noqa: E402

CRS = "EPSG:32649"
TARGETS = {  # seconds: county, prefecture (issue 5)
    "road_nearest": (0.15, 1.0),
    "capacity_flow": (0.05, 0.5),
    "zones": (0.1, 0.3),
}
RATIO_TARGETS = {"road_nearest": 30, "capacity_flow": 50}


def timed(f, *a, repeat=1, **kw):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f(*a, **kw)
        best = min(best, time.perf_counter() - t)
    return best, out


def county(scale: int, seed: int = 0, shape_points: int = 7):
    """Roads (~200,000 segments × scale), villages, 100 m cells, schools.

    Roads: a jittered lattice of junctions whose links are winding lines with ``shape_points``
    vertices between junctions, like a real road layer (the sample county: 73 % of nodes are
    shape points of degree 2; OSM roads are similar). ``shape_points=0`` gives the bare lattice
    of straight links, a worst case with no shape points at all."""
    rng = np.random.default_rng(seed)
    side = 50_000.0 * np.sqrt(scale)
    per_link = shape_points + 1
    # junctions per side: 2 n² links × per_link segments ≈ 200k × scale
    n = int(round(np.sqrt(100_000 * scale / per_link)))
    step = side / n
    xs, ys = np.meshgrid(np.arange(n) * step, np.arange(n) * step)
    p = np.stack([xs, ys], -1) + rng.normal(0, step / 6, (n, n, 2))
    right = np.stack([p[:, :-1], p[:, 1:]], 2).reshape(-1, 2, 2)
    up = np.stack([p[:-1, :], p[1:, :]], 2).reshape(-1, 2, 2)
    ends = np.concatenate([right, up])
    ends = ends[rng.random(len(ends)) < 0.995]  # a few gaps
    f = np.linspace(0, 1, per_link + 1)
    segs = ends[:, :1] + (ends[:, 1:] - ends[:, :1]) * f[None, :, None]
    if shape_points:
        # wiggle the shape points sideways (smooth bends, ends fixed)
        d = ends[:, 1] - ends[:, 0]
        normal = np.stack([-d[:, 1], d[:, 0]], 1) / np.maximum(np.hypot(*d.T), 1e-9)[:, None]
        amp = rng.normal(0, 0.08, (len(ends), 1)) * np.sin(np.pi * f)[None, :] * step
        segs = segs + amp[..., None] * normal[:, None, :]
    roads = gpd.GeoDataFrame(geometry=shapely.linestrings(segs), crs=CRS)
    villages = rng.uniform(0, side, (3000 * scale, 2))
    pupils = rng.integers(20, 400, len(villages)).astype(float)
    cell = 100.0
    k = int(np.sqrt(100_000 * scale))
    cx, cy = np.meshgrid((np.arange(k) + 0.5) * cell, (np.arange(k) + 0.5) * cell)
    cells = np.column_stack([cx.ravel(), cy.ravel()]) * (side / (k * cell))
    schools = rng.uniform(0, side, (300 * scale, 2))
    cap = np.full(len(schools), int(pupils.sum() / len(schools) * 1.15))
    boundary = shapely.box(0, 0, side, side)
    return dict(roads=roads, villages=villages, pupils=pupils, cells=cells, schools=schools,
                cap=cap, boundary=boundary, side=side)  # fmt: skip


def bench_road(c):
    # Median of three builds, the first one shown too: the first large build in a process pays
    # for fresh memory and varies most (0.7–1.4 s on the prefecture under load).
    builds = [timed(build_road_graph, c["roads"]) for _ in range(3)]
    t_graph_first, g = builds[0]
    t_graph = float(np.median([t for t, _ in builds]))
    rn = RoadNetwork(g, snap_max_m=5000)

    def nearest(points):
        return g.nearest(g.snap(points, 5000), g.snap(c["schools"], 5000))

    t_near_v, (dv, _) = timed(nearest, c["villages"])
    t_near_c, (dc, _) = timed(nearest, c["cells"])
    # Paths only, on places already snapped: the same work networkx does below.
    sv5, ss5 = g.snap(c["villages"], 5000), g.snap(c["schools"], 5000)
    t_paths, _ = timed(g.nearest, sv5, ss5, repeat=3)
    t_knn, _ = timed(rn.knn_km, c["villages"], c["schools"], 10)
    # networkx on the same graph: multi-source Dijkstra from the schools' nearest nodes.
    G = nx.Graph()
    G.add_weighted_edges_from(zip(g.seg_a.tolist(), g.seg_b.tolist(), g.seg_len.tolist()))
    sn = g.snap(c["schools"])
    src = set(np.where(sn.cost_a_m <= sn.cost_b_m, sn.node_a, sn.node_b).tolist())
    t_nx, _ = timed(nx.multi_source_dijkstra_path_length, G, src)
    return {
        "graph_s": t_graph,
        "graph_first_s": t_graph_first,
        "nearest_villages_s": t_near_v,
        "nearest_cells_s": t_near_c,
        "road_nearest_s": t_graph + t_near_v,
        "road_nearest_cells_s": t_graph + t_near_c,
        "knn10_villages_s": t_knn,
        "networkx_s": t_nx,
        "paths_s": t_paths,
        "nodes": g.n_nodes,
        "edges": g.n_edges,
        "pieces": g.n_components,
    }


def nx_simplex(demand, capacity, cd, ci):
    n, m = len(demand), len(capacity)
    G = nx.DiGraph()
    for i in range(n):
        G.add_node(("u", i), demand=-int(demand[i]))
        G.add_edge(("u", i), "over", weight=10**12, capacity=int(demand[i]))
        for j in range(cd.shape[1]):
            if ci[i, j] >= 0:
                G.add_edge(("u", i), ("s", int(ci[i, j])), weight=int(cost_units(cd[i, j])),
                           capacity=int(demand[i]))  # fmt: skip
    for j in range(m):
        G.add_edge(("s", j), "sink", weight=0, capacity=int(capacity[j]))
    G.add_edge("over", "sink", weight=0)
    G.add_node("sink", demand=int(demand.sum()))
    cost, flow = nx.network_simplex(G)
    placed_cost = sum(
        f * G.edges[("u", i), ("s", j)]["weight"]
        for (kind, i), out in ((k, v) for k, v in flow.items() if isinstance(k, tuple))
        if kind == "u"
        for (_, j), f in ((t, f) for t, f in out.items() if isinstance(t, tuple))
    )
    return placed_cost


def stability_keys(n: int, m: int):
    """Keys of the ids a plan would give (``v0``…, ``s0``…): ties broken by id, as in a plan."""
    return id_keys(np.array([f"v{i}" for i in range(n)])), id_keys(
        np.array([f"s{j}" for j in range(m)])
    )


def bench_capacity(c):
    sl = StraightLine()
    cd, ci = sl.knn_km(c["villages"], c["schools"], 10)
    demand = c["pupils"].astype(np.int64)
    t_flow, (fu, fs, fp, fd) = timed(solve_flow, demand, c["cap"], cd, ci, repeat=3)
    ours = int(np.dot(fp.astype(np.int64), cost_units(fd)))
    t_nx, theirs = timed(nx_simplex, demand, c["cap"], cd, ci)

    def whole(keys):
        return assign_capacity(
            demand,
            c["cap"],
            lambda k: sl.knn_km(c["villages"], c["schools"], k),
            10,
            len(c["schools"]),
            keys=keys,
        )

    # The baseline: the same search with ties left to the index order (no id offsets), timed in
    # this process; stability (offsets from the ids) may cost at most 1.5× of it (issue 15).
    t_plain, plain = timed(whole, None, repeat=3)
    t_whole, a = timed(whole, stability_keys(len(demand), len(c["schools"])), repeat=3)
    return {
        "capacity_flow_s": t_flow,
        "networkx_s": t_nx,
        "objective_equal": ours == theirs,
        "objective_m": ours,
        "whole_units_s": t_whole,
        "whole_plain_s": t_plain,
        "whole_plain_gap_pct": 100 * (plain.pupil_km / plain.lower_bound_pupil_km - 1),
        "whole_gap_pct": 100 * (a.pupil_km / a.lower_bound_pupil_km - 1),
        "whole_unserved": float(a.unserved.sum()),
        "flow_unserved": float(demand.sum() - fp.sum()),
    }


def bench_zones(c):
    _, lab = StraightLine().knn_km(c["cells"], c["schools"], 1)
    lab = lab[:, 0]
    t_r, z = timed(
        zones_from_points,
        c["cells"],
        lab,
        c["boundary"],
        100.0 * np.sqrt(len(c["cells"]) / 100_000 / (len(c["schools"]) / 300))
        if False
        else c["side"] / np.sqrt(len(c["cells"])),
    )  # noqa: E501
    cell = c["side"] / np.sqrt(len(c["cells"]))
    boxes = shapely.box(c["cells"][:, 0] - cell / 2, c["cells"][:, 1] - cell / 2,
                        c["cells"][:, 0] + cell / 2, c["cells"][:, 1] + cell / 2)  # fmt: skip
    g = gpd.GeoDataFrame({"label": lab}, geometry=boxes, crs=CRS)
    t_cov, _ = timed(g.dissolve, "label", method="coverage")
    t_dis, _ = timed(g.dissolve, "label")
    return {"zones_s": t_r, "zones": len(z), "dissolve_coverage_s": t_cov, "dissolve_s": t_dis}


def bench_end_to_end(c):
    sch = gpd.GeoDataFrame(
        {
            "school_id": [f"s{i:04d}" for i in range(len(c["schools"]))],
            "level": "primary",
            "capacity": c["cap"],
            "classes": c["cap"] // 45,
            "students": 0,
        },  # fmt: skip
        geometry=gpd.points_from_xy(*c["schools"].T),
        crs=CRS,
    )
    units = gpd.GeoDataFrame(
        {
            "unit_id": [f"v{i}" for i in range(len(c["villages"]))],
            "population": 0.0,
            "students_primary": c["pupils"],
        },  # fmt: skip
        geometry=gpd.points_from_xy(*c["villages"].T),
        crs=CRS,
    )
    b = gpd.GeoDataFrame({"name": ["b"]}, geometry=[c["boundary"]], crs=CRS)
    out = {}

    def plan(p):
        # the road graph is built in the timed run, as a plan builds it once for its engines
        costs = cost_model(c["roads"], DistanceParams(model="road"))
        return run_catchments(sch, units, b, p, Standards(), costs=costs)

    for mode in ("nearest", "capacity"):
        t, r = timed(plan, CatchmentParams(mode=mode, zone_cell_m=200.0))
        out[f"run_catchments_{mode}_road_s"] = t
        out[f"{mode}_unserved"] = r.summary.levels["primary"].unserved
    return out


def report(name, res, which):
    def line(label, ours, peer=None, target=None, ratio_target=None):
        s = f"  {label:<44} {ours:8.3f} s"
        if target is not None:
            s += f"   target < {target:g} s {'OK' if ours < target else 'MISSED'}"
        if peer is not None:
            ratio = peer / ours if ours > 0 else np.inf
            s += f"   peer {peer:7.3f} s  ×{ratio:6.1f}"
            if ratio_target:
                s += f" (target ≥ ×{ratio_target} {'OK' if ratio >= ratio_target else 'MISSED'})"
        print(s)

    r, q, z, e = res
    print(f"\n== {name}: {r['nodes']:,} nodes, {r['edges']:,} road edges, {r['pieces']} pieces")
    line("road graph build", r["graph_s"])
    # networkx times its Dijkstra only (graph prebuilt, sources given); the ≥ 30× target is
    # judged on our paths-only line, the same work.
    line("road nearest, villages (graph+snap+paths)", r["road_nearest_s"], r["networkx_s"],
         TARGETS["road_nearest"][which])  # fmt: skip
    line("road nearest, paths only (multi-source Dijkstra)", r["paths_s"], r["networkx_s"],
         None, RATIO_TARGETS["road_nearest"])  # fmt: skip
    line("road nearest, 100 m cells (graph+snap+paths)", r["road_nearest_cells_s"])
    line("road 10 nearest, villages (bounded Dijkstra)", r["knn10_villages_s"])
    line("capacity min-cost flow, k=10", q["capacity_flow_s"], q["networkx_s"],
         TARGETS["capacity_flow"][which], RATIO_TARGETS["capacity_flow"])  # fmt: skip
    print(
        f"  {'':<44} same objective as networkx: {q['objective_equal']} ({q['objective_m']:,} pupil-m)"
    )  # noqa: E501
    line("whole units (flow + rounding + local search)", q["whole_units_s"])
    print(f"  {'':<44} gap to flow bound {q['whole_gap_pct']:.2f} %, unserved whole "
          f"{q['whole_unserved']:.0f} vs split {q['flow_unserved']:.0f} pupils")  # fmt: skip
    line(f"zone polygons ({z['zones']} zones, label raster)", z["zones_s"], z["dissolve_s"],
         TARGETS["zones"][which])  # fmt: skip
    line("geopandas dissolve(method='coverage')", z["dissolve_coverage_s"])
    for k, v in e.items():
        if k.endswith("_s"):
            line(k, v)
        else:
            print(f"  {k:<44} {v}")


def run(quick: bool = False) -> list[dict]:
    """Rows for bench/run_all.py (bench/common.py convention). Ratios: networkx times only its
    multi_source_dijkstra on a graph built beforehand (not timed), from the schools' nearest
    nodes; "paths only" is our multi-source Dijkstra on places already snapped, i.e. the same
    work; the end-to-end row adds our graph build and snapping on our side only."""
    from bench.common import row

    rows: list[dict] = []
    sizes = [("county", 1)] if quick else [("county", 1), ("prefecture (5×)", 5)]
    for which, (name, scale) in enumerate(sizes):
        c = county(scale)
        r = bench_road(c)
        size = (f"{name}: {r['edges']:,} road edges, {len(c['villages']):,} villages, "
                f"{len(c['schools']):,} schools")  # fmt: skip
        lim = {k: v[which] for k, v in TARGETS.items()}
        rows.append(row(
            "catchments: road nearest (graph + snap + paths)", size, r["road_nearest_s"],
            peer="networkx multi_source_dijkstra (paths only)", peer_s=r["networkx_s"],
            target=f"< {lim['road_nearest']:g} s", max_s=lim["road_nearest"],
            note=f"graph build {r['graph_s']:.3f} s (median of 3; first build in the process "
                 f"{r['graph_first_s']:.3f} s); 100 m cells {r['road_nearest_cells_s']:.3f} s",
        ))  # fmt: skip
        rows.append(row(
            "catchments: road nearest, paths only", size, r["paths_s"],
            peer="networkx multi_source_dijkstra", peer_s=r["networkx_s"],
            target="≥ 30× networkx", min_ratio=RATIO_TARGETS["road_nearest"],
            note=f"road 10 nearest (bounded Dijkstra per school) {r['knn10_villages_s']:.3f} s",
        ))  # fmt: skip
        q = bench_capacity(c)
        ok = (q["capacity_flow_s"] < lim["capacity_flow"]
              and q["networkx_s"] / q["capacity_flow_s"] >= RATIO_TARGETS["capacity_flow"]
              and q["objective_equal"])  # fmt: skip
        rows.append(row(
            "catchments: capacity assignment (min-cost flow, k = 10)", size, q["capacity_flow_s"],
            peer="networkx network_simplex", peer_s=q["networkx_s"],
            target=f"< {lim['capacity_flow']:g} s, ≥ 50× networkx, equal objective", met=bool(ok),
            ours_obj=float(q["objective_m"]), peer_obj=float(q["objective_m"]) if
            q["objective_equal"] else None,
            note=f"whole units {q['whole_units_s']:.3f} s, {q['whole_gap_pct']:.2f} % above the "
            "flow bound (deterministic local and neighbourhood search)",
        ))  # fmt: skip
        rows.append(row(
            "catchments: whole units with stability on (id tie offsets)", size,
            q["whole_units_s"], peer="same search, ties by index (stability off)",
            peer_s=q["whole_plain_s"], target="≤ 1.5× the stability-off run",
            min_ratio=1 / 1.5,
            note=f"best of 3 each; gap to the flow bound {q['whole_gap_pct']:.2f} % (stability "
            f"off {q['whole_plain_gap_pct']:.2f} %); RESULTS.md of 2026-11-22 (metre costs, "
            "no offsets): county 0.318 s, prefecture 2.379 s",
        ))  # fmt: skip
        z = bench_zones(c)
        rows.append(row(
            f"catchments: zone polygons ({z['zones']} zones, label raster)", size, z["zones_s"],
            peer="geopandas dissolve", peer_s=z["dissolve_s"], target=f"< {lim['zones']:g} s",
            max_s=lim["zones"],
            note=f"dissolve(method='coverage') {z['dissolve_coverage_s']:.2f} s",
        ))  # fmt: skip
        if not quick:
            for k, v in bench_end_to_end(c).items():
                if k.endswith("_s"):
                    rows.append(row(f"catchments: {k[:-2]}", size, v, note="one run"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--county-only", action="store_true")
    args = ap.parse_args()
    for which, (name, scale) in enumerate([("county", 1), ("prefecture (5×)", 5)]):
        if which and args.county_only:
            break
        c = county(scale)
        res = (bench_road(c), bench_capacity(c), bench_zones(c), bench_end_to_end(c))
        report(name, res, which)


if __name__ == "__main__":
    main()
