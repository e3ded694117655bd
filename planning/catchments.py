"""Catchment zones for nearby enrolment (划片就近入学): geo entry and result.

Per level: demand units (pupils per village/community/cell) are assigned to the schools of that
level by straight line or road distance (``geo.distance``), to the nearest school or within
capacity (``planning.assign``), and each school's zone is drawn (``geo.zones``).

Definitions used in every output:
- ``assigned``: the unit's pupils have a place at ``school_id_<level>`` within ``max_km_<level>``.
- ``too_far``: they have a place there, but farther than ``max_km_<level>`` (still assigned; the
  flag tells the planner the trip is too long).
- ``unserved``: no place: no school of the level is reachable (other road piece, no road within
  ``snap_max_m``), or in capacity mode every reachable school in reach is full. Never forced in.
- With splitting allowed a unit may be shared; the demand row names the school taking most of it
  and the summary counts pupils exactly.
- Zones cover the boundary: an unserved unit's area is drawn in the zone of its nearest school
  (by the same distance, else straight line) although its pupils are not counted there.
- No population layer: a uniform grid (``grid_cell_m``) with weight 1 per cell is used to draw
  zones by nearest school; pupil figures are then 0 and distances are cell (area) weighted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.errors import InputError, Problem
from core.progress import Progress, check_canceled, ensure
from core.vocab import LEVEL
from geo.distance import CostModel, as_xy, make_cost_model
from geo.grid import uniform_grid
from geo.zones import zone_polygons
from planning.assign import assign_capacity, assign_nearest
from planning.rules import LEVELS, CatchmentParams, Standards

STATUSES = ("assigned", "too_far", "unserved")


@dataclass
class CatchmentResult:
    catchments: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    summary: dict
    status: str  # ok | empty
    notes: list[str] = field(default_factory=list)


def cost_model(layers_or_roads, params: CatchmentParams) -> CostModel:
    """The distance model of a project (a ``Layers`` with ``.roads``, a road layer or None), so
    grouping, new schools and catchments share one road graph."""
    roads = getattr(layers_or_roads, "roads", layers_or_roads)
    return make_cost_model(roads, params.distance, params.snap_max_m)


def _students(units: pd.DataFrame, standards: Standards) -> pd.DataFrame:
    from planning.demand import students_by_level

    return students_by_level(units, standards)


def _check(schools, units, boundary) -> None:
    problems: list[Problem] = []
    need = ("school_id", "level", "geometry")
    for col in need:
        if col not in schools.columns:
            problems.append(Problem(f"schools layer has no column '{col}'", layer="schools"))
    if schools.crs is None or not schools.crs.is_projected:
        problems.append(
            Problem(
                "schools are not in a metric (projected) CRS",
                fix="load the project with geo.project.load_project, which reprojects",
                layer="schools",
            )
        )
    if boundary is None or len(boundary) == 0 or shapely.union_all(boundary.geometry).is_empty:
        problems.append(Problem("no boundary polygon", fix="add the county boundary layer"))
    if units is not None and len(units) and "unit_id" not in units.columns:
        problems.append(Problem("population layer has no column 'unit_id'", layer="units"))
    if len(schools) and not np.all(shapely.get_type_id(schools.geometry.values) == 0):
        problems.append(Problem("school locations must be points", layer="schools"))
    if problems:
        raise InputError("catchments: input layers cannot be used", problems)


def _capacity(sch: pd.DataFrame, standards: Standards, level: str) -> np.ndarray:
    cap = pd.to_numeric(sch.get("capacity"), errors="coerce") if "capacity" in sch else None
    classes = pd.to_numeric(sch.get("classes", 0), errors="coerce")
    fallback = np.nan_to_num(np.asarray(classes, float)) * standards.class_size(level)
    if cap is None:
        return fallback
    cap = np.asarray(cap, float)
    return np.where(np.isfinite(cap), cap, fallback)


def run_catchments(
    schools: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None,
    boundary: gpd.GeoDataFrame,
    params: CatchmentParams,
    standards: Standards,
    *,
    roads: gpd.GeoDataFrame | None = None,
    costs: CostModel | None = None,
    progress: Progress | None = None,
) -> CatchmentResult:
    """Zones and figures per school and level. ``costs`` (optional) is a cost model already built
    for the project (``cost_model``); else one is made from ``roads`` and ``params.distance``."""
    progress = ensure(progress)
    _check(schools, units, boundary)
    crs = schools.crs
    boundary = (
        boundary.to_crs(crs) if boundary.crs is not None and boundary.crs != crs else boundary
    )
    notes: list[str] = []
    grid = units is None or len(units) == 0
    if grid:
        units = uniform_grid(boundary, params.grid_cell_m)
        draw_cell = params.grid_cell_m
        notes.append(
            f"no population layer: {len(units)} grid cells of {params.grid_cell_m:g} m, weight 1 "
            "each, zones by nearest school"
        )
    else:
        units = units.to_crs(crs) if units.crs is not None and units.crs != crs else units
        draw_cell = params.zone_cell_m
    units = units.reset_index(drop=True)
    progress.update(0.02, "距离模型 / distance model")
    if costs is None:
        costs = cost_model(roads, params)
    unit_geom = units.geometry.values
    is_point = shapely.get_type_id(unit_geom) == 0
    unit_xy = shapely.get_coordinates(
        np.where(is_point, unit_geom, shapely.point_on_surface(unit_geom))
    )
    if grid:
        pupils = pd.DataFrame({f"students_{lv}": np.ones(len(units)) for lv in LEVELS})
    else:
        # Pupils are counts: estimates are rounded so capacity checks are exact.
        pupils = np.rint(_students(units, standards)).clip(lower=0)

    demand = gpd.GeoDataFrame(
        {
            "unit_id": units["unit_id"].astype(str).to_numpy(),
            "population": pd.to_numeric(units.get("population", np.nan), errors="coerce"),
        },
        geometry=units.geometry.values,
        crs=crs,
    )
    rows: list[gpd.GeoDataFrame] = []
    summary: dict = {
        "distance": costs.kind,
        "mode": "nearest" if grid else params.mode,
        "demand_source": "uniform_grid" if grid else "population",
    }
    levels = [lv for lv in LEVELS if (schools["level"] == lv).any()]
    for li, level in enumerate(LEVELS):
        w = pupils[f"students_{level}"].to_numpy(float)
        demand[f"students_{level}"] = 0.0 if grid else w
        if level not in levels:
            demand[f"school_id_{level}"] = ""
            demand[f"distance_{level}_km"] = np.nan
            demand[f"status_{level}"] = "unserved"
            if not grid and w.sum() > 0:
                summary[level] = {"students": float(w.sum()), "unserved": float(w.sum()),
                                  "note": "no school of this level"}  # fmt: skip
            continue
        check_canceled(progress)
        base = li / len(LEVELS)
        progress.update(
            0.05 + 0.9 * base, f"学区划片:{LEVEL.label(level, 'zh')} / assigning {level}"
        )
        sch = schools[schools["level"] == level].sort_values("school_id", kind="stable")
        row, lv_summary, lv_notes = _level(
            level, sch, demand, unit_xy, w, grid, costs, params, standards, draw_cell,
            boundary, progress,
        )  # fmt: skip
        rows.append(row)
        summary[level] = lv_summary
        notes += [f"{level}: {n}" for n in lv_notes]
    progress.update(1.0, "学区划片完成 / catchments done")
    road = getattr(costs, "graph", None)
    if road is not None:
        comps = road.components()
        summary["road_network"] = {
            "nodes": road.n_nodes,
            "edges": road.n_edges,
            "pieces": len(comps),
            "largest_piece_share": (
                comps[0]["length_km"] / max(sum(c["length_km"] for c in comps), 1e-12)
                if comps
                else 0.0
            ),
            "units_off_network": int((~costs.snap(unit_xy).on_network).sum()),
        }
        if len(comps) > 1:
            notes.append(
                f"road network has {len(comps)} separate pieces; places on a piece without a "
                "school of their level are unserved by road"
            )
    summary["notes"] = notes
    for n in notes:
        progress.info(n)
    cols = ["school_id", "name", "level", "students", "capacity", "utilization",
            "mean_distance_km", "max_distance_km", "classes", "classes_needed", "oversized"]  # fmt: skip
    if rows:
        catch = gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry", crs=crs)
    else:
        catch = gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs)
    return CatchmentResult(
        catchments=catch,
        demand=demand,
        summary=summary,
        status="ok" if levels else "empty",
        notes=notes,
    )


def _level(level, sch, demand, unit_xy, w, grid, costs, params, standards, draw_cell, boundary,
           progress):  # fmt: skip
    m = len(sch)
    school_xy = as_xy(sch.geometry)
    cap = _capacity(sch, standards, level)
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def candidates(k: int):
        if k not in cache:
            cache[k] = costs.knn_km(unit_xy, school_xy, k)
        return cache[k]

    if grid or params.mode == "nearest":
        d1, i1 = candidates(1)
        a = assign_nearest(w, d1, i1, m)
    else:
        a = assign_capacity(
            w, cap, candidates, params.k_nearest, m, allow_split=params.allow_split,
            split_large=params.split_large_units,
            progress=progress,
        )  # fmt: skip
    max_km = params.max_km(level)
    ids = sch["school_id"].astype(str).to_numpy()
    has = a.school >= 0
    demand[f"school_id_{level}"] = np.where(has, ids[np.maximum(a.school, 0)], "")
    demand[f"distance_{level}_km"] = np.where(has, a.distance_km, np.nan)
    status = np.where(~has, "unserved", np.where(a.distance_km > max_km, "too_far", "assigned"))
    demand[f"status_{level}"] = status

    # Figures per school from the flows (exact with splitting too).
    fs, fp = a.flow_school, a.flow_pupils
    fd = a.flow_km
    load = np.bincount(fs, fp, m) if len(fs) else np.zeros(m)
    dist_sum = np.bincount(fs, fp * fd, m) if len(fs) else np.zeros(m)
    pos = fp > 0
    dmax = np.full(m, np.nan)
    if pos.any():
        order = np.lexsort((fd[pos], fs[pos]))
        last = np.r_[fs[pos][order][1:] != fs[pos][order][:-1], True]
        dmax[fs[pos][order][last]] = fd[pos][order][last]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(load > 0, dist_sum / load, np.nan)
        util = np.where(cap > 0, load / cap, np.nan)
    classes = np.nan_to_num(pd.to_numeric(sch.get("classes", 0), errors="coerce").to_numpy(float))
    students_out = np.zeros(m) if grid else load
    csize = standards.class_size(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        oversized = (classes > 0) & (
            students_out / np.where(classes > 0, classes, 1) >= standards.oversized_class
        )
    classes_needed = np.ceil(students_out / csize).astype(int)

    # Zones: the assigned school, else the nearest one so the map has no hole.
    labels = a.school.copy()
    missing = labels < 0
    if missing.any():
        d1, i1 = candidates(1)
        labels[missing] = i1[missing, 0]
        still = labels < 0
        if still.any():
            from geo.distance import StraightLine

            labels[still] = StraightLine().knn_km(unit_xy[still], school_xy, 1)[1][:, 0]
    check_canceled(progress)
    zones = zone_polygons(
        demand.geometry.values, labels, boundary, draw_cell, params.zone_simplify_cells
    )
    geoms = [zones.get(j) for j in range(m)]
    row = gpd.GeoDataFrame(
        {
            "school_id": ids,
            "name": sch["name"].astype(str).to_numpy() if "name" in sch else "",
            "level": level,
            "students": students_out,
            "capacity": cap,
            "utilization": np.zeros(m) if grid else util,
            "mean_distance_km": mean,
            "max_distance_km": dmax,
            "classes": classes.astype(int),
            "classes_needed": classes_needed,
            "oversized": oversized,
            "geometry": [
                shapely.multipolygons(shapely.get_parts(g)) if g is not None else None
                for g in geoms
            ],
        },
        geometry="geometry",
        crs=demand.crs,
    )

    placed = a.placed
    total = float(w.sum())
    too_far = float(placed[(status == "too_far")].sum())
    pk = fd[pos]
    pw = fp[pos]
    lv = {
        "students": 0.0 if grid else total,
        "assigned": 0.0 if grid else float(placed.sum()) - too_far,
        "too_far": 0.0 if grid else too_far,
        "unserved": 0.0 if grid else float(total - placed.sum()),
        "mean_distance_km": float(np.average(pk, weights=pw)) if len(pk) else None,
        "p95_distance_km": _weighted_quantile(pk, pw, 0.95) if len(pk) else None,
        "max_distance_km": float(pk.max()) if len(pk) else None,
        "over_capacity_schools": 0 if grid else int((load > cap + 1e-9).sum()),
        "oversized_schools": int(oversized.sum()),
        "solve_seconds": round(a.solve_seconds, 4),
        "schools": m,
        "units": len(w),
        "units_too_far": int((status == "too_far").sum()),
        "units_unserved": int((status == "unserved").sum()),
        "method": a.method,
        "k_used": a.k_used,
    }
    if a.lower_bound_pupil_km is not None and a.lower_bound_pupil_km > 0:
        lv["lower_bound_pupil_km"] = a.lower_bound_pupil_km
        lv["gap_to_bound_pct"] = 100.0 * (a.pupil_km / a.lower_bound_pupil_km - 1.0)
    return row, lv, a.notes


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    if cw[-1] <= 0:
        return float(np.quantile(x, q))
    return float(x[order][np.searchsorted(cw, q * cw[-1])])


__all__ = ["CatchmentResult", "STATUSES", "cost_model", "run_catchments"]
