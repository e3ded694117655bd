"""Whole pupils keep the level's total: rounded once, not unit by unit (largest remainder)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from planning.demand import whole_pupils


def test_fine_grid_keeps_its_pupils():
    v = np.full(1000, 0.4)  # 1,000 cells of 0.4 children: 400 pupils, not 0
    out = whole_pupils(v)
    assert out.sum() == 400
    assert set(np.unique(out)) <= {0, 1}


def test_ties_follow_ids_not_rows():
    v = np.array([0.5, 0.5, 0.5, 0.5])
    ids = np.array(["d", "b", "a", "c"])
    out = whole_pupils(v, ids)
    assert out.sum() == 2
    assert dict(zip(ids, out, strict=True)) == {"a": 1, "b": 1, "c": 0, "d": 0}
    perm = np.array([2, 0, 3, 1])
    again = whole_pupils(v[perm], ids[perm])
    assert dict(zip(ids[perm], again, strict=True)) == dict(zip(ids, out, strict=True))


@given(st.lists(st.floats(0, 5000, allow_nan=False), min_size=1, max_size=200))
def test_total_rounded_once_and_each_unit_within_one(values):
    v = np.array(values)
    out = whole_pupils(v)
    assert out.sum() == int(np.floor(v.sum() + 0.5))
    assert np.all(out >= np.floor(v)) and np.all(out <= np.floor(v) + 1)
