"""Layout status: permanent / transitional / to_merge, always build before closing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import StraightLine
from planning.newschools import run_new_schools
from planning.newschools.layout import TO_MERGE, TRANSITIONAL, layout_status, suggest_layout
from planning.rules import NewSchoolParams, Standards
from tests.test_newschools import make_schools, make_units

P = NewSchoolParams()  # merge ≤ 30 pupils within 3 km; transitional ≤ 100


def statuses(schools):
    return layout_status(schools, P, StraightLine())


def test_tiny_school_near_larger_with_room_merges():
    s = make_schools([("A", "primary", 900, 600, 0, 0), ("B", "primary", 90, 20, 2, 0)])
    out = statuses(s)
    assert out["layout_status"].tolist() == ["permanent", "to_merge"]
    assert out["merge_into"].tolist() == ["", "A"]
    assert "先建后撤" in out["layout_reason"].iloc[1] and "300" in out["layout_reason"].iloc[1]


@pytest.mark.parametrize(
    "case,rows",
    [
        ("no room", [("A", "primary", 610, 600, 0, 0), ("B", "primary", 90, 20, 2, 0)]),
        ("too far", [("A", "primary", 900, 600, 0, 0), ("B", "primary", 90, 20, 3.5, 0)]),
        ("other level", [("A", "junior", 900, 600, 0, 0), ("B", "primary", 90, 20, 1, 0)]),
    ],
)
def test_never_merged_without_a_receiver(case, rows):
    out = statuses(make_schools(rows))
    b = out.iloc[1]
    assert b["layout_status"] == TRANSITIONAL, case
    assert b["merge_into"] == ""


def test_receiver_room_is_not_promised_twice():
    # A has 30 free places: one of the two 20-pupil schools may merge, not both.
    s = make_schools(
        [
            ("A", "primary", 630, 600, 0, 0),
            ("B", "primary", 90, 20, 1, 0),
            ("C", "primary", 90, 20, -1, 0),
        ]
    )
    out = statuses(s)
    assert sorted(out["layout_status"].tolist()) == ["permanent", "to_merge", "transitional"]
    assert out.loc[1, "layout_status"] == TO_MERGE  # tie on size: lower school_id first


def test_planned_school_is_kept_and_may_receive():
    s = make_schools([("A", "primary", 900, 0, 0, 0, "planned"), ("B", "primary", 90, 10, 1, 0)])
    out = statuses(s)
    # A has no pupils yet, so it is not larger than B: B stays.
    assert out["layout_status"].tolist() == ["permanent", "transitional"]
    s = make_schools([("A", "primary", 900, 50, 0, 0, "planned"), ("B", "primary", 90, 10, 1, 0)])
    out = statuses(s)
    assert out["layout_status"].tolist() == ["permanent", "to_merge"]
    assert "建成后" in out["layout_reason"].iloc[1]


def test_sizes_between_thresholds():
    s = make_schools([("A", "primary", 900, 101, 0, 0), ("B", "primary", 900, 100, 50, 0)])
    assert statuses(s)["layout_status"].tolist() == ["permanent", "transitional"]


def test_run_new_schools_returns_layout_aligned_to_schools_index():
    s = make_schools([("A", "primary", 900, 600, 0, 0), ("B", "primary", 90, 20, 2, 0)])
    s.index = [10, 20]
    res = run_new_schools(s, make_units([("U1", 100, 0, 0)]), P, Standards(), costs=StraightLine())
    assert list(res.layout_status.index) == [10, 20]
    assert res.layout_status.tolist() == ["permanent", "to_merge"]
    assert res.summary.layout == {"permanent": 1, "transitional": 0, "to_merge": 1}


@settings(max_examples=80, deadline=None)
@given(
    students=st.lists(st.integers(0, 400), min_size=1, max_size=10),
    seed=st.integers(0, 10_000),
)
def test_build_before_closing_property(students, seed):
    rng = np.random.default_rng(seed)
    n = len(students)
    st_ = np.array(students, float)
    cap = st_ + rng.integers(0, 200, n)
    xy = rng.uniform(0, 8, (n, 2))
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    core = suggest_layout(
        st_, cap, np.ones(n, bool), dist,
        merge_max_students=P.merge_max_students, merge_within_km=P.merge_within_km,
        transitional_max_students=P.transitional_max_students,
    )  # fmt: skip
    received = np.zeros(n)
    for i in np.nonzero(core.status == TO_MERGE)[0]:
        j = core.target[i]
        assert st_[i] <= P.merge_max_students and dist[i, j] <= P.merge_within_km
        assert st_[j] > st_[i] and core.status[j] != TO_MERGE
        received[j] += st_[i]
    # Every receiver has room for all the pupils it was promised.
    assert (received <= cap - st_ + 1e-9).all()
    # No school above the merge size is merged; none above the transitional size is transitional.
    assert not ((core.status == TO_MERGE) & (st_ > P.merge_max_students)).any()
    assert not ((core.status == TRANSITIONAL) & (st_ > P.transitional_max_students)).any()
