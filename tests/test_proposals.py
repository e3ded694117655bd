"""Candidate sites proposed from the population when a project has none (issue 16)."""

from __future__ import annotations

import json

import numpy as np
import pyogrio
import pytest

from app.cli import main
from planning.pipeline import run_plan
from planning.project import load_project
from planning.proposals import proposal_count, weighted_centres
from planning.rules import NewSchoolParams
from tests import builders


def _county(tmp, shuffle: int | None = None):
    """40 villages of one town over a 20 km square, one small primary school, no candidates."""
    rng = np.random.default_rng(5)
    xy = rng.uniform(500, 19_500, (40, 2))
    pops = rng.integers(500, 3000, 40)
    recs = [
        {"unit_id": f"V{i:02d}", "name": f"村{i}", "population": float(p), "town": "甲镇"}
        for i, p in enumerate(pops)
    ]
    units = builders.unit_layer(recs, [(float(x), float(y)) for x, y in xy])
    if shuffle is not None:
        units = units.sample(frac=1.0, random_state=shuffle).reset_index(drop=True)
    schools = builders.school_layer(
        [{"school_id": "S1", "classes": 6, "students": 270, "capacity": 270}], [(10_000, 10_000)]
    )
    boundary = builders.boundary_layer(20_000, 20_000)
    return builders.write_project(
        tmp, schools_gdf=schools, population_gdf=units, boundary_gdf=boundary
    )


def test_a_project_without_candidates_plans_at_proposed_sites_whatever_the_row_order(tmp_path):
    layers, rules, report = load_project(_county(tmp_path / "a"))
    cands = layers.candidates
    total = float(layers.units["population"].sum())
    assert cands is not None and len(cands) == proposal_count(total, rules.new_schools) > 1
    assert (cands["origin"] == "proposed").all() and (cands["level"] == "").all()
    assert [p.severity for p in report.problems if p.code == "candidates_proposed"] == ["info"]
    area = layers.boundary.geometry.iloc[0]
    assert all(area.covers(p) for p in cands.geometry)
    new = run_plan(layers, rules).new_schools
    assert len(new) and (new["site"] == "proposed").all()
    sites = {(round(p.x, 1), round(p.y, 1)) for p in cands.geometry}
    assert all((round(p.x, 1), round(p.y, 1)) in sites for p in new.geometry)
    assert new["rule"].str.contains("建议选址").all()

    other, rules2, _ = load_project(_county(tmp_path / "b", shuffle=7))
    assert list(other.candidates.geometry.to_wkt()) == list(cands.geometry.to_wkt())
    again = run_plan(other, rules2).new_schools
    assert list(again["school_id"]) == list(new["school_id"])
    assert list(again.geometry.to_wkt()) == list(new.geometry.to_wkt())


def test_no_proposals_when_the_rules_say_none_or_the_project_has_candidates(tmp_path):
    toml = _county(tmp_path)
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text("[new_schools]\nproposed_per_10k = 0\n", encoding="utf-8")
    layers, _, report = load_project(toml, rules_path=rules_file)
    assert layers.candidates is None
    assert not any(p.code == "candidates_proposed" for p in report.problems)
    new = run_plan(*load_project(toml, rules_path=rules_file)[:2]).new_schools
    assert len(new) and not (new["site"] == "proposed").any()


def test_plan_command_marks_proposed_sites_in_its_outputs(tmp_path):
    out = tmp_path / "out"
    rc = main(["plan", str(_county(tmp_path / "p")), "--out", str(out), "--formats", "none"])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("proposed from the population" in n for n in summary["meta"]["data_notes"])
    new = pyogrio.read_dataframe(out / "plan.gpkg", layer="new_schools")
    assert len(new) and (new["site"] == "proposed").all()


def test_proposal_count_and_weighted_centres():
    p = NewSchoolParams()
    assert proposal_count(0, p) == 0
    assert proposal_count(1, p) == 1
    assert proposal_count(50_000, p) == 10  # 2 per 10,000 people by default
    assert proposal_count(10**9, p) == p.proposed_max
    # Two far groups, one of them heavy: one centre each, at the weighted mean of its group.
    xy = np.array([[0.0, 0], [100, 0], [50_000, 0], [50_100, 0]])
    w = np.array([1.0, 3.0, 1.0, 1.0])
    centres, labels = weighted_centres(xy, w, 2)
    got = sorted(centres[:, 0].tolist())
    assert got == pytest.approx([75.0, 50_050.0])
    assert labels[0] == labels[1] != labels[2] == labels[3]
