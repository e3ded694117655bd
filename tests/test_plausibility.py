"""Typos that would plan thousands of schools are refused with the row and the fix."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from geo.plausibility import PlausibilityParams, check_schools, check_units

WHERE = {"file": "villages.xlsx", "layer": "population"}


def _units(pops, *, kids=None, polys=False):
    geoms = [
        box(i * 2000, 0, i * 2000 + 1000, 1000) if polys else Point(i * 2000, 0)
        for i in range(len(pops))
    ]
    data = {
        "unit_id": [f"U{i}" for i in range(len(pops))],
        "population": pops,
        "src_row": np.arange(2, len(pops) + 2),
    }
    if kids is not None:
        data["students_primary"] = kids
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:32649")


def test_extra_digits_in_a_population_are_an_error_naming_the_row():
    problems = []
    pops = [1200.0] * 30
    pops[7] = 135_430_000.0
    bad = check_units(_units(pops), WHERE, problems, PlausibilityParams())
    assert bad.tolist() == [i == 7 for i in range(30)]
    (p,) = problems
    assert p.severity == "error" and p.row == 9 and p.file == "villages.xlsx"
    assert "135,430,000" in p.problem and "extra digits" in p.fix


def test_density_children_and_dominant_unit():
    problems = []
    pops = [1000.0] * 25
    pops[0] = 200_000.0  # 1 km² polygon: 200,000 per km²
    kids = [80.0] * 25
    kids[3] = 5000.0  # more children than people
    check_units(_units(pops, kids=kids, polys=True), WHERE, problems, PlausibilityParams())
    codes = sorted(p.code for p in problems)
    assert codes == ["children_above_population", "implausible_density"]
    problems = []
    pops = [1000.0] * 25
    pops[2] = 400_000.0
    check_units(_units(pops), WHERE, problems, PlausibilityParams())
    assert [(p.code, p.severity) for p in problems] == [("dominant_unit", "warning")]


def test_schools_with_impossible_class_sizes_or_places():
    s = gpd.GeoDataFrame(
        {
            "students": [900, 900, 500],
            "classes": [1, 20, 10],
            "capacity": [900, 900, 250_000],
            "src_row": [2, 3, 4],
        },
        geometry=[Point(0, 0)] * 3,
        crs="EPSG:32649",
    )
    problems = []
    bad = check_schools(s, {"file": "schools.csv"}, problems, PlausibilityParams())
    assert bad.tolist() == [True, False, True]
    assert [p.row for p in problems] == [2, 4]


# --- from the loading path (issue 15) ---------------------------------------------------------


@pytest.mark.parametrize("typo", [135_430_000.0, 1.35e14])
def test_absurd_population_is_a_clean_error_at_load(tmp_path, typo):
    from builders import population, write_project

    from core.errors import InputError
    from planning.project import load_project

    pop = population()
    pop.loc[0, "人口"] = typo
    project = write_project(tmp_path, population_gdf=pop)
    with pytest.raises(InputError) as err:
        load_project(project)
    codes = [p.code for p in err.value.problems]
    assert "implausible_population" in codes
    (p,) = [p for p in err.value.problems if p.code == "implausible_population"]
    assert p.row is not None and "extra digits" in p.fix


def test_checks_section_of_the_rules_widens_the_limit(tmp_path):
    from builders import population, write_project

    from planning.project import load_project

    pop = population()
    pop.loc[0, "人口"] = 600_000.0  # a city district given as one unit
    rules = tmp_path / "rules.toml"
    rules.write_text("[checks]\nunit_population_max = 1000000\n", encoding="utf-8")
    project = write_project(tmp_path, population_gdf=pop)
    layers, loaded_rules, _ = load_project(project, rules_path=rules)
    assert loaded_rules.checks.unit_population_max == 1_000_000
    assert layers.units["population"].max() == 600_000
