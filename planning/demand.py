"""School-age children per population unit and level.

Counts come from the data where the units layer gives them; otherwise they are estimated as
population × the rules' school-age rate of the level (``Standards.rate_<level>``). Every engine
that needs demand (new schools, catchments) calls this one function so they agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planning.rules import LEVELS, Standards

COLUMNS: tuple[str, ...] = tuple(f"students_{lv}" for lv in LEVELS)


def students_by_level(units: pd.DataFrame, standards: Standards) -> pd.DataFrame:
    """School-age children per unit: columns students_primary/junior/senior, indexed like units.

    A value given in the data (non-NaN, including 0) is kept as is; a missing value (NaN or a
    missing column) becomes population × rate. Negative or missing population counts as 0 so an
    estimate is never negative.
    """
    if "population" in units.columns:
        pop = pd.to_numeric(units["population"], errors="coerce").to_numpy(float)
    else:
        pop = np.zeros(len(units))
    pop = np.where(np.isfinite(pop) & (pop > 0), pop, 0.0)
    out = {}
    for level in LEVELS:
        col = f"students_{level}"
        estimate = pop * standards.rate(level)
        if col in units.columns:
            given = pd.to_numeric(units[col], errors="coerce").to_numpy(float)
            values = np.where(np.isnan(given), estimate, np.maximum(given, 0.0))
        else:
            values = estimate
        out[col] = values
    return pd.DataFrame(out, index=units.index, columns=list(COLUMNS))


def estimated_mask(units: pd.DataFrame) -> pd.DataFrame:
    """True where the count of a level was estimated rather than read from the data."""
    out = {}
    for level in LEVELS:
        col = f"students_{level}"
        if col in units.columns:
            out[col] = pd.to_numeric(units[col], errors="coerce").isna().to_numpy()
        else:
            out[col] = np.ones(len(units), dtype=bool)
    return pd.DataFrame(out, index=units.index, columns=list(COLUMNS))


def whole_pupils(values: np.ndarray, keys: np.ndarray | None = None) -> np.ndarray:
    """Whole pupils per unit whose sum is the fractional total rounded once (largest remainder).

    Rounding each unit on its own loses pupils on fine grids (a 500 m grid of 0.4 children per
    cell rounds to nobody). Each unit gets its floor, and the units with the largest remainders
    get one more until the total is reached; equal remainders go by ``keys`` (the unit ids, so
    the answer does not depend on row order), then by position.
    """
    v = np.maximum(np.nan_to_num(np.asarray(values, dtype=float)), 0.0)
    base: np.ndarray = np.floor(v)
    total = int(np.floor(v.sum() + 0.5))
    short = total - int(base.sum())
    if short <= 0:
        return base.astype(np.int64)
    rem = v - base
    order_keys = [np.arange(len(v))]
    if keys is not None:
        order_keys.append(np.asarray(keys).astype(str))
    order_keys.append(-rem)
    order = np.lexsort(order_keys)
    out: np.ndarray = base.astype(np.int64)
    out[order[:short]] += 1
    return out


__all__ = ["COLUMNS", "students_by_level", "estimated_mask", "whole_pupils"]
