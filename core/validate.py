"""Validation helpers shared by the loaders, the rules and the engines.

Each helper reports problems with file, layer, row and fix instead of raising on the first one,
so a planner sees every problem of a file at once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InputError, Problem


def report_rows(
    problems: list[Problem],
    mask: np.ndarray | pd.Series,
    row_numbers: np.ndarray,
    problem: str | Callable[[int], str],
    *,
    fix: str,
    code: str,
    where: dict[str, Any],
    severity: str = "error",
) -> None:
    """One problem per row where ``mask`` is true; ``problem`` may depend on the position."""
    for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
        text = problem(int(i)) if callable(problem) else problem
        problems.append(
            Problem(text, fix=fix, row=int(row_numbers[i]), code=code, severity=severity, **where)
        )


def numeric_column(
    values: pd.Series,
    *,
    where: dict[str, Any],
    column: str,
    problems: list[Problem],
    row_numbers: np.ndarray,
    required: bool = True,
    allow_negative: bool = False,
    integer: bool = False,
) -> pd.Series:
    """Parse numbers; report non-numeric, missing (when required) and negative cells by row."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        # Numbers read from GeoPackage/Shapefile need no text cleaning (and 1M road rows
        # would take seconds through it).
        raw = values
        num = values.astype(float)
        text = num.where(~num.isna())
    else:
        raw = values.astype("object")
        text = _clean_number_texts(raw)
        num = pd.to_numeric(text, errors="coerce").astype(float)
    num = num.where(np.isfinite(num))  # "inf" parses but is no count
    where = {**where, "column": column}
    report_rows(problems, num.isna() & text.notna(), row_numbers,
                lambda i: f"'{raw.iloc[i]}' is not a number",
                fix="write a plain number, e.g. 12", code="not_numeric", where=where)  # fmt: skip
    if required:
        report_rows(problems, text.isna(), row_numbers, "value is missing",
                    fix="fill in a number", code="missing_value", where=where)  # fmt: skip
    if not allow_negative:
        report_rows(problems, num < 0, row_numbers, lambda i: f"{num.iloc[i]:g} is negative",
                    fix="counts cannot be negative; correct the value", code="negative",
                    where=where)  # fmt: skip
    if integer:
        report_rows(problems, num.notna() & (num != np.round(num)), row_numbers,
                    lambda i: f"{num.iloc[i]:g} is not a whole number",
                    fix="use a whole number", code="not_integer", where=where)  # fmt: skip
    return num


def _clean_number_texts(raw: pd.Series) -> pd.Series:
    """Clean each distinct cell once: columns repeat the same few values (speeds, classes)."""
    uniques = pd.unique(raw.to_numpy())
    if len(uniques) > 0.5 * len(raw):
        return raw.map(_clean_number_text)
    table = {v: _clean_number_text(v) for v in uniques if not _is_na(v)}
    return raw.map(lambda v: np.nan if _is_na(v) else table[v])


def _is_na(v: Any) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v))


def _clean_number_text(v: Any) -> Any:
    """Cell text as a number parser wants it; None/NaN/blank become NaN.

    NFKC turns full-width digits and commas typed with a Chinese input method (１，２００) into
    ASCII; thousands separators are dropped.
    """
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return np.nan
    s = unicodedata.normalize("NFKC", str(v)).strip().replace(",", "")
    return s if s else np.nan


def duplicates(
    ids: pd.Series,
    *,
    where: dict[str, Any],
    column: str,
    row_numbers: np.ndarray,
    problems: list[Problem],
) -> None:
    dup = ids.duplicated(keep=False) & ids.notna()
    for value, idx in ids[dup].groupby(ids[dup]).groups.items():
        rows = [int(row_numbers[ids.index.get_loc(i)]) for i in idx]
        problems.append(
            Problem(
                f"id '{value}' appears {len(rows)} times (rows {', '.join(map(str, rows))})",
                fix="give each feature its own id",
                row=rows[0],
                column=column,
                code="duplicate_id",
                **where,
            )
        )


def require_finite(name: str, array: np.ndarray) -> None:
    """Engines call this on their numeric inputs: a NaN here is a loader bug or a bad edit."""
    arr = np.asarray(array, dtype=float)
    if arr.size and not np.isfinite(arr).all():
        raise InputError(
            f"{name} has missing or infinite values",
            fix="run 'schoolplan check' and correct the rows it names",
        )


def require_positive(name: str, value: float, fix: str = "") -> None:
    if not value > 0:
        raise InputError(
            f"{name} must be positive (got {value})", fix=fix or "give a positive number"
        )
