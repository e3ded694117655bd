"""Build: the schools layer, the rules, the planner's choices and a cost model → plain arrays.

``build_problem`` checks its inputs, puts the schools in (level, school_id) order so every tie is
broken the same way, resolves the planner's choices to positions, fixes the roles, and turns the
core–member distances the rules allow into the solver's ``GroupingProblem``. Locked pairs are
the planner's decision: they bypass radius and member type but not levels, exclusion, capacity
or "a core is never a member".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from core.errors import InputError, Problem, RulesError, ScenarioError
from core.progress import Progress, check_canceled
from core.vocab import LEVELS, PATTERN
from geo.distance import CostModel, as_xy
from planning.grouping.roles import EPS, LEVEL_RANK, Roles, assign_roles
from planning.grouping.solver import GroupingProblem
from planning.rules import GroupingParams
from planning.ties import id_keys, tied_cost

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
        out: dict[str, Any] = {}
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


@dataclass(frozen=True)
class Chosen:
    """The planner's choices as positions in the work order."""

    excluded: np.ndarray  # bool per row
    forced: np.ndarray  # bool per row
    locks: list[tuple[int, int]]  # (core position, member position)


class _Finder:
    """Positions of (school_id, level) keys; a missing key is recorded as a problem."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.pos = {(sid, lv): k for k, (sid, lv) in enumerate(zip(df["school_id"], df["level"]))}
        self.by_id: dict[str, list[int]] = {}
        for k, sid in enumerate(df["school_id"]):
            self.by_id.setdefault(sid, []).append(k)
        self.problems: list[Problem] = []

    def find(self, sid: str, lv: str, what: str) -> int | None:
        k = self.pos.get((sid, lv))
        if k is None:
            self.problems.append(
                Problem(
                    f"{what}: no school '{sid}' at level '{lv}'",
                    layer="schools",
                    column="school_id",
                    fix="check the school id and level, or remove the choice",
                )
            )
        return k


def _locks(f: _Finder, choices: GroupChoices) -> list[tuple[int, int]]:
    locks: list[tuple[int, int]] = []
    locked_member_of: dict[int, int] = {}
    for core_id, member_id, lv in choices.locked_pairs:
        c = f.find(core_id, lv, "locked pair core")
        m = f.find(member_id, lv, "locked pair member")
        if c is None or m is None:
            continue
        if core_id == member_id:
            f.problems.append(Problem(f"locked pair: {core_id} cannot lead itself"))
            continue
        if m in locked_member_of and locked_member_of[m] != c:
            f.problems.append(
                Problem(
                    f"locked pairs put {member_id} ({lv}) in two groups",
                    fix="keep one locked pair per member school",
                )
            )
            continue
        if m not in locked_member_of:
            locked_member_of[m] = c
            locks.append((c, m))
    return locks


def _conflicts(df: pd.DataFrame, chosen: Chosen) -> list[Problem]:
    def who(k: int) -> str:
        return f"{df['school_id'].iat[k]} ({df['level'].iat[k]})"

    probs: list[Problem] = []
    lock_cores = {c for c, _ in chosen.locks}
    lock_members = {m for _, m in chosen.locks}
    forced = [int(k) for k in np.flatnonzero(chosen.forced)]
    for k in sorted(lock_cores & lock_members):
        probs.append(
            Problem(
                f"{who(k)} is locked both as a core and as a member",
                fix="a core school cannot also be a member: unlock one of the pairs",
            )
        )
    for k in forced:
        if k in lock_members:
            probs.append(
                Problem(
                    f"{who(k)} is a forced core and a locked member",
                    fix="remove the forced core or the locked pair",
                )
            )
    for k in sorted(
        (lock_cores | lock_members) & {int(k) for k in np.flatnonzero(chosen.excluded)}
    ):
        probs.append(
            Problem(
                f"{who(k)} is excluded but in a locked pair",
                fix="remove the exclusion or the locked pair",
            )
        )
    for k in forced:
        if chosen.excluded[k]:
            probs.append(
                Problem(
                    f"{who(k)} is both excluded and a forced core",
                    fix="remove one of the two choices",
                )
            )
    return probs


def resolve_choices(df: pd.DataFrame, choices: GroupChoices) -> Chosen:
    """Positions of excluded rows, forced cores and locked pairs; every conflict is an InputError."""
    f = _Finder(df)
    n = len(df)
    excluded = np.zeros(n, bool)
    for sid, lv in choices.excluded:
        if lv in ("", "*"):
            rows = f.by_id.get(sid)
            if not rows:
                f.problems.append(Problem(f"excluded: no school '{sid}'", layer="schools"))
            else:
                excluded[rows] = True
        else:
            k = f.find(sid, lv, "excluded")
            if k is not None:
                excluded[k] = True
    forced = np.zeros(n, bool)
    for sid, lv in choices.forced_cores:
        k = f.find(sid, lv, "forced core")
        if k is not None:
            forced[k] = True
    locks = _locks(f, choices)
    chosen = Chosen(excluded=excluded, forced=forced, locks=locks)
    probs = f.problems + _conflicts(df, chosen)
    if probs:
        raise InputError("the planner's group choices conflict", problems=probs)
    return chosen


# --------------------------------------------------------------------------- input checks
def check_schools(schools: gpd.GeoDataFrame) -> None:
    """Columns, levels, one row per (school, level), point geometry, a metric CRS."""
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


def check_params(params: GroupingParams) -> list[str]:
    """The pattern priority order; a rule that cannot hold is a RulesError."""
    if params.min_members > params.max_members:
        raise RulesError(
            f"[groups] min_members = {params.min_members} is larger than max_members = {params.max_members}",
            fix="make min_members ≤ max_members",
        )
    order = [p.strip() for p in params.pattern_priority.split(",") if p.strip()]
    unknown = [p for p in order if p not in PATTERN.codes]
    if unknown or not order:
        raise RulesError(
            f"[groups] pattern_priority names unknown patterns: {', '.join(unknown) or '(empty)'}",
            fix="use a comma-separated list of: " + ", ".join(PATTERN.codes[:-1]),
        )
    return order


# --------------------------------------------------------------------------- the problem
@dataclass(frozen=True)
class GroupingModel:
    """Everything the solver, the reasons and the explanation read, in work order.

    Rows are the schools sorted by (level, school_id); ``order[k]`` is the input position of row
    k. Cores are the rows ``core_pos``, free members (not locked) the rows ``free_pos``; ``dist``
    is free member × core in km and ``flow`` the solver's arcs over those two index ranges.
    """

    frame: pd.DataFrame  # the schools in work order, index 0..n-1
    order: np.ndarray
    index: pd.Index  # the input index label of each row
    crs: Any
    pattern_order: list[str]
    roles: Roles
    sid: np.ndarray
    level_rank: np.ndarray
    teachers: np.ndarray  # NaN where unknown
    xy: np.ndarray
    core_pos: np.ndarray
    free_pos: np.ndarray
    cap_full: np.ndarray  # per core: members it may lead, locked ones included
    locks: list[tuple[int, int]]
    lock_km: np.ndarray  # distance of each locked pair
    dist: np.ndarray
    level_in_reach: np.ndarray  # per free member: a core of a compatible level within reach
    flow: GroupingProblem
    cost_kind: str
    keys: np.ndarray  # per row the tie key of (school_id, level) (``school_keys``)

    @property
    def n(self) -> int:
        return len(self.frame)


def _work_frame(schools: gpd.GeoDataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    lv_in = schools["level"].astype(str).to_numpy()
    id_in = schools["school_id"].astype(str).to_numpy()
    order = sorted(range(len(schools)), key=lambda k: (LEVEL_RANK.get(lv_in[k], 9), id_in[k]))
    df = schools.iloc[order].reset_index(drop=True)
    df["school_id"] = df["school_id"].astype(str)
    return df, np.asarray(order, dtype=np.int64)


@dataclass(frozen=True)
class _Places:
    cap_full: np.ndarray
    locked_count: np.ndarray
    locked_private: np.ndarray


def _places(
    roles: Roles, core_pos: np.ndarray, locks: list[tuple[int, int]], params: GroupingParams
) -> _Places:
    """Each core's places and those its locked pairs already take; too many is an InputError."""
    core_of_pos = {int(c): j for j, c in enumerate(core_pos)}
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
    return _Places(cap_full, locked_count, locked_private)


def _check_places(pl: _Places, sid_of_core: np.ndarray, params: GroupingParams) -> None:
    probs = []
    for j in np.flatnonzero(pl.locked_count > pl.cap_full):
        probs.append(
            Problem(
                f"{sid_of_core[j]} has {pl.locked_count[j]} locked members, more than {pl.cap_full[j]} allowed",
                fix="unlock some pairs or raise [groups] max_members",
            )
        )
    for j in np.flatnonzero(pl.locked_private > params.private_max_members):
        probs.append(
            Problem(
                f"{sid_of_core[j]} has {pl.locked_private[j]} locked private members, more than "
                f"{params.private_max_members} allowed",
                fix="unlock some pairs or raise [groups] private_max_members",
            )
        )
    if probs:
        raise InputError("locked pairs break the group rules", problems=probs)


@dataclass(frozen=True)
class _Arcs:
    dist: np.ndarray
    allowed: np.ndarray
    level_in_reach: np.ndarray


def _arcs(
    roles: Roles,
    sid: np.ndarray,
    level_rank: np.ndarray,
    dist: np.ndarray,
    pos: tuple[np.ndarray, np.ndarray],
    *,
    params: GroupingParams,
) -> _Arcs:
    """Which free member may join which core: in reach, level, not itself, rural-only cores."""
    free_pos, core_pos = pos
    in_reach = np.isfinite(dist) & (dist <= params.radius_km + EPS)
    lm = level_rank[free_pos][:, None]
    lc = level_rank[core_pos][None, :]
    level_ok = (lm == lc) | (params.cross_level & (lc > lm))
    not_self = sid[free_pos][:, None] != sid[core_pos][None, :]
    rural_ok = ~roles.core_rural_only[core_pos][None, :] | roles.ruralish[free_pos][:, None]
    allowed = in_reach & level_ok & not_self & rural_ok
    level_in_reach = (in_reach & level_ok & not_self).any(axis=1)  # for the reasons only
    return _Arcs(dist, allowed, level_in_reach)


def school_keys(df: pd.DataFrame) -> np.ndarray:
    """A tie key per school row, from its (school_id, level): the same whatever the row order."""
    both = df["school_id"].astype(str) + "\x1f" + df["level"].astype(str)
    return id_keys(both.to_numpy())


def _flow(
    arcs: _Arcs,
    roles: Roles,
    pos: tuple[np.ndarray, np.ndarray],
    pl: _Places,
    *,
    params: GroupingParams,
    keys: np.ndarray,
) -> GroupingProblem:
    """The solver's arcs. Costs in centimetres plus the (member, core) tie offset of
    ``planning.ties``: near-ties go by the ids, not by centimetres of the coordinates."""
    free_pos, core_pos = pos
    am, ac = np.nonzero(arcs.allowed)  # row-major: by member then core, both in (level, id) order
    n_cores = len(pl.cap_full)
    return GroupingProblem(
        n_members=len(free_pos),
        n_cores=n_cores,
        arc_member=am.astype(np.int64),
        arc_core=ac.astype(np.int64),
        arc_cost=tied_cost(arcs.dist[am, ac], keys[free_pos[am]], keys[core_pos[ac]]),
        core_cap=pl.cap_full - pl.locked_count,
        member_private=roles.private[free_pos],
        core_private_cap=np.maximum(params.private_max_members - pl.locked_private, 0),
        core_min=np.full(n_cores, params.min_members, np.int64),
        core_open=pl.locked_count > 0,
    )


def build_problem(
    schools: gpd.GeoDataFrame,
    params: GroupingParams,
    costs: CostModel,
    choices: GroupChoices,
    *,
    progress: Progress,
) -> GroupingModel:
    """Check the inputs and build the solver's problem; progress runs from 0 to 0.1."""
    pattern_order = check_params(params)
    check_schools(schools)
    progress.update(0.0, "教育集团:检查学校 / groups: checking schools")
    df, order = _work_frame(schools)
    chosen = resolve_choices(df, choices)
    roles = assign_roles(df, params, chosen.excluded, chosen.forced, chosen.locks)
    level_rank = df["level"].map(LEVEL_RANK).to_numpy()
    sid = df["school_id"].to_numpy()
    keys = school_keys(df)
    xy = as_xy(df) if len(df) else np.zeros((0, 2))
    core_pos = np.flatnonzero(roles.core)
    locked_members = {m for _, m in chosen.locks}
    free_pos = np.array([k for k in np.flatnonzero(roles.member) if k not in locked_members], int)
    places = _places(roles, core_pos, chosen.locks, params)
    _check_places(places, sid[core_pos], params)

    check_canceled(progress)
    progress.update(0.1, f"教育集团:计算距离 / groups: distances ({costs.kind})")
    if len(free_pos) and len(core_pos):
        dist = np.asarray(costs.dense_km(xy[free_pos], xy[core_pos]), float)
    else:
        dist = np.zeros((len(free_pos), len(core_pos)))
    arcs = _arcs(roles, sid, level_rank, dist, (free_pos, core_pos), params=params)
    lock_km = np.array(
        [float(np.asarray(costs.dense_km(xy[[m]], xy[[c]]))[0, 0]) for c, m in chosen.locks]
    )
    return GroupingModel(
        frame=df,
        order=order,
        index=schools.index[order],
        crs=schools.crs,
        pattern_order=pattern_order,
        roles=roles,
        sid=sid,
        level_rank=level_rank,
        teachers=pd.to_numeric(df["teachers"], errors="coerce").to_numpy(float),
        xy=xy,
        core_pos=core_pos,
        free_pos=free_pos,
        cap_full=places.cap_full,
        locks=chosen.locks,
        lock_km=lock_km,
        dist=dist,
        level_in_reach=arcs.level_in_reach,
        flow=_flow(arcs, roles, (free_pos, core_pos), places, params=params, keys=keys),
        cost_kind=costs.kind,
        keys=keys,
    )
