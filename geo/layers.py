"""The loaded layers of a project and where each came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pyproj

LAYER_KEYS: tuple[str, ...] = (
    "schools",
    "population",
    "boundary",
    "roads",
    "candidates",
    "townships",
)
OPTIONAL_LAYERS: tuple[str, ...] = ("roads", "candidates", "townships")
# Layers only the maps use: a problem with one is a warning, never a reason not to plan.
MAP_ONLY_LAYERS: tuple[str, ...] = ("townships",)
LAYER_ZH = {
    "schools": "学校",
    "population": "人口单元",
    "boundary": "县域边界",
    "roads": "道路",
    "candidates": "候选地块",
    "townships": "乡镇",
}


@dataclass(frozen=True)
class LayerSource:
    """Where a layer is read from and how its columns map to ours."""

    key: str
    file: Path
    layer: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> heading in the file
    x: str | None = None  # longitude / x column of a CSV or Excel table
    y: str | None = None
    coords: str = "wgs84"  # wgs84 | gcj02 | bd09: system of lon/lat points from web maps
    crs: str | None = None  # CRS to assume when the file declares none (tables: EPSG:4326)
    sheet: str | None = None  # Excel sheet
    # field -> {value in the data -> our value}, e.g. {"quality": {"A类": "core"}}
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    where: str | None = None  # rows to keep (geo.rowfilter)

    def label(self) -> str:
        return f"{self.file.name}:{self.layer}" if self.layer else self.file.name


@dataclass
class Layers:
    """Canonical layers in one metric CRS (see ARCHITECTURE.md for the columns)."""

    schools: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame
    crs: pyproj.CRS
    roads: gpd.GeoDataFrame | None = None
    candidates: gpd.GeoDataFrame | None = None
    # The township polygons the bureau gave (name, source); None when it gave none (the maps
    # then approximate them from the units' town column: geo.townships.township_areas).
    townships: gpd.GeoDataFrame | None = None
    sources: dict[str, LayerSource] = field(default_factory=dict)
    name: str = ""
    name_en: str = ""
