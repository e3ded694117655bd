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
