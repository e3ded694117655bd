"""Re-run one stage of a plan after an edit, reusing the other stages' last results.

The full plan (``planning.pipeline.run_plan``) runs new schools → groups → catchments. After a
planner moves a school or locks a group pair, only some stages depend on the edit; re-running
just those keeps the window's answer within about a second. The glue mirrors ``run_plan`` (same
inputs per stage) and is pure Python: no Qt, callable from the worker thread and from tests.
"""

from __future__ import annotations

import dataclasses
import time

import geopandas as gpd
import pandas as pd

from planning.progress import Progress, check_canceled, ensure, sub

STAGES: tuple[str, ...] = ("new_schools", "groups", "catchments")
GROUP_COLUMNS = ("group_id", "group_role", "group_reason")


def _carry(schools, prev, col, default) -> list:
    """``prev[col]`` looked up by (school_id, level) for each row of ``schools``."""
    if col not in prev:
        return [default] * len(schools)
    table = {(str(a), str(b)): v for a, b, v in zip(prev["school_id"], prev["level"], prev[col])}
    return [
        table.get((str(a), str(b)), default) for a, b in zip(schools["school_id"], schools["level"])
    ]


def current_schools(layers, result) -> gpd.GeoDataFrame:
    """The edited input schools with the last plan's layout status, plus its new schools."""
    schools = layers.schools.copy()
    schools["layout_status"] = "permanent"
    if result is not None and len(result.schools):
        prev = result.schools
        schools["layout_status"] = _carry(schools, prev, "layout_status", "permanent")
        if "layout_reason" in prev:
            schools["layout_reason"] = _carry(schools, prev, "layout_reason", "")
        if "layout_status" in prev:
            new_rows = prev[prev["layout_status"] == "new"]
            if len(new_rows):
                new_rows = new_rows.drop(columns=list(GROUP_COLUMNS), errors="ignore")
                schools = pd.concat([schools, new_rows.to_crs(schools.crs)], ignore_index=True)
                schools = gpd.GeoDataFrame(schools, geometry="geometry", crs=layers.schools.crs)
    return schools


def rerun(layers, rules, result, stages, *, choices=None, progress: Progress | None = None):
    """A copy of ``result`` with ``stages`` (subset of groups, catchments) computed again.

    New-school planning is not re-run here (it is the slow, global stage): the last new schools
    are kept. With no previous result the caller must run the whole plan instead.
    """
    from geo.distance import make_cost_model
    from planning.catchments import run_catchments
    from planning.grouping import run_grouping

    progress = ensure(progress)
    stages = [s for s in ("groups", "catchments") if s in set(stages)]
    schools = current_schools(layers, result)
    for col, default in zip(GROUP_COLUMNS, ("", "none", "")):
        schools[col] = _carry(schools, result.schools, col, default)
    groups, catchments, demand = result.groups, result.catchments, result.demand
    summary = dict(result.summary)
    timings = dict(summary.get("timings_s", {}))
    costs = make_cost_model(layers.roads, rules.catchments.distance, rules.catchments.snap_max_m)
    share = 1.0 / max(len(stages), 1)
    for i, stage in enumerate(stages):
        t = time.perf_counter()
        part = sub(progress, i * share, (i + 1) * share)
        active = schools[schools["layout_status"] != "to_merge"]
        if stage == "groups":
            progress.update(i * share, "教育集团 / education groups")
            gr = run_grouping(
                active, rules.groups, rules.standards, costs=costs, choices=choices, progress=part
            )
            for col in gr.school_groups.columns:
                schools[col] = gr.school_groups[col].reindex(schools.index)
            groups, summary["groups"] = gr.groups, gr.summary
        else:
            progress.update(i * share, "学区划片 / catchments")
            ct = run_catchments(
                active,
                layers.units,
                layers.boundary,
                rules.catchments,
                rules.standards,
                roads=layers.roads,
                progress=part,
            )
            catchments, demand, summary["catchments"] = ct.catchments, ct.demand, ct.summary
        timings[stage] = round(time.perf_counter() - t, 4)
        check_canceled(progress)
    for col, default in zip(GROUP_COLUMNS, ("", "none", "")):
        schools[col] = schools[col].fillna(default)
    summary["timings_s"] = timings
    progress.update(1.0, "完成 / done")
    return dataclasses.replace(
        result,
        schools=schools,
        groups=groups,
        catchments=catchments,
        demand=demand,
        summary=summary,
        rules=rules,
    )


def preview_result(layers, rules, meta=None):
    """A plan with no results yet, so the map can show the input layers before the first run."""
    from planning.pipeline import PlanResult

    schools = layers.schools.copy()
    schools["layout_status"] = "permanent"
    schools["group_id"], schools["group_role"], schools["group_reason"] = "", "none", ""
    crs = layers.crs
    empty = gpd.GeoDataFrame({"level": pd.Series(dtype=str)}, geometry=[], crs=crs)
    return PlanResult(
        schools=schools,
        groups=empty.copy(),
        new_schools=empty.copy(),
        catchments=empty.copy(),
        demand=gpd.GeoDataFrame(geometry=[], crs=crs),
        boundary=layers.boundary,
        summary={},
        rules=rules,
        meta=dict(meta or {}),
        status="empty",
    )
