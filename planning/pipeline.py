"""The whole plan: new schools, then groups, then catchments, on one set of layers.

Order matters: new schools join groups as members and take part in catchments; schools marked
to merge leave the catchments.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd

from planning.progress import Progress, check_canceled, ensure, sub
from planning.rules import Rules


@dataclass
class PlanResult:
    """Everything a plan produced; exports and scenarios read only this."""

    schools: gpd.GeoDataFrame  # input schools + new schools, with group_*, layout_status columns
    groups: gpd.GeoDataFrame
    new_schools: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame
    summary: dict[str, Any]
    rules: Rules
    meta: dict[str, Any] = field(default_factory=dict)  # project, scenario, created, crs, ...
    status: str = "ok"


def run_plan(
    layers, rules: Rules, *, choices=None, progress: Progress | None = None, meta=None
) -> PlanResult:
    """Run every engine on ``layers`` (a ``geo.layers.Layers``) with ``rules``."""
    # Engines are imported here so that `schoolplan check` and `rules` start fast.
    from geo.distance import make_cost_model
    from planning.catchments import run_catchments
    from planning.grouping import run_grouping
    from planning.newschools import as_school_rows, run_new_schools

    progress = ensure(progress)
    timings: dict[str, float] = {}
    costs = make_cost_model(layers.roads, rules.catchments.distance, rules.catchments.snap_max_m)

    t = time.perf_counter()
    progress.update(0.0, "新建学校 / new schools")
    ns = run_new_schools(
        layers.schools,
        layers.units,
        rules.new_schools,
        rules.standards,
        candidates=layers.candidates,
        costs=costs,
        progress=sub(progress, 0.0, 0.3),
    )
    timings["new_schools"] = time.perf_counter() - t
    check_canceled(progress)

    schools = layers.schools.copy()
    schools["layout_status"] = ns.layout_status.reindex(schools.index).fillna("permanent")
    if hasattr(ns, "layout_reason"):
        schools["layout_reason"] = ns.layout_reason.reindex(schools.index).fillna("")
    new_rows = as_school_rows(ns, rules.standards)
    if len(new_rows):
        new_rows = new_rows.to_crs(schools.crs) if new_rows.crs != schools.crs else new_rows
        new_rows["layout_status"] = "new"
        schools = pd.concat([schools, new_rows], ignore_index=True)
        schools = gpd.GeoDataFrame(schools, geometry="geometry", crs=layers.schools.crs)

    t = time.perf_counter()
    progress.update(0.3, "教育集团 / education groups")
    grouping_input = schools[schools["layout_status"] != "to_merge"]
    gr = run_grouping(
        grouping_input,
        rules.groups,
        rules.standards,
        costs=costs,
        choices=choices,
        progress=sub(progress, 0.3, 0.5),
    )
    timings["groups"] = time.perf_counter() - t
    check_canceled(progress)
    for col in gr.school_groups.columns:
        schools[col] = gr.school_groups[col].reindex(schools.index)
    schools["group_id"] = schools["group_id"].fillna("")
    schools["group_role"] = schools["group_role"].fillna("none")
    # Schools suggested for merging were kept out of grouping on purpose; say so.
    merging = schools["layout_status"] == "to_merge"
    schools["group_reason"] = (
        schools["group_reason"].where(~merging, "建议撤并,不参与集团化").fillna("")
    )
    if "group_reason_en" in schools.columns:
        reason_en = "suggested for merging; not grouped"
        schools["group_reason_en"] = (
            schools["group_reason_en"].where(~merging, reason_en).fillna("")
        )
    if "group_reason_code" in schools.columns:
        schools["group_reason_code"] = (
            schools["group_reason_code"].where(~merging, "to_merge").fillna("")
        )

    t = time.perf_counter()
    progress.update(0.5, "学区划片 / catchments")
    active = schools[schools["layout_status"] != "to_merge"]
    ct = run_catchments(
        active,
        layers.units,
        layers.boundary,
        rules.catchments,
        rules.standards,
        roads=layers.roads,
        costs=costs,
        progress=sub(progress, 0.5, 0.95),
    )
    timings["catchments"] = time.perf_counter() - t
    progress.update(1.0, "完成 / done")

    summary = {
        "groups": gr.summary,
        "new_schools": ns.summary,
        "catchments": ct.summary,
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    }
    info = {"created": datetime.now().isoformat(timespec="seconds"), "crs": layers.crs.to_string()}
    info.update(meta or {})
    status = "ok" if all(r.status in ("ok", "empty") for r in (ns, gr, ct)) else "partial"
    return PlanResult(
        schools=schools,
        groups=gr.groups,
        new_schools=ns.new_schools,
        catchments=ct.catchments,
        demand=ct.demand,
        boundary=layers.boundary,
        summary=summary,
        rules=rules,
        meta=info,
        status=status,
    )
