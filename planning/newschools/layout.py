"""Layout status of existing schools: permanent, transitional or to be merged (POLICY.md §2).

"Build before closing" (先建后撤) is the hard rule: a school is suggested for merging only when a
larger school of the same level, close enough, has free places for every one of its pupils —
places that no other merged school has already been promised. Otherwise a small school is kept
as transitional, never closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.distance import CostModel, as_xy
from planning.newschools.explain import layout_reason
from planning.rules import LEVELS, NewSchoolParams
from planning.ties import id_keys, tied_cost

PERMANENT, TRANSITIONAL, TO_MERGE = "permanent", "transitional", "to_merge"
LAYOUT_COLUMNS = ("layout_status", "layout_reason", "layout_reason_en", "merge_into")


@dataclass(frozen=True)
class LayoutCore:
    """Per school (one level): status code, receiving school position (-1 if none)."""

    status: np.ndarray  # object array of PERMANENT | TRANSITIONAL | TO_MERGE
    target: np.ndarray  # int64, position of the receiving school or -1
    spare_before: np.ndarray  # receiver's free places before any merge was promised


def suggest_layout(
    students: np.ndarray,
    capacity: np.ndarray,
    existing: np.ndarray,
    dist_km: np.ndarray,
    *,
    merge_max_students: int,
    merge_within_km: float,
    transitional_max_students: int,
    order_key: np.ndarray | None = None,
    tie_keys: np.ndarray | None = None,
) -> LayoutCore:
    """Numeric core over the schools of ONE level.

    students, capacity: per school; existing: True for schools open today (planned schools are
    never closed but may receive pupils once built); dist_km: square matrix between the schools.
    Smallest schools are placed first (then by ``order_key``), each to the nearest larger school
    with room; a school that receives pupils is never itself merged, so no pupil moves twice.
    ``tie_keys`` (``planning.ties.id_keys`` of the ids): "nearest" compares centimetres plus
    the pairs' tie offsets, so schools within centimetres of each other do not swap with the
    noise of the coordinates.
    """
    n = len(students)
    students = np.asarray(students, float)
    capacity = np.asarray(capacity, float)
    existing = np.asarray(existing, bool)
    key = np.arange(n) if order_key is None else np.asarray(order_key)
    spare = np.maximum(capacity - students, 0.0)
    spare_before = spare.copy()
    status = np.full(n, PERMANENT, dtype=object)
    target = np.full(n, -1, dtype=np.int64)
    receiving = np.zeros(n, dtype=bool)
    for i in np.lexsort((key, students)):
        if not existing[i]:
            continue
        if students[i] <= merge_max_students:
            ok = (
                (students > students[i])
                & (spare >= students[i])
                & (dist_km[i] <= merge_within_km)
                & (status != TO_MERGE)
            )
            ok[i] = False
            cand = np.nonzero(ok)[0]
            if cand.size and not receiving[i]:
                near = dist_km[i, cand]
                if tie_keys is not None:
                    near = tied_cost(near, tie_keys[i], tie_keys[cand])
                j = cand[np.lexsort((key[cand], near))[0]]
                status[i], target[i] = TO_MERGE, j
                spare[j] -= students[i]
                receiving[j] = True
                continue
        if students[i] <= transitional_max_students:
            status[i] = TRANSITIONAL
    return LayoutCore(status, target, spare_before)


def reason_code(
    core: LayoutCore, k: int, students: int, existing: np.ndarray, merge_max: int
) -> str:
    """Why school ``k`` has its status (core.vocab.LAYOUT_REASON code)."""
    st = core.status[k]
    if not existing[k]:
        return "planned"
    if st == TO_MERGE:
        return "to_merge" if existing[core.target[k]] else "to_merge_once_built"
    if st == TRANSITIONAL:
        return "no_receiver" if students <= merge_max else "transitional"
    return "receiving" if (core.target == k).any() else "permanent"


def _level_layout(
    rows: gpd.GeoDataFrame, level: str, params: NewSchoolParams, costs: CostModel
) -> dict[str, list[Any]]:
    """Status, reasons (zh, en) and receiving school of the schools of one level."""
    xy = as_xy(rows.geometry)
    # Only receiving schools within the merge distance matter.
    dist = costs.dense_km(xy, xy, max_km=params.merge_within_km)
    students = rows["students"].fillna(0).to_numpy(float)
    capacity = rows["capacity"].fillna(0).to_numpy(float)
    existing = (rows["status"] == "existing").to_numpy()
    ids = rows["school_id"].astype(str).to_numpy()
    core = suggest_layout(
        students,
        capacity,
        existing,
        dist,
        merge_max_students=params.merge_max_students,
        merge_within_km=params.merge_within_km,
        transitional_max_students=params.transitional_max_students,
        order_key=ids,
        tie_keys=id_keys(ids),
    )
    names = rows["name"].astype(str).to_numpy() if "name" in rows else ids
    out: dict[str, list[Any]] = {c: [] for c in LAYOUT_COLUMNS}
    for k in range(len(rows)):
        s, j = int(students[k]), core.target[k]
        code = reason_code(core, k, s, existing, params.merge_max_students)
        fields: dict[str, object] = dict(
            students=s,
            merge_max=params.merge_max_students,
            transitional_max=params.transitional_max_students,
            within_km=params.merge_within_km,
        )
        if j >= 0:
            fields.update(km=dist[k, j], target=names[j], room=int(core.spare_before[j]))
        out["layout_status"].append(core.status[k])
        out["layout_reason"].append(layout_reason(code, "zh", level, fields))
        out["layout_reason_en"].append(layout_reason(code, "en", level, fields))
        out["merge_into"].append(ids[j] if core.status[k] == TO_MERGE else "")
    return out


def layout_status(
    schools: gpd.GeoDataFrame, params: NewSchoolParams, costs: CostModel
) -> pd.DataFrame:
    """Layout status of every school row: columns layout_status, layout_reason (zh),
    layout_reason_en, merge_into (school_id or ""), indexed like ``schools``."""
    n = len(schools)
    cols: dict[str, list[Any]] = {c: [""] * n for c in LAYOUT_COLUMNS}
    cols["layout_status"] = [PERMANENT] * n
    if n == 0:
        return pd.DataFrame(
            {c: PERMANENT if c == "layout_status" else "" for c in cols}, index=schools.index
        )
    level_of = schools["level"].to_numpy()
    for level in LEVELS:
        pos = np.flatnonzero(level_of == level)
        if len(pos) == 0:
            continue
        part = _level_layout(schools.iloc[pos], level, params, costs)
        for col, values in part.items():
            for idx, v in zip(pos, values):
                cols[col][idx] = v
    return pd.DataFrame(cols, index=schools.index)


__all__ = [
    "PERMANENT",
    "TRANSITIONAL",
    "TO_MERGE",
    "LAYOUT_COLUMNS",
    "LayoutCore",
    "suggest_layout",
    "reason_code",
    "layout_status",
]
