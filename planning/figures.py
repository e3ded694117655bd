"""Every headline figure of a plan, computed once.

summary.json (``figures``), tables.xlsx, the window's overview, the print map's panel, the
comparison (``planning.compare.plan_metrics``) and the CLI's closing lines all read
``plan_figures(result)``, so a meeting sees one value per figure wherever it looks. Each figure
says whether it is 现状 (the present, from the data as given: summary.json ``current``) or 规划后
(after the plan: the engines' summaries). A plan read back from disk without the engines'
figures is counted from its layers by the same definitions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.vocab import FIGURE, LEVEL, LEVELS

# Demand statuses of the catchment engine (core.vocab.DEMAND_STATUS), and the aliases older
# outputs used.
SERVED = frozenset({"assigned", "served", "ok", "split"})
NO_CAPACITY = frozenset({"unserved", "no_capacity", "over_capacity", "no_place"})
TOO_FAR = frozenset({"too_far", "beyond", "out_of_reach"})

# The few figures a panel with little room shows (the overview, the print map, the CLI).
HEADLINE = ("groups", "coverage_pct", "members_not_placed", "over_capacity_now", "oversized_now",
            "over_max_now", "over_capacity_after", "oversized_after", "no_zone")  # fmt: skip
# Per level, in this order (the key of each is ``<code>_<level>``).
LEVEL_FIGURES = ("new_schools", "new_classes", "placed", "too_far", "no_place", "mean_km",
                 "p95_km", "max_km", "off_road")  # fmt: skip
COUNTY_FIGURES = ("groups", "coverage_pct", "coverage_target_pct", "members_not_placed",
                  "funding_min_yuan", "over_capacity_now", "oversized_now", "over_max_now",
                  "junior_short_now", "over_capacity_after", "oversized_after",
                  "no_zone")  # fmt: skip
# Per level, the fuller tables of tables.xlsx's summary sheet and the report (present state,
# then after the plan); not in ``keys()``: the comparison and the panels keep the short list.
PRESENT_LEVEL_FIGURES = ("schools_now", "students_now", "capacity_now", "utilization_now",
                         "over_capacity_level_now", "oversized_level_now")  # fmt: skip
AFTER_LEVEL_FIGURES = ("open_schools", "new_places", "transitional", "to_merge", "zoned",
                       "utilization_after", "over_capacity_level_after")  # fmt: skip
UNITS = {"utilization_now": "%", "utilization_after": "%", "zoned": "人", "students_now": "人",
         "capacity_now": "个", "new_places": "个", "coverage_pct": "%", "coverage_target_pct": "%",
         "funding_min_yuan": "元", "mean_km": "km", "p95_km": "km", "max_km": "km", "placed": "人", "too_far": "人",
         "no_place": "人", "off_road": "人", "new_classes": "班"}  # fmt: skip


@dataclass(frozen=True)
class LevelFigures:
    new_schools: float
    new_classes: float
    placed: float | None
    too_far: float | None
    no_place: float | None
    mean_km: float | None
    p95_km: float | None
    max_km: float | None
    # Placed pupils whose road distance rests on an off-road leg (None: not a road plan).
    off_road: float | None = None
    # The summary sheet's and the report's fuller tables (PRESENT_/AFTER_LEVEL_FIGURES).
    schools_now: float | None = None
    students_now: float | None = None
    capacity_now: float | None = None
    utilization_now: float | None = None  # %
    over_capacity_level_now: float | None = None
    oversized_level_now: float | None = None
    open_schools: float | None = None
    new_places: float | None = None
    transitional: float | None = None
    to_merge: float | None = None
    zoned: float | None = None
    utilization_after: float | None = None  # %
    over_capacity_level_after: float | None = None


@dataclass(frozen=True)
class Figures:
    """The headline figures; ``None`` where the plan cannot tell."""

    groups: float
    in_groups: int | None
    coverage_base: int | None
    coverage_basis: str
    coverage_pct: float | None
    coverage_target_pct: float | None
    members_not_placed: float | None
    funding_min_yuan: float | None
    over_capacity_now: float | None
    oversized_now: float | None
    over_max_now: float | None
    junior_short_now: float | None
    over_capacity_after: float | None
    oversized_after: float | None
    no_zone: float | None  # open schools without a zone, each with its reason (zone_reason)
    levels: dict[str, LevelFigures] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["levels"] = {lv: asdict(f) for lv, f in self.levels.items()}
        return out

    def value(self, key: str) -> float | None:
        """A figure by its flat key (``coverage_pct``, ``placed_primary``, ...)."""
        if key in COUNTY_FIGURES:
            return as_number(getattr(self, key))
        code, _, lv = key.rpartition("_")
        return as_number(getattr(self.levels[lv], code))

    def keys(self) -> list[str]:
        out = list(COUNTY_FIGURES)
        out += [f"{code}_{lv}" for lv in self.levels for code in LEVEL_FIGURES]
        return out

    def all_keys(self) -> list[tuple[str, str]]:
        """(state, key) of every figure, present first then after the plan, each state's levels
        before the county: the summary sheet's rows, each figure once."""
        now = [f"{c}_{lv}" for lv in self.levels for c in PRESENT_LEVEL_FIGURES]
        now += [k for k in COUNTY_FIGURES if k.endswith("_now")]
        after = [
            f"{c}_{lv}"
            for lv in self.levels
            for c in (*AFTER_LEVEL_FIGURES[:1], *LEVEL_FIGURES[:2], *AFTER_LEVEL_FIGURES[1:],
                      *LEVEL_FIGURES[2:])
        ]  # fmt: skip
        after += [k for k in COUNTY_FIGURES if not k.endswith("_now")]
        return [("present", k) for k in now] + [("plan", k) for k in after]

    def label(self, key: str, lang: str = "zh", *, with_level: bool = True) -> str:
        """A figure's words; ``with_level=False`` leaves a level's name out (a table whose
        columns are the levels)."""
        if key in COUNTY_FIGURES:
            return FIGURE.label(key, lang)
        code, _, lv = key.rpartition("_")
        name = LEVEL.label(lv, lang) if with_level else ""
        text = FIGURE.label(code, lang, level=name if lang != "en" else name.capitalize())
        return text if with_level else text.removeprefix(": ")

    def coverage_text(self, lang: str = "zh") -> str:
        """The coverage's definition beside it: "126 / 162 所开办学校"."""
        if self.in_groups is None or self.coverage_base is None:
            return ""
        return FIGURE.label(
            f"coverage_basis_{self.coverage_basis}",
            lang,
            in_groups=self.in_groups,
            base=self.coverage_base,
        )

    def text(self, key: str, lang: str = "zh") -> str:
        """The figure as every output prints it (coverage with its definition beside it)."""
        v = self.value(key)
        code = key if key in COUNTY_FIGURES else key.rpartition("_")[0]
        unit = UNITS.get(code, "")
        if v is None:
            return "—"
        if unit == "%":
            out = f"{v:.1f} %"
            if key == "coverage_pct" and self.coverage_text(lang):
                out += f" ({self.coverage_text(lang)})"
            return out
        if unit == "km":
            return f"{v:.2f} km"
        if unit == "元":
            return f"{v:,.0f} " + ("yuan" if lang == "en" else "元")
        return f"{v:,.0f}"

    def rows(self, lang: str = "zh") -> list[tuple[str, str, float | None, str]]:
        """(key, label, value, unit) of every figure, in the order a meeting reads them."""
        out = []
        for key in self.keys():
            code = key if key in COUNTY_FIGURES else key.rpartition("_")[0]
            out.append((key, self.label(key, lang), self.value(key), UNITS.get(code, "所")))
        return out


def as_number(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value with at least ``q`` of the weight at or below it (a pupil's distance)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cum = np.cumsum(w)
    i = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1], side="left"))
    return float(v[min(i, len(v) - 1)])


def plan_levels(plan: Any) -> list[str]:
    """Levels the plan has schools or pupils of, in level order."""
    have = set(plan.schools["level"]) if "level" in plan.schools else set()
    have |= {lv for lv in LEVELS if f"students_{lv}" in plan.demand.columns}
    return [lv for lv in LEVELS if lv in have]


def _demand_figures(demand: pd.DataFrame, lv: str) -> dict[str, float | None]:
    """A level's pupil and distance figures from the demand layer (a plan without the engine's)."""
    scol, stcol, dcol = f"students_{lv}", f"status_{lv}", f"distance_{lv}_km"
    if scol not in demand or stcol not in demand:
        return dict.fromkeys(LEVEL_FIGURES[2:])
    pupils = pd.to_numeric(demand[scol], errors="coerce").fillna(0.0).to_numpy(float)
    status = demand[stcol].astype(str).to_numpy()
    served = np.isin(status, list(SERVED))
    far = np.isin(status, list(TOO_FAR))
    out: dict[str, float | None] = {
        "placed": float(pupils[served].sum()),
        "no_place": float(pupils[np.isin(status, list(NO_CAPACITY))].sum()),
        "too_far": float(pupils[far].sum()),
    }
    dist = (
        pd.to_numeric(demand[dcol], errors="coerce").to_numpy(float)
        if dcol in demand
        else np.full(len(demand), np.nan)
    )
    placed = served | far  # like the engine: every placed pupil
    ok = placed & np.isfinite(dist) & (pupils > 0)
    if ok.any():
        d, w = dist[ok], pupils[ok]
        out.update(
            mean_km=float(np.average(d, weights=w)),
            p95_km=weighted_quantile(d, w, 0.95),
            max_km=float(d.max()),
        )
    else:
        out.update(mean_km=None, p95_km=None, max_km=None)
    return out


def _level_figures(plan: Any, lv: str) -> LevelFigures:
    ns = plan.new_schools
    sel = ns[ns["level"] == lv] if len(ns) and "level" in ns else ns.iloc[0:0]
    figs = (plan.summary.get("catchments") or {}).get(lv)
    if isinstance(figs, dict) and "assigned" in figs:
        pupils: dict[str, float | None] = {
            "placed": as_number(figs.get("assigned")),
            "too_far": as_number(figs.get("too_far")),
            "no_place": as_number(figs.get("unserved")),
            "mean_km": as_number(figs.get("mean_distance_km")),
            "p95_km": as_number(figs.get("p95_distance_km")),
            "max_km": as_number(figs.get("max_distance_km")),
            "off_road": as_number(figs.get("pupils_off_road")),
        }
    else:
        pupils = _demand_figures(plan.demand, lv)
    return LevelFigures(
        new_schools=float(sel["school_id"].nunique()) if len(sel) else 0.0,
        new_classes=float(sel["classes"].sum()) if len(sel) and "classes" in sel else 0.0,
        new_places=float(pd.to_numeric(sel["capacity"]).sum()) if "capacity" in sel else 0.0,
        **pupils,
        **_present_level(plan, lv),
        **_after_level(plan, lv, figs if isinstance(figs, dict) else {}),
    )


def _pct(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100.0 * part / whole, 1)


def _present_level(plan: Any, lv: str) -> dict[str, float | None]:
    """A level's present (现状) from summary.json ``current``, else from the schools layer
    (its existing schools and the present flags the pipeline's 现状 stage put on them)."""
    cur = (plan.summary.get("current") or {}).get(lv)
    if isinstance(cur, dict) and "schools" in cur:
        n, students, capacity = (float(cur.get(k, 0)) for k in ("schools", "students", "capacity"))
        over, oversized = cur.get("over_capacity_schools"), cur.get("oversized_class_schools")
    else:
        s = plan.schools
        m = (s["level"] == lv) & (s.get("status", "existing") == "existing")
        sub = s[m]
        n = float(len(sub))
        students = float(pd.to_numeric(sub["students"], errors="coerce").fillna(0).sum())
        capacity = float(pd.to_numeric(sub["capacity"], errors="coerce").fillna(0).sum())
        flags = [
            float(sub[c].astype(bool).sum()) if c in sub else None
            for c in ("over_capacity", "oversized_class")
        ]
        over, oversized = flags
    return {
        "schools_now": n,
        "students_now": students,
        "capacity_now": capacity,
        "utilization_now": _pct(students, capacity),
        "over_capacity_level_now": as_number(over),
        "oversized_level_now": as_number(oversized),
    }


def _after_level(plan: Any, lv: str, figs: dict[str, Any]) -> dict[str, float | None]:
    """A level's schools after the plan (layout) and its zones (the catchment engine's figures,
    else the zones layer)."""
    s = plan.schools
    st = s.loc[s["level"] == lv, "layout_status"].astype(str) if "layout_status" in s else None
    c = plan.catchments
    z = c[c["level"] == lv] if len(c) and "level" in c else c.iloc[0:0]
    students = pd.to_numeric(z.get("students", pd.Series(dtype=float)), errors="coerce").fillna(0)
    capacity = pd.to_numeric(z.get("capacity", pd.Series(dtype=float)), errors="coerce").fillna(0)
    zoned = as_number(figs.get("students")) if "students" in figs else float(students.sum())
    over = figs.get("over_capacity_schools")
    return {
        "open_schools": float((st != "to_merge").sum())
        if st is not None
        else float((s["level"] == lv).sum()),
        "transitional": float((st == "transitional").sum()) if st is not None else None,
        "to_merge": float((st == "to_merge").sum()) if st is not None else None,
        "zoned": zoned,
        "utilization_after": _pct(zoned, float(capacity.sum())),
        "over_capacity_level_after": as_number(over)
        if over is not None
        else float((students > capacity).sum()),
    }


def _flag_count(plan: Any, col: str) -> float | None:
    s = plan.schools
    if col not in s:
        return None
    v = s[col]
    flags = v.astype(str).str.lower().isin(("1", "true", "yes")) if v.dtype == object else v
    return float(pd.to_numeric(flags, errors="coerce").fillna(0).astype(bool).sum())


def _present(plan: Any) -> dict[str, float | None]:
    """现状 from summary.json ``current``, else from the schools layer's flags."""
    cur = plan.summary.get("current") or {}
    if cur:
        tot = {
            k: float(sum(v.get(k, 0) for v in cur.values()))
            for k in ("over_capacity_schools", "oversized_class_schools")
        }
        return {
            "over_capacity_now": tot["over_capacity_schools"],
            "oversized_now": tot["oversized_class_schools"],
            "over_max_now": float(sum(v.get("over_max_students_schools", 0) for v in cur.values())),
            "junior_short_now": float((cur.get("junior") or {}).get("junior_short_areas", 0)),
        }
    return {
        "over_capacity_now": _flag_count(plan, "over_capacity"),
        "oversized_now": _flag_count(plan, "oversized_class"),
        "over_max_now": _flag_count(plan, "over_max_students"),
        "junior_short_now": None,
    }


def _after(plan: Any, levels: list[str]) -> tuple[float | None, float | None]:
    """Schools over capacity and with oversized classes as the plan zones the pupils."""
    cs = plan.summary.get("catchments") or {}
    figs = [f for f in (cs.get(lv) for lv in levels) if isinstance(f, dict) and "assigned" in f]
    if len(figs) == len(levels):
        over_sum = sum(float(f.get("over_capacity_schools") or 0) for f in figs)
        oversized_sum = sum(float(f.get("oversized_schools") or 0) for f in figs)
        return over_sum, oversized_sum
    c = plan.catchments
    if not len(c) or "students" not in c or "capacity" not in c:
        return (0.0, 0.0) if not len(c) else (None, None)
    students = pd.to_numeric(c["students"], errors="coerce").fillna(0)
    capacity = pd.to_numeric(c["capacity"], errors="coerce").fillna(0)
    over = float((students > capacity).sum())
    if "oversized" not in c:
        return over, None
    flag = c["oversized"]
    if flag.dtype == object or str(flag.dtype) in ("str", "string"):
        flag = flag.astype(str).str.strip().str.lower().isin(("1", "true", "yes"))
    return over, float(pd.to_numeric(flag, errors="coerce").fillna(0).astype(bool).sum())


def _no_zone(plan: Any) -> float | None:
    s = plan.schools
    if "zone_reason_code" not in s:
        return None
    return float((s["zone_reason_code"].fillna("").astype(str) != "").sum())


def _coverage(plan: Any, g: dict[str, Any]) -> tuple[str, int | None, int | None, float | None]:
    """(basis, in groups, counted over, %): the grouping engine's (summaries written before the
    basis existed counted over the eligible schools), else counted from the schools layer over
    every open school (existing ones not marked to merge, plus new ones)."""
    if "coverage_pct" in g:
        basis = str(g.get("coverage_basis", "eligible"))
        base = g.get("coverage_base", g.get("eligible"))
        n_in = g.get("in_groups")
        return (
            basis,
            int(n_in) if n_in is not None else None,
            int(base) if base is not None else None,
            as_number(g["coverage_pct"]),
        )
    s = plan.schools
    if "group_role" not in s:
        return "open", None, None, None
    keep = s.get("layout_status", pd.Series("", index=s.index)) != "to_merge"
    active = s[keep]
    if not len(active):
        return "open", 0, 0, None
    n_in = int((active["group_role"] != "none").sum())
    return "open", n_in, len(active), round(100.0 * n_in / len(active), 1)


def plan_figures(plan: Any, levels: list[str] | None = None) -> Figures:
    """Every headline figure of ``plan`` (a ``PlanResult``, live or read back)."""
    levels = list(levels or plan_levels(plan))
    g = dict(plan.summary.get("groups") or {})
    basis, in_groups, base, cov = _coverage(plan, g)
    funding = plan.groups["funding_min_yuan"] if "funding_min_yuan" in plan.groups else None
    over_after, oversized_after = _after(plan, levels)
    return Figures(
        groups=(as_number(g.get("count")) or 0.0) if "count" in g else float(len(plan.groups)),
        in_groups=in_groups,
        coverage_base=base,
        coverage_basis=basis,
        coverage_pct=cov,
        coverage_target_pct=as_number(g.get("target_pct", plan.rules.groups.coverage_target_pct)),
        members_not_placed=as_number(g.get("members_unplaced")),
        funding_min_yuan=float(pd.to_numeric(funding).sum())
        if funding is not None
        else as_number(g.get("funding_min_yuan")),
        over_capacity_after=over_after,
        no_zone=_no_zone(plan),
        oversized_after=oversized_after,
        levels={lv: _level_figures(plan, lv) for lv in levels},
        **_present(plan),
    )
