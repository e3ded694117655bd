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

from core.vocab import FIGURE, LEVEL, LEVELS
from planning.figures import as_number, plan_figures, plan_levels, weighted_quantile
from planning.rules import iter_specs

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
    )  # unit_id, name, level, school_before, school_after, km_before, km_after, pupils, x, y

    def moved(self) -> dict[str, tuple[int, float]]:
        """Per level with a change: units and pupils that change school (re-zoning, issue 15)."""
        v = self.villages
        out: dict[str, tuple[int, float]] = {}
        for lv in LEVELS:
            at = v[v["level"] == lv] if len(v) else v
            if len(at):
                out[lv] = (int(at["unit_id"].nunique()), float(at["pupils"].fillna(0).sum()))
        return out

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
    fz, fe = FIGURE.labels("zh"), FIGURE.labels("en")
    out += [
        # 现状 (the data as given): the same for every scenario of a county, so not ranked
        MetricSpec("over_capacity_now", fz["over_capacity_now"], fe["over_capacity_now"], "所"),
        MetricSpec("oversized_now", fz["oversized_now"], fe["oversized_now"], "所"),
        MetricSpec(
            "over_capacity", fz["over_capacity_after"], fe["over_capacity_after"], "所", LOWER
        ),
        MetricSpec("oversized", fz["oversized_after"], fe["oversized_after"], "所", LOWER),
        MetricSpec("funding_min_yuan", "集团最低年度经费", "Minimum yearly group funding", "元"),
    ]
    return out


# The comparison's row keys → the figure of planning.figures (the one place figures are computed).
_METRIC_KEYS = {"members_unplaced": "members_not_placed", "over_capacity": "over_capacity_after",
                "oversized": "oversized_after"}  # fmt: skip
_LEVEL_KEYS = {"served": "placed", "no_capacity": "no_place"}


def plan_metrics(plan: Any, levels: Sequence[str] | None = None) -> dict[str, float | None]:
    """Every figure of ``metric_specs`` for one plan, read from ``planning.figures``; None
    where the plan cannot tell."""
    fig = plan_figures(plan, list(levels) if levels else None)
    out: dict[str, float | None] = {}
    for spec in metric_specs(list(fig.levels)):
        if spec.level:
            code = spec.key[: -len(spec.level) - 1]
            key = f"{_LEVEL_KEYS.get(code, code)}_{spec.level}"
        else:
            key = _METRIC_KEYS.get(spec.key, spec.key)
        out[spec.key] = fig.value(key)
    return out


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
    cols = ["unit_id", "name", "level", "school_before", "school_after", "km_before", "km_after", "pupils", "x", "y"]  # fmt: skip
    if "unit_id" not in da or "unit_id" not in db:
        return pd.DataFrame(columns=cols)
    a = da.drop_duplicates("unit_id").set_index(da["unit_id"].astype(str).to_numpy())
    b = db.drop_duplicates("unit_id").set_index(db["unit_id"].astype(str).to_numpy())
    common = sorted(set(a.index) & set(b.index))
    pts = b.loc[common].geometry.representative_point() if common else None
    rows = []
    for lv in LEVELS:
        col, dcol, pcol = f"school_id_{lv}", f"distance_{lv}_km", f"students_{lv}"
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
                    km_before=as_number(a.at[uid, dcol]) if dcol in a else None,
                    km_after=as_number(b.at[uid, dcol]) if dcol in b else None,
                    pupils=as_number(b.at[uid, pcol]) if pcol in b else None,
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
