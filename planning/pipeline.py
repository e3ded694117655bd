"""The whole plan: new schools, then groups, then catchments, on one set of layers.

Order matters: new schools join groups as members and take part in catchments; schools marked
to merge leave grouping and catchments. ``STAGE_TABLE`` lists the stages (what each reads, what
it makes stale); ``run_plan`` and ``rerun_stages`` (the GUI's re-run of the stages an edit made
stale) both go through ``_run_stages``. The cost model (straight line or road graph) is built
once per plan from the ``[distance]`` rules and handed to every engine.

A plan for a year (rules ``[projection] plan_year``) runs every stage on that year's projected
children and class sizes (``for_plan_year``); such a plan, and one whose rules ask for it
(``phased``), carries the phased schedule in ``PlanResult.schedule`` (``stage_schedule``, after
the stages: from the data's own base year to the horizon, with the plan's zones and the layout
engine's receiving schools).
"""

from __future__ import annotations

import dataclasses
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd

from core.progress import Progress, check_canceled, ensure, sub
from core.vocab import ZONE_REASON
from geo.distance import CostModel, make_cost_model
from geo.layers import Layers
from geo.townships import township_areas
from planning.catchments import CatchmentResult, run_catchments
from planning.figures import plan_figures
from planning.grouping import GroupChoices, GroupingResult, run_grouping
from planning.newschools import NewSchoolResult, as_school_rows, run_new_schools
from planning.present import PRESENT_COLUMNS, PresentResult, run_present
from planning.projection.engine import layers_for_year, run_projection
from planning.rules import DistanceParams, Rules
from planning.schedule import ScheduleResult, phased_schedule

GROUP_COLUMNS: tuple[str, ...] = ("group_id", "group_role", "group_reason")
GROUP_DEFAULTS = {"group_id": "", "group_role": "none", "group_reason": ""}
MERGE_REASON = {
    "group_reason": "建议撤并,不参与集团化",
    "group_reason_en": "suggested for merging; not grouped",
    "group_reason_code": "to_merge",
}
# The order of the stage summaries in PlanResult.summary (and summary.json).
SUMMARY_ORDER = ("current", "groups", "new_schools", "catchments")
# Per level, unit_id -> the school it is zoned to now (a re-zoning's baseline).
Baseline = Mapping[str, Mapping[str, str]]


@dataclass
class PlanResult:
    """Everything a plan produced; exports and scenarios read only this."""

    schools: gpd.GeoDataFrame  # input schools + new schools, with group_*, layout_status columns
    groups: gpd.GeoDataFrame
    new_schools: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame
    # Per stage its summary as a dict (summary.json's blocks), and timings_s.
    summary: dict[str, Any]
    rules: Rules
    meta: dict[str, Any] = field(default_factory=dict)  # project, scenario, created, crs, ...
    status: str = "ok"
    # The input roads, for the maps (not written to plan.gpkg).
    roads: gpd.GeoDataFrame | None = None
    schedule: ScheduleResult | None = None  # 分期实施 when rules.projection.with_schedule
    # Township areas for the maps (name, source: given or derived from the units' town column,
    # geo.townships); written to plan.gpkg, no engine reads them.
    townships: gpd.GeoDataFrame | None = None


def cost_model(roads: gpd.GeoDataFrame | None, distance: DistanceParams) -> CostModel:
    """The distance model of a project (its road layer or None) under the ``[distance]``
    rules: every engine of a plan gets this one, so they share one road graph."""
    return make_cost_model(roads, distance.model, distance.snap_max_m, distance.offroad_detour)


# Re-runs after an edit reuse the road graph of the same roads layer: building it is the largest
# fixed cost of a re-run on a big county, and edits move schools, not roads. One entry, held by
# a weak reference, so a replaced or closed roads layer frees its graph.
_rerun_costs: dict[str, Any] = {}


def rerun_cost_model(layers: Layers, rules: Rules) -> CostModel:
    """``cost_model`` of ``layers``, the one of the last re-run while its roads are unchanged."""
    roads = layers.roads
    if roads is None:
        return cost_model(None, rules.distance)
    # The layer may have been edited in place since: the stamp carries its size and bounds too.
    stamp = (
        rules.distance.model,
        rules.distance.snap_max_m,
        rules.distance.offroad_detour,
        len(roads),
        tuple(roads.total_bounds) if len(roads) else (),
    )
    ref = _rerun_costs.get("roads")
    if ref is None or ref() is not roads or _rerun_costs.get("stamp") != stamp:
        _rerun_costs.clear()
        model = cost_model(roads, rules.distance)
        _rerun_costs.update(roads=weakref.ref(roads), stamp=stamp, model=model)
    model_: CostModel = _rerun_costs["model"]
    return model_


def _active(schools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Schools suggested for merging take no part in groups or catchments."""
    return schools[schools["layout_status"] != "to_merge"]


@dataclass
class PlanState:
    """What the stages of one run read and change: the layers, rules, cost model and group
    choices, the schools as the stages leave them, and the PlanResult fields and summaries
    the stages made."""

    layers: Layers
    rules: Rules
    costs: CostModel
    choices: GroupChoices | None
    schools: gpd.GeoDataFrame
    made: dict[str, Any] = field(default_factory=dict)  # PlanResult field -> value
    summaries: dict[str, Any] = field(default_factory=dict)  # stage -> summary dict
    statuses: list[str] = field(default_factory=list)
    # The zones now (per level, unit_id -> school_id): a re-zoning moves a unit only when needed
    # or when it saves more than the rules' catchments.keep_current_km (issue 15).
    baseline: Baseline | None = None


def _summary_dict(summary: Any) -> dict[str, Any]:
    """A stage summary as summary.json holds it (typed summaries give ``to_dict()``)."""
    out: dict[str, Any] = summary.to_dict() if hasattr(summary, "to_dict") else summary
    return out


def _new_schools(st: PlanState, progress: Progress) -> NewSchoolResult:
    """New schools and layout status; the new ones are appended to the schools."""
    layers, rules = st.layers, st.rules
    ns = run_new_schools(
        layers.schools,
        layers.units,
        rules.new_schools,
        rules.standards,
        candidates=layers.candidates,
        costs=st.costs,
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
    st.schools = schools
    st.made["new_schools"] = ns.new_schools
    return ns


def _groups(st: PlanState, progress: Progress) -> GroupingResult:
    """Groups among the active schools; their columns are set on the schools."""
    rules = st.rules
    gr = run_grouping(
        _active(st.schools),
        rules.groups,
        rules.standards,
        costs=st.costs,
        choices=st.choices,
        progress=progress,
    )
    schools = st.schools.copy()
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
    st.schools = schools
    st.made["groups"] = gr.groups
    return gr


def _catchments(st: PlanState, progress: Progress) -> CatchmentResult:
    layers, rules = st.layers, st.rules
    ct = run_catchments(
        _active(st.schools),
        layers.units,
        layers.boundary,
        rules.catchments,
        rules.standards,
        costs=st.costs,
        baseline=st.baseline,
        progress=progress,
    )
    st.made.update(catchments=ct.catchments, demand=ct.demand)
    st.schools = with_zone_reasons(st.schools, ct.catchments)
    return ct


def with_zone_reasons(schools: gpd.GeoDataFrame, catchments: pd.DataFrame) -> gpd.GeoDataFrame:
    """``zone_reason`` (zh), ``zone_reason_en`` and ``zone_reason_code`` on every school: why an
    open school has no zone of its own ("" when it has one, or takes no part in catchments)."""
    out = schools.copy()
    codes: dict[tuple[str, str], str] = {}
    if "zone_reason_code" in catchments:
        keys = zip(catchments["school_id"].astype(str), catchments["level"].astype(str))
        codes = dict(zip(keys, catchments["zone_reason_code"].fillna("").astype(str)))
    code = [codes.get((str(a), str(b)), "") for a, b in zip(out["school_id"], out["level"])]
    out["zone_reason_code"] = code
    out["zone_reason"] = [ZONE_REASON.label(c, "zh") if c else "" for c in code]
    out["zone_reason_en"] = [ZONE_REASON.label(c, "en") if c else "" for c in code]
    return out


def _current(st: PlanState, progress: Progress) -> PresentResult:
    """现状: each school's flags from the enrolment as reported, set on the schools layer; its
    summary is summary.json's ``current``. Run last, so the new schools' rows are there too
    (they are not open today: never flagged)."""
    cur = run_present(st.schools, st.layers.units, st.rules)
    schools = st.schools.drop(columns=list(PRESENT_COLUMNS), errors="ignore")
    st.schools = schools.join(cur.schools)
    return cur


@dataclass(frozen=True)
class Stage:
    """One stage of a plan: ``run`` reads ``needs`` (layers, or the schools the stages before
    left) and makes the PlanResult fields ``makes``; ``stale`` are the later stages that read
    what it makes, to be run again after it; ``share`` its part of the progress bar."""

    name: str
    label: str
    run: Callable[[PlanState, Progress], Any]
    needs: tuple[str, ...]
    makes: tuple[str, ...]
    stale: tuple[str, ...]
    share: float


STAGE_TABLE: tuple[Stage, ...] = (
    Stage(
        "new_schools",
        "新建学校 / new schools",
        _new_schools,
        needs=("schools", "units", "candidates"),
        makes=("schools", "new_schools"),
        stale=("groups", "catchments", "current"),
        share=0.3,
    ),
    Stage(
        "groups",
        "教育集团 / education groups",
        _groups,
        needs=("schools",),
        makes=("schools", "groups"),
        # catchments read the groups: no village is zoned past its member school to the core
        stale=("catchments", "current"),
        share=0.2,
    ),
    Stage(
        "catchments",
        "学区划片 / catchments",
        _catchments,
        needs=("schools", "units", "boundary"),
        makes=("catchments", "demand"),
        stale=(),
        share=0.45,
    ),
    Stage(
        "current",
        "现状 / the present",
        _current,
        needs=("schools", "units"),
        makes=("schools",),
        stale=(),
        share=0.05,
    ),
)
STAGES: tuple[str, ...] = tuple(s.name for s in STAGE_TABLE)


def stale_after(names: Iterable[str]) -> frozenset[str]:
    """The stages ``names`` and every stage they make stale, transitively."""
    out = set(names)
    for stage in STAGE_TABLE:  # the table is in run order: one pass closes the set
        if stage.name in out:
            out.update(stage.stale)
    return frozenset(out)


def _run_stages(
    st: PlanState, names: Iterable[str], progress: Progress, timings: dict[str, float]
) -> None:
    """Run the stages ``names`` in table order; each one's summary, status and time recorded."""
    todo = [s for s in STAGE_TABLE if s.name in set(names)]
    total = sum(s.share for s in todo) or 1.0
    at = 0.0
    for stage in todo:
        lo, at = at, at + 0.95 * stage.share / total
        t = time.perf_counter()
        progress.update(lo, stage.label)
        res = stage.run(st, sub(progress, lo, at))
        st.summaries[stage.name] = _summary_dict(res.summary)
        st.statuses.append(res.status)
        timings[stage.name] = round(time.perf_counter() - t, 4)
        check_canceled(progress)
    progress.update(1.0, "完成 / done")


def _summary(previous: dict[str, Any], st: PlanState, timings: dict[str, float]) -> dict[str, Any]:
    """``previous`` with the summaries of the stages just run (keys keep their places; new
    ones in ``SUMMARY_ORDER``) and the timings."""
    out = dict(previous)
    out.update((k, st.summaries[k]) for k in SUMMARY_ORDER if k in st.summaries)
    out["timings_s"] = timings
    return out


def with_figures(result: PlanResult) -> PlanResult:
    """``result`` with its headline figures (``planning.figures``) in the summary, before the
    timings: summary.json's ``figures``, which every output reads."""
    timings = result.summary.get("timings_s")
    summary = {k: v for k, v in result.summary.items() if k not in ("figures", "timings_s")}
    result = dataclasses.replace(result, summary=summary)
    summary["figures"] = plan_figures(result).to_dict()
    if timings is not None:
        summary["timings_s"] = timings
    return result


def _all_fine(statuses: list[str]) -> bool:
    return all(s in ("ok", "empty") for s in statuses)


def for_plan_year(
    layers: Layers, rules: Rules, progress: Progress | None = None
) -> tuple[Layers, Rules]:
    """The layers and rules the stages run on: the data's, or ``plan_year``'s projection."""
    year = rules.projection.plan_year
    if not year:
        return layers, rules
    layers, standards = layers_for_year(layers, rules, year, progress=progress)
    return layers, dataclasses.replace(rules, standards=standards)


def stage_schedule(result: PlanResult, layers: Layers, rules: Rules) -> ScheduleResult | None:
    """The phased schedule of ``result`` when the rules ask for one; ``layers`` and ``rules`` are
    the data's (base year), not a plan year's projection."""
    if not rules.projection.with_schedule:
        return None
    p = rules.projection
    projection = run_projection(layers.units, layers.schools, p, rules.standards)
    return phased_schedule(result, projection, rules)


def run_plan(
    layers: Layers,
    rules: Rules,
    *,
    choices: GroupChoices | None = None,
    progress: Progress | None = None,
    meta: dict[str, Any] | None = None,
    baseline: Baseline | None = None,
) -> PlanResult:
    """Run every engine on ``layers`` (a ``geo.layers.Layers``) with ``rules``. ``baseline``
    (per level, unit_id -> school_id: a base plan's zones, ``planning.catchments.zoning_of``)
    makes the catchments a re-zoning of it; without it the units' ``current_school_<level>``
    columns are the baseline when the data has them."""
    progress = ensure(progress)
    data_layers, data_rules = layers, rules
    layers, rules = for_plan_year(layers, rules)
    t = time.perf_counter()
    progress.update(0.0, "距离模型 / distance model")
    costs = cost_model(layers.roads, rules.distance)
    timings = {"distance_model": round(time.perf_counter() - t, 4)}
    st = PlanState(layers, rules, costs, choices, layers.schools, baseline=baseline)
    _run_stages(st, STAGES, progress, timings)
    info = {"created": datetime.now().isoformat(timespec="seconds"), "crs": layers.crs.to_string()}
    info.update(meta or {})
    result = PlanResult(
        schools=st.schools,
        boundary=layers.boundary,
        summary=_summary({}, st, timings),
        rules=rules,
        meta=info,
        status="ok" if _all_fine(st.statuses) else "partial",
        **st.made,
        roads=layers.roads,
        townships=township_areas(data_layers.townships, data_layers.units, layers.boundary),
    )
    result.schedule = stage_schedule(result, data_layers, data_rules)
    return with_figures(result)


def _carry(schools: gpd.GeoDataFrame, prev: gpd.GeoDataFrame, col: str, default: Any) -> list[Any]:
    """``prev[col]`` looked up by (school_id, level) for each row of ``schools``."""
    if col not in prev:
        return [default] * len(schools)
    table = {(str(a), str(b)): v for a, b, v in zip(prev["school_id"], prev["level"], prev[col])}
    return [
        table.get((str(a), str(b)), default) for a, b in zip(schools["school_id"], schools["level"])
    ]


def current_schools(layers: Layers, result: PlanResult | None) -> gpd.GeoDataFrame:
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
    layers: Layers,
    rules: Rules,
    result: PlanResult,
    stages: Iterable[str],
    *,
    choices: GroupChoices | None = None,
    progress: Progress | None = None,
    baseline: Baseline | None = None,
) -> PlanResult:
    """A copy of ``result`` with ``stages`` (a subset of groups, catchments) computed again
    (``baseline`` as for ``run_plan``).

    New-school planning is not re-run here (it is the slow, global stage): the last new schools
    are kept. With no previous result the caller runs the whole plan instead. The status stays
    the last plan's unless a stage run again falls short ("partial").
    """
    progress = ensure(progress)
    data_layers, data_rules = layers, rules
    layers, rules = for_plan_year(layers, rules)
    schools = current_schools(layers, result)
    for col, default in GROUP_DEFAULTS.items():
        schools[col] = _carry(schools, result.schools, col, default)
    costs = rerun_cost_model(layers, rules)
    st = PlanState(layers, rules, costs, choices, schools, baseline=baseline)
    timings = dict(result.summary.get("timings_s", {}))
    # The schools are rebuilt from the layers above: the present is always run again on them.
    _run_stages(st, (set(stages) - {"new_schools"}) | {"current"}, progress, timings)
    again = dataclasses.replace(
        result,
        schools=st.schools,
        summary=_summary(result.summary, st, timings),
        rules=rules,
        status=result.status if _all_fine(st.statuses) else "partial",
        roads=layers.roads,
        townships=(
            result.townships
            if result.townships is not None
            else township_areas(data_layers.townships, data_layers.units, layers.boundary)
        ),
        **st.made,
    )
    again.schedule = stage_schedule(again, data_layers, data_rules)
    return with_figures(again)


def preview_result(layers: Layers, rules: Rules, meta: dict[str, Any] | None = None) -> PlanResult:
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
        roads=layers.roads,
        townships=township_areas(layers.townships, layers.units, layers.boundary),
    )
