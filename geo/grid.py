"""A uniform grid of demand points inside the boundary, for projects without a population layer.

Zones can then still be drawn from the schools alone. The grid carries no people: catchments give
each cell the same weight 1 (an area share), never a pupil count.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely


def grid_origin(bounds: tuple[float, float, float, float], cell_m: float) -> tuple[float, float]:
    """Lower-left corner of the grid: multiples of the cell size, so grids and rasters align."""
    return float(np.floor(bounds[0] / cell_m) * cell_m), float(
        np.floor(bounds[1] / cell_m) * cell_m
    )


def uniform_grid(
    boundary: gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry, cell_m: float
) -> gpd.GeoDataFrame:
    """Cell centres inside ``boundary`` (GeoDataFrame/GeoSeries/geometry, metric CRS) as a units
    layer: unit_id ``grid_<row>_<col>``, kind ``grid``, population NaN, Point geometry.

    When no centre falls inside (a boundary smaller than one cell), its representative point is
    the single unit."""
    crs = getattr(boundary, "crs", None)
    geom = shapely.union_all(np.asarray(getattr(boundary, "geometry", [boundary]), dtype=object))
    x0, y0 = grid_origin(geom.bounds, cell_m)
    nx = max(int(np.ceil((geom.bounds[2] - x0) / cell_m)), 1)
    ny = max(int(np.ceil((geom.bounds[3] - y0) / cell_m)), 1)
    col, row = np.meshgrid(np.arange(nx), np.arange(ny))
    cx = x0 + (col.ravel() + 0.5) * cell_m
    cy = y0 + (row.ravel() + 0.5) * cell_m
    shapely.prepare(geom)
    inside = shapely.contains_xy(geom, cx, cy)
    if not inside.any():
        p = geom.representative_point()
        cx, cy, rr, cc = np.array([p.x]), np.array([p.y]), np.array([0]), np.array([0])
    else:
        cx, cy, rr, cc = cx[inside], cy[inside], row.ravel()[inside], col.ravel()[inside]
    ids = [f"grid_{r}_{c}" for r, c in zip(rr, cc, strict=True)]
    return gpd.GeoDataFrame(
        {
            "unit_id": ids,
            "name": "",
            "population": np.nan,
            "kind": "grid",
            "town": "",
            "src_row": 0,
        },
        geometry=gpd.points_from_xy(cx, cy),
        crs=crs,
    )
