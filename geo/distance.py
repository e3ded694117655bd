"""Distances between places, by straight line or along roads, in kilometres.

Engines ask a ``CostModel`` for distances and never care which kind it is, so grouping, siting and
catchments all switch to road distance when the project has roads.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist


class CostModel(Protocol):
    """Distances in km between point sets given as (n, 2) arrays of metric x, y."""

    kind: str  # "straight" | "road"

    def dense_km(self, origins_xy: np.ndarray, dests_xy: np.ndarray) -> np.ndarray:
        """Full (n_origins, n_dests) matrix; np.inf where unreachable."""

    def knn_km(
        self, origins_xy: np.ndarray, dests_xy: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each origin its k nearest destinations: (dist_km, dest_index), both (n, k),
        sorted by distance then index; padded with inf / -1 when fewer than k are reachable."""


def as_xy(points) -> np.ndarray:
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

    def dense_km(self, origins_xy: np.ndarray, dests_xy: np.ndarray) -> np.ndarray:
        o, d = np.asarray(origins_xy, float), np.asarray(dests_xy, float)
        if len(o) == 0 or len(d) == 0:
            return np.zeros((len(o), len(d)))
        return cdist(o, d) / 1000.0

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
