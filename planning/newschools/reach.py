"""Distance questions of the siting loop, asked of the cost model as seldom as the answers allow.

Every shortcut here gives the answer of the plain table it replaces (tests/test_newschools_shortcuts
checks each one, and the whole engine with and without them): a table sliced from a bigger one
only where the cost model promises equal values (``slices_exact``), units skipped only where the
straight line proves them out of reach.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

from geo.distance import CostModel, RoadNetwork, StraightLine


def straight_bounded(costs: CostModel) -> bool:
    """Whether the cost model is known to be the straight line or never shorter than it."""
    return isinstance(costs, (StraightLine, RoadNetwork))


class Reach:
    """Units that a proposed new site may reach within the service distance.

    Road distance is never shorter than the straight line, so a unit farther than the service
    distance in a straight line from every new site cannot take their places: its area's
    distance table need not be asked for (the answer would be all beyond reach). Cost models
    not known to be bounded below by the straight line get no such shortcut."""

    def __init__(self, costs: CostModel, uxy: np.ndarray):
        self.bounded = straight_bounded(costs)
        self.uxy = uxy
        self.valid = np.flatnonzero(np.all(np.isfinite(uxy), axis=1))
        self.tree: cKDTree | None = None
        self.flag = np.ones(len(uxy), dtype=bool)
        self.radius_m = np.inf

    def start(self, service_km: float) -> None:
        """A new level: no sites yet."""
        # The margin covers rounding in either distance; a unit inside it is only asked about.
        self.radius_m = float(service_km) * 1000.0 * (1 + 1e-9) + 1e-3
        self.flag = np.zeros(len(self.uxy), dtype=bool) if self.bounded else self.flag | True

    def add(self, x: float, y: float) -> None:
        if not self.bounded or len(self.valid) == 0:
            return
        if self.tree is None:
            self.tree = cKDTree(self.uxy[self.valid])
        hit = self.tree.query_ball_point([x, y], self.radius_m)
        self.flag[self.valid[np.asarray(hit, dtype=np.int64)]] = True

    def may_absorb(self, members: np.ndarray, gap_units: np.ndarray) -> bool:
        if len(members) == 1:  # most areas are one village: skip the array machinery
            return bool(self.flag[members[0]]) and gap_units[0] > 0
        return bool(np.any(self.flag[members] & (gap_units > 0)))


def _never(n_origins: int, n_dests: int) -> bool:
    return False


class Columns:
    """Distances from every unit to the new sites of one level, computed once per site and
    sliced per planning area. Only used where the cost model says a slice equals the table
    the area would have asked for (``slices_exact``), so results stay bit for bit the same;
    elsewhere callers ask the cost model directly."""

    def __init__(self, costs: CostModel, uxy: np.ndarray, max_km: float | None):
        self.costs, self.uxy, self.max_km = costs, uxy, max_km
        exact: Callable[[int, int], bool] | None = getattr(costs, "slices_exact", None)
        self._exact: Callable[[int, int], bool] = exact or _never
        self.cols = np.zeros((len(uxy), 0))
        self.ok = exact is not None and bool(exact(len(uxy), 1))

    def exact(self, n_origins: int, n_dests: int) -> bool:
        return self.ok and bool(self._exact(n_origins, n_dests))

    def table(self, sites_xy: np.ndarray) -> np.ndarray:
        """(all units, sites) distances, in blocks the cost model computes column by column
        (asked only where ``ok``)."""
        n, parts, i = len(self.uxy), [], 0
        while i < len(sites_xy):
            b = len(sites_xy) - i
            while b > 1 and not self._exact(n, b):
                b //= 2
            parts.append(self.costs.dense_km(self.uxy, sites_xy[i : i + b], max_km=self.max_km))
            i += b
        return np.hstack(parts) if parts else np.zeros((n, 0))

    def upto(self, new_sites: list[list[float]]) -> np.ndarray:
        """Columns for the first len(new_sites) sites (appended sites are added lazily); asked
        only where ``exact`` says the slice equals the area's own table."""
        have = self.cols.shape[1]
        if self.ok and have < len(new_sites):
            add = self.table(np.array([[s[0], s[1]] for s in new_sites[have:]]))
            self.cols = np.hstack([self.cols, add])
        return self.cols


def member_columns(cols: Columns, member_xy: np.ndarray, sites_xy: np.ndarray) -> np.ndarray | None:
    """(members, sites) distances equal to the slice of the all-units columns, asked for over
    the members only; None where the cost model cannot promise that (callers then ask per
    site in the old orientation)."""
    n, k = len(member_xy), len(sites_xy)
    if n <= 1 or not cols.exact(n, 1):
        return None
    if cols.exact(n, k):
        return cols.costs.dense_km(member_xy, sites_xy)
    return np.hstack([cols.costs.dense_km(member_xy, sites_xy[j : j + 1]) for j in range(k)])


def absorb(
    gap_units: np.ndarray, members: np.ndarray, new_sites: list[list[float]], cols: Columns
) -> float:
    """Give the area's gap the spare places of new schools already proposed nearby (in place).

    ``new_sites`` are [x, y, spare places]; ``cols`` the level's columns bounded by the service
    distance (its ``max_km``)."""
    service = cols.max_km
    if not new_sites or gap_units.sum() <= 0:
        return 0.0
    if cols.exact(len(members), len(new_sites)):
        d = cols.upto(new_sites)[members]
    else:
        sites = np.array([[s[0], s[1]] for s in new_sites])
        d = cols.costs.dense_km(cols.uxy[members], sites, max_km=service)
    taken = 0.0
    for i, j in zip(*np.unravel_index(np.argsort(d, axis=None, kind="stable"), d.shape)):
        if d[i, j] > service:
            break
        give = min(gap_units[i], new_sites[j][2])
        if give > 0:
            gap_units[i] -= give
            new_sites[j][2] -= give
            taken += give
    return taken


def within_reach(
    costs: CostModel, dxy: np.ndarray, cand_xy: np.ndarray, idx: np.ndarray, service: float
) -> np.ndarray:
    """Per candidate ``idx``: whether some demand point is within ``service`` km of it.

    The nearest demand point of every candidate (one multi-source search) settles the question
    for every candidate whose nearest distance is not within a millimetre of the bound; the two
    computations of a distance differ only by rounding, far below that. Only when a candidate
    sits on the bound is the full bounded table asked for, as before. The search is asked for
    all candidates (the same point set every time, so the road model snaps it once)."""
    sub = cand_xy[idx]
    if straight_bounded(costs) and len(dxy) and np.all(np.isfinite(dxy)):
        whole = bool(np.all(np.isfinite(cand_xy)))
        if whole or np.all(np.isfinite(sub)):
            near, _ = costs.knn_km(cand_xy if whole else sub, dxy, 1)
            near = near[idx, 0] if whole else near[:, 0]
            tol = 1e-6 + 1e-9 * service
            inside, outside = near <= service - tol, near > service + tol
            if np.all(inside | outside):
                return np.asarray(inside)
    dc = costs.dense_km(dxy, sub, max_km=service)
    return np.asarray((dc <= service).any(axis=0))


__all__ = ["straight_bounded", "Reach", "Columns", "member_columns", "absorb", "within_reach"]
