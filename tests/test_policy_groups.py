"""Education groups as the policy texts say (seeds 000, 001), on tiny maps.

- 000 §六: 集团化办学覆盖率 ≥ 80 % — one definition: schools in a group ÷ open schools of the
  levels that group; the rules may count only schools eligible to group.
"""

from __future__ import annotations

import dataclasses

import pytest
from test_grouping_rules import core, make_schools, member

from geo.distance import StraightLine
from planning.grouping import run_grouping
from planning.rules import GroupingParams, Standards

LINE = StraightLine()


def _run(rows, **params):
    p = dataclasses.replace(GroupingParams(), **params)
    return run_grouping(make_schools(rows), p, Standards(), costs=LINE)


def test_coverage_counts_every_open_school_of_the_grouped_levels():
    rows = [
        core("C", 0, 0),
        member("M", 1, 0),
        # an ordinary urban school: neither leads nor joins, but it is open and counted
        {"id": "O", "x": 2, "y": 0, "quality": "ordinary", "location": "urban"},
    ]
    s = _run(rows).summary
    assert (s.in_groups, s.coverage_base) == (2, 3)
    assert s.coverage_pct == pytest.approx(66.7)
    assert s.meets_target is False  # 66.7 % < the 80 % target
    e = _run(rows, coverage_basis="eligible").summary
    assert (e.in_groups, e.coverage_base, e.coverage_pct) == (2, 2, 100.0)
    assert e.meets_target is True


# 000 §七(二): 原则上保证一个教育集团每托管一所薄弱学校不得低于30万元的经费,每带动一所乡镇学校
# 不得低于10万元的经费。所需经费根据薄弱学校的隶属关系纳入同级财政预算。
def test_every_weak_school_led_draws_300000_in_any_mode():
    # a weak member 16 km away: a cooperative group, not entrusted
    rows = [core("C", 0, 0), member("W", 16, 0)]
    g = _run(rows).groups.iloc[0]
    assert g["mode"] == "cooperative"
    assert g["funding_min_yuan"] == 300_000
    only_entrusted = _run(rows, funding_weak_any_mode=False).groups.iloc[0]
    assert only_entrusted["funding_min_yuan"] == 100_000  # still a township school led


def test_every_township_school_led_draws_100000():
    town = {"quality": "ordinary", "location": "town"}
    g = _run([core("C", 0, 0), member("T1", 1, 0, **town), member("T2", 2, 0, **town)]).groups
    assert g.iloc[0]["funding_min_yuan"] == 200_000


def test_the_budget_is_the_weak_schools_affiliation_else_the_county():
    rows = [core("C", 0, 0), member("W", 1, 0)]
    assert _run(rows).groups.iloc[0]["funding_source"] == "县级"
    schools = make_schools(rows)
    schools["affiliation"] = ["市级", "市级"]
    res = run_grouping(schools, GroupingParams(), Standards(), costs=LINE)
    assert res.groups.iloc[0]["funding_source"] == "市级"


# 001 §二(四)2: 集团核心成员要为新开办学校每学科至少选派1名骨干教师 … 集团核心成员在集团发展稳定后
# 每年交流到其他成员的教师比例应不低于10%。
def test_a_new_school_gets_one_backbone_teacher_per_subject():
    rows = [
        core("C", 0, 0, teachers=50.0),
        member("N", 1, 0, status="planned", teachers=float("nan"), quality="ordinary"),
    ]
    g = _run(rows, new_school_subjects=9).groups.iloc[0]
    assert g["new_school_backbone_min"] == 9
    # the new school has no teachers yet: the group's exchange is counted, not left blank
    assert g["teacher_exchange_min"] == 5  # ceil(10 % of 50)
    assert g["core_outflow_min"] == 5  # ceil(10 % of the core's 50)
    assert _run(rows, new_school_subjects=12).groups.iloc[0]["new_school_backbone_min"] == 12


def test_the_core_sends_out_at_least_ten_percent_of_its_own_teachers():
    rows = [core("C", 0, 0, teachers=61.0), member("W", 1, 0, teachers=20.0)]
    g = _run(rows).groups.iloc[0]
    assert g["core_outflow_min"] == 7  # ceil(6.1)
    assert g["teacher_exchange_min"] == 9  # the group's figure beside it: ceil(8.1)


# 003 §四 / 001 §二(四)4: a pairing runs for the cycle (3 years by default).
def test_each_pairing_has_a_start_and_end_year():
    g = _run([core("C", 0, 0), member("W", 1, 0)], start_year=2027).groups.iloc[0]
    assert (g["start_year"], g["end_year"]) == (2027, 2030)
    g = _run([core("C", 0, 0), member("W", 1, 0)], start_year=2027, cycle_years=5).groups.iloc[0]
    assert g["end_year"] == 2032
