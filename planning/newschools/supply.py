"""Places existing and planned schools give within the service distance, shared so that each
place is counted for one child only (a maximum flow of minimum total distance)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from geo.distance import CostModel
from planning.ties import cost_units, tied_cost

# Rows of the units × schools distance table looked at a time: memory grows with the pairs
# within reach (units × the few schools near each), not with units × schools (a province's
# 72,000 units × 8,000 schools would be 4.4 GiB at once).
CHUNK_ROWS = 2048


def allocate_supply(
    dist_km: np.ndarray, capacity: np.ndarray, demand: np.ndarray, service_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Share schools' places among units: (served children per unit, places used per school).

    A maximum flow of minimum total distance (centimetres) from schools to units over the pairs
    within ``service_km``: as many children as possible get a place, each place counted once,
    the nearest children first. Children and places are whole numbers (rounded / floored).
    """
    n, m = dist_km.shape
    dem, cap = _whole(demand, capacity)
    ui, sj, d = _pairs(dist_km, np.arange(n), dem, cap, service_km)
    return allocate_pairs(ui, sj, d, dem, cap)


def _whole(demand: np.ndarray, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dem = np.rint(np.maximum(np.asarray(demand, float), 0)).astype(np.int64)
    cap = np.floor(np.maximum(np.nan_to_num(np.asarray(capacity, float)), 0)).astype(np.int64)
    return dem, cap


def _pairs(
    dist_km: np.ndarray, unit_rows: np.ndarray, dem: np.ndarray, cap: np.ndarray, service_km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unit, school, km) of the pairs within reach in ``dist_km`` (the rows ``unit_rows``),
    among units with children and schools with places, in row-major order."""
    has = dem[unit_rows] > 0
    rows, cols = np.flatnonzero(has), np.flatnonzero(cap > 0)
    sub = dist_km[rows] if len(rows) < len(unit_rows) else dist_km
    sub = sub[:, cols] if len(cols) < len(cap) else sub
    within = sub <= service_km  # NaN compares False; inf too unless the bound is inf
    if not math.isfinite(service_km):
        within &= np.isfinite(sub)
    ri, cj = np.nonzero(within)
    return unit_rows[rows[ri]], cols[cj], sub[ri, cj]


def allocate_pairs(
    ui: np.ndarray,
    sj: np.ndarray,
    dist_km: np.ndarray,
    dem: np.ndarray,
    cap: np.ndarray,
    *,
    keys: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``allocate_supply`` over the pairs (unit ``ui``, school ``sj``, ``dist_km``) within
    reach; ``dem`` and ``cap`` whole numbers per unit and per school. Costs in centimetres
    (``planning.ties``); with ``keys`` (per unit, per school: ``id_keys`` of the ids) plus the
    pairs' tie offsets, so who is served does not follow centimetres of the coordinates."""
    n, m = len(dem), len(cap)
    served = np.zeros(n, dtype=np.int64)
    used = np.zeros(m, dtype=np.int64)
    if n == 0 or m == 0 or dem.sum() == 0 or cap.sum() == 0 or ui.size == 0:
        return served, used
    src, snk = n + m, n + m + 1
    tails = np.concatenate([np.full(m, src), n + sj, np.arange(n)])
    heads = np.concatenate([n + np.arange(m), ui, np.full(n, snk)])
    caps = np.concatenate([cap, dem[ui], dem])
    arc_cost = cost_units(dist_km) if keys is None else tied_cost(dist_km, keys[0][ui], keys[1][sj])
    costs = np.concatenate([np.zeros(m, np.int64), arc_cost, np.zeros(n, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    total = int(min(cap.sum(), dem.sum()))
    flow.set_node_supply(src, total)
    flow.set_node_supply(snk, -total)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:  # pragma: no cover - max-flow variant always has a solution
        raise RuntimeError(f"supply allocation failed: status {status}")
    f = flow.flows(np.arange(flow.num_arcs()))
    used[:] = f[:m]
    served[:] = f[m + ui.size :]
    return served, used


def served_within_reach(
    costs: CostModel,
    units_xy: np.ndarray,
    demand: np.ndarray,
    schools_xy: np.ndarray,
    capacity: np.ndarray,
    service_km: float,
    *,
    keys: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Children per unit (rows of ``units_xy``) placed in the schools within ``service_km``;
    the distance table is read in blocks of rows, only the pairs within reach kept. ``keys``:
    as ``allocate_pairs``'s."""
    dem, cap = _whole(demand, capacity)
    n = len(units_xy)
    if n == 0 or len(schools_xy) == 0 or dem.sum() == 0 or cap.sum() == 0:
        return np.zeros(n, dtype=np.int64)
    parts = []
    for r0 in range(0, n, CHUNK_ROWS):
        rows = np.arange(r0, min(r0 + CHUNK_ROWS, n))
        if not (dem[rows] > 0).any():
            continue
        block = costs.dense_km(units_xy[rows], schools_xy, max_km=service_km)
        parts.append(_pairs(block, rows, dem, cap, service_km))
    if not parts:
        return np.zeros(n, dtype=np.int64)
    ui, sj, d = (np.concatenate(p) for p in zip(*parts, strict=True))
    served, _ = allocate_pairs(ui, sj, d, dem, cap, keys=keys)
    return served


def school_capacity(schools: pd.DataFrame, class_size: int) -> np.ndarray:
    """Places per school row: capacity where given, else classes × class size (never < 0)."""
    cap: pd.Series = (
        pd.to_numeric(schools["capacity"], errors="coerce")
        if "capacity" in schools
        else pd.Series(np.nan, index=schools.index)
    )
    classes: pd.Series = (
        pd.to_numeric(schools["classes"], errors="coerce")
        if "classes" in schools
        else pd.Series(0, index=schools.index)
    )
    return cap.fillna(classes.fillna(0) * class_size).clip(lower=0).to_numpy(float)


__all__ = ["allocate_pairs", "allocate_supply", "served_within_reach", "school_capacity"]
