"""Places existing and planned schools give within the service distance, shared so that each
place is counted for one child only (a maximum flow of minimum total distance)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from geo.distance import CostModel


def allocate_supply(
    dist_km: np.ndarray, capacity: np.ndarray, demand: np.ndarray, service_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Share schools' places among units: (served children per unit, places used per school).

    A maximum flow of minimum total distance from schools to units over the pairs within
    ``service_km``: as many children as possible get a place, each place counted once, the
    nearest children first. Children and places are whole numbers (rounded / floored).
    """
    n, m = dist_km.shape
    dem = np.rint(np.maximum(np.asarray(demand, float), 0)).astype(np.int64)
    cap = np.floor(np.maximum(np.nan_to_num(np.asarray(capacity, float)), 0)).astype(np.int64)
    served = np.zeros(n, dtype=np.int64)
    used = np.zeros(m, dtype=np.int64)
    if n == 0 or m == 0 or dem.sum() == 0 or cap.sum() == 0:
        return served, used
    # Pairs within reach, among units with children and schools with places only: the same
    # pairs in the same (row-major) order as a scan of the whole table, from a smaller one.
    rows, cols = np.flatnonzero(dem > 0), np.flatnonzero(cap > 0)
    sub = dist_km[rows] if len(rows) < n else dist_km
    sub = sub[:, cols] if len(cols) < m else sub
    within = sub <= service_km  # NaN compares False; inf too unless the bound is inf
    if not math.isfinite(service_km):
        within &= np.isfinite(sub)
    ri, cj = np.nonzero(within)
    ui, sj = rows[ri], cols[cj]
    if ui.size == 0:
        return served, used
    src, snk = n + m, n + m + 1
    tails = np.concatenate([np.full(m, src), n + sj, np.arange(n)])
    heads = np.concatenate([n + np.arange(m), ui, np.full(n, snk)])
    caps = np.concatenate([cap, dem[ui], dem])
    costs = np.concatenate([np.zeros(m), np.rint(dist_km[ui, sj] * 1000.0), np.zeros(n)]).astype(
        np.int64
    )
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
) -> np.ndarray:
    """Children per unit (rows of ``units_xy``) placed in the schools within ``service_km``."""
    dist = (
        costs.dense_km(units_xy, schools_xy, max_km=service_km)
        if len(schools_xy)
        else np.zeros((len(units_xy), 0))
    )
    served, _ = allocate_supply(dist, capacity, demand, service_km)
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


__all__ = ["allocate_supply", "served_within_reach", "school_capacity"]
