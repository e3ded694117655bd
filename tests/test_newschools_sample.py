"""New schools on the Dao County sample: the development zone gets schools, small villages none."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_sample_county(sample_layers):
    from geo.distance import make_cost_model
    from planning.newschools import as_school_rows, run_new_schools

    layers, rules, _ = sample_layers
    costs = make_cost_model(layers.roads, rules.catchments.distance, rules.catchments.snap_max_m)
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
    # Primary and junior schools come from unit thresholds: never in a unit under 4,000 people.
    local = ns[ns["level"].isin(["primary", "junior"])]
    assert (local["unit_id"].map(units["population"]) >= 4000).all()
    assert (ns["classes"] > 0).all() and ns["school_id"].is_unique
    assert set(res.layout_status.unique()) <= {"permanent", "transitional", "to_merge"}
    assert len(as_school_rows(res, rules.standards)) == len(ns)
