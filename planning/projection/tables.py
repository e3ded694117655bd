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
    return np.asarray(frame.to_numpy(float))


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


def _check_cells(
    values: np.ndarray, cols: list[str], rows: np.ndarray, problems: ProblemList
) -> None:
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


TABLE_COLUMNS = {"unit_id": ("unit_id", "单元编号"), "town": ("town", "乡镇", "乡镇(街道)"),
                 "year": ("year", "年份"), "births": ("births", "出生人数", "出生人口")}  # fmt: skip


def _table_column(table: pd.DataFrame, key: str) -> str | None:
    return next((c for c in TABLE_COLUMNS[key] if c in table.columns), None)


def _table_rows(table: pd.DataFrame) -> np.ndarray:
    if "src_row" in table.columns:
        return table["src_row"].to_numpy()
    return np.arange(2, len(table) + 2)  # row 1 holds the headings


def _check_table(
    table: pd.DataFrame, key_col: str, known: np.ndarray, horizon: int, problems: ProblemList,
    *, where: dict[str, str],
) -> None:  # fmt: skip
    """Row-level checks of a long birth table: unknown place, bad year or count, gaps."""
    key_name, year_name, count_name = (
        str(_table_column(table, k)) for k in (key_col, "year", "births")
    )
    keys = table[key_name].astype(str).to_numpy()
    rows = _table_rows(table)
    year = pd.to_numeric(table[year_name], errors="coerce").to_numpy(float)
    count = pd.to_numeric(table[count_name], errors="coerce").to_numpy(float)
    for i in np.flatnonzero(~np.isin(keys, known)):
        problems.add(f"'{keys[i]}' is not a {key_col} of the population layer",
                     fix=f"use a {key_col} of the population layer", row=int(rows[i]),
                     column=key_col, code="birth_table_unknown", **where)  # fmt: skip
    for i in np.flatnonzero(~(np.isfinite(year) & (year == np.round(year)))):
        problems.add("the year is missing or not a whole number", fix="give a year such as 2023",
                     row=int(rows[i]), column="year", code="birth_table_year", **where)  # fmt: skip
    for i in np.flatnonzero(year > horizon):
        problems.add(f"births of {year[i]:.0f} are after the horizon {horizon}",
                     fix="drop the row, or move the projection's horizon later",
                     row=int(rows[i]), column="year", code="birth_table_late", **where)  # fmt: skip
    for i in np.flatnonzero(~(count >= 0)):
        problems.add(f"the count '{table[count_name].iloc[i]}' is missing or negative",
                     fix="give the number of births (0 or more)", row=int(rows[i]),
                     column="births", code="birth_table_negative", **where)  # fmt: skip
    frame = pd.DataFrame({"key": keys, "year": year, "row": rows}).dropna()
    for key, part in frame.groupby("key", sort=False):
        ys = np.unique(part["year"].astype(int))
        missing = sorted(set(range(int(ys[0]), int(ys[-1]) + 1)) - set(ys.tolist()))
        if missing:
            problems.add(f"{key}: no row for {', '.join(map(str, missing))} between {ys[0]} and {ys[-1]}",
                         fix="add a row for every year in between (0 when no child was born)",
                         row=int(part["row"].iloc[0]), column="year", code="birth_table_gap", **where)  # fmt: skip
        dup = part["year"].duplicated()
        for r in part.loc[dup, "row"]:
            problems.add(f"{key}: a second row for the same year", fix="keep one row per year",
                         row=int(r), column="year", code="birth_table_duplicate", **where)  # fmt: skip


def births_from_table(
    units: pd.DataFrame, table: pd.DataFrame, horizon: int, *, where: str = "births"
) -> pd.DataFrame:
    """``units`` with ``births_<year>`` columns from a long table (unit_id or town, year, births).

    A township's births are shared among its units by population. Every bad row is reported
    (``InputError``): an unknown unit or town, a missing or late year, a negative count, a gap
    between a place's years, a year given twice.
    """
    key_col = "unit_id" if _table_column(table, "unit_id") else "town"
    problems = ProblemList()
    missing = [k for k in (key_col, "year", "births") if _table_column(table, k) is None]
    if missing:
        raise InputError(f"the birth table has no column {', '.join(missing)}",
                         fix="columns: unit_id (or town), year, births", problems=[])  # fmt: skip
    keys = table[_table_column(table, key_col)].astype(str).to_numpy()
    known = units[key_col].astype(str).unique()
    _check_table(table, key_col, known, horizon, problems, where={"file": where})
    if problems.errors:
        raise InputError(
            f"the birth table cannot be used: {len(problems.errors)} problem(s)",
            problems=problems.errors,
            fix="correct the rows listed, then run again",
        )
    year = pd.to_numeric(table[_table_column(table, "year")]).astype(int)
    count = pd.to_numeric(table[_table_column(table, "births")]).astype(float)
    wide = pd.DataFrame({"key": keys, "year": year, "n": count}).pivot(
        index="key", columns="year", values="n"
    )
    raw = units["population"] if "population" in units.columns else pd.Series(0.0, units.index)
    pop = pd.to_numeric(raw, errors="coerce").fillna(0.0).clip(lower=0.0)
    unit_key = units[key_col].astype(str)
    share = pop / pop.groupby(unit_key).transform("sum").replace(0.0, np.nan)
    if key_col == "unit_id":
        share = pd.Series(1.0, index=units.index)
    out = units.copy()
    for y in wide.columns:
        values = unit_key.map(wide[y]).astype(float)
        out[f"births_{int(y)}"] = values * share.fillna(0.0)
    return out
