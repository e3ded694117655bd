"""Why each school is, or is not, in a group: a reason code per school with its numeric fields.

Codes are ``core.vocab.GROUP_REASON``'s; ``term`` is the wording to use (a wording variant for
a code that reads differently in one case), ``fields`` fill the wording's ``str.format`` fields.
Pattern, mode and quality are given as codes; ``explain`` names them in the chosen language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planning.grouping.groups import Group, Link
from planning.grouping.problem import GroupingModel
from planning.grouping.roles import EPS
from planning.grouping.solver import Solution
from planning.rules import GroupingParams


@dataclass(frozen=True)
class Reason:
    code: str
    fields: dict[str, object] = field(default_factory=dict)
    term: str = ""  # the wording, when it is not the code's own

    @property
    def wording(self) -> str:
        return self.term or self.code


@dataclass(frozen=True)
class Placement:
    """Each school's group and role in the plan (work positions)."""

    role: dict[int, str]  # "core" | "member"; absent = none
    group: dict[int, str]
    link: dict[int, Link]  # member → its link
    n_led: dict[int, int]  # core → members
    pattern: dict[int, str]  # core → pattern code
    mode: dict[int, str]  # core → mode code


def placement(groups: list[Group]) -> Placement:
    role: dict[int, str] = {}
    group: dict[int, str] = {}
    link: dict[int, Link] = {}
    for g in groups:
        role[g.core] = "core"
        group[g.core] = g.group_id
        for lk in g.members:
            role[lk.member] = "member"
            group[lk.member] = g.group_id
            link[lk.member] = lk
    return Placement(
        role=role,
        group=group,
        link=link,
        n_led={g.core: len(g.members) for g in groups},
        pattern={g.core: g.pattern for g in groups},
        mode={g.core: g.mode for g in groups},
    )


@dataclass(frozen=True)
class _Left:
    """What the final plan leaves open at each core (solver's core index)."""

    cap_left: np.ndarray
    priv_left: np.ndarray
    has_arc: np.ndarray
    free_row: dict[int, int]


def _left(model: GroupingModel, sol: Solution) -> _Left:
    p = model.flow
    # Members per core in the final plan, against each core's full capacity.
    cap_left = p.core_cap - np.bincount(p.arc_core[sol.arc_used], minlength=p.n_cores)
    priv_used = np.bincount(p.arc_core[sol.arc_used & p.private[p.arc_member]], minlength=p.n_cores)
    has_arc = np.zeros(len(model.core_pos), bool)
    has_arc[p.arc_core] = True
    return _Left(
        cap_left=cap_left,
        priv_left=p.private_cap - priv_used,
        has_arc=has_arc,
        free_row={int(k): i for i, k in enumerate(model.free_pos)},
    )


def _unused_core(k: int, model: GroupingModel, left: _Left, params: GroupingParams) -> Reason:
    j = int(np.searchsorted(model.core_pos, k))
    if not left.has_arc[j]:
        rural = bool(model.roles.core_rural_only[k])
        return Reason(
            "core_no_member_in_reach",
            {"radius_km": params.radius_km},
            "core_no_rural_member_in_reach" if rural else "",
        )
    if model.flow.mins[j] > 1:
        return Reason("core_below_min", {"min_members": params.min_members})
    return Reason("core_members_taken")


def _unplaced_member(
    k: int, model: GroupingModel, sol: Solution, left: _Left, params: GroupingParams
) -> Reason:
    p = model.flow
    r = params.radius_km
    i = left.free_row[k]
    row_reach = np.isfinite(model.dist[i]) & (model.dist[i] <= r + EPS)
    arcs = np.flatnonzero(p.arc_member == i)
    reach_cores = p.arc_core[arcs]
    if not row_reach.any():
        return Reason("no_core_in_reach", {"radius_km": r})
    if len(arcs) == 0 and model.level_in_reach[i]:
        return Reason("central_rural_only", {"radius_km": r})
    if len(arcs) == 0:
        return Reason("level_mismatch", {"radius_km": r})
    if not sol.opened[reach_cores].all() and p.needs_milp:
        return Reason("cores_below_min", {"radius_km": r, "min_members": params.min_members})
    if (
        model.roles.private[k]
        and (left.cap_left[reach_cores] > 0).any()
        and (left.priv_left[reach_cores] <= 0).all()
    ):
        return Reason(
            "private_quota_full",
            {"radius_km": r, "private_max_members": params.private_max_members},
        )
    return Reason("cores_full", {"radius_km": r, "max_members": params.max_members})


def school_reasons(
    model: GroupingModel, sol: Solution, placed: Placement, params: GroupingParams
) -> list[Reason]:
    """One reason per school row, in work order."""
    df = model.frame
    names = df["name"].astype(str).to_numpy()
    quality = df["quality"].astype(str).to_numpy()
    classes = pd.to_numeric(df["classes"], errors="coerce").fillna(0).astype(int).to_numpy()
    roles, sid = model.roles, model.sid
    left = _left(model, sol)
    out: list[Reason] = []
    for k in range(model.n):
        role = placed.role.get(k)
        if role == "core":
            fields = {"n_members": placed.n_led[k], "pattern": placed.pattern[k]}
            out.append(Reason("core", {**fields, "mode": placed.mode[k]}))
        elif role == "member":
            lk = placed.link[k]
            code = "member_locked" if lk.locked else "member"
            fields = {"core_name": names[lk.core], "core_id": sid[lk.core], "distance_km": lk.km}
            out.append(Reason(code, fields))
        elif roles.excluded[k]:
            out.append(Reason("excluded"))
        elif roles.private_blocked[k]:
            out.append(Reason("private_not_allowed"))
        elif roles.core[k]:
            out.append(_unused_core(k, model, left, params))
        elif roles.member[k]:
            out.append(_unplaced_member(k, model, sol, left, params))
        else:
            out.append(Reason("not_eligible", {"quality": quality[k], "classes": classes[k]}))
    return out
