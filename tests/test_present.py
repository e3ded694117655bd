"""现状 flags read the enrolment as reported (000 §七(五) class sizes, 004 §(四)1, 002 §二.3)."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from shapely.geometry import Point

from planning.present import run_present
from planning.rules import Rules


def _schools(rows):
    return gpd.GeoDataFrame(
        [
            {
                "school_id": sid,
                "level": lv,
                "students": st,
                "capacity": cap,
                "classes": cl,
                "status": status,
                "geometry": Point(x, 0),
            }
            for sid, lv, st, cap, cl, status, x in rows
        ],
        crs="EPSG:32649",
    )


def _units(rows):
    return gpd.GeoDataFrame(
        [
            {"unit_id": u, "population": p, "town": t, "geometry": Point(x, 0)}
            for u, p, t, x in rows
        ],
        crs="EPSG:32649",
    )


def test_flags_follow_the_reported_enrolment():
    rules = Rules()
    s = _schools(
        [
            ("P1", "primary", 600, 540, 10, "existing", 0),  # 60 per class >= 56, over places
            ("P2", "primary", 540, 540, 12, "existing", 0),  # exactly full: not over
            ("P3", "primary", 0, 540, 12, "planned", 0),  # planned: not today's state
            ("S1", "senior", 3001, 3100, 60, "existing", 0),  # over 3,000 (004 §(四)1)
            ("S2", "senior", 3000, 3100, 60, "existing", 0),
        ]
    )
    u = _units([("U1", 1000, "", 0)])
    p = run_present(s, u, rules)
    assert p.schools["over_capacity"].tolist() == [True, False, False, False, False]
    assert p.schools["oversized_class"].tolist() == [True, False, False, False, False]
    assert p.schools["over_max_students"].tolist() == [False, False, False, True, False]
    assert p.levels["primary"].schools == 2
    assert p.levels["primary"].students == 1140
    assert p.levels["senior"].over_max_students_schools == 1


def test_township_over_20000_with_a_small_junior_school_is_short():
    # 002 §二.3: one junior school of 18+ classes per 20,000 people.
    rules = Rules()
    s = _schools(
        [
            ("J1", "junior", 600, 750, 15, "existing", 0),  # town A: 25,000 people, 15 classes
            ("J2", "junior", 900, 900, 18, "existing", 10_000),  # town B: 21,000 people, 18 classes
        ]
    )
    u = _units([("A1", 25_000, "A", 100), ("B1", 21_000, "B", 10_100), ("C1", 5_000, "C", 20_000)])
    p = run_present(s, u, rules)
    assert p.schools["junior_short"].tolist() == [True, False]
    assert p.levels["junior"].junior_short_areas == 1
    assert {a.area for a in p.junior_areas} == {"A", "B"}


@pytest.mark.slow
def test_sample_present_matches_the_data(sample_layers):
    layers, rules, _ = sample_layers
    p = run_present(layers.schools, layers.units, rules)
    s = layers.schools
    open_ = s["status"] == "existing"
    for lv in ("primary", "junior", "senior"):
        m = open_ & (s["level"] == lv)
        assert p.levels[lv].over_capacity_schools == int((s["students"] > s["capacity"])[m].sum())
        per_class = s["students"] / s["classes"].where(s["classes"] > 0)
        assert p.levels[lv].oversized_class_schools == int((per_class >= 56)[m].sum())
    assert sum(p.levels[lv].oversized_class_schools for lv in p.levels) == 3
    assert p.levels["senior"].over_max_students_schools == 4


@pytest.mark.slow
def test_the_plan_reports_the_present_from_the_input(sample_plan, sample_layers):
    """Issue 14: summary.json current.<level> counts the schools as the data states them
    (pupils > places; pupils ÷ classes ≥ 56, 004 §(四)1; senior > 3,000, 004 §(四)1), and the
    schools layer carries the flags."""
    result, out = sample_plan
    current = json.loads((out / "summary.json").read_text(encoding="utf-8"))["current"]
    s = sample_layers[0].schools
    open_ = s["status"] == "existing"
    for lv in ("primary", "junior", "senior"):
        m = open_ & (s["level"] == lv)
        assert current[lv]["schools"] == int(m.sum())
        assert current[lv]["over_capacity_schools"] == int((s["students"] > s["capacity"])[m].sum())
        size = s["students"] / s["classes"].where(s["classes"] > 0)
        assert current[lv]["oversized_class_schools"] == int((size >= 56)[m].sum())
    assert sum(current[lv]["oversized_class_schools"] for lv in current) == 3
    assert current["senior"]["over_max_students_schools"] == 4
    assert int(result.schools["over_max_students"].sum()) == 4
    assert int(result.schools["over_capacity"].sum()) == sum(
        current[lv]["over_capacity_schools"] for lv in current
    )
