"""Population from a raster (WorldPop, GHSL, a census grid): cells summed into planning units.

A 100 m raster of a county has millions of cells; planning needs a few thousand demand points.
Pixels are summed into square cells of ``cell_m`` metres in the project's metric CRS, each pixel
counted once by its centre, so the county's total is kept exactly (only pixels whose centre lies
outside the boundary are left out, and the note says how many people that is).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import rasterio
import shapely
from rasterio.errors import RasterioIOError

from core.errors import InputError, Problem
from geo.grid import grid_origin

# Pixels read per block: bounds the memory of a large raster to a few hundred MB.
_BLOCK_ROWS = 1024


@dataclass(frozen=True)
class RasterPopulation:
    units: gpd.GeoDataFrame  # unit_id, name, population, kind "cell", town "", src_row, Point
    pixels: int  # pixels with people inside the boundary
    total: float  # people inside the boundary (= units' sum)
    outside: float  # people on pixels whose centre is outside the boundary
    source_crs: str


def _error(path: Path, problem: str, fix: str) -> InputError:
    return InputError(problem, problems=[Problem(problem, fix=fix, file=path.name)], fix=fix)


def _open(path: Path) -> rasterio.DatasetReader:
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise _error(
            path,
            f"the population raster cannot be read ({exc})",
            "give a GeoTIFF (.tif) of people per pixel, e.g. WorldPop or GHSL",
        ) from None


def _block_centres(src: Any, row0: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    cols = np.arange(src.width) + 0.5
    rr = np.arange(row0, row0 + rows) + 0.5
    c, r = np.meshgrid(cols, rr)
    t = src.transform
    return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f


def _people_inside(
    src: Any, geom: Any, crs: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Metric x, y and people of every inhabited pixel whose centre is inside ``geom``, and the
    people on pixels outside it; read block by block."""
    to_metric = pyproj.Transformer.from_crs(src.crs, crs, always_xy=True)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    outside = 0.0
    for row0 in range(0, src.height, _BLOCK_ROWS):
        rows = min(_BLOCK_ROWS, src.height - row0)
        band = src.read(1, window=rasterio.windows.Window(0, row0, src.width, rows)).astype(float)
        keep = np.isfinite(band) & (band > 0)
        if src.nodata is not None:
            keep &= band != src.nodata
        if not keep.any():
            continue
        px, py = _block_centres(src, row0, rows)
        mx, my = to_metric.transform(px[keep], py[keep])
        v = band[keep]
        inside = shapely.contains_xy(geom, mx, my)
        outside += float(v[~inside].sum())
        xs.append(mx[inside])
        ys.append(my[inside])
        vals.append(v[inside])
    if not vals:
        return np.empty(0), np.empty(0), np.empty(0), outside
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(vals), outside


def _cells(
    x: np.ndarray,
    y: np.ndarray,
    v: np.ndarray,
    origin: tuple[float, float],
    cell_m: float,
    crs: Any,
) -> gpd.GeoDataFrame:
    """Pixels summed per ``cell_m`` cell; ids by (row, column), sorted."""
    c = np.floor((x - origin[0]) / cell_m).astype(np.int64)
    r = np.floor((y - origin[1]) / cell_m).astype(np.int64)
    uniq, inv = np.unique(r * (int(c.max()) + 1) + c, return_inverse=True)
    pop = np.bincount(inv, weights=v)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    # Each cell's point is where its people live (the weighted centre of its pixels), not the
    # cell's middle: distances to schools then follow the settlement, and the point stays inside.
    units = gpd.GeoDataFrame(
        {
            "unit_id": [f"cell_{a}_{b}" for a, b in zip(r[first], c[first], strict=True)],
            "name": "",
            "population": pop,
            "kind": "cell",
            "town": "",
            "src_row": 0,
        },
        geometry=gpd.points_from_xy(
            np.bincount(inv, weights=v * x) / pop, np.bincount(inv, weights=v * y) / pop
        ),
        crs=crs,
    )
    return units.sort_values("unit_id", kind="stable").reset_index(drop=True)


def population_from_raster(
    path: str | Path, boundary: gpd.GeoDataFrame, cell_m: float
) -> RasterPopulation:
    """Sum a population raster into ``cell_m`` cells inside ``boundary`` (metric CRS)."""
    path = Path(path)
    if cell_m <= 0:
        raise InputError(f"raster cell size {cell_m:g} m", fix="give a cell size above 0 m")
    geom = shapely.union_all(np.asarray(boundary.geometry, dtype=object))
    shapely.prepare(geom)
    with _open(path) as src:
        if src.crs is None:
            raise _error(
                path,
                "the population raster has no coordinate system",
                "save it with its CRS (e.g. EPSG:4326 for WorldPop) or a .prj/.aux.xml beside it",
            )
        x, y, v, outside = _people_inside(src, geom, boundary.crs)
        source_crs = src.crs.to_string()
    if len(v) == 0:
        raise _error(
            path,
            "the population raster has no people inside the county boundary",
            "check that the raster covers the county and that its CRS is right",
        )
    units = _cells(x, y, v, grid_origin(geom.bounds, cell_m), cell_m, boundary.crs)
    return RasterPopulation(
        units=units,
        pixels=len(v),
        total=float(units["population"].sum()),
        outside=outside,
        source_crs=source_crs,
    )
