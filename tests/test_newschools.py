"""New schools from population thresholds: table-driven edges, shortfall, siting, outputs."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from core.errors import InputError, RulesError
from core.progress import RecordingProgress
from geo.distance import make_cost_model
from planning.newschools import (
    NEW_COLUMNS,
    allocate_supply,
    as_school_rows,
    requirement,
    run_new_schools,
    size_new_schools,
)
from planning.newschools.explain import threshold_text
from planning.rules import NewSchoolParams, Standards

CRS = "EPSG:32649"
X0, Y0 = 500_000.0, 2_800_000.0
STD = Standards()
PARAMS = NewSchoolParams()
STRAIGHT = make_cost_model(None, "straight")  # the engine is always handed its cost model

SCHOOL_COLS = [
    "school_id", "name", "level", "classes", "students", "capacity", "teachers", "quality",
    "location", "status", "ownership", "school_type", "combined", "src_row",
]  # fmt: skip


def make_units(rows) -> gpd.GeoDataFrame:
    """rows: (unit_id, population, x_km, y_km[, kind, town, geometry])."""
    recs, geoms = [], []
    for i, r in enumerate(rows):
        uid, pop, xk, yk = r[:4]
        kind = r[4] if len(r) > 4 else "community"
        town = r[5] if len(r) > 5 else "甲镇"
        geom = r[6] if len(r) > 6 else Point(X0 + xk * 1000, Y0 + yk * 1000)
        recs.append(
            {
                "unit_id": uid,
                "name": f"{uid}社区",
                "population": float(pop),
                "kind": kind,
                "town": town,
                "students_primary": np.nan,
                "students_junior": np.nan,
                "students_senior": np.nan,
                "src_row": i + 1,
            }
        )
        geoms.append(geom)
    return gpd.GeoDataFrame(recs, geometry=geoms, crs=CRS)


def make_schools(rows) -> gpd.GeoDataFrame:
    """rows: (school_id, level, capacity, students, x_km, y_km[, status])."""
    recs, geoms = [], []
    for i, r in enumerate(rows):
        sid, level, cap, students, xk, yk = r[:6]
        status = r[6] if len(r) > 6 else "existing"
        recs.append(
            {
                "school_id": sid,
                "name": f"{sid}学校",
                "level": level,
                "classes": int(cap // STD.class_size(level)),
                "students": int(students),
                "capacity": int(cap),
                "teachers": np.nan,
                "quality": "ordinary",
                "location": "town",
                "status": status,
                "ownership": "public",
                "school_type": "regular",
                "combined": "",
                "src_row": i + 1,
            }
        )
        geoms.append(Point(X0 + xk * 1000, Y0 + yk * 1000))
    if not recs:
        return gpd.GeoDataFrame(
            pd.DataFrame({c: pd.Series(dtype=object) for c in SCHOOL_COLS}),
            geometry=gpd.GeoSeries([], crs=CRS),
            crs=CRS,
        )
    return gpd.GeoDataFrame(recs, geometry=geoms, crs=CRS)


def classes_of(result, level):
    ns = result.new_schools
    return sorted(ns.loc[ns["level"] == level, "classes"].tolist(), reverse=True)


# Defaults: primary rate 0.085, 45/class; junior 0.043, 50/class; senior 0.035, 50/class,
# county-wide. "cap" = capacity of an existing school of that level 1 km away.
# population, {level: classes of new schools with nothing nearby}, {level: (cap, classes)}
EDGES = [
    (3_999, {"primary": [], "junior": [], "senior": []}, {"primary": (0, [])}),
    # 340 children → 8 classes; with 200 places nearby the gap of 140 ≥ half of 6 classes
    (4_000, {"primary": [8], "junior": [], "senior": []}, {"primary": (200, [6])}),
    # one complete primary, capped at 12 classes though the 850 children need 19
    (10_000, {"primary": [12], "junior": [], "senior": []}, {"primary": (900, [])}),
    # larger-primary regime: round(1.0001) = 1 school of 19 classes
    (10_001, {"primary": [19], "junior": [], "senior": []}, {"primary": (700, [])}),
    (
        20_000,
        {"primary": [19, 19], "junior": [18], "senior": [24]},
        {"primary": (1000, [18]), "junior": (500, []), "senior": (1000, [])},
    ),
    (
        40_001,
        {"primary": [19, 19, 19, 19], "junior": [18, 18], "senior": [28]},
        {"primary": (1000, [18, 18, 18]), "junior": (500, [25]), "senior": (1000, [])},
    ),
]


@pytest.mark.parametrize("pop,expect,_", EDGES, ids=[str(e[0]) for e in EDGES])
def test_threshold_edges_nothing_nearby(pop, expect, _):
    res = run_new_schools(
        make_schools([]), make_units([("U1", pop, 0, 0)]), PARAMS, STD, costs=STRAIGHT
    )
    assert res.status == "ok"
    for level, classes in expect.items():
        assert classes_of(res, level) == classes, level


@pytest.mark.parametrize("pop,_,nearby", EDGES, ids=[str(e[0]) for e in EDGES])
def test_threshold_edges_with_capacity_nearby(pop, _, nearby):
    schools = make_schools(
        [(f"S-{lv}", lv, cap, 0, 1.0, 0) for lv, (cap, _c) in nearby.items() if cap > 0]
    )
    res = run_new_schools(schools, make_units([("U1", pop, 0, 0)]), PARAMS, STD, costs=STRAIGHT)
    for level, (_cap, classes) in nearby.items():
        assert classes_of(res, level) == classes, level


def test_capacity_beyond_service_distance_does_not_count():
    far = make_schools([("S1", "primary", 2000, 0, PARAMS.service_km_primary + 0.5, 0)])
    near = make_schools([("S1", "primary", 2000, 0, PARAMS.service_km_primary - 0.5, 0)])
    units = make_units([("U1", 6000, 0, 0)])
    assert classes_of(run_new_schools(far, units, PARAMS, STD, costs=STRAIGHT), "primary") == [12]
    assert classes_of(run_new_schools(near, units, PARAMS, STD, costs=STRAIGHT), "primary") == []


def test_one_schools_places_are_not_counted_twice():
    # Two 6,000-person communities (510 children each) share one 600-place school between them:
    # 420 children are left, each community's gap alone (~210) is above half a 6-class school.
    units = make_units([("U1", 6000, -1, 0), ("U2", 6000, 1, 0)])
    schools = make_schools([("S1", "primary", 600, 0, 0, 0)])
    res = run_new_schools(schools, units, PARAMS, STD, costs=STRAIGHT)
    req = res.requirements[res.requirements["level"] == "primary"]
    assert req["supplied"].sum() == 600
    assert req["gap"].sum() + req["absorbed_new"].sum() == pytest.approx(1020 - 600)
    assert len(classes_of(res, "primary")) >= 1


def test_given_students_override_rates():
    units = make_units([("U1", 5000, 0, 0)])
    units["students_primary"] = 200.0
    res = run_new_schools(make_schools([]), units, PARAMS, STD, costs=STRAIGHT)
    assert classes_of(res, "primary") == [6]  # 200 children → 5 classes, clamped to 6
    assert "学龄儿童 200 人" in res.new_schools["rule"].iloc[0]
    units["students_primary"] = 120.0  # under half of a 6-class school: expand, not build
    assert (
        classes_of(run_new_schools(make_schools([]), units, PARAMS, STD, costs=STRAIGHT), "primary")
        == []
    )


def test_small_gap_is_left_to_expansion_and_reported():
    units = make_units([("U1", 6000, 0, 0)])  # 510 children
    schools = make_schools([("S1", "primary", 450, 0, 0.5, 0)])  # gap 60 < 135
    res = run_new_schools(schools, units, PARAMS, STD, costs=STRAIGHT)
    assert classes_of(res, "primary") == []
    row = res.requirements.query("level == 'primary'").iloc[0]
    assert row["gap"] == 60 and "扩容" in row["note"]
    assert res.summary.areas_gap_below_min >= 1


def test_rule_text_names_threshold_and_numbers():
    res = run_new_schools(
        make_schools([]), make_units([("U1", 4_000, 0, 0)]), PARAMS, STD, costs=STRAIGHT
    )
    row = res.new_schools.iloc[0]
    assert "4,000" in row["rule"] and "6–12" in row["rule"] and "340" in row["rule"]
    assert "complete primary" in row["rule_en"] and "340" in row["rule_en"]
    assert row["school_id"] == "NEW-P-001"
    assert row["name"] == "U1社区新建小学(规划)"
    assert row["unit_id"] == "U1"
    assert row["capacity"] == row["classes"] * STD.class_size_primary


def test_output_schema_and_crs():
    res = run_new_schools(
        make_schools([]), make_units([("U1", 40_001, 0, 0)]), PARAMS, STD, costs=STRAIGHT
    )
    ns = res.new_schools
    assert list(ns.columns) == NEW_COLUMNS + ["geometry"]
    assert ns.crs == CRS and (ns.geom_type == "Point").all()
    assert ns["school_id"].is_unique
    assert ns["school_id"].str.match(r"^NEW-[PJS]-\d{3}$").all()
    s = res.summary
    assert (s.primary, s.junior, s.senior) == (4, 2, 1)
    assert s.classes_total == ns["classes"].sum()
    assert s.by_rule == {"primary_large": 4, "junior": 2, "senior": 1}
    rows = as_school_rows(res, STD)
    assert list(rows.columns) == SCHOOL_COLS + ["geometry"]
    assert (rows["status"] == "planned").all() and (rows["quality"] == "ordinary").all()
    assert (rows["students"] == 0).all() and rows["capacity"].tolist() == ns["capacity"].tolist()
    assert rows["location"].isin(["urban", "town", "rural"]).all()


def test_candidate_site_used_when_within_service_distance():
    units = make_units([("U1", 6000, 0, 0)])
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["A", "B", "C"], "name": ["地块A", "地块B", "地块C"],
         "level": ["junior", "", "primary"]},
        geometry=[Point(X0 + 100, Y0), Point(X0 + 2000, Y0), Point(X0 + 50_000, Y0)],
        crs=CRS,
    )  # fmt: skip
    res = run_new_schools(make_schools([]), units, PARAMS, STD, candidates=cands, costs=STRAIGHT)
    p = res.new_schools.query("level == 'primary'").iloc[0]
    # A is for junior schools only and C is too far: B, the any-level site, is chosen.
    assert (p.geometry.x, p.geometry.y) == (X0 + 2000, Y0)
    assert "地块B" in p["rule"]
    no_cand = dataclasses.replace(PARAMS, use_candidates=False)
    res2 = run_new_schools(make_schools([]), units, no_cand, STD, candidates=cands, costs=STRAIGHT)
    q = res2.new_schools.iloc[0]
    assert (q.geometry.x, q.geometry.y) == (X0, Y0)  # the unit's own (weighted) centre


def test_a_candidate_hosts_one_new_school():
    units = make_units([("U1", 6000, 0, 0), ("U2", 6000, 0.5, 0)])
    cands = gpd.GeoDataFrame(
        {"candidate_id": ["A"], "name": ["地块A"], "level": [""]},
        geometry=[Point(X0 + 200, Y0)],
        crs=CRS,
    )
    res = run_new_schools(make_schools([]), units, PARAMS, STD, candidates=cands, costs=STRAIGHT)
    on_site = res.new_schools.geometry.apply(lambda g: (g.x, g.y) == (X0 + 200, Y0))
    assert on_site.sum() == 1


def test_town_mode_pools_villages():
    # Four villages of 3,000 (each below 4,000) in one town: none per unit, one per town.
    units = make_units([(f"V{i}", 3000, i * 0.5, 0, "village", "乙乡") for i in range(4)])
    by_unit = run_new_schools(make_schools([]), units, PARAMS, STD, costs=STRAIGHT)
    assert classes_of(by_unit, "primary") == []
    town = dataclasses.replace(PARAMS, planning_unit="town")
    by_town = run_new_schools(make_schools([]), units, town, STD, costs=STRAIGHT)
    assert classes_of(by_town, "primary") == [23]  # 12,000 people, 1,020 children
    assert by_town.new_schools["name"].iloc[0] == "乙乡新建小学(规划)"
    # Weighted centre of four equal villages on a line is halfway along it.
    g = by_town.new_schools.geometry.iloc[0]
    assert g.x == pytest.approx(X0 + 750) and g.y == pytest.approx(Y0)


def test_polygon_unit_with_several_schools_spreads_them():
    poly = box(X0, Y0, X0 + 6000, Y0 + 3000)
    units = make_units([("U1", 40_001, 0, 0, "new_community", "开发区", poly)])
    res = run_new_schools(make_schools([]), units, PARAMS, STD, costs=STRAIGHT)
    pts = res.new_schools.query("level == 'primary'").geometry
    assert len(pts) == 4 and len({(round(p.x), round(p.y)) for p in pts}) == 4
    assert all(poly.contains(p) for p in pts)


def test_count_rounding_param():
    units = make_units([("U1", 10_001, 0, 0)])
    ceil = dataclasses.replace(PARAMS, count_rounding="ceil")
    assert (
        len(
            classes_of(
                run_new_schools(make_schools([]), units, ceil, STD, costs=STRAIGHT), "primary"
            )
        )
        == 2
    )
    units = make_units([("U1", 19_999, 0, 0)])
    floor = dataclasses.replace(PARAMS, count_rounding="floor")
    # floor gives one school, but 1,700 children need 38 classes > 24: a second one is added.
    req = requirement("primary", 19_999, 1700, floor, STD)
    assert req.schools == 2 and "增至 2 所" in threshold_text(req, floor, "zh")


def test_requirement_core_table():
    r = requirement("primary", 3_999, 340, PARAMS, STD)
    assert (r.rule, r.schools) == ("", 0)
    r = requirement("primary", 4_000, 340, PARAMS, STD)
    assert (r.rule, r.schools, r.min_classes, r.max_classes, r.classes) == (
        "primary_small",
        1,
        6,
        12,
        8,
    )
    r = requirement("primary", 10_001, 850, PARAMS, STD)
    assert (r.rule, r.schools, r.classes) == ("primary_large", 1, 19)
    r = requirement("junior", 19_999, 860, PARAMS, STD)
    assert r.schools == 0
    r = requirement("junior", 20_000, 860, PARAMS, STD)
    assert (r.rule, r.schools, r.min_classes) == ("junior", 1, 18)
    r = requirement("senior", 0, 3001, PARAMS, STD)
    assert (r.schools, r.max_classes) == (2, 60)


def test_bad_params_and_inputs_raise_named_errors():
    units = make_units([("U1", 5000, 0, 0)])
    bad = dataclasses.replace(PARAMS, primary_small_min_classes=13)
    with pytest.raises(RulesError):
        run_new_schools(make_schools([]), units, bad, STD, costs=STRAIGHT)
    with pytest.raises(InputError):
        run_new_schools(
            make_schools([]), units.drop(columns=["population"]), PARAMS, STD, costs=STRAIGHT
        )
    with pytest.raises(InputError):
        run_new_schools(make_schools([]), units.to_crs("EPSG:4326"), PARAMS, STD, costs=STRAIGHT)


def test_empty_units_and_progress():
    res = run_new_schools(
        make_schools([]), make_units([("U1", 1, 0, 0)]).iloc[0:0], PARAMS, STD, costs=STRAIGHT
    )
    assert res.status == "empty" and len(res.new_schools) == 0
    prog = RecordingProgress()
    run_new_schools(make_schools([]), make_units([("U1", 5000, 0, 0)]), PARAMS, STD,
                    progress=prog, costs=STRAIGHT)  # fmt: skip
    assert prog.updates and prog.updates[-1][0] == 1.0


def test_deterministic():
    rng = np.random.default_rng(3)
    rows = [(f"U{i:02d}", int(rng.integers(500, 15000)), *rng.uniform(0, 20, 2)) for i in range(30)]
    units = make_units(rows)
    schools = make_schools([("S1", "primary", 900, 0, 5, 5), ("S2", "junior", 900, 0, 10, 10)])
    a = run_new_schools(schools, units, PARAMS, STD, costs=STRAIGHT)
    b = run_new_schools(schools, units, PARAMS, STD, costs=STRAIGHT)
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.new_schools.drop(columns="geometry")),
        pd.DataFrame(b.new_schools.drop(columns="geometry")),
    )
    assert a.new_schools.geometry.equals(b.new_schools.geometry)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(
    dem=st.lists(st.integers(0, 500), min_size=1, max_size=8),
    cap=st.lists(st.integers(0, 800), min_size=1, max_size=5),
    seed=st.integers(0, 10_000),
)
def test_allocation_never_double_counts(dem, cap, seed):
    rng = np.random.default_rng(seed)
    dist = rng.uniform(0, 6, (len(dem), len(cap)))
    served, used = allocate_supply(dist, np.array(cap, float), np.array(dem, float), 3.0)
    assert (served <= np.array(dem)).all() and (used <= np.array(cap)).all()
    assert served.sum() == used.sum()
    # Maximum flow: no reachable child is left while a reachable school has places.
    left = np.array(dem) - served
    spare = np.array(cap) - used
    reach = dist <= 3.0
    assert not (reach & (left[:, None] > 0) & (spare[None, :] > 0)).any()


@settings(max_examples=80, deadline=None)
@given(
    pop=st.integers(0, 200_000),
    share=st.floats(0.0, 1.0),
    level=st.sampled_from(["primary", "junior", "senior"]),
)
def test_sizes_stay_in_rule_range_and_below_threshold_nothing(pop, share, level):
    children = pop * STD.rate(level)
    req = requirement(level, pop, children, PARAMS, STD)
    sizes = size_new_schools(req, children * share, children, PARAMS.min_fill_share,
                             STD.class_size(level))  # fmt: skip
    if level == "primary" and pop < PARAMS.primary_min_population:
        assert sizes == []
    if level == "junior" and pop < PARAMS.junior_min_population:
        assert sizes == []
    assert len(sizes) <= req.schools
    assert all(req.min_classes <= c <= req.max_classes for c in sizes)
    if level == "senior":
        assert all(c * STD.class_size(level) <= PARAMS.senior_max_students for c in sizes)


def test_many_polygons_in_one_area_are_sampled_within_the_cap():
    """A county-wide senior area over 100 tract squares: the siting samples at most about
    DEMAND_SAMPLES demand points and SITE_SAMPLES site places (not 60 per tract, whose
    n x n table made polygons cost ten times their points), keeps every child's weight,
    and still sites every school inside the county."""
    from planning.newschools import build, siting

    squares = [box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000, Y0 + (j + 1) * 1000)
               for i in range(10) for j in range(10)]  # fmt: skip
    units = make_units([(f"T{k:03d}", 6000, 0, 0, "village", "", g) for k, g in enumerate(squares)])
    params = dataclasses.replace(PARAMS, senior_max_students=600)
    problem = build.build_problem(make_schools([]), units, params, STD, costs=STRAIGHT)
    sit = siting.Siting(problem, params, STD, STRAIGHT)
    members = np.arange(len(units))
    weights = np.arange(1.0, len(units) + 1)
    dxy, dw, sxy = sit._demand_points(3, members, weights)
    assert len(squares) * 60 > siting.DEMAND_SAMPLES  # the cap is what bounds them here
    assert len(dxy) <= siting.DEMAND_SAMPLES + len(squares)
    assert len(sxy) <= siting.SITE_SAMPLES + len(squares) and len(sxy) < len(dxy)
    assert dw.sum() == pytest.approx(weights.sum(), rel=1e-12)
    res = run_new_schools(make_schools([]), units, params, STD, costs=STRAIGHT)
    senior = res.new_schools.query("level == 'senior'")
    assert len(senior) >= 2
    county = box(X0, Y0, X0 + 10_000, Y0 + 10_000)
    assert all(county.contains(p) for p in senior.geometry)
