"""Build: the layers, rules and cost model turned into the arrays the solver works on.

Checks the layers and parameters, takes a point for every population unit, the children per
level (``planning.demand``), the planning areas, the candidate sites, and shares the places of
existing and planned schools among the children within the service distance (``supply``).
"""

from __future__ import annotations

import math
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.errors import InputError, Problem, RulesError
from core.progress import Progress, check_canceled
from geo.distance import CostModel, as_xy
from planning.demand import students_by_level, whole_pupils
from planning.newschools.problem import (
    CandidateArrays,
    LevelProblem,
    NewSchoolProblem,
    UnitArrays,
)
from planning.newschools.supply import school_capacity, served_within_reach
from planning.rules import LEVELS, NewSchoolParams, Standards
from planning.ties import canonical_order, id_keys

COUNTY_AREA = "*"
COUNTY_NAME = "全县"  # the area's name in the rule texts, zh and en alike


def _layer_problems(layer: str, gdf: pd.DataFrame, cols: list[str]) -> list[Problem]:
    return [
        Problem(
            f"column '{col}' is missing",
            fix="load the layer with geo.project.load_project",
            layer=layer,
            column=col,
            code="missing_column",
        )
        for col in cols
        if col not in gdf.columns
    ]


def check_inputs(
    schools: gpd.GeoDataFrame, units: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None
) -> None:
    """Raise ``InputError`` naming every missing column and every non-metric or mixed CRS."""
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
        problems += _layer_problems(layer, gdf, cols)
        if gdf.crs is None:
            continue
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


def check_params(params: NewSchoolParams) -> None:
    """Raise ``RulesError`` when a lower bound of the rules exceeds its upper bound."""
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


def unit_points(units: gpd.GeoDataFrame) -> np.ndarray:
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


def polygon_samples(geom: shapely.Geometry, n_target: int = 60) -> np.ndarray:
    """Regular grid of points inside a polygon unit, so several new schools can spread over it."""
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.area <= 0:
        return np.zeros((0, 2))
    x0, y0, x1, y1 = geom.bounds
    step = math.sqrt(geom.area / n_target)
    xs = np.arange(x0 + step / 2, x1, step)
    ys = np.arange(y0 + step / 2, y1, step)
    grid_x, grid_y = np.meshgrid(xs, ys)
    gx, gy = grid_x.ravel(), grid_y.ravel()
    inside = shapely.contains_xy(geom, gx, gy)
    return np.column_stack([gx[inside], gy[inside]])


def _text_column(df: pd.DataFrame, col: str, default: np.ndarray | None = None) -> np.ndarray:
    if col in df:
        return df[col].fillna("").astype(str).to_numpy()
    return np.full(len(df), "") if default is None else default


def area_keys(units: pd.DataFrame, mode: str) -> tuple[np.ndarray, dict[str, str]]:
    """Planning-area key per unit and a display name per key."""
    uid = units["unit_id"].astype(str).to_numpy()
    name = units["name"].astype(str).to_numpy() if "name" in units else uid
    town = _text_column(units, "town")
    if mode == "county":
        return np.full(len(units), COUNTY_AREA), {COUNTY_AREA: COUNTY_NAME}
    if mode == "town":
        keys = np.where(town != "", "town:" + town, "unit:" + uid)
        names = {k: (t if t else n) for k, t, n in zip(keys, town, name)}
        return keys, names
    keys = np.array(["unit:" + u for u in uid])
    return keys, {k: n for k, n in zip(keys, name)}


def planning_mode(level: str, params: NewSchoolParams) -> str:
    """The planning area of a level: unit, town or county."""
    return {
        "senior": params.senior_planning_unit,
        "junior": params.junior_planning_unit,
    }.get(level, params.planning_unit)


def unit_arrays(units: gpd.GeoDataFrame) -> UnitArrays:
    """``units`` with a fresh 0..n-1 index."""
    uxy = unit_points(units)
    geoms = np.asarray(units.geometry.to_numpy(), dtype=object)
    uid = units["unit_id"].astype(str).to_numpy()
    return UnitArrays(
        xy=uxy,
        valid=np.all(np.isfinite(uxy), axis=1),
        population=pd.to_numeric(units["population"], errors="coerce")
        .fillna(0)
        .clip(lower=0)
        .to_numpy(),
        not_point=shapely.get_type_id(geoms) != shapely.GeometryType.POINT,
        samples=lambda i, n: polygon_samples(geoms[i], n),
        ids=uid,
        names=units["name"].astype(str).to_numpy() if "name" in units else uid,
        towns=_text_column(units, "town"),
        kinds=_text_column(units, "kind"),
    )


def candidate_arrays(
    candidates: gpd.GeoDataFrame | None, params: NewSchoolParams
) -> CandidateArrays:
    if candidates is None or not len(candidates) or not params.use_candidates:
        return CandidateArrays.none()
    level = candidates.get("level", pd.Series("", index=candidates.index))
    origin = candidates.get("origin", pd.Series("", index=candidates.index))
    return CandidateArrays(
        xy=as_xy(candidates.geometry),
        level=level.fillna("").astype(str).to_numpy(),
        names=candidates.get("name", candidates["candidate_id"]).astype(str).to_numpy(),
        proposed=(origin.fillna("").astype(str) == "proposed").to_numpy(),  # CANDIDATE_ORIGIN
    )


def canonical_layers(
    units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Units by unit_id, schools by (level, school_id), candidates by (level, candidate_id),
    each then by location, with a fresh index: the sites chosen (the p-median's ties go to the
    lowest column, the supply's to the first arc) must not follow the order of the rows."""

    def xy_of(gdf: gpd.GeoDataFrame) -> np.ndarray:
        xy: np.ndarray = shapely.get_coordinates(shapely.centroid(gdf.geometry.values))
        return xy.reshape(-1, 2)

    units = units.iloc[canonical_order(units["unit_id"].to_numpy(), xy_of(units))]
    lv = schools["level"].astype(str).map({k: i for i, k in enumerate(LEVELS)}).fillna(9)
    schools = schools.iloc[
        canonical_order(schools["school_id"].to_numpy(), xy_of(schools), lv.to_numpy())
    ]
    if candidates is not None and len(candidates):
        clv = candidates.get("level", pd.Series("", index=candidates.index)).fillna("")
        cid = candidates.get("candidate_id", pd.Series("", index=candidates.index)).to_numpy()
        order = canonical_order(cid, xy_of(candidates), clv.astype(str).to_numpy())
        candidates = candidates.iloc[order].reset_index(drop=True)
    return units.reset_index(drop=True), schools.reset_index(drop=True), candidates


def build_problem(
    schools: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    params: NewSchoolParams,
    standards: Standards,
    *,
    costs: CostModel,
    candidates: gpd.GeoDataFrame | None = None,
    progress: Progress | None = None,
) -> NewSchoolProblem:
    """The problem of ``units`` (any index; positions are used) and ``schools``, checked layers.
    Units, schools and candidates are taken in canonical order (``canonical_layers``)."""
    units, schools, candidates = canonical_layers(units, schools, candidates)
    u = unit_arrays(units)
    kids = students_by_level(units, standards)
    schools_xy = as_xy(schools.geometry) if len(schools) else np.zeros((0, 2))
    # Places of existing schools for every level first: the three tables share the units'
    # snap to the road network, which the many small tables of the siting loops would evict.
    levels, seconds = [], 0.0
    for level in LEVELS:
        check_canceled(progress)
        cs = standards.class_size(level)
        service = float(getattr(params, f"service_km_{level}"))
        # Whole pupils, the level's total rounded once (as the catchments count them).
        demand = np.zeros(len(units))
        demand[u.valid] = whole_pupils(
            kids[f"students_{level}"].to_numpy(float)[u.valid], u.ids[u.valid]
        )
        sel = (schools["level"] == level).to_numpy()
        cap = school_capacity(schools[sel], cs)
        t0 = time.perf_counter()
        served_v = served_within_reach(
            costs,
            u.xy[u.valid],
            demand[u.valid],
            schools_xy[sel],
            cap,
            service,
            keys=(id_keys(u.ids[u.valid]), id_keys(schools["school_id"].to_numpy()[sel])),
        )
        seconds += time.perf_counter() - t0
        served = np.zeros(len(units))
        served[u.valid] = served_v
        mode = planning_mode(level, params)
        keys, names = area_keys(units, mode)
        levels.append(LevelProblem(level, cs, service, mode, np.rint(demand), served, keys, names))
    return NewSchoolProblem(
        units=u,
        candidates=candidate_arrays(candidates, params),
        levels=tuple(levels),
        schools_xy=schools_xy,
        schools_location=(
            schools["location"].astype(str).to_numpy() if "location" in schools else None
        ),
        supply_seconds=seconds,
    )


__all__ = [
    "check_inputs",
    "check_params",
    "unit_points",
    "polygon_samples",
    "area_keys",
    "planning_mode",
    "build_problem",
]
