"""现状: the present state of every school, from the data as given, before any plan.

The plan's own figures (catchments) describe pupils as the model zones them, and the default
capacity mode never places more pupils than places: flags computed there can never show today's
crowding. These flags read the enrolment the bureau reported, so a meeting sees the present as
the data states it, next to the plan (规划后).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from core.vocab import LEVELS
from planning.newschools import requirement
from planning.rules import Rules

# Columns added to the schools layer and sheet (one row per school and level).
PRESENT_COLUMNS: tuple[str, ...] = (
    "students_per_class",
    "utilization_now",
    "over_capacity",
    "oversized_class",
    "over_max_students",
    "junior_short",
)


@dataclass(frozen=True)
class LevelPresent:
    """One level's present figures (summary.json → current.<level>)."""

    schools: int
    students: int
    capacity: int
    classes: int
    over_capacity_schools: int
    oversized_class_schools: int
    over_max_students_schools: int
    junior_short_areas: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class JuniorArea:
    """A junior planning area (township or county) and what its junior schools give."""

    area: str
    population: float
    required_schools: int
    required_classes: int
    classes: int
    schools: int

    @property
    def short(self) -> bool:
        return self.classes < self.required_classes


@dataclass(frozen=True)
class PresentResult:
    schools: pd.DataFrame  # indexed like the schools layer, PRESENT_COLUMNS
    levels: dict[str, LevelPresent]
    junior_areas: tuple[JuniorArea, ...]

    def to_dict(self) -> dict[str, dict[str, int]]:
        return {lv: s.to_dict() for lv, s in self.levels.items()}

    # A plan stage's result: its summary (summary.json → current) and status.
    @property
    def summary(self) -> PresentResult:
        return self

    @property
    def status(self) -> str:
        return "ok"


def _school_towns(schools: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> np.ndarray:
    """Each school's township: that of its nearest population unit ("" without towns)."""
    if (
        units is None
        or len(units) == 0
        or "town" not in units
        or not units["town"].astype(bool).any()
    ):
        return np.full(len(schools), "", dtype=object)
    uxy = np.column_stack([units.geometry.centroid.x, units.geometry.centroid.y])
    sxy = np.column_stack([schools.geometry.x, schools.geometry.y])
    _, idx = cKDTree(uxy).query(sxy)
    towns: np.ndarray = units["town"].to_numpy(dtype=object)[idx]
    return towns


def junior_areas(
    schools: gpd.GeoDataFrame, units: gpd.GeoDataFrame, rules: Rules
) -> tuple[tuple[JuniorArea, ...], np.ndarray]:
    """Junior planning areas over the population threshold, and each school's area name.

    002 §二.3: one junior school of at least ``junior_min_classes`` classes per
    ``junior_per_population`` people; an area whose junior schools together have fewer classes
    than that is short today. The number of schools an area needs is the new-school planning's
    own (``planning.newschools.requirement``, the rules' ``count_rounding``), so the present and
    the plan count the same way.
    """
    p = rules.new_schools
    unit = p.junior_planning_unit
    if unit == "town":
        towns = units["town"].astype(str).to_numpy(dtype=object)
        school_area = _school_towns(schools, units)
    else:  # county (a per-unit area is too small to hold a junior school of its own)
        towns = np.full(len(units), "", dtype=object)
        school_area = np.full(len(schools), "", dtype=object)
    pop = units["population"].to_numpy(dtype=float)
    areas = []
    is_junior = (schools["level"] == "junior").to_numpy() & (
        schools["status"] == "existing"
    ).to_numpy()
    classes = schools["classes"].to_numpy(dtype=float)
    for name in sorted(set(towns)):
        people = float(pop[towns == name].sum())
        req = requirement("junior", people, 0.0, p, rules.standards)
        if not req.rule:  # below the threshold: no junior school required
            continue
        n = req.by_population
        mine = is_junior & (school_area == name)
        areas.append(
            JuniorArea(
                area=str(name),
                population=people,
                required_schools=n,
                required_classes=n * req.min_classes,
                classes=int(classes[mine].sum()),
                schools=int(mine.sum()),
            )
        )
    return tuple(areas), school_area


def run_present(schools: gpd.GeoDataFrame, units: gpd.GeoDataFrame, rules: Rules) -> PresentResult:
    """The present (现状) per school and level, and per level for the county."""
    st = rules.standards
    students = schools["students"].to_numpy(dtype=float)
    capacity = schools["capacity"].to_numpy(dtype=float)
    classes = schools["classes"].to_numpy(dtype=float)
    level = schools["level"].to_numpy(dtype=object)
    open_now = (schools["status"] == "existing").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.where(classes > 0, students / classes, np.nan)
        util = np.where(capacity > 0, students / capacity, np.nan)
    over_cap = open_now & (capacity > 0) & (students > capacity)
    oversized = open_now & (classes > 0) & (per_class >= st.oversized_class)
    over_max = open_now & (level == "senior") & (students > rules.new_schools.senior_max_students)
    areas, school_area = junior_areas(schools, units, rules)
    short_names = {a.area for a in areas if a.short}
    junior_short = open_now & (level == "junior") & np.isin(school_area, list(short_names))
    frame = pd.DataFrame(
        {
            "students_per_class": np.round(per_class, 2),
            "utilization_now": np.round(util, 4),
            "over_capacity": over_cap,
            "oversized_class": oversized,
            "over_max_students": over_max,
            "junior_short": junior_short,
        },
        index=schools.index,
    )
    levels = {}
    for lv in LEVELS:
        m = open_now & (level == lv)
        levels[lv] = LevelPresent(
            schools=int(m.sum()),
            students=int(round(students[m].sum())),
            capacity=int(round(capacity[m].sum())),
            classes=int(round(classes[m].sum())),
            over_capacity_schools=int((over_cap & m).sum()),
            oversized_class_schools=int((oversized & m).sum()),
            over_max_students_schools=int((over_max & m).sum()),
            junior_short_areas=len(short_names) if lv == "junior" else 0,
        )
    return PresentResult(schools=frame, levels=levels, junior_areas=areas)
