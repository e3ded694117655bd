"""The whole plan: new schools, then groups, then catchments, on one set of layers.

Order matters: new schools join groups as members and take part in catchments; schools marked
to merge leave grouping and catchments. ``rerun_stages`` re-runs only the stages an edit made
stale (the GUI uses it after a planner moves a school), with the same glue as ``run_plan``.

A plan for a year (rules ``[projection] plan_year``) runs every stage on that year's projected
children and class sizes (``layers_for_year``); such a plan, and one whose rules ask for it
(``phased``), carries the phased schedule in ``PlanResult.schedule``, computed last from the data's
own base year to the horizon with the plan's zones and the layout engine's receiving schools.
"""

from __future__ import annotations

import dataclasses
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd

from core.progress import Progress, check_canceled, ensure, sub
from planning.projection.engine import layers_for_year, run_projection
from planning.rules import Rules
from planning.schedule import ScheduleResult, phased_schedule

STAGES: tuple[str, ...] = ("new_schools", "groups", "catchments")
GROUP_COLUMNS: tuple[str, ...] = ("group_id", "group_role", "group_reason")
GROUP_DEFAULTS = {"group_id": "", "group_role": "none", "group_reason": ""}
MERGE_REASON = {
    "group_reason": "建议撤并,不参与集团化",
    "group_reason_en": "suggested for merging; not grouped",
    "group_reason_code": "to_merge",
}


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
    schedule: ScheduleResult | None = None  # 分期实施 when rules.projection.with_schedule


def _cost_model(layers, rules: Rules):
    from geo.distance import make_cost_model

    return make_cost_model(layers.roads, rules.catchments.distance, rules.catchments.snap_max_m)


# Re-runs after an edit reuse the road graph of the same roads layer: building it is the largest
# fixed cost of a re-run on a big county, and edits move schools, not roads. One entry, held by
# a weak reference, so a replaced or closed roads layer frees its graph.
_rerun_costs: dict[str, Any] = {}


def _rerun_cost_model(layers, rules: Rules):
    roads = layers.roads
    if roads is None:
        return _cost_model(layers, rules)
    # The layer may have been edited in place since: the stamp carries its size and bounds too.
    stamp = (
        rules.catchments.distance,
        rules.catchments.snap_max_m,
        len(roads),
        tuple(roads.total_bounds) if len(roads) else (),
    )
    ref = _rerun_costs.get("roads")
    if ref is None or ref() is not roads or _rerun_costs.get("stamp") != stamp:
        _rerun_costs.clear()
        _rerun_costs.update(roads=weakref.ref(roads), stamp=stamp, model=_cost_model(layers, rules))
    return _rerun_costs["model"]


def _active(schools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Schools suggested for merging take no part in groups or catchments."""
    return schools[schools["layout_status"] != "to_merge"]


def stage_new_schools(layers, rules: Rules, costs, progress: Progress | None = None):
    """New schools and layout status; returns (result, schools with the new ones appended)."""
    from planning.newschools import as_school_rows, run_new_schools

    ns = run_new_schools(
        layers.schools,
        layers.units,
        rules.new_schools,
        rules.standards,
        candidates=layers.candidates,
        costs=costs,
        progress=progress,
    )
    schools = layers.schools.copy()
    schools["layout_status"] = ns.layout_status.reindex(schools.index).fillna("permanent")
    if hasattr(ns, "layout_reason"):
        schools["layout_reason"] = ns.layout_reason.reindex(schools.index).fillna("")
        schools["merge_into"] = ns.merge_into.reindex(schools.index).fillna("")
    new_rows = as_school_rows(ns, rules.standards)
    if len(new_rows):
        new_rows = new_rows.to_crs(schools.crs) if new_rows.crs != schools.crs else new_rows
        new_rows["layout_status"] = "new"
        schools = pd.concat([schools, new_rows], ignore_index=True)
        schools = gpd.GeoDataFrame(schools, geometry="geometry", crs=layers.schools.crs)
    return ns, schools


def stage_groups(schools: gpd.GeoDataFrame, rules: Rules, costs, *, choices=None, progress=None):
    """Groups among the active schools; returns (result, schools with group columns)."""
    from planning.grouping import run_grouping

    gr = run_grouping(
        _active(schools),
        rules.groups,
        rules.standards,
        costs=costs,
        choices=choices,
        progress=progress,
    )
    schools = schools.copy()
    for col in gr.school_groups.columns:
        schools[col] = gr.school_groups[col].reindex(schools.index)
    # Schools suggested for merging were kept out of grouping on purpose; say so.
    merging = schools["layout_status"] == "to_merge"
    for col, text in MERGE_REASON.items():
        if col in schools.columns:
            schools[col] = schools[col].where(~merging, text)
    for col, default in GROUP_DEFAULTS.items():
        schools[col] = schools[col].fillna(default)
    for col in ("group_reason_en", "group_reason_code"):
        if col in schools.columns:
            schools[col] = schools[col].fillna("")
    return gr, schools


def stage_catchments(schools: gpd.GeoDataFrame, layers, rules: Rules, costs, progress=None):
    from planning.catchments import run_catchments

    return run_catchments(
        _active(schools),
        layers.units,
        layers.boundary,
        rules.catchments,
        rules.standards,
        roads=layers.roads,
        costs=costs,
        progress=progress,
    )


def for_plan_year(layers, rules: Rules, progress: Progress | None = None) -> tuple[Any, Rules]:
    """The layers and rules the stages run on: the data's, or ``plan_year``'s projection."""
    year = rules.projection.plan_year
    if not year:
        return layers, rules
    layers, standards = layers_for_year(layers, rules, year, progress=progress)
    return layers, dataclasses.replace(rules, standards=standards)


def stage_schedule(result: PlanResult, layers, rules: Rules) -> ScheduleResult | None:
    """The phased schedule of ``result`` when the rules ask for one; ``layers`` and ``rules`` are
    the data's (base year), not a plan year's projection."""
    if not rules.projection.with_schedule:
        return None
    p = rules.projection
    projection = run_projection(layers.units, layers.schools, p, rules.standards)
    return phased_schedule(result, projection, rules)


def run_plan(
    layers, rules: Rules, *, choices=None, progress: Progress | None = None, meta=None
) -> PlanResult:
    """Run every engine on ``layers`` (a ``geo.layers.Layers``) with ``rules``."""
    progress = ensure(progress)
    data_layers, data_rules = layers, rules
    layers, rules = for_plan_year(layers, rules)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    progress.update(0.0, "距离模型 / distance model")
    costs = _cost_model(layers, rules)
    timings["distance_model"] = time.perf_counter() - t

    t = time.perf_counter()
    progress.update(0.0, "新建学校 / new schools")
    ns, schools = stage_new_schools(layers, rules, costs, sub(progress, 0.0, 0.3))
    timings["new_schools"] = time.perf_counter() - t
    check_canceled(progress)

    t = time.perf_counter()
    progress.update(0.3, "教育集团 / education groups")
    gr, schools = stage_groups(
        schools, rules, costs, choices=choices, progress=sub(progress, 0.3, 0.5)
    )
    timings["groups"] = time.perf_counter() - t
    check_canceled(progress)

    t = time.perf_counter()
    progress.update(0.5, "学区划片 / catchments")
    ct = stage_catchments(schools, layers, rules, costs, sub(progress, 0.5, 0.95))
    timings["catchments"] = time.perf_counter() - t
    progress.update(1.0, "完成 / done")

    summary = {
        "groups": gr.summary.to_dict(),
        "new_schools": ns.summary.to_dict(),
        "catchments": ct.summary,
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    }
    info = {"created": datetime.now().isoformat(timespec="seconds"), "crs": layers.crs.to_string()}
    info.update(meta or {})
    status = "ok" if all(r.status in ("ok", "empty") for r in (ns, gr, ct)) else "partial"
    result = PlanResult(
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
    result.schedule = stage_schedule(result, data_layers, data_rules)
    return result


def _carry(schools, prev, col, default) -> list:
    """``prev[col]`` looked up by (school_id, level) for each row of ``schools``."""
    if col not in prev:
        return [default] * len(schools)
    table = {(str(a), str(b)): v for a, b, v in zip(prev["school_id"], prev["level"], prev[col])}
    return [
        table.get((str(a), str(b)), default) for a, b in zip(schools["school_id"], schools["level"])
    ]


def current_schools(layers, result: PlanResult | None) -> gpd.GeoDataFrame:
    """The edited input schools with the last plan's layout status, plus its new schools."""
    schools = layers.schools.copy()
    schools["layout_status"] = "permanent"
    if result is not None and len(result.schools):
        prev = result.schools
        schools["layout_status"] = _carry(schools, prev, "layout_status", "permanent")
        if "layout_reason" in prev:
            schools["layout_reason"] = _carry(schools, prev, "layout_reason", "")
        if "merge_into" in prev:
            schools["merge_into"] = _carry(schools, prev, "merge_into", "")
        if "layout_status" in prev:
            new_rows = prev[prev["layout_status"] == "new"]
            if len(new_rows):
                new_rows = new_rows.drop(columns=list(GROUP_COLUMNS), errors="ignore")
                schools = pd.concat([schools, new_rows.to_crs(schools.crs)], ignore_index=True)
                schools = gpd.GeoDataFrame(schools, geometry="geometry", crs=layers.schools.crs)
    return schools


def rerun_stages(
    layers,
    rules: Rules,
    result: PlanResult,
    stages,
    *,
    choices=None,
    progress: Progress | None = None,
) -> PlanResult:
    """A copy of ``result`` with ``stages`` (a subset of groups, catchments) computed again.

    New-school planning is not re-run here (it is the slow, global stage): the last new schools
    are kept. With no previous result the caller runs the whole plan instead.
    """
    progress = ensure(progress)
    data_layers, data_rules = layers, rules
    layers, rules = for_plan_year(layers, rules)
    stages = [s for s in ("groups", "catchments") if s in set(stages)]
    schools = current_schools(layers, result)
    for col, default in GROUP_DEFAULTS.items():
        schools[col] = _carry(schools, result.schools, col, default)
    groups, catchments, demand = result.groups, result.catchments, result.demand
    summary = dict(result.summary)
    timings = dict(summary.get("timings_s", {}))
    costs = _rerun_cost_model(layers, rules)
    share = 1.0 / max(len(stages), 1)
    for i, stage in enumerate(stages):
        t = time.perf_counter()
        part = sub(progress, i * share, (i + 1) * share)
        if stage == "groups":
            progress.update(i * share, "教育集团 / education groups")
            gr, schools = stage_groups(schools, rules, costs, choices=choices, progress=part)
            groups, summary["groups"] = gr.groups, gr.summary.to_dict()
        else:
            progress.update(i * share, "学区划片 / catchments")
            ct = stage_catchments(schools, layers, rules, costs, part)
            catchments, demand, summary["catchments"] = ct.catchments, ct.demand, ct.summary
        timings[stage] = round(time.perf_counter() - t, 4)
        check_canceled(progress)
    summary["timings_s"] = timings
    progress.update(1.0, "完成 / done")
    out = dataclasses.replace(
        result,
        schools=schools,
        groups=groups,
        catchments=catchments,
        demand=demand,
        summary=summary,
        rules=rules,
    )
    out.schedule = stage_schedule(out, data_layers, data_rules)
    return out


def preview_result(layers, rules: Rules, meta=None) -> PlanResult:
    """A plan with no results yet, so the map can show the input layers before the first run."""
    schools = layers.schools.copy()
    schools["layout_status"] = "permanent"
    for col, default in GROUP_DEFAULTS.items():
        schools[col] = default
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
