"""Stable choices (issue 15): integer cost units and fixed tie offsets hashed from the ids.

A plan must be a function of the geography, not of the order of the rows, the file format or
centimetres of the coordinates. Every engine that chooses by distance (catchments, grouping, new
schools) compares distances in the integer units of ``cost_units`` and, where answers can tie,
adds to each (a, b) pair a fixed offset below ``TIE_KM`` drawn from the two ids
(``tie_offsets``, ``pair_offsets``). The offsets only choose; reported distances are the true
ones. Numbers here are not policy: they set how finely the solvers look at distances.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Integer cost units per km in every comparison (flow, moves, neighbourhoods, CP-SAT):
# centimetres. Whole metres made ties and near-ties common, so moving a school by 1 cm or
# saving coordinates with 6 decimals flipped comparisons and changed the zones of thousands of
# pupils; with centimetres a comparison flips only when two answers differ by less than ~1 cm
# per pupil. int64 stays exact: 10^5 pupils × 10^7 cm (100 km) per arc is 10^12.
COST_PER_KM = 100_000.0


# Decisions see each (unit, school) distance plus a fixed offset in [0, TIE_KM) drawn from the
# two ids. On roads many answers tie exactly (two villages reaching two schools through one
# junction cost the same either way round), and without the offsets the tie went to whichever
# side sub-centimetre noise of the coordinates favoured: 1 cm moves changed the sample county's
# primary mean between 1.85 and 2.11 km. With them a tie goes the same way for any jitter
# smaller than about TIE_KM / 100 (measured: ≤ 7.5 cm moves, every level identical); answers
# closer than TIE_KM per pupil are treated as equal, which no plan can tell apart. The offsets
# only choose; reported distances are the true ones. The grouping uses the same offsets on its
# member–core pairs (a group is "pupils" of weight 1: answers closer than TIE_KM per member are
# equal to it).
TIE_KM = 0.01


def cost_units(km: np.ndarray) -> np.ndarray:
    """Distances in km as integer cost units (``COST_PER_KM``)."""
    return np.rint(np.asarray(km, float) * COST_PER_KM).astype(np.int64)


def id_keys(ids: np.ndarray) -> np.ndarray:
    """A 64-bit key per id (unit_id, school_id), the same in every run and on every machine."""
    return pd.util.hash_array(np.asarray(ids).astype(str).astype(object), categorize=False)


def pair_offsets(a_keys: np.ndarray, b_keys: np.ndarray) -> np.ndarray:
    """km in [0, TIE_KM) for each pair of keys (numpy broadcasting): a hash of both keys mixed
    so that no sum over a cycle of pairs cancels (splitmix64's finaliser). Not symmetric:
    (a, b) and (b, a) differ, so give the two sides in a fixed role order."""
    a = np.asarray(a_keys, np.uint64)
    b = np.asarray(b_keys, np.uint64)
    with np.errstate(over="ignore"):
        z = a ^ (b * np.uint64(0x9E3779B97F4A7C15))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    frac: np.ndarray = (z >> np.uint64(11)).astype(float) / float(1 << 53)
    return frac * TIE_KM


def tie_offsets(unit_keys: np.ndarray, school_keys: np.ndarray, cand_i: np.ndarray) -> np.ndarray:
    """(n, k) km in [0, TIE_KM) for each unit's candidate schools (0 on padding -1)."""
    off = pair_offsets(unit_keys[:, None], school_keys[np.maximum(cand_i, 0)])
    out: np.ndarray = np.where(cand_i >= 0, off, 0.0)
    return out


def tied_cost(km: np.ndarray, a_keys: np.ndarray, b_keys: np.ndarray) -> np.ndarray:
    """Integer cost units of distances ``km`` with the pairs' tie offsets: what a choice
    between pairs compares (``km`` finite; broadcast like ``pair_offsets``)."""
    return cost_units(np.asarray(km, float) + pair_offsets(a_keys, b_keys))


def nearest_tied(
    cand_d: np.ndarray, cand_i: np.ndarray, a_keys: np.ndarray, b_keys: np.ndarray
) -> tuple[np.ndarray, bool]:
    """Per row of (n, k) candidates (km sorted ascending, index padded -1) the column of least
    ``tied_cost`` (-1 when none), and whether the candidate lists were long enough to be sure:
    False when some row's last valid candidate is within TIE_KM of its first (a longer list
    may hold a better tied choice)."""
    valid = (cand_i >= 0) & np.isfinite(cand_d)
    km = np.where(valid, cand_d, 0.0)
    cost = np.where(
        valid, cost_units(km + tie_offsets(a_keys, b_keys, cand_i)), np.iinfo(np.int64).max
    )
    col = np.argmin(cost, axis=1) if cost.shape[1] else np.zeros(len(cost), np.int64)
    col = np.where(valid.any(axis=1), col, -1)
    last = np.where(valid, cand_d, -np.inf).max(axis=1, initial=-np.inf)
    first = np.where(valid[:, :1], cand_d[:, :1], np.inf)[:, 0] if cost.shape[1] else last
    sure = not bool((valid.all(axis=1) & (last - first < TIE_KM)).any())
    return col, sure


def canonical_order(ids: np.ndarray, xy: np.ndarray, first: np.ndarray | None = None) -> np.ndarray:
    """Positions of rows sorted by (``first``, id, x, y): the order every engine works in, so
    the plan does not depend on the order of the input rows (a reversed or re-saved layer
    plans the same) and ties left to position go by id."""
    ids = np.asarray(ids).astype(str)
    if not len(ids):
        return np.arange(0)
    keys = (xy[:, 1], xy[:, 0], ids) if first is None else (xy[:, 1], xy[:, 0], ids, first)
    order: np.ndarray = np.lexsort(keys)
    return order
