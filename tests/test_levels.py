"""Combined schools expand to one row per level; counts split by grades and sum to the original."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geo.checks import expand_levels
from planning.project import load_project
from planning.rules import Standards
from tests import builders

COUNTS = ("classes", "students", "capacity", "teachers")


def frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """Rows as normalise_schools hands them to expand_levels (``form`` = the level as given)."""
    return builders.school_layer([{"capacity": np.nan, **r} for r in rows])


def by_level(out: gpd.GeoDataFrame, school_id: str) -> pd.DataFrame:
    return out[out["school_id"] == school_id].set_index("level")


def test_nine_year_school_splits_into_primary_and_junior():
    out = expand_levels(
        frame(
            [
                {
                    "school_id": "J9",
                    "form": "nine_year",
                    "classes": 27,
                    "students": 1215,
                    "capacity": 1300,
                    "teachers": 70.0,
                }
            ]
        ),
        Standards(),
    )
    s = by_level(out, "J9")
    assert list(s.index) == ["primary", "junior"]
    # grades 6 : 3 → two thirds primary; largest remainders keep the sums exact
    assert s["classes"].tolist() == [18, 9]
    assert s["students"].tolist() == [810, 405]
    assert s["capacity"].tolist() == [867, 433]  # 866.67 / 433.33 → remainder to primary
    assert s["teachers"].tolist() == [47.0, 23.0]  # 46.67 / 23.33
    assert set(s["combined"]) == {"nine_year"}
    assert set(s["src_row"]) == {1}


def test_complete_middle_school_splits_into_junior_and_senior():
    out = expand_levels(
        frame(
            [
                {
                    "school_id": "W1",
                    "form": "complete_middle",
                    "classes": 31,
                    "students": 1549,
                    "teachers": 121.0,
                }
            ]
        ),
        Standards(),
    )
    s = by_level(out, "W1")
    assert list(s.index) == ["junior", "senior"]
    assert s["classes"].sum() == 31 and abs(s["classes"]["junior"] - s["classes"]["senior"]) == 1
    assert s["students"].sum() == 1549
    assert s["teachers"].sum() == 121.0
    # capacity not given: each level's classes × its standard class size (50 / 50)
    assert s["capacity"].tolist() == [s["classes"]["junior"] * 50, s["classes"]["senior"] * 50]
    assert set(s["combined"]) == {"complete_middle"}


def test_twelve_year_school_gives_three_rows():
    out = expand_levels(
        frame(
            [
                {
                    "school_id": "T12",
                    "form": "twelve_year",
                    "classes": 48,
                    "students": 2200,
                    "teachers": 150.0,
                }
            ]
        ),
        Standards(),
    )
    s = by_level(out, "T12")
    assert list(s.index) == ["primary", "junior", "senior"]
    assert s["classes"].tolist() == [24, 12, 12]  # grades 6 : 3 : 3
    assert s["students"].tolist() == [1100, 550, 550]
    assert s["teachers"].tolist() == [75.0, 38.0, 37.0]  # whole teachers; tie to the lower level
    assert s["capacity"].tolist() == [24 * 45, 12 * 50, 12 * 50]
    assert set(s["combined"]) == {"twelve_year"}


def test_capacity_from_class_size_only_where_missing():
    out = expand_levels(
        frame(
            [
                {"school_id": "A", "form": "primary", "classes": 12, "students": 500},
                {
                    "school_id": "B",
                    "form": "primary",
                    "classes": 12,
                    "students": 500,
                    "capacity": 600,
                },
                {"school_id": "C", "form": "junior", "classes": 10, "students": 480},
                {"school_id": "D", "form": "senior", "classes": 20, "students": 1000},
            ]
        ),
        Standards(class_size_primary=40),
    )
    cap = out.set_index("school_id")["capacity"]
    assert cap.to_dict() == {"A": 12 * 40, "B": 600, "C": 10 * 50, "D": 20 * 50}
    assert (out["combined"] == "").all()


def test_grades_come_from_the_rules():
    # A 5-4 school system: a nine-year school is five ninths primary.
    standards = dataclasses.replace(Standards(), grades_primary=5, grades_junior=4)
    out = expand_levels(
        frame([{"school_id": "J9", "form": "nine_year", "classes": 18, "students": 900}]),
        standards,
    )
    s = by_level(out, "J9")
    assert s["classes"].tolist() == [10, 8]
    assert s["students"].tolist() == [500, 400]


def test_rows_sorted_by_level_then_id_and_attributes_kept():
    out = expand_levels(
        frame(
            [
                {"school_id": "Z", "form": "twelve_year", "classes": 12, "students": 100},
                {"school_id": "A", "form": "nine_year", "classes": 9, "students": 90},
                {"school_id": "M", "form": "junior", "classes": 3, "students": 30},
                {"school_id": "Q", "form": None, "classes": 3, "students": 30},  # unknown level
            ]
        ).assign(quality=["core", "weak", "ordinary", "ordinary"]),
        Standards(),
    )
    keys = list(zip(out["level"], out["school_id"]))
    assert keys == [
        ("primary", "A"),
        ("primary", "Z"),
        ("junior", "A"),
        ("junior", "M"),
        ("junior", "Z"),
        ("senior", "Z"),
    ]
    assert set(out.loc[out["school_id"] == "Z", "quality"]) == {"core"}
    assert out.geometry.iloc[0].equals(Point(500100, 2800000))  # A keeps its own point


@settings(max_examples=200, deadline=None)
@given(
    form=st.sampled_from(["nine_year", "complete_middle", "twelve_year"]),
    classes=st.integers(0, 500),
    students=st.integers(0, 30000),
    capacity=st.one_of(st.none(), st.integers(0, 30000)),
    teachers=st.one_of(st.none(), st.integers(0, 2000), st.floats(0, 2000, allow_nan=False)),
    grades_primary=st.integers(5, 6),
    grades_junior=st.integers(3, 4),
)
def test_split_parts_sum_to_the_original(
    form, classes, students, capacity, teachers, grades_primary, grades_junior
):
    standards = dataclasses.replace(
        Standards(), grades_primary=grades_primary, grades_junior=grades_junior
    )
    row = {
        "school_id": "X",
        "form": form,
        "classes": classes,
        "students": students,
        "capacity": np.nan if capacity is None else capacity,
        "teachers": np.nan if teachers is None else teachers,
    }
    out = expand_levels(frame([row]), standards)
    levels = {"nine_year": 2, "complete_middle": 2, "twelve_year": 3}[form]
    assert len(out) == levels
    assert out["classes"].sum() == classes
    assert out["students"].sum() == students
    assert (out[["classes", "students", "capacity"]] >= 0).all().all()
    weights = np.array([standards.grades(lv) for lv in out["level"]], float)
    share = weights / weights.sum()
    # each part is its grades' share, off by less than one whole unit
    assert (np.abs(out["classes"].to_numpy() - share * classes) < 1).all()
    if capacity is None:
        sizes = out["level"].map(standards.class_size)
        assert (out["capacity"] == out["classes"] * sizes).all()
    else:
        assert out["capacity"].sum() == capacity
    if teachers is None:
        assert out["teachers"].isna().all()
    else:
        assert out["teachers"].sum() == pytest.approx(teachers)


def test_combined_schools_through_the_loader(tmp_path):
    s = builders.schools()
    s["学段"] = ["九年一贯制学校", "完全中学", "小学", "十二年一贯制"]
    s["学位数"] = [1500, None, None, 2400]
    layers, _, report = load_project(builders.write_project(tmp_path, schools_gdf=s))
    assert report.usable
    got = layers.schools
    assert sorted(got.groupby("school_id").size().items()) == [
        ("S01", 2),
        ("S02", 2),
        ("S03", 1),
        ("S04", 3),
    ]
    for sid, src in zip(s["学校代码"], s.itertuples()):
        part = got[got["school_id"] == sid]
        assert part["classes"].sum() == src.班级数
        assert part["students"].sum() == src.在校生数
        assert part["teachers"].sum() == pytest.approx(src.教师数)
        assert (part["src_row"] == part["src_row"].iloc[0]).all()
        assert part.geometry.nunique() == 1  # every level at the school's own point
    s01 = by_level(got, "S01")
    assert s01["capacity"].tolist() == [1000, 500]  # 学位数 1500 split 6 : 3
    s02 = by_level(got, "S02")
    assert s02["capacity"].tolist() == [9 * 50, 9 * 50]  # 18 classes, no 学位数
    assert by_level(got, "S04")["combined"].tolist() == ["twelve_year"] * 3
    assert by_level(got, "S03")["combined"].tolist() == [""]
