"""What ``run_new_schools`` returns: the frames and a typed summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

# ``site``: where the school was put, a core.vocab.NEW_SCHOOL_SITE code ("proposed": at a site
# proposed from the population, planning.proposals).
NEW_COLUMNS = [
    "school_id", "name", "level", "classes", "capacity", "unit_id", "site", "rule", "rule_en"
]  # fmt: skip


@dataclass(frozen=True)
class NewSchoolSummary:
    """Counts of a new-school plan; ``to_dict`` is the ``new_schools`` part of summary.json."""

    primary: int  # new schools per level
    junior: int
    senior: int
    classes_total: int
    capacity_total: int
    by_rule: dict[str, int]  # new schools per rule (primary_small, primary_large, ...), sorted
    solve_seconds: float
    planning_unit: str
    areas_gap_below_min: int  # areas whose gap is left to expanding nearby schools
    unserved_after: dict[str, int]  # per level: children still without a place
    layout: dict[str, int]  # existing schools per layout status

    def to_dict(self) -> dict[str, Any]:
        return {
            "primary": self.primary,
            "junior": self.junior,
            "senior": self.senior,
            "classes_total": self.classes_total,
            "capacity_total": self.capacity_total,
            "by_rule": dict(self.by_rule),
            "solve_seconds": self.solve_seconds,
            "planning_unit": self.planning_unit,
            "areas_gap_below_min": self.areas_gap_below_min,
            "unserved_after": dict(self.unserved_after),
            "layout": dict(self.layout),
        }


@dataclass
class NewSchoolResult:
    """New schools, the per-area requirement table and the layout status of existing schools."""

    new_schools: gpd.GeoDataFrame  # NEW_COLUMNS + geometry (Point), schools' CRS
    layout_status: pd.Series  # indexed like schools: permanent | transitional | to_merge
    layout_reason: pd.Series  # zh
    layout_reason_en: pd.Series
    merge_into: pd.Series  # receiving school_id for to_merge, else ""
    requirements: pd.DataFrame  # one row per planning area and level
    summary: NewSchoolSummary
    status: str  # ok | empty
    context: pd.DataFrame = field(default_factory=pd.DataFrame)  # per new school: location, type


__all__ = ["NEW_COLUMNS", "NewSchoolSummary", "NewSchoolResult"]
