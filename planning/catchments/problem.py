"""Build: layers, rules and a cost model → the arrays the assignment solves.

``demand_units`` reads the population layer (or lays a uniform grid when there is none) into
pupils per unit and level; ``level_problem`` gives one level's schools as places and a
candidate generator (the k nearest schools of every unit by the project's cost model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.errors import InputError, Problem
from geo.distance import CostModel, as_xy
from geo.grid import uniform_grid
from planning.demand import students_by_level, whole_pupils
from planning.rules import LEVELS, CatchmentParams, Standards
from planning.ties import canonical_order, id_keys, nearest_tied


@dataclass
class DemandUnits:
    """The units pupils live in: their frame (unit_id, population, geometry), one point per
    unit, pupils per level, and how zones are drawn. ``grid``: no population layer, a uniform
    grid of weight 1 per cell stands in."""

    frame: gpd.GeoDataFrame
    xy: np.ndarray  # (n, 2): the point, or a point on the surface of a polygon unit
    pupils: dict[str, np.ndarray]  # level -> (n,) pupils (grid: weight 1 per cell)
    grid: bool
    draw_cell_m: float
    notes: list[str] = field(default_factory=list)


@dataclass
class LevelProblem:
    """One level: its schools (sorted by school_id) with their places, and each unit's
    candidate schools by the cost model (k -> (km (n, k), school index (n, k)), computed
    once per k)."""

    level: str
    schools: pd.DataFrame
    ids: np.ndarray
    xy: np.ndarray
    capacity: np.ndarray
    classes: np.ndarray
    pupils: np.ndarray
    unit_xy: np.ndarray
    costs: CostModel
    # Per school the index of its group's core when it is a member of a group led by a school
    # of this level, else -1 (000 §七(八)); per unit its nearest school and the school it may
    # not be zoned to (-1: none), set by ``forbid_feeder_arcs``.
    core_of: np.ndarray | None = None
    nearest: np.ndarray | None = None
    forbidden: np.ndarray | None = None
    _known: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def m(self) -> int:
        return len(self.ids)

    def candidates(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's k nearest schools it may be zoned to, by distance (padded inf / -1)."""
        if k not in self._known:
            d, i = self.costs.knn_km(self.unit_xy, self.xy, k)
            if self.forbidden is not None and (self.forbidden >= 0).any():
                bad = (i == self.forbidden[:, None]) & (self.forbidden[:, None] >= 0)
                d, i = np.where(bad, np.inf, d), np.where(bad, -1, i)
                order = np.argsort(d, axis=1, kind="stable")
                d, i = np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1)
            self._known[k] = (d, i)
        return self._known[k]

    def forbid_feeder_arcs(self, unit_ids: np.ndarray) -> None:
        """000 §七(八) 优质学校不得把集团内成员学校变成生源基地: a unit whose nearest school is a
        group member may not be zoned to that group's core. "Nearest" with the id tie offsets
        of ``planning.ties`` (as the assignment sees distances), so two schools within
        centimetres of each other do not swap roles with the noise of the coordinates."""
        if self.core_of is None or not (self.core_of >= 0).any() or self.m == 0:
            return
        keys = id_keys(unit_ids), id_keys(self.ids)
        k = min(self.m, 4)
        while True:
            d, i = self.costs.knn_km(self.unit_xy, self.xy, k)
            col, sure = nearest_tied(d, i, *keys)
            if sure or k >= self.m:
                break
            k = min(self.m, 2 * k)
        rows = np.arange(len(i))
        self.nearest = np.where(col >= 0, i[rows, np.maximum(col, 0)], -1)
        self.forbidden = np.where(self.nearest >= 0, self.core_of[np.maximum(self.nearest, 0)], -1)
        self._known.clear()


def check_inputs(
    schools: gpd.GeoDataFrame, units: gpd.GeoDataFrame | None, boundary: gpd.GeoDataFrame | None
) -> None:
    """Every problem of the input layers at once, as an ``InputError``."""
    problems: list[Problem] = []
    for col in ("school_id", "level", "geometry"):
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


def demand_units(
    units: gpd.GeoDataFrame | None,
    boundary: gpd.GeoDataFrame,
    crs: Any,
    params: CatchmentParams,
    standards: Standards,
) -> DemandUnits:
    """Pupils per unit and level, in ``crs``; a uniform grid when there is no population."""
    notes: list[str] = []
    grid = units is None or len(units) == 0
    if grid or units is None:
        units = uniform_grid(boundary, params.grid_cell_m)
        draw_cell = params.grid_cell_m
        notes.append(
            f"no population layer: {len(units)} grid cells of {params.grid_cell_m:g} m, weight 1 "
            "each, zones by nearest school"
        )
    else:
        units = units.to_crs(crs) if units.crs is not None and units.crs != crs else units
        draw_cell = params.zone_cell_m
    units = canonical_units(units)
    geom = units.geometry.values
    is_point = shapely.get_type_id(geom) == 0
    xy = shapely.get_coordinates(np.where(is_point, geom, shapely.point_on_surface(geom)))
    if grid:
        pupils = {lv: np.ones(len(units)) for lv in LEVELS}
    else:
        # Pupils are counts (capacity checks are exact): each level's total is rounded once and
        # apportioned by largest remainder, so fine grids lose no pupils to rounding.
        est = students_by_level(units, standards)
        ids = units["unit_id"].astype(str).to_numpy()
        pupils = {
            lv: whole_pupils(est[f"students_{lv}"].to_numpy(float), ids).astype(float)
            for lv in LEVELS
        }
    frame = gpd.GeoDataFrame(
        {
            "unit_id": units["unit_id"].astype(str).to_numpy(),
            "population": pd.to_numeric(units.get("population", np.nan), errors="coerce"),
        },
        geometry=units.geometry.values,
        crs=crs,
    )
    # Village and township names travel with the units, so documents and maps can name them.
    for col in ("name", "town"):
        if col in units:
            frame.insert(1, col, units[col].fillna("").astype(str).to_numpy())
    return DemandUnits(frame, xy, pupils, grid, draw_cell, notes)


def canonical_units(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Units by unit_id (then by location), renumbered: the plan must not depend on the order
    of the rows (a reversed or re-saved layer plans the same), and every tie downstream is
    broken by position, which is then the id's rank."""
    ids = units["unit_id"].astype(str).to_numpy() if "unit_id" in units else np.arange(len(units))
    xy = shapely.get_coordinates(shapely.centroid(units.geometry.values))
    return units.iloc[canonical_order(ids, xy)].reset_index(drop=True)


def school_capacity(sch: pd.DataFrame, standards: Standards, level: str) -> np.ndarray:
    """Places per school: ``capacity`` where given, else classes × the standard class size."""
    cap = pd.to_numeric(sch["capacity"], errors="coerce") if "capacity" in sch else None
    classes = pd.to_numeric(sch.get("classes", 0), errors="coerce")
    fallback: np.ndarray = np.nan_to_num(np.asarray(classes, float)) * standards.class_size(level)
    if cap is None:
        return fallback
    given = np.asarray(cap, float)
    out: np.ndarray = np.where(np.isfinite(given), given, fallback)
    return out


def level_problem(
    level: str,
    schools: gpd.GeoDataFrame,
    units: DemandUnits,
    costs: CostModel,
    standards: Standards,
    no_feeder_pools: bool = False,
) -> LevelProblem:
    """The schools of ``level`` (by school_id) against every unit; with ``no_feeder_pools`` no
    unit is zoned past its nearest school, a group member, to that group's core."""
    sch = schools[schools["level"] == level]
    # by school_id (then location): ties downstream go by position, so by id, not row order
    sch = sch.iloc[canonical_order(sch["school_id"].to_numpy(), as_xy(sch.geometry))]
    classes = pd.to_numeric(sch.get("classes", 0), errors="coerce").to_numpy(float)
    prob = LevelProblem(
        level=level,
        schools=sch,
        ids=sch["school_id"].astype(str).to_numpy(),
        xy=as_xy(sch.geometry),
        capacity=school_capacity(sch, standards, level),
        classes=np.nan_to_num(classes),
        pupils=units.pupils[level],
        unit_xy=units.xy,
        costs=costs,
        core_of=group_cores(sch),
    )
    if no_feeder_pools:
        prob.forbid_feeder_arcs(units.frame["unit_id"].to_numpy())
    return prob


def group_cores(sch: pd.DataFrame) -> np.ndarray:
    """Per school (row order) the position of its group's core among ``sch``, -1 when it is no
    member or its core is not among them (a cross-level group)."""
    out = np.full(len(sch), -1, dtype=np.int64)
    if "group_role" not in sch or "group_id" not in sch:
        return out
    role = sch["group_role"].astype(str).to_numpy()
    gid = sch["group_id"].fillna("").astype(str).to_numpy()
    cores = {g: k for k, (g, r) in enumerate(zip(gid, role)) if r == "core" and g}
    for k, (g, r) in enumerate(zip(gid, role)):
        if r == "member" and g in cores:
            out[k] = cores[g]
    return out
