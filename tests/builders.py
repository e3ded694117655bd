"""Tiny maps built in code, shared by the tests.

Two kinds of layers:

- *raw* layers as a county bureau hands them over: Chinese headings, WGS84 (``schools``,
  ``population``, ``boundary``; a 20 km × 22 km county around 道县), written as real files by
  ``write_layers`` / ``write_project`` for the loader and check tests, each test breaking one
  thing;
- *canonical* layers as ``geo.project.load_layers`` returns them: English columns, metres in
  UTM 49N, positions in metres from (``X0``, ``Y0``) (``school_layer``, ``unit_layer``,
  ``boundary_layer``, ``candidate_layer``, ``road_layer``, ``make_layers``), for the engines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry

from geo.layers import Layers

# --- raw county (WGS84, Chinese headings) -----------------------------------------------------

# About 20 km × 22 km around 道县 (Dao County) seat.
LON0, LAT0, LON1, LAT1 = 111.50, 25.40, 111.70, 25.60


def boundary() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": ["测试县"], "行政区划代码": ["431124"]},
        geometry=[box(LON0, LAT0, LON1, LAT1)],
        crs="EPSG:4326",
    )


def schools() -> gpd.GeoDataFrame:
    df = pd.DataFrame(
        {
            "学校代码": ["S01", "S02", "S03", "S04"],
            "学校名称": ["城关一小", "城关中学", "桥头村小", "县一中"],
            "学段": ["小学", "初中", "小学", "高中"],
            "班级数": [24, 18, 3, 30],
            "在校生数": [1080, 900, 60, 1500],
            "教师数": [60.0, 55.0, 5.0, 110.0],
            "办学质量": ["优质", "一般", "薄弱", "优质"],
            "城乡类别": ["城区", "城区", "乡村", "城区"],
        }
    )
    pts = [
        Point(111.60, 25.50),
        Point(111.61, 25.51),
        Point(111.55, 25.45),
        Point(111.62, 25.52),
    ]
    return gpd.GeoDataFrame(df, geometry=pts, crs="EPSG:4326")


def population() -> gpd.GeoDataFrame:
    df = pd.DataFrame(
        {
            "编号": ["V1", "V2", "V3"],
            "名称": ["城关社区", "桥头村", "新区小区"],
            "人口": [12000, 1500, 6000],
            "类型": ["社区", "村", "新建小区"],
            "乡镇": ["城关镇", "桥头乡", "城关镇"],
        }
    )
    pts = [Point(111.60, 25.505), Point(111.55, 25.455), Point(111.65, 25.55)]
    return gpd.GeoDataFrame(df, geometry=pts, crs="EPSG:4326")


def write_layers(
    folder: Path,
    *,
    schools_gdf: gpd.GeoDataFrame | None = None,
    population_gdf: gpd.GeoDataFrame | None = None,
    boundary_gdf: gpd.GeoDataFrame | None = None,
    name: str = "county.gpkg",
) -> Path:
    """All three layers in one GeoPackage (layers schools, population, boundary)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    for layer, gdf in (
        ("schools", schools() if schools_gdf is None else schools_gdf),
        ("population", population() if population_gdf is None else population_gdf),
        ("boundary", boundary() if boundary_gdf is None else boundary_gdf),
    ):
        gdf.to_file(path, layer=layer, driver="GPKG")
    return path


def project_toml(layers: dict[str, dict[str, Any]], extra: str = "") -> str:
    """project.toml text; ``layers`` maps key -> {file, layer, columns, ...}."""
    lines = ['[project]\nname = "测试县"\n', extra]
    for key, spec in layers.items():
        lines.append(f"[layers.{key}]")
        for k, v in spec.items():
            if k != "columns":
                lines.append(f"{k} = {_toml(v)}")
        if "columns" in spec:
            lines.append(f"[layers.{key}.columns]")
            for k, v in spec["columns"].items():
                lines.append(f"{k} = {_toml(v)}")
        lines.append("")
    return "\n".join(lines)


def _toml(v: object) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def write_project(
    folder: Path,
    *,
    schools_gdf: gpd.GeoDataFrame | None = None,
    population_gdf: gpd.GeoDataFrame | None = None,
    boundary_gdf: gpd.GeoDataFrame | None = None,
    specs: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """A complete project folder (county.gpkg + project.toml); returns the project.toml."""
    write_layers(
        folder,
        schools_gdf=schools_gdf,
        population_gdf=population_gdf,
        boundary_gdf=boundary_gdf,
    )
    layers = {k: {"file": "county.gpkg", "layer": k} for k in ("schools", "population", "boundary")}
    for key, spec in (specs or {}).items():
        layers[key] = {**layers.get(key, {}), **spec}
    toml = folder / "project.toml"
    toml.write_text(project_toml(layers), encoding="utf-8")
    return toml


# --- canonical layers (UTM 49N metres, English columns) ---------------------------------------

CRS = "EPSG:32649"
X0, Y0 = 500_000.0, 2_800_000.0  # a place in UTM 49N; positions are metres from it

SCHOOL_DEFAULTS: dict[str, Any] = {
    "name": "",
    "level": "primary",
    "classes": 0,
    "students": 0,
    "capacity": 0,
    "teachers": np.nan,
    "quality": "ordinary",
    "location": "rural",
    "status": "existing",
    "ownership": "public",
    "school_type": "regular",
    "combined": "",
}
UNIT_DEFAULTS: dict[str, Any] = {
    "name": "",
    "population": 1000.0,
    "kind": "village",
    "town": "",
    "students_primary": np.nan,
    "students_junior": np.nan,
    "students_senior": np.nan,
}


def at(x_m: float, y_m: float) -> Point:
    """The point ``x_m``, ``y_m`` metres east and north of (X0, Y0)."""
    return Point(X0 + x_m, Y0 + y_m)


def layer(
    records: Sequence[dict[str, Any]],
    geometry: Iterable[BaseGeometry | None],
    defaults: dict[str, Any] | None = None,
    crs: str = CRS,
) -> gpd.GeoDataFrame:
    """A layer from dict rows over ``defaults`` (a row's keys win), with ``src_row`` numbered
    from 1 unless given, on a RangeIndex."""
    recs = [{**(defaults or {}), "src_row": i + 1, **r} for i, r in enumerate(records)]
    geoms = list(geometry)
    if not recs:
        columns = [*(defaults or {}), "src_row"]
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    return gpd.GeoDataFrame(pd.DataFrame(recs), geometry=geoms, crs=crs)


def school_layer(records: Sequence[dict[str, Any]], xy_m: Iterable[tuple[float, float]] = ()):
    """Canonical schools; ``xy_m`` positions from (X0, Y0), else 100 m apart along x. Each row
    needs at least ``school_id``."""
    points = [at(x, y) for x, y in xy_m] or [at(100.0 * i, 0.0) for i in range(len(records))]
    return layer(records, points, SCHOOL_DEFAULTS)


def unit_layer(
    records: Sequence[dict[str, Any]],
    geometry: Iterable[BaseGeometry | tuple[float, float]],
) -> gpd.GeoDataFrame:
    """Canonical population units; a geometry given as (x, y) is a point from (X0, Y0)."""
    shapes = [at(*g) if isinstance(g, tuple) else g for g in geometry]
    return layer(records, shapes, UNIT_DEFAULTS)


def boundary_layer(w_m: float = 10_000.0, h_m: float = 10_000.0) -> gpd.GeoDataFrame:
    """The county: a w × h metre rectangle from (X0, Y0)."""
    return layer([{"name": "county"}], [box(X0, Y0, X0 + w_m, Y0 + h_m)])


def candidate_layer(xy_m: Sequence[tuple[float, float]], levels: Sequence[str] = ()):
    """Candidate sites c0, c1 …; ``levels`` "" (any level) unless given."""
    lv = list(levels) or [""] * len(xy_m)
    recs = [{"candidate_id": f"c{i}", "name": f"地块{i}", "level": lv[i]} for i in range(len(xy_m))]
    return layer(recs, [at(x, y) for x, y in xy_m])


def road_layer(lines_m: Sequence[Sequence[tuple[float, float]]], **columns: Sequence[Any]):
    """Roads from vertex lists in metres from (X0, Y0); class and speed blank unless given."""
    n = len(lines_m)
    recs = [
        {"road_class": "", "speed_kmh": np.nan, **{k: v[i] for k, v in columns.items()}}
        for i in range(n)
    ]
    return layer(recs, [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines_m])


def make_layers(
    schools_gdf: gpd.GeoDataFrame,
    units_gdf: gpd.GeoDataFrame,
    boundary_gdf: gpd.GeoDataFrame | None = None,
    **optional: Any,
) -> Layers:
    """``Layers`` in the canonical CRS (roads, candidates, name … as keywords)."""
    return Layers(
        schools=schools_gdf,
        units=units_gdf,
        boundary=boundary_layer() if boundary_gdf is None else boundary_gdf,
        crs=pyproj.CRS.from_user_input(CRS),
        **optional,
    )
