"""Explain: the solver's codes and numbers turned into words (core.vocab) and result frames.

Every text of a new school (``rule``, ``rule_en``), of the requirements table (``threshold``,
``note``) and of the layout status (``layout_reason``) is a vocabulary label filled with the
numbers that fired it.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from core.vocab import (
    LAYOUT_REASON,
    LEVEL,
    NEW_SCHOOL_NOTE,
    NEW_SCHOOL_REASON,
    NEW_SCHOOL_RULE,
    NEW_SCHOOL_SITE,
)
from planning.newschools.problem import (
    AreaOutcome,
    LevelProblem,
    NewSchoolProblem,
    NewSite,
    Solution,
)
from planning.newschools.result import NEW_COLUMNS, NewSchoolResult, NewSchoolSummary
from planning.newschools.thresholds import Requirement
from planning.rules import LEVELS, NewSchoolParams, Standards

_ID_LETTER = {"primary": "P", "junior": "J", "senior": "S"}
_ZH_NUM = "一二三四五六七八九十"
_LAYOUT_COUNTED = ("permanent", "transitional", "to_merge")


# ----------------------------------------------------------------------------- words


def threshold_text(req: Requirement, params: NewSchoolParams, lang: str = "zh") -> str:
    """The threshold that fired (or not) for ``req``, with its numbers."""
    fields = dict(
        pop=req.population,
        children=req.children,
        min_pop=(
            params.primary_min_population
            if req.level == "primary"
            else params.junior_min_population
        ),
        max_pop=params.primary_single_max_population,
        max_students=params.senior_max_students,
        per=req.per,
        lo=req.min_classes,
        hi=req.max_classes,
        n=req.by_population,
        need=req.need,
        schools=req.schools,
        over=req.children - req.max_classes * req.class_size,
    )
    text = NEW_SCHOOL_RULE.label(req.reason, lang, **fields)
    return text + NEW_SCHOOL_RULE.label(req.adjust, lang, **fields) if req.adjust else text


def note_text(area: AreaOutcome, params: NewSchoolParams, lang: str = "zh") -> str:
    """Why an area with a gap got no new school ("" when it got some or has no gap)."""
    if not area.note:
        return ""
    return NEW_SCHOOL_NOTE.label(
        area.note,
        lang,
        gap=area.gap,
        min_classes=area.req.min_classes,
        share=params.min_fill_share,
    )


def site_text(new: NewSite, candidate_names: np.ndarray, lang: str = "zh") -> str:
    name = candidate_names[new.site.candidate] if new.site.candidate >= 0 else ""
    return NEW_SCHOOL_SITE.label(new.site.how, lang, name=name)


def rule_text(
    new: NewSite,
    area: AreaOutcome,
    lp: LevelProblem,
    candidate_names: np.ndarray,
    params: NewSchoolParams,
    lang: str = "zh",
) -> str:
    """A new school's rule text: threshold, supply, places of new schools nearby, the school."""
    text = NEW_SCHOOL_REASON.label(
        "supply",
        lang,
        level=LEVEL.label(lp.level, lang),
        area=lp.area_names[area.area],
        threshold=threshold_text(area.req, params, lang),
        children=area.children,
        service=lp.service_km,
        supplied=area.supplied,
    )
    if area.absorbed > 0:
        text += NEW_SCHOOL_REASON.label("absorbed", lang, absorbed=area.absorbed)
    return text + NEW_SCHOOL_REASON.label(
        "build",
        lang,
        gap=area.gap,
        n=len(area.sizes),
        classes=new.classes,
        capacity=new.capacity,
        site=site_text(new, candidate_names, lang),
    )


def school_name(place: str, level: str, nth: int) -> str:
    """``place``新建小学(规划), then 新建第二小学(规划) ... for further ones."""
    lz = LEVEL.label(level, "zh")
    if nth <= 1:
        return f"{place}新建{lz}(规划)"
    num = _ZH_NUM[nth - 1] if nth <= len(_ZH_NUM) else str(nth)
    return f"{place}新建第{num}{lz}(规划)"


def layout_reason(code: str, lang: str, level: str, fields: dict[str, object]) -> str:
    """Why an existing school has its layout status (``level`` a level code)."""
    return LAYOUT_REASON.label(code, lang, level=LEVEL.label(level, lang), **fields)


def location_for(kind: str, near_location: str | None) -> str:
    """A new school's location: its nearest existing school's, else from its unit's kind."""
    if near_location:
        return near_location
    return {"community": "urban", "new_community": "urban", "relocation_site": "town"}.get(
        kind, "rural"
    )


# ----------------------------------------------------------------------------- frames


def empty_new_frame(crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            c: pd.Series(dtype="int64" if c in ("classes", "capacity") else object)
            for c in NEW_COLUMNS
        },
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


def _new_rows(
    problem: NewSchoolProblem, solution: Solution, params: NewSchoolParams
) -> list[dict[str, Any]]:
    units, by_level = problem.units, {lp.level: lp for lp in problem.levels}
    cand_names = problem.candidates.names
    counters: dict[tuple[str, str], int] = {}
    rows = []
    for new in solution.sites:
        area = solution.areas[new.area]
        lp, near = by_level[area.level], new.unit
        place = lp.area_names[area.area]
        if lp.mode == "county":
            place = units.towns[near] or units.names[near]
        counters[(place, lp.level)] = counters.get((place, lp.level), 0) + 1
        rows.append(
            {
                "name": school_name(place, lp.level, counters[(place, lp.level)]),
                "level": lp.level,
                "classes": new.classes,
                "capacity": new.capacity,
                "unit_id": units.ids[near],
                "site": new.site.how,
                "rule": rule_text(new, area, lp, cand_names, params, "zh"),
                "rule_en": rule_text(new, area, lp, cand_names, params, "en"),
                "x": new.site.x,
                "y": new.site.y,
            }
        )
    return rows


def new_frame(
    problem: NewSchoolProblem, solution: Solution, params: NewSchoolParams, crs: Any
) -> gpd.GeoDataFrame:
    """The new schools: NEW_COLUMNS + Point geometry, ids NEW-P-001 ... per level."""
    rows = _new_rows(problem, solution, params)
    if not rows:
        return empty_new_frame(crs)
    df = pd.DataFrame(rows)
    df["_lv"] = df["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    df = df.sort_values("_lv", kind="stable").reset_index(drop=True)
    df["school_id"] = [
        f"NEW-{_ID_LETTER[lv]}-{i:03d}"
        for lv, i in zip(df["level"], df.groupby("level").cumcount() + 1)
    ]
    geom = gpd.points_from_xy(df["x"], df["y"], crs=crs)
    return gpd.GeoDataFrame(df[NEW_COLUMNS].copy(), geometry=geom, crs=crs)


def requirements_frame(
    problem: NewSchoolProblem, solution: Solution, params: NewSchoolParams
) -> pd.DataFrame:
    """One row per planning area and level with a requirement or a gap."""
    names = {lp.level: lp.area_names for lp in problem.levels}
    return pd.DataFrame(
        [
            {
                "area": a.area,
                "area_name": names[a.level][a.area],
                "level": a.level,
                "population": a.population,
                "children": a.children,
                "supplied": a.supplied,
                "absorbed_new": a.absorbed,
                "gap": a.gap,
                "rule": a.req.rule,
                "schools_required": a.req.schools,
                "classes_required": a.req.classes,
                "new_schools": len(a.sizes),
                "new_classes": int(sum(a.sizes)),
                "threshold": threshold_text(a.req, params, "zh"),
                "threshold_en": threshold_text(a.req, params, "en"),
                "note": note_text(a, params, "zh"),
                "note_en": note_text(a, params, "en"),
            }
            for a in solution.areas
        ]
    )


def context_frame(
    problem: NewSchoolProblem, solution: Solution, new: gpd.GeoDataFrame, near_school: np.ndarray
) -> pd.DataFrame:
    """Location (urban/town/rural) and school type of each new school, from its surroundings;
    ``near_school`` the position of the nearest school within reach (-1: none)."""
    if len(new) == 0:
        return pd.DataFrame(columns=["location", "school_type", "rule_key"])
    loc = problem.schools_location
    kinds = [problem.units.kinds[s.unit] for s in solution.sites]
    near = [loc[j] if loc is not None and j >= 0 else None for j in near_school]
    return pd.DataFrame(
        {
            "location": [location_for(k, n) for k, n in zip(kinds, near)],
            "school_type": [
                "relocation_site" if k == "relocation_site" else "regular" for k in kinds
            ],
            "rule_key": [solution.areas[s.area].req.rule for s in solution.sites],
        },
        index=new.index,
    )


def summary(solution: Solution, layout: pd.DataFrame, params: NewSchoolParams) -> NewSchoolSummary:
    levels = [solution.areas[s.area].level for s in solution.sites]
    by_rule: dict[str, int] = {}
    for s in solution.sites:
        rule = solution.areas[s.area].req.rule
        by_rule[rule] = by_rule.get(rule, 0) + 1
    counts = layout["layout_status"].value_counts() if len(layout) else pd.Series(dtype=int)
    return NewSchoolSummary(
        primary=levels.count("primary"),
        junior=levels.count("junior"),
        senior=levels.count("senior"),
        classes_total=int(sum(s.classes for s in solution.sites)),
        capacity_total=int(sum(s.capacity for s in solution.sites)),
        by_rule=dict(sorted(by_rule.items())),
        solve_seconds=round(float(solution.seconds), 4),
        planning_unit=params.planning_unit,
        areas_gap_below_min=int(solution.below_min),
        unserved_after=dict(solution.unserved_after),
        layout={s: int(counts.get(s, 0)) for s in _LAYOUT_COUNTED},
    )


def as_school_rows(result: NewSchoolResult, standards: Standards) -> gpd.GeoDataFrame:
    """The new schools in the canonical schools schema (status planned, quality ordinary)."""
    new = result.new_schools
    ctx = result.context
    n = len(new)
    loc = ctx["location"].tolist() if len(ctx) == n and n else ["urban"] * n
    typ = ctx["school_type"].tolist() if len(ctx) == n and n else ["regular"] * n
    df = pd.DataFrame(
        {
            "school_id": new["school_id"].astype(str).tolist(),
            "name": new["name"].astype(str).tolist(),
            "level": new["level"].astype(str).tolist(),
            "classes": new["classes"].astype("int64").tolist(),
            "students": [0] * n,
            "capacity": [
                int(c) if pd.notna(c) else int(k) * standards.class_size(lv)
                for c, k, lv in zip(new["capacity"], new["classes"], new["level"])
            ],
            "teachers": [np.nan] * n,
            "quality": ["ordinary"] * n,
            "location": loc,
            "status": ["planned"] * n,
            "ownership": ["public"] * n,
            "school_type": typ,
            "combined": [""] * n,
            "src_row": [0] * n,
        }
    )
    for col in ("classes", "students", "capacity", "src_row"):
        df[col] = df[col].astype("int64")
    df["teachers"] = df["teachers"].astype(float)
    return gpd.GeoDataFrame(df, geometry=list(new.geometry), crs=new.crs)


__all__ = [
    "threshold_text",
    "note_text",
    "site_text",
    "rule_text",
    "school_name",
    "layout_reason",
    "location_for",
    "empty_new_frame",
    "new_frame",
    "requirements_frame",
    "context_frame",
    "summary",
    "as_school_rows",
]
