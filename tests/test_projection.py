"""Projection of school-age children: hand-computed ratios, totals, urbanisation, bad tables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from core.errors import InputError, RulesError
from geo.checks import normalise_units
from geo.project import LayerSource
from planning.projection import ProjectionParams
from planning.projection.cohorts import extend_rows, level_children
from planning.projection.engine import layers_for_year, run_projection, standards_for_year
from planning.rules import Rules, Standards

LEVEL_INDEX = {"primary": 0, "junior": 1, "senior": 2}


def births(p: ProjectionParams, year: int) -> float:
    """The rules' national births of ``year``, read off the fields by hand (not the code's series)."""
    if year < 2013:
        return p.births_before_2013
    if year > 2024:
        return p.births_2024 * p.birth_rate_later / p.birth_rate_2024
    return getattr(p, f"births_{year}")


def units_frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {
        "unit_id": [f"U{i}" for i in range(n)],
        "kind": ["village"] * n,
        "town": ["甲镇"] * n,
        "src_row": list(range(2, n + 2)),
    }
    base.update(cols)
    return pd.DataFrame(base)


def no_urbanisation(p: ProjectionParams | None = None) -> ProjectionParams:
    return dataclasses.replace(p or ProjectionParams(), urbanisation_share=0.0)


# ---- the sample county against the birth series --------------------------------------------


@pytest.fixture(scope="module")
def sample(sample_layers):
    layers, rules, _ = sample_layers
    return (
        layers,
        rules,
        run_projection(layers.units, layers.schools, rules.projection, rules.standards),
    )


def test_sample_primary_2030_follows_the_birth_series(sample):
    _, rules, res = sample
    p = rules.projection
    # Primary pupils are 6–11: in 2024 those born 2013–2018, in 2030 those born 2019–2024.
    base = (
        p.births_2013
        + p.births_2014
        + p.births_2015
        + p.births_2016
        + p.births_2017
        + p.births_2018
    )
    later = (
        p.births_2019
        + p.births_2020
        + p.births_2021
        + p.births_2022
        + p.births_2023
        + p.births_2024
    )
    totals = res.totals()
    assert totals.loc[2030, "primary"] / totals.loc[2024, "primary"] == pytest.approx(later / base)
    assert later / base == pytest.approx(0.6532, abs=1e-4)  # 65.41 / 100.14 million
    # Junior (12–14) in 2030: born 2016–2018; in 2024: born 2010–2012 (before the series).
    junior = (p.births_2016 + p.births_2017 + p.births_2018) / (3 * p.births_before_2013)
    assert totals.loc[2030, "junior"] / totals.loc[2024, "junior"] == pytest.approx(junior)


def test_sample_base_year_is_the_data(sample):
    layers, rules, res = sample
    st = rules.standards
    pop = layers.units["population"].to_numpy(float)
    base = res.students(rules.projection.base_year)
    for level in ("primary", "junior", "senior"):
        assert np.allclose(base[f"students_{level}"], pop * st.rate(level))
        assert (res.source[:, LEVEL_INDEX[level]] == "rate").all()


def test_sample_every_year_by_hand(sample):
    """Each year's county total = base total × the birth series' ratio for the level's ages."""
    _, rules, res = sample
    p = rules.projection
    totals = res.totals()
    for level, (a0, a1) in {"primary": (6, 11), "junior": (12, 14), "senior": (15, 17)}.items():

        def cohort(year, a0=a0, a1=a1):
            return sum(births(p, year - a) for a in range(a0, a1 + 1))

        for year in range(2024, 2036):
            ratio = cohort(year) / cohort(2024)
            assert totals.loc[year, level] == pytest.approx(totals.loc[2024, level] * ratio)


def test_urbanisation_moves_children_and_keeps_the_total(sample_layers, sample):
    layers, rules, moved = sample
    still = run_projection(
        layers.units, layers.schools, no_urbanisation(rules.projection), rules.standards
    )
    pd.testing.assert_frame_equal(moved.totals(), still.totals())
    village = (layers.units["kind"] == "village").to_numpy()
    community = layers.units["kind"].isin(["community", "new_community"]).to_numpy()
    j = moved.year_index(2035)
    assert (moved.children[village, :, j] < still.children[village, :, j]).all()
    assert (moved.children[community, :, j] > still.children[community, :, j]).all()
    # Villages keep (1 − s)^11 of their children; what they lose the communities gain.
    s = rules.projection.urbanisation_share
    v_m, v_s = moved.children[village, 0, j].sum(), still.children[village, 0, j].sum()
    assert v_m == pytest.approx(v_s * (1 - s) ** 11)
    gained = moved.children[community, 0, j].sum() - still.children[community, 0, j].sum()
    assert gained == pytest.approx(v_s - v_m)
    assert moved.moved[0, j] == pytest.approx(v_s - v_m)
    assert moved.moved[:, 0].sum() == 0  # nothing moves in the base year


def test_tidy_frame_matches_the_array(sample):
    _, _, res = sample
    frame = res.frame()
    assert list(frame.columns) == ["unit_id", "level", "year", "children"]
    assert len(frame) == res.children.size
    by = (
        frame.groupby(["year", "level"])["children"]
        .sum()
        .unstack()[["primary", "junior", "senior"]]
    )
    np.testing.assert_allclose(by.to_numpy(), res.totals().to_numpy())


def test_layers_for_year_sets_children_and_class_sizes(sample_layers):
    layers, rules, _ = sample_layers
    l30, s30 = layers_for_year(layers, rules, 2030)
    l35, s35 = layers_for_year(layers, rules, 2035)
    assert (s30.class_size_primary, s30.class_size_junior) == (45, 50)
    assert (s35.class_size_primary, s35.class_size_junior) == (40, 45)
    assert s35.class_size_senior == rules.standards.class_size_senior  # 建标109 sets no senior size
    assert l30.units["students_primary"].sum() < layers.units["population"].sum() * 0.085
    assert l30.units["students_primary"].notna().all()
    assert len(l30.schools) == len(layers.schools)
    base, s0 = layers_for_year(layers, rules, 2024)
    assert base is layers and s0 == rules.standards


def test_standards_for_year_keeps_the_data_in_the_base_year():
    st = Standards(class_size_primary=38)
    p = ProjectionParams()
    assert standards_for_year(st, p, 2024).class_size_primary == 38
    assert standards_for_year(st, p, 2030).class_size_primary == 45
    assert standards_for_year(st, p, 2031).class_size_primary == 40


# ---- own birth tables and age counts --------------------------------------------------------


def test_unit_births_table_counts_children_by_hand():
    p = no_urbanisation()
    cols = {f"births_{y}": [10.0, 20.0] for y in range(2007, 2025)}
    units = units_frame(population=[1000.0, 2000.0], **cols)
    res = run_projection(units, None, p, Standards(), years=[2024, 2030, 2035])
    # 2024 primary: six cohorts of 10 births × survival; after 2024 the unit continues at its
    # ratio to the nation over 2022–2024 (10 / 9.37 million-ish), times the national births.
    assert res.children[0, 0, 0] == pytest.approx(6 * 10 * p.survival)
    assert res.children[1, 0, 1] == pytest.approx(6 * 20 * p.survival)
    ratio = 10 * p.survival * 3 / (births(p, 2022) + births(p, 2023) + births(p, 2024))
    later = 10 * p.survival + 5 * ratio * births(p, 2025)  # 2035: born 2024–2029
    assert res.children[0, 0, 2] == pytest.approx(later)
    assert (res.source == "cohorts").all()


def test_students_in_the_data_calibrate_the_unit_series():
    p = no_urbanisation()
    cols = {f"births_{y}": [10.0] for y in range(2007, 2025)}
    units = units_frame(population=[1000.0], students_primary=[120.0], **cols)
    res = run_projection(units, None, p, Standards(), years=[2024, 2030])
    assert res.children[0, 0, 0] == pytest.approx(120.0)
    assert res.children[0, 0, 1] == pytest.approx(120.0)  # flat births, flat pupils
    assert res.source[0, 0] == "data" and res.source[0, 1] == "cohorts"


def test_age_counts_are_survivors():
    p = no_urbanisation()
    ages = {f"age_{a}": [float(a)] for a in range(0, 18)}
    units = units_frame(population=[1000.0], **ages)
    res = run_projection(units, None, p, Standards(), years=[2024, 2026])
    assert res.children[0, 0, 0] == pytest.approx(sum(range(6, 12)))
    # In 2026 the primary pupils are those aged 4–9 in 2024.
    assert res.children[0, 0, 1] == pytest.approx(sum(range(4, 10)))
    assert res.children[0, 2, 1] == pytest.approx(13 + 14 + 15)


def test_extend_rows_joins_the_national_shape():
    national = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    given = np.array([[np.nan, 4.0, 6.0, np.nan, np.nan], [np.nan] * 5])
    out = extend_rows(given, national)
    np.testing.assert_allclose(out[0], [2.0, 4.0, 6.0, 8.0, 10.0])
    np.testing.assert_allclose(out[1], national)
    kids = level_children(out, 2000, np.array([2004]), (1, 2))
    np.testing.assert_allclose(kids[:, 0], [6.0 + 8.0, 3.0 + 4.0])


def test_delivery_year_adds_children_from_that_year():
    p = no_urbanisation()
    units = units_frame(population=[5000.0], kind=["new_community"], delivery_year=[2028])
    res = run_projection(units, None, p, Standards())
    kids = res.totals()["primary"]
    assert (kids.loc[:2027] == 0).all() and (kids.loc[2028:] > 0).all()
    same = run_projection(
        units.drop(columns="delivery_year"), None, p, Standards(), deliveries={"U0": 2028}
    )
    pd.testing.assert_frame_equal(res.totals(), same.totals())


# ---- refusals --------------------------------------------------------------------------------


def _problems(exc: pytest.ExceptionInfo) -> list:
    return exc.value.problems


def test_birth_table_gap_is_refused_with_the_column():
    cols = {f"births_{y}": [5.0] for y in (2019, 2020, 2022)}
    with pytest.raises(InputError) as exc:
        run_projection(
            units_frame(population=[100.0], **cols), None, ProjectionParams(), Standards()
        )
    (p,) = _problems(exc)
    assert p.code == "birth_table_gap" and p.column == "births_2021" and "2021" in p.problem


def test_birth_table_negative_and_holes_are_refused_per_row():
    cols = {
        "births_2020": [5.0, 5.0, 5.0],
        "births_2021": [-1.0, np.nan, 5.0],
        "births_2022": [5.0, 5.0, 5.0],
    }
    with pytest.raises(InputError) as exc:
        run_projection(
            units_frame(population=[100.0] * 3, **cols), None, ProjectionParams(), Standards()
        )
    found = {(p.code, p.row, p.column) for p in _problems(exc)}
    assert found == {
        ("birth_table_negative", 2, "births_2021"),
        ("birth_table_gap", 3, "births_2021"),
    }
    assert all(p.fix for p in _problems(exc))


def test_births_after_the_horizon_are_refused():
    cols = {f"births_{y}": [5.0] for y in range(2030, 2038)}
    with pytest.raises(InputError) as exc:
        run_projection(
            units_frame(population=[100.0], **cols), None, ProjectionParams(), Standards()
        )
    (p,) = _problems(exc)
    assert p.code == "birth_table_late" and "2036" in p.problem


def test_more_children_than_people_is_refused_with_the_row():
    units = units_frame(
        population=[1000.0, 10.0], students_primary=[50.0, 9.0], students_junior=[20.0, 5.0]
    )
    with pytest.raises(InputError) as exc:
        run_projection(units, None, ProjectionParams(), Standards())
    (p,) = _problems(exc)
    assert p.code == "projection_above_population" and p.row == 3 and p.feature_id == "U1"


def test_years_outside_the_horizon_and_bad_rules_are_refused():
    units = units_frame(population=[100.0])
    with pytest.raises(InputError):
        run_projection(units, None, ProjectionParams(), Standards(), years=[2040])
    with pytest.raises(RulesError):
        Rules().with_values({"projection": {"horizon": 2020}})
    with pytest.raises(RulesError):
        Rules().with_values({"projection": {"age_junior_from": 14, "age_junior_to": 12}})


# ---- property --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 50_000),
            st.sampled_from(["village", "community", "new_community", "relocation_site"]),
            st.one_of(st.none(), st.floats(0, 3_000)),
        ),
        min_size=1,
        max_size=12,
    ),
    st.floats(0, 0.1),
)
def test_children_never_negative_nor_above_population(rows, share):
    pop, kind, students = zip(*rows)
    units = units_frame(
        population=list(pop),
        kind=list(kind),
        students_primary=[np.nan if s is None else s for s in students],
    )
    p = dataclasses.replace(ProjectionParams(), urbanisation_share=share)
    try:
        res = run_projection(units, None, p, Standards())
    except InputError as exc:
        assert exc.problems and all(q.code == "projection_above_population" for q in exc.problems)
        return
    assert (res.children >= 0).all()
    assert (res.children.sum(axis=1) <= np.asarray(pop)[:, None] * (1 + 1e-9) + 1e-9).all()
    # Urbanisation never changes a year's county total.
    still = run_projection(units, None, no_urbanisation(p), Standards())
    np.testing.assert_allclose(
        res.totals().to_numpy(), still.totals().to_numpy(), rtol=1e-9, atol=1e-6
    )


# ---- long birth tables (unit_id or town, year, births) -------------------------------------


def test_town_birth_table_is_shared_by_population():
    p = no_urbanisation()
    units = units_frame(population=[1000.0, 3000.0, 500.0], town=["甲镇", "甲镇", "乙镇"])
    table = pd.DataFrame({"town": "甲镇", "year": range(2007, 2025), "births": 40.0})
    res = run_projection(units, None, p, Standards(), years=[2024], births=table)
    assert res.children[0, 0, 0] == pytest.approx(6 * 10 * p.survival)
    assert res.children[1, 0, 0] == pytest.approx(6 * 30 * p.survival)
    assert res.children[2, 0, 0] == pytest.approx(500 * Standards().rate_primary)  # no table
    assert list(res.source[:, 0]) == ["cohorts", "cohorts", "rate"]


def test_bad_long_birth_table_gets_one_message_per_row():
    units = units_frame(population=[1000.0, 1000.0])
    table = pd.DataFrame(
        {
            "unit_id": ["U0", "U0", "U0", "U9", "U1", "U1", "U1", "U1"],
            "year": ["2020", "2021", "2023", "2020", "2020", "2020", "2040", "二〇二一"],
            "births": ["5", "-2", "5", "5", "5", "5", "5", "5"],
        }
    )
    with pytest.raises(InputError) as exc:
        run_projection(units, None, ProjectionParams(), Standards(), births=table)
    found = {(p.code, p.row) for p in exc.value.problems}
    assert found == {
        ("birth_table_unknown", 5),
        ("birth_table_year", 9),
        ("birth_table_late", 8),
        ("birth_table_negative", 3),
        ("birth_table_gap", 2),  # U0: 2022 missing
        ("birth_table_gap", 6),  # U1: 2021–2039 missing
        ("birth_table_duplicate", 7),
    }
    assert all(p.fix and p.file == "births" for p in exc.value.problems)


def test_units_layer_keeps_the_projection_columns(tmp_path, sample_layers):
    """geo/checks keeps births_<year>, age_<n> and delivery_year on the units layer (and nothing
    else unmapped), so a project's own cohorts and deliveries reach the projection."""
    _, rules, _ = sample_layers
    raw = gpd.GeoDataFrame(
        {
            "编号": ["A", "B"],
            "人口": [1000, 800],
            "类型": ["村", "新建小区"],
            "births_2016": [12, 0],
            "age_6": [10, 0],
            "delivery_year": [None, 2028],
            "备注": ["x", "y"],
        },
        geometry=[Point(500000, 2800000), Point(500100, 2800000)],
        crs="EPSG:32649",
    )
    src = LayerSource(key="population", file=Path("p.gpkg"), layer="population")
    problems: list = []
    units = normalise_units(raw, src, problems)
    assert not [p for p in problems if p.severity == "error"]
    assert {"births_2016", "age_6", "delivery_year"} <= set(units.columns)
    assert "备注" not in units.columns
    result = run_projection(units, None, rules.projection, rules.standards, years=[2027, 2028])
    b = result.children[1].sum(axis=0)
    assert b[0] == 0 and b[1] > 0  # the new community's children arrive with its housing
