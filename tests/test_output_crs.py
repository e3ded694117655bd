"""The output CRS of plan.gpkg: ``[output] crs`` (rules, ``--out-crs``), resolved on the data,
applied by store.plan.write_plan, and undone by read_plan so that re-exports measure in metres."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from test_export_fixture import CRS, make_plan

from app.cli import build_parser, main
from app.cli.flags import EXIT_UNUSABLE, rule_overrides
from core.errors import RulesError
from geo.crs import cgcs2000_gk3_epsg
from planning.rules import OUTPUT_CRS_KEYWORDS, Rules, load_rules, rules_to_toml
from store.plan import centre_lonlat, output_crs, read_plan, resolve_output_crs, write_plan

UTM49 = pyproj.CRS.from_user_input(CRS)
DAOXIAN = (111.6, 25.5)  # lon, lat of the sample county: CGCS2000 GK CM 111E = EPSG:4546


def _with_crs(plan, crs: str):
    return dataclasses.replace(plan, rules=plan.rules.with_values({"output": {"crs": crs}}))


# --- the rules field -----------------------------------------------------------------------------


def test_default_is_auto_and_the_toml_documents_the_choices():
    assert Rules().output.crs == "auto"
    text = rules_to_toml()
    assert "[output]" in text and 'crs = "auto"' in text


@pytest.mark.parametrize("value", ["auto", "Project", "cgcs2000", "CGCS2000-GK", "EPSG:4547", ""])
def test_keywords_and_crs_codes_are_accepted(value):
    assert Rules().with_values({"output": {"crs": value}}).output.crs == value


@pytest.mark.parametrize("value", ["CGCS3000", "EPSG:999999", "EPSG:5773"])
def test_a_value_that_is_no_map_crs_is_refused(value):
    # EPSG:5773 is a vertical CRS (EGM96 height): no map can be written in it.
    with pytest.raises(RulesError, match=r"\[output\]"):
        Rules().with_values({"output": {"crs": value}})


def test_a_rules_file_sets_the_output_crs(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[output]\ncrs = "CGCS2000"\n', encoding="utf-8")
    assert load_rules(path).output.crs == "CGCS2000"


# --- resolving the choice --------------------------------------------------------------------


def test_the_cgcs2000_gk_families_are_the_epsg_codes_pyproj_names():
    # "CM nnnE" (no zone prefix): EPSG:4534-4554; "zone nn" (zone prefix): EPSG:4513-4533.
    for cm in range(75, 136, 3):
        gk = resolve_output_crs("CGCS2000-GK", UTM49, (cm + 0.4, 30.0))
        zone = resolve_output_crs("CGCS2000-GK-zone", UTM49, (cm + 0.4, 30.0))
        assert gk.to_epsg() == cgcs2000_gk3_epsg(cm) and 4534 <= gk.to_epsg() <= 4554
        assert gk.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"
        assert zone.name == f"CGCS2000 / 3-degree Gauss-Kruger zone {cm // 3}"
        assert 4513 <= zone.to_epsg() <= 4533
        assert "CGCS2000" in gk.datum.name or "China" in gk.datum.name


def test_each_keyword_resolves_for_the_sample_county():
    expect = {
        "auto": 4546,
        "project": 32649,
        "": 32649,
        "CGCS2000": 4490,
        "CGCS2000-GK": 4546,
        "CGCS2000-GK-zone": 4525,  # zone 37 = CM 111E
        "WGS84": 4326,
        "EPSG:4547": 4547,
    }
    assert set(OUTPUT_CRS_KEYWORDS) <= set(expect)
    for choice, epsg in expect.items():
        assert resolve_output_crs(choice, UTM49, DAOXIAN).to_epsg() == epsg, choice


def test_auto_keeps_the_project_crs_outside_china():
    utm32 = pyproj.CRS.from_epsg(32632)
    assert resolve_output_crs("auto", utm32, (9.2, 48.8)) == utm32  # Stuttgart
    assert resolve_output_crs("auto", utm32, None) == utm32


def test_gauss_kruger_outside_the_cgcs2000_zones_says_what_to_choose():
    with pytest.raises(RulesError, match="73.5°E"):
        resolve_output_crs("CGCS2000-GK", pyproj.CRS.from_epsg(32632), (9.2, 48.8))


# --- writing and reading a plan ----------------------------------------------------------------


def test_the_fixture_county_is_in_china_and_auto_writes_cgcs2000_gk(tmp_path):
    plan = make_plan()
    lon, lat = centre_lonlat(plan)
    assert 108 < lon < 114 and 20 < lat < 30
    assert output_crs(plan).to_epsg() == cgcs2000_gk3_epsg(lon)
    write_plan(plan, tmp_path)
    for layer in ("schools", "catchments", "boundary", "groups"):
        info = pyogrio.read_info(tmp_path / "plan.gpkg", layer=layer)
        assert pyproj.CRS.from_user_input(info["crs"]).to_epsg() == cgcs2000_gk3_epsg(lon)
    meta = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["meta"]
    assert meta["output_crs"] == f"EPSG:{cgcs2000_gk3_epsg(lon)}"
    assert pyproj.CRS.from_user_input(meta["crs"]) == UTM49


def test_geographic_output_reads_back_in_the_metric_crs(tmp_path):
    plan = _with_crs(make_plan(), "CGCS2000")
    write_plan(plan, tmp_path)
    saved = pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="catchments")
    assert pyproj.CRS.from_user_input(saved.crs).to_epsg() == 4490
    lon, lat = saved.geometry.union_all().centroid.coords[0]
    assert 108 < lon < 114 and 20 < lat < 30  # degrees, x = longitude
    again = read_plan(tmp_path)
    assert again.meta["output_crs"] == "EPSG:4490"
    for name in ("schools", "catchments", "demand", "boundary", "groups"):
        got, want = getattr(again, name), getattr(plan, name)
        assert pyproj.CRS.from_user_input(got.crs) == UTM49, name
        assert len(got) == len(want), name
        # A round trip through degrees moves nothing by more than a millimetre.
        assert np.all(shapely.hausdorff_distance(got.geometry.values, want.geometry.values) < 1e-3)
    assert again.catchments.area.sum() == pytest.approx(plan.catchments.area.sum(), rel=1e-9)


def test_the_project_crs_writes_the_layers_unchanged(tmp_path):
    plan = _with_crs(make_plan(), "project")
    write_plan(plan, tmp_path)
    saved = pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="schools")
    assert pyproj.CRS.from_user_input(saved.crs) == UTM49
    assert shapely.equals_exact(saved.geometry.values, plan.schools.geometry.values, 0).all()


def test_a_rewrite_of_a_read_plan_keeps_the_auto_choice(tmp_path):
    write_plan(make_plan(), tmp_path / "a")
    write_plan(read_plan(tmp_path / "a"), tmp_path / "b")
    crs = [pyogrio.read_info(tmp_path / d / "plan.gpkg", layer="boundary")["crs"] for d in "ab"]
    assert crs[0] == crs[1] and pyproj.CRS.from_user_input(crs[0]).to_epsg() == 4546


# --- command line ---------------------------------------------------------------------------


def test_export_out_crs_rewrites_plan_gpkg(tmp_path, capsys):
    write_plan(make_plan(), tmp_path)
    assert main(["export", str(tmp_path), "--formats", "none", "--out-crs", "CGCS2000"]) == 0
    assert "gpkg:" in capsys.readouterr().out
    info = pyogrio.read_info(tmp_path / "plan.gpkg", layer="catchments")
    assert pyproj.CRS.from_user_input(info["crs"]).to_epsg() == 4490
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["rules"]["output"]["crs"] == "CGCS2000"
    assert summary["meta"]["output_crs"] == "EPSG:4490"


def test_export_refuses_an_unknown_out_crs(tmp_path, capsys):
    write_plan(make_plan(), tmp_path)
    code = main(["export", str(tmp_path), "--formats", "none", "--out-crs", "EPSG:999999"])
    assert code == EXIT_UNUSABLE
    assert "EPSG:999999" in capsys.readouterr().err


def test_plan_out_crs_is_the_output_crs_rule_flag():
    parser = build_parser()
    for flag in ("--out-crs", "--output.crs"):
        args = parser.parse_args(["plan", flag, "CGCS2000-GK"])
        assert rule_overrides(args) == {"output": {"crs": "CGCS2000-GK"}}
    assert rule_overrides(parser.parse_args(["plan"])) == {}
