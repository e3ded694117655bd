"""Candidate sites proposed from the population when a project has none (issue 16).

Without a candidates layer the new schools would go to the population-weighted centre of their
area or to one of its demand points. Instead the units inside the boundary are clustered by a
population-weighted k-means (``sklearn.cluster.KMeans``) and the cluster centres become
candidate sites, marked ``origin = "proposed"`` (``core.vocab.CANDIDATE_ORIGIN``) so the planner
sees them as proposals and can move them. How many: ``new_schools.proposed_per_10k`` sites per
10,000 people, at most ``new_schools.proposed_max``. Deterministic: the units are sorted by id
(then position) first, the k-means has a fixed seed and number of starts, and the centres are
numbered west to east.
"""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sklearn.cluster import KMeans

from core.errors import Problem
from geo.layers import Layers
from planning.newschools.build import unit_points
from planning.rules import NewSchoolParams

PROPOSED = "proposed"  # core.vocab.CANDIDATE_ORIGIN code
PEOPLE_PER_STEP = 10_000  # the rule counts sites per 10,000 people
_SEED, _STARTS = 0, 4  # k-means: fixed seed and starts (determinism, not policy)


def proposal_count(population: float, params: NewSchoolParams) -> int:
    """Sites to propose for ``population`` people (0: none)."""
    if params.proposed_per_10k <= 0 or not population > 0:
        return 0
    want = math.ceil(population / PEOPLE_PER_STEP * params.proposed_per_10k)
    return int(min(params.proposed_max, max(1, want)))


def weighted_centres(xy: np.ndarray, weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` population-weighted k-means centres of the points ``xy`` (rows in a fixed order)
    and each point's cluster; fewer centres when there are fewer distinct points."""
    distinct = len(np.unique(xy, axis=0))
    k = min(k, distinct)
    origin = xy.mean(axis=0)
    local = (xy - origin) / 1000.0  # km around the centre: well-conditioned sums
    km = KMeans(n_clusters=k, n_init=_STARTS, random_state=_SEED)
    labels = km.fit_predict(local, sample_weight=weights)
    centres = km.cluster_centers_ * 1000.0 + origin
    return centres, labels


def propose_candidates(
    units: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame | None, params: NewSchoolParams
) -> gpd.GeoDataFrame | None:
    """Proposed candidate sites for ``units`` (None when there is nothing to propose)."""
    xy = unit_points(units)
    pop = pd.to_numeric(units["population"], errors="coerce").fillna(0).clip(lower=0).to_numpy()
    ids = units["unit_id"].astype(str).to_numpy()
    ok = np.all(np.isfinite(xy), axis=1) & (pop > 0)
    xy, pop, ids = xy[ok], pop[ok], ids[ok]
    k = proposal_count(float(pop.sum()), params)
    if k == 0 or not len(xy):
        return None
    order = np.lexsort((xy[:, 1], xy[:, 0], ids))  # by id, then position: row order is moot
    xy, pop = xy[order], pop[order]
    centres, labels = weighted_centres(xy, pop, k)
    area = None if boundary is None or not len(boundary) else boundary.geometry.union_all()
    for c in range(len(centres)):
        if area is not None and not area.covers(shapely.Point(centres[c])):
            # A centre between two parts of a bent county: the member nearest it instead.
            members = xy[labels == c]
            centres[c] = members[np.argmin(((members - centres[c]) ** 2).sum(axis=1))]
    centres = np.round(centres, 1)  # decimetres: the same sites whatever the summation order
    centres = centres[np.lexsort((centres[:, 1], centres[:, 0]))]
    cids = [f"P{i:03d}" for i in range(1, len(centres) + 1)]
    return gpd.GeoDataFrame(
        {
            "candidate_id": cids,
            "name": cids,
            "level": "",
            "origin": PROPOSED,
            "src_row": 0,
        },
        geometry=gpd.points_from_xy(centres[:, 0], centres[:, 1]),
        crs=units.crs,
    )


def with_proposed_candidates(
    layers: Layers, params: NewSchoolParams
) -> tuple[Layers, Problem | None]:
    """``layers`` with proposed candidate sites when it has no candidates layer (and the rules
    use candidates and propose some), and the note saying so; else ``layers`` unchanged."""
    if layers.candidates is not None or not params.use_candidates:
        return layers, None
    proposed = propose_candidates(layers.units, layers.boundary, params)
    if proposed is None:
        return layers, None
    note = Problem(
        f"no candidate sites: {len(proposed)} proposed from the population "
        f"(population-weighted k-means, {params.proposed_per_10k:g} per 10,000 people, "
        f"at most {params.proposed_max}); new schools are sited among them",
        fix="move the proposed sites (origin 'proposed') or add a candidates layer",
        layer="candidates",
        severity="info",
        code="candidates_proposed",
    )
    return dataclasses.replace(layers, candidates=proposed), note


__all__ = [
    "PROPOSED",
    "proposal_count",
    "weighted_centres",
    "propose_candidates",
    "with_proposed_candidates",
]
