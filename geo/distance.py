"""Distances between places, by straight line or along roads, in kilometres.

Engines ask a ``CostModel`` for distances and never care which kind it is, so grouping, siting and
catchments all switch to road distance when the project has roads.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from core.errors import InputError
from geo.roads import RoadGraph, Snap, build_road_graph


class CostModel(Protocol):
    """Distances in km between point sets given as (n, 2) arrays of metric x, y."""

    kind: str  # "straight" | "road"

    def dense_km(
        self, origins_xy: np.ndarray, dests_xy: np.ndarray, max_km: float | None = None
    ) -> np.ndarray:
        """Full (n_origins, n_dests) matrix; np.inf where unreachable or beyond ``max_km``
        (callers that only look within a service distance say so: bounded road searches are
        far cheaper than full ones)."""

    def knn_km(
        self, origins_xy: np.ndarray, dests_xy: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each origin its k nearest destinations: (dist_km, dest_index), both (n, k),
        sorted by distance then index; padded with inf / -1 when fewer than k are reachable."""


def as_xy(points: Any) -> np.ndarray:
    """(n, 2) float array from a GeoSeries/GeoDataFrame of points or an array."""
    if hasattr(points, "geometry"):
        points = points.geometry
    if hasattr(points, "x") and hasattr(points, "y"):
        return np.column_stack([np.asarray(points.x, float), np.asarray(points.y, float)])
    arr = np.asarray(points, dtype=float)
    return arr.reshape(-1, 2)


class StraightLine:
    """Euclidean distance in the project's metric CRS."""

    kind = "straight"

    def dense_km(
        self, origins_xy: np.ndarray, dests_xy: np.ndarray, max_km: float | None = None
    ) -> np.ndarray:
        o, d = np.asarray(origins_xy, float), np.asarray(dests_xy, float)
        if len(o) == 0 or len(d) == 0:
            return np.zeros((len(o), len(d)))
        out = cdist(o, d) / 1000.0
        if max_km is not None:
            out[out > max_km] = np.inf
        return np.asarray(out)

    def slices_exact(self, n_origins: int, n_dests: int) -> bool:
        """cdist works pair by pair: any sub-table equals the slice of a bigger one."""
        return True

    def knn_km(
        self, origins_xy: np.ndarray, dests_xy: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        o, d = np.asarray(origins_xy, float), np.asarray(dests_xy, float)
        n = len(o)
        dist = np.full((n, k), np.inf)
        idx = np.full((n, k), -1, dtype=np.int64)
        if n == 0 or len(d) == 0:
            return dist, idx
        kk = min(k, len(d))
        dd, ii = cKDTree(d).query(o, k=kk)
        dd = np.asarray(dd, float).reshape(n, kk) / 1000.0
        ii = np.asarray(ii, np.int64).reshape(n, kk)
        # Stable tie-break: equal distances ordered by destination index.
        order = np.lexsort((ii, dd), axis=1)
        dist[:, :kk] = np.take_along_axis(dd, order, axis=1)
        idx[:, :kk] = np.take_along_axis(ii, order, axis=1)
        return dist, idx


_SNAP_SETS = 64  # point sets whose snaps a road network keeps
_SNAP_POINTS = 1_000_000  # and at most this many points in all (≈ 60 MB of snaps)


class RoadNetwork:
    """Distance along the road graph, with each place's straight leg to its nearest road counted.

    Places farther than ``snap_max_m`` from every road, or on a road piece that does not connect
    to the other place, are unreachable (inf). Build once per project and share it: the graph and
    the snaps of point sets already seen are kept.
    """

    kind = "road"

    def __init__(self, graph: RoadGraph, snap_max_m: float = np.inf) -> None:
        self.graph = graph
        self.snap_max_m = float(snap_max_m)
        if hasattr(graph, "prepare"):
            graph.prepare()  # indexes built here, in the stage that builds the network
        self._snaps: dict[bytes, Snap] = {}
        self._table_key: tuple[bytes, bytes] | None = None
        self._table: np.ndarray | None = None

    @classmethod
    def from_roads(cls, roads: Any, snap_max_m: float = np.inf) -> RoadNetwork:
        return cls(build_road_graph(roads), snap_max_m)

    def snap(self, xy: np.ndarray) -> Snap:
        xy = np.ascontiguousarray(np.asarray(xy, float).reshape(-1, 2))
        key = xy.tobytes()
        hit = self._snaps.pop(key, None)
        if hit is None:
            hit = self.graph.snap(xy, self.snap_max_m)
        self._snaps[key] = hit  # most recently used last
        # Least recently used go first, by count and by points held: the many small per-area
        # sets of new-school planning must not push out the units' and sites' big ones.
        held = sum(len(k) for k in self._snaps) // 16
        while len(self._snaps) > 1 and (len(self._snaps) > _SNAP_SETS or held > _SNAP_POINTS):
            old = next(iter(self._snaps))
            held -= len(old) // 16
            del self._snaps[old]
        return hit

    def dense_km(
        self, origins_xy: np.ndarray, dests_xy: np.ndarray, max_km: float | None = None
    ) -> np.ndarray:
        limit = np.inf if max_km is None else float(max_km) * 1000.0
        return np.asarray(
            self.graph.dense(self.snap(origins_xy), self.snap(dests_xy), limit) / 1000.0
        )

    def slices_exact(self, n_origins: int, n_dests: int) -> bool:
        """Whether dense_km over n_origins × n_dests equals, bit for bit, the slice of a table
        over more origins (same destinations, or a superset of them): callers with many
        overlapping subsets (siting) then compute one table and slice it."""
        return self.graph.dense_is_columnwise(n_origins, n_dests)

    def knn_km(
        self, origins_xy: np.ndarray, dests_xy: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        org, dst = self.snap(origins_xy), self.snap(dests_xy)
        if k == 1:
            d, i = self.graph.nearest(org, dst)
            return d[:, None] / 1000.0, i[:, None]
        if self.graph.n_search_nodes * min(len(org), len(dst)) <= _DENSE_CELLS:
            # Small graph or few places: one full table (kept for the widening k's of the same
            # sets) is cheaper than bounded searches repeated per k.
            key = (
                np.ascontiguousarray(origins_xy).tobytes(),
                np.ascontiguousarray(dests_xy).tobytes(),
            )
            if self._table is None or self._table_key != key:
                self._table_key, self._table = key, self.graph.dense(org, dst)
            return _top_k(self._table, k)
        d, i = self.graph.knn(org, dst, k)
        return d / 1000.0, i

    def unreachable_report(self, origins_xy: np.ndarray) -> dict[str, int]:
        """How many places are off the network (beyond snap_max_m)."""
        s = self.snap(origins_xy)
        return {"off_network": int((~s.on_network).sum()), "places": len(s)}


# Dijkstra work (graph nodes × searches) under which k-nearest uses one full table.
_DENSE_CELLS = 1_000_000


def _top_k(table_m: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k smallest per row of a metres table: (km, index), sorted by distance then index,
    padded with inf / -1."""
    n, m = table_m.shape
    dist = np.full((n, k), np.inf)
    idx = np.full((n, k), -1, np.int64)
    kk = min(k, m)
    if n == 0 or kk == 0:
        return dist, idx
    cols = np.broadcast_to(np.arange(m), (n, m))
    order = np.lexsort((cols, table_m), axis=1)[:, :kk]
    d = np.take_along_axis(table_m, order, 1)
    dist[:, :kk] = d / 1000.0
    idx[:, :kk] = np.where(np.isfinite(d), order, -1)
    return dist, idx


def make_cost_model(roads: Any = None, kind: str = "auto", snap_max_m: float = np.inf) -> CostModel:
    """The cost model a project uses: 'road' needs a road layer; 'auto' takes roads when given
    (and not empty), else the straight line."""
    has_roads = roads is not None and len(roads) > 0
    if kind == "straight" or (kind == "auto" and not has_roads):
        return StraightLine()
    if kind == "road" and not has_roads:
        raise InputError(
            "road distance was asked for but the project has no road layer",
            fix="add a road layer to the project, or set distance.model = 'straight'",
        )
    if kind not in ("auto", "road"):
        raise ValueError(f"unknown distance kind {kind!r}")
    return RoadNetwork.from_roads(roads, snap_max_m)
