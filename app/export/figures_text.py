"""The headline figures of a plan worded for tables.xlsx and report.docx.

Nothing is computed here: every figure is ``planning.figures.plan_figures``'s (the one place
figures are computed, also summary.json's, the print map's panel's, the window's and the
comparison's), in the order of ``Figures.all_keys``: 现状 per level then county, 规划后 per level
then county. Each figure appears once; the summary sheet and the report word the same values.
``far_units`` lists the units behind the ``too_far`` figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from app.export import symbology as sym
from core.vocab import LEVELS
from planning.figures import COUNTY_FIGURES, Figures, plan_figures
from planning.present import PresentResult, run_present


@dataclass(frozen=True)
class Figure:
    """One figure as the documents show it: state (现状 / 规划后), level ("" = county), its key in
    ``Figures``, the label with the level (``zh``, ``en``), without it (``short_zh``, for a table
    whose columns are the levels), the value and its text."""

    state: str  # "present" | "plan"
    level: str
    key: str
    zh: str
    en: str
    short_zh: str
    value: float | None
    text_zh: str
    text_en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" else self.text_zh


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
    """现状 of the plan's schools run again (the junior planning areas by name, and a plan
    written before the pipeline's 现状 stage put the flags on the schools layer)."""
    units = result.demand
    if units is None or len(units) == 0 or "population" not in units:
        units = pd.DataFrame({"population": [], "town": []})
    if "town" not in units:
        units = units.assign(town="")
    return run_present(result.schools, units, result.rules)


def headline(result, figures: Figures | None = None) -> list[Figure]:
    """Every figure of ``plan_figures(result)`` worded, each once (``Figures.all_keys``)."""
    figs = figures if figures is not None else plan_figures(result)
    out = []
    for state, key in figs.all_keys():
        level = "" if key in COUNTY_FIGURES else key.rpartition("_")[2]
        out.append(
            Figure(
                state=state, level=level, key=key, zh=figs.label(key, "zh"),
                en=figs.label(key, "en"), short_zh=figs.label(key, "zh", with_level=False),
                value=figs.value(key), text_zh=figs.text(key, "zh"), text_en=figs.text(key, "en"),
            )
        )  # fmt: skip
    return out


def fmt(f: Figure, lang: str = "zh") -> str:
    """A figure as documents print it (``Figures.text``)."""
    return f.text(lang)


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
