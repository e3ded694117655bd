"""Minimal-change re-zoning (issue 15): against a baseline a unit keeps its school unless the
decision moves it, so "close teaching point X" shows only the villages that closure moves."""

from __future__ import annotations

import numpy as np
import pytest
from builders import boundary_layer, school_layer, unit_layer

from geo.distance import StraightLine
from planning.catchments import run_catchments
from planning.rules import CatchmentParams, Standards


def county(seed: int = 5, n: int = 80, m: int = 9, slack: float = 1.6):
    rng = np.random.default_rng(seed)
    uxy = rng.uniform(0, 10_000, (n, 2))
    sxy = rng.uniform(1000, 9000, (m, 2))
    pupils = rng.integers(10, 120, n)
    units = unit_layer(
        [
            {"unit_id": f"v{i:03d}", "population": 0, "students_primary": int(p)}
            for i, p in enumerate(pupils)
        ],
        [tuple(p) for p in uxy],
    )
    cap = int(pupils.sum() * slack / m)
    schools = school_layer(
        [
            {"school_id": f"s{j}", "level": "primary", "capacity": cap, "classes": 6}
            for j in range(m)
        ],
        [tuple(p) for p in sxy],
    )
    return schools, units


def plan(schools, units, baseline=None, keep_km=0.5):
    params = CatchmentParams(mode="capacity", zone_cell_m=500.0, keep_current_km=keep_km)
    return run_catchments(
        schools,
        units,
        boundary_layer(),
        params,
        Standards(),
        costs=StraightLine(),
        baseline=baseline,
    )


def zoning(res) -> dict[str, str]:
    d = res.demand
    return dict(zip(d["unit_id"], d["school_id_primary"], strict=True))


def test_closing_a_school_moves_only_its_villages():
    schools, units = county()
    before = zoning(plan(schools, units))
    closed = max(set(before.values()), key=lambda s: sum(v == s for v in before.values()))
    open_schools = schools[schools["school_id"] != closed]
    kept = plan(open_schools, units, baseline={"primary": before})
    after = zoning(kept)
    moved = {u for u in before if after[u] != before[u]}
    at_closed = {u for u in before if before[u] == closed}
    assert moved == at_closed
    s = kept.summary.levels["primary"]
    assert s.units_moved == len(at_closed)
    pupils = dict(zip(units["unit_id"], units["students_primary"], strict=True))
    assert s.pupils_moved == pytest.approx(sum(pupils[u] for u in at_closed))
    assert s.to_dict()["units_moved"] == len(at_closed)


def test_the_same_schools_against_their_own_zoning_move_nobody():
    schools, units = county(seed=11)
    before = zoning(plan(schools, units))
    again = plan(schools, units, baseline={"primary": before})
    assert zoning(again) == before
    assert again.summary.levels["primary"].units_moved == 0


def test_current_school_column_is_a_baseline_and_big_savings_still_move():
    schools, units = county(seed=3)
    # everyone zoned to s0 now: those far from it move (they save far more than 0.5 km), and
    # with a huge threshold only capacity makes them move
    units["current_school_primary"] = "s0"
    free = zoning(plan(schools, units.drop(columns="current_school_primary")))
    res = plan(schools, units)
    after = zoning(res)
    assert res.summary.levels["primary"].units_moved == sum(v != "s0" for v in after.values())
    assert sum(v == "s0" for v in after.values()) >= sum(v == "s0" for v in free.values())
    sticky = zoning(plan(schools, units, keep_km=20.0))
    assert sum(v == "s0" for v in sticky.values()) >= sum(v == "s0" for v in after.values())
