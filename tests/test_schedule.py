"""The phased schedule: never a closure before its pupils have places, in every later year."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from planning.pipeline import run_plan
from planning.projection.engine import ProjectionResult, run_projection
from planning.rules import Rules
from planning.schedule import NEVER, first_year_for_good, first_year_reaching, phased_schedule
from store.plan import read_plan, write_plan

YEARS = np.arange(2024, 2036)


def assert_closures_safe(schedule, plan) -> int:
    """Every closure: its receiver is open and holds its whole zone in the closure year and
    every year after; the receiver itself is never closed. Returns the number of closures."""
    steps, classes = schedule.steps, schedule.classes
    closes = steps[(steps["action"] == "close") & steps["year"].notna()]
    closed = set(steps.loc[steps["action"] == "close", "school_id"])
    for _, step in closes.iterrows():
        rid = step["receiving_school_id"]
        assert rid and rid not in closed
        rows = classes[(classes["school_id"] == rid) & (classes["level"] == step["level"])]
        later = rows[rows["year"] >= step["year"]]
        assert len(later) == YEARS[-1] - step["year"] + 1
        assert later["open"].all(), step["school_id"]
        assert (later["children"] <= later["places"] + 1e-9).all(), step["school_id"]
        # Built schools receiving pupils are built no later than the closure.
        built = steps[(steps["school_id"] == rid) & (steps["action"] == "build")]
        assert built.empty or built["year"].iloc[0] <= step["year"]
    return len(closes)


def test_sample_schedule_never_closes_before_places(sample_layers, sample_plan):
    layers, rules, _ = sample_layers
    plan, _ = sample_plan
    projection = run_projection(layers.units, layers.schools, rules.projection, rules.standards)
    schedule = phased_schedule(plan, projection, rules)
    assert assert_closures_safe(schedule, plan) > 0
    merged = plan.schools.loc[plan.schools["layout_status"] == "to_merge", "school_id"]
    assert set(schedule.steps.loc[schedule.steps["action"] == "close", "school_id"]) == set(merged)
    new = plan.new_schools["school_id"]
    assert set(schedule.steps.loc[schedule.steps["action"] == "build", "school_id"]) == set(new)
    c = schedule.classes
    assert set(c["change"]) <= {"expand", "keep", "shrink"}
    opened = c[c["open"]]
    assert (opened["classes_needed"] * opened["class_size"] >= opened["children"] - 1e-6).all()
    assert ((opened["classes_needed"] - 1) * opened["class_size"] < opened["children"]).all()
    # Long-term class sizes after the near term (建标109-2008: primary 45 → 40).
    prim = c[c["level"] == "primary"].drop_duplicates("year").set_index("year")["class_size"]
    assert prim.loc[2030] == 45 and prim.loc[2031] == 40


# ---- a county made by hand: one receiver short of places, one new school -------------------


def _plan(zone_r: list[float], zone_n: list[float]):
    """Schools R (2 classes), N (new, 6 classes); M closes into R's zone, M2 into N's."""
    pts = {"R": (0, 0), "M": (900, 0), "N": (10_000, 0), "M2": (10_900, 0)}
    schools = gpd.GeoDataFrame(
        {
            "school_id": ["R", "M", "N", "M2"],
            "name": ["甲小学", "乙教学点", "新建小学", "丙教学点"],
            "level": "primary",
            "classes": [2, 1, 6, 1],
            "layout_status": ["permanent", "to_merge", "new", "to_merge"],
        },
        geometry=[Point(*pts[k]) for k in ("R", "M", "N", "M2")],
        crs="EPSG:32649",
    )
    demand = gpd.GeoDataFrame(
        {
            "unit_id": ["U0", "U1"],
            "school_id_primary": ["R", "N"],
            "school_id_junior": ["", ""],
            "school_id_senior": ["", ""],
        },
        geometry=[Point(1000, 0), Point(11_000, 0)],
        crs="EPSG:32649",
    )
    children = np.zeros((2, 3, len(YEARS)))
    children[0, 0], children[1, 0] = zone_r, zone_n
    projection = ProjectionResult(
        np.array(["U0", "U1"]), YEARS, children, 2024, np.zeros((3, len(YEARS))),
        np.full((2, 3), "rate", dtype=object),
    )  # fmt: skip
    return SimpleNamespace(schools=schools, demand=demand), projection


def _year(schedule, school_id: str):
    row = schedule.steps.set_index("school_id").loc[school_id]
    return None if pd.isna(row["year"]) else int(row["year"])


def test_closure_waits_for_the_receiver_to_hold_every_pupil():
    # R: 2 classes = 90 places to 2030, 80 from 2031; its zone falls below 80 only in 2032.
    zone_r = [100, 95, 88, 85, 90, 89, 86, 84, 79, 70, 60, 50]
    zone_n = [0, 0, 0, 200, 210, 220, 230, 235, 230, 225, 220, 215]
    plan, projection = _plan(zone_r, zone_n)
    schedule = phased_schedule(plan, projection, Rules())
    # 2026 fits 88 ≤ 90, but 2031's 84 > 80: only from 2032 on does R hold its zone for good.
    assert _year(schedule, "M") == 2032
    # N's zone reaches 0.5 × 6 classes × 45 = 135 children in 2027: built then, M2 closes then.
    assert _year(schedule, "N") == 2027
    assert _year(schedule, "M2") == 2027
    assert assert_closures_safe(schedule, plan) == 2
    steps = schedule.steps.set_index("school_id")
    assert steps.loc["M", "term"] == "long" and steps.loc["M2", "term"] == "near"
    assert "先建后撤" in steps.loc["M", "reason"]


def test_no_closure_when_the_receiver_never_has_room():
    zone_r = [100] * len(YEARS)
    zone_n = [0] * len(YEARS)  # N is never needed: its site stays reserved, M2 stays open
    plan, projection = _plan(zone_r, zone_n)
    schedule = phased_schedule(plan, projection, Rules())
    assert _year(schedule, "M") is None and _year(schedule, "M2") is None
    assert _year(schedule, "N") is None
    steps = schedule.steps.set_index("school_id")
    assert steps.loc["M", "reason_code"] == "no_places"
    assert steps.loc["N", "reason_code"] == "not_needed"
    assert steps.loc["M2", "term"] == "beyond"
    n = schedule.classes[schedule.classes["school_id"] == "N"]
    assert not n["open"].any() and (n["classes_needed"] == 0).all()


def test_classes_expand_keep_shrink():
    zone_r = [90, 91, 45, 44] + [0] * (len(YEARS) - 4)
    plan, projection = _plan(zone_r, [0] * len(YEARS))
    c = phased_schedule(plan, projection, Rules()).classes
    r = c[c["school_id"] == "R"].set_index("year")
    assert list(r.loc[2024:2027, "classes_needed"]) == [2, 3, 1, 1]
    assert list(r.loc[2024:2027, "change"]) == ["keep", "expand", "shrink", "shrink"]


def test_the_layout_engines_receiver_is_used_when_the_plan_names_it():
    zone_r = [100] * len(YEARS)  # R never has room
    zone_n = [0, 0, 0, 200, 210, 220, 230, 235, 230, 225, 220, 215]
    plan, projection = _plan(zone_r, zone_n)
    # The layout engine sends M to N (nearest-zone would say R); a stale id falls back.
    plan.schools["merge_into"] = ["", "N", "", "gone"]
    steps = phased_schedule(plan, projection, Rules()).steps.set_index("school_id")
    assert steps.loc["M", "receiving_school_id"] == "N" and _year_of(steps, "M") == 2027
    assert steps.loc["M2", "receiving_school_id"] == "N"


def _year_of(steps: pd.DataFrame, school_id: str) -> int | None:
    year = steps.loc[school_id, "year"]
    return None if pd.isna(year) else int(year)


@pytest.mark.parametrize(
    ("ok", "expected"),
    [
        ([[True, True, True]], [0]),
        ([[True, False, True]], [2]),
        ([[False, False, False]], [NEVER]),
        ([[True, True, False]], [NEVER]),
    ],
)
def test_first_year_for_good(ok, expected):
    assert list(first_year_for_good(np.array(ok))) == expected


def test_first_year_reaching():
    values = np.array([[0, 5, 10], [0, 0, 0]], float)
    assert list(first_year_reaching(values, np.array([5.0, 1.0]))) == [1, NEVER]


def test_plan_with_phased_rules_carries_the_schedule_and_saves_it(sample_layers, tmp_path):
    """``[projection] phased``: the pipeline adds the schedule, receivers are the layout engine's
    (``merge_into``), and plan.gpkg gives it back as it was."""
    layers, rules, _ = sample_layers
    result = run_plan(layers, rules.with_values({"projection": {"phased": True}}, where="test"))
    schedule = result.schedule
    assert schedule is not None and assert_closures_safe(schedule, result) > 0
    merged = result.schools[result.schools["layout_status"] == "to_merge"]
    named = dict(zip(merged["school_id"].astype(str), merged["merge_into"]))
    closes = schedule.steps[schedule.steps["action"] == "close"]
    assert dict(zip(closes["school_id"], closes["receiving_school_id"])) == named
    write_plan(result, tmp_path)
    back = read_plan(tmp_path).schedule
    assert back is not None
    pd.testing.assert_frame_equal(
        back.steps.reset_index(drop=True), schedule.steps, check_dtype=False
    )
    pd.testing.assert_frame_equal(back.classes, schedule.classes, check_dtype=False)


def test_a_saved_scenario_keeps_its_schedule(sample_layers, sample_plan, tmp_path):
    """The phased plan is part of the scenario: saved and loaded back table for table."""
    import dataclasses

    import pandas as pd

    from planning.scenario import scenario_from_layers
    from store.scenario import load_scenario, save_scenario

    layers, rules, _ = sample_layers
    plan, _ = sample_plan
    projection = run_projection(layers.units, layers.schools, rules.projection, rules.standards)
    schedule = phased_schedule(plan, projection, rules)
    sc = scenario_from_layers(layers, rules, name="分期")
    sc.result = dataclasses.replace(plan, schedule=schedule)
    save_scenario(sc, tmp_path / "s")
    back = load_scenario(tmp_path / "s").result
    assert back is not None and back.schedule is not None
    for name in ("steps", "classes"):
        want = getattr(schedule, name).reset_index(drop=True)
        got = getattr(back.schedule, name)[list(want.columns)].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=False)
    # a result without a schedule loads without one
    sc.result = dataclasses.replace(plan, schedule=None)
    save_scenario(sc, tmp_path / "s")
    assert load_scenario(tmp_path / "s").result.schedule is None
