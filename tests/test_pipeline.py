"""Stage glue: what ``run_plan`` records and what ``rerun_stages`` reuses."""

from __future__ import annotations

import dataclasses

import pytest

import planning.pipeline as pipeline

pytestmark = pytest.mark.slow  # every test here runs the sample county


def test_run_plan_times_the_distance_model(sample_plan):
    result, _ = sample_plan
    timings = result.summary["timings_s"]
    assert list(timings) == ["distance_model", "new_schools", "groups", "catchments", "current"]
    assert all(v >= 0 for v in timings.values())


def test_rerun_reuses_the_road_model_until_the_roads_change(sample_layers, monkeypatch):
    layers, _, _ = sample_layers
    assert layers.roads is not None and len(layers.roads)
    built = []

    def fake(roads, distance):
        built.append(roads)
        return object()

    monkeypatch.setattr(pipeline, "cost_model", fake)
    monkeypatch.setattr(pipeline, "_rerun_costs", {})
    from planning.rules import Rules

    rules = Rules()
    first = pipeline.rerun_cost_model(layers, rules)
    assert pipeline.rerun_cost_model(layers, rules) is first
    assert len(built) == 1

    # Another distance rule, another roads object, or roads edited in place: built again.
    straight = dataclasses.replace(
        rules, distance=dataclasses.replace(rules.distance, snap_max_m=123.0)
    )
    assert pipeline.rerun_cost_model(layers, straight) is not first
    moved = dataclasses.replace(layers, roads=layers.roads.copy())
    pipeline.rerun_cost_model(moved, rules)
    fewer = dataclasses.replace(layers, roads=layers.roads.iloc[:-1])
    pipeline.rerun_cost_model(fewer, rules)
    assert len(built) == 4


def test_rerun_without_roads_builds_straight_line(sample_layers):
    layers, _, _ = sample_layers
    from planning.rules import Rules

    model = pipeline.rerun_cost_model(dataclasses.replace(layers, roads=None), Rules())
    assert model.kind == "straight"


def test_one_stage_table_for_plan_and_rerun():
    assert pipeline.STAGES == ("new_schools", "groups", "catchments", "current")
    # new schools join groups and catchments: an edit there makes both stale
    assert pipeline.stale_after({"new_schools"}) == frozenset(pipeline.STAGES)
    # 000 §七(八): catchments keep villages off a group's core, so they follow the groups
    assert pipeline.stale_after({"groups"}) == frozenset({"groups", "catchments", "current"})


def test_rerun_keeps_the_summary_layout(sample_plan, sample_layers):
    result, _ = sample_plan
    layers, rules, _ = sample_layers
    again = pipeline.rerun_stages(layers, rules, result, {"catchments"})
    assert list(again.summary) == list(result.summary)

    def plain(summary):
        return {
            k: {kk: vv for kk, vv in v.items() if kk != "solve_seconds"}
            if isinstance(v, dict)
            else v
            for k, v in summary.items()
        }

    # the same schools again: the same zones and figures as the whole plan's
    assert plain(again.summary["catchments"]) == plain(result.summary["catchments"])
    assert again.catchments["students"].equals(result.catchments["students"])
    assert again.summary["timings_s"]["new_schools"] == result.summary["timings_s"]["new_schools"]
