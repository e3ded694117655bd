"""Compare plans side by side: the figures a meeting decides on, and what changed where.

``compare_plans([(name, PlanResult), …])`` gives a ``Comparison``: one ``MetricRow`` per figure
(values per scenario, the best ones marked by the row's direction) and, for every scenario after
the first, a ``PlanDiff`` against the first (the baseline): schools added, removed, moved or with
a changed layout status, schools whose group changed, and villages whose school changed.

Figures come from the engines' own summaries (``summary["groups"]``, ``summary["catchments"][level]``,
kept in summary.json and scenario.json), which are exact also for villages split among schools;
a plan without them (hand-made, older) is recounted from its layers. New schools are counted
from the ``new_schools`` layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.vocab import LEVEL, LEVELS
from planning.rules import iter_specs

# Demand statuses of the catchment engine, and the aliases older outputs used.
SERVED = frozenset({"assigned", "served", "ok", "split"})
NO_CAPACITY = frozenset({"unserved", "no_capacity", "over_capacity", "no_place"})
TOO_FAR = frozenset({"too_far", "beyond", "out_of_reach"})
HIGHER, LOWER = "higher", "lower"


@dataclass(frozen=True)
class MetricSpec:
    key: str
    zh: str
    en: str
    unit: str = ""
    better: str | None = None  # HIGHER | LOWER | None (a choice, not a score: not ranked)
    digits: int = 0
    level: str = ""

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class MetricRow:
    spec: MetricSpec
    values: list[float | None]
    best: list[int] = field(default_factory=list)  # indices of the best scenarios


@dataclass
class PlanDiff:
    """What changed from ``base`` to ``other`` (the frames may be empty)."""

    base: str
    other: str
    schools: (
        pd.DataFrame
    )  # change, school_id, level, name, before, after, moved_m, x, y, x_before, y_before
    groups: (
        pd.DataFrame
    )  # school_id, level, name, role_before, core_before, role_after, core_after, x, y
    villages: (
        pd.DataFrame
    )  # unit_id, name, level, school_before, school_after, km_before, km_after, x, y

    @property
    def counts(self) -> dict[str, int]:
        out = {f"schools_{c}": int((self.schools["change"] == c).sum()) for c in SCHOOL_CHANGES}
        out["groups_changed"] = int(len(self.groups))
        out["villages_changed"] = (
            int(self.villages["unit_id"].nunique()) if len(self.villages) else 0
        )
        return out


SCHOOL_CHANGES = ("added", "removed", "moved", "status")


@dataclass
class Comparison:
    names: list[str]
    rows: list[MetricRow]
    diffs: list[PlanDiff]
    rules: pd.DataFrame  # section, name, label_zh, label_en, then one column per scenario
    plans: list[Any]  # the PlanResults, for maps

    def table(self, lang: str = "zh") -> pd.DataFrame:
        """The metrics as a frame: label, unit, direction, one column per scenario (the GUI's)."""
        recs = []
        for row in self.rows:
            rec: dict[str, Any] = {
                "key": row.spec.key,
                "label": row.spec.label(lang),
                "unit": row.spec.unit,
                "better": row.spec.better or "",
            }
            for name, v in zip(self.names, row.values):
                rec[name] = v
            rec["best"] = [self.names[i] for i in row.best]
            recs.append(rec)
        return pd.DataFrame(recs)


# --------------------------------------------------------------------------- metrics
def metric_specs(levels: Sequence[str] = LEVELS) -> list[MetricSpec]:
    """Every row of the comparison, in the order a meeting reads them."""
    out = [
        MetricSpec("groups", "教育集团数", "Education groups", "个"),
        MetricSpec("coverage_pct", "集团覆盖率", "Group coverage", "%", HIGHER, 1),
        MetricSpec(
            "members_unplaced", "未入集团的成员校", "Member schools not placed", "所", LOWER
        ),
    ]
    for lv in levels:
        zh, en = LEVEL.label(lv, "zh"), LEVEL.label(lv, "en")
        out.append(
            MetricSpec(f"new_schools_{lv}", f"新建{zh}", f"New {en} schools", "所", level=lv)
        )
        out.append(
            MetricSpec(f"new_classes_{lv}", f"新建{zh}班级", f"New {en} classes", "班", level=lv)
        )
    for lv in levels:
        zh, en = LEVEL.label(lv, "zh"), LEVEL.label(lv, "en").capitalize()
        out += [
            MetricSpec(
                f"served_{lv}", f"{zh}已安排学位学生", f"{en}: pupils placed", "人", HIGHER, 0, lv
            ),
            MetricSpec(
                f"no_capacity_{lv}",
                f"{zh}距离内但学位不足",
                f"{en}: within reach, no place",
                "人",
                LOWER,
                0,
                lv,
            ),
            MetricSpec(
                f"too_far_{lv}",
                f"{zh}超出最远就学距离",
                f"{en}: beyond the distance limit",
                "人",
                LOWER,
                0,
                lv,
            ),
            MetricSpec(
                f"mean_km_{lv}", f"{zh}平均就学距离", f"{en}: mean distance", "km", LOWER, 2, lv
            ),
            MetricSpec(
                f"p95_km_{lv}",
                f"{zh}95%学生就学距离",
                f"{en}: 95th percentile distance",
                "km",
                LOWER,
                2,
                lv,
            ),
            MetricSpec(
                f"max_km_{lv}", f"{zh}最远就学距离", f"{en}: farthest distance", "km", LOWER, 2, lv
            ),
        ]
    out += [
        MetricSpec("over_capacity", "超容量学校", "Schools over capacity", "所", LOWER),
        MetricSpec("oversized", "大班额学校", "Schools with oversized classes", "所", LOWER),
        MetricSpec("funding_min_yuan", "集团最低年度经费", "Minimum yearly group funding", "元"),
    ]
    return out


def plan_levels(plan: Any) -> list[str]:
    """Levels the plan has schools or pupils of, in level order."""
    present = set(plan.schools["level"]) if "level" in plan.schools else set()
    present |= {lv for lv in LEVELS if f"students_{lv}" in plan.demand.columns}
    return [lv for lv in LEVELS if lv in present]


def plan_metrics(plan: Any, levels: Sequence[str] | None = None) -> dict[str, float | None]:
    """Every figure of ``metric_specs`` for one plan; None where the plan cannot tell."""
    levels = list(levels or plan_levels(plan))
    g = dict(plan.summary.get("groups") or {})
    m: dict[str, float | None] = {
        "groups": _num(g.get("count")) if "count" in g else float(len(plan.groups)),
        "coverage_pct": _num(g.get("coverage_pct")),
        "members_unplaced": _num(g.get("members_unplaced")),
    }
    if m["coverage_pct"] is None:
        m["coverage_pct"] = _coverage(plan.schools)
    ns = plan.new_schools
    for lv in levels:
        sel = ns[ns["level"] == lv] if len(ns) and "level" in ns else ns.iloc[0:0]
        m[f"new_schools_{lv}"] = float(sel["school_id"].nunique()) if len(sel) else 0.0
        m[f"new_classes_{lv}"] = (
            float(sel["classes"].sum()) if len(sel) and "classes" in sel else 0.0
        )
    cs = plan.summary.get("catchments") or {}
    over, oversized, engine = 0.0, 0.0, True
    for lv in levels:
        figs = cs.get(lv) if isinstance(cs, dict) else None
        if isinstance(figs, dict) and "assigned" in figs:
            m.update(_engine_figures(figs, lv))
            over += float(figs.get("over_capacity_schools") or 0)
            oversized += float(figs.get("oversized_schools") or 0)
        else:  # a plan without the engine's figures: recount from the layers
            m.update(_demand_figures(plan.demand, lv))
            engine = False
    if engine:
        m["over_capacity"], m["oversized"] = over, oversized
    else:
        m["over_capacity"], m["oversized"] = _capacity_figures(plan)
    funding = plan.groups["funding_min_yuan"] if "funding_min_yuan" in plan.groups else None
    m["funding_min_yuan"] = (
        float(pd.to_numeric(funding).sum())
        if funding is not None
        else _num(g.get("funding_min_yuan"))
    )
    return m


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def _coverage(schools: pd.DataFrame) -> float | None:
    if "group_role" not in schools:
        return None
    active = schools[schools.get("layout_status", pd.Series("", index=schools.index)) != "to_merge"]
    if not len(active):
        return None
    return round(100.0 * float((active["group_role"] != "none").mean()), 1)


def _engine_figures(figs: dict[str, Any], lv: str) -> dict[str, float | None]:
    """The catchment engine's own per-level figures: exact, also for units split among schools.

    ``too_far`` pupils have a place beyond the limit; ``unserved`` have no place at all; the
    distances are over every placed pupil.
    """
    return {
        f"served_{lv}": _num(figs.get("assigned")),
        f"no_capacity_{lv}": _num(figs.get("unserved")),
        f"too_far_{lv}": _num(figs.get("too_far")),
        f"mean_km_{lv}": _num(figs.get("mean_distance_km")),
        f"p95_km_{lv}": _num(figs.get("p95_distance_km")),
        f"max_km_{lv}": _num(figs.get("max_distance_km")),
    }


def _demand_figures(demand: pd.DataFrame, lv: str) -> dict[str, float | None]:
    keys = ("served", "no_capacity", "too_far", "mean_km", "p95_km", "max_km")
    scol, stcol, dcol = f"students_{lv}", f"status_{lv}", f"distance_{lv}_km"
    if scol not in demand or stcol not in demand:
        return {f"{k}_{lv}": None for k in keys}
    pupils = pd.to_numeric(demand[scol], errors="coerce").fillna(0.0).to_numpy(float)
    status = demand[stcol].astype(str).to_numpy()
    served = np.isin(status, list(SERVED))
    out: dict[str, float | None] = {
        f"served_{lv}": float(pupils[served].sum()),
        f"no_capacity_{lv}": float(pupils[np.isin(status, list(NO_CAPACITY))].sum()),
        f"too_far_{lv}": float(pupils[np.isin(status, list(TOO_FAR))].sum()),
    }
    dist = (
        pd.to_numeric(demand[dcol], errors="coerce").to_numpy(float)
        if dcol in demand
        else np.full(len(demand), np.nan)
    )
    placed = served | np.isin(status, list(TOO_FAR))  # like the engine: every placed pupil
    ok = placed & np.isfinite(dist) & (pupils > 0)
    if ok.any():
        d, w = dist[ok], pupils[ok]
        out[f"mean_km_{lv}"] = float(np.average(d, weights=w))
        out[f"p95_km_{lv}"] = weighted_quantile(d, w, 0.95)
        out[f"max_km_{lv}"] = float(d.max())
    else:
        out.update({f"mean_km_{lv}": None, f"p95_km_{lv}": None, f"max_km_{lv}": None})
    return out


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value with at least ``q`` of the weight at or below it (a pupil's distance)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cum = np.cumsum(w)
    i = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1], side="left"))
    return float(v[min(i, len(v) - 1)])


def _capacity_figures(plan: Any) -> tuple[float | None, float | None]:
    c = plan.catchments
    if not len(c) or "students" not in c or "capacity" not in c:
        return (0.0, 0.0) if not len(c) else (None, None)
    students = pd.to_numeric(c["students"], errors="coerce").fillna(0)
    capacity = pd.to_numeric(c["capacity"], errors="coerce").fillna(0)
    over = float((students > capacity).sum())
    oversized: float | None
    if "oversized" in c:
        flag = c["oversized"]
        oversized = float(
            flag.map(lambda v: str(v).strip().lower() in ("1", "true", "yes")).sum()
            if flag.dtype == object or str(flag.dtype) in ("str", "string")
            else pd.to_numeric(flag, errors="coerce").fillna(0).astype(bool).sum()
        )
    else:
        oversized = _oversized_from_classes(plan, c, students)
    return over, oversized


def _oversized_from_classes(plan: Any, c: pd.DataFrame, students: pd.Series) -> float | None:
    s = plan.schools
    if "classes" not in s:
        return None
    classes = s.drop_duplicates(["school_id", "level"]).set_index(["school_id", "level"])["classes"]
    key = pd.MultiIndex.from_arrays([c["school_id"].astype(str), c["level"].astype(str)])
    cls = pd.to_numeric(classes.reindex(key), errors="coerce").to_numpy(float)
    size = np.divide(students.to_numpy(float), cls, out=np.full(len(c), np.nan), where=cls > 0)
    limit = plan.rules.standards.oversized_class
    return float(np.nansum(size >= limit))


def rank(values: Sequence[float | None], better: str | None) -> list[int]:
    """Indices of the best values; none when the row is not ranked or every value is the same."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if better is None or len(known) < 2:
        return []
    vals = [round(v, 9) for _, v in known]
    if len(set(vals)) == 1:
        return []
    target = max(vals) if better == HIGHER else min(vals)
    return [i for (i, _), v in zip(known, vals) if v == target]


# --------------------------------------------------------------------------- differences
def diff_plans(
    a: Any, b: Any, *, name_a: str = "A", name_b: str = "B", moved_m: float = 1.0
) -> PlanDiff:
    """Schools, groups and villages that differ from plan ``a`` to plan ``b``."""
    return PlanDiff(
        base=name_a,
        other=name_b,
        schools=_school_changes(a.schools, b.schools, moved_m),
        groups=_group_changes(a, b),
        villages=_village_changes(a.demand, b.demand),
    )


def _keyed(schools: pd.DataFrame) -> pd.DataFrame:
    s = schools.copy()
    s["school_id"] = s["school_id"].astype(str)
    s = s.drop_duplicates(["school_id", "level"]).set_index(["school_id", "level"])
    pts = s.geometry
    s["x"], s["y"] = pts.x.to_numpy(), pts.y.to_numpy()
    if "layout_status" not in s:
        s["layout_status"] = ""
    return s


def _school_changes(sa: pd.DataFrame, sb: pd.DataFrame, moved_m: float) -> pd.DataFrame:
    a, b = _keyed(sa), _keyed(sb)
    rows = []
    for key in sorted(set(a.index) | set(b.index), key=_key_order):
        ra = a.loc[key] if key in a.index else None
        rb = b.loc[key] if key in b.index else None
        base = dict(school_id=key[0], level=key[1])
        if ra is None:
            assert rb is not None  # the key is in a or in b
            rows.append({**base, "change": "added", "name": rb["name"], "before": "", "after": rb["layout_status"], "moved_m": np.nan, "x": rb["x"], "y": rb["y"], "x_before": np.nan, "y_before": np.nan})  # fmt: skip
            continue
        if rb is None:
            rows.append({**base, "change": "removed", "name": ra["name"], "before": ra["layout_status"], "after": "", "moved_m": np.nan, "x": ra["x"], "y": ra["y"], "x_before": ra["x"], "y_before": ra["y"]})  # fmt: skip
            continue
        d = float(np.hypot(rb["x"] - ra["x"], rb["y"] - ra["y"]))
        common = {**base, "name": rb["name"], "before": ra["layout_status"], "after": rb["layout_status"], "moved_m": d, "x": rb["x"], "y": rb["y"], "x_before": ra["x"], "y_before": ra["y"]}  # fmt: skip
        if d > moved_m:
            rows.append({**common, "change": "moved"})
        elif str(ra["layout_status"]) != str(rb["layout_status"]):
            rows.append({**common, "change": "status"})
    cols = ["change", "school_id", "level", "name", "before", "after", "moved_m", "x", "y", "x_before", "y_before"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _key_order(key: tuple[str, str]) -> tuple[int, str]:
    sid, lv = key
    return (LEVELS.index(lv) if lv in LEVELS else len(LEVELS), sid)


def _memberships(plan: Any) -> pd.DataFrame:
    """Per (school_id, level): role and the core school of its group ('' when none).

    Groups are named by their core school, not their group_id: ids are renumbered between runs.
    """
    s = _keyed(plan.schools)
    if "group_role" not in s:
        s["group_role"], s["group_id"] = "none", ""
    core_of = {}
    g = plan.groups
    if len(g) and "core_id" in g and "group_id" in g:
        core_of = dict(zip(g["group_id"].astype(str), g["core_id"].astype(str)))
    cores = s[s["group_role"] == "core"]
    for (sid, _lv), gid in zip(cores.index, cores["group_id"].astype(str)):
        core_of.setdefault(gid, sid)
    out = pd.DataFrame(index=s.index)
    out["role"] = s["group_role"].astype(str).replace({"": "none", "nan": "none"})
    out["core"] = [
        core_of.get(str(gid), "") if role != "none" else ""
        for gid, role in zip(s.get("group_id", pd.Series("", index=s.index)), out["role"])
    ]
    out["name"], out["x"], out["y"] = s["name"], s["x"], s["y"]
    return out


def _group_changes(a: Any, b: Any) -> pd.DataFrame:
    ma, mb = _memberships(a), _memberships(b)
    rows = []
    for key in sorted(set(ma.index) | set(mb.index), key=_key_order):
        ra = ma.loc[key] if key in ma.index else None
        rb = mb.loc[key] if key in mb.index else None
        before = ("absent", "") if ra is None else (ra["role"], ra["core"])
        after = ("absent", "") if rb is None else (rb["role"], rb["core"])
        if before == after or {before[0], after[0]} <= {"absent", "none"}:
            continue  # only real group changes: a school without a group on both sides is none
        r = rb if rb is not None else ra
        assert r is not None  # the key is in a or in b
        rows.append(
            dict(
                school_id=key[0],
                level=key[1],
                name=r["name"],
                role_before=before[0],
                core_before=before[1],
                role_after=after[0],
                core_after=after[1],
                x=r["x"],
                y=r["y"],
            )  # fmt: skip
        )
    cols = ["school_id", "level", "name", "role_before", "core_before", "role_after", "core_after", "x", "y"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _village_changes(da: pd.DataFrame, db: pd.DataFrame) -> pd.DataFrame:
    cols = ["unit_id", "name", "level", "school_before", "school_after", "km_before", "km_after", "x", "y"]  # fmt: skip
    if "unit_id" not in da or "unit_id" not in db:
        return pd.DataFrame(columns=cols)
    a = da.drop_duplicates("unit_id").set_index(da["unit_id"].astype(str).to_numpy())
    b = db.drop_duplicates("unit_id").set_index(db["unit_id"].astype(str).to_numpy())
    common = sorted(set(a.index) & set(b.index))
    pts = b.loc[common].geometry.representative_point() if common else None
    rows = []
    for lv in LEVELS:
        col, dcol = f"school_id_{lv}", f"distance_{lv}_km"
        if col not in a or col not in b:
            continue
        sa = a.loc[common, col].map(_sid)
        sb = b.loc[common, col].map(_sid)
        changed = sa.to_numpy() != sb.to_numpy()
        for uid in np.asarray(common)[changed]:
            assert pts is not None  # there are common units
            p = pts.loc[uid]
            name = b.at[uid, "name"] if "name" in b else ""
            rows.append(
                dict(
                    unit_id=uid,
                    name=name,
                    level=lv,
                    school_before=sa[uid],
                    school_after=sb[uid],
                    km_before=_num(a.at[uid, dcol]) if dcol in a else None,
                    km_after=_num(b.at[uid, dcol]) if dcol in b else None,
                    x=p.x,
                    y=p.y,
                )  # fmt: skip
            )
    return pd.DataFrame(rows, columns=cols)


def _sid(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    return str(v)


# --------------------------------------------------------------------------- rules
def rule_differences(plans: Sequence[Any], names: Sequence[str]) -> pd.DataFrame:
    """Rules parameters whose value differs between the plans (what makes the scenarios differ)."""
    rows = []
    for section, spec, _ in iter_specs(plans[0].rules):
        vals = [getattr(getattr(p.rules, section), spec.name) for p in plans]
        if len({repr(v) for v in vals}) > 1:
            rec = {
                "section": section,
                "name": spec.name,
                "label_zh": spec.info.zh,
                "label_en": spec.info.en,
                "unit": spec.info.unit,
            }
            rec.update(dict(zip(names, vals)))
            rows.append(rec)
    return pd.DataFrame(rows, columns=["section", "name", "label_zh", "label_en", "unit", *names])


# --------------------------------------------------------------------------- entry
def compare_plans(plans: Sequence[tuple[str, Any]], *, moved_m: float = 1.0) -> Comparison:
    """Compare two or more named plans; differences are against the first (the baseline)."""
    if len(plans) < 2:
        raise ValueError("compare needs at least two plans")
    names = _unique([n for n, _ in plans])
    results = [p for _, p in plans]
    levels = [lv for lv in LEVELS if any(lv in plan_levels(p) for p in results)]
    figures = [plan_metrics(p, levels) for p in results]
    rows = []
    for spec in metric_specs(levels):
        vals = [f.get(spec.key) for f in figures]
        rows.append(MetricRow(spec, vals, rank(vals, spec.better)))
    diffs = [
        diff_plans(results[0], p, name_a=names[0], name_b=n, moved_m=moved_m)
        for n, p in zip(names[1:], results[1:])
    ]
    return Comparison(
        names=names, rows=rows, diffs=diffs, rules=rule_differences(results, names), plans=results
    )


def _unique(names: list[str]) -> list[str]:
    """Names made distinct (two folders both called 'plan' become 'plan' and 'plan (2)')."""
    out: list[str] = []
    for n in names:
        base, k, cand = n or "方案", 1, n or "方案"
        while cand in out:
            k += 1
            cand = f"{base} ({k})"
        out.append(cand)
    return out


__all__ = [
    "MetricSpec",
    "MetricRow",
    "PlanDiff",
    "Comparison",
    "metric_specs",
    "plan_metrics",
    "diff_plans",
    "rule_differences",
    "compare_plans",
    "weighted_quantile",
    "rank",
]
