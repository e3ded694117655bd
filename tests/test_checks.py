"""``schoolplan check`` on broken inputs built in code: one case per problem.

Each case breaks exactly one thing of the tiny county and asserts that the report names that
problem (file, row where there is one, a fix, its severity) and nothing else as an error, and
that the exit code is 0 when the data was safely repaired and 2 when it cannot be used. Every
case runs through ``app.cli.main`` and once more through the installed ``schoolplan`` script to
prove no Python traceback reaches the planner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from app.cli import main
from geo.checks import normalise_schools, normalise_units
from geo.layers import LayerSource
from planning.rules import Standards
from tests import builders

ROOT = Path(__file__).resolve().parents[1]
SCHOOLPLAN = Path(sys.executable).parent / "schoolplan"
BOWTIE = Polygon([(111.5, 25.4), (111.7, 25.6), (111.7, 25.4), (111.5, 25.6)])


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], list[str]]  # writes the inputs, returns the arguments after "check"
    exit_code: int
    code: str = ""  # expected problem code; "" for a project file error (no report)
    severity: str = "error"
    file: str = ""
    row: int | None = None
    column: str = ""
    words: tuple[str, ...] = ()  # must appear in the problem text or its fix


def _project(**kw) -> Callable[[Path], list[str]]:
    def build(tmp: Path) -> list[str]:
        return [str(builders.write_project(tmp, **kw))]

    return build


def _schools(change: Callable) -> Callable[[Path], list[str]]:
    def build(tmp: Path) -> list[str]:
        return [str(builders.write_project(tmp, schools_gdf=change(builders.schools())))]

    return build


def _with(df, **cells):
    """A copy with ``{column: {row_index: value}}`` cells replaced."""
    df = df.copy()
    for col, changes in cells.items():
        df[col] = df[col].astype(object)
        for i, v in changes.items():
            df.loc[i, col] = v
    return df


def _csv_schools(tmp: Path, df: pd.DataFrame, encoding: str = "utf-8") -> list[str]:
    gpkg = builders.write_layers(tmp)
    df.to_csv(tmp / "schools.csv", index=False, encoding=encoding)
    return [
        "--schools",
        str(tmp / "schools.csv"),
        "--population",
        f"{gpkg}:population",
        "--boundary",
        f"{gpkg}:boundary",
    ]


def _lonlat_table() -> pd.DataFrame:
    s = builders.schools()
    df = pd.DataFrame(s.drop(columns="geometry"))
    df["经度"], df["纬度"] = s.geometry.x, s.geometry.y
    return df


def _swapped_csv(tmp: Path) -> list[str]:
    df = _lonlat_table()
    df.loc[1, ["经度", "纬度"]] = [df.loc[1, "纬度"], df.loc[1, "经度"]]
    return _csv_schools(tmp, df, encoding="gbk")


def _swapped_gpkg(tmp: Path) -> list[str]:
    s = builders.schools()
    s.geometry = [Point(p.y, p.x) if i == 2 else p for i, p in enumerate(s.geometry)]
    return [str(builders.write_project(tmp, schools_gdf=s))]


def _text_coordinates(tmp: Path) -> list[str]:
    df = _lonlat_table()
    df["经度"] = df["经度"].astype(object)
    df.loc[3, "经度"] = "东经111度"
    return _csv_schools(tmp, df)


def _impossible_coordinates(tmp: Path) -> list[str]:
    s = builders.schools()
    s.geometry = [Point(111.6, 200.0) if i == 1 else p for i, p in enumerate(s.geometry)]
    return [str(builders.write_project(tmp, schools_gdf=s))]


def _missing_crs(tmp: Path) -> list[str]:
    gpkg = builders.write_layers(tmp)
    builders.schools().to_file(tmp / "schools.shp", encoding="gbk")
    (tmp / "schools.prj").unlink()
    return [
        "--schools",
        str(tmp / "schools.shp"),
        "--population",
        f"{gpkg}:population",
        "--boundary",
        f"{gpkg}:boundary",
    ]


def _garbage_gpkg(tmp: Path) -> list[str]:
    toml = builders.write_project(
        tmp, specs={"schools": {"file": "schools.gpkg", "layer": "schools"}}
    )
    (tmp / "schools.gpkg").write_bytes(np.random.default_rng(1).bytes(4096))
    return [str(toml)]


def _missing_file(tmp: Path) -> list[str]:
    return [str(builders.write_project(tmp, specs={"population": {"file": "村庄人口.gpkg"}}))]


def _missing_layer(tmp: Path) -> list[str]:
    return [str(builders.write_project(tmp, specs={"schools": {"layer": "学校"}}))]


def _bad_toml(tmp: Path) -> list[str]:
    toml = builders.write_project(tmp)
    toml.write_text('[project\nname = "测试县"\n', encoding="utf-8")
    return [str(toml)]


def _unknown_layer_key(tmp: Path) -> list[str]:
    toml = builders.write_project(tmp)
    toml.write_text(
        toml.read_text(encoding="utf-8") + '\n[layers.school]\nfile = "county.gpkg"\n',
        encoding="utf-8",
    )
    return [str(toml)]


def _misspelt_layer_setting(tmp: Path) -> list[str]:
    toml = builders.write_project(tmp)
    text = toml.read_text(encoding="utf-8").replace(
        'layer = "schools"', 'layer = "schools"\ncoord = "gcj02"'
    )
    toml.write_text(text, encoding="utf-8")
    return [str(toml)]


def _empty_candidates(tmp: Path) -> list[str]:
    toml = builders.write_project(tmp)
    builders.schools().iloc[:0].to_file(tmp / "county.gpkg", layer="candidates")
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text + '\n[layers.candidates]\nfile = "county.gpkg"\nlayer = "candidates"\n')
    return [str(toml)]


def _bowtie_village(tmp: Path) -> list[str]:
    p = builders.population()
    p.geometry = [
        Polygon([(111.59, 25.50), (111.61, 25.52), (111.61, 25.50), (111.59, 25.52)]),
        *p.geometry[1:],
    ]
    return [str(builders.write_project(tmp, population_gdf=p))]


def _empty_village_geometry(tmp: Path) -> list[str]:
    p = builders.population()
    p.geometry = [*p.geometry[:2], Point()]
    return [str(builders.write_project(tmp, population_gdf=p))]


def _missing_sheet(tmp: Path) -> list[str]:
    gpkg = builders.write_layers(tmp)
    _lonlat_table().to_excel(tmp / "schools.xlsx", sheet_name="学校", index=False)
    toml = tmp / "project.toml"
    spec = {
        "schools": {"file": "schools.xlsx", "sheet": "小学"},
        "population": {"file": gpkg.name, "layer": "population"},
        "boundary": {"file": gpkg.name, "layer": "boundary"},
    }
    toml.write_text(builders.project_toml(spec), encoding="utf-8")
    return [str(toml)]


def _village_as_line(tmp: Path) -> list[str]:
    p = builders.population()
    p.geometry = [LineString([(111.59, 25.50), (111.61, 25.51)]), *p.geometry[1:]]
    return [str(builders.write_project(tmp, population_gdf=p))]


CASES = [
    Case(
        "missing column",
        _schools(lambda s: s.drop(columns=["班级数"])),
        2,
        "missing_column",
        file="county.gpkg",
        column="classes",
        words=("班级数", "project.toml"),
    ),
    Case(
        "mapping to a column not in the file",
        _project(specs={"schools": {"columns": {"classes": "班额X"}}}),
        2,
        "missing_column",
        file="county.gpkg",
        column="班额X",
        words=("班级数",),  # the fix lists the file's real columns
    ),
    Case(
        "unrecognised extra column",
        _schools(lambda s: s.assign(备注=["", "新校区", "", ""])),
        0,
        "unused_columns",
        severity="info",
        file="county.gpkg",
        words=("备注", "project.toml"),
    ),
    Case(
        "non-numeric number",
        _schools(lambda s: _with(s, 班级数={1: "十八"})),
        2,
        "not_numeric",
        file="county.gpkg",
        row=2,
        column="班级数",
        words=("十八",),
    ),
    Case(
        "negative number",
        _schools(lambda s: _with(s, 在校生数={2: -5})),
        2,
        "negative",
        file="county.gpkg",
        row=3,
        column="在校生数",
        words=("-5",),
    ),
    Case(
        "missing number",
        _schools(lambda s: _with(s, 在校生数={3: None})),
        2,
        "missing_value",
        file="county.gpkg",
        row=4,
        column="在校生数",
    ),
    Case(
        "duplicate ids",
        _schools(lambda s: _with(s, 学校代码={3: "S02"})),
        2,
        "duplicate_id",
        file="county.gpkg",
        row=2,
        column="学校代码",
        words=("S02", "2, 4"),
    ),
    Case(
        "empty layer",
        _schools(lambda s: s.iloc[:0]),
        2,
        "empty_layer",
        file="county.gpkg",
        words=("schools",),
    ),
    Case(
        "empty optional layer",
        _empty_candidates,
        0,
        "empty_layer",
        severity="warning",
        file="county.gpkg",
        words=("candidates",),
    ),
    Case(
        "self-intersecting boundary repaired",
        _project(boundary_gdf=builders.boundary().set_geometry([BOWTIE], crs=4326)),
        0,
        "invalid_geometry",
        severity="warning",
        file="county.gpkg",
        row=1,
        words=("QGIS",),
    ),
    Case(
        "self-intersecting village repaired",
        _bowtie_village,
        0,
        "invalid_geometry",
        severity="warning",
        file="county.gpkg",
        row=1,
    ),
    Case(
        "empty geometry",
        _schools(lambda s: s.set_geometry([Point(), *s.geometry[1:]], crs=4326)),
        2,
        "empty_geometry",
        file="county.gpkg",
        row=1,
    ),
    Case(
        "empty village geometry",
        _empty_village_geometry,
        2,
        "empty_geometry",
        file="county.gpkg",
        row=3,
    ),
    Case(
        "point outside the boundary",
        _schools(lambda s: s.set_geometry([*s.geometry[:3], Point(112.5, 25.5)], crs=4326)),
        2,
        "outside_boundary",
        file="county.gpkg",
        row=4,
        words=("S04", "km outside"),
    ),
    Case(
        "longitude/latitude swapped in a GBK CSV",
        _swapped_csv,
        0,
        "lonlat_swapped",
        severity="warning",
        file="schools.csv",
        row=3,  # spreadsheet row: header is row 1
        words=("经度", "纬度"),
    ),
    Case(
        "longitude/latitude swapped in a GeoPackage",
        _swapped_gpkg,
        0,
        "lonlat_swapped",
        severity="warning",
        file="county.gpkg",
        row=3,
        words=("longitude",),
    ),
    Case(
        "coordinates that are not numbers",
        _text_coordinates,
        2,
        "bad_coordinates",
        file="schools.csv",
        row=5,
        words=("东经111度",),
    ),
    Case(
        "coordinates out of range",
        _impossible_coordinates,
        2,
        "bad_coordinates",
        file="county.gpkg",
        row=2,
        words=("latitude",),
    ),
    Case(
        "unknown level value",
        _schools(lambda s: _with(s, 学段={2: "幼儿园"})),
        2,
        "unknown_value",
        file="county.gpkg",
        row=3,
        column="学段",
        words=("幼儿园", "九年一贯制"),
    ),
    Case(
        "unknown quality value",
        _schools(lambda s: _with(s, 办学质量={0: "特优"})),
        2,
        "unknown_value",
        file="county.gpkg",
        row=1,
        column="办学质量",
        words=("薄弱",),
    ),
    Case(
        "missing CRS",
        _missing_crs,
        2,
        "unreadable",
        file="schools.shp",
        words=("coordinate reference system", 'crs = "EPSG:4326"', "project.toml", ".prj"),
    ),
    Case(
        "broken file (garbage named .gpkg)",
        _garbage_gpkg,
        2,
        "unreadable",
        file="schools.gpkg",
        words=("cannot be read", "QGIS"),
    ),
    Case(
        "missing file",
        _missing_file,
        2,
        "unreadable",
        file="村庄人口.gpkg",
        words=("not found",),
    ),
    Case(
        "missing layer in a GeoPackage",
        _missing_layer,
        2,
        "unreadable",
        file="county.gpkg",
        words=("学校", "schools, population, boundary"),
    ),
    Case(
        "mapping of a field that does not exist",
        _project(specs={"schools": {"columns": {"pupils": "在校生数"}}}),
        2,
        "unknown_field",
        file="county.gpkg",
        words=("pupils", "students"),
    ),
    Case(
        "missing sheet in a workbook",
        _missing_sheet,
        2,
        "unreadable",
        file="schools.xlsx",
        words=("小学", "学校"),
    ),
    Case(
        "village drawn as a line",
        _village_as_line,
        0,
        "not_point",
        severity="warning",
        file="county.gpkg",
        row=1,
    ),
    Case("project.toml with bad TOML", _bad_toml, 2, words=("not valid TOML", "project.toml")),
    Case(
        "project.toml with an unknown layer key",
        _unknown_layer_key,
        2,
        words=("unknown layer", "school", "schools, population, boundary"),
    ),
    Case(
        "project.toml with a misspelt layer setting",
        _misspelt_layer_setting,
        2,
        words=("coord", "coords"),
    ),
]
IDS = [c.name for c in CASES]


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_names_the_problem(tmp_path, capsys, case: Case):
    args = case.build(tmp_path)
    rc, out, err = _run(capsys, ["check", *args, "--json"])
    assert rc == case.exit_code, out + err
    if not case.code:
        # A broken project file stops before any layer is read: one plain message on stderr.
        assert out == ""
        text = err.strip()
        assert text.startswith("schoolplan: ") and "\n" not in text
        assert "project.toml" in text and "fix:" in text
        for w in case.words:
            assert w in text
        return
    assert err == ""
    report = json.loads(out)
    assert report["usable"] is (case.exit_code == 0)
    hits = [p for p in report["problems"] if p["code"] == case.code]
    assert len(hits) == 1, report["problems"]
    p = hits[0]
    assert p["severity"] == case.severity
    assert p["file"] == case.file
    assert p["row"] == case.row
    if case.column:
        assert p["column"] == case.column
    assert p["fix"], "every problem says how to fix it"
    for w in case.words:
        assert w in p["problem"] + " " + p["fix"], w
    # One case, one problem: nothing else is an error (the case is not a side effect of another).
    others = [q for q in report["problems"] if q is not p and q["severity"] == "error"]
    assert others == [], others
    if case.severity != "error":
        assert report["errors"] == 0

    # The plain-language report shows the same problem with its place and fix.
    rc, out, err = _run(capsys, ["check", *args, "--lang", "en"])
    assert rc == case.exit_code and err == ""
    line = next(x for x in out.splitlines() if p["problem"] in x)
    assert line.startswith(f"[{case.severity}] {case.file}")
    if case.row is not None:
        assert f"row {case.row}" in line
    assert f"fix: {p['fix']}" in out
    verdict = "Check: usable" if case.exit_code == 0 else "Check: NOT usable"
    assert verdict in out


def _subprocess_failures(case: Case, folder: Path, proc: subprocess.CompletedProcess) -> list[str]:
    out, err = proc.stdout, proc.stderr
    bad = []
    if proc.returncode != case.exit_code:
        bad.append(f"exit {proc.returncode}, expected {case.exit_code}")
    if "Traceback" in out + err or "internal error" in err:
        bad.append("a traceback or an internal error reached the user")
    if (folder / ".schoolplan" / "crash.log").exists():
        bad.append("crash.log written")
    if case.code:
        if err:
            bad.append("stderr not empty (the report goes to stdout, library warnings nowhere)")
        if ("可以使用" if case.exit_code == 0 else "不能使用") not in out:
            bad.append("no verdict")
    elif not err.startswith("schoolplan: "):
        bad.append("no plain message on stderr")
    return [f"{case.name}: {b}\n{out}{err}" for b in bad]


@pytest.mark.slow  # a fresh process per broken project
def test_check_never_shows_a_traceback(tmp_path):
    """Every case again through the installed script in a fresh process (run concurrently)."""
    runs = []
    for i, case in enumerate(CASES):
        folder = tmp_path / f"case{i:02d}"
        folder.mkdir()
        args = case.build(folder)
        env = {**os.environ, "HOME": str(folder)}  # a crash.log would land here, not in ~
        runs.append((case, folder, [str(SCHOOLPLAN), "check", *args], env))

    def run(item):
        case, folder, argv, env = item
        proc = subprocess.run(
            argv, capture_output=True, text=True, env=env, cwd=folder, timeout=300
        )
        return _subprocess_failures(case, folder, proc)

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for found in pool.map(run, runs) for f in found]
    assert failures == []


@pytest.mark.slow  # loads the sample county
def test_sample_county_checks_clean(capsys, sample_project):
    rc, out, err = _run(capsys, ["check", str(sample_project), "--lang", "en"])
    assert rc == 0 and err == ""
    assert "0 error(s)" in out


def test_every_problem_of_a_file_is_listed_at_once(tmp_path, capsys):
    s = _with(builders.schools(), 班级数={0: "abc"}, 在校生数={1: -1}, 学段={3: "大学"})
    toml = builders.write_project(tmp_path, schools_gdf=s)
    rc, out, _ = _run(capsys, ["check", str(toml), "--json"])
    codes = sorted(p["code"] for p in json.loads(out)["problems"] if p["severity"] == "error")
    assert rc == 2 and codes == ["negative", "not_numeric", "unknown_value"]


def test_plan_refuses_unusable_data_without_traceback(tmp_path, capsys):
    toml = builders.write_project(tmp_path, schools_gdf=_with(builders.schools(), 在校生数={2: -5}))
    rc, out, err = _run(capsys, ["plan", str(toml), "--out", str(tmp_path / "out")])
    assert rc == 2
    assert "在校生数" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "plan.gpkg").exists()


def test_other_layers_are_checked_when_the_boundary_is_unreadable(tmp_path, capsys):
    toml = builders.write_project(
        tmp_path,
        schools_gdf=_with(builders.schools(), 在校生数={2: -5}),
        specs={"boundary": {"file": "县界.gpkg"}},
    )
    rc, out, _ = _run(capsys, ["check", str(toml), "--json"])
    report = json.loads(out)
    found = {(p["code"], p["file"]) for p in report["problems"] if p["severity"] == "error"}
    assert rc == 2
    assert found == {("unreadable", "县界.gpkg"), ("negative", "county.gpkg")}
    assert report["counts"] == {"schools": 4, "population": 3}


CELL = st.one_of(
    st.none(),
    st.integers(-50, 5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(
        ["小学", "九年一贯制", "完中", "１２", "1,200", " 24 ", "薄弱", "乡村", "", "nan"]
    ),
)


@pytest.mark.slow  # 150 generated sheets
@settings(max_examples=150, deadline=None)
@given(cells=st.lists(st.tuples(CELL, CELL, CELL, CELL, CELL, CELL), min_size=1, max_size=6))
def test_any_cell_values_give_problems_not_exceptions(cells):
    """Whatever a spreadsheet holds, normalising reports problems; it never raises."""
    cols = ["学校代码", "学段", "班级数", "在校生数", "学位数", "办学质量"]
    raw = gpd.GeoDataFrame(
        pd.DataFrame(cells, columns=cols, dtype=object),
        geometry=[Point(500000 + i, 2800000) for i in range(len(cells))],
        crs="EPSG:32649",
    )
    raw["学校名称"] = "某校"
    src = LayerSource(key="schools", file=Path("s.gpkg"), layer="schools")
    problems: list = []
    out = normalise_schools(raw, src, problems, Standards())
    rows = set(range(1, len(cells) + 1))
    for p in problems:
        assert p.fix and p.file == "s.gpkg"
        assert p.row is None or p.row in rows
    assert set(out["level"]) <= {"primary", "junior", "senior"}
    if not [p for p in problems if p.severity == "error"]:
        assert (out[["classes", "students", "capacity"]] >= 0).all().all()


@settings(max_examples=100, deadline=None)
@given(cells=st.lists(st.tuples(CELL, CELL, CELL, CELL), min_size=1, max_size=6))
def test_any_population_cells_give_problems_not_exceptions(cells):
    raw = gpd.GeoDataFrame(
        pd.DataFrame(cells, columns=["编号", "人口", "类型", "小学学龄人数"], dtype=object),
        geometry=[Point(500000 + i, 2800000) for i in range(len(cells))],
        crs="EPSG:32649",
    )
    src = LayerSource(key="population", file=Path("p.gpkg"), layer="population")
    problems: list = []
    out = normalise_units(raw, src, problems)
    assert len(out) == len(cells)
    for p in problems:
        assert p.fix and p.file == "p.gpkg"
    if not [p for p in problems if p.severity == "error"]:
        assert (out["population"] >= 0).all()
        assert set(out["kind"]) <= {"village", "community", "new_community", "relocation_site"}
