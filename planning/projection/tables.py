"""Birth tables and single-year age counts of the units layer, checked and put on one year grid.

Columns read (any subset): ``births_<year>`` (births of that calendar year in the unit) and
``age_<n>`` (children aged n in the base year). A table with a gap between years, a negative
count or a year after the horizon is refused with one message per row or column.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.errors import InputError, ProblemList

BIRTHS = re.compile(r"^births_(\d{4})$")
AGE = re.compile(r"^age_(\d{1,2})$")
LAYER = "population"


def _columns(units: pd.DataFrame, pattern: re.Pattern[str]) -> dict[int, str]:
    found = {}
    for col in units.columns:
        m = pattern.match(str(col))
        if m:
            found[int(m.group(1))] = str(col)
    return dict(sorted(found.items()))


def _rows(units: pd.DataFrame) -> np.ndarray:
    if "src_row" in units.columns:
        return units["src_row"].to_numpy()
    return np.arange(1, len(units) + 1)


def _numbers(units: pd.DataFrame, cols: dict[int, str]) -> np.ndarray:
    if not cols:
        return np.full((len(units), 0), np.nan)
    frame = units[list(cols.values())].apply(pd.to_numeric, errors="coerce")
    return frame.to_numpy(float)


def _check_years(years: list[int], kind: str, horizon: int, problems: ProblemList) -> None:
    missing = sorted(set(range(years[0], years[-1] + 1)) - set(years))
    if missing:
        problems.add(
            f"the birth table has no column for {', '.join(map(str, missing))} "
            f"between {years[0]} and {years[-1]}",
            fix=f"add the {kind}_<year> column of every year in between (0 when no child was born)",
            layer=LAYER,
            column=f"{kind}_{missing[0]}",
            code="birth_table_gap",
        )
    late = [y for y in years if y > horizon]
    if late:
        problems.add(
            f"births of {', '.join(map(str, late))} are after the horizon {horizon}",
            fix="drop those columns, or move the projection's horizon later",
            layer=LAYER,
            column=f"births_{late[0]}",
            code="birth_table_late",
        )


def _check_cells(values: np.ndarray, cols: list[str], rows: np.ndarray, problems: ProblemList):
    neg_r, neg_c = np.nonzero(values < 0)
    for r, c in zip(neg_r, neg_c):
        problems.add(
            f"negative count {values[r, c]:g}",
            fix="give the number of children (0 or more)",
            layer=LAYER,
            row=int(rows[r]),
            column=cols[c],
            code="birth_table_negative",
        )
    have = ~np.isnan(values)
    for r in np.flatnonzero(have.any(axis=1)):
        idx = np.flatnonzero(have[r])
        holes = [cols[i] for i in range(idx[0], idx[-1] + 1) if not have[r, i]]
        if holes:
            problems.add(
                f"the row's counts stop and start again: {', '.join(holes)} empty",
                fix="fill the empty years (0 when no child was born)",
                layer=LAYER,
                row=int(rows[r]),
                column=holes[0],
                code="birth_table_gap",
            )


def read_cohorts(
    units: pd.DataFrame, base_year: int, horizon: int, first_birth: int, survival: float
) -> np.ndarray:
    """Units × birth years ``first_birth..horizon``: the unit's own cohorts, NaN where not given.

    Births are multiplied by ``survival`` (children counted at birth, not at school age); an
    age count of the base year is a survivor already and overrides the births of its year.
    Raises ``InputError`` with every bad row and column.
    """
    births, ages = _columns(units, BIRTHS), _columns(units, AGE)
    grid = np.full((len(units), horizon - first_birth + 1), np.nan)
    if not births and not ages:
        return grid
    rows, problems = _rows(units), ProblemList()
    b_vals, a_vals = _numbers(units, births), _numbers(units, ages)
    if births:
        _check_years(list(births), "births", horizon, problems)
        _check_cells(b_vals, list(births.values()), rows, problems)
    if ages:
        _check_cells(a_vals, list(ages.values()), rows, problems)
    if problems.errors:
        raise InputError(
            f"the birth table cannot be used: {len(problems.errors)} problem(s)",
            problems=problems.errors,
            fix="correct the rows listed, then run again",
        )
    for j, year in enumerate(births):
        if first_birth <= year <= horizon:
            grid[:, year - first_birth] = b_vals[:, j] * survival
    for j, age in enumerate(ages):
        col = base_year - age - first_birth
        if 0 <= col < grid.shape[1]:
            given = ~np.isnan(a_vals[:, j])
            grid[given, col] = a_vals[given, j]
    return grid
