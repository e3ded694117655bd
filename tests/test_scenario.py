"""Scenarios: exact round trip, atomic save, migration of the v0 layout, damaged files."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, Point, Polygon

from core.errors import ScenarioError
from geo.layers import Layers
from planning.grouping import GroupChoices
from planning.rules import Rules
from planning.scenario import Scenario, layers_from_scenario, plan_scenario, scenario_from_layers
from store.atomic import StoreError
from store.layout import GPKG_NAME, JSON_NAME, SCHEMA_VERSION
from store.migrations import migrate
from store.scenario import STAGING, load_scenario, save_scenario

CRS = "EPSG:32649"
X0, Y0 = 560_000.0, 2_820_000.0
LAYER_ATTRS = ("schools", "units", "boundary", "roads", "candidates")


def tiny_layers(with_roads: bool = False) -> Layers:
    """A small county: 3 schools (one on two levels), 4 villages (one a polygon), 1 candidate."""
    schools = gpd.GeoDataFrame(
        {
            "school_id": ["S1", "S2", "S3", "S1"],
            "name": ["城关小学", '=HYPERLINK("x")', "梅花小学", "城关中学"],
            "level": ["primary", "primary", "primary", "junior"],
            "classes": [24, 6, 0, 12],
            "students": [1000, 200, 0, 550],
            "capacity": [1080, 270, 0, 600],
            "teachers": [60.0, np.nan, 3.0, 40.0],
            "quality": ["core", "weak", "ordinary", "core"],
            "location": ["urban", "rural", "rural", "urban"],
            "status": ["existing"] * 4,
            "ownership": ["public"] * 4,
            "school_type": ["regular", "teaching_point", "regular", "regular"],
            "combined": ["nine_year", "", "", "nine_year"],
            "src_row": [2, 3, 4, 2],
        },
        geometry=[
            Point(X0, Y0),
            Point(X0 + 5000.123456789, Y0 + 1.5e-7),
            Point(X0 - 7000, Y0 + 3000),
            Point(X0, Y0),
        ],
        crs=CRS,
    )
    units = gpd.GeoDataFrame(
        {
            "unit_id": ["U1", "U2", "U3", "U4"],
            "name": ["城关社区", "梅花村", "东门村", "新区"],
            "population": [12000.0, 800.5, 1500.0, 6000.0],
            "kind": ["community", "village", "village", "new_community"],
            "town": ["道江", "梅花", "", "道江"],
            "students_primary": [900.0, np.nan, 120.0, np.nan],
            "students_junior": [np.nan, np.nan, 60.0, np.nan],
            "students_senior": [np.nan] * 4,
            "src_row": [2, 3, 4, 5],
        },
        geometry=[
            Point(X0 + 100, Y0 + 100),
            Point(X0 + 4000, Y0 - 500),
            Point(X0 - 6000, Y0 + 2500),
            Polygon([(X0 + 1000, Y0 + 1000), (X0 + 2000, Y0 + 1000), (X0 + 2000, Y0 + 2500)]),
        ],
        crs=CRS,
    )
    boundary = gpd.GeoDataFrame(
        {"name": ["示范县"]},
        geometry=[Polygon([(X0 - 20000, Y0 - 20000), (X0 + 20000, Y0 - 20000), (X0, Y0 + 20000)])],
        crs=CRS,
    )
    candidates = gpd.GeoDataFrame(
        {"candidate_id": ["C1"], "name": ["新区地块"], "level": [""], "src_row": [2]},
        geometry=[Point(X0 + 1500, Y0 + 1500)],
        crs=CRS,
    )
    roads = None
    if with_roads:
        roads = gpd.GeoDataFrame(
            {"road_class": ["county", ""], "speed_kmh": [40.0, np.nan]},
            geometry=[
                LineString([(X0 - 8000, Y0), (X0 + 8000, Y0)]),
                LineString([(X0, Y0), (X0, Y0 + 5000)]),
            ],
            crs=CRS,
        )
    return Layers(
        schools=schools,
        units=units,
        boundary=boundary,
        crs=pyproj.CRS(CRS),
        roads=roads,
        candidates=candidates,
        name="示范县",
        name_en="Demo County",
    )


def tiny_result(layers: Layers):
    """A hand-made PlanResult over ``layers`` (as the pipeline shapes it)."""
    from planning.pipeline import PlanResult

    schools = layers.schools.copy()
    schools["layout_status"] = ["permanent", "to_merge", "transitional", "permanent"]
    schools["group_id"] = ["G1", "", "G1", ""]
    schools["group_role"] = ["core", "none", "member", "none"]
    schools["group_reason"] = ["优质学校牵头", "撤并", "薄弱学校", ""]
    groups = gpd.GeoDataFrame(
        {
            "group_id": ["G1"],
            "core_id": ["S1"],
            "member_ids": ["S3"],
            "level": ["primary"],
            "n_members": [1],
            "funding_min_yuan": [100000.0],
        },
        geometry=[LineString([(X0, Y0), (X0 - 7000, Y0 + 3000)])],
        crs=CRS,
    )
    new_schools = gpd.GeoDataFrame(
        {"school_id": ["NEW-P-001"], "name": ["新区小学"], "level": ["primary"], "classes": [12]},
        geometry=[Point(X0 + 1500, Y0 + 1500)],
        crs=CRS,
    )
    catchments = gpd.GeoDataFrame(
        {
            "school_id": ["S1"],
            "level": ["primary"],
            "students": [1100.0],
            "capacity": [1080.0],
            "oversized": np.array([True]),
        },
        geometry=[layers.boundary.geometry.iloc[0]],
        crs=CRS,
    )
    demand = layers.units[["unit_id", "population", "geometry"]].copy()
    demand["students_primary"] = [900.0, 68.0, 120.0, 510.0]
    demand["school_id_primary"] = ["S1", "S1", "S3", ""]
    demand["distance_primary_km"] = [0.1, 4.0, 1.2, np.nan]
    demand["status_primary"] = ["assigned", "too_far", "assigned", "unserved"]
    summary = {"groups": {"count": 1, "coverage_pct": 66.7, "by_level": {"primary": {"groups": 1}}}}
    return PlanResult(
        schools=schools,
        groups=groups,
        new_schools=new_schools,
        catchments=catchments,
        demand=demand,
        boundary=layers.boundary,
        summary=summary,
        rules=Rules(),
        meta={"scenario": "t", "created": "2026-01-01T00:00:00"},
    )


def file_hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def assert_layers_equal(a: Layers, b: Layers) -> None:
    for attr in LAYER_ATTRS:
        ga, gb = getattr(a, attr), getattr(b, attr)
        if ga is None:
            assert gb is None, attr
            continue
        assert_geodataframe_equal(ga.reset_index(drop=True), gb, check_less_precise=False)
    assert a.crs.equals(b.crs)


@pytest.fixture(scope="module")
def saved_once(tmp_path_factory) -> tuple[Scenario, Path]:
    layers = tiny_layers(with_roads=True)
    rules = Rules().with_values({"groups": {"radius_km": 15.0}})
    choices = GroupChoices(locked_pairs=(("S1", "S3", "primary"),), excluded=(("S2", ""),))
    sc = scenario_from_layers(layers, rules, name="半径15公里", choices=choices, notes="会议用")
    sc.result = tiny_result(layers)
    sc.log_edit("move_school", school_id="S3", dx=10.5)
    folder = tmp_path_factory.mktemp("saved") / "sc"
    save_scenario(sc, folder)
    return sc, folder


@pytest.fixture
def saved(saved_once, tmp_path) -> tuple[Scenario, Path]:
    """A fresh copy of the saved scenario folder (tests damage it) and its own Scenario."""
    sc, folder = saved_once
    copy = tmp_path / "sc"
    shutil.copytree(folder, copy)
    return copy_scenario(sc), copy


def copy_scenario(sc: Scenario) -> Scenario:
    import copy as _copy

    return _copy.deepcopy(sc)


# --------------------------------------------------------------------------- round trip
def test_round_trip_is_exact(saved):
    sc, folder = saved
    back = load_scenario(folder)
    assert_layers_equal(sc.layers, back.layers)
    assert back.rules == sc.rules and back.rules.groups.radius_km == 15.0
    assert back.choices == sc.choices
    assert (back.name, back.notes, back.edits) == (sc.name, sc.notes, sc.edits)
    assert back.project == sc.project and back.layers.name == "示范县"
    assert back.schema_version == SCHEMA_VERSION and back.migrated_from is None
    assert back.created == sc.created and back.modified == sc.modified and back.app_version
    for attr in ("schools", "groups", "new_schools", "catchments", "demand"):
        assert_geodataframe_equal(
            getattr(sc.result, attr).reset_index(drop=True), getattr(back.result, attr)
        )
    assert back.result.summary == sc.result.summary
    assert back.result.meta == sc.result.meta


def test_resave_keeps_created_and_files_are_complete(saved):
    sc, folder = saved
    back = load_scenario(folder)
    created = back.created
    back.notes = "改过"
    save_scenario(back, folder)
    again = load_scenario(folder)
    assert again.created == created and again.notes == "改过"
    # Only the two files: no temporary file left behind.
    assert sorted(p.name for p in folder.iterdir()) == [GPKG_NAME, JSON_NAME]


def test_scenario_without_result_or_optional_layers(tmp_path):
    layers = tiny_layers()
    layers.candidates = layers.candidates.iloc[0:0]  # empty, but present
    sc = scenario_from_layers(layers, Rules(), name="空")
    save_scenario(sc, tmp_path / "s")
    back = load_scenario(tmp_path / "s")
    assert back.result is None and back.layers.roads is None
    assert len(back.layers.candidates) == 0
    assert list(back.layers.candidates.columns) == list(layers.candidates.columns)


def test_layers_and_duplicate_are_independent(saved):
    sc, _ = saved
    lay = layers_from_scenario(sc)
    lay.schools.loc[0, "classes"] = 999
    assert sc.layers.schools.loc[0, "classes"] == 24
    twin = sc.duplicate("副本")
    twin.layers.units.loc[0, "population"] = 1.0
    assert sc.layers.units.loc[0, "population"] == 12000.0
    assert twin.name == "副本" and twin.edits[-1]["action"] == "duplicate"
    assert len(sc.edits) == len(twin.edits) - 1


@pytest.mark.slow  # the sample county
def test_sample_county_round_trip(sample_layers, tmp_path):
    layers, rules, _ = sample_layers
    sc = scenario_from_layers(layers, rules, name="道县基准")
    save_scenario(sc, tmp_path / "dx")
    back = load_scenario(tmp_path / "dx")
    assert_layers_equal(layers, back.layers)
    assert back.rules == rules
    assert set(back.layers.sources) == set(layers.sources)


# --------------------------------------------------------------------------- atomic save
def test_failed_save_leaves_the_old_scenario_untouched(saved, monkeypatch):
    sc, folder = saved
    before = file_hashes(folder)
    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", failing)
    sc.notes = "不应保存"
    with pytest.raises(StoreError, match="disk full"):
        save_scenario(sc, folder)
    assert file_hashes(folder) == before
    monkeypatch.setattr(pyogrio, "write_dataframe", real)
    assert load_scenario(folder).notes == "会议用"


def test_failed_json_write_leaves_both_files(saved, monkeypatch):
    sc, folder = saved
    before = file_hashes(folder)

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(json, "dump", boom)
    with pytest.raises(KeyboardInterrupt):
        save_scenario(sc, folder)
    assert file_hashes(folder) == before


class Stop(BaseException):
    """A kill in the middle of a save: nothing after it runs, no clean-up either."""


def _stop_at_rename(monkeypatch, n: int) -> None:
    """Make the n-th os.replace of the save stop the process (before renaming); a stopped
    process renames nothing after that either."""
    import os

    real = os.replace
    calls = {"n": 0}

    def replace(src, dst):
        calls["n"] += 1
        if calls["n"] >= n:
            raise Stop
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def _killed(monkeypatch, fn) -> None:
    """Run ``fn`` as if the process died at the injected stop: the save's own clean-up (its
    finally blocks) does not run, so what a kill leaves on disk stays."""
    import shutil as _shutil

    monkeypatch.setattr(_shutil, "rmtree", lambda *a, **k: None)
    with pytest.raises(Stop):
        fn()
    monkeypatch.undo()


@pytest.mark.parametrize("step", [1, 2])
def test_a_save_stopped_at_each_rename_leaves_one_whole_scenario(saved, monkeypatch, step):
    """Step 1: before the old folder is renamed away; step 2: between the two renames."""
    sc, folder = saved
    before = file_hashes(folder)
    sc.notes = "新的"
    _stop_at_rename(monkeypatch, step)
    _killed(monkeypatch, lambda: save_scenario(sc, folder))
    if step == 1:
        assert file_hashes(folder) == before  # the old scenario, untouched
    else:
        assert not folder.exists()  # the moment between the renames
    back = load_scenario(folder)  # finishes the interrupted swap
    assert back.notes == ("会议用" if step == 1 else "新的")
    save_scenario(back, folder)  # and the next save cleans up every leftover
    assert not (folder.parent / STAGING).exists()
    assert load_scenario(folder).notes == back.notes


def test_a_save_stopped_while_writing_leaves_the_old_scenario(saved, monkeypatch):
    sc, folder = saved
    before = file_hashes(folder)
    real = pyogrio.write_dataframe

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(pyogrio, "write_dataframe", stop)
    _killed(monkeypatch, lambda: save_scenario(sc, folder))
    monkeypatch.setattr(pyogrio, "write_dataframe", real)
    assert file_hashes(folder) == before
    assert any((folder.parent / STAGING).iterdir())  # the killed save's half folder ...
    save_scenario(sc, folder)
    assert not (folder.parent / STAGING).exists()  # ... is gone after the next save


@pytest.mark.parametrize("step", [1, 2])
def test_permission_error_on_rename_keeps_the_old_scenario(saved, monkeypatch, step):
    """Antivirus or sync software holding a file: the rename fails, the old scenario stays."""
    import os

    sc, folder = saved
    before = file_hashes(folder)
    real = os.replace
    calls = {"n": 0}

    def replace(src, dst):
        calls["n"] += 1
        if calls["n"] == step:
            raise PermissionError(13, "Permission denied", str(src))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    sc.notes = "不应保存"
    with pytest.raises(StoreError) as info:
        save_scenario(sc, folder)
    assert str(folder.name) in str(info.value) and "Permission denied" in str(info.value)
    assert "antivirus" in info.value.fix
    monkeypatch.undo()
    assert file_hashes(folder) == before
    assert load_scenario(folder).notes == "会议用"
    assert not (folder.parent / STAGING).exists()


def test_save_keeps_the_planners_own_files_and_drops_old_temporary_files(saved):
    sc, folder = saved
    (folder / "会议纪要.txt").write_text("留着", encoding="utf-8")
    (folder / "maps").mkdir()
    (folder / "maps" / "a.png").write_bytes(b"png")
    (folder / ".scenario.gpkg.0123.tmp.gpkg").write_bytes(b"left by a killed old version")
    save_scenario(sc, folder)
    assert (folder / "会议纪要.txt").read_text(encoding="utf-8") == "留着"
    assert (folder / "maps" / "a.png").read_bytes() == b"png"
    assert not list(folder.glob(".scenario.*"))


def test_a_save_removes_what_killed_saves_of_other_scenarios_left_long_ago(saved):
    import os
    import time

    sc, folder = saved
    staging = folder.parent / STAGING
    staging.mkdir()
    old = staging / f"deleted.new-{'a' * 32}"
    young = staging / f"busy.new-{'b' * 32}"  # another window saving right now
    for d in (old, young):
        d.mkdir()
        (d / "scenario.gpkg").write_bytes(b"half")
    long_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (long_ago, long_ago))
    save_scenario(sc, folder)
    assert not old.exists() and young.exists()


def test_cli_names_the_folder_and_the_fix_when_a_save_fails(saved, monkeypatch, capsys):
    import os

    from app.cli import main

    _sc, folder = saved
    real = os.replace

    def replace(src, dst):
        if Path(dst) == folder or Path(src) == folder:
            raise PermissionError(13, "Permission denied", str(src))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    rc = main(["scenario", "save", "--name", "x", "--out", str(folder), "--no-plan"])
    err = capsys.readouterr().err
    assert rc == 2
    assert str(folder) in err and "Permission denied" in err and "internal error" not in err


# --------------------------------------------------------------------------- damaged files
def _edit_json(folder: Path, fn) -> None:
    p = folder / JSON_NAME
    doc = json.loads(p.read_text(encoding="utf-8"))
    fn(doc)
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _truncate(p: Path, keep: float) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * keep)])


def _drop_layer(folder: Path, layer: str) -> None:
    con = sqlite3.connect(folder / GPKG_NAME)
    con.execute(f"DROP TABLE {layer}")
    con.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (layer,))
    con.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (layer,))
    con.commit()
    con.close()


def _delete_rows(folder: Path, layer: str) -> None:
    con = sqlite3.connect(folder / GPKG_NAME)
    con.execute(f"DELETE FROM {layer} WHERE fid > 1")
    con.commit()
    con.close()


def _other_save(folder: Path) -> None:
    other = folder.parent / "other"
    sc = scenario_from_layers(tiny_layers(), Rules(), name="另一个")
    save_scenario(sc, other)
    (folder / GPKG_NAME).write_bytes((other / GPKG_NAME).read_bytes())


DAMAGE = {
    "json truncated": (lambda f: _truncate(f / JSON_NAME, 0.5), r"cut short \(truncated\)"),
    "json invalid": (
        lambda f: (f / JSON_NAME).write_text('{"name": "x", rules: }', encoding="utf-8"),
        r"not valid JSON",
    ),
    "json empty": (lambda f: (f / JSON_NAME).write_text("", encoding="utf-8"), r"is empty"),
    "json not an object": (
        lambda f: (f / JSON_NAME).write_text("[1, 2]"),
        r"expected a JSON object",
    ),
    "json binary": (
        lambda f: (f / JSON_NAME).write_bytes(b"\xff\xfe\x00garbage"),
        r"not a text file",
    ),
    "schema newer": (
        lambda f: _edit_json(f, lambda d: d.update(schema_version=99)),
        r"newer SchoolPlan \(schema_version 99",
    ),
    "schema not a number": (
        lambda f: _edit_json(f, lambda d: d.update(schema_version="1")),
        r"schema_version '1' is not a whole number",
    ),
    "schema negative": (
        lambda f: _edit_json(f, lambda d: d.update(schema_version=-1)),
        r"schema_version -1 is invalid",
    ),
    "missing rules": (lambda f: _edit_json(f, lambda d: d.pop("rules")), r"lacks 'rules'"),
    "missing layers and crs": (
        lambda f: _edit_json(f, lambda d: (d.pop("layers"), d.pop("crs"))),
        r"lacks 'crs', 'layers'",
    ),
    "bad rule value": (
        lambda f: _edit_json(f, lambda d: d["rules"]["groups"].update(radius_km="far")),
        r"saved rules are not valid",
    ),
    "bad choices": (
        lambda f: _edit_json(f, lambda d: d["choices"].update(locked_pairs=[["S1"]])),
        r"locked_pairs entry",
    ),
    "gpkg truncated": (lambda f: _truncate(f / GPKG_NAME, 0.4), r"scenario.gpkg is damaged"),
    "gpkg garbage": (
        lambda f: (f / GPKG_NAME).write_bytes(b"PK\x03\x04 not a database" * 100),
        r"is not a GeoPackage",
    ),
    "gpkg header only": (
        lambda f: (f / GPKG_NAME).write_bytes(b"SQLite format 3\x00" + b"\x00" * 50),
        r"scenario.gpkg is damaged",
    ),
    "gpkg missing layer": (
        lambda f: _drop_layer(f, "input_units"),
        r"layer 'input_units' is missing",
    ),
    "gpkg rows lost": (
        lambda f: _delete_rows(f, "input_schools"),
        r"'input_schools' has 1 rows, the save wrote 4",
    ),
    "gpkg from another save": (_other_save, r"come from different saves"),
    "gpkg missing": (lambda f: (f / GPKG_NAME).unlink(), r"scenario.gpkg is missing"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_scenario_gives_a_clear_error_and_is_not_touched(saved, case):
    _, folder = saved
    damage, message = DAMAGE[case]
    damage(folder)
    before = file_hashes(folder)
    with pytest.raises(ScenarioError, match=message) as info:
        load_scenario(folder)
    assert file_hashes(folder) == before  # same files, same bytes: nothing written or added
    text = str(info.value)
    assert "fix:" in text or "newer" in text or "missing" in text


def test_missing_folder(tmp_path):
    with pytest.raises(ScenarioError, match="scenario folder not found"):
        load_scenario(tmp_path / "nope")


# --------------------------------------------------------------------------- migration
def write_v0(folder: Path, layers: Layers, *, with_result: bool = False) -> None:
    """The prototype layout: flat 'section.name' rules, locks/excluded at the top, v0 layer names."""
    folder.mkdir(parents=True)
    gp = folder / GPKG_NAME
    for name, gdf in (
        ("schools", layers.schools),
        ("population", layers.units),
        ("boundary", layers.boundary),
        ("candidates", layers.candidates),
    ):
        pyogrio.write_dataframe(gdf, gp, layer=name, driver="GPKG")
    if with_result:
        res = tiny_result(layers)
        pyogrio.write_dataframe(res.demand, gp, layer="plan_demand", driver="GPKG")
    doc = {
        "name": "旧方案",
        "note": "原型版本保存",
        "saved": "2025-06-01T10:00:00",
        "rules": {"groups.radius_km": 15, "catchments.max_km_primary": 2.5},
        "locks": [["S1", "S3", "primary"]],
        "excluded": [["S2", "primary"]],
    }
    (folder / JSON_NAME).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_v0_is_migrated_in_memory_and_saved_as_current(tmp_path):
    layers = tiny_layers()
    old = tmp_path / "v0"
    write_v0(old, layers, with_result=True)
    before = file_hashes(old)
    sc = load_scenario(old)
    assert file_hashes(old) == before  # migration never rewrites the old files
    assert sc.migrated_from == 0 and sc.schema_version == SCHEMA_VERSION
    assert sc.rules.groups.radius_km == 15 and sc.rules.catchments.max_km_primary == 2.5
    assert sc.choices.locked_pairs == (("S1", "S3", "primary"),)
    assert sc.choices.excluded == (("S2", "primary"),)
    assert (sc.name, sc.notes, sc.created) == ("旧方案", "原型版本保存", "2025-06-01T10:00:00")
    assert sc.layers.roads is None and sc.layers.crs.to_epsg() == 32649
    for attr in ("schools", "units", "boundary", "candidates"):
        assert_geodataframe_equal(getattr(layers, attr), getattr(sc.layers, attr))
    assert list(sc.result.demand["unit_id"]) == ["U1", "U2", "U3", "U4"]
    assert len(sc.result.groups) == 0  # v0 wrote no group layer: an empty one, not an error

    new = tmp_path / "v1"
    save_scenario(sc, new)
    doc = json.loads((new / JSON_NAME).read_text(encoding="utf-8"))
    assert doc["schema_version"] == SCHEMA_VERSION and doc["rules"]["groups"]["radius_km"] == 15
    again = load_scenario(new)
    assert again.migrated_from is None and again.rules == sc.rules
    assert_layers_equal(sc.layers, again.layers)


def test_v0_without_result_and_bad_v0_rules(tmp_path):
    write_v0(tmp_path / "a", tiny_layers())
    assert load_scenario(tmp_path / "a").result is None
    doc, version = migrate({"name": "x", "rules": {}, "saved": "2025"})
    assert version == 0 and doc["schema_version"] == SCHEMA_VERSION
    with pytest.raises(ScenarioError, match="not 'section.name'"):
        migrate({"name": "x", "rules": {"radius_km": 15}})
    with pytest.raises(ScenarioError, match="lacks 'rules'"):
        migrate({"name": "x"})


# --------------------------------------------------------------------------- plan again
def _result_frames(result) -> dict[str, pd.DataFrame]:
    return {
        k: pd.DataFrame(getattr(result, k)).reset_index(drop=True)
        for k in ("schools", "groups", "new_schools", "catchments", "demand")
    }


def _strip_times(summary: dict) -> dict:
    # Wall-clock figures differ between any two runs; everything else must not.
    drop = {"timings_s", "solve_seconds", "total_seconds"}
    if isinstance(summary, dict):
        return {k: _strip_times(v) for k, v in summary.items() if k not in drop}
    if isinstance(summary, list):
        return [_strip_times(v) for v in summary]
    return summary


@pytest.mark.slow
def test_sample_county_save_load_plan_again_is_identical(sample_layers, tmp_path):
    layers, rules, _ = sample_layers
    sc = scenario_from_layers(layers, rules, name="道县")
    first = plan_scenario(sc)
    save_scenario(sc, tmp_path / "dx")
    back = load_scenario(tmp_path / "dx")
    # The saved result reads back as it was computed ...
    for k, frame in _result_frames(first).items():
        pd.testing.assert_frame_equal(
            frame, _result_frames(back.result)[k], check_dtype=False, obj=f"saved {k}"
        )
    # ... and planning the reloaded scenario again gives the same plan.
    second = plan_scenario(back)
    for k, frame in _result_frames(first).items():
        pd.testing.assert_frame_equal(frame, _result_frames(second)[k], obj=f"replanned {k}")
    assert _strip_times(first.summary) == _strip_times(second.summary)
