"""Zone polygons: one (Multi)Polygon per label, gap-free and non-overlapping inside the boundary.

- Polygon units: dissolve by label (``method="coverage"`` when the units form a valid coverage,
  else a plain union), overlaps removed in label order, clipped to the boundary; holes the units
  leave inside the boundary go to the touching zone with the longest shared border (else the
  nearest zone).
- Point units (villages, grid cells): a label raster, each cell inside the boundary taking the
  label of its nearest unit (a raster Voronoi), traced with ``rasterio.features.shapes`` and
  clipped to the exact boundary. The cell size sets how fine the zone edges are. Units that sit
  on the pixel centres (cells, the uniform grid) label their own pixels without a tree query;
  ``simplify_cells`` optionally smooths the stair-stepped shared edges.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import rasterio.features
import shapely
from rasterio.transform import Affine, from_origin
from scipy.spatial import cKDTree

from geo.grid import grid_origin

# A boundary as callers hold it: a GeoDataFrame, a GeoSeries or one shapely geometry.
Boundary = Any
# The label raster's pixel set: inside mask, rows, cols, nearest unit, transform, on-edge flags.
Pixels = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Affine, np.ndarray]


def _boundary_geom(boundary: Boundary) -> shapely.Geometry:
    geoms = getattr(boundary, "geometry", None)
    if geoms is None:
        return boundary
    return shapely.union_all(np.asarray(geoms.values, dtype=object))


# The label raster's pixels and the nearest unit of each are the same for every level of a plan
# (only the labels change): kept for the last (points, boundary, cell) seen.
_PIXELS: dict[str, Any] = {}


def _pixels(xy: np.ndarray, geom: shapely.Geometry, cell_m: float) -> Pixels:
    key = (xy.tobytes(), shapely.to_wkb(geom), float(cell_m))
    hit = _PIXELS.get("key")
    if hit is not None and hit == key:
        cached: Pixels = _PIXELS["value"]
        return cached
    minx, miny, maxx, maxy = geom.bounds
    x0, y0 = grid_origin((minx, miny, maxx, maxy), cell_m)
    width = max(int(np.ceil((maxx - x0) / cell_m)), 1)
    height = max(int(np.ceil((maxy - y0) / cell_m)), 1)
    transform = from_origin(x0, y0 + height * cell_m, cell_m, cell_m)
    # all_touched: every pixel the boundary reaches is labelled, so the clip leaves no gap.
    inside = rasterio.features.geometry_mask(
        [geom], (height, width), transform, all_touched=True, invert=True
    )
    # Pixels the boundary line crosses: only zones holding one need the exact clip.
    edge = rasterio.features.geometry_mask(
        [geom.boundary], (height, width), transform, all_touched=True, invert=True
    )
    rows, cols = np.nonzero(inside)
    px = x0 + (cols + 0.5) * cell_m
    py = y0 + (height - rows - 0.5) * cell_m
    nearest = _lattice_nearest(xy, rows, cols, (x0, y0), (height, width), cell_m)
    if nearest is None:
        nearest = _tree_nearest(xy, px, py)
    else:
        todo = np.flatnonzero(nearest < 0)
        if len(todo):
            nearest[todo] = _tree_nearest(xy, px[todo], py[todo])
    value: Pixels = (inside, rows, cols, nearest, transform, edge[rows, cols])
    _PIXELS.clear()
    _PIXELS.update(key=key, value=value)
    return value


def _tree_nearest(xy: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Index of the nearest unit of each pixel centre (exact; ties as scipy's tree breaks them)."""
    workers = -1 if len(px) > 20_000 else 1  # the answer does not depend on workers
    return np.asarray(cKDTree(xy).query(np.column_stack([px, py]), workers=workers)[1])


def _lattice_nearest(
    xy: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    origin: tuple[float, float],
    shape: tuple[int, int],
    cell_m: float,
) -> np.ndarray | None:
    """Nearest unit of each pixel when the units sit on pixel centres (the cells case, and
    ``geo.grid.uniform_grid`` with the same cell size): a pixel holding a unit takes it, by index
    arithmetic instead of a tree query (the query was most of the prefecture's zone time).
    Pixels holding no unit get -1 (the caller asks the tree for just those). None when the units
    are not such a lattice: one off a centre, outside the raster, or two on one pixel.

    Exact, same answer as the tree: a unit within ``tol`` of its pixel centre is nearer to it than
    any other unit, as each of those sits within ``tol`` of another centre, ≥ one cell away."""
    x0, y0 = origin
    height, width = shape
    c = np.rint((xy[:, 0] - x0) / cell_m - 0.5)
    r = np.rint(height - 0.5 - (xy[:, 1] - y0) / cell_m)
    if not ((c >= 0) & (c < width) & (r >= 0) & (r < height)).all():
        return None
    off = np.hypot(
        xy[:, 0] - (x0 + (c + 0.5) * cell_m), xy[:, 1] - (y0 + (height - r - 0.5) * cell_m)
    )
    tol = 1e-6 * cell_m  # float noise of centres computed two ways, far below half a cell
    if not (off <= tol).all():
        return None
    flat = r.astype(np.intp) * width + c.astype(np.intp)
    owner = np.full(height * width, -1, np.intp)
    owner[flat] = np.arange(len(xy))
    if np.count_nonzero(owner >= 0) != len(xy):  # two units on one pixel: leave ties to the tree
        return None
    return np.asarray(owner[rows * width + cols])


def zones_from_points(
    xy: np.ndarray,
    labels: np.ndarray,
    boundary: Boundary,
    cell_m: float,
    simplify_cells: float = 0.0,
) -> dict[int, shapely.Geometry]:
    """{label: polygon} from point units. ``labels`` < 0 are left out (their area goes to the
    nearest labelled unit).

    ``simplify_cells`` > 0 smooths the stair-stepped outlines (see ``_simplified_coverage``);
    0 keeps the exact raster outlines."""
    geom = _boundary_geom(boundary)
    keep = labels >= 0
    xy, labels = np.asarray(xy, float)[keep], np.asarray(labels)[keep]
    if len(xy) == 0 or geom.is_empty:
        return {}
    inside, rows, cols, nearest, transform, on_edge = _pixels(xy, geom, cell_m)
    raster = np.full(inside.shape, -1, np.int32)
    pix_label = labels[nearest]
    raster[rows, cols] = pix_label
    if simplify_cells > 0:
        keys, merged = _smoothed_inside(raster, inside, transform, simplify_cells, geom)
    else:
        clip = set(np.unique(pix_label[on_edge]).tolist())
        pieces = _traced_polygons(raster, inside, transform)
        keys = sorted(pieces)
        merged = _merged(pieces, keys)
        need = np.array([k in clip for k in keys], bool)
        merged[need] = shapely.intersection(merged[need], geom)
    return {k: g for k, g in zip(keys, merged, strict=True) if not g.is_empty}


def _smoothed_inside(
    raster: np.ndarray, mask: np.ndarray, transform: Any, tolerance_cells: float, geom: Any
) -> tuple[list[int], np.ndarray]:
    """``_simplified_coverage`` clipped to the boundary. A zone of a few edge pixels may lose
    its whole part inside the boundary to a smoothed neighbouring edge: then the smoothing is
    done again with half the tolerance, down to none (the exact pixel outlines), so no zone
    drawn without smoothing disappears with it."""
    shapely.prepare(geom)
    tol = tolerance_cells
    while True:
        keys, merged = _simplified_coverage(raster, mask, transform, tol)
        # A smoothed shared edge may cut into an edge pixel's part outside the boundary, also
        # for a zone that holds no edge pixel: clip every zone not inside the boundary.
        need = ~shapely.contains_properly(geom, merged)
        merged[need] = shapely.intersection(merged[need], geom)
        if tol == 0 or not shapely.is_empty(merged).any():
            return keys, merged
        tol = tol / 2 if tol > 0.125 else 0.0


def _merged(pieces: dict[int, list[Any]], keys: list[int]) -> np.ndarray:
    merged = [p[0] if len(p) == 1 else shapely.MultiPolygon(p) for p in (pieces[k] for k in keys)]
    return np.asarray(merged, dtype=object)


def _simplified_coverage(
    raster: np.ndarray, mask: np.ndarray, transform: Affine, tolerance_cells: float
) -> tuple[list[int], np.ndarray]:
    """(labels, zones) with shared edges smoothed by ``shapely.coverage_simplify``: each edge
    shared by two zones is simplified once, so the zones stay gap-free and non-overlapping; the
    outer edge is kept, so the clip to the boundary still covers it. The edges move by up to
    about ``tolerance_cells`` cells, so a unit near an edge may be drawn in the neighbouring zone.

    Traced in pixel units, where every vertex is an integer: GEOS needs a valid coverage (the
    same vertices on both sides of a shared edge), and the traced rings leave out vertices where
    a third zone meets an edge; a vertex at every cell corner (exact integers) gives it."""
    pieces = _traced_polygons(raster, mask, Affine.identity())
    keys = sorted(pieces)
    zones = shapely.transform(shapely.segmentize(_merged(pieces, keys), 1.0), np.rint)
    zones = shapely.coverage_simplify(zones, tolerance_cells, simplify_boundary=False)
    a, _, c, _, e, f = transform[:6]

    def to_map(pix: np.ndarray) -> np.ndarray:
        return np.column_stack([c + a * pix[:, 0], f + e * pix[:, 1]])

    return keys, np.asarray(shapely.transform(zones, to_map), dtype=object)


def _traced_polygons(
    raster: np.ndarray, mask: np.ndarray, transform: Affine
) -> dict[int, list[Any]]:
    """{value: [Polygon, ...]} of ``rasterio.features.shapes``, in its order. Built in one batch
    from a flat coordinate array: ``shapely.geometry.shape`` per GeoJSON dict walks every vertex
    in Python and was a third of the prefecture's zone time."""
    values, coords, ring_len, poly_rings = [], [], [], []
    for g, v in rasterio.features.shapes(raster, mask=mask, transform=transform):
        values.append(int(v))
        rings = g["coordinates"]
        poly_rings.append(len(rings))
        for ring in rings:
            ring_len.append(len(ring))
            coords.extend(ring)
    if not values:
        return {}
    xy = np.asarray(coords, dtype=float).reshape(-1, 2)
    rings = shapely.linearrings(xy, indices=np.repeat(np.arange(len(ring_len)), ring_len))
    polys = shapely.polygons(rings, indices=np.repeat(np.arange(len(values)), poly_rings))
    pieces: dict[int, list[Any]] = {}
    for v, p in zip(values, polys, strict=True):
        pieces.setdefault(v, []).append(p)
    return pieces


def zones_from_polygons(
    polys: np.ndarray, labels: np.ndarray, boundary: Boundary
) -> dict[int, shapely.Geometry]:
    """{label: polygon} from polygon units; ``labels`` < 0 are left out (their area fills in as
    a hole, see the module note)."""
    geom = _boundary_geom(boundary)
    polys = np.asarray(getattr(polys, "values", polys), dtype=object)
    labels = np.asarray(labels)
    keep = labels >= 0
    polys, labels = polys[keep], labels[keep]
    if len(polys) == 0 or geom.is_empty:
        return {}
    keys = np.unique(labels)
    coverage = bool(shapely.coverage_is_valid(polys))
    unions = []
    for k in keys:
        part = polys[labels == k]
        unions.append(shapely.coverage_union_all(part) if coverage else shapely.union_all(part))
    zones = np.asarray(unions, dtype=object)
    if not coverage:
        # Overlapping units would give overlapping zones: earlier labels keep the shared area.
        taken = None
        for i in range(len(zones)):
            if taken is not None:
                zones[i] = shapely.difference(zones[i], taken)
            taken = zones[i] if taken is None else shapely.union(taken, zones[i])
    zones = shapely.intersection(zones, geom)
    holes = shapely.get_parts(shapely.difference(geom, shapely.union_all(zones)))
    holes = holes[shapely.area(holes) > 0]
    if len(holes):
        zones = _fill_holes(zones, holes)
    return {int(k): g for k, g in zip(keys, zones, strict=True) if not g.is_empty}


def _fill_holes(zones: np.ndarray, holes: np.ndarray) -> np.ndarray:
    tree = shapely.STRtree(zones)
    add: dict[int, list[Any]] = {}
    for h in holes:
        near = tree.query(h, predicate="intersects")
        if len(near):
            shared = shapely.length(shapely.intersection(zones[near], h.boundary))
            best = int(near[np.lexsort((near, -shared))[0]])
        else:
            best = int(tree.query_nearest(h, all_matches=False)[0])
        add.setdefault(best, []).append(h)
    zones = zones.copy()
    for i, hs in add.items():
        zones[i] = shapely.union_all([zones[i], *hs])
    return zones


def zone_polygons(
    units_geometry: Any,
    labels: np.ndarray,
    boundary: Boundary,
    cell_m: float,
    simplify_cells: float = 0.0,
) -> dict[int, shapely.Geometry]:
    """Zones of point or polygon units (decided by the first geometry type). ``simplify_cells``
    applies to point units only (polygon units keep their own edges)."""
    geoms = np.asarray(getattr(units_geometry, "values", units_geometry), dtype=object)
    if len(geoms) == 0:
        return {}
    types = shapely.get_type_id(geoms)
    if np.all(types == 0):
        xy = shapely.get_coordinates(geoms)
        return zones_from_points(xy, labels, boundary, cell_m, simplify_cells)
    # Mixed layers: treat each unit by its area; points get a small cell-size square.
    polys = np.where(types == 0, shapely.buffer(geoms, cell_m / 2, cap_style="square"), geoms)
    return zones_from_polygons(polys, labels, boundary)
