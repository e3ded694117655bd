"""Education groups (教育集团): one quality core school leading member schools, POLICY.md §1.

``run_grouping`` is the geo entry: it checks the schools layer and the planner's choices, decides
who may lead and who may join, builds the core–member distance matrix and hands plain arrays to
``planning.grouping_solver`` (exact: most members placed, then least total distance). It then
names each group's pattern and suggested mode, computes the teacher-exchange and funding floors,
and gives every school a reason in Chinese and English.

Modelling choices (say them to the planner, they are the "rules" the optimum is proven within):
- Every row (school_id, level) is one school here; a combined school's levels group separately.
- Roles are fixed before solving: a school that qualifies to lead is a core candidate and never a
  member; every other school of a member type (weak, rural/township, planned, relocation site) is
  a member candidate. A core candidate that gets no member is simply not a group.
- Locked pairs are the planner's decision: they bypass radius and member type but not levels,
  exclusion, capacity or "a core is never a member".
- ``min_members`` > 1 is solved exactly by MILP (see the solver); a core opened by a locked pair
  keeps its group even below the minimum and the summary says so.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiLineString

from core.errors import InputError, Problem, RulesError, ScenarioError
from core.progress import check_canceled, ensure
from planning.grouping_solver import GroupingProblem, Solution, solve
from planning.rules import LEVEL_ZH, LEVELS, GroupingParams, Standards

PATTERNS: tuple[str, ...] = (
    "core_weak",
    "core_rural",
    "core_new",
    "urban_township_central",
    "township_central_rural",
    "core_relocation",
    "other",
)
PATTERN_ZH = {
    "core_weak": "核心校+薄弱学校",
    "core_rural": "核心校+乡村学校",
    "core_new": "核心校+新建学校",
    "urban_township_central": "城区优质学校+乡镇中心校",
    "township_central_rural": "乡镇中心校+农村学校",
    "core_relocation": "城区优质学校+安置点学校",
    "other": "其他共建",
}
PATTERN_EN = {
    "core_weak": "core + weak school",
    "core_rural": "core + rural school",
    "core_new": "core + new school",
    "urban_township_central": "urban quality + township central",
    "township_central_rural": "township central + rural schools",
    "core_relocation": "urban quality + relocation-site school",
    "other": "other pairing",
}
MODES: tuple[str, ...] = ("entrusted", "alliance", "cooperative", "bundled")
MODE_ZH = {
    "entrusted": "托管型",
    "alliance": "联盟型",
    "cooperative": "协作型",
    "bundled": "捆绑型",
}
MODE_EN = {
    "entrusted": "entrusted (tight)",
    "alliance": "alliance",
    "cooperative": "cooperative",
    "bundled": "bundled",
}
ROLE_ZH = {"core": "核心校", "member": "成员校", "none": "未入集团"}

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
]
SCHOOL_GROUP_COLUMNS = [
    "group_id",
    "group_role",
    "group_reason",
    "group_reason_en",
    "group_reason_code",
]
REQUIRED = (
    "school_id",
    "name",
    "level",
    "classes",
    "teachers",
    "quality",
    "location",
    "status",
    "ownership",
    "school_type",
)
_RANK = {lv: k for k, lv in enumerate(LEVELS)}
_QUALITY_RANK = {"weak": 0, "ordinary": 1, "core": 2}
_EPS = 1e-9


# --------------------------------------------------------------------------- planner's choices
@dataclass(frozen=True)
class GroupChoices:
    """What the planner decided by hand; saved with a scenario (``to_dict``/``from_dict``).

    ``locked_pairs``: (core_id, member_id, level), both schools at that level.
    ``excluded``: (school_id, level); level "" means every level of the school.
    ``forced_cores``: (school_id, level) that may lead whatever their quality or size.
    """

    locked_pairs: tuple[tuple[str, str, str], ...] = ()
    excluded: tuple[tuple[str, str], ...] = ()
    forced_cores: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "locked_pairs", tuple(tuple(str(v) for v in t) for t in self.locked_pairs)
        )
        object.__setattr__(self, "excluded", tuple(tuple(str(v) for v in t) for t in self.excluded))
        object.__setattr__(
            self, "forced_cores", tuple(tuple(str(v) for v in t) for t in self.forced_cores)
        )

    def to_dict(self) -> dict[str, list[list[str]]]:
        return {
            "locked_pairs": [list(t) for t in self.locked_pairs],
            "excluded": [list(t) for t in self.excluded],
            "forced_cores": [list(t) for t in self.forced_cores],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, where: str = "scenario") -> GroupChoices:
        data = data or {}
        if not isinstance(data, dict):
            raise ScenarioError(f"{where}: group choices must be a table")
        unknown = set(data) - {"locked_pairs", "excluded", "forced_cores"}
        if unknown:
            raise ScenarioError(
                f"{where}: unknown group choice keys {sorted(unknown)}",
                fix="use locked_pairs, excluded, forced_cores",
            )
        sizes = {"locked_pairs": 3, "excluded": 2, "forced_cores": 2}
        out = {}
        for key, n in sizes.items():
            items = data.get(key, [])
            if not isinstance(items, (list, tuple)):
                raise ScenarioError(f"{where}: {key} must be a list")
            rows = []
            for item in items:
                if not isinstance(item, (list, tuple)) or len(item) != n:
                    raise ScenarioError(
                        f"{where}: {key} entry {item!r} must have {n} values",
                        fix="core_id, member_id, level" if n == 3 else "school_id, level",
                    )
                rows.append(tuple(str(v) for v in item))
            out[key] = tuple(rows)
        return cls(**out)


# --------------------------------------------------------------------------- result
@dataclass
class GroupingResult:
    groups: gpd.GeoDataFrame
    school_groups: pd.DataFrame  # indexed like the input schools
    summary: dict[str, Any]
    status: str  # ok | empty
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per core–member link
    details: pd.DataFrame = field(default_factory=pd.DataFrame)  # per group_id: extra figures


# --------------------------------------------------------------------------- input checks
def _check_schools(schools: gpd.GeoDataFrame) -> None:
    missing = [c for c in REQUIRED if c not in schools.columns]
    if missing:
        raise InputError(
            "schools layer lacks columns needed for grouping: " + ", ".join(missing),
            fix="load the schools through geo.project.load_project, which fills the canonical columns",
        )
    probs: list[Problem] = []
    # Positions, not labels: the index may repeat in a badly built layer.
    src = schools["src_row"].to_numpy() if "src_row" in schools.columns else None
    sid = schools["school_id"].astype(str).to_numpy()
    lvl = schools["level"].astype(str).to_numpy()

    def row(k: int) -> int | None:
        return int(src[k]) if src is not None and pd.notna(src[k]) else None

    for k in np.flatnonzero(~np.isin(lvl, LEVELS))[:20]:
        probs.append(
            Problem(
                f"level '{lvl[k]}' is not primary/junior/senior",
                layer="schools",
                row=row(k),
                column="level",
                fix="use primary, junior or senior",
            )
        )
    dup = pd.Series(list(zip(sid, lvl))).duplicated(keep="first").to_numpy()
    for k in np.flatnonzero(dup)[:20]:
        probs.append(
            Problem(
                f"school {sid[k]} appears twice at level {lvl[k]}",
                layer="schools",
                row=row(k),
                column="school_id",
                fix="give each school one row per level",
            )
        )
    geom = schools.geometry
    bad_geom = (geom.isna() | geom.is_empty | (geom.geom_type != "Point")).to_numpy()
    for k in np.flatnonzero(bad_geom)[:20]:
        probs.append(
            Problem(
                f"school {sid[k]} has no point location",
                layer="schools",
                row=row(k),
                fix="give the school a point geometry",
            )
        )
    if probs:
        raise InputError("the schools layer cannot be grouped", problems=probs)
    if schools.crs is not None and schools.crs.is_geographic:
        raise InputError(
            "schools are in degrees (geographic CRS); grouping needs metres",
            fix="reproject to the project's metric CRS (geo.project.load_project does this)",
        )


def _check_params(params: GroupingParams) -> list[str]:
    if params.min_members > params.max_members:
        raise RulesError(
            f"[groups] min_members = {params.min_members} is larger than max_members = {params.max_members}",
            fix="make min_members ≤ max_members",
        )
    order = [p.strip() for p in params.pattern_priority.split(",") if p.strip()]
    unknown = [p for p in order if p not in PATTERNS]
    if unknown or not order:
        raise RulesError(
            f"[groups] pattern_priority names unknown patterns: {', '.join(unknown) or '(empty)'}",
            fix="use a comma-separated list of: " + ", ".join(PATTERNS[:-1]),
        )
    return order


# --------------------------------------------------------------------------- roles
@dataclass
class _Roles:
    excluded: np.ndarray
    private_blocked: np.ndarray
    core: np.ndarray  # core candidate
    core_rural_only: np.ndarray  # admitted only as a township central school: leads rural only
    member: np.ndarray  # member candidate (incl. locked members)
    ruralish: np.ndarray
    weak: np.ndarray
    planned: np.ndarray
    relocation: np.ndarray
    central: np.ndarray
    private: np.ndarray
    urban: np.ndarray


def _key_index(df: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {(sid, lv): k for k, (sid, lv) in enumerate(zip(df["school_id"], df["level"]))}


def _resolve_choices(df: pd.DataFrame, choices: GroupChoices, params: GroupingParams):
    """Positions of excluded rows, forced cores and locked pairs; every conflict is an InputError."""
    pos = _key_index(df)
    by_id: dict[str, list[int]] = {}
    for k, sid in enumerate(df["school_id"]):
        by_id.setdefault(sid, []).append(k)
    probs: list[Problem] = []

    def find(sid: str, lv: str, what: str) -> int | None:
        k = pos.get((sid, lv))
        if k is None:
            probs.append(
                Problem(
                    f"{what}: no school '{sid}' at level '{lv}'",
                    layer="schools",
                    column="school_id",
                    fix="check the school id and level, or remove the choice",
                )
            )
        return k

    n = len(df)
    excluded = np.zeros(n, bool)
    for sid, lv in choices.excluded:
        if lv in ("", "*"):
            rows = by_id.get(sid)
            if not rows:
                probs.append(Problem(f"excluded: no school '{sid}'", layer="schools"))
            else:
                excluded[rows] = True
        else:
            k = find(sid, lv, "excluded")
            if k is not None:
                excluded[k] = True
    forced = np.zeros(n, bool)
    for sid, lv in choices.forced_cores:
        k = find(sid, lv, "forced core")
        if k is not None:
            forced[k] = True
    locks: list[tuple[int, int]] = []
    locked_member_of: dict[int, int] = {}
    for core_id, member_id, lv in choices.locked_pairs:
        c = find(core_id, lv, "locked pair core")
        m = find(member_id, lv, "locked pair member")
        if c is None or m is None:
            continue
        if core_id == member_id:
            probs.append(Problem(f"locked pair: {core_id} cannot lead itself"))
            continue
        if m in locked_member_of and locked_member_of[m] != c:
            probs.append(
                Problem(
                    f"locked pairs put {member_id} ({lv}) in two groups",
                    fix="keep one locked pair per member school",
                )
            )
            continue
        if m not in locked_member_of:
            locked_member_of[m] = c
            locks.append((c, m))
    lock_cores = {c for c, _ in locks}
    lock_members = set(locked_member_of)
    for k in sorted(lock_cores & lock_members):
        probs.append(
            Problem(
                f"{df['school_id'].iat[k]} ({df['level'].iat[k]}) is locked both as a core and as a member",
                fix="a core school cannot also be a member: unlock one of the pairs",
            )
        )
    for k in sorted(forced.nonzero()[0]):
        if k in lock_members:
            probs.append(
                Problem(
                    f"{df['school_id'].iat[k]} ({df['level'].iat[k]}) is a forced core and a locked member",
                    fix="remove the forced core or the locked pair",
                )
            )
    for k in sorted((lock_cores | lock_members) & set(excluded.nonzero()[0])):
        probs.append(
            Problem(
                f"{df['school_id'].iat[k]} ({df['level'].iat[k]}) is excluded but in a locked pair",
                fix="remove the exclusion or the locked pair",
            )
        )
    for k in sorted(forced.nonzero()[0]):
        if excluded[k]:
            probs.append(
                Problem(
                    f"{df['school_id'].iat[k]} ({df['level'].iat[k]}) is both excluded and a forced core",
                    fix="remove one of the two choices",
                )
            )
    if probs:
        raise InputError("the planner's group choices conflict", problems=probs)
    return excluded, forced, locks


def _roles(df: pd.DataFrame, params: GroupingParams, excluded, forced, locks) -> _Roles:
    quality = df["quality"].map(_QUALITY_RANK).fillna(1).to_numpy()
    classes = pd.to_numeric(df["classes"], errors="coerce").fillna(0).to_numpy()
    private = (df["ownership"] == "private").to_numpy()
    existing = (df["status"] == "existing").to_numpy()
    stype = df["school_type"].to_numpy()
    loc = df["location"].to_numpy()
    central = stype == "central"
    ruralish = np.isin(loc, ("rural", "town")) | (stype == "teaching_point")
    weak = quality == 0
    planned = (df["status"] == "planned").to_numpy()
    relocation = stype == "relocation_site"
    private_blocked = private & (not params.private_may_join)
    big_enough = classes >= params.core_min_classes
    quality_ok = quality >= _QUALITY_RANK[params.core_min_quality]
    may_lead = ~excluded & ~private_blocked & existing & (~private | params.private_may_lead)
    by_quality = may_lead & quality_ok & big_enough
    by_central = may_lead & params.central_may_lead & central & ~weak & big_enough
    lock_cores = np.zeros(len(df), bool)
    lock_members = np.zeros(len(df), bool)
    for c, m in locks:
        lock_cores[c] = True
        lock_members[m] = True
    core = by_quality | by_central | forced | lock_cores
    core_rural_only = core & by_central & ~by_quality & ~forced & ~lock_cores
    member_type = (
        (weak & params.member_weak)
        | (ruralish & params.member_rural)
        | (planned & params.member_new)
        | (relocation & params.member_relocation)
    )
    member = (~core & ~excluded & ~private_blocked & member_type) | lock_members
    return _Roles(
        excluded=excluded,
        private_blocked=private_blocked & ~lock_members & ~lock_cores & ~forced,
        core=core,
        core_rural_only=core_rural_only,
        member=member,
        ruralish=ruralish,
        weak=weak,
        planned=planned,
        relocation=relocation,
        central=central,
        private=private,
        urban=loc == "urban",
    )


# --------------------------------------------------------------------------- main entry
def run_grouping(
    schools: gpd.GeoDataFrame,
    params: GroupingParams,
    standards: Standards,
    *,
    costs=None,
    choices: GroupChoices | None = None,
    progress=None,
) -> GroupingResult:
    """Propose education groups that are optimal within ``params`` (see the module docstring)."""
    from geo.distance import StraightLine, as_xy

    t_start = time.perf_counter()
    progress = ensure(progress)
    choices = choices or GroupChoices()
    costs = costs or StraightLine()
    pattern_order = _check_params(params)
    _check_schools(schools)
    progress.update(0.0, "教育集团:检查学校 / groups: checking schools")

    # Work on positions in (level, school_id) order so every tie is broken the same way.
    lv_in = schools["level"].astype(str).to_numpy()
    id_in = schools["school_id"].astype(str).to_numpy()
    order = sorted(range(len(schools)), key=lambda k: (_RANK.get(lv_in[k], 9), id_in[k]))
    df = schools.iloc[order].reset_index(drop=True)
    df["school_id"] = df["school_id"].astype(str)
    orig_index = schools.index[order]
    n = len(df)
    excluded, forced, locks = _resolve_choices(df, choices, params)
    roles = _roles(df, params, excluded, forced, locks)
    level_rank = df["level"].map(_RANK).to_numpy()
    sid = df["school_id"].to_numpy()
    xy = as_xy(df) if n else np.zeros((0, 2))

    core_pos = np.flatnonzero(roles.core)
    locked_members = {m for _, m in locks}
    free_pos = np.array([k for k in np.flatnonzero(roles.member) if k not in locked_members], int)
    core_of_pos = {int(c): j for j, c in enumerate(core_pos)}

    # Capacities left after the planner's locked pairs.
    # A central school admitted only by the township rule leads up to N rural schools (001 §二(一)).
    cap_full = np.where(
        roles.core_rural_only[core_pos], params.central_max_members, params.max_members
    ).astype(np.int64)
    locked_count = np.zeros(len(core_pos), np.int64)
    locked_private = np.zeros(len(core_pos), np.int64)
    for c, m in locks:
        j = core_of_pos[c]
        locked_count[j] += 1
        locked_private[j] += int(roles.private[m])
    probs = []
    for j in np.flatnonzero(locked_count > cap_full):
        probs.append(
            Problem(
                f"{sid[core_pos[j]]} has {locked_count[j]} locked members, more than {cap_full[j]} allowed",
                fix="unlock some pairs or raise [groups] max_members",
            )
        )
    for j in np.flatnonzero(locked_private > params.private_max_members):
        probs.append(
            Problem(
                f"{sid[core_pos[j]]} has {locked_private[j]} locked private members, more than "
                f"{params.private_max_members} allowed",
                fix="unlock some pairs or raise [groups] private_max_members",
            )
        )
    if probs:
        raise InputError("locked pairs break the group rules", problems=probs)

    check_canceled(progress)
    progress.update(0.1, f"教育集团:计算距离 / groups: distances ({costs.kind})")
    if len(free_pos) and len(core_pos):
        dist = np.asarray(costs.dense_km(xy[free_pos], xy[core_pos]), float)
    else:
        dist = np.zeros((len(free_pos), len(core_pos)))
    in_reach = np.isfinite(dist) & (dist <= params.radius_km + _EPS)
    lm = level_rank[free_pos][:, None]
    lc = level_rank[core_pos][None, :]
    level_ok = (lm == lc) | (params.cross_level & (lc > lm))
    not_self = sid[free_pos][:, None] != sid[core_pos][None, :]
    rural_ok = ~roles.core_rural_only[core_pos][None, :] | roles.ruralish[free_pos][:, None]
    allowed = in_reach & level_ok & not_self & rural_ok
    level_in_reach = (in_reach & level_ok & not_self).any(axis=1)  # for the reasons only
    am, ac = np.nonzero(allowed)  # row-major: by member then core, both in (level, id) order
    arc_cost = np.rint(dist[am, ac] * 1000.0).astype(np.int64)
    problem = GroupingProblem(
        n_members=len(free_pos),
        n_cores=len(core_pos),
        arc_member=am.astype(np.int64),
        arc_core=ac.astype(np.int64),
        arc_cost=arc_cost,
        core_cap=cap_full - locked_count,
        member_private=roles.private[free_pos],
        core_private_cap=np.maximum(params.private_max_members - locked_private, 0),
        core_min=np.full(len(core_pos), params.min_members, np.int64),
        core_open=locked_count > 0,
    )
    check_canceled(progress)
    progress.update(0.4, "教育集团:求解最优分组 / groups: solving")
    sol = solve(problem)
    check_canceled(progress)
    progress.update(0.8, "教育集团:整理结果 / groups: writing results")

    # Links: locked first, then solved; distance of each link in km.
    links: list[tuple[int, int, float, bool]] = []
    if locks:
        lc_pos = np.array([c for c, _ in locks])
        lm_pos = np.array([m for _, m in locks])
        d_lock = np.array(
            [float(np.asarray(costs.dense_km(xy[[m]], xy[[c]]))[0, 0]) for c, m in locks]
        )
        links += [(int(c), int(m), float(d), True) for c, m, d in zip(lc_pos, lm_pos, d_lock)]
    for a in np.flatnonzero(sol.arc_used):
        i, j = int(problem.arc_member[a]), int(problem.arc_core[a])
        links.append((int(core_pos[j]), int(free_pos[i]), float(dist[i, j]), False))

    out = _build_outputs(
        df, orig_index, schools.crs, params, roles, links, pattern_order, xy, level_rank
    )
    groups, pairs, details, role_of, group_of = out
    reasons = _reasons(
        df,
        params,
        roles,
        problem,
        sol,
        free_pos,
        core_pos,
        dist,
        level_in_reach,
        links,
        groups,
        role_of,
        group_of,
    )
    work_sg = pd.DataFrame(
        {
            "group_id": [group_of.get(k, "") for k in range(n)],
            "group_role": [role_of.get(k, "none") for k in range(n)],
            "group_reason": [r[0] for r in reasons],
            "group_reason_en": [r[1] for r in reasons],
            "group_reason_code": [r[2] for r in reasons],
        },
    )
    # Back to the caller's row order and index (positions, so a repeated label cannot misalign).
    school_groups = work_sg.iloc[np.argsort(order, kind="stable")].set_index(schools.index)
    summary = _summary(
        df,
        params,
        roles,
        groups,
        details,
        work_sg,
        sol,
        costs,
        time.perf_counter() - t_start,
        cap_full,
    )
    status = "ok" if (roles.core | roles.member).any() else "empty"
    summary["status"] = status
    progress.update(1.0, f"教育集团:{len(groups)} 个 / groups: {len(groups)}")
    return GroupingResult(
        groups=groups,
        school_groups=school_groups,
        summary=summary,
        status=status,
        pairs=pairs,
        details=details,
    )


# --------------------------------------------------------------------------- outputs
def _pattern(core: int, members: list[int], roles: _Roles, order: list[str]) -> str:
    tests = {
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


def _mode(pattern: str, members: list[int], max_km: float, roles: _Roles, p: GroupingParams):
    if any(roles.private[m] for m in members):
        return p.mode_private
    if pattern == "township_central_rural":
        return p.mode_central_rural
    if max_km <= p.tight_max_km + _EPS and any(roles.weak[m] or roles.planned[m] for m in members):
        return "entrusted"
    if max_km >= p.cooperative_min_km - _EPS:
        return "cooperative"
    return "alliance"


def _ceil_pct(total: float, pct: float) -> float:
    if not np.isfinite(total):
        return float("nan")
    return float(math.ceil(total * pct / 100.0 - 1e-9))


def _build_outputs(df, orig_index, crs, params, roles, links, pattern_order, xy, level_rank):
    by_core: dict[int, list[tuple[int, float, bool]]] = {}
    for c, m, d, locked in links:
        by_core.setdefault(c, []).append((m, d, locked))
    sid = df["school_id"].to_numpy()
    lvl = df["level"].to_numpy()
    teachers = pd.to_numeric(df["teachers"], errors="coerce").to_numpy(float)
    cores = sorted(by_core, key=lambda c: (level_rank[c], sid[c]))
    width = max(3, len(str(len(cores))))
    rows, geoms, pair_rows, detail_rows = [], [], [], []
    role_of: dict[int, str] = {}
    group_of: dict[int, str] = {}
    for g, c in enumerate(cores, start=1):
        gid = f"G{g:0{width}d}"
        mem = sorted(by_core[c], key=lambda t: (t[1], level_rank[t[0]], sid[t[0]]))
        mpos = [m for m, _, _ in mem]
        max_km = max(d for _, d, _ in mem)
        pattern = _pattern(c, mpos, roles, pattern_order)
        mode = _mode(pattern, mpos, max_km, roles, params)
        total_t = (
            float(teachers[[c, *mpos]].sum())
            if np.isfinite(teachers[[c, *mpos]]).all()
            else float("nan")
        )
        exchange = _ceil_pct(total_t, params.teacher_exchange_pct)
        backbone = _ceil_pct(exchange, params.backbone_share_pct)
        funding = 0.0
        for m in mpos:
            if mode == "entrusted" and roles.weak[m]:
                funding += params.funding_entrusted_weak_yuan
            elif roles.ruralish[m]:
                funding += params.funding_township_yuan
        rows.append(
            {
                "group_id": gid,
                "core_id": sid[c],
                "member_ids": ",".join(sid[m] for m in mpos),
                "level": lvl[c],
                "pattern": pattern,
                "mode": mode,
                "n_members": len(mpos),
                "max_distance_km": round(max_km, 3),
                "teacher_exchange_min": exchange,
                # Also in ``details``; kept on the layer so a saved plan can rebuild the 附件1 form.
                "teacher_backbone_min": backbone,
                "funding_min_yuan": funding,
            }
        )
        geoms.append(MultiLineString([[tuple(xy[c]), tuple(xy[m])] for m in mpos]))
        detail_rows.append(
            {
                "group_id": gid,
                "teachers_total": total_t,
                "teacher_backbone_min": backbone,
                "total_distance_km": float(sum(d for _, d, _ in mem)),
                "n_private": int(sum(roles.private[m] for m in mpos)),
                "n_locked": int(sum(lk for _, _, lk in mem)),
                "cross_level": any(level_rank[m] != level_rank[c] for m in mpos),
            }
        )
        role_of[c] = "core"
        group_of[c] = gid
        for m, d, locked in mem:
            role_of[m] = "member"
            group_of[m] = gid
            pair_rows.append(
                {
                    "group_id": gid,
                    "core_id": sid[c],
                    "core_level": lvl[c],
                    "member_id": sid[m],
                    "member_level": lvl[m],
                    "distance_km": d,
                    "locked": locked,
                    "core_index": orig_index[c],
                    "member_index": orig_index[m],
                }
            )
    groups = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=GROUP_COLUMNS), geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs
    )
    groups["n_members"] = groups["n_members"].astype(np.int64)
    for col in (
        "max_distance_km",
        "teacher_exchange_min",
        "teacher_backbone_min",
        "funding_min_yuan",
    ):
        groups[col] = groups[col].astype(float)
    pairs = pd.DataFrame(
        pair_rows,
        columns=[
            "group_id",
            "core_id",
            "core_level",
            "member_id",
            "member_level",
            "distance_km",
            "locked",
            "core_index",
            "member_index",
        ],
    )
    details = pd.DataFrame(
        detail_rows,
        columns=[
            "group_id",
            "teachers_total",
            "teacher_backbone_min",
            "total_distance_km",
            "n_private",
            "n_locked",
            "cross_level",
        ],
    ).set_index("group_id")
    return groups, pairs, details, role_of, group_of


def _reasons(
    df,
    params,
    roles,
    problem,
    sol,
    free_pos,
    core_pos,
    dist,
    level_in_reach,
    links,
    groups,
    role_of,
    group_of,
):
    """(zh, en, code) for every row, in work order."""
    n = len(df)
    sid = df["school_id"].to_numpy()
    names = df["name"].astype(str).to_numpy()
    r = params.radius_km
    out: list[tuple[str, str, str]] = [("", "", "")] * n
    pattern_of = dict(zip(groups["group_id"], groups["pattern"]))
    mode_of = dict(zip(groups["group_id"], groups["mode"]))
    quality = df["quality"].astype(str).to_numpy()
    classes = pd.to_numeric(df["classes"], errors="coerce").fillna(0).astype(int).to_numpy()
    link_of = {m: (c, d, lk) for c, m, d, lk in links}
    n_led: dict[int, int] = {}
    for c, _, _, _ in links:
        n_led[c] = n_led.get(c, 0) + 1
    # Members per core in the final plan, against each core's full capacity.
    cap_left = problem.core_cap - np.bincount(
        problem.arc_core[sol.arc_used], minlength=problem.n_cores
    )
    priv_used = np.bincount(
        problem.arc_core[sol.arc_used & problem.private[problem.arc_member]],
        minlength=problem.n_cores,
    )
    priv_left = problem.private_cap - priv_used
    free_row = {int(k): i for i, k in enumerate(free_pos)}
    core_has_arc = np.zeros(len(core_pos), bool)
    core_has_arc[problem.arc_core] = True
    for k in range(n):
        if role_of.get(k) == "core":
            pat, mode = pattern_of[group_of[k]], mode_of[group_of[k]]
            out[k] = (
                f"核心校:带领{n_led[k]}所成员校({PATTERN_ZH[pat]},{MODE_ZH[mode]})",
                f"core: leads {n_led[k]} member(s) ({PATTERN_EN[pat]}, {MODE_EN[mode]})",
                "core",
            )
            continue
        if role_of.get(k) == "member":
            c, d, lk = link_of[k]
            zh = f"成员校:由{names[c]}带领,相距{d:.1f} km"
            en = f"member: led by {names[c]} ({sid[c]}), {d:.1f} km away"
            if lk:
                zh += "(规划人员锁定)"
                en += " (locked by the planner)"
            out[k] = (zh, en, "member_locked" if lk else "member")
            continue
        if roles.excluded[k]:
            out[k] = (
                "规划人员将其排除在集团之外",
                "excluded from grouping by the planner",
                "excluded",
            )
        elif roles.private_blocked[k]:
            out[k] = (
                "民办学校:规则不允许民办学校加入集团",
                "private school: the rules do not let private schools join",
                "private_not_allowed",
            )
        elif roles.core[k]:
            j = int(np.searchsorted(core_pos, k))
            if not core_has_arc[j]:
                lead = "农村学校" if roles.core_rural_only[k] else "成员校"
                out[k] = (
                    f"可作核心校,但{r:g} km内没有可带领的{lead}",
                    f"may lead, but no {'rural ' if roles.core_rural_only[k] else ''}member school "
                    f"of a compatible level within {r:g} km",
                    "core_no_member_in_reach",
                )
            elif problem.mins[j] > 1:
                out[k] = (
                    f"可作核心校,但凑不足{params.min_members}所成员校(附近成员校由其他核心校带领更优)",
                    f"may lead, but cannot reach {params.min_members} members (nearby members are "
                    "better led by other cores)",
                    "core_below_min",
                )
            else:
                out[k] = (
                    "可作核心校,但半径内的成员校由其他核心校带领总距离更短",
                    "may lead, but the members within reach are led by other cores at less total distance",
                    "core_members_taken",
                )
        elif roles.member[k]:
            i = free_row[k]
            row_reach = np.isfinite(dist[i]) & (dist[i] <= r + _EPS)
            arcs = np.flatnonzero(problem.arc_member == i)
            reach_cores = problem.arc_core[arcs]
            if not row_reach.any():
                out[k] = (
                    f"{r:g} km内没有核心校",
                    f"no eligible core within {r:g} km",
                    "no_core_in_reach",
                )
            elif len(arcs) == 0 and level_in_reach[i]:
                out[k] = (
                    f"{r:g} km内同学段的核心校只有乡镇中心校,只带领农村学校",
                    f"the only cores of its level within {r:g} km are township central schools, "
                    "which lead rural schools only",
                    "central_rural_only",
                )
            elif len(arcs) == 0:
                out[k] = (
                    f"学段不符:{r:g} km内只有其他学段的核心校",
                    f"level mismatch: every core within {r:g} km is of another level",
                    "level_mismatch",
                )
            elif not sol.opened[reach_cores].all() and problem.needs_milp:
                out[k] = (
                    f"{r:g} km内的核心校凑不足{params.min_members}所成员校,未组建集团",
                    f"cores within {r:g} km cannot reach {params.min_members} members, so they form no group",
                    "cores_below_min",
                )
            elif (
                roles.private[k]
                and (cap_left[reach_cores] > 0).any()
                and (priv_left[reach_cores] <= 0).all()
            ):
                out[k] = (
                    f"{r:g} km内核心校的民办成员校名额(每集团{params.private_max_members}所)已满",
                    f"every core within {r:g} km already has its {params.private_max_members} private member(s)",
                    "private_quota_full",
                )
            else:
                out[k] = (
                    f"{r:g} km内的核心校均已满员(每集团最多{params.max_members}所成员校)",
                    f"every core within {r:g} km is full (at most {params.max_members} members)",
                    "cores_full",
                )
        else:
            q = {"core": "优质", "ordinary": "一般", "weak": "薄弱"}.get(quality[k], "")
            out[k] = (
                f"不属于成员校类型(薄弱/乡村乡镇/新建/安置点),也不具备核心校条件({q},{classes[k]}班)",
                "not a member type (weak, rural/township, new, relocation site) and does not qualify "
                f"to lead (quality {quality[k]}, {classes[k]} classes)",
                "not_eligible",
            )
    return out


def _summary(df, params, roles, groups, details, sg, sol: Solution, costs, seconds, cap_full):
    eligible = roles.core | roles.member
    in_group = (sg["group_role"] != "none").to_numpy()
    n_elig = int(eligible.sum())
    n_in = int((in_group & eligible).sum())
    members_elig = int(roles.member.sum())
    members_placed = int(((sg["group_role"] == "member").to_numpy()).sum())
    by_level = {}
    lv = df["level"].to_numpy()
    for level in LEVELS:
        m = lv == level
        if not m.any():
            continue
        e = int((eligible & m).sum())
        by_level[level] = {
            "groups": int((groups["level"] == level).sum()),
            "eligible": e,
            "in_groups": int((in_group & eligible & m).sum()),
            "coverage_pct": round(100.0 * int((in_group & eligible & m).sum()) / e, 1)
            if e
            else 0.0,
        }
    below_min = [
        g for g, nm in zip(groups["group_id"], groups["n_members"]) if nm < params.min_members
    ]
    codes = sg.loc[sg["group_role"] == "none", "group_reason_code"].value_counts()
    coverage = round(100.0 * n_in / n_elig, 1) if n_elig else 0.0
    # Whatever the distances, coverage cannot beat every core full: tells the planner whether the
    # radius or the number of cores/places is what holds coverage down.
    n_cores = int(roles.core.sum())
    bound = n_cores + min(members_elig, int(np.sum(cap_full)))
    bound_pct = round(100.0 * min(bound, n_elig) / n_elig, 1) if n_elig else 0.0
    note_zh = note_en = ""
    if coverage < params.coverage_target_pct:
        if bound_pct < params.coverage_target_pct:
            note_zh = (
                f"覆盖率未达目标:{n_cores}所可作核心校的学校全部满员也只能覆盖{bound_pct}%;"
                "可增加核心校、提高每集团成员校上限或允许乡镇中心校带领农村学校"
            )
            note_en = (
                f"below target: even with all {n_cores} possible cores full, coverage is at most "
                f"{bound_pct} %; add cores, raise the members per group, or let township central "
                "schools lead rural schools"
            )
        else:
            note_zh = "覆盖率未达目标:主要受集团辐射半径限制(见未入集团学校的理由)"
            note_en = "below target: mostly limited by the group radius (see the reasons of schools left out)"
    return {
        "count": int(len(groups)),
        "coverage_pct": coverage,
        "target_pct": float(params.coverage_target_pct),
        "meets_target": bool(coverage >= params.coverage_target_pct),
        "members_unplaced": members_elig - members_placed,
        "solve_seconds": round(sol.seconds, 4),
        "total_seconds": round(seconds, 4),
        "method": sol.method,
        "distance": getattr(costs, "kind", "unknown"),
        "eligible": n_elig,
        "in_groups": n_in,
        "schools": int(len(df)),
        "cores_available": int(roles.core.sum()),
        "cores_used": int(len(groups)),
        "members_eligible": members_elig,
        "members_placed": members_placed,
        "total_distance_km": round(float(details["total_distance_km"].sum()), 3)
        if len(details)
        else 0.0,
        "teacher_exchange_min": float(np.nansum(groups["teacher_exchange_min"]))
        if len(groups)
        else 0.0,
        "funding_min_yuan": float(groups["funding_min_yuan"].sum()) if len(groups) else 0.0,
        "patterns": {k: int(v) for k, v in groups["pattern"].value_counts().sort_index().items()},
        "modes": {k: int(v) for k, v in groups["mode"].value_counts().sort_index().items()},
        "unplaced_reasons": {k: int(v) for k, v in codes.sort_index().items()},
        "groups_below_min": below_min,
        "by_level": by_level,
        "coverage_bound_pct": bound_pct,
        "note_zh": note_zh,
        "note_en": note_en,
    }


# --------------------------------------------------------------------------- tables
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
_PLANNED_MARK = {"zh": "(待建)", "en": " (to be built)"}
_MARKED = re.compile(r"[(（]\s*(待建|规划|新建|拟建|planned|to be built)\s*[)）]\s*$", re.I)
_LEVEL_EN = {"primary": "primary", "junior": "junior middle", "senior": "senior high"}


def _int_or_none(v) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _pairing_rows(
    groups: pd.DataFrame,
    schools: pd.DataFrame,
    member_level: dict[tuple[str, str], str],
    backbone: dict[str, float],
    lang: str,
) -> pd.DataFrame:
    """One row per group in ``groups`` order; ``member_level`` maps (group_id, member_id) to the
    member's level (a cross-level member is named with its level), ``backbone`` group_id → quota."""
    if groups is None or len(groups) == 0:
        return pd.DataFrame(columns=PAIRING_COLUMNS)
    en = lang == "en"
    patterns, modes = (PATTERN_EN, MODE_EN) if en else (PATTERN_ZH, MODE_ZH)
    level_name = _LEVEL_EN if en else LEVEL_ZH
    mark = _PLANNED_MARK["en" if en else "zh"]
    names = {
        (str(s), str(lv)): (str(nm), str(st))
        for s, lv, nm, st in zip(
            schools["school_id"], schools["level"], schools["name"], schools["status"]
        )
    }

    def label(sid: str, lv: str, group_level: str) -> str:
        nm, st = names.get((sid, lv), (sid, ""))
        # New schools are often named "…(规划)" already: one mark is enough.
        if st == "planned" and not _MARKED.search(nm):
            nm += mark
        if lv != group_level:
            nm += f" ({level_name.get(lv, lv)})" if en else f"({level_name.get(lv, lv)})"
        return nm

    rows = []
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
                level_name.get(glv, glv),
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
    member_level = {
        (str(g), str(m)): str(lv)
        for g, m, lv in zip(
            result.pairs["group_id"], result.pairs["member_id"], result.pairs["member_level"]
        )
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


__all__ = [
    "GroupChoices",
    "GroupingResult",
    "run_grouping",
    "pairing_table",
    "pairing_table_from_layers",
    "PAIRING_COLUMNS",
    "PATTERNS",
    "PATTERN_ZH",
    "PATTERN_EN",
    "MODES",
    "MODE_ZH",
    "MODE_EN",
    "ROLE_ZH",
]
