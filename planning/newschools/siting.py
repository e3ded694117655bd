"""Solve: the gap of every planning area, the new schools it calls for, and where they go.

Arrays in (``NewSchoolProblem``), arrays and codes out (``Solution``); no frames, no words. Per
level, areas are taken largest gap first, so a smaller neighbour may use the spare places of a
new school proposed before it; each area's schools are sited by p-median (``pmedian``) on
children-weighted distance among the candidate sites within reach, else at demand points or the
population-weighted centre.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.progress import Progress, check_canceled
from geo.distance import CostModel
from planning.newschools.pmedian import solve_pmedian
from planning.newschools.problem import (
    AreaOutcome,
    LevelProblem,
    NewSchoolProblem,
    NewSite,
    Site,
    Solution,
)
from planning.newschools.reach import Columns, Reach, absorb, member_columns, within_reach
from planning.newschools.thresholds import requirement, requires_none, size_new_schools
from planning.rules import NewSchoolParams, Standards

# Sampling of polygon units when an area needs several schools (numerical settings, not policy):
# samples per unit, and at most about this many demand samples and site samples per area.
SAMPLES_PER_UNIT = 60
DEMAND_SAMPLES = 2000
SITE_SAMPLES = 400


def group_many(
    keys: np.ndarray, values: np.ndarray, *more: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, float], list[dict[str, float]]]:
    """Members (ascending positions) and the sum of ``values`` of each key, plus the per-key sums
    of further arrays (``more``), in one pass (one ``np.unique``).

    ``values`` are whole numbers (children), so the bincount sums equal per-area sums exactly. The
    sums of ``more`` are taken in bincount's order, not the per-area order: callers use them
    only where a rounding difference cannot matter (``requires_none`` keeps clear of its
    thresholds)."""
    uniq, inv = np.unique(keys, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    counts = np.bincount(inv, minlength=len(uniq))
    parts = np.split(order, np.cumsum(counts)[:-1])
    names = [str(k) for k in uniq]

    def sums(v: np.ndarray) -> dict[str, float]:
        return dict(zip(names, np.bincount(inv, weights=v, minlength=len(uniq)).tolist()))

    return dict(zip(names, parts)), sums(values), [sums(v) for v in more]


def total(values: np.ndarray, members: np.ndarray | None) -> float:
    """``float(values[members].sum())`` (all of ``values`` for None), without numpy's call
    overhead for the one-unit areas that most areas are: a one-element sum is the element
    plus 0.0 (which turns -0.0 into 0.0, as numpy's reduction does)."""
    if members is None:
        return float(values[0]) + 0.0 if len(values) == 1 else float(values.sum())
    if len(members) == 1:
        return float(values[members[0]]) + 0.0
    return float(values[members].sum())


@dataclass
class _Level:
    """The state of one level's loop over its areas."""

    lp: LevelProblem
    unserved: np.ndarray  # children per unit without a place in existing schools
    near_cols: Columns  # unbounded: which unit of an area is nearest a new site
    absorb_cols: Columns  # bounded by the service distance: spare places of new sites
    new_sites: list[list[float]] = field(default_factory=list)  # [x, y, spare places]


class Siting:
    """The siting of every level of one problem; candidate sites taken by one level stay taken."""

    def __init__(
        self,
        problem: NewSchoolProblem,
        params: NewSchoolParams,
        standards: Standards,
        costs: CostModel,
        progress: Progress | None = None,
    ):
        self.problem, self.params, self.standards = problem, params, standards
        self.costs, self.progress = costs, progress
        self.cand_used = np.zeros(len(problem.candidates.xy), dtype=bool)
        self.reach = Reach(costs, problem.units.xy)
        self.solution = Solution(seconds=problem.supply_seconds)

    def level(self, lp: LevelProblem) -> None:
        """Every area of ``lp`` with a gap or a requirement, largest gap first."""
        uxy = self.problem.units.xy
        unserved = np.maximum(lp.children - lp.served, 0.0)
        members, gap_sum, (pop_sum, kids_sum) = group_many(
            lp.area_keys, unserved, self.problem.units.population, lp.children
        )
        state = _Level(
            lp, unserved, Columns(self.costs, uxy, None), Columns(self.costs, uxy, lp.service_km)
        )
        self.reach.start(lp.service_km)
        first = len(self.solution.sites)
        for key in sorted(members, key=lambda k: (-gap_sum[k], k)):
            check_canceled(self.progress)
            if gap_sum[key] == 0 and requires_none(
                lp.level, pop_sum[key], kids_sum[key], self.params
            ):
                continue  # nothing to absorb, build or report: most areas of a large county
            self._area(state, key, members[key])
        new_cap = sum(s.capacity for s in self.solution.sites[first:])
        self.solution.unserved_after[lp.level] = int(max(unserved.sum() - new_cap, 0))

    def _area(self, state: _Level, key: str, members: np.ndarray) -> None:
        lp, units = state.lp, self.problem.units
        a_pop = total(units.population, members)
        a_kids = total(lp.children, members)
        gap_units = state.unserved[members].copy()
        absorbed = (
            absorb(gap_units, members, state.new_sites, state.absorb_cols)
            if self.reach.may_absorb(members, gap_units)
            else 0.0
        )
        gap = total(gap_units, None)
        req = requirement(lp.level, a_pop, a_kids, self.params, self.standards)
        sizes = size_new_schools(req, gap, a_kids, self.params.min_fill_share, lp.class_size)
        note = ""
        if req.schools > 0 and gap > 0 and not sizes:
            note = "below_min"
            self.solution.below_min += 1
        elif req.schools == 0 and gap > 0:
            note = "below_threshold"
        if not (req.schools > 0 or gap > 0):
            return
        supplied = total(lp.served, members)
        outcome = AreaOutcome(
            key, lp.level, a_pop, a_kids, supplied, absorbed, gap, req, tuple(sizes), note
        )
        self.solution.areas.append(outcome)
        if sizes:
            weights = np.where(gap_units > 0, gap_units, 0.0)
            self._build(state, len(self.solution.areas) - 1, members, weights)

    def _build(self, state: _Level, area: int, members: np.ndarray, weights: np.ndarray) -> None:
        """The area's new schools: sited, each named after its nearest unit of the area."""
        lp, uxy = state.lp, self.problem.units.xy
        outcome = self.solution.areas[area]
        t0 = time.perf_counter()
        sites = self._site(lp, len(outcome.sizes), members, weights)
        self.solution.seconds += time.perf_counter() - t0
        total_cap = sum(outcome.sizes) * lp.class_size
        near_d = member_columns(
            state.near_cols, uxy[members], np.array([[s.x, s.y] for s in sites])
        )
        for si, (site, classes) in enumerate(zip(sites, outcome.sizes)):
            if len(members) == 1:
                near = members[0]
            elif near_d is not None:
                near = members[int(np.argmin(near_d[:, si]))]
            else:
                d = self.costs.dense_km(np.array([[site.x, site.y]]), uxy[members])[0]
                near = members[int(np.argmin(d))]
            capacity = classes * lp.class_size
            state.new_sites.append([site.x, site.y, capacity - outcome.gap * capacity / total_cap])
            self.reach.add(site.x, site.y)
            self.solution.sites.append(NewSite(area, site, int(classes), int(capacity), int(near)))

    def _demand_points(
        self, k: int, members: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weighted demand points of an area and the places a school may take among them: its
        units' points, or for several schools over polygon units a grid of samples in each, so
        the schools can spread over them. The samples are capped per area (``DEMAND_SAMPLES``
        in all, the sites on a coarser grid of ``SITE_SAMPLES``) so a county of many polygons
        costs about as much as its points; each unit's weight is shared among its samples, so
        the area's total is kept."""
        units = self.problem.units
        weights = np.asarray(weights, dtype=float)
        keep = (weights > 0) & np.all(np.isfinite(units.xy[members]), axis=1)
        take, wts = members[keep], weights[keep]
        if not (k > 1 and np.any(units.not_point[take])):
            return units.xy[take], wts, units.xy[take]
        n_poly = int(np.count_nonzero(units.not_point[take]))
        dxy, dw = self._sampled(take, wts, min(SAMPLES_PER_UNIT, DEMAND_SAMPLES // n_poly))
        if len(dxy) <= SITE_SAMPLES:
            return dxy, dw, dxy
        sxy, _ = self._sampled(take, wts, min(SAMPLES_PER_UNIT, SITE_SAMPLES // n_poly))
        return dxy, dw, sxy

    def _sampled(
        self, take: np.ndarray, wts: np.ndarray, n_target: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """About ``n_target`` samples per polygon unit of ``take`` (its point when none fall
        inside, and for point units), each carrying an equal share of its unit's weight."""
        units = self.problem.units
        pts, w = [], []
        for m_, wt in zip(take, wts):
            samples = units.samples(int(m_), max(n_target, 1)) if units.not_point[m_] else ()
            if len(samples):
                pts.append(samples)
                w.append(np.full(len(samples), wt / len(samples)))
            else:
                pts.append(units.xy[m_][None, :])
                w.append(np.array([wt]))
        return np.vstack(pts), np.concatenate(w)

    def _eligible(self, level: str, dxy: np.ndarray, service: float) -> np.ndarray:
        """Candidate sites free, for this level, and within reach of some demand point."""
        cand = self.problem.candidates
        if not len(cand.xy):
            return np.zeros(0, dtype=np.int64)
        ok = ~self.cand_used & ((cand.level == "") | (cand.level == level))
        idx = np.nonzero(ok)[0]
        if not idx.size:
            return np.zeros(0, dtype=np.int64)
        reach: np.ndarray = idx[within_reach(self.costs, dxy, cand.xy, idx, service)]
        return reach

    def _site(
        self, lp: LevelProblem, k: int, members: np.ndarray, weights: np.ndarray
    ) -> list[Site]:
        """``k`` sites for one area: p-median among candidates (and demand points when too few)."""
        dxy, dw, sxy = self._demand_points(k, members, weights)
        elig = self._eligible(lp.level, dxy, lp.service_km)
        if elig.size == 0 and k == 1:
            cx, cy = np.average(dxy, axis=0, weights=dw)
            return [Site(cx, cy, "centre")]
        cand_xy = self.problem.candidates.xy
        site_xy = np.vstack([cand_xy[elig], sxy]) if elig.size < k else cand_xy[elig]
        sol = solve_pmedian(self.costs.dense_km(dxy, site_xy), dw, k)
        out: list[Site] = []
        if sol.open.size < k:
            # Fewer distinct places than schools (a point unit needing several): the extra
            # schools share the weighted centre, and the text says so.
            cx, cy = np.average(dxy, axis=0, weights=dw)
            out += [Site(cx, cy, "centre_shared")] * (k - sol.open.size)
        for col in sol.open:
            x, y = site_xy[col]
            if col < elig.size:
                c = int(elig[col])
                self.cand_used[c] = True
                how = "proposed" if self.problem.candidates.proposed[c] else "candidate"
                out.append(Site(x, y, how, c))
            else:
                out.append(Site(x, y, "demand_point"))
        return out


def solve(
    problem: NewSchoolProblem,
    params: NewSchoolParams,
    standards: Standards,
    costs: CostModel,
    *,
    progress: Progress | None = None,
    on_level: Callable[[int, str], None] | None = None,
) -> Solution:
    """New schools for every level of ``problem``; ``on_level(i, level)`` is told as each starts."""
    siting = Siting(problem, params, standards, costs, progress)
    for i, lp in enumerate(problem.levels):
        check_canceled(progress)
        if on_level is not None:
            on_level(i, lp.level)
        siting.level(lp)
    return siting.solution


def nearest_within(
    costs: CostModel, sites_xy: np.ndarray, targets_xy: np.ndarray, within_km: float
) -> np.ndarray:
    """Per site, the position of its nearest target within ``within_km`` (-1: none)."""
    out = np.full(len(sites_xy), -1, dtype=np.int64)
    if not len(sites_xy) or not len(targets_xy):
        return out
    dist, idx = costs.knn_km(sites_xy, targets_xy, 1)
    hit = (idx[:, 0] >= 0) & (dist[:, 0] <= within_km)
    out[hit] = idx[hit, 0]
    return out


__all__ = ["group_many", "total", "Siting", "solve", "nearest_within"]
