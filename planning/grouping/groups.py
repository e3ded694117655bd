"""Groups from the solved links: members per core, the pattern and mode codes, the teacher and
funding floors. Numbers and codes only; ``explain`` turns them into frames and words."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from core.vocab import MODE, PATTERN
from planning.grouping.problem import GroupingModel
from planning.grouping.roles import EPS, Roles
from planning.grouping.solver import Solution
from planning.rules import GroupingParams
from planning.ties import tied_cost

PATTERNS: tuple[str, ...] = PATTERN.codes
MODES: tuple[str, ...] = MODE.codes


@dataclass(frozen=True)
class Link:
    """One core–member pair of the plan (work positions), locked by the planner or solved."""

    core: int
    member: int
    km: float
    locked: bool


@dataclass(frozen=True)
class Group:
    group_id: str
    core: int  # work position
    members: tuple[Link, ...]  # nearest first (near-ties by the ids' tie offsets)
    pattern: str
    mode: str
    max_km: float
    teachers_total: float
    exchange: float
    backbone: float
    funding: float
    funding_source: str  # the budgets that pay (000 §七(二): the weak school's affiliation)
    core_outflow: float  # the core's own teachers sent out yearly, at least (001 §二(四)2)
    new_backbone: float  # backbone teachers for the new members, one per subject (001 §二(四)2)
    start_year: int
    end_year: int

    @property
    def member_pos(self) -> list[int]:
        return [lk.member for lk in self.members]


def links(model: GroupingModel, sol: Solution) -> list[Link]:
    """Locked pairs first, then the solved ones in arc order; distance of each link in km."""
    out = [
        Link(int(c), int(m), float(d), True)
        for (c, m), d in zip(model.locks, model.lock_km, strict=True)
    ]
    flow = model.flow
    for a in np.flatnonzero(sol.arc_used):
        i, j = int(flow.arc_member[a]), int(flow.arc_core[a])
        out.append(
            Link(int(model.core_pos[j]), int(model.free_pos[i]), float(model.dist[i, j]), False)
        )
    return out


def pattern_of(core: int, members: list[int], roles: Roles, order: list[str]) -> str:
    """The first pattern of ``order`` (the rules' priority) that the group matches."""
    tests: dict[str, Callable[[], bool]] = {
        "core_relocation": lambda: any(roles.relocation[m] for m in members),
        "core_new": lambda: any(roles.planned[m] for m in members),
        "urban_township_central": lambda: (
            roles.urban[core] and any(roles.central[m] for m in members)
        ),
        "township_central_rural": lambda: (
            roles.central[core] and any(roles.ruralish[m] and not roles.central[m] for m in members)
        ),
        "core_weak": lambda: any(roles.weak[m] for m in members),
        "core_rural": lambda: any(roles.ruralish[m] for m in members),
    }
    for name in order:
        if name in tests and tests[name]():
            return name
    return "other"


def mode_of(
    pattern: str, members: list[int], max_km: float, roles: Roles, p: GroupingParams
) -> str:
    """The suggested running mode: private members and central–rural groups follow the rules,
    a tight group with weak or new members is entrusted, a wide one cooperative."""
    if any(roles.private[m] for m in members):
        return p.mode_private
    if pattern == "township_central_rural":
        return p.mode_central_rural
    if max_km <= p.tight_max_km + EPS and any(roles.weak[m] or roles.planned[m] for m in members):
        return "entrusted"
    if max_km >= p.cooperative_min_km - EPS:
        return "cooperative"
    return "alliance"


def _ceil_pct(total: float, pct: float) -> float:
    if not np.isfinite(total):
        return float("nan")
    return float(math.ceil(total * pct / 100.0 - 1e-9))


# The budget a school's funding comes from when the data names no affiliation (000 §七(二):
# 薄弱学校为县区学校的由县区财政保障).
COUNTY_BUDGET = "县级"


def _affiliation(model: GroupingModel, k: int) -> str:
    """The budget that pays for school ``k``: its affiliation (隶属) when the data has one."""
    if "affiliation" not in model.frame:
        return COUNTY_BUDGET
    v = model.frame["affiliation"].iat[k]
    text = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()
    return text or COUNTY_BUDGET


def _funding(
    mpos: list[int], mode: str, model: GroupingModel, params: GroupingParams
) -> tuple[float, str]:
    """000 §七(二): ≥ 300,000 yuan per weak school a group leads (only entrusted ones when the
    rules say so), ≥ 100,000 per township school; paid from the budget the school belongs to."""
    roles = model.roles
    funding, budgets = 0.0, []
    weak_ok = params.funding_weak_any_mode or mode == "entrusted"
    for m in mpos:
        if weak_ok and roles.weak[m]:
            funding += params.funding_entrusted_weak_yuan
        elif roles.ruralish[m]:
            funding += params.funding_township_yuan
        else:
            continue
        budgets.append(_affiliation(model, m))
    return funding, "、".join(dict.fromkeys(budgets))


def _teachers(core: int, mpos: list[int], model: GroupingModel) -> float:
    """Teachers of the group today: a school still to be built has none yet (its teachers come
    from the core); an existing school with no figure leaves the total unknown (NaN)."""
    both = model.teachers[[core, *mpos]].copy()
    planned = model.roles.planned[[core, *mpos]]
    both[planned & ~np.isfinite(both)] = 0.0
    return float(both.sum()) if np.isfinite(both).all() else float("nan")


def _group(
    gid: str, core: int, mem: list[Link], model: GroupingModel, params: GroupingParams
) -> Group:
    roles = model.roles
    mpos = [lk.member for lk in mem]
    max_km = max(lk.km for lk in mem)
    pattern = pattern_of(core, mpos, roles, model.pattern_order)
    mode = mode_of(pattern, mpos, max_km, roles, params)
    total_t = _teachers(core, mpos, model)
    exchange = _ceil_pct(total_t, params.teacher_exchange_pct)
    funding, source = _funding(mpos, mode, model, params)
    start = params.start_year or date.today().year
    return Group(
        group_id=gid,
        core=core,
        members=tuple(mem),
        pattern=pattern,
        mode=mode,
        max_km=max_km,
        teachers_total=total_t,
        exchange=exchange,
        backbone=_ceil_pct(exchange, params.backbone_share_pct),
        funding=funding,
        funding_source=source,
        core_outflow=_ceil_pct(float(model.teachers[core]), params.core_outflow_pct),
        new_backbone=float(params.new_school_subjects * sum(roles.planned[m] for m in mpos)),
        start_year=int(start),
        end_year=int(start + params.cycle_years),
    )


def form_groups(model: GroupingModel, plan: list[Link], params: GroupingParams) -> list[Group]:
    """One group per core with a link, in (level, school_id) order, ids G001, G002, …"""
    by_core: dict[int, list[Link]] = {}
    for lk in plan:
        by_core.setdefault(lk.core, []).append(lk)
    sid, rank = model.sid, model.level_rank
    cores = sorted(by_core, key=lambda c: (rank[c], sid[c]))
    width = max(3, len(str(len(cores))))
    out = []
    keys = model.keys
    for g, c in enumerate(cores, start=1):
        # nearest first, near-ties by the ids' tie offsets (not by centimetres), then by id
        links_c = by_core[c]
        km = np.array([lk.km for lk in links_c], float)
        km = np.nan_to_num(km, nan=1e9, posinf=1e9)  # a locked pair out of reach: last
        near = tied_cost(km, keys[[lk.member for lk in links_c]], keys[c]).tolist()
        pairs = sorted(
            zip(near, links_c), key=lambda t: (t[0], rank[t[1].member], sid[t[1].member])
        )
        mem = [lk for _, lk in pairs]
        out.append(_group(f"G{g:0{width}d}", c, mem, model, params))
    return out
