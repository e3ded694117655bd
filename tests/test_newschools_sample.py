"""New schools on the Dao County sample: the development zone gets schools, small villages none."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_sample_county(sample_layers):
    from geo.distance import make_cost_model
    from planning.newschools import as_school_rows, run_new_schools

    layers, rules, _ = sample_layers
    costs = make_cost_model(layers.roads, rules.distance.model, rules.distance.snap_max_m)
    res = run_new_schools(
        layers.schools,
        layers.units,
        rules.new_schools,
        rules.standards,
        candidates=layers.candidates,
        costs=costs,
    )
    assert res.status == "ok"
    ns = res.new_schools
    units = layers.units.set_index("unit_id")
    town_of = ns["unit_id"].map(units["town"])
    assert (town_of[ns["level"] == "primary"] == "经济开发区").any()
    # Primary schools come from unit thresholds: never for a unit under 4,000 people.
    primary = ns[ns["level"] == "primary"]
    assert (primary["unit_id"].map(units["population"]) >= 4000).all()
    # Junior schools are planned per township: only where the township reaches the threshold.
    assert rules.new_schools.junior_planning_unit == "town"
    town_pop = layers.units.groupby("town")["population"].sum()
    junior_towns = ns.loc[ns["level"] == "junior", "unit_id"].map(units["town"])
    assert (junior_towns.map(town_pop) >= rules.new_schools.junior_min_population).all()
    # No school is ever proposed for a small village planned on its own.
    small = set(layers.units.loc[layers.units["population"] < 4000, "unit_id"])
    assert not (set(primary["unit_id"]) & small)
    assert (ns["classes"] > 0).all() and ns["school_id"].is_unique
    assert set(res.layout_status.unique()) <= {"permanent", "transitional", "to_merge"}
    assert len(as_school_rows(res, rules.standards)) == len(ns)
