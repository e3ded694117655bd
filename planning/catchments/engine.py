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

import geopandas as gpd
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


def run_catchments(
    schools: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None,
    boundary: gpd.GeoDataFrame,
    params: CatchmentParams,
    standards: Standards,
    *,
    costs: CostModel,
    progress: Progress | None = None,
) -> CatchmentResult:
    """Zones and figures per school and level, distances by ``costs`` (the project's cost
    model, ``planning.pipeline.cost_model``)."""
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
        row, levels[level], lv_notes = _level(prob, du, boundary, params, standards, progress)
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


def _solve(
    prob: LevelProblem, grid: bool, params: CatchmentParams, progress: Progress
) -> Assignment:
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
        progress=progress,
    )


def _level(
    prob: LevelProblem,
    du: DemandUnits,
    boundary: gpd.GeoDataFrame,
    params: CatchmentParams,
    standards: Standards,
    progress: Progress,
) -> tuple[gpd.GeoDataFrame, LevelSummary, list[str]]:
    """One level: solve, set the demand columns, draw the zones, sum up."""
    a = _solve(prob, du.grid, params, progress)
    status = explain.demand_columns(du.frame, prob, a, params.max_km(prob.level))
    feeder = explain.feeder_column(du.frame, prob, a)
    check_canceled(progress)
    zones = explain.draw_zones(prob, a, du, boundary, params)
    row = explain.zone_rows(prob, a, du, zones, standards)
    summary = explain.level_summary(prob, a, status, row, du.grid)
    summary = dataclasses.replace(summary, units_member_full=int((feeder == MEMBER_FULL).sum()))
    return row, summary, a.notes
