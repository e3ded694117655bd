"""Values out of reason: a typo caught before it plans 13,542 schools or exhausts memory.

Checked after each layer is normalised (canonical columns, metric CRS). A value no settlement or
school can have is an error naming the row and the likely fix; one that is possible but rare is a
warning. The limits are rules values (``[checks]``), not constants: a county may widen them.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from core.errors import Problem
from core.params import param
from core.validate import report_rows

_WHY = "local choice: beyond what any Chinese village, community or school has"


@dataclass(frozen=True)
class PlausibilityParams:
    """Limits past which an input value is taken for a typo."""

    unit_population_max: int = param(
        500_000,
        zh="单个人口单元最多人口",
        en="Most people in one population unit",
        unit="人",
        lo=1000,
        hi=100_000_000,
        source=_WHY,
    )
    unit_density_max: float = param(
        100_000,
        zh="人口单元最大人口密度",
        en="Highest population density of a unit",
        unit="人/km²",
        lo=1000,
        hi=1_000_000,
        source=_WHY + " (the densest city districts hold about 50,000 per km²)",
    )
    students_per_class_max: int = param(
        120,
        zh="每班学生数上限(超过视为数据错误)",
        en="Most students per class before it is taken for a typo",
        unit="人/班",
        lo=56,
        hi=1000,
        source=_WHY,
    )
    capacity_max: int = param(
        20_000,
        zh="单校学位数上限(超过视为数据错误)",
        en="Most places of one school before it is taken for a typo",
        unit="人",
        lo=1000,
        hi=1_000_000,
        source=_WHY,
    )
    unit_share_warn: float = param(
        0.5,
        zh="单个人口单元占全县人口比例提示线",
        en="Warn when one unit holds this share of all people",
        unit="比例",
        lo=0.05,
        hi=1.0,
        source=_WHY,
    )


def _rows(gdf: gpd.GeoDataFrame) -> np.ndarray:
    if "src_row" in gdf.columns:
        return np.asarray(gdf["src_row"].to_numpy(dtype=np.int64))
    return np.arange(1, len(gdf) + 1)


def check_units(
    units: gpd.GeoDataFrame,
    where: dict[str, str],
    problems: list[Problem],
    limits: PlausibilityParams,
) -> np.ndarray:
    """Report implausible population units; returns the rows (mask) that are errors."""
    pop = units["population"].to_numpy(dtype=float)
    rows = _rows(units)
    bad = np.nan_to_num(pop) > limits.unit_population_max
    report_rows(
        problems,
        bad,
        rows,
        lambda i: (
            f"population {pop[i]:,.0f} is more than any village or community holds "
            f"(limit {limits.unit_population_max:,})"
        ),
        fix="check the number for extra digits (e.g. 135430000 for 13543), or raise "
        "checks.unit_population_max in the rules",
        code="implausible_population",
        where=where,
    )
    poly = units.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if poly.any():
        km2 = units.geometry.area.to_numpy() / 1e6
        with np.errstate(divide="ignore", invalid="ignore"):
            dens = np.where(poly & (km2 > 0), pop / km2, 0.0)
        dense = ~bad & (np.nan_to_num(dens) > limits.unit_density_max)
        report_rows(
            problems,
            dense,
            rows,
            lambda i: (
                f"{dens[i]:,.0f} people per km² is denser than any settlement "
                f"(limit {limits.unit_density_max:,.0f})"
            ),
            fix="check the population and that the polygon is the unit's whole area",
            code="implausible_density",
            where=where,
        )
        bad |= dense
    for col in [c for c in units.columns if c.startswith("students_")]:
        kids = units[col].to_numpy(dtype=float)
        over = np.nan_to_num(kids) > np.nan_to_num(pop) + 0.5
        texts = {
            int(i): f"{kids[i]:,.0f} school-age children ({col}) but only {pop[i]:,.0f} people"
            for i in np.flatnonzero(over & ~bad)
        }
        report_rows(
            problems,
            over & ~bad,
            rows,
            texts.__getitem__,
            fix="children are part of the population: check both columns",
            code="children_above_population",
            where={**where, "column": col},
        )
        bad |= over
    total = float(np.nansum(pop[~bad]))
    if len(units) >= 20 and total > 0:
        share = np.where(~bad, np.nan_to_num(pop) / total, 0.0)
        report_rows(
            problems,
            share > limits.unit_share_warn,
            rows,
            lambda i: f"one unit holds {share[i]:.0%} of all people in the layer",
            fix="check the number; a county seat is better given as its communities",
            code="dominant_unit",
            where=where,
            severity="warning",
        )
    return np.asarray(bad, dtype=bool)


def check_schools(
    schools: gpd.GeoDataFrame,
    where: dict[str, str],
    problems: list[Problem],
    limits: PlausibilityParams,
) -> np.ndarray:
    """Report implausible school rows (students per class, places); returns the error mask."""
    students = schools["students"].to_numpy(dtype=float)
    classes = schools["classes"].to_numpy(dtype=float)
    rows = _rows(schools)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_class = np.where(classes > 0, students / classes, 0.0)
    crowded = np.nan_to_num(per_class) > limits.students_per_class_max
    report_rows(
        problems,
        crowded,
        rows,
        lambda i: (
            f"{students[i]:,.0f} students in {classes[i]:,.0f} classes is "
            f"{per_class[i]:,.0f} per class (limit {limits.students_per_class_max})"
        ),
        fix="check the students and classes columns (a class count of 1 for a whole school?)",
        code="implausible_class_size",
        where=where,
    )
    bad = crowded
    if "capacity" in schools.columns:
        cap = schools["capacity"].to_numpy(dtype=float)
        big = np.nan_to_num(cap) > limits.capacity_max
        report_rows(
            problems,
            big,
            rows,
            lambda i: (
                f"{cap[i]:,.0f} places is more than any school has (limit {limits.capacity_max:,})"
            ),
            fix="check the capacity column for extra digits",
            code="implausible_capacity",
            where=where,
        )
        bad = bad | big
    return np.asarray(bad, dtype=bool)
