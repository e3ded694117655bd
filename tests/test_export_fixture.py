"""A small but realistic PlanResult built in code, for the export tests and bench/bench_export.py.

The engines are written in parallel; this fixture follows the PlanResult contract of
planning/pipeline.py and ARCHITECTURE.md so the exports can be tested on their own.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiLineString, Point, Polygon

from planning.pipeline import PlanResult
from planning.rules import default_rules

CRS = "EPSG:32649"  # UTM 49N: a county in Hunan (道县 ~111.6°E, 25.5°N)
X0, Y0 = 600_000.0, 2_820_000.0
XSS_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("x")'
LEVELS = ("primary", "junior", "senior")
TOWNS = ["道江", "营江", "梅花", "寿雁", "仙子脚", "清塘", "祥霖铺", "白马渡", "四马桥", "蚣坝"]
SUFFIX = {"primary": "小学", "junior": "中学", "senior": "高级中学"}


def _boundary(size_m: float) -> Polygon:
    # An irregular county outline: a circle with wobbles, ~size_m across.
    t = np.linspace(0, 2 * np.pi, 181)[:-1]
    r = size_m / 2 * (1 + 0.12 * np.sin(3 * t) + 0.06 * np.cos(7 * t))
    return Polygon(np.c_[X0 + r * np.cos(t), Y0 + r * np.sin(t)])


def make_plan(
    n_per_level=(6, 3, 2),
    *,
    seed: int = 6,
    size_km: float = 40.0,
    zone_vertices: int = 0,
    seat: int = 0,
) -> PlanResult:
    """Build a PlanResult with ``n_per_level`` schools per level (primary, junior, senior).

    The first primary school is named like an XSS attack and the second like an Excel formula;
    one zone per level is over capacity; a few demand units are too far or unserved.
    ``zone_vertices`` densifies zone outlines to mimic real raster-derived zones (for benches).
    ``seat`` puts that many schools of each level in a county seat 3 km across (a crowded place,
    as in a real county).
    """
    rng = np.random.default_rng(seed)
    county = _boundary(size_km * 1000)
    boundary = gpd.GeoDataFrame({"name": ["示范县"]}, geometry=[county], crs=CRS)

    rows = []
    for level, n in zip(LEVELS, n_per_level):
        pts = [
            Point(X0 + 4000 + rng.uniform(-1500, 1500), Y0 + 2000 + rng.uniform(-1500, 1500))
            for _ in range(min(seat, n))
        ]
        while len(pts) < n:
            p = Point(
                X0 + rng.uniform(-0.4, 0.4) * size_km * 1000,
                Y0 + rng.uniform(-0.4, 0.4) * size_km * 1000,
            )
            if county.contains(p):
                pts.append(p)
        for i, p in enumerate(pts):
            sid = f"{level[0].upper()}{i + 1:03d}"
            name = f"{TOWNS[i % len(TOWNS)]}{'第' + str(i // len(TOWNS) + 1) if i >= len(TOWNS) else ''}{SUFFIX[level]}"
            if level == "primary" and i == 0:
                name = XSS_NAME
            if level == "primary" and i == 1:
                name = FORMULA_NAME
            classes = int(rng.integers(6, 36))
            size = 45 if level == "primary" else 50
            students = int(classes * size * rng.uniform(0.6, 1.1))
            rows.append(
                dict(
                    school_id=sid,
                    name=name,
                    level=level,
                    classes=classes,
                    students=students,
                    capacity=classes * size,
                    teachers=float(classes * 2),
                    quality="core" if i % 3 == 0 else ("weak" if i % 3 == 1 else "ordinary"),
                    location="urban" if i == 0 else ("town" if i % 2 else "rural"),
                    status="existing",
                    ownership="public",
                    school_type="regular",
                    combined="",
                    src_row=len(rows) + 1,
                    layout_status=(
                        "transitional"
                        if i == n - 1 and n > 2
                        # one junior school to merge (the primary ones are the compare tests')
                        else ("to_merge" if level == "junior" and i == n - 2 else "permanent")
                    ),
                    geometry=p,
                )
            )
    schools = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)

    # New schools: one primary, placed in the county's largest empty area (here: a fixed offset).
    new_pt = Point(X0 + 0.25 * size_km * 1000, Y0 - 0.3 * size_km * 1000)
    new_schools = gpd.GeoDataFrame(
        [
            dict(
                school_id="N001",
                name="城南新区小学",
                level="primary",
                classes=24,
                capacity=24 * 45,
                unit_id="U0001",
                rule="社区人口超过1万人,每1万人设18-24班小学",
                rule_en="community over 10,000 people: 18-24 primary classes per 10,000",
            )
        ],
        geometry=[new_pt],
        crs=CRS,
    )
    new_rows = new_schools.assign(
        students=0, teachers=np.nan, quality="ordinary", location="urban", status="planned",
        ownership="public", school_type="regular", combined="", src_row=0, layout_status="new",
    )[schools.columns]  # fmt: skip
    schools = gpd.GeoDataFrame(
        pd.concat([schools, new_rows], ignore_index=True), geometry="geometry", crs=CRS
    )

    # Groups: the first school of each level leads the next up to 3 schools of that level.
    schools["group_id"] = ""
    schools["group_role"] = "none"
    schools["group_reason"] = ""
    grows = []
    for level in LEVELS:
        sub = schools[(schools["level"] == level) & (schools["layout_status"] != "to_merge")]
        if len(sub) < 2:
            continue
        core = sub.iloc[0]
        # The primary group takes the planned school as a member (core + new school), so the
        # groups sheet has a "(待建)" member as in a real plan.
        members = sub.iloc[1:3] if level == "primary" else sub.iloc[1:4]
        if level == "primary":
            members = pd.concat([members, sub[sub["layout_status"] == "new"]])
        gid = f"G-{level[0].upper()}1"
        schools.loc[core.name, ["group_id", "group_role", "group_reason"]] = [
            gid,
            "core",
            "优质学校牵头",
        ]
        for idx in members.index:
            schools.loc[idx, ["group_id", "group_role", "group_reason"]] = [
                gid,
                "member",
                "薄弱学校,距核心校20公里内",
            ]
        dists = [core.geometry.distance(g) / 1000 for g in members.geometry]
        grows.append(
            dict(
                group_id=gid,
                core_id=core.school_id,
                member_ids=",".join(members["school_id"]),
                level=level,
                pattern="core_new" if level == "primary" else "core_weak",
                mode="alliance",
                n_members=len(members),
                max_distance_km=round(max(dists), 2),
                teacher_exchange_min=3,
                teacher_backbone_min=2,
                funding_min_yuan=100000.0 * len(members),
                geometry=MultiLineString(
                    [[core.geometry.coords[0], g.coords[0]] for g in members.geometry]
                ),
            )
        )
    groups = gpd.GeoDataFrame(grows, geometry="geometry", crs=CRS)

    # Catchments: Voronoi zones of the active schools, clipped to the county.
    active = schools[schools["layout_status"] != "to_merge"]
    crow = []
    for level in LEVELS:
        sub = active[active["level"] == level].sort_values("school_id")
        if sub.empty:
            continue
        cells = shapely.voronoi_polygons(
            shapely.MultiPoint(list(sub.geometry)), extend_to=county.buffer(1000)
        )
        cells = list(cells.geoms)
        for _, s in sub.iterrows():
            cell = next(c for c in cells if c.contains(s.geometry))
            zone = cell.intersection(county)
            if zone_vertices:
                zone = shapely.segmentize(zone, max(zone.length / zone_vertices, 10.0))
            students = int(s["capacity"] * rng.uniform(0.5, 1.0))
            if s["school_id"].endswith("002"):
                students = int(s["capacity"] * 1.25)  # over capacity
            crow.append(
                dict(
                    school_id=s["school_id"],
                    level=level,
                    students=students,
                    capacity=int(s["capacity"]),
                    utilization=students / max(int(s["capacity"]), 1),
                    mean_distance_km=round(float(rng.uniform(1, 6)), 2),
                    max_distance_km=round(float(rng.uniform(6, 15)), 2),
                    oversized=bool(students > s["capacity"]),
                    geometry=zone,
                )
            )
    catchments = gpd.GeoDataFrame(crow, geometry="geometry", crs=CRS)

    # Demand: a grid of village points; a few are too far or unserved.
    xs = np.linspace(-0.45, 0.45, 9) * size_km * 1000
    drows = []
    k = 0
    for dx in xs:
        for dy in xs:
            p = Point(X0 + dx, Y0 + dy)
            if not county.contains(p):
                continue
            k += 1
            pop = float(rng.integers(300, 5000))
            town = TOWNS[k % len(TOWNS)]
            row = dict(unit_id=f"U{k:04d}", name=f"{town}第{k}村", town=town, population=pop)
            for level, rate in zip(LEVELS, (0.085, 0.043, 0.035)):
                sub = catchments[catchments["level"] == level]
                hit = sub[sub.contains(p)]
                row[f"students_{level}"] = round(pop * rate, 1)
                row[f"school_id_{level}"] = hit["school_id"].iloc[0] if len(hit) else ""
                row[f"distance_{level}_km"] = round(float(rng.uniform(0.5, 12)), 2)
                status = "assigned"
                if k % 11 == 0:
                    status = "too_far"
                elif k % 17 == 0:
                    status = "unserved"
                row[f"status_{level}"] = status
            row["geometry"] = p
            drows.append(row)
    demand = gpd.GeoDataFrame(drows, geometry="geometry", crs=CRS)

    summary = {
        "groups": {"n_groups": len(groups), "coverage_pct": 62.5},
        "new_schools": {"n_new": len(new_schools), "classes": 24},
        "catchments": {
            lv: {
                "students": int(catchments.loc[catchments["level"] == lv, "students"].sum()),
                "too_far": int((demand[f"status_{lv}"] == "too_far").sum()),
                "unserved": int((demand[f"status_{lv}"] == "unserved").sum()),
            }
            for lv in LEVELS
        },
    }
    meta = {
        "project": "示范县",
        "scenario": "基准方案",
        "created": "2025-03-01T09:30:00",
        "crs": CRS,
    }
    return PlanResult(
        schools=schools,
        groups=groups,
        new_schools=new_schools,
        catchments=catchments,
        demand=demand,
        boundary=boundary,
        summary=summary,
        rules=default_rules(),
        meta=meta,
    )


def test_fixture_follows_the_plan_contract():
    plan = make_plan()
    assert set(plan.schools["level"]) == set(LEVELS)
    assert {"school_id", "level", "layout_status", "group_id", "group_role"} <= set(
        plan.schools.columns
    )
    # Every zone belongs to a school of the same level and the zones of a level do not overlap.
    keys = set(zip(plan.schools["school_id"], plan.schools["level"]))
    assert set(zip(plan.catchments["school_id"], plan.catchments["level"])) <= keys
    for lv in LEVELS:
        z = plan.catchments[plan.catchments["level"] == lv]
        assert z.union_all().area == pytest_approx(z.area.sum())
    assert (plan.catchments["utilization"] > 1).any()
    assert XSS_NAME in set(plan.schools["name"]) and FORMULA_NAME in set(plan.schools["name"])


def pytest_approx(v):
    import pytest

    return pytest.approx(v, rel=1e-6)
