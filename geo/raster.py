"""Population from a raster (WorldPop, GHSL, a census grid): cells summed into planning units.

A 100 m raster of a county has millions of cells; planning needs a few thousand demand points.
Pixels are summed into square cells of ``cell_m`` metres in the project's metric CRS, each pixel
counted once by its centre, so the county's total is kept exactly (only pixels whose centre lies
outside the boundary are left out, and the note says how many people that is).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


def _block_centres(src, row0: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    cols = np.arange(src.width) + 0.5
    rr = np.arange(row0, row0 + rows) + 0.5
    c, r = np.meshgrid(cols, rr)
    t = src.transform
    return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f


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
        to_metric = pyproj.Transformer.from_crs(src.crs, boundary.crs, always_xy=True)
        x0, y0 = grid_origin(geom.bounds, cell_m)
        keys_r: list[np.ndarray] = []
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        keys_c: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        outside = 0.0
        pixels = 0
        nodata = src.nodata
        for row0 in range(0, src.height, _BLOCK_ROWS):
            rows = min(_BLOCK_ROWS, src.height - row0)
            window = rasterio.windows.Window(0, row0, src.width, rows)
            band = src.read(1, window=window).astype(float)
            keep = np.isfinite(band) & (band > 0)
            if nodata is not None:
                keep &= band != nodata
            if not keep.any():
                continue
            px, py = _block_centres(src, row0, rows)
            mx, my = to_metric.transform(px[keep], py[keep])
            v = band[keep]
            inside = shapely.contains_xy(geom, mx, my)
            outside += float(v[~inside].sum())
            pixels += int(inside.sum())
            keys_c.append(np.floor((mx[inside] - x0) / cell_m).astype(np.int64))
            keys_r.append(np.floor((my[inside] - y0) / cell_m).astype(np.int64))
            vals.append(v[inside])
            xs.append(mx[inside])
            ys.append(my[inside])
        source_crs = src.crs.to_string()
    if not vals or pixels == 0:
        raise _error(
            path,
            "the population raster has no people inside the county boundary",
            "check that the raster covers the county and that its CRS is right",
        )
    r = np.concatenate(keys_r)
    c = np.concatenate(keys_c)
    v = np.concatenate(vals)
    key = r * (int(c.max()) + 1) + c
    uniq, inv = np.unique(key, return_inverse=True)
    pop = np.bincount(inv, weights=v)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[inv[::-1]] = np.arange(len(inv))[::-1]
    rr, cc = r[first], c[first]
    # Each cell's point is where its people live (the weighted centre of its pixels), not the
    # cell's middle: distances to schools then follow the settlement, and the point stays inside.
    cx = np.bincount(inv, weights=v * np.concatenate(xs)) / pop
    cy = np.bincount(inv, weights=v * np.concatenate(ys)) / pop
    units = gpd.GeoDataFrame(
        {
            "unit_id": [f"cell_{a}_{b}" for a, b in zip(rr, cc, strict=True)],
            "name": "",
            "population": pop,
            "kind": "cell",
            "town": "",
            "src_row": 0,
        },
        geometry=gpd.points_from_xy(cx, cy),
        crs=boundary.crs,
    )
    units = units.sort_values("unit_id", kind="stable").reset_index(drop=True)
    return RasterPopulation(
        units=units,
        pixels=pixels,
        total=float(pop.sum()),
        outside=outside,
        source_crs=source_crs,
    )
