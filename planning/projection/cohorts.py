"""The numeric core of the projection: cohorts per unit and birth year in, children per year out.

Plain numpy arrays only (no pandas, no wording), so each step can be checked by hand:

- ``extend_rows``: a unit's own cohorts (births or single-year ages) where its data gives them,
  continued before and after with the national series' shape;
- ``level_children``: children of a level in a year = the sum of the cohorts of its ages;
- ``calibrate``: scaled so the base year equals the enrolment the data gives;
- ``urbanise``: a yearly share of rural children moved to the receiving (urban/town) units.
"""

from __future__ import annotations

import numpy as np

ANCHOR_YEARS = 3  # a unit's own series is joined to the national shape over this many years


def extend_rows(given: np.ndarray, national: np.ndarray) -> np.ndarray:
    """Fill every NaN of ``given`` (units × birth years) from the national shape.

    A row with data keeps its cells; a missing cell is the national births of its year × the
    row's ratio to the nation over the ``ANCHOR_YEARS`` given years nearest to it (a ratio, not
    one year's count, so a village with no birth in its last year still has children later).
    A row without data is the national shape itself.
    """
    out = np.where(np.isnan(given), national[None, :], given)
    have = ~np.isnan(given)
    rows = np.flatnonzero(have.any(axis=1) & ~have.all(axis=1))
    if rows.size == 0:
        return out
    # Units share a few patterns of given years: one vectorised pass per pattern and year.
    patterns, which = np.unique(have[rows], axis=0, return_inverse=True)
    cols = np.arange(given.shape[1])
    for p, mask in enumerate(patterns):
        sel = rows[which.ravel() == p]
        known = cols[mask]
        for c in cols[~mask]:
            near = known[np.argsort(np.abs(known - c), kind="stable")[:ANCHOR_YEARS]]
            out[sel, c] = _ratio(given[np.ix_(sel, near)], national[near]) * national[c]
    return out


def _ratio(own: np.ndarray, national: np.ndarray) -> np.ndarray:
    den = float(national.sum())
    return own.sum(axis=1) / den if den > 0 else np.zeros(own.shape[0])


def level_children(
    cohorts: np.ndarray, first_birth: int, years: np.ndarray, ages: tuple[int, int]
) -> np.ndarray:
    """Units × years: the sum of the cohorts aged ``ages[0]..ages[1]`` in each year."""
    out = np.zeros((cohorts.shape[0], len(years)))
    for age in range(ages[0], ages[1] + 1):
        out += cohorts[:, np.asarray(years) - age - first_birth]
    return out


def calibrate(
    projected: np.ndarray, base: np.ndarray, enrolment: np.ndarray, fallback: np.ndarray
) -> np.ndarray:
    """Scale each unit's row so its base-year value becomes ``enrolment``.

    ``projected`` (units × years) and ``base`` (units) come from the unit's cohorts; a unit
    whose cohorts sum to 0 in the base year while the data gives it children takes the
    ``fallback`` shape (national, units × years, base year = 1) instead of being dropped.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = projected * (enrolment / base)[:, None]
    empty = ~(base > 0)
    scaled[empty] = enrolment[empty, None] * fallback[empty]
    return np.asarray(scaled, dtype=float)


def urbanise(
    children: np.ndarray, rural: np.ndarray, weights: np.ndarray, kept: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move children from rural units to receiving units; the total of every year is unchanged.

    ``children`` units × years; ``rural`` bool per unit; ``weights`` units × years, each year's
    column summing to 1 over the receivers (all 0 when no unit receives: then nothing moves);
    ``kept`` per year, the share of rural children still in their village ((1 − share)^t).
    Returns the new children and the number moved per year.
    """
    can = weights.sum(axis=0) > 0
    keep = np.where(can, kept, 1.0)
    out = children.copy()
    moved = (children[rural] * (1.0 - keep)[None, :]).sum(axis=0)
    out[rural] *= keep[None, :]
    out += weights * moved[None, :]
    return out, moved
