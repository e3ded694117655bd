"""Grouping on a generated prefecture (~1,500 school rows): OR-tools vs networkx on the same model.

Run: .venv/bin/python bench/bench_grouping.py [--schools 1500] [--seed 7] [--repeat 5]

Prints the OR-tools min-cost-flow time (model build + solve, best of --repeat), the networkx
network_simplex time on the identical model (same arcs, capacities and costs; a big-M bypass arc
makes "most members first" one cost), the ratio, and checks that both reach the same objective
(members placed, total metres). Also times the whole ``run_grouping`` (distances, roles, outputs).
Targets (issue 3): OR-tools < 0.05 s and ≥ 20× faster than networkx.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.progress import NullProgress  # noqa: E402
from geo.distance import StraightLine  # noqa: E402
from planning.grouping import GroupChoices, build_problem, run_grouping  # noqa: E402
from planning.grouping.solver import solve_flow, solve_networkx  # noqa: E402
from planning.rules import GroupingParams, Standards  # noqa: E402


def prefecture(n_schools: int, seed: int) -> gpd.GeoDataFrame:
    """~10 counties over 200 × 160 km: each a county town (urban, many cores) and townships
    (town centres with a central school, villages with rural schools and teaching points)."""
    rng = np.random.default_rng(seed)
    rows = []
    n_counties = 10
    towns = rng.uniform([0, 0], [200_000, 160_000], size=(n_counties, 2))
    k = 0
    while k < n_schools:
        c = int(rng.integers(n_counties))
        kind = rng.choice(["urban", "town", "rural"], p=[0.22, 0.28, 0.50])
        if kind == "urban":
            xy = towns[c] + rng.normal(0, 3_000, 2)
            quality = rng.choice(["core", "ordinary", "weak"], p=[0.45, 0.45, 0.10])
            classes = int(rng.integers(12, 60))
            stype = "regular"
        elif kind == "town":
            xy = towns[c] + rng.normal(0, 18_000, 2)
            quality = rng.choice(["core", "ordinary", "weak"], p=[0.15, 0.55, 0.30])
            classes = int(rng.integers(6, 30))
            stype = rng.choice(["central", "regular", "relocation_site"], p=[0.5, 0.4, 0.1])
        else:
            xy = towns[c] + rng.normal(0, 25_000, 2)
            quality = rng.choice(["ordinary", "weak"], p=[0.4, 0.6])
            classes = int(rng.integers(1, 12))
            stype = rng.choice(["regular", "teaching_point"], p=[0.7, 0.3])
        level = rng.choice(["primary", "junior", "senior"], p=[0.68, 0.24, 0.08])
        rows.append(
            {
                "school_id": f"S{k:05d}",
                "name": f"学校{k}",
                "level": level,
                "classes": classes,
                "students": classes * 40,
                "capacity": classes * 45,
                "teachers": float(classes * 2.2) if rng.random() > 0.1 else np.nan,
                "quality": quality,
                "location": kind,
                "status": "planned" if rng.random() < 0.03 else "existing",
                "ownership": "private" if rng.random() < 0.05 else "public",
                "school_type": stype,
                "combined": "",
                "src_row": k + 1,
                "geometry": Point(*xy),
            }
        )
        k += 1
    return gpd.GeoDataFrame(rows, crs=32649)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    schools = prefecture(args.schools, args.seed)
    params = GroupingParams()
    std = Standards()

    costs = StraightLine()
    t = time.perf_counter()
    res = run_grouping(schools, params, std, costs=costs)
    t_run = time.perf_counter() - t
    # The exact model run_grouping solves, so both solvers get the same problem.
    p = build_problem(schools, params, costs, GroupChoices(), progress=NullProgress()).flow

    best_ort = np.inf
    for _ in range(args.repeat):
        t = time.perf_counter()
        s_ort = solve_flow(p)
        best_ort = min(best_ort, time.perf_counter() - t)
    t = time.perf_counter()
    s_nx = solve_networkx(p)
    t_nx = time.perf_counter() - t
    t_run_best = t_run
    for _ in range(args.repeat - 1):
        t = time.perf_counter()
        run_grouping(schools, params, std, costs=costs)
        t_run_best = min(t_run_best, time.perf_counter() - t)

    same = (s_ort.placed, s_ort.cost) == (s_nx.placed, s_nx.cost)
    ratio = t_nx / best_ort
    print(f"instance: {len(schools)} school rows, seed {args.seed}")
    print(
        f"model: {p.n_members} free members, {p.n_cores} cores, {len(p.arc_member)} arcs "
        f"(radius {params.radius_km} km, ≤ {params.max_members} members per core)"
    )
    print(f"OR-tools max-flow-min-cost : {best_ort * 1000:8.2f} ms (best of {args.repeat})")
    print(f"networkx network_simplex   : {t_nx * 1000:8.2f} ms")
    print(f"ratio networkx / OR-tools  : {ratio:8.1f}×  (target ≥ 20×)")
    print(
        f"objective OR-tools: placed {s_ort.placed}, {s_ort.cost} m; "
        f"networkx: placed {s_nx.placed}, {s_nx.cost} m -> {'EQUAL' if same else 'DIFFERENT'}"
    )
    print(f"whole run_grouping         : {t_run_best * 1000:8.2f} ms (best of {args.repeat})")
    sm = res.summary.to_dict()
    print(
        f"groups {sm['count']}, coverage {sm['coverage_pct']} % of {sm['eligible']} eligible "
        f"(target {sm['target_pct']} %), members unplaced {sm['members_unplaced']}"
    )
    ok = best_ort < 0.05 and ratio >= 20 and same
    print("TARGETS MET" if ok else "TARGETS NOT MET")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
