"""A tiny county built in code, written as real files, for loader and check tests.

Raw layers use Chinese headings in WGS84 (as a county bureau would hand them over); each test
breaks one thing and writes the project with ``write_project``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

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


def project_toml(layers: dict[str, dict], extra: str = "") -> str:
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


def _toml(v) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def write_project(
    folder: Path,
    *,
    schools_gdf: gpd.GeoDataFrame | None = None,
    population_gdf: gpd.GeoDataFrame | None = None,
    boundary_gdf: gpd.GeoDataFrame | None = None,
    specs: dict[str, dict] | None = None,
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
