"""Layout status of existing schools: permanent, transitional or to be merged (POLICY.md §2).

"Build before closing" (先建后撤) is the hard rule: a school is suggested for merging only when a
larger school of the same level, close enough, has free places for every one of its pupils —
places that no other merged school has already been promised. Otherwise a small school is kept
as transitional, never closed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning.rules import LEVEL_ZH, LEVELS, NewSchoolParams

PERMANENT, TRANSITIONAL, TO_MERGE = "permanent", "transitional", "to_merge"


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
) -> LayoutCore:
    """Numeric core over the schools of ONE level.

    students, capacity: per school; existing: True for schools open today (planned schools are
    never closed but may receive pupils once built); dist_km: square matrix between the schools.
    Smallest schools are placed first (then by ``order_key``), each to the nearest larger school
    with room; a school that receives pupils is never itself merged, so no pupil moves twice.
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
                j = cand[np.lexsort((key[cand], dist_km[i, cand]))[0]]
                status[i], target[i] = TO_MERGE, j
                spare[j] -= students[i]
                receiving[j] = True
                continue
        if students[i] <= transitional_max_students:
            status[i] = TRANSITIONAL
    return LayoutCore(status, target, spare_before)


def layout_status(schools, params: NewSchoolParams, costs) -> pd.DataFrame:
    """Layout status of every school row: columns layout_status, layout_reason (zh),
    layout_reason_en, merge_into (school_id or ""), indexed like ``schools``."""
    n = len(schools)
    cols = {
        "layout_status": [PERMANENT] * n,
        "layout_reason": [""] * n,
        "layout_reason_en": [""] * n,
        "merge_into": [""] * n,
    }
    if n == 0:
        return pd.DataFrame(
            {c: PERMANENT if c == "layout_status" else "" for c in cols}, index=schools.index
        )
    from geo.distance import as_xy

    level_of = schools["level"].to_numpy()
    for level in LEVELS:
        pos = np.flatnonzero(level_of == level)
        rows = schools.iloc[pos]
        if len(rows) == 0:
            continue
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
        )
        names = rows["name"].astype(str).to_numpy() if "name" in rows else ids
        lvl_zh = LEVEL_ZH[level]
        for k, idx in enumerate(pos):
            st, s = core.status[k], int(students[k])
            if not existing[k]:
                zh, en = "规划学校,保留", "planned school, kept"
            elif st == TO_MERGE:
                j = core.target[k]
                room = int(core.spare_before[j])
                planned = "(待其建成后撤并)" if not existing[j] else ""
                planned_en = " once it is built" if not existing[j] else ""
                zh = (
                    f"在校生 {s} 人 ≤ {params.merge_max_students} 人;{dist[k, j]:.1f} km 内"
                    f"{lvl_zh}{names[j]}有空余学位 {room} 个,可全部接收,先建后撤{planned}"
                )
                en = (
                    f"{s} pupils ≤ {params.merge_max_students}; {names[j]} "
                    f"{dist[k, j]:.1f} km away has {room} free places for all of them"
                    f"{planned_en} (build before closing)"
                )
                cols["merge_into"][idx] = ids[j]
            elif st == TRANSITIONAL:
                if s <= params.merge_max_students:
                    zh = (
                        f"在校生 {s} 人,{params.merge_within_km:g} km 内无学位足够的较大同学段学校,"
                        "先建后撤,过渡性保留"
                    )
                    en = (
                        f"{s} pupils; no larger school of the level with room within "
                        f"{params.merge_within_km:g} km, so kept (build before closing)"
                    )
                else:
                    zh = f"在校生 {s} 人 ≤ {params.transitional_max_students} 人,过渡性保留"
                    en = f"{s} pupils ≤ {params.transitional_max_students}: transitional"
            else:
                zh = f"在校生 {s} 人,永久性保留"
                en = f"{s} pupils: permanent"
                if core.status[k] == PERMANENT and (core.target == k).any():
                    zh += ",接收撤并学校学生"
                    en += ", receives pupils of merged schools"
            cols["layout_status"][idx] = st
            cols["layout_reason"][idx] = zh
            cols["layout_reason_en"][idx] = en
    return pd.DataFrame(cols, index=schools.index)


__all__ = ["PERMANENT", "TRANSITIONAL", "TO_MERGE", "LayoutCore", "suggest_layout", "layout_status"]
