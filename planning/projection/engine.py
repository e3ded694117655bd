"""School-age children per unit, level and year: geo entry, the result, and plans for a year.

Build: the units' base enrolment (``planning.demand``: the data's counts, else population × rate),
their own cohorts (``tables``), who is rural and who receives migrants. Solve: ``cohorts``, plain
arrays. Explain: a tidy frame (unit_id, level, year, children) and per-level county totals.

Model, per unit u and level L (ages a0..a1) in year y:

    children(u, L, y) = enrolment(u, L) × Σ_a cohort(u, y − a) / Σ_a cohort(u, base − a)

where cohort(u, b) is the unit's own births (× survival) or single-year age count where its data
gives them, else the national births of year b (the rules' series) scaled to the unit. A unit's
base-year enrolment is its ``students_<level>`` where given, else the sum of its own cohorts when
the data gives some of that level's cohorts, else population × rate. Then:

- a new community with a delivery year has no children before that year;
- each year a share s of the villages' children moves to the urban and town communities, shared
  by their population: villages keep (1 − s)^(y − base) of their children, the county total of
  every level and year is unchanged. When the layer has no community, the units whose nearest
  school is in the county seat (location ``urban``) receive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from core.errors import InputError, ProblemList
from core.progress import Progress, check_canceled, ensure
from core.vocab import LEVELS
from geo.distance import as_xy
from geo.layers import Layers
from planning.demand import estimated_mask, students_by_level
from planning.projection import cohorts
from planning.projection.params import ProjectionParams
from planning.projection.tables import births_from_table, read_cohorts
from planning.rules import Rules, Standards

RECEIVING_KINDS = ("community", "new_community")
RURAL_KINDS = ("village",)
SOURCES = ("data", "cohorts", "rate")  # where a unit's base-year children come from


@dataclass(frozen=True)
class ProjectionResult:
    """Children per unit, level and year (floats: county totals stay exact)."""

    unit_ids: np.ndarray  # (units,)
    years: np.ndarray  # (years,)
    children: np.ndarray  # (units, levels, years)
    base_year: int
    moved: np.ndarray  # (levels, years): children moved from villages by urbanisation
    source: np.ndarray  # (units, levels): one of SOURCES

    def frame(self) -> pd.DataFrame:
        """Tidy: unit_id, level, year, children."""
        n, k, t = self.children.shape
        return pd.DataFrame(
            {
                "unit_id": np.repeat(self.unit_ids, k * t),
                "level": np.tile(np.repeat(np.array(LEVELS), t), n),
                "year": np.tile(self.years, n * k),
                "children": self.children.reshape(-1),
            }
        )

    def totals(self) -> pd.DataFrame:
        """County children per year (rows) and level (columns)."""
        return pd.DataFrame(
            self.children.sum(axis=0).T, index=pd.Index(self.years, name="year"), columns=LEVELS
        )

    def year_index(self, year: int) -> int:
        hits = np.flatnonzero(self.years == year)
        if hits.size == 0:
            raise InputError(
                f"no projection for {year}",
                fix=f"choose a year from {self.years[0]} to {self.years[-1]}",
            )
        return int(hits[0])

    def students(self, year: int) -> pd.DataFrame:
        """students_<level> per unit in ``year`` (rows in the units' order)."""
        j = self.year_index(year)
        return pd.DataFrame(
            {f"students_{lv}": self.children[:, i, j] for i, lv in enumerate(LEVELS)}
        )


def _years(params: ProjectionParams, years: Sequence[int] | None) -> np.ndarray:
    out = np.arange(params.base_year, params.horizon + 1) if years is None else np.asarray(years)
    out = np.unique(out.astype(int))
    bad = [int(y) for y in out if not params.base_year <= y <= params.horizon]
    if bad or out.size == 0:
        raise InputError(
            f"projection years {bad or 'none'} are outside {params.base_year}–{params.horizon}",
            fix="choose years between the base year and the horizon ([projection] base_year, horizon)",
        )
    return out


def _population(units: pd.DataFrame) -> np.ndarray:
    if "population" not in units.columns:
        return np.full(len(units), np.nan)
    return pd.to_numeric(units["population"], errors="coerce").to_numpy(float)


def _unit_xy(units: pd.DataFrame) -> np.ndarray:
    geom = units.geometry
    return as_xy(geom if (geom.geom_type == "Point").all() else geom.representative_point())


def receivers_and_rural(
    units: pd.DataFrame, schools: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """(receiving, rural) bool arrays: communities receive, villages send.

    Without any community in the layer the units nearest to a county-seat school receive.
    """
    kind = units["kind"].astype(str).to_numpy() if "kind" in units.columns else None
    if kind is None:
        kind = np.full(len(units), "village")
    recv = np.isin(kind, RECEIVING_KINDS)
    if not recv.any() and schools is not None and len(schools) and "geometry" in units:
        loc = schools["location"].astype(str).to_numpy() if "location" in schools else None
        if loc is not None and (loc == "urban").any():
            _, near = cKDTree(as_xy(schools)).query(_unit_xy(units))
            recv = loc[near] == "urban"
    return recv, np.isin(kind, RURAL_KINDS) & ~recv


def _delivered(
    units: pd.DataFrame, years: np.ndarray, deliveries: Mapping[str, int] | None
) -> np.ndarray:
    """Units × years: True once the unit's housing is delivered (always, without a year)."""
    due = np.full(len(units), -np.inf)
    if "delivery_year" in units.columns:
        given = pd.to_numeric(units["delivery_year"], errors="coerce").to_numpy(float)
        due = np.where(np.isnan(given), due, given)
    if deliveries:
        ids = units["unit_id"].astype(str)
        due = np.where(ids.isin(list(deliveries)), ids.map(deliveries).to_numpy(float), due)
    return years[None, :] >= due[:, None]


def _base_enrolment(
    units: pd.DataFrame,
    standards: Standards,
    own: np.ndarray,
    params: ProjectionParams,
    first_birth: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(enrolment, source) units × levels: data, own cohorts, or population × rate."""
    est = students_by_level(units, standards).to_numpy(float)
    given = ~estimated_mask(units).to_numpy()
    source = np.where(given, "data", "rate").astype(object)
    have = ~np.isnan(own)
    for i, lv in enumerate(LEVELS):
        a0, a1 = params.ages(lv)
        cols = params.base_year - np.arange(a0, a1 + 1) - first_birth
        cols = cols[(cols >= 0) & (cols < own.shape[1])]
        from_cohorts = ~given[:, i] & have[:, cols].any(axis=1)
        source[from_cohorts, i] = "cohorts"
    return est, source


def _project_levels(
    units: pd.DataFrame,
    params: ProjectionParams,
    standards: Standards,
    years: np.ndarray,
    first_birth: int,
) -> tuple[np.ndarray, np.ndarray]:
    own = read_cohorts(units, params.base_year, params.horizon, first_birth, params.survival)
    national = np.asarray(params.national_births(first_birth, params.horizon))
    shape = cohorts.extend_rows(own, national)
    enrol, source = _base_enrolment(units, standards, own, params, first_birth)
    base = np.array([params.base_year])
    out = np.zeros((len(units), len(LEVELS), len(years)))
    for i, lv in enumerate(LEVELS):
        ages = params.ages(lv)
        proj = cohorts.level_children(shape, first_birth, years, ages)
        at_base = cohorts.level_children(shape, first_birth, base, ages)[:, 0]
        nat = cohorts.level_children(national[None, :], first_birth, years, ages)[0]
        nat0 = cohorts.level_children(national[None, :], first_birth, base, ages)[0, 0]
        target = np.where(source[:, i] == "cohorts", at_base, enrol[:, i])
        fallback = np.broadcast_to(nat / nat0 if nat0 > 0 else np.ones(len(years)), proj.shape)
        out[:, i, :] = cohorts.calibrate(proj, at_base, target, np.array(fallback))
    return out, source


def _check_population(units: pd.DataFrame, children: np.ndarray, years: np.ndarray) -> None:
    pop = _population(units)
    total = children.sum(axis=1)
    over = np.isfinite(pop)[:, None] & (total > np.maximum(pop, 0.0)[:, None] * (1 + 1e-9) + 1e-9)
    if not over.any():
        return
    rows = (
        units["src_row"].to_numpy() if "src_row" in units.columns else np.arange(1, len(units) + 1)
    )
    problems = ProblemList()
    for r in np.flatnonzero(over.any(axis=1)):
        j = int(np.argmax(over[r]))
        problems.add(
            f"{total[r, j]:,.0f} school-age children in {years[j]} exceed the unit's "
            f"population {pop[r]:,.0f}",
            fix="check the population and students_<level> of this row, or lower "
            "[projection] urbanisation_share",
            layer="population",
            row=int(rows[r]),
            code="projection_above_population",
            feature_id=str(units["unit_id"].iloc[r]) if "unit_id" in units.columns else "",
        )
    raise InputError(
        f"the projection gives {len(problems.errors)} unit(s) more children than people",
        problems=problems.errors,
        fix="correct the rows listed, then run again",
    )


def run_projection(
    units: pd.DataFrame,
    schools: pd.DataFrame | None,
    params: ProjectionParams,
    standards: Standards,
    *,
    years: Sequence[int] | None = None,
    deliveries: Mapping[str, int] | None = None,
    births: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> ProjectionResult:
    """Children per unit, level and year from ``params.base_year`` to ``params.horizon``.

    ``deliveries`` maps unit_id → the year a new community's housing is delivered (a units
    column ``delivery_year`` does the same). ``births`` is a long birth table (unit_id or town,
    year, births; see ``tables.births_from_table``). Refuses (``InputError``) a bad birth table
    or a projection giving any unit (with a population) more children than people.
    """
    progress = ensure(progress)
    if births is not None:
        units = births_from_table(units, births, params.horizon)
    progress.update(0.0, "学龄人口预测 / projecting school-age children")
    yrs = _years(params, years)
    first_birth = params.base_year - max(params.ages(lv)[1] for lv in LEVELS)
    children, source = _project_levels(units, params, standards, yrs, first_birth)
    check_canceled(progress)
    delivered = _delivered(units, yrs, deliveries)
    children *= delivered[:, None, :]
    recv, rural = receivers_and_rural(units, schools)
    pop = np.nan_to_num(np.maximum(_population(units), 0.0))
    live = recv[:, None] & delivered
    # Shared by the receivers' population; receivers without people take no one.
    weight = np.where(live, pop[:, None], 0.0)
    sums = weight.sum(axis=0)
    weight = np.divide(weight, sums, out=np.zeros_like(weight), where=sums > 0)
    kept = (1.0 - params.urbanisation_share) ** (yrs - params.base_year)
    moved = np.zeros((len(LEVELS), len(yrs)))
    for i in range(len(LEVELS)):
        children[:, i, :], moved[i] = cohorts.urbanise(children[:, i, :], rural, weight, kept)
    _check_population(units, children, yrs)
    progress.update(1.0, "学龄人口预测完成 / projection done")
    ids = units["unit_id"].astype(str).to_numpy() if "unit_id" in units else np.arange(len(units))
    return ProjectionResult(ids, yrs, children, params.base_year, moved, source)


def standards_for_year(standards: Standards, params: ProjectionParams, year: int) -> Standards:
    """The class sizes of ``year``: the data's standards in the base year, else 建标109-2008's."""
    if year <= params.base_year:
        return standards
    changes = {}
    for lv in LEVELS:
        size = params.class_size(lv, year)
        if size is not None:
            changes[f"class_size_{lv}"] = size
    return dataclasses.replace(standards, **changes)


def layers_for_year(
    layers: Layers, rules: Rules, year: int, *, progress: Progress | None = None
) -> tuple[Layers, Standards]:
    """The layers with ``students_<level>`` set to ``year``'s projection, and its class sizes."""
    params = rules.projection
    standards = standards_for_year(rules.standards, params, year)
    if year == params.base_year:
        return layers, standards
    result = run_projection(
        layers.units, layers.schools, params, rules.standards, years=[year], progress=progress
    )
    units = layers.units.copy()
    for col, values in result.students(year).items():
        units[col] = values.to_numpy()
    return dataclasses.replace(layers, units=units), standards
