"""Explain: groups and reason codes → the result frames and their words (through core.vocab).

``groups_frames`` gives the groups layer (one line string per core–member link), the pairs and
the per-group details; ``school_frame`` the group columns of every school with its reason in
Chinese and English; ``pairing_table`` / ``pairing_table_from_layers`` the seed 003 附件1 form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiLineString

from core.vocab import (
    GROUP_REASON,
    MODE,
    PAIRING_FORM,
    PAIRING_LEVEL,
    PAIRING_MARK,
    PATTERN,
    QUALITY,
)
from planning.grouping.groups import Group
from planning.grouping.problem import GroupingModel
from planning.grouping.reasons import Placement, Reason
from planning.grouping.summary import GroupingSummary
from planning.rules import GroupingParams

GROUP_COLUMNS = [
    "group_id",
    "core_id",
    "member_ids",
    "level",
    "pattern",
    "mode",
    "n_members",
    "max_distance_km",
    "teacher_exchange_min",
    "teacher_backbone_min",
    "funding_min_yuan",
    "funding_source",
    "core_outflow_min",
    "new_school_backbone_min",
    "start_year",
    "end_year",
]
SCHOOL_GROUP_COLUMNS = [
    "group_id",
    "group_role",
    "group_reason",
    "group_reason_en",
    "group_reason_code",
]
PAIR_COLUMNS = [
    "group_id",
    "core_id",
    "core_level",
    "member_id",
    "member_level",
    "distance_km",
    "locked",
    "core_index",
    "member_index",
]
DETAIL_COLUMNS = [
    "group_id",
    "teachers_total",
    "teacher_backbone_min",
    "total_distance_km",
    "n_private",
    "n_locked",
    "cross_level",
]
PAIRING_COLUMNS = [
    "集团编号",
    "学段",
    "共建形式",
    "牵头学校",
    "成员学校",
    "成员校数",
    "最远距离(km)",
    "年度交流教师不少于(人)",
    "其中骨干教师不少于(人)",
    "年度经费不少于(元)",
]
# Seed 003 附件1 as the bureau files it: 共建形式 (merged over its rows) | 牵头学校 | 共建学校, and
# the cycle; group and level identify the row.
ANNEX_COLUMNS = ["共建形式", "牵头学校", "共建学校", "共建周期", "集团编号", "学段"]
_MARKED = re.compile(r"[(（]\s*(待建|规划|新建|拟建|planned|to be built)\s*[)）]\s*$", re.I)
_FLOAT_COLUMNS = (
    "max_distance_km",
    "teacher_exchange_min",
    "teacher_backbone_min",
    "funding_min_yuan",
    "core_outflow_min",
    "new_school_backbone_min",
)


# --------------------------------------------------------------------------- result frames
@dataclass
class GroupingResult:
    groups: gpd.GeoDataFrame
    school_groups: pd.DataFrame  # indexed like the input schools
    summary: GroupingSummary
    status: str  # ok | empty
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per core–member link
    details: pd.DataFrame = field(default_factory=pd.DataFrame)  # per group_id: extra figures


def _group_row(g: Group, model: GroupingModel) -> dict[str, object]:
    sid = model.sid
    return {
        "group_id": g.group_id,
        "core_id": sid[g.core],
        "member_ids": ",".join(sid[m] for m in g.member_pos),
        "level": model.frame["level"].iat[g.core],
        "pattern": g.pattern,
        "mode": g.mode,
        "n_members": len(g.members),
        "max_distance_km": round(g.max_km, 3),
        "teacher_exchange_min": g.exchange,
        # Also in ``details``; kept on the layer so a saved plan can rebuild the 附件1 form.
        "teacher_backbone_min": g.backbone,
        "funding_min_yuan": g.funding,
        "funding_source": g.funding_source,
        "core_outflow_min": g.core_outflow,
        "new_school_backbone_min": g.new_backbone,
        "start_year": g.start_year,
        "end_year": g.end_year,
    }


def _detail_row(g: Group, model: GroupingModel) -> dict[str, object]:
    rank = model.level_rank
    return {
        "group_id": g.group_id,
        "teachers_total": g.teachers_total,
        "teacher_backbone_min": g.backbone,
        "total_distance_km": float(sum(lk.km for lk in g.members)),
        "n_private": int(sum(model.roles.private[m] for m in g.member_pos)),
        "n_locked": int(sum(lk.locked for lk in g.members)),
        "cross_level": any(rank[m] != rank[g.core] for m in g.member_pos),
    }


def _pair_rows(g: Group, model: GroupingModel) -> list[dict[str, object]]:
    sid, lvl, index = model.sid, model.frame["level"].to_numpy(), model.index
    c = g.core
    return [
        {
            "group_id": g.group_id,
            "core_id": sid[c],
            "core_level": lvl[c],
            "member_id": sid[lk.member],
            "member_level": lvl[lk.member],
            "distance_km": lk.km,
            "locked": lk.locked,
            "core_index": index[c],
            "member_index": index[lk.member],
        }
        for lk in g.members
    ]


def groups_frames(
    model: GroupingModel, groups: list[Group]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """(groups layer, pairs, details indexed by group_id)."""
    crs, xy = model.crs, model.xy
    geoms = [
        MultiLineString([[tuple(xy[g.core]), tuple(xy[m])] for m in g.member_pos]) for g in groups
    ]
    frame = gpd.GeoDataFrame(
        pd.DataFrame([_group_row(g, model) for g in groups], columns=GROUP_COLUMNS),
        geometry=gpd.GeoSeries(geoms, crs=crs),
        crs=crs,
    )
    frame["n_members"] = frame["n_members"].astype(np.int64)
    for col in _FLOAT_COLUMNS:
        frame[col] = frame[col].astype(float)
    pairs = pd.DataFrame([r for g in groups for r in _pair_rows(g, model)], columns=PAIR_COLUMNS)
    details = pd.DataFrame(
        [_detail_row(g, model) for g in groups], columns=DETAIL_COLUMNS
    ).set_index("group_id")
    return frame, pairs, details


def reason_text(reason: Reason, lang: str) -> str:
    """The reason in ``lang``: codes among its fields (pattern, mode, quality) named first."""
    fields = dict(reason.fields)
    if "pattern" in fields:
        fields["pattern"] = PATTERN.label(fields["pattern"], lang)
    if "mode" in fields:
        fields["mode"] = MODE.label(fields["mode"], lang)
    if "quality" in fields:
        fields["quality_zh"] = QUALITY.labels("zh").get(str(fields["quality"]), "")
    return GROUP_REASON.label(reason.wording, lang, **fields)


def school_frame(model: GroupingModel, placed: Placement, reasons: list[Reason]) -> pd.DataFrame:
    """The group columns of every school, in work order (index 0..n-1)."""
    n = model.n
    return pd.DataFrame(
        {
            "group_id": [placed.group.get(k, "") for k in range(n)],
            "group_role": [placed.role.get(k, "none") for k in range(n)],
            "group_reason": [reason_text(r, "zh") for r in reasons],
            "group_reason_en": [reason_text(r, "en") for r in reasons],
            "group_reason_code": [r.code for r in reasons],
        },
    )


# --------------------------------------------------------------------------- the 附件1 form
def planned_name(name: str, lang: str = "zh") -> str:
    """A planned school's name marked one way: "(待建)". New schools are often named "…(规划)"
    already; that mark is replaced, not doubled."""
    return _MARKED.sub("", name).rstrip() + PAIRING_MARK.label("planned", lang)


def _int_or_none(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


class _Namer:
    """A school's name in the form: planned ones marked once, a cross-level member's level added."""

    def __init__(self, schools: pd.DataFrame, lang: str) -> None:
        self.en = lang == "en"
        self.levels = PAIRING_LEVEL.labels(lang)
        self.mark = PAIRING_MARK.label("planned", lang)
        self.names = {
            (str(s), str(lv)): (str(nm), str(st))
            for s, lv, nm, st in zip(
                schools["school_id"], schools["level"], schools["name"], schools["status"]
            )
        }

    def level(self, lv: str) -> str:
        return self.levels.get(lv, lv)

    def __call__(self, sid: str, lv: str, group_level: str) -> str:
        nm, st = self.names.get((sid, lv), (sid, ""))
        if st == "planned":
            nm = planned_name(nm, self.en and "en" or "zh")
        if lv != group_level:
            nm += f" ({self.level(lv)})" if self.en else f"({self.level(lv)})"
        return nm


def _pairing_rows(
    groups: pd.DataFrame,
    schools: pd.DataFrame,
    member_level: dict[tuple[str, str], str],
    backbone: dict[Any, Any],
    lang: str,
) -> pd.DataFrame:
    """One row per group in ``groups`` order; ``member_level`` maps (group_id, member_id) to the
    member's level (a cross-level member is named with its level), ``backbone`` group_id → quota."""
    if groups is None or len(groups) == 0:
        return pd.DataFrame(columns=PAIRING_COLUMNS)
    en = lang == "en"
    patterns, modes = PATTERN.labels(lang), MODE.labels(lang)
    label = _Namer(schools, lang)
    rows = []
    g: Any
    for g in groups.itertuples(index=False):
        gid, glv = str(g.group_id), str(g.level)
        ids = [m.strip() for m in str(g.member_ids).split(",") if m.strip()]
        members = (", " if en else "、").join(
            label(m, member_level.get((gid, m), glv), glv) for m in ids
        )
        pattern, mode = str(g.pattern), str(g.mode)
        form = f"{patterns.get(pattern, pattern)}"
        form += f" ({modes.get(mode, mode)})" if en else f"({modes.get(mode, mode)})"
        rows.append(
            [
                gid,
                label.level(glv),
                form,
                label(str(g.core_id), glv, glv),
                members,
                int(g.n_members),
                round(float(g.max_distance_km), 1),
                _int_or_none(g.teacher_exchange_min),
                _int_or_none(backbone.get(gid)),
                float(g.funding_min_yuan),
            ]
        )
    return pd.DataFrame(rows, columns=PAIRING_COLUMNS)


def pairing_table(result: GroupingResult, schools: pd.DataFrame) -> pd.DataFrame:
    """The pairing arrangement table (seed 003 附件1: 共建形式 | 牵头学校 | 成员学校), one row per
    group, with the quota and funding columns; headers in Chinese for tables.xlsx sheet ``groups``."""
    if result.groups is None or len(result.groups) == 0:
        return pd.DataFrame(columns=PAIRING_COLUMNS)
    pairs = result.pairs
    member_level = {
        (str(g), str(m)): str(lv)
        for g, m, lv in zip(pairs["group_id"], pairs["member_id"], pairs["member_level"])
    }
    backbone = result.details["teacher_backbone_min"].to_dict() if len(result.details) else {}
    return _pairing_rows(result.groups, schools, member_level, backbone, "zh")


def pairing_table_from_layers(
    groups: pd.DataFrame, schools: pd.DataFrame, *, lang: str = "zh"
) -> pd.DataFrame:
    """``pairing_table`` from a plan's layers alone (``PlanResult`` or a re-read plan.gpkg).

    ``groups``: the groups layer (``GROUP_COLUMNS``; a plan written before
    ``teacher_backbone_min`` existed gives an empty quota). ``schools``: the plan's schools layer
    (school_id, level, name, status; group_id and group_role, when present, give the level of a
    cross-level member). Column names are the form's Chinese headers whatever ``lang``; the cell
    texts (pattern, mode, level, the planned-school mark) follow ``lang``.
    """
    if groups is None or len(groups) == 0:
        return pd.DataFrame(columns=PAIRING_COLUMNS)
    member_level: dict[tuple[str, str], str] = {}
    if {"group_id", "group_role"} <= set(schools.columns):
        is_member = (schools["group_role"].astype(str) == "member").to_numpy()
        for g, m, lv in zip(
            schools["group_id"].to_numpy()[is_member],
            schools["school_id"].to_numpy()[is_member],
            schools["level"].to_numpy()[is_member],
        ):
            member_level[(str(g), str(m))] = str(lv)
    if "teacher_backbone_min" in groups.columns:
        backbone = dict(
            zip(groups["group_id"].astype(str), pd.to_numeric(groups["teacher_backbone_min"]))
        )
    else:
        backbone = {}
    return _pairing_rows(groups, schools, member_level, backbone, lang)


# --------------------------------------------------------------------------- 附件1 as filed
def pairing_form(pattern: str, mode: str, params: GroupingParams) -> str:
    """A group's 共建形式 code (core.vocab.PAIRING_FORM): entrusted groups take the entrusted
    choice when one is set, any other group its pattern's (rules.groups.pairing_form_<pattern>)."""
    if mode == "entrusted" and params.pairing_form_entrusted:
        return params.pairing_form_entrusted
    return str(getattr(params, f"pairing_form_{pattern}", params.pairing_form_other))


def pairing_annex(
    groups: pd.DataFrame,
    schools: pd.DataFrame,
    params: GroupingParams,
    *,
    start_year: int,
    lang: str = "zh",
) -> pd.DataFrame:
    """Seed 003 附件1 (结对共建安排表): one row per group (its lead and its 共建学校), ordered by
    共建形式 (the vocabulary's order, so equal forms are adjacent for the merged cells), then
    level and group; a school that leads one group and joins another appears in both rows."""
    if groups is None or len(groups) == 0:
        return pd.DataFrame(columns=ANNEX_COLUMNS)
    label = _Namer(schools, lang)
    forms = PAIRING_FORM.codes
    levels = PAIRING_LEVEL.codes
    years = params.cycle_years
    cycle = (
        f"{years} years ({start_year}–{start_year + years})"
        if lang == "en"
        else f"{years}年({start_year}—{start_year + years})"
    )
    rows = []
    g: Any
    for g in groups.itertuples(index=False):
        glv = str(g.level)
        ids = [m.strip() for m in str(g.member_ids).split(",") if m.strip()]
        form = pairing_form(str(g.pattern), str(g.mode), params)
        member_lv = _member_levels(schools, str(g.group_id))
        rows.append(
            (
                forms.index(form) if form in forms else len(forms),
                levels.index(glv) if glv in levels else len(levels),
                str(g.group_id),
                PAIRING_FORM.label(form, lang),
                label(str(g.core_id), glv, glv),
                (", " if lang == "en" else "、").join(
                    label(m, member_lv.get(m, glv), glv) for m in ids
                ),
                cycle,
                label.level(glv),
            )
        )
    rows.sort(key=lambda r: r[:3])
    return pd.DataFrame([[r[3], r[4], r[5], r[6], r[2], r[7]] for r in rows], columns=ANNEX_COLUMNS)


def _member_levels(schools: pd.DataFrame, group_id: str) -> dict[str, str]:
    """member_id → its level, for the members of ``group_id`` in ``schools``."""
    if not {"group_id", "group_role"} <= set(schools.columns):
        return {}
    mine = (schools["group_role"].astype(str) == "member") & (
        schools["group_id"].astype(str) == group_id
    )
    sub = schools[mine]
    return {str(m): str(lv) for m, lv in zip(sub["school_id"], sub["level"])}
