"""Catchments as the policy text says: 000 §七(八) 优质学校不得把集团内成员学校变成生源基地 —
a village whose nearest school is a member of an education group is never zoned to that group's
core; when the member has no room for it, the plan says so for that village."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_catchments import STRAIGHT, boundary, schools, units

from planning.catchments import run_catchments
from planning.rules import CatchmentParams, Standards


def _grouped(member_capacity):
    # Core C (plenty of room) at 0 km, member M of C's group at 3 km, school O (not grouped)
    # at 6 km. The village at 2.5 km is nearest M (0.5 km), then C (2.5 km), then O (3.5 km).
    sch = schools(
        [
            ("C", "primary", 0, 5000, 2000, 40, 0),
            ("M", "primary", 3000, 5000, member_capacity, 6, 0),
            ("O", "primary", 6000, 5000, 2000, 40, 0),
        ]
    )
    sch["group_id"] = ["G001", "G001", ""]
    sch["group_role"] = ["core", "member", "none"]
    return sch, units([(2500, 5000)], [120.0])


def _plan(sch, u, **params):
    p = dataclasses.replace(CatchmentParams(), mode="capacity", **params)
    return run_catchments(sch, u, boundary(), p, Standards(), costs=STRAIGHT)


def test_the_rule_is_on_by_default_and_cites_the_clause():
    spec = {f.name: f for f in dataclasses.fields(CatchmentParams)}["no_feeder_pools"]
    assert CatchmentParams().no_feeder_pools is True
    assert "000 §七(八)" in spec.metadata["param"].source


def test_a_village_goes_to_its_member_school_when_it_has_room():
    res = _plan(*_grouped(member_capacity=300))
    d = res.demand
    assert d["school_id_primary"].tolist() == ["M"]
    assert d["feeder_primary"].tolist() == ["at_member"]


def test_a_full_member_does_not_turn_its_villages_over_to_the_core():
    res = _plan(*_grouped(member_capacity=50))  # 120 pupils do not fit in 50 places
    d = res.demand
    assert d["school_id_primary"].tolist() == ["O"]  # farther, but not the core
    assert d["feeder_primary"].tolist() == ["member_full"]
    assert res.summary.levels["primary"].units_member_full == 1
    # without the rule the core, nearer than O, takes the village
    off = _plan(*_grouped(member_capacity=50), no_feeder_pools=False)
    assert off.demand["school_id_primary"].tolist() == ["C"]


@pytest.mark.slow
def test_sample_no_village_is_zoned_past_its_member_to_the_core(sample_plan, sample_layers):
    """Issue 14 acceptance: zero units zoned to a core whose nearest school is a member of that
    core's group (34 villages, 4,497 pupils before the rule)."""
    from geo.distance import as_xy
    from planning.catchments.problem import demand_units
    from planning.pipeline import cost_model

    result, _ = sample_plan
    layers, rules, _ = sample_layers
    costs = cost_model(layers.roads, rules.distance)
    s = result.schools[result.schools["layout_status"] != "to_merge"]
    d = result.demand
    du = demand_units(layers.units, layers.boundary, s.crs, rules.catchments, rules.standards)
    for lv in ("primary", "junior", "senior"):
        sch = s[s["level"] == lv].sort_values("school_id", kind="stable")
        ids = sch["school_id"].astype(str).to_numpy()
        near = costs.knn_km(du.xy, as_xy(sch.geometry), 1)[1][:, 0]
        role, gid = sch["group_role"].to_numpy(), sch["group_id"].astype(str).to_numpy()
        core = {g: ids[k] for k, (g, r) in enumerate(zip(gid, role)) if r == "core"}
        member = np.array([role[j] == "member" for j in near])
        past = [
            u
            for u in np.flatnonzero(member & (d[f"students_{lv}"].to_numpy() > 0))
            if d[f"school_id_{lv}"].iat[u] == core.get(gid[near[u]])
        ]
        assert past == [], (lv, d["unit_id"].iloc[past].tolist())
        # and every such village is either at its member or said to find no room there
        codes = d[f"feeder_{lv}"].to_numpy()[member & (d[f"students_{lv}"].to_numpy() > 0)]
        assert set(codes) <= {"at_member", "member_full"}


# Issue 14: every open school has a zone, or the plan says why it has none.
def test_a_school_without_a_zone_says_why():
    sch = schools(
        [
            ("A", "primary", 0, 5000, 1000, 20, 0),
            ("B", "primary", 3000, 5000, 10, 1, 0),  # 10 places, its village has 100 pupils
            ("C", "primary", 9000, 5000, 500, 10, 0),  # no village is nearest to it
            ("D", "primary", 500, 5000, 0, 0, 0),  # no places at all
        ]
    )
    u = units([(2900, 5000), (100, 5000)], [100.0, 50.0])
    res = _plan(sch, u)
    z = res.catchments.set_index("school_id")
    assert z.at["A", "zone_reason_code"] == ""
    assert z.at["B", "zone_reason_code"] == "too_small"
    assert z.at["C", "zone_reason_code"] == "nearer_other"
    assert z.at["D", "zone_reason_code"] == "no_capacity"


@pytest.mark.slow
def test_sample_every_open_school_has_a_zone_or_a_reason(sample_plan):
    result, _ = sample_plan
    s = result.schools
    open_ = s[s["layout_status"] != "to_merge"]
    z = result.catchments.set_index(["school_id", "level"])
    for row in open_.itertuples():
        pupils = z.at[(row.school_id, row.level), "students"]
        assert (pupils > 0) != bool(row.zone_reason), (row.school_id, pupils, row.zone_reason)
        assert (pupils > 0) or row.zone_reason_en
