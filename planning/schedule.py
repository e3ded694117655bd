"""The phased schedule (近期 / 远期): when to build, when a merge becomes possible, classes per year.

Pure: a plan result and a projection in, frames out. Per level, with the plan's zones (units →
school, ``plan.demand``) and the projection's children per unit and year:

- a school's zone children Z(s, y) = the sum of its units' children in year y; its places
  P(s, y) = classes × the class size of year y (建标109-2008 near/long term, ``[projection]``);
- a **new** school is needed from the first year its zone reaches the rules' smallest school ×
  ``min_fill_share`` (a new community's zone has no child before its delivery year, so its school
  comes with the housing); a zone that never reaches it leaves the site reserved;
- a school **to merge** closes in the first year from which the school receiving its pupils is
  open and Z(receiver, y) ≤ P(receiver, y) in that year and every later one (the plan's zones
  already put the merged pupils in the receiver's zone): never before the places exist (先建后撤);
  otherwise it is kept as transitional up to the horizon;
- an open school whose zone falls below ``transitional_max_students`` by the horizon is proposed
  as transitional;
- classes needed per school and year = ⌈Z / class size⌉: expand, keep or shrink against today's.

The receiver of a merged school is the one the layout engine named (the schools' ``merge_into``
column, ``planning.newschools.layout``); a plan without it (saved before the column existed) falls
back to the school whose zone holds the unit nearest to the merged school.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from core.vocab import CLASS_CHANGE, LEVELS, SCHEDULE_REASON, TERM
from geo.distance import as_xy
from planning.projection.engine import ProjectionResult, standards_for_year
from planning.rules import Rules

NEVER = -1


class PlanZones(Protocol):
    """What the schedule reads of a plan (``planning.pipeline.PlanResult`` has both)."""

    schools: pd.DataFrame  # school_id, name, level, classes, layout_status, geometry
    demand: pd.DataFrame  # unit_id, school_id_<level>, geometry


@dataclass(frozen=True)
class ScheduleResult:
    """``steps``: one row per build / close / transitional proposal; ``classes``: per school,
    level and year the zone's children, places and classes needed with expand / keep / shrink."""

    steps: pd.DataFrame
    classes: pd.DataFrame


# ---- numeric core ---------------------------------------------------------------------------


def first_year_reaching(values: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Per row, the first column where ``values ≥ threshold`` (``NEVER`` when none)."""
    hit = values >= threshold[:, None]
    return np.where(hit.any(axis=1), np.argmax(hit, axis=1), NEVER)


def first_year_for_good(ok: np.ndarray) -> np.ndarray:
    """Per row, the first column from which ``ok`` holds in every later column (else ``NEVER``)."""
    for_good = np.flip(np.logical_and.accumulate(np.flip(ok, axis=1), axis=1), axis=1)
    return np.where(for_good.any(axis=1), np.argmax(for_good, axis=1), NEVER)


def classes_needed(children: np.ndarray, class_size: np.ndarray) -> np.ndarray:
    """⌈children / class size⌉ per school and year (a school with no child needs none)."""
    return np.asarray(np.ceil(np.round(children / class_size[None, :], 9)), dtype=int)


def class_change(needed: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return np.where(
        needed > classes[:, None], "expand", np.where(needed < classes[:, None], "shrink", "keep")
    )


# ---- build: zones, places and receivers from the plan -------------------------------------


def _zone_children(
    plan: PlanZones, projection: ProjectionResult, level: str, ids: np.ndarray
) -> np.ndarray:
    """Schools × years: the projected children of each school's zone at ``level``."""
    li = LEVELS.index(level)
    pos = {u: i for i, u in enumerate(projection.unit_ids)}
    demand = plan.demand
    col = f"school_id_{level}"
    out = np.zeros((len(ids), len(projection.years)))
    if col not in demand.columns:
        return out
    rows = demand["unit_id"].astype(str).map(pos)
    known = rows.notna().to_numpy()
    school = demand[col].astype(str).to_numpy()[known]
    kids = projection.children[rows[known].astype(int).to_numpy(), li, :]
    index = {s: i for i, s in enumerate(ids)}
    at = np.array([index.get(s, -1) for s in school], dtype=int)
    np.add.at(out, at[at >= 0], kids[at >= 0])
    return out


def _receivers(plan: PlanZones, level: str, closing: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    """Position in ``ids`` of the school receiving each closing school's pupils: its
    ``merge_into`` where that names an open school of the level, else the nearest zone's."""
    index = {s: i for i, s in enumerate(ids)}
    named = (
        closing["merge_into"].fillna("").astype(str).map(index)
        if "merge_into" in closing.columns
        else pd.Series(np.nan, index=closing.index)
    )
    out = named.fillna(NEVER).to_numpy(int)
    guess = out == NEVER
    if guess.any():
        out[guess] = _nearest_zone(plan, level, closing[guess], index)
    return out


def _nearest_zone(
    plan: PlanZones, level: str, closing: pd.DataFrame, index: dict[str, int]
) -> np.ndarray:
    """Position of the school whose zone holds the unit nearest each closing school."""
    demand = plan.demand
    col = f"school_id_{level}"
    if len(closing) == 0 or col not in demand.columns:
        return np.full(len(closing), NEVER)
    zoned = demand[demand[col].astype(str).isin(set(index))]
    if len(zoned) == 0:
        return np.full(len(closing), NEVER)
    xy = as_xy(zoned.geometry.representative_point())
    _, near = cKDTree(xy).query(as_xy(closing.geometry))
    return np.array([index[s] for s in zoned[col].astype(str).to_numpy()[near]], dtype=int)


def _threshold(rules: Rules, level: str, size: float) -> float:
    ns = rules.new_schools
    smallest = {
        "primary": ns.primary_small_min_classes,
        "junior": ns.junior_min_classes,
        "senior": ns.senior_min_classes,
    }[level]
    return ns.min_fill_share * smallest * size


# ---- explain: frames ------------------------------------------------------------------------


def _term(rules: Rules, year: int) -> str:
    p = rules.projection
    if year == NEVER:
        return "beyond"
    if year <= p.base_year:
        return "present"
    return "near" if year <= p.near_term_year else "long"


def _step(
    school: pd.Series, action: str, year: int, reason: str, rules: Rules, receiving: str = "",
    **fields: object,
) -> dict[str, object]:  # fmt: skip
    last = rules.projection.horizon
    shown = last if year == NEVER else year
    return {
        "school_id": str(school["school_id"]),
        "name": str(school["name"]),
        "level": str(school["level"]),
        "action": action,
        "year": pd.NA if year == NEVER else int(year),
        "term": _term(rules, year),
        "term_text": TERM.label(_term(rules, year)),
        "receiving_school_id": receiving,
        "reason_code": reason,
        "reason": SCHEDULE_REASON.label(reason, "zh", year=shown, **fields),
        "reason_en": SCHEDULE_REASON.label(reason, "en", year=shown, **fields),
    }


@dataclass(frozen=True)
class _Level:
    """One level's open schools with their zone children, places and opening (year index)."""

    years: np.ndarray
    open_: pd.DataFrame  # schools of the level that are not merged
    ids: np.ndarray
    sizes: np.ndarray  # class size per year
    zone: np.ndarray  # schools × years
    classes: np.ndarray
    places: np.ndarray  # schools × years
    is_new: np.ndarray
    built: np.ndarray  # year index from which the school is open, NEVER when not by the horizon
    threshold: float

    @property
    def is_open(self) -> np.ndarray:
        cols = np.arange(len(self.years))[None, :]
        return np.asarray((self.built[:, None] != NEVER) & (cols >= self.built[:, None]))


def _build_level(plan: PlanZones, projection: ProjectionResult, rules: Rules, level: str) -> _Level:
    years = projection.years
    schools = plan.schools[plan.schools["level"] == level]
    open_ = schools[schools["layout_status"].astype(str) != "to_merge"]
    ids = open_["school_id"].astype(str).to_numpy()
    sizes = np.array(
        [
            standards_for_year(rules.standards, rules.projection, int(y)).class_size(level)
            for y in years
        ],
        dtype=float,
    )
    zone = _zone_children(plan, projection, level, ids)
    classes = pd.to_numeric(open_["classes"], errors="coerce").fillna(0).to_numpy(float)
    thr = _threshold(rules, level, float(sizes[0]))
    is_new = (open_["layout_status"].astype(str) == "new").to_numpy()
    built = np.zeros(len(ids), dtype=int)
    built[is_new] = first_year_reaching(zone[is_new], np.full(int(is_new.sum()), thr))
    places = classes[:, None] * sizes[None, :]
    return _Level(years, open_, ids, sizes, zone, classes, places, is_new, built, thr)


def _build_steps(lv: _Level, rules: Rules) -> list[dict[str, object]]:
    out = []
    for i in np.flatnonzero(lv.is_new):
        year = NEVER if lv.built[i] == NEVER else int(lv.years[lv.built[i]])
        reason = "not_needed" if year == NEVER else "needed"
        out.append(_step(lv.open_.iloc[i], "build", year, reason, rules, threshold=lv.threshold))
    return out


def _close_steps(plan: PlanZones, lv: _Level, rules: Rules, level: str) -> list[dict[str, object]]:
    schools = plan.schools[plan.schools["level"] == level]
    closing = schools[schools["layout_status"].astype(str) == "to_merge"]
    recv = _receivers(plan, level, closing, lv.ids)
    fits = lv.is_open & (lv.zone <= lv.places + 1e-9)
    when = first_year_for_good(fits[recv]) if len(recv) else np.zeros(0, int)
    out = []
    for k in range(len(closing)):
        r = int(recv[k])
        year = NEVER if r == NEVER or when[k] == NEVER else int(lv.years[when[k]])
        name = str(lv.open_.iloc[r]["name"]) if r != NEVER else "—"
        reason = "no_places" if year == NEVER else "places_ready"
        rid = lv.ids[r] if r != NEVER else ""
        out.append(_step(closing.iloc[k], "close", year, reason, rules, rid, receiver=name))
    return out


def _transitional_steps(lv: _Level, rules: Rules) -> list[dict[str, object]]:
    limit = float(rules.new_schools.transitional_max_students)
    last = lv.zone[:, -1]
    permanent = (lv.open_["layout_status"].astype(str) == "permanent").to_numpy()
    out = []
    for i in np.flatnonzero(permanent & (last < limit)):
        out.append(
            _step(lv.open_.iloc[i], "transitional", int(lv.years[-1]), "small_by_horizon", rules,
                  children=float(last[i]), threshold=limit)
        )  # fmt: skip
    return out


def _classes_frame(lv: _Level, level: str) -> pd.DataFrame:
    is_open = lv.is_open
    need = classes_needed(lv.zone, lv.sizes)
    need[~is_open] = 0
    n, t = len(lv.ids), len(lv.years)
    return pd.DataFrame(
        {
            "school_id": np.repeat(lv.ids, t),
            "level": level,
            "year": np.tile(lv.years, n),
            "open": is_open.reshape(-1),
            "children": lv.zone.reshape(-1),
            "class_size": np.tile(lv.sizes, n),
            "places": np.where(is_open, lv.places, 0.0).reshape(-1),
            "classes": np.repeat(lv.classes, t).astype(int),
            "classes_needed": need.reshape(-1),
            "change": class_change(need, lv.classes).reshape(-1),
        }
    )


def phased_schedule(plan: PlanZones, projection: ProjectionResult, rules: Rules) -> ScheduleResult:
    """The phased schedule of ``plan`` over the projection's years (see the module docstring)."""
    steps, frames = [], []
    for level in LEVELS:
        lv = _build_level(plan, projection, rules, level)
        steps += _build_steps(lv, rules) + _close_steps(plan, lv, rules, level)
        steps += _transitional_steps(lv, rules)
        frames.append(_classes_frame(lv, level))
    columns = [
        "school_id", "name", "level", "action", "year", "term", "term_text",
        "receiving_school_id", "reason_code", "reason", "reason_en",
    ]  # fmt: skip
    step_frame = pd.DataFrame(steps, columns=columns)
    step_frame["year"] = step_frame["year"].astype("Int64")
    classes = pd.concat(frames, ignore_index=True)
    classes["change_text"] = classes["change"].map(CLASS_CHANGE.labels("zh"))
    return ScheduleResult(step_frame, classes)
