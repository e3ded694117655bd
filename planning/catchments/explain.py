"""Explain: an assignment → the demand columns, the zone of each school and the figures.

Status codes are ``core.vocab.DEMAND_STATUS`` codes (assigned | too_far | unserved); the words
for them come from the vocabulary where a table or map shows them.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.vocab import DEMAND_STATUS, FEEDER, ZONE_REASON
from geo.distance import CostModel, RoadNetwork, StraightLine
from geo.zones import zone_polygons
from planning.catchments.assign import Assignment
from planning.catchments.problem import DemandUnits, LevelProblem
from planning.catchments.result import LevelSummary, NoSchoolLevel, RoadNetworkSummary
from planning.rules import CatchmentParams, Standards

ASSIGNED, TOO_FAR, UNSERVED = DEMAND_STATUS.codes
AT_MEMBER, MEMBER_FULL = FEEDER.codes
ZONE_COLUMNS = ["school_id", "name", "level", "students", "capacity", "utilization",
                "mean_distance_km", "max_distance_km", "classes", "classes_needed", "oversized",
                "zone_reason_code"]  # fmt: skip


def no_school_columns(demand: gpd.GeoDataFrame, level: str) -> None:
    """Demand columns of a level without schools: every unit unserved."""
    demand[f"school_id_{level}"] = ""
    demand[f"distance_{level}_km"] = np.nan
    demand[f"status_{level}"] = UNSERVED
    demand[f"feeder_{level}"] = ""


def no_school_summary(pupils: np.ndarray) -> NoSchoolLevel:
    return NoSchoolLevel(students=float(pupils.sum()), unserved=float(pupils.sum()))


def demand_columns(
    demand: gpd.GeoDataFrame, prob: LevelProblem, a: Assignment, max_km: float
) -> np.ndarray:
    """Each unit's school, distance and status at the level, set on ``demand``; returns the
    status codes."""
    level = prob.level
    has = a.school >= 0
    demand[f"school_id_{level}"] = np.where(has, prob.ids[np.maximum(a.school, 0)], "")
    demand[f"distance_{level}_km"] = np.where(has, a.distance_km, np.nan)
    status = np.where(~has, UNSERVED, np.where(a.distance_km > max_km, TOO_FAR, ASSIGNED))
    demand[f"status_{level}"] = status
    return status


def feeder_column(demand: gpd.GeoDataFrame, prob: LevelProblem, a: Assignment) -> np.ndarray:
    """``feeder_<level>``: for a unit whose nearest school is a group member (so it may not go to
    the group's core, 000 §七(八)), whether it is placed there or the member had no room for it
    (core.vocab.FEEDER codes; "" for every other unit). Returns the codes."""
    out = np.full(len(demand), "", dtype=object)
    if prob.nearest is not None and prob.core_of is not None:
        near = prob.nearest
        member = (near >= 0) & (prob.core_of[np.maximum(near, 0)] >= 0) & (prob.pupils > 0)
        out[member] = np.where(a.school[member] == near[member], AT_MEMBER, MEMBER_FULL)
    demand[f"feeder_{prob.level}"] = out
    return out


def _school_loads(a: Assignment, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pupils, mean and farthest distance per school from the flows (exact with splitting)."""
    fs, fp, fd = a.flow_school, a.flow_pupils, a.flow_km
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
    return load, mean, dmax


def zone_reasons(prob: LevelProblem, a: Assignment, load: np.ndarray) -> np.ndarray:
    """Why a school has no pupils zoned to it (core.vocab.ZONE_REASON codes; "" for the others):
    no places; no village has it as its nearest school; every village nearest to it has more
    pupils than its places (villages are placed whole); else the others take them for less
    total distance."""
    out = np.full(prob.m, "", dtype=object)
    none = load <= 0
    if not none.any():
        return out
    w = prob.pupils
    if w.sum() <= 0:
        out[none] = ZONE_REASON.codes[4]  # no_pupils
        return out
    near = prob.costs.knn_km(prob.unit_xy, prob.xy, 1)[1][:, 0]
    has = (near >= 0) & (w > 0)
    smallest = np.full(prob.m, np.inf)
    np.minimum.at(smallest, near[has], w[has])
    for j in np.flatnonzero(none):
        if prob.capacity[j] <= 0:
            out[j] = "no_capacity"
        elif not np.isfinite(smallest[j]):
            out[j] = "nearer_other"
        elif smallest[j] > prob.capacity[j]:
            out[j] = "too_small"
        else:
            out[j] = "others_cheaper"
    return out


def zone_labels(prob: LevelProblem, a: Assignment) -> np.ndarray:
    """The school whose zone each unit is drawn in: its assigned school, else the nearest one
    (by the cost model, else the straight line) so the map has no hole. Only the drawing: an
    unserved unit's pupils are not counted there."""
    labels = a.school.copy()
    missing = labels < 0
    if missing.any():
        _, i1 = prob.candidates(1)
        labels[missing] = i1[missing, 0]
        still = labels < 0
        if still.any():
            labels[still] = StraightLine().knn_km(prob.unit_xy[still], prob.xy, 1)[1][:, 0]
    return labels


def zone_rows(
    prob: LevelProblem,
    a: Assignment,
    units: DemandUnits,
    zones: dict[int, Any],
    standards: Standards,
) -> gpd.GeoDataFrame:
    """One row per school of the level: its figures and its zone (``zones``: label → shape)."""
    m, grid = prob.m, units.grid
    load, mean, dmax = _school_loads(a, m)
    cap, classes = prob.capacity, prob.classes
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.where(cap > 0, load / cap, np.nan)
    students = np.zeros(m) if grid else load
    with np.errstate(invalid="ignore", divide="ignore"):
        oversized = (classes > 0) & (
            students / np.where(classes > 0, classes, 1) >= standards.oversized_class
        )
    sch = prob.schools
    return gpd.GeoDataFrame(
        {
            "school_id": prob.ids,
            "name": sch["name"].astype(str).to_numpy() if "name" in sch else "",
            "level": prob.level,
            "students": students,
            "capacity": cap,
            "utilization": np.zeros(m) if grid else util,
            "mean_distance_km": mean,
            "max_distance_km": dmax,
            "classes": classes.astype(int),
            "classes_needed": np.ceil(students / standards.class_size(prob.level)).astype(int),
            "oversized": oversized,
            "zone_reason_code": zone_reasons(prob, a, np.ones(m) if grid else load),
            "geometry": [
                shapely.multipolygons(shapely.get_parts(g)) if g is not None else None
                for g in (zones.get(j) for j in range(m))
            ],
        },
        geometry="geometry",
        crs=units.frame.crs,
    )


def draw_zones(
    prob: LevelProblem,
    a: Assignment,
    units: DemandUnits,
    boundary: gpd.GeoDataFrame,
    params: CatchmentParams,
) -> dict[int, Any]:
    """Zone polygon per school index, gap-free inside the boundary."""
    return zone_polygons(
        units.frame.geometry.values,
        zone_labels(prob, a),
        boundary,
        units.draw_cell_m,
        params.zone_simplify_cells,
    )


def level_summary(
    prob: LevelProblem, a: Assignment, status: np.ndarray, row: pd.DataFrame, grid: bool
) -> LevelSummary:
    """The figures of one level (pupils exactly, also for units shared among schools)."""
    w = prob.pupils
    placed = a.placed
    total = float(w.sum())
    too_far = float(placed[(status == TOO_FAR)].sum())
    pos = a.flow_pupils > 0
    pk, pw = a.flow_km[pos], a.flow_pupils[pos]
    load = _school_loads(a, prob.m)[0]
    lb = a.lower_bound_pupil_km
    bounded = lb is not None and lb > 0
    gap = 100.0 * (a.pupil_km / lb - 1.0) if lb is not None and lb > 0 else None
    return LevelSummary(
        students=0.0 if grid else total,
        assigned=0.0 if grid else float(placed.sum()) - too_far,
        too_far=0.0 if grid else too_far,
        unserved=0.0 if grid else float(total - placed.sum()),
        mean_distance_km=float(np.average(pk, weights=pw)) if len(pk) else None,
        p95_distance_km=_weighted_quantile(pk, pw, 0.95) if len(pk) else None,
        max_distance_km=float(pk.max()) if len(pk) else None,
        over_capacity_schools=0 if grid else int((load > prob.capacity + 1e-9).sum()),
        oversized_schools=int(row["oversized"].sum()),
        solve_seconds=round(a.solve_seconds, 4),
        schools=prob.m,
        units=len(w),
        units_too_far=int((status == TOO_FAR).sum()),
        units_unserved=int((status == UNSERVED).sum()),
        method=a.method,
        k_used=a.k_used,
        lower_bound_pupil_km=lb if bounded else None,
        gap_to_bound_pct=gap,
    )


def road_summary(
    costs: CostModel, unit_xy: np.ndarray
) -> tuple[RoadNetworkSummary | None, list[str]]:
    """The road graph's size and pieces, and a note when it falls apart; None by straight line."""
    if not isinstance(costs, RoadNetwork):
        return None, []
    road = costs.graph
    comps = road.components()
    total = max(sum(c["length_km"] for c in comps), 1e-12)
    summary = RoadNetworkSummary(
        nodes=road.n_nodes,
        edges=road.n_edges,
        pieces=len(comps),
        largest_piece_share=comps[0]["length_km"] / total if comps else 0.0,
        units_off_network=int((~costs.snap(unit_xy).on_network).sum()),
    )
    notes: list[str] = []
    if len(comps) > 1:
        notes.append(
            f"road network has {len(comps)} separate pieces; places on a piece without a "
            "school of their level are unserved by road"
        )
    return summary, notes


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    if cw[-1] <= 0:
        return float(np.quantile(x, q))
    return float(x[order][np.searchsorted(cw, q * cw[-1])])
