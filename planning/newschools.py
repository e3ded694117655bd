"""New schools from population thresholds, sized in classes and sited where they serve most.

POLICY.md §2 (002 §二.3, 004 §(四)1). For every planning area (a unit, a town, or the county for
senior high schools) and level:

1. requirement — how many schools of which class range the population calls for
   (``requirement``: 4,000–10,000 people → one complete primary of 6–12 classes; above 10,000,
   one primary of 18–24 classes per 10,000; one junior of ≥ 18 classes per 20,000; a new senior
   high school of at most 3,000 students);
2. shortfall — school-age children minus the places existing and planned schools within the
   service distance can give them. Places are shared by a maximum-flow/minimum-distance
   assignment (``allocate_supply``): each place goes to one child, the nearest ones first, so
   one school's places are never counted for two areas;
3. sizing — only the shortfall becomes new schools (``size_new_schools``), each clamped to the
   rule's class range; a gap smaller than ``min_fill_share`` of the rule's smallest school is
   left to expanding nearby schools and reported, not built;
4. siting — p-median (``planning.pmedian``) on children-weighted distance among the project's
   candidate sites, else the population-weighted centre of the area.

Every proposal carries a ``rule`` text (zh and en) with the threshold and the numbers that fired
it. Layout status of existing schools comes from ``planning.layout``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.errors import InputError, Problem, RulesError
from core.progress import Progress, check_canceled, ensure
from planning.demand import students_by_level
from planning.layout import layout_status as _layout_status
from planning.pmedian import solve_pmedian
from planning.rules import LEVEL_ZH, LEVELS, NewSchoolParams, Standards

NEW_COLUMNS = ["school_id", "name", "level", "classes", "capacity", "unit_id", "rule", "rule_en"]
_ID_LETTER = {"primary": "P", "junior": "J", "senior": "S"}
_ZH_NUM = "一二三四五六七八九十"


# ----------------------------------------------------------------------------- numeric core


@dataclass(frozen=True)
class Requirement:
    """What the thresholds require of one planning area at one level."""

    level: str
    rule: str  # "" when below the threshold; else primary_small | primary_large | junior | senior
    schools: int  # schools the rule calls for (0: none)
    min_classes: int  # class range of each school
    max_classes: int
    classes: int  # total classes: children / class size clamped to schools x range
    zh: str  # the threshold and the numbers, for the rule text
    en: str


def _count(x: float, rounding: str) -> int:
    if rounding == "ceil":
        return math.ceil(x - 1e-9)
    if rounding == "floor":
        return math.floor(x + 1e-9)
    return math.floor(x + 0.5)  # half up, not banker's rounding


def requirement(
    level: str,
    population: float,
    children: float,
    params: NewSchoolParams,
    standards: Standards,
) -> Requirement:
    """Schools and classes the thresholds require for ``population`` with ``children`` of age.

    Above 10,000 people (primary) and for junior schools the count is population / per-school
    population rounded by ``params.count_rounding`` (default half up, so each school serves the
    population closest to the norm: 10,001 people → 1, 15,000 → 2, 40,001 → 4), raised whenever the
    children need more classes than that many schools may hold.
    """
    pop = float(population)
    cs = standards.class_size(level)
    need = math.ceil(max(children, 0.0) / cs - 1e-9)
    p = params
    if level == "primary":
        if pop < p.primary_min_population:
            return Requirement(
                level,
                "",
                0,
                0,
                0,
                0,
                f"常住人口 {pop:,.0f} 人 < {p.primary_min_population:,} 人,不设小学",
                f"population {pop:,.0f} < {p.primary_min_population:,}: no primary school",
            )
        if pop <= p.primary_single_max_population:
            lo, hi = p.primary_small_min_classes, p.primary_small_max_classes
            n = 1
            rule = "primary_small"
            zh = (
                f"常住人口 {pop:,.0f} 人,在 {p.primary_min_population:,}–"
                f"{p.primary_single_max_population:,} 人之间,设 1 所 {lo}–{hi} 班完全小学"
            )
            en = (
                f"population {pop:,.0f} in {p.primary_min_population:,}–"
                f"{p.primary_single_max_population:,}: one complete primary of {lo}–{hi} classes"
            )
        else:
            lo, hi = p.primary_large_min_classes, p.primary_large_max_classes
            per = p.primary_per_population
            n = max(1, _count(pop / per, p.count_rounding))
            rule = "primary_large"
            zh = (
                f"常住人口 {pop:,.0f} 人 > {p.primary_single_max_population:,} 人,"
                f"每 {per:,} 人设 1 所 {lo}–{hi} 班小学,应设 {n} 所"
            )
            en = (
                f"population {pop:,.0f} > {p.primary_single_max_population:,}: one primary of "
                f"{lo}–{hi} classes per {per:,} people, {n} required"
            )
    elif level == "junior":
        lo, hi = p.junior_min_classes, p.junior_max_classes
        if pop < p.junior_min_population:
            return Requirement(
                level,
                "",
                0,
                lo,
                hi,
                0,
                f"常住人口 {pop:,.0f} 人 < {p.junior_min_population:,} 人,不单设初中",
                f"population {pop:,.0f} < {p.junior_min_population:,}: no junior school of its own",
            )
        per = p.junior_per_population
        n = max(1, _count(pop / per, p.count_rounding))
        rule = "junior"
        zh = f"常住人口 {pop:,.0f} 人,每 {per:,} 人设 1 所 {lo} 班以上初中,应设 {n} 所"
        en = f"population {pop:,.0f}: one junior of ≥ {lo} classes per {per:,} people, {n} required"
    elif level == "senior":
        lo = p.senior_min_classes
        hi = max(lo, p.senior_max_students // cs)
        if children <= 0:
            return Requirement(level, "", 0, lo, hi, 0, "无高中学龄人口", "no senior-age children")
        n = max(1, math.ceil(children / p.senior_max_students - 1e-9))
        rule = "senior"
        zh = (
            f"高中学龄人口 {children:,.0f} 人,新建高中规模不超过 {p.senior_max_students:,} 人"
            f"({hi} 班),应设 {n} 所"
        )
        en = (
            f"{children:,.0f} senior-age children; a new senior high school holds at most "
            f"{p.senior_max_students:,} ({hi} classes), {n} required"
        )
    else:
        raise ValueError(f"unknown level {level!r}")
    by_classes = math.ceil(need / hi - 1e-9) if hi > 0 else n
    if rule == "primary_small" and need > hi:
        # The rule asks for ONE complete primary here: keep one school at the top of its range
        # and say how many children it leaves to nearby schools, rather than a second school.
        over = children - hi * cs
        zh += f";学龄儿童需 {need} 班,超出上限 {hi} 班,约 {over:,.0f} 人需附近学校容纳"
        en += f"; the children need {need} classes, over {hi}: about {over:,.0f} left to nearby schools"
    elif by_classes > n:
        zh += f";学龄儿童需 {need} 班,超出每校上限 {hi} 班,增至 {by_classes} 所"
        en += f"; the children need {need} classes, over {hi} per school: {by_classes} schools"
        n = by_classes
    classes = min(max(need, n * lo), n * hi)
    return Requirement(level, rule, n, lo, hi, classes, zh, en)


def size_new_schools(
    req: Requirement, unserved: float, children: float, min_fill_share: float, class_size: int
) -> list[int]:
    """Classes of each new school for a gap of ``unserved`` of ``children`` (empty: none).

    No school where the rule requires none; none either when the gap is under
    ``min_fill_share`` of the rule's smallest school (expanding a nearby school is the answer
    then). Otherwise the rule's count of schools in proportion to the unserved share of the
    children (all of them when nothing nearby serves the area; at least one; more if the gap
    needs more classes than that many schools may hold), the gap's classes split evenly and each
    school clamped to the rule's class range.
    """
    if req.schools <= 0 or unserved <= 0:
        return []
    if unserved < min_fill_share * req.min_classes * class_size:
        return []
    need = math.ceil(unserved / class_size - 1e-9)
    share = unserved / children if children > 0 else 1.0
    k = max(1, min(req.schools, _count(req.schools * share, "round")))
    k = max(k, math.ceil(need / req.max_classes - 1e-9)) if req.rule != "primary_small" else 1
    base, extra = divmod(need, k)
    sizes = [base + (1 if i < extra else 0) for i in range(k)]
    return [min(max(c, req.min_classes), req.max_classes) for c in sizes]


def allocate_supply(
    dist_km: np.ndarray, capacity: np.ndarray, demand: np.ndarray, service_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Share schools' places among units: (served children per unit, places used per school).

    A maximum flow of minimum total distance from schools to units over the pairs within
    ``service_km``: as many children as possible get a place, each place counted once, the
    nearest children first. Children and places are whole numbers (rounded / floored).
    """
    from ortools.graph.python import min_cost_flow

    n, m = dist_km.shape
    dem = np.rint(np.maximum(np.asarray(demand, float), 0)).astype(np.int64)
    cap = np.floor(np.maximum(np.nan_to_num(np.asarray(capacity, float)), 0)).astype(np.int64)
    served = np.zeros(n, dtype=np.int64)
    used = np.zeros(m, dtype=np.int64)
    if n == 0 or m == 0 or dem.sum() == 0 or cap.sum() == 0:
        return served, used
    # Pairs within reach, among units with children and schools with places only: the same
    # pairs in the same (row-major) order as a scan of the whole table, from a smaller one.
    rows, cols = np.flatnonzero(dem > 0), np.flatnonzero(cap > 0)
    sub = dist_km[rows] if len(rows) < n else dist_km
    sub = sub[:, cols] if len(cols) < m else sub
    within = sub <= service_km  # NaN compares False; inf too unless the bound is inf
    if not math.isfinite(service_km):
        within &= np.isfinite(sub)
    ri, cj = np.nonzero(within)
    ui, sj = rows[ri], cols[cj]
    if ui.size == 0:
        return served, used
    src, snk = n + m, n + m + 1
    tails = np.concatenate([np.full(m, src), n + sj, np.arange(n)])
    heads = np.concatenate([n + np.arange(m), ui, np.full(n, snk)])
    caps = np.concatenate([cap, dem[ui], dem])
    costs = np.concatenate([np.zeros(m), np.rint(dist_km[ui, sj] * 1000.0), np.zeros(n)]).astype(
        np.int64
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    total = int(min(cap.sum(), dem.sum()))
    flow.set_node_supply(src, total)
    flow.set_node_supply(snk, -total)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:  # pragma: no cover - max-flow variant always has a solution
        raise RuntimeError(f"supply allocation failed: status {status}")
    f = flow.flows(np.arange(flow.num_arcs()))
    used[:] = f[:m]
    served[:] = f[m + ui.size :]
    return served, used


# ----------------------------------------------------------------------------- geo entry


@dataclass
class NewSchoolResult:
    """New schools, the per-area requirement table and the layout status of existing schools."""

    new_schools: gpd.GeoDataFrame  # NEW_COLUMNS + geometry (Point), schools' CRS
    layout_status: pd.Series  # indexed like schools: permanent | transitional | to_merge
    layout_reason: pd.Series  # zh
    layout_reason_en: pd.Series
    merge_into: pd.Series  # receiving school_id for to_merge, else ""
    requirements: pd.DataFrame  # one row per planning area and level
    summary: dict[str, Any]
    status: str  # ok | empty
    context: pd.DataFrame = field(default_factory=pd.DataFrame)  # per new school: location, type


def _check_inputs(schools, units, candidates) -> None:
    problems: list[Problem] = []
    need = {
        "units": (units, ["unit_id", "population"]),
        "schools": (schools, ["school_id", "level", "status"]),
    }
    if candidates is not None:
        need["candidates"] = (candidates, ["candidate_id"])
    crs = None
    for layer, (gdf, cols) in need.items():
        if gdf is None:
            continue
        for col in cols:
            if col not in gdf.columns:
                problems.append(
                    Problem(
                        f"column '{col}' is missing",
                        fix="load the layer with geo.project.load_project",
                        layer=layer,
                        column=col,
                        code="missing_column",
                    )
                )
        if gdf.crs is not None:
            if not gdf.crs.is_projected:
                problems.append(
                    Problem(
                        "layer is not in a metric CRS",
                        fix="project it to the project's metric CRS",
                        layer=layer,
                        code="crs",
                    )
                )
            elif crs is not None and gdf.crs != crs:
                problems.append(
                    Problem(
                        f"layer CRS {gdf.crs.to_string()} differs from {crs.to_string()}",
                        fix="project every layer to the same metric CRS",
                        layer=layer,
                        code="crs",
                    )
                )
            crs = crs or gdf.crs
    if problems:
        raise InputError("new schools: the input layers cannot be used", problems=problems)


def _check_params(params: NewSchoolParams) -> None:
    pairs = [
        ("primary_small_min_classes", "primary_small_max_classes"),
        ("primary_large_min_classes", "primary_large_max_classes"),
        ("junior_min_classes", "junior_max_classes"),
        ("primary_min_population", "primary_single_max_population"),
    ]
    for lo, hi in pairs:
        if getattr(params, lo) > getattr(params, hi):
            raise RulesError(
                f"new_schools.{lo} ({getattr(params, lo)}) is greater than {hi} "
                f"({getattr(params, hi)})",
                fix=f"make {lo} ≤ {hi}",
            )


def _unit_points(units: gpd.GeoDataFrame) -> np.ndarray:
    """Centroid when it lies inside the unit, else a representative point (always inside)."""
    geom = np.asarray(units.geometry.to_numpy(), dtype=object)
    out = np.full((len(geom), 2), np.nan)
    ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    if not ok.any():
        return out
    g = geom[ok]
    c = shapely.centroid(g)
    area = shapely.get_type_id(g) != shapely.GeometryType.POINT
    outside = np.zeros(len(g), dtype=bool)
    outside[area] = ~shapely.contains(g[area], c[area])
    c[outside] = shapely.point_on_surface(g[outside])
    out[ok, 0] = shapely.get_x(c)
    out[ok, 1] = shapely.get_y(c)
    return out


def _polygon_samples(geom, n_target: int = 60) -> np.ndarray:
    """Regular grid of points inside a polygon unit, so several new schools can spread over it."""
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.area <= 0:
        return np.zeros((0, 2))
    x0, y0, x1, y1 = geom.bounds
    step = math.sqrt(geom.area / n_target)
    xs = np.arange(x0 + step / 2, x1, step)
    ys = np.arange(y0 + step / 2, y1, step)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(geom, gx, gy)
    return np.column_stack([gx[inside], gy[inside]])


def _areas(units: pd.DataFrame, mode: str) -> tuple[np.ndarray, dict[str, str]]:
    """Planning-area key per unit and a display name per key."""
    uid = units["unit_id"].astype(str).to_numpy()
    name = units["name"].astype(str).to_numpy() if "name" in units else uid
    town = (
        units["town"].fillna("").astype(str).to_numpy()
        if "town" in units
        else np.full(len(units), "")
    )
    if mode == "county":
        return np.full(len(units), "*"), {"*": "全县"}
    if mode == "town":
        keys = np.where(town != "", "town:" + town, "unit:" + uid)
        names = {k: (t if t else n) for k, t, n in zip(keys, town, name)}
        return keys, names
    keys = np.array(["unit:" + u for u in uid])
    return keys, {k: n for k, n in zip(keys, name)}


def _ordinal_name(place: str, level: str, nth: int) -> str:
    lz = LEVEL_ZH[level]
    if nth <= 1:
        return f"{place}新建{lz}(规划)"
    num = _ZH_NUM[nth - 1] if nth <= len(_ZH_NUM) else str(nth)
    return f"{place}新建第{num}{lz}(规划)"


def _location_for(kind: str, near_location: str | None) -> str:
    if near_location:
        return near_location
    return {"community": "urban", "new_community": "urban", "relocation_site": "town"}.get(
        kind, "rural"
    )


def run_new_schools(
    schools: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    params: NewSchoolParams,
    standards: Standards,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    costs=None,
    progress: Progress | None = None,
) -> NewSchoolResult:
    """New schools required by the population thresholds, and layout status of ``schools``.

    ``schools`` and ``units`` are canonical layers (ARCHITECTURE.md) in one metric CRS;
    ``candidates`` optional candidate sites (level "" = any); ``costs`` a ``geo.distance``
    cost model (default straight line).
    """
    from geo.distance import StraightLine, as_xy

    progress = ensure(progress)
    _check_inputs(schools, units, candidates)
    _check_params(params)
    costs = costs or StraightLine()
    crs = schools.crs if schools.crs is not None else units.crs
    solve_s = 0.0

    layout = _layout_status(schools, params, costs)
    empty_new = gpd.GeoDataFrame(
        {
            c: pd.Series(dtype="int64" if c in ("classes", "capacity") else object)
            for c in NEW_COLUMNS
        },
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    if len(units) == 0:
        return NewSchoolResult(
            empty_new,
            layout["layout_status"],
            layout["layout_reason"],
            layout["layout_reason_en"],
            layout["merge_into"],
            pd.DataFrame(),
            _summary([], layout, 0.0, params, {}, 0),
            "empty",
        )

    units = units.reset_index(drop=True)
    uxy = _unit_points(units)
    valid = np.all(np.isfinite(uxy), axis=1)
    pop = pd.to_numeric(units["population"], errors="coerce").fillna(0).clip(lower=0).to_numpy()
    kids = students_by_level(units, standards)
    uid = units["unit_id"].astype(str).to_numpy()
    uname = units["name"].astype(str).to_numpy() if "name" in units else uid
    utown = (
        units["town"].fillna("").astype(str).to_numpy()
        if "town" in units
        else np.full(len(units), "")
    )
    ukind = (
        units["kind"].fillna("").astype(str).to_numpy()
        if "kind" in units
        else np.full(len(units), "")
    )

    cand_xy = np.zeros((0, 2))
    cand_level = np.zeros(0, dtype=object)
    cand_name = np.zeros(0, dtype=object)
    if candidates is not None and len(candidates) and params.use_candidates:
        cand_xy = as_xy(candidates.geometry)
        cand_level = (
            candidates.get("level", pd.Series("", index=candidates.index))
            .fillna("")
            .astype(str)
            .to_numpy()
        )
        cand_name = candidates.get("name", candidates["candidate_id"]).astype(str).to_numpy()
    cand_used = np.zeros(len(cand_xy), dtype=bool)

    exist_xy_all = as_xy(schools.geometry) if len(schools) else np.zeros((0, 2))
    exist_loc = schools["location"].astype(str).to_numpy() if "location" in schools else None

    reach = _Reach(costs, uxy)
    rows: list[dict] = []
    req_rows: list[dict] = []
    counters: dict[tuple[str, str], int] = {}
    unserved_after: dict[str, int] = {}
    below_min = 0

    # Places of existing schools for every level first: the three tables share the units'
    # snap to the road network, which the many small tables of the area loops would evict.
    served_by_level: dict[str, np.ndarray] = {}
    for level in LEVELS:
        check_canceled(progress)
        cs = standards.class_size(level)
        service = float(getattr(params, f"service_km_{level}"))
        demand = np.where(valid, kids[f"students_{level}"].to_numpy(float), 0.0)
        sel = (schools["level"] == level).to_numpy()
        cap = _capacity(schools[sel], cs)
        sxy = exist_xy_all[sel]
        t0 = time.perf_counter()
        dist = (
            costs.dense_km(uxy[valid], sxy, max_km=service)
            if len(sxy)
            else np.zeros((valid.sum(), 0))
        )
        served_v, _ = allocate_supply(dist, cap, demand[valid], service)
        del dist
        solve_s += time.perf_counter() - t0
        served_by_level[level] = np.zeros(len(units))
        served_by_level[level][valid] = served_v

    for li, level in enumerate(LEVELS):
        check_canceled(progress)
        progress.update(li / len(LEVELS), f"新建学校:{LEVEL_ZH[level]} / new schools: {level}")
        cs = standards.class_size(level)
        service = float(getattr(params, f"service_km_{level}"))
        demand = np.where(valid, kids[f"students_{level}"].to_numpy(float), 0.0)
        served = served_by_level[level]
        children_int = np.rint(demand)
        unserved = np.maximum(children_int - served, 0.0)

        mode = {
            "senior": params.senior_planning_unit,
            "junior": params.junior_planning_unit,
        }.get(level, params.planning_unit)
        keys, names = _areas(units, mode)
        area_members, gap_sum, (pop_sum, kids_sum) = _group_many(keys, unserved, pop, children_int)
        # Largest gaps first, so a smaller neighbour may use the spare places of a new school.
        order_keys = sorted(area_members, key=lambda k: (-gap_sum[k], k))
        new_sites: list[list] = []  # [x, y, spare places]
        near_cols = _Columns(costs, uxy, None)
        absorb_cols = _Columns(costs, uxy, service)
        reach.start(service)

        for key in order_keys:
            check_canceled(progress)
            if gap_sum[key] == 0 and _requires_none(level, pop_sum[key], kids_sum[key], params):
                continue  # nothing to absorb, build or report: most areas of a large county
            members = area_members[key]
            a_pop = _total(pop, members)
            a_kids = _total(children_int, members)
            gap_units = unserved[members].copy()
            absorbed = (
                _absorb(gap_units, members, uxy, new_sites, service, costs, absorb_cols)
                if reach.may_absorb(members, gap_units)
                else 0.0
            )
            gap = _total(gap_units, None)
            req = requirement(level, a_pop, a_kids, params, standards)
            sizes = size_new_schools(req, gap, a_kids, params.min_fill_share, cs)
            supplied = _total(served, members)
            note_zh, note_en = "", ""
            if req.schools > 0 and gap > 0 and not sizes:
                below_min += 1
                note_zh = (
                    f"缺口 {gap:,.0f} 人,不足规则最小学校({req.min_classes} 班)的 "
                    f"{params.min_fill_share:.0%},建议附近学校扩容"
                )
                note_en = (
                    f"gap of {gap:,.0f} is under {params.min_fill_share:.0%} of the rule's "
                    f"smallest school ({req.min_classes} classes): expand a nearby school"
                )
            elif req.schools == 0 and gap > 0:
                note_zh, note_en = "人口未达设校标准,不新建", "population below the threshold"
            if sizes:
                weights = np.where(gap_units > 0, gap_units, 0.0)
                t0 = time.perf_counter()
                sites = _site(
                    len(sizes),
                    members,
                    weights,
                    units,
                    uxy,
                    cand_xy,
                    cand_level,
                    cand_name,
                    cand_used,
                    level,
                    service,
                    costs,
                )
                solve_s += time.perf_counter() - t0
                total_cap = sum(sizes) * cs
                place = names[key]
                near_d = _member_columns(
                    costs, near_cols, uxy[members], np.array([[x, y] for x, y, _, _ in sites])
                )
                for si, ((x, y, site_zh, site_en), classes) in enumerate(zip(sites, sizes)):
                    if len(members) == 1:
                        near = members[0]
                    elif near_d is not None:
                        near = members[int(np.argmin(near_d[:, si]))]
                    else:
                        near = members[
                            int(np.argmin(costs.dense_km(np.array([[x, y]]), uxy[members])[0]))
                        ]
                    if mode == "county":
                        place = utown[near] or uname[near]
                    counters[(place, level)] = counters.get((place, level), 0) + 1
                    capacity = classes * cs
                    new_sites.append([x, y, capacity - gap * capacity / total_cap])
                    reach.add(x, y)
                    zh = (
                        f"{LEVEL_ZH[level]}:{names[key]} {req.zh};学龄儿童 {a_kids:,.0f} 人,"
                        f"{service:g} km 内现有及规划学校可提供 {supplied:,.0f} 个学位"
                        + (f",邻近新建学校可再提供 {absorbed:,.0f} 个" if absorbed > 0 else "")
                        + f",缺口 {gap:,.0f} 人 → 新建 {len(sizes)} 所,本校 {classes} 班"
                        f"({capacity:,} 个学位);选址:{site_zh}"
                    )
                    en = (
                        f"{level}: {names[key]} {req.en}; {a_kids:,.0f} children, existing and "
                        f"planned schools within {service:g} km give {supplied:,.0f} places"
                        + (f", new schools nearby {absorbed:,.0f} more" if absorbed > 0 else "")
                        + f"; gap {gap:,.0f} → {len(sizes)} new, this one {classes} classes "
                        f"({capacity:,} places); site: {site_en}"
                    )
                    rows.append(
                        {
                            "name": _ordinal_name(place, level, counters[(place, level)]),
                            "level": level,
                            "classes": int(classes),
                            "capacity": int(capacity),
                            "unit_id": uid[near],
                            "rule": zh,
                            "rule_en": en,
                            "rule_key": req.rule,
                            "x": x,
                            "y": y,
                            "kind": ukind[near],
                        }
                    )
            if req.schools > 0 or gap > 0:
                req_rows.append(
                    {
                        "area": key,
                        "area_name": names[key],
                        "level": level,
                        "population": a_pop,
                        "children": a_kids,
                        "supplied": supplied,
                        "absorbed_new": absorbed,
                        "gap": gap,
                        "rule": req.rule,
                        "schools_required": req.schools,
                        "classes_required": req.classes,
                        "new_schools": len(sizes),
                        "new_classes": int(sum(sizes)),
                        "threshold": req.zh,
                        "threshold_en": req.en,
                        "note": note_zh,
                        "note_en": note_en,
                    }
                )
        new_cap = sum(r["capacity"] for r in rows if r["level"] == level)
        unserved_after[level] = int(max(unserved.sum() - new_cap, 0))
    progress.update(1.0, "新建学校完成 / new schools done")

    new = _new_frame(rows, crs, empty_new)
    context = _context(rows, new, exist_xy_all, exist_loc, costs, params)
    summary = _summary(rows, layout, solve_s, params, unserved_after, below_min)
    return NewSchoolResult(
        new,
        layout["layout_status"],
        layout["layout_reason"],
        layout["layout_reason_en"],
        layout["merge_into"],
        pd.DataFrame(req_rows),
        summary,
        "ok",
        context,
    )


def _capacity(lvl: pd.DataFrame, class_size: int) -> np.ndarray:
    cap = (
        pd.to_numeric(lvl["capacity"], errors="coerce")
        if "capacity" in lvl
        else pd.Series(np.nan, index=lvl.index)
    )
    classes = (
        pd.to_numeric(lvl["classes"], errors="coerce")
        if "classes" in lvl
        else pd.Series(0, index=lvl.index)
    )
    return cap.fillna(classes.fillna(0) * class_size).clip(lower=0).to_numpy(float)


class _Columns:
    """Distances from every unit to the new sites of one level, computed once per site and
    sliced per planning area. Only used where the cost model says a slice equals the table
    the area would have asked for (``slices_exact``), so results stay bit for bit the same;
    elsewhere callers ask the cost model directly."""

    def __init__(self, costs, uxy: np.ndarray, max_km: float | None):
        self.costs, self.uxy, self.max_km = costs, uxy, max_km
        self._exact = getattr(costs, "slices_exact", None)
        self.cols = np.zeros((len(uxy), 0))
        self.ok = self._exact is not None and self._exact(len(uxy), 1)

    def exact(self, n_origins: int, n_dests: int) -> bool:
        return self.ok and bool(self._exact(n_origins, n_dests))

    def table(self, sites_xy: np.ndarray) -> np.ndarray | None:
        """(all units, sites) distances, in blocks the cost model computes column by column."""
        if not self.ok:
            return None
        n, parts, i = len(self.uxy), [], 0
        while i < len(sites_xy):
            b = len(sites_xy) - i
            while b > 1 and not self._exact(n, b):
                b //= 2
            parts.append(self.costs.dense_km(self.uxy, sites_xy[i : i + b], max_km=self.max_km))
            i += b
        return np.hstack(parts) if parts else np.zeros((n, 0))

    def upto(self, new_sites: list[list]) -> np.ndarray | None:
        """Columns for the first len(new_sites) sites (appended sites are added lazily)."""
        have = self.cols.shape[1]
        if self.ok and have < len(new_sites):
            add = self.table(np.array([[s[0], s[1]] for s in new_sites[have:]]))
            self.cols = np.hstack([self.cols, add])
        return self.cols if self.ok else None


def _member_columns(costs, cols: _Columns, member_xy: np.ndarray, sites_xy: np.ndarray):
    """(members, sites) distances equal to the slice of the all-units columns, asked for over
    the members only; None where the cost model cannot promise that (callers then ask per
    site in the old orientation)."""
    n, k = len(member_xy), len(sites_xy)
    if n <= 1 or not cols.exact(n, 1):
        return None
    if cols.exact(n, k):
        return costs.dense_km(member_xy, sites_xy)
    return np.hstack([costs.dense_km(member_xy, sites_xy[j : j + 1]) for j in range(k)])


def _group_many(
    keys: np.ndarray, values: np.ndarray, *more: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, float], list[dict[str, float]]]:
    """Members (ascending positions) and the sum of ``values`` of each key, plus the per-key sums
    of further arrays (``more``), in one pass (one ``np.unique``).

    ``values`` are whole numbers (children), so the bincount sums equal per-area sums exactly. The
    sums of ``more`` are taken in bincount's order, not the per-area order: callers use them
    only where a rounding difference cannot matter (``_requires_none`` keeps clear of its
    thresholds)."""
    uniq, inv = np.unique(keys, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    counts = np.bincount(inv, minlength=len(uniq))
    parts = np.split(order, np.cumsum(counts)[:-1])
    names = [str(k) for k in uniq]

    def sums(v: np.ndarray) -> dict[str, float]:
        return dict(zip(names, np.bincount(inv, weights=v, minlength=len(uniq)).tolist()))

    return dict(zip(names, parts)), sums(values), [sums(v) for v in more]


def _total(values: np.ndarray, members: np.ndarray | None) -> float:
    """``float(values[members].sum())`` (all of ``values`` for None), without numpy's call
    overhead for the one-unit areas that most areas are: a one-element sum is the element
    plus 0.0 (which turns -0.0 into 0.0, as numpy's reduction does)."""
    if members is None:
        return float(values[0]) + 0.0 if len(values) == 1 else float(values.sum())
    if len(members) == 1:
        return float(values[members[0]]) + 0.0
    return float(values[members].sum())


def _requires_none(level: str, population: float, children: float, params: NewSchoolParams) -> bool:
    """Whether ``requirement`` surely calls for no school in an area of these sums.

    Its only branches without a school: primary or junior population under the level's
    threshold, senior without children. ``population`` may differ from the area's own sum in
    the last bits (another summation order), so it must lie a relative 1e-9 under the
    threshold (summation error is ~1e-16 per unit); ``children`` are whole numbers, exact."""
    if level == "primary":
        return population < params.primary_min_population * (1 - 1e-9)
    if level == "junior":
        return population < params.junior_min_population * (1 - 1e-9)
    return level == "senior" and children <= 0


class _Reach:
    """Units that a proposed new site may reach within the service distance.

    Road distance is never shorter than the straight line, so a unit farther than the service
    distance in a straight line from every new site cannot take their places: its area's
    distance table need not be asked for (the answer would be all beyond reach). Cost models
    not known to be bounded below by the straight line get no such shortcut."""

    def __init__(self, costs, uxy: np.ndarray):
        self.bounded = _straight_bounded(costs)
        self.uxy = uxy
        self.valid = np.flatnonzero(np.all(np.isfinite(uxy), axis=1))
        self.tree = None
        self.flag = np.ones(len(uxy), dtype=bool)
        self.radius_m = np.inf

    def start(self, service_km: float) -> None:
        """A new level: no sites yet."""
        # The margin covers rounding in either distance; a unit inside it is only asked about.
        self.radius_m = float(service_km) * 1000.0 * (1 + 1e-9) + 1e-3
        self.flag = np.zeros(len(self.uxy), dtype=bool) if self.bounded else self.flag | True

    def add(self, x: float, y: float) -> None:
        if not self.bounded or len(self.valid) == 0:
            return
        if self.tree is None:
            from scipy.spatial import cKDTree

            self.tree = cKDTree(self.uxy[self.valid])
        hit = self.tree.query_ball_point([x, y], self.radius_m)
        self.flag[self.valid[np.asarray(hit, dtype=np.int64)]] = True

    def may_absorb(self, members: np.ndarray, gap_units: np.ndarray) -> bool:
        if len(members) == 1:  # most areas are one village: skip the array machinery
            return bool(self.flag[members[0]]) and gap_units[0] > 0
        return bool(np.any(self.flag[members] & (gap_units > 0)))


def _absorb(gap_units, members, uxy, new_sites, service, costs, cols=None) -> float:
    """Give the area's gap the spare places of new schools already proposed nearby (in place)."""
    if not new_sites or gap_units.sum() <= 0:
        return 0.0
    if cols is not None and cols.exact(len(members), len(new_sites)):
        d = cols.upto(new_sites)[members]
    else:
        sites = np.array([[s[0], s[1]] for s in new_sites])
        d = costs.dense_km(uxy[members], sites, max_km=service)
    taken = 0.0
    for i, j in zip(*np.unravel_index(np.argsort(d, axis=None, kind="stable"), d.shape)):
        if d[i, j] > service:
            break
        give = min(gap_units[i], new_sites[j][2])
        if give > 0:
            gap_units[i] -= give
            new_sites[j][2] -= give
            taken += give
    return taken


def _straight_bounded(costs) -> bool:
    """Whether the cost model is known to be the straight line or never shorter than it."""
    from geo.distance import RoadNetwork, StraightLine

    return isinstance(costs, (StraightLine, RoadNetwork))


def _within_reach(
    costs, dxy: np.ndarray, cand_xy: np.ndarray, idx: np.ndarray, service: float
) -> np.ndarray:
    """Per candidate ``idx``: whether some demand point is within ``service`` km of it.

    The nearest demand point of every candidate (one multi-source search) settles the question
    for every candidate whose nearest distance is not within a millimetre of the bound; the two
    computations of a distance differ only by rounding, far below that. Only when a candidate
    sits on the bound is the full bounded table asked for, as before. The search is asked for
    all candidates (the same point set every time, so the road model snaps it once)."""
    sub = cand_xy[idx]
    if _straight_bounded(costs) and len(dxy) and np.all(np.isfinite(dxy)):
        whole = bool(np.all(np.isfinite(cand_xy)))
        if whole or np.all(np.isfinite(sub)):
            near, _ = costs.knn_km(cand_xy if whole else sub, dxy, 1)
            near = near[idx, 0] if whole else near[:, 0]
            tol = 1e-6 + 1e-9 * service
            inside, outside = near <= service - tol, near > service + tol
            if np.all(inside | outside):
                return inside
    dc = costs.dense_km(dxy, sub, max_km=service)
    return (dc <= service).any(axis=0)


def _site(
    k,
    members,
    weights,
    units,
    uxy,
    cand_xy,
    cand_level,
    cand_name,
    cand_used,
    level,
    service,
    costs,
):
    """``k`` sites for one area: p-median among candidates (and demand points when too few)."""
    weights = np.asarray(weights, dtype=float)
    keep = (weights > 0) & np.all(np.isfinite(uxy[members]), axis=1)
    take, wts = members[keep], weights[keep]
    geoms = np.asarray(units.geometry.to_numpy(), dtype=object)[take]
    if k > 1 and np.any(shapely.get_type_id(geoms) != shapely.GeometryType.POINT):
        # Polygon units get a grid of samples so several schools can spread over them.
        pts, w = [], []
        for m_, wt, g in zip(take, wts, geoms):
            samples = _polygon_samples(g)
            if len(samples):
                pts.append(samples)
                w.append(np.full(len(samples), wt / len(samples)))
            else:
                pts.append(uxy[m_][None, :])
                w.append(np.array([wt]))
        dxy = np.vstack(pts)
        dw = np.concatenate(w)
    else:
        dxy, dw = uxy[take], wts
    elig = np.zeros(0, dtype=np.int64)
    if len(cand_xy):
        ok = ~cand_used & ((cand_level == "") | (cand_level == level))
        idx = np.nonzero(ok)[0]
        if idx.size:
            elig = idx[_within_reach(costs, dxy, cand_xy, idx, service)]
    if elig.size == 0 and k == 1:
        cx, cy = np.average(dxy, axis=0, weights=dw)
        return [
            (
                cx,
                cy,
                "人口加权中心(无可用候选地块)",
                "population-weighted centre (no candidate site)",
            )
        ]
    site_xy = np.vstack([cand_xy[elig], dxy]) if elig.size < k else cand_xy[elig]
    sol = solve_pmedian(costs.dense_km(dxy, site_xy), dw, k)
    out = []
    if sol.open.size < k:
        # Fewer distinct places than schools (a point unit needing several): the extra
        # schools share the weighted centre, and the text says so.
        cx, cy = np.average(dxy, axis=0, weights=dw)
        out += [
            (
                cx,
                cy,
                "人口加权中心(同址,需细化选址)",
                "population-weighted centre (shared; site to be refined)",
            )
        ] * (k - sol.open.size)
    for col in sol.open:
        x, y = site_xy[col]
        if col < elig.size:
            c = elig[col]
            cand_used[c] = True
            out.append((x, y, f"候选地块 {cand_name[c]}", f"candidate site {cand_name[c]}"))
        else:
            out.append((x, y, "人口分布点(候选地块不足)", "demand point (too few candidate sites)"))
    return out


def _new_frame(rows, crs, empty_new) -> gpd.GeoDataFrame:
    if not rows:
        return empty_new
    df = pd.DataFrame(rows)
    df["_lv"] = df["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    df = df.sort_values("_lv", kind="stable").reset_index(drop=True)
    df["school_id"] = [
        f"NEW-{_ID_LETTER[lv]}-{i:03d}"
        for lv, i in zip(df["level"], df.groupby("level").cumcount() + 1)
    ]
    geom = gpd.points_from_xy(df["x"], df["y"], crs=crs)
    out = gpd.GeoDataFrame(df[NEW_COLUMNS].copy(), geometry=geom, crs=crs)
    out.attrs["rule_key"] = df["rule_key"].tolist()
    out.attrs["kind"] = df["kind"].tolist()
    return out


def _context(rows, new, exist_xy, exist_loc, costs, params) -> pd.DataFrame:
    """Location (urban/town/rural) and school type of each new school, from its surroundings."""
    if len(new) == 0:
        return pd.DataFrame(columns=["location", "school_type", "rule_key"])
    from geo.distance import as_xy

    xy = as_xy(new.geometry)
    kinds = new.attrs.get("kind", [""] * len(new))
    near_loc: list[str | None] = [None] * len(new)
    if exist_loc is not None and len(exist_xy):
        dist, idx = costs.knn_km(xy, exist_xy, 1)
        for i in range(len(new)):
            if idx[i, 0] >= 0 and dist[i, 0] <= params.service_km_primary:
                near_loc[i] = exist_loc[idx[i, 0]]
    return pd.DataFrame(
        {
            "location": [_location_for(k, n) for k, n in zip(kinds, near_loc)],
            "school_type": [
                "relocation_site" if k == "relocation_site" else "regular" for k in kinds
            ],
            "rule_key": new.attrs.get("rule_key", [""] * len(new)),
        },
        index=new.index,
    )


def _summary(rows, layout, solve_s, params, unserved_after, below_min) -> dict[str, Any]:
    by_rule: dict[str, int] = {}
    for r in rows:
        by_rule[r["rule_key"]] = by_rule.get(r["rule_key"], 0) + 1
    counts = layout["layout_status"].value_counts() if len(layout) else pd.Series(dtype=int)
    return {
        **{lv: sum(1 for r in rows if r["level"] == lv) for lv in LEVELS},
        "classes_total": int(sum(r["classes"] for r in rows)),
        "capacity_total": int(sum(r["capacity"] for r in rows)),
        "by_rule": dict(sorted(by_rule.items())),
        "solve_seconds": round(float(solve_s), 4),
        "planning_unit": params.planning_unit,
        "areas_gap_below_min": int(below_min),
        "unserved_after": unserved_after,
        "layout": {s: int(counts.get(s, 0)) for s in ("permanent", "transitional", "to_merge")},
    }


def as_school_rows(result: NewSchoolResult, standards: Standards) -> gpd.GeoDataFrame:
    """The new schools in the canonical schools schema (status planned, quality ordinary)."""
    new = result.new_schools
    ctx = result.context
    n = len(new)
    loc = ctx["location"].tolist() if len(ctx) == n and n else ["urban"] * n
    typ = ctx["school_type"].tolist() if len(ctx) == n and n else ["regular"] * n
    df = pd.DataFrame(
        {
            "school_id": new["school_id"].astype(str).tolist(),
            "name": new["name"].astype(str).tolist(),
            "level": new["level"].astype(str).tolist(),
            "classes": new["classes"].astype("int64").tolist(),
            "students": [0] * n,
            "capacity": [
                int(c) if pd.notna(c) else int(k) * standards.class_size(lv)
                for c, k, lv in zip(new["capacity"], new["classes"], new["level"])
            ],
            "teachers": [np.nan] * n,
            "quality": ["ordinary"] * n,
            "location": loc,
            "status": ["planned"] * n,
            "ownership": ["public"] * n,
            "school_type": typ,
            "combined": [""] * n,
            "src_row": [0] * n,
        }
    )
    for col in ("classes", "students", "capacity", "src_row"):
        df[col] = df[col].astype("int64")
    df["teachers"] = df["teachers"].astype(float)
    return gpd.GeoDataFrame(df, geometry=list(new.geometry), crs=new.crs)


__all__ = [
    "NEW_COLUMNS",
    "Requirement",
    "requirement",
    "size_new_schools",
    "allocate_supply",
    "NewSchoolResult",
    "run_new_schools",
    "as_school_rows",
]
