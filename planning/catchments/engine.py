"""Catchment zones for nearby enrolment (划片就近入学): the engine, build → solve → explain.

Per level: demand units (pupils per village/community/cell) are assigned to the schools of that
level by the project's cost model (straight line or road, built once per plan and handed in), to
the nearest school or within capacity (``assign``), and each school's zone is drawn
(``geo.zones``).

Definitions used in every output:
- ``assigned``: the unit's pupils have a place at ``school_id_<level>`` within ``max_km_<level>``.
- ``too_far``: they have a place there, but farther than ``max_km_<level>`` (still assigned; the
  flag tells the planner the trip is too long).
- ``unserved``: no place: no school of the level is reachable (other road piece, no road within
  ``distance.snap_max_m``), or in capacity mode every reachable school in reach is full. Never
  forced in.
- With splitting allowed a unit may be shared; the demand row names the school taking most of it
  and the summary counts pupils exactly.
- Zones cover the boundary: an unserved unit's area is drawn in the zone of its nearest school
  (by the same distance, else straight line) although its pupils are not counted there.
- No population layer: a uniform grid (``grid_cell_m``) with weight 1 per cell is used to draw
  zones by nearest school; pupil figures are then 0 and distances are cell (area) weighted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from core.progress import Progress, check_canceled, ensure
from core.vocab import LEVEL
from geo.distance import CostModel
from planning.catchments import explain
from planning.catchments.assign import Assignment, assign_capacity, assign_nearest
from planning.catchments.explain import MEMBER_FULL
from planning.catchments.problem import (
    DemandUnits,
    LevelProblem,
    check_inputs,
    demand_units,
    level_problem,
)
from planning.catchments.result import (
    CatchmentResult,
    CatchmentSummary,
    LevelSummary,
    NoSchoolLevel,
)
from planning.rules import LEVELS, CatchmentParams, Standards
from planning.ties import id_keys


def run_catchments(
    schools: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None,
    boundary: gpd.GeoDataFrame,
    params: CatchmentParams,
    standards: Standards,
    *,
    costs: CostModel,
    baseline: Mapping[str, Mapping[str, str]] | None = None,
    progress: Progress | None = None,
) -> CatchmentResult:
    """Zones and figures per school and level, distances by ``costs`` (the project's cost
    model, ``planning.pipeline.cost_model``). ``baseline``: per level, unit_id -> the school it
    is zoned to now (a base scenario's demand layer); without it the units layer's
    ``current_school_<level>`` columns when given. With a baseline a unit keeps its school
    unless it must move or moving saves more than ``keep_current_km`` per pupil."""
    progress = ensure(progress)
    check_inputs(schools, units, boundary)
    crs = schools.crs
    if boundary.crs is not None and boundary.crs != crs:
        boundary = boundary.to_crs(crs)
    du = demand_units(units, boundary, crs, params, standards)
    demand = du.frame
    notes = list(du.notes)
    rows: list[gpd.GeoDataFrame] = []
    levels: dict[str, LevelSummary | NoSchoolLevel] = {}
    present = [lv for lv in LEVELS if (schools["level"] == lv).any()]
    for li, level in enumerate(LEVELS):
        w = du.pupils[level]
        demand[f"students_{level}"] = 0.0 if du.grid else w
        if level not in present:
            explain.no_school_columns(demand, level)
            if not du.grid and w.sum() > 0:
                levels[level] = explain.no_school_summary(w)
            continue
        check_canceled(progress)
        progress.update(
            0.05 + 0.9 * li / len(LEVELS),
            f"学区划片:{LEVEL.label(level, 'zh')} / assigning {level}",
        )
        prob = level_problem(
            level, schools, du, costs, standards, params.no_feeder_pools and not du.grid
        )
        current = current_schools(units, du, level, baseline)
        row, levels[level], lv_notes = _level(
            prob, du, boundary, params, standards, progress, current=current
        )
        rows.append(row)
        notes += [f"{level}: {n}" for n in lv_notes]
    progress.update(1.0, "学区划片完成 / catchments done")
    road, road_notes = explain.road_summary(costs, du.xy)
    notes += road_notes
    for n in notes:
        progress.info(n)
    summary = CatchmentSummary(
        distance=costs.kind,
        mode="nearest" if du.grid else params.mode,
        demand_source="uniform_grid" if du.grid else "population",
        levels=levels,
        road_network=road,
        notes=tuple(notes),
    )
    if rows:
        catch = gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry", crs=crs)
    else:
        catch = gpd.GeoDataFrame({c: [] for c in explain.ZONE_COLUMNS}, geometry=[], crs=crs)
    return CatchmentResult(
        catchments=catch,
        demand=demand,
        summary=summary,
        status="ok" if present else "empty",
        notes=notes,
    )


def zoning_of(demand: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Per level, unit_id -> the school a plan's demand layer zones it to (``school_id_<level>``;
    units without one left out): a plan or scenario as the baseline of a re-zoning."""
    out: dict[str, dict[str, str]] = {}
    if "unit_id" not in demand:
        return out
    units = demand["unit_id"].astype(str)
    for level in LEVELS:
        col = f"school_id_{level}"
        if col not in demand:
            continue
        ids = demand[col].where(demand[col].notna(), "").astype(str).str.strip()
        ok = (ids != "").to_numpy()
        out[level] = dict(zip(units[ok], ids[ok], strict=True))
    return out


def current_schools(
    units: gpd.GeoDataFrame | None,
    du: DemandUnits,
    level: str,
    baseline: Mapping[str, Mapping[str, str]] | None,
) -> np.ndarray | None:
    """Each demand unit's current school id at ``level`` ("" when not known), or None when
    there is no baseline."""
    ids = du.frame["unit_id"].to_numpy()
    if baseline is not None and level in baseline:
        now = baseline[level]
        return np.array([str(now.get(u, "") or "") for u in ids], dtype=object)
    col = f"current_school_{level}"
    if du.grid or units is None or col not in units.columns:
        return None
    given = units[col].fillna("").astype(str).str.strip()
    now = dict(zip(units["unit_id"].astype(str), given, strict=False))
    return np.array([now.get(u, "") for u in ids], dtype=object)


def _solve(
    prob: LevelProblem,
    unit_ids: np.ndarray,
    current: np.ndarray | None,
    grid: bool,
    params: CatchmentParams,
    progress: Progress,
) -> Assignment:
    keep = None
    if current is not None:
        index = {s: j for j, s in enumerate(prob.ids)}
        keep = (np.array([index.get(s, -1) for s in current], np.int64), params.keep_current_km)
    if grid or params.mode == "nearest":
        d1, i1 = prob.candidates(1)
        return assign_nearest(prob.pupils, d1, i1, prob.m)
    return assign_capacity(
        prob.pupils,
        prob.capacity,
        prob.candidates,
        params.k_nearest,
        prob.m,
        allow_split=params.allow_split,
        split_large=params.split_large_units,
        keys=(id_keys(unit_ids), id_keys(prob.ids)),
        keep=keep,
        widen_km=params.widen_factor * params.max_km(prob.level),
        progress=progress,
    )


def _level(
    prob: LevelProblem,
    du: DemandUnits,
    boundary: gpd.GeoDataFrame,
    params: CatchmentParams,
    standards: Standards,
    progress: Progress,
    *,
    current: np.ndarray | None,
) -> tuple[gpd.GeoDataFrame, LevelSummary, list[str]]:
    """One level: solve, set the demand columns, draw the zones, sum up."""
    a = _solve(prob, du.frame["unit_id"].to_numpy(), current, du.grid, params, progress)
    status = explain.demand_columns(du.frame, prob, a, params.max_km(prob.level))
    feeder = explain.feeder_column(du.frame, prob, a)
    check_canceled(progress)
    zones = explain.draw_zones(prob, a, du, boundary, params)
    row = explain.zone_rows(prob, a, du, zones, standards)
    summary = explain.level_summary(prob, a, status, row, du.grid)
    summary = dataclasses.replace(summary, units_member_full=int((feeder == MEMBER_FULL).sum()))
    off = _pupils_off_road(prob, a)
    if off is not None and not du.grid:
        summary = dataclasses.replace(summary, pupils_off_road=off)
    if current is not None:
        now = np.where(a.school >= 0, prob.ids[np.maximum(a.school, 0)], "")
        moved = (current != "") & (now != current)
        summary = dataclasses.replace(
            summary, units_moved=int(moved.sum()), pupils_moved=float(prob.pupils[moved].sum())
        )
    notes = list(a.notes)
    if du.grid:  # cells weigh 1 for drawing, they are not pupils
        du.frame[f"unserved_pupils_{prob.level}"] = 0.0
    if getattr(summary, "pupils_off_road", None):
        notes.append(
            f"{summary.pupils_off_road:,.0f} pupils' distances rest on an off-road leg (farther "
            "than distance.snap_max_m from every road: straight line × distance.offroad_detour)"
        )
    return row, summary, notes


def _pupils_off_road(prob: LevelProblem, a: Assignment) -> float | None:
    """Placed pupils on an arc with an end off the road network (None: not road distance)."""
    snap = getattr(prob.costs, "snap", None)
    if snap is None or not len(a.flow_unit):
        return None
    off_u = ~snap(prob.unit_xy).on_network
    off_s = ~snap(prob.xy).on_network if prob.m else np.zeros(0, bool)
    off = off_u[a.flow_unit] | off_s[a.flow_school]
    return float(a.flow_pupils[off].sum())
