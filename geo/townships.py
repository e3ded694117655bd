"""Township areas for the maps: the layer a bureau gave, or approximated from the units.

Without a townships layer but with the units' ``town`` column, each township's area is the union
of the Voronoi cells of its units' points, clipped to the county boundary: every place belongs
to the township of the nearest village. The cells tile the boundary, so the townships have no
gaps and no overlaps; their borders run half-way between villages of different townships, an
approximation the maps say as much of (``source`` "derived", core.vocab.TOWNSHIP_SOURCE).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

# The codes of the ``source`` column (core.vocab.TOWNSHIP_SOURCE).
GIVEN = "given"
DERIVED = "derived"


def empty_townships(crs: CRS | str | None) -> gpd.GeoDataFrame:
    """A townships layer with its columns and no rows."""
    return gpd.GeoDataFrame(
        {"name": pd.Series([], dtype=object), "source": pd.Series([], dtype=object)},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


def township_areas(
    given: gpd.GeoDataFrame | None, units: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The given townships when there are any, else those ``derive_townships`` approximates
    (an empty layer when the units name no township)."""
    if given is not None and len(given):
        return given
    derived = derive_townships(units, boundary)
    return derived if derived is not None else empty_townships(boundary.crs)


def _unit_points(units: gpd.GeoDataFrame) -> pd.DataFrame:
    """town, x, y of each unit naming a township (a point inside an area unit), one row per
    distinct point, sorted by town then position; a point shared by two townships goes to the
    first by name."""
    if "town" not in units or len(units) == 0:
        return pd.DataFrame({"town": [], "x": [], "y": []})
    g = units.geometry
    shapes = np.asarray(g.values, dtype=object)
    ok = ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))
    pts = shapely.point_on_surface(shapes[ok])
    towns = units["town"].to_numpy(dtype=object)[ok]
    frame = pd.DataFrame(
        {
            "town": ["" if t is None or t != t else str(t).strip() for t in towns],
            "x": shapely.get_x(pts),
            "y": shapely.get_y(pts),
        }
    )
    frame = frame[(frame["town"] != "") & np.isfinite(frame["x"]) & np.isfinite(frame["y"])]
    frame = frame.sort_values(["town", "x", "y"], kind="mergesort")
    unique: pd.DataFrame = frame.drop_duplicates(["x", "y"]).reset_index(drop=True)
    return unique


def derive_townships(
    units: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame
) -> gpd.GeoDataFrame | None:
    """Approximate township areas (name, source "derived"; sorted by name) from the units'
    ``town`` column: Voronoi cells of the units' points clipped to the boundary, dissolved by
    township. None when no unit names a township or there is no boundary."""
    if boundary is None or len(boundary) == 0:
        return None
    pts = _unit_points(units)
    if len(pts) == 0:
        return None
    county = shapely.union_all(np.asarray(boundary.geometry.values, dtype=object))
    xy = pts[["x", "y"]].to_numpy()
    towns = pts["town"].to_numpy(dtype=object)
    if len(pts) == 1:
        cells, owner = np.array([county], dtype=object), np.zeros(1, dtype=np.int64)
    else:
        cells, owner = _voronoi_cells(xy, county)
    clipped = shapely.intersection(cells, county)
    by_town: dict[str, list[shapely.Geometry]] = {}
    for cell, i in zip(clipped, owner, strict=True):
        if cell is not None and not cell.is_empty:
            by_town.setdefault(str(towns[i]), []).append(cell)
    names = sorted(by_town)
    shapes = [polygon_part(shapely.union_all(by_town[n])) for n in names]
    out = gpd.GeoDataFrame({"name": names, "source": DERIVED}, geometry=shapes, crs=boundary.crs)
    return out[out.geometry.notna()].reset_index(drop=True)


def _voronoi_cells(xy: np.ndarray, county: shapely.Geometry) -> tuple[np.ndarray, np.ndarray]:
    """The Voronoi cells of the points ``xy`` (covering at least the county's envelope) and,
    for each cell, the position of its point in ``xy``."""
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=county.envelope)
    )
    points = shapely.points(xy)
    tree = shapely.STRtree(cells)
    point_at, cell_at = tree.query(points, predicate="intersects")
    # A point on a cell's edge (only by rounding) touches two cells: each cell takes the point
    # strictly inside it, else the first that touches it.
    owner = np.full(len(cells), -1, dtype=np.int64)
    inside = shapely.contains_properly(cells[cell_at], points[point_at])
    for p, c in zip(point_at[inside], cell_at[inside], strict=True):
        if owner[c] < 0:
            owner[c] = p
    for p, c in zip(point_at, cell_at, strict=True):
        if owner[c] < 0:
            owner[c] = p
    has = owner >= 0
    return cells[has], owner[has]


def polygon_part(shape: shapely.Geometry | None) -> shapely.Geometry | None:
    """The polygons of a shape (a collection's polygons, without the edges and points where
    clipped cells touch the boundary), None when it has none."""
    if shape is None or shape.is_empty:
        return None
    if shape.geom_type in ("Polygon", "MultiPolygon"):
        return shape
    parts = [g for g in getattr(shape, "geoms", ()) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None
