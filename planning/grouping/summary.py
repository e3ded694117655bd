"""The grouping summary: coverage, places, quotas, and what holds coverage down (summary.json)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from core.vocab import GROUP_NOTE, LEVELS
from planning.grouping.problem import GroupingModel
from planning.grouping.solver import Solution
from planning.rules import GroupingParams


@dataclass(frozen=True)
class GroupingSummary:
    """Figures of one grouping run; ``to_dict`` is the ``groups`` section of summary.json."""

    count: int
    coverage_pct: float  # in_groups ÷ coverage_base, the one definition every output shows
    coverage_basis: str  # GroupingParams.coverage_basis: open | eligible
    coverage_base: int  # open schools of the grouped levels, or the eligible ones
    target_pct: float
    meets_target: bool
    members_unplaced: int
    solve_seconds: float
    total_seconds: float
    method: str
    distance: str
    eligible: int
    in_groups: int
    schools: int
    cores_available: int
    cores_used: int
    members_eligible: int
    members_placed: int
    total_distance_km: float
    teacher_exchange_min: float
    core_outflow_min: float  # the cores' own teachers sent out yearly (001 §二(四)2)
    new_school_backbone_min: float  # backbone teachers for new members (001 §二(四)2)
    funding_min_yuan: float
    patterns: dict[str, int]
    modes: dict[str, int]
    unplaced_reasons: dict[str, int]  # reason code → schools left out for it
    groups_below_min: list[str]
    by_level: dict[str, dict[str, Any]]  # level → groups, eligible, in_groups, coverage_pct
    coverage_bound_pct: float  # coverage with every possible core full
    note_zh: str
    note_en: str
    status: str  # ok | empty

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = (
                {k: dict(x) if isinstance(x, dict) else x for k, x in v.items()}
                if isinstance(v, dict)
                else list(v)
                if isinstance(v, list)
                else v
            )
        return out


@dataclass(frozen=True)
class Frames:
    """The result frames the summary counts: groups layer, details, school groups (work order)."""

    groups: pd.DataFrame
    details: pd.DataFrame
    schools: pd.DataFrame


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def coverage_base(model: GroupingModel, basis: str) -> np.ndarray:
    """The schools coverage is counted over (000 §六 集团化办学覆盖率): every open school of the
    levels that group, i.e. existing schools not marked to merge (the pipeline leaves those out)
    and planned or new ones; with ``basis`` "eligible" only those that may lead or join."""
    eligible: np.ndarray = np.asarray(model.roles.core | model.roles.member, dtype=bool)
    if basis == "eligible":
        return eligible
    lv = model.frame["level"].to_numpy()
    return np.asarray(np.isin(lv, np.unique(lv[eligible])), dtype=bool)


def _by_level(
    model: GroupingModel, groups: pd.DataFrame, in_group: np.ndarray, base: np.ndarray
) -> dict[str, dict[str, Any]]:
    eligible = model.roles.core | model.roles.member
    lv = model.frame["level"].to_numpy()
    out = {}
    for level in LEVELS:
        m = lv == level
        if not m.any():
            continue
        e = int((eligible & m).sum())
        placed = int((in_group & m).sum())
        out[level] = {
            "groups": int((groups["level"] == level).sum()),
            "eligible": e,
            "in_groups": placed,
            "coverage_base": int((base & m).sum()),
            "coverage_pct": _pct(placed, int((base & m).sum())),
        }
    return out


def _note(coverage: float, bound_pct: float, params: GroupingParams) -> str:
    """Whatever the distances, coverage cannot beat every core full: tells the planner whether the
    radius or the number of cores/places is what holds coverage down."""
    if coverage >= params.coverage_target_pct:
        return ""
    if bound_pct < params.coverage_target_pct:
        return "too_few_places"
    return "radius"


def summarize(
    model: GroupingModel, out: Frames, sol: Solution, params: GroupingParams, seconds: float
) -> GroupingSummary:
    roles, groups, details, sg = model.roles, out.groups, out.details, out.schools
    eligible = roles.core | roles.member
    in_group = (sg["group_role"] != "none").to_numpy()
    n_elig = int(eligible.sum())
    members_elig = int(roles.member.sum())
    members_placed = int(((sg["group_role"] == "member").to_numpy()).sum())
    below_min = [
        g for g, nm in zip(groups["group_id"], groups["n_members"]) if nm < params.min_members
    ]
    codes = sg.loc[sg["group_role"] == "none", "group_reason_code"].value_counts()
    base = coverage_base(model, params.coverage_basis)
    n_base = int(base.sum())
    in_base = int((in_group & base).sum())
    coverage = _pct(in_base, n_base)
    n_cores = int(roles.core.sum())
    bound = n_cores + min(members_elig, int(np.sum(model.cap_full)))
    bound_pct = _pct(min(bound, n_elig, n_base), n_base)
    note = _note(coverage, bound_pct, params)
    note_fields = {"n_cores": n_cores, "bound_pct": bound_pct}
    return GroupingSummary(
        count=int(len(groups)),
        coverage_pct=coverage,
        coverage_basis=params.coverage_basis,
        coverage_base=n_base,
        target_pct=float(params.coverage_target_pct),
        meets_target=bool(coverage >= params.coverage_target_pct),
        members_unplaced=members_elig - members_placed,
        solve_seconds=round(sol.seconds, 4),
        total_seconds=round(seconds, 4),
        method=sol.method,
        distance=model.cost_kind,
        eligible=n_elig,
        in_groups=in_base,
        schools=model.n,
        cores_available=n_cores,
        cores_used=int(len(groups)),
        members_eligible=members_elig,
        members_placed=members_placed,
        total_distance_km=round(float(details["total_distance_km"].sum()), 3)
        if len(details)
        else 0.0,
        teacher_exchange_min=float(np.nansum(groups["teacher_exchange_min"]))
        if len(groups)
        else 0.0,
        core_outflow_min=float(np.nansum(groups["core_outflow_min"])) if len(groups) else 0.0,
        new_school_backbone_min=float(groups["new_school_backbone_min"].sum())
        if len(groups)
        else 0.0,
        funding_min_yuan=float(groups["funding_min_yuan"].sum()) if len(groups) else 0.0,
        patterns={str(k): int(v) for k, v in groups["pattern"].value_counts().sort_index().items()},
        modes={str(k): int(v) for k, v in groups["mode"].value_counts().sort_index().items()},
        unplaced_reasons={str(k): int(v) for k, v in codes.sort_index().items()},
        groups_below_min=below_min,
        by_level=_by_level(model, groups, in_group, base),
        coverage_bound_pct=bound_pct,
        note_zh=GROUP_NOTE.label(note, "zh", **note_fields) if note else "",
        note_en=GROUP_NOTE.label(note, "en", **note_fields) if note else "",
        status="ok" if eligible.any() else "empty",
    )
