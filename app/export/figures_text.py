"""The headline figures of a plan, computed once for tables.xlsx and report.docx.

Kept small on purpose: 现状 (the present, from the data as given) comes from
``planning.present.run_present``, 规划后 (after the plan) from the plan's own layers and summary.
Both documents read ``headline`` / ``far_units`` and nothing else for these figures, so the summary
sheet and the report cannot disagree. (The figures issue moves the computation to
``planning.figures``; this module then only words its result.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from app.export import symbology as sym
from core.vocab import LEVELS
from planning.present import PresentResult, run_present

INT = "int"
PCT = "pct"
KM = "km"


@dataclass(frozen=True)
class Figure:
    """One headline figure: which state (现状 / 规划后), level ("" = county), label, value."""

    state: str  # "present" | "plan"
    level: str
    key: str
    zh: str
    en: str
    value: float | int | str
    kind: str = INT  # INT | PCT | KM | "text"

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


STATE_LABEL = {"present": ("现状", "Present"), "plan": ("规划后", "After the plan")}


def plan_year(result) -> int:
    """The year the plan is made (meta ``created``), else this year."""
    created = str((result.meta or {}).get("created") or "")
    return int(created[:4]) if created[:4].isdigit() else date.today().year


def start_year(result) -> int:
    """The pairing start year: rules.groups.start_year, 0 meaning the plan year."""
    y = int(getattr(result.rules.groups, "start_year", 0) or 0)
    return y or plan_year(result)


def present(result) -> PresentResult:
    """现状 of the plan's schools; units are the demand layer (population and township)."""
    units = result.demand
    if units is None or len(units) == 0 or "population" not in units:
        units = pd.DataFrame({"population": [], "town": []})
    if "town" not in units:
        units = units.assign(town="")
    return run_present(result.schools, units, result.rules)


def _num(frame: pd.DataFrame | None, col: str, mask=None) -> float:
    if frame is None or col not in frame:
        return 0.0
    v = pd.to_numeric(frame[col], errors="coerce").fillna(0)
    return float(v[mask].sum() if mask is not None else v.sum())


def _present_figures(result, pr: PresentResult) -> list[Figure]:
    out = []
    for lv in LEVELS:
        p = pr.levels[lv]
        if not p.schools:
            continue
        util = p.students / p.capacity if p.capacity else float("nan")
        out += [
            Figure("present", lv, "schools", "学校数", "Schools", p.schools),
            Figure("present", lv, "students", "在校学生数", "Pupils", p.students),
            Figure("present", lv, "capacity", "学位数", "Places", p.capacity),
            Figure("present", lv, "utilization", "学位利用率", "Utilisation", util, PCT),
            Figure("present", lv, "over_capacity", "超容量学校", "Schools over capacity",
                   p.over_capacity_schools),
            Figure("present", lv, "oversized", "大班额学校(≥56人/班)", "Schools with oversized classes",
                   p.oversized_class_schools),
        ]  # fmt: skip
        if lv == "senior":
            out.append(
                Figure("present", lv, "over_max", "超规模高中(>3000人)", "Senior schools over the size limit",
                       p.over_max_students_schools)
            )  # fmt: skip
        if lv == "junior" and pr.junior_areas:
            out.append(
                Figure("present", lv, "junior_short", "初中班额不足的乡镇", "Townships short of junior classes",
                       p.junior_short_areas)
            )  # fmt: skip
    return out


def _plan_figures(result) -> list[Figure]:
    s, z, d = result.schools, result.catchments, result.demand
    status = (
        s["layout_status"].astype(str) if "layout_status" in s else pd.Series("", index=s.index)
    )
    out = []
    for lv in LEVELS:
        at = (s["level"] == lv).to_numpy()
        if not at.any():
            continue
        st = status[at]
        zl = z[z["level"] == lv] if z is not None and len(z) else None
        students, capacity = _num(zl, "students"), _num(zl, "capacity")
        is_new = st == "new"
        over = (
            0 if zl is None else int((pd.to_numeric(zl["utilization"], errors="coerce") > 1).sum())
        )
        too_far = (
            _num(d, f"students_{lv}", d[f"status_{lv}"] == "too_far")
            if d is not None and f"status_{lv}" in d
            else 0.0
        )
        out += [
            Figure("plan", lv, "open", "开办学校数", "Open schools", int((st != "to_merge").sum())),
            Figure("plan", lv, "new", "新建学校", "New schools", int(is_new.sum())),
            Figure("plan", lv, "new_places", "新增学位", "New places",
                   int(_num(s[at], "capacity", is_new.to_numpy()))),
            Figure("plan", lv, "transitional", "过渡保留学校", "Transitional schools", int((st == "transitional").sum())),
            Figure("plan", lv, "to_merge", "撤并学校", "Schools to merge", int((st == "to_merge").sum())),
            Figure("plan", lv, "students", "学区学生数", "Zoned pupils", int(students)),
            Figure("plan", lv, "utilization", "学位利用率", "Utilisation",
                   students / capacity if capacity else float("nan"), PCT),
            Figure("plan", lv, "over_capacity", "超容量学区", "Zones over capacity", over),
            Figure("plan", lv, "too_far", "超出就学距离的学生", "Pupils beyond the distance limit", int(too_far)),
        ]  # fmt: skip
    g = (result.summary or {}).get("groups") or {}
    n_groups = len(result.groups) if result.groups is not None else 0
    out.append(Figure("plan", "", "groups", "教育集团(结对)数", "Groups (pairings)", n_groups))
    if g.get("eligible"):
        cov = f"{g.get('coverage_pct', 0):.1f}% ({g.get('in_groups', 0)} / {g.get('eligible', 0)})"
        out.append(Figure("plan", "", "coverage", "集团化覆盖率(参加 / 可参加学校)",
                          "Group coverage (in groups / eligible)", cov, "text"))  # fmt: skip
    return out


def headline(result, pr: PresentResult | None = None) -> list[Figure]:
    """Every headline figure of the plan: 现状 per level, then 规划后 per level and county."""
    return _present_figures(result, pr if pr is not None else present(result)) + _plan_figures(
        result
    )


def fmt(f: Figure) -> str:
    """A figure as documents print it."""
    if f.kind == PCT:
        return sym.fmt_pct(f.value)
    if f.kind == KM:
        return sym.fmt_num(f.value, 1)
    if f.kind == "text":
        return str(f.value)
    return sym.fmt_num(f.value)


FAR_COLUMNS = ("unit", "town", "level", "pupils", "distance_km", "school", "nearest")


def far_units(result, lang: str = "zh") -> pd.DataFrame:
    """Units beyond the distance limit, per level: name, township, pupils, the plan's school and
    distance, and the nearest open school (straight line), most pupils first within a level."""
    d, s = result.demand, result.schools
    rows = []
    if d is None or len(d) == 0:
        return pd.DataFrame(columns=FAR_COLUMNS)
    names = dict(zip(s["school_id"].astype(str), s["name"].astype(str), strict=False))
    pts = d.geometry.representative_point()
    uxy = np.column_stack([pts.x, pts.y])
    open_ = s["layout_status"].astype(str) != "to_merge" if "layout_status" in s else True
    for lv in LEVELS:
        col = f"status_{lv}"
        if col not in d:
            continue
        far = np.flatnonzero((d[col] == "too_far").to_numpy())
        mine = s[(s["level"] == lv) & open_]
        if not len(far) or not len(mine):
            continue
        _, near = cKDTree(np.column_stack([mine.geometry.x, mine.geometry.y])).query(uxy[far])
        for i, k in zip(far, near, strict=True):
            r = d.iloc[i]
            rows.append(
                {
                    "unit": str(r.get("name") or r["unit_id"]),
                    "town": str(r.get("town") or ""),
                    "level": sym.level_name(lv, lang),
                    "pupils": float(r[f"students_{lv}"]),
                    "distance_km": float(r[f"distance_{lv}_km"]),
                    "school": names.get(str(r[f"school_id_{lv}"]), ""),
                    "nearest": str(mine["name"].iat[int(k)]),
                    "_lv": LEVELS.index(lv),
                }
            )
    if not rows:
        return pd.DataFrame(columns=FAR_COLUMNS)
    out = pd.DataFrame(rows).sort_values(["_lv", "pupils"], ascending=[True, False], kind="stable")
    return out[list(FAR_COLUMNS)].reset_index(drop=True)
