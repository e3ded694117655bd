"""Stage glue: what ``run_plan`` records and what ``rerun_stages`` reuses."""

from __future__ import annotations

import dataclasses

import pytest

import planning.pipeline as pipeline

pytestmark = pytest.mark.slow  # every test here runs the sample county


def test_run_plan_times_the_distance_model(sample_plan):
    result, _ = sample_plan
    timings = result.summary["timings_s"]
    assert list(timings) == ["distance_model", "new_schools", "groups", "catchments"]
    assert all(v >= 0 for v in timings.values())


def test_rerun_reuses_the_road_model_until_the_roads_change(sample_layers, monkeypatch):
    layers, _, _ = sample_layers
    assert layers.roads is not None and len(layers.roads)
    built = []

    def fake(layers_, rules_):
        built.append(layers_.roads)
        return object()

    monkeypatch.setattr(pipeline, "_cost_model", fake)
    monkeypatch.setattr(pipeline, "_rerun_costs", {})
    from planning.rules import Rules

    rules = Rules()
    first = pipeline._rerun_cost_model(layers, rules)
    assert pipeline._rerun_cost_model(layers, rules) is first
    assert len(built) == 1

    # Another distance rule, another roads object, or roads edited in place: built again.
    straight = dataclasses.replace(
        rules, catchments=dataclasses.replace(rules.catchments, snap_max_m=123.0)
    )
    assert pipeline._rerun_cost_model(layers, straight) is not first
    moved = dataclasses.replace(layers, roads=layers.roads.copy())
    pipeline._rerun_cost_model(moved, rules)
    fewer = dataclasses.replace(layers, roads=layers.roads.iloc[:-1])
    pipeline._rerun_cost_model(fewer, rules)
    assert len(built) == 4


def test_rerun_without_roads_builds_straight_line(sample_layers):
    layers, _, _ = sample_layers
    from planning.rules import Rules

    model = pipeline._rerun_cost_model(dataclasses.replace(layers, roads=None), Rules())
    assert model.kind == "straight"
