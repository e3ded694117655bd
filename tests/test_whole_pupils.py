"""Whole pupils keep the level's total: rounded once, not unit by unit (largest remainder)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.demand import students_by_level, whole_pupils


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


# --- nothing lost on fine grids (issue 15) ---------------------------------------------------


def _grid_population(layers, cell_m: float):
    """The sample county's people spread evenly over a ``cell_m`` grid: fractions of a child
    per cell, the case where rounding each cell lost 14 % of the pupils."""
    from geo.grid import uniform_grid

    cells = uniform_grid(layers.boundary, cell_m)
    total = float(pd.to_numeric(layers.units["population"], errors="coerce").fillna(0).sum())
    cells["population"] = total / len(cells)
    return cells


@pytest.mark.parametrize(
    ("cell_m", "mode"),
    [
        (500.0, "nearest"),
        pytest.param(500.0, "capacity", marks=pytest.mark.slow),  # ~40 s CPU: 9,600 units
        pytest.param(250.0, "capacity", marks=pytest.mark.slow),
    ],
)
def test_fine_grid_keeps_every_pupil(sample_layers, cell_m, mode):
    import dataclasses

    from geo.distance import StraightLine
    from planning.catchments import run_catchments

    layers, rules, _ = sample_layers
    cells = _grid_population(layers, cell_m)
    want = students_by_level(cells, rules.standards).sum()
    res = run_catchments(
        layers.schools,
        cells,
        layers.boundary,
        dataclasses.replace(rules.catchments, mode=mode),
        rules.standards,
        costs=StraightLine(),
    )
    d = res.demand
    for level, s in res.summary.levels.items():
        total = float(np.floor(want[f"students_{level}"] + 0.5))  # rounded once
        assert s.students == total, level
        assert d[f"students_{level}"].sum() == total, level
        if not hasattr(s, "too_far"):
            continue
        # every pupil in exactly one of placed / too far / no place, in both outputs
        assert s.assigned + s.too_far + s.unserved == total, level
        unserved = d[f"unserved_pupils_{level}"].to_numpy(float)
        placed = d[f"students_{level}"].to_numpy(float) - unserved
        status = d[f"status_{level}"].to_numpy()
        assert placed[status == "too_far"].sum() == pytest.approx(s.too_far), level
        assert placed[status == "assigned"].sum() == pytest.approx(s.assigned), level
        assert unserved.sum() == pytest.approx(s.unserved), level
