"""Loaders: every supported format reaches the canonical schema of ARCHITECTURE.md.

Inputs are written as real files by the test (Chinese headings, WGS84 lon/lat) so the whole
path — GDAL/pandas reading, column recognition, CRS choice, combined-school expansion — runs.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from shapely.geometry import Point, box

from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.project import load_layers, make_config, parse_layer_arg
from planning.project import load_project
from planning.rules import Rules
from tests import builders

SCHOOL_COLUMNS = [
    "school_id",
    "name",
    "level",
    "classes",
    "students",
    "capacity",
    "teachers",
    "quality",
    "location",
    "status",
    "ownership",
    "school_type",
    "combined",
    "src_row",
    "geometry",
]
UNIT_COLUMNS = [
    "unit_id",
    "name",
    "population",
    "kind",
    "town",
    "students_primary",
    "students_junior",
    "students_senior",
    "src_row",
    "geometry",
]


def assert_canonical(layers) -> None:
    """The column set, types and sort order every engine relies on."""
    s, u = layers.schools, layers.units
    assert list(s.columns) == SCHOOL_COLUMNS
    assert list(u.columns) == UNIT_COLUMNS
    for gdf in (s, u, layers.boundary):
        assert gdf.crs == layers.crs
    assert layers.crs.axis_info[0].unit_name == "metre"
    assert set(s["level"]) <= {"primary", "junior", "senior"}
    for c in ("classes", "students", "capacity", "src_row"):
        assert s[c].dtype == np.int64, c
    assert s["teachers"].dtype == np.float64
    assert (s.geom_type == "Point").all()
    order = s["level"].map({"primary": 0, "junior": 1, "senior": 2})
    keys = list(zip(order, s["school_id"]))
    assert keys == sorted(keys)
    assert not s.duplicated(["school_id", "level"]).any()
    assert u["population"].dtype == np.float64
    assert len(layers.boundary) == 1
    assert layers.boundary.geom_type.iloc[0] in ("Polygon", "MultiPolygon")


def expected_schools() -> pd.DataFrame:
    """What builders.schools() must become (sorted by level, then id)."""
    return pd.DataFrame(
        {
            "school_id": ["S01", "S03", "S02", "S04"],
            "name": ["城关一小", "桥头村小", "城关中学", "县一中"],
            "level": ["primary", "primary", "junior", "senior"],
            "classes": [24, 3, 18, 30],
            "students": [1080, 60, 900, 1500],
            # not in the data: classes × standard class size (45 / 50 / 50)
            "capacity": [24 * 45, 3 * 45, 18 * 50, 30 * 50],
            "teachers": [60.0, 5.0, 55.0, 110.0],
            "quality": ["core", "weak", "ordinary", "core"],
            "location": ["urban", "rural", "urban", "urban"],
            "status": ["existing"] * 4,
            "ownership": ["public"] * 4,
        }
    )


def assert_mini_schools(layers, first_row: int) -> None:
    assert_canonical(layers)
    got = pd.DataFrame(layers.schools.drop(columns="geometry"))
    exp = expected_schools()
    pd.testing.assert_frame_equal(got[exp.columns].reset_index(drop=True), exp, check_dtype=False)
    # src_row points back at the row in the file: S01 is the first data row.
    rows = dict(zip(got["school_id"], got["src_row"]))
    assert rows == {
        "S01": first_row,
        "S02": first_row + 1,
        "S03": first_row + 2,
        "S04": first_row + 3,
    }
    # geometry survived the trip to the metric CRS: back in lon/lat it is where we put it
    wgs = layers.schools.to_crs(4326).set_index("school_id").geometry
    src = builders.schools().set_index("学校代码").geometry
    for sid in src.index:
        assert wgs[sid].distance(src[sid]) < 1e-7


def table_of(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["经度"] = gdf.geometry.x
    df["纬度"] = gdf.geometry.y
    return df


def load(project: Path | None = None, **layer_args):
    cfg = make_config(project, {k: str(v) for k, v in layer_args.items()})
    layers, report = load_layers(cfg, Rules().standards)
    assert report.usable, [str(p) for p in report.problems]
    assert layers is not None
    return layers, report


@pytest.fixture
def county(tmp_path) -> Path:
    return builders.write_layers(tmp_path)


def test_geopackage_with_chinese_headings(tmp_path):
    toml = builders.write_project(tmp_path)
    layers, rules, report = load_project(toml)
    assert_mini_schools(layers, first_row=1)
    assert not report.errors and not report.warnings
    assert layers.crs.to_epsg() == 32649  # UTM 49N: the data's centre is at 111.6°E
    u = layers.units.set_index("unit_id")
    assert list(u.index) == ["V1", "V2", "V3"]
    assert u.loc["V3", "kind"] == "new_community"
    assert u.loc["V1", "kind"] == "community"
    assert u.loc["V2", "town"] == "桥头乡"
    assert u.loc["V1", "population"] == 12000.0
    assert np.isnan(u["students_primary"]).all()  # not in the data: NaN, estimated later
    assert layers.boundary["name"].iloc[0] == "测试县"
    assert layers.name == "测试县"


def test_shapefile_gbk_with_cpg(tmp_path, county):
    builders.schools().to_file(tmp_path / "schools.shp", encoding="gbk")
    assert (tmp_path / "schools.cpg").exists()
    layers, report = load(
        schools=tmp_path / "schools.shp",
        population=f"{county}:population",
        boundary=f"{county}:boundary",
    )
    assert_mini_schools(layers, first_row=1)
    assert not [p for p in report.problems if p.code == "encoding_guessed"]


def _load_gbk_shapefile(tmp_path, county, schools_gdf):
    """The schools as a GBK Shapefile without its .cpg, with the county's other layers."""
    schools_gdf.to_file(tmp_path / "schools.shp", encoding="gbk")
    (tmp_path / "schools.cpg").unlink()
    layers, report = load(
        schools=tmp_path / "schools.shp",
        population=f"{county}:population",
        boundary=f"{county}:boundary",
    )
    assert_mini_schools(layers, first_row=1)
    return layers, report


def test_shapefile_gbk_without_cpg_is_decoded_with_a_note(tmp_path, county):
    # ArcGIS-era Chinese Shapefiles often come without .cpg; GDAL would read them as Latin-1.
    layers, report = _load_gbk_shapefile(tmp_path, county, builders.schools())
    notes = [p for p in report.problems if p.code == "encoding_guessed"]
    assert len(notes) == 1 and notes[0].severity == "info" and notes[0].file == "schools.shp"


def test_shapefile_gbk_without_cpg_and_ascii_headings_is_decoded(tmp_path, county):
    # Headings in pinyin/English, only the values Chinese: the guess must look at the values
    # too (pandas 3 reads them as its str dtype, not object).
    english = {"学校代码": "school_id", "学校名称": "name", "学段": "level", "班级数": "classes",
               "在校生数": "students", "教师数": "teachers", "办学质量": "quality",
               "城乡类别": "location"}  # fmt: skip
    layers, report = _load_gbk_shapefile(
        tmp_path, county, builders.schools().rename(columns=english)
    )
    assert [p.code for p in report.problems].count("encoding_guessed") == 1


def test_utf8_shapefile_without_cpg_and_cut_field_names_stays_utf8(tmp_path):
    # Field names hold 10 bytes: 学校代码 in UTF-8 (12 bytes) ends inside 码. That must not make
    # the guess fall to GB18030, which would turn every value into the wrong characters.
    import warnings

    from geo.layers import LayerSource
    from geo.read import read_layer

    path = tmp_path / "schools.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL: laundered field names
        builders.schools()[["学校代码", "学校名称", "geometry"]].to_file(path, encoding="utf-8")
    (tmp_path / "schools.cpg").unlink()
    problems = []
    gdf = read_layer(LayerSource(key="schools", file=path), problems)
    assert list(gdf.columns[:2]) == [
        "学校代",
        "学校名",
    ]  # whole characters kept, the cut one dropped
    assert list(gdf["学校名"]) == list(builders.schools()["学校名称"])
    assert any("cut inside a character" in p.problem for p in problems)


def test_geojson_points_and_polygon_units(tmp_path, county):
    builders.schools().to_file(tmp_path / "schools.geojson", driver="GeoJSON")
    units = builders.population()
    units.geometry = [
        box(p.x - 0.005, p.y - 0.005, p.x + 0.005, p.y + 0.005) for p in units.geometry
    ]
    units.to_file(tmp_path / "villages.geojson", driver="GeoJSON")
    layers, _ = load(
        schools=tmp_path / "schools.geojson",
        population=tmp_path / "villages.geojson",
        boundary=f"{county}:boundary",
    )
    assert_mini_schools(layers, first_row=1)
    assert (layers.units.geom_type == "Polygon").all()
    # about 1 km × 1.1 km each, in square metres of the metric CRS
    assert layers.units.area.between(0.9e6, 1.3e6).all()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_with_lonlat_columns(tmp_path, county, encoding):
    path = tmp_path / "schools.csv"
    table_of(builders.schools()).to_csv(path, index=False, encoding=encoding)
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):  # the file really is not UTF-8
            path.read_bytes().decode("utf-8")
    layers, _ = load(schools=path, population=f"{county}:population", boundary=f"{county}:boundary")
    assert_mini_schools(layers, first_row=2)  # spreadsheet rows: the header is row 1


def test_xlsx_with_lonlat_columns_and_sheet(tmp_path, county):
    path = tmp_path / "学校.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"说明": ["本表为封面"]}).to_excel(xl, sheet_name="封面", index=False)
        table_of(builders.schools()).to_excel(xl, sheet_name="学校名单", index=False)
    spec = {
        "schools": {"file": "学校.xlsx", "sheet": "学校名单"},
        "population": {"file": county.name, "layer": "population"},
        "boundary": {"file": county.name, "layer": "boundary"},
    }
    toml = tmp_path / "project.toml"
    toml.write_text(builders.project_toml(spec), encoding="utf-8")
    layers, _ = load(toml)
    assert_mini_schools(layers, first_row=2)


def test_explicit_column_mapping_in_project_toml(tmp_path, county):
    # Headings no alias knows: only the mapping can make sense of them.
    raw = table_of(builders.schools()).rename(
        columns={
            "学校代码": "统一识别码",
            "学校名称": "单位全称",
            "学段": "学部",
            "班级数": "教学班",
            "在校生数": "在籍人数",
            "经度": "E坐标",
            "纬度": "N坐标",
        }
    )
    raw.to_csv(tmp_path / "schools.csv", index=False)
    spec = {
        "schools": {
            "file": "schools.csv",
            "x": "E坐标",
            "y": "N坐标",
            "columns": {
                "school_id": "统一识别码",
                "name": "单位全称",
                "level": "学部",
                "classes": "教学班",
                "students": "在籍人数",
            },
        },
        "population": {"file": county.name, "layer": "population"},
        "boundary": {"file": county.name, "layer": "boundary"},
    }
    toml = tmp_path / "project.toml"
    toml.write_text(builders.project_toml(spec), encoding="utf-8")
    layers, report = load(toml)
    assert_mini_schools(layers, first_row=2)
    assert not [p for p in report.problems if p.code == "unused_columns"]

    # Without the mapping the same file is refused, naming what is missing.
    spec["schools"].pop("columns")
    toml.write_text(builders.project_toml(spec), encoding="utf-8")
    layers, report = load_layers(make_config(toml), Rules().standards)
    assert layers is None
    missing = {p.column for p in report.errors if p.code == "missing_column"}
    assert missing == {"school_id", "name", "level", "classes", "students"}


def test_mapping_wins_over_recognised_heading(tmp_path, county):
    # Two candidate columns: the mapping decides which one is the number of pupils.
    s = builders.schools()
    s["核定在校生"] = s["在校生数"] + 1
    s.to_file(tmp_path / "s.gpkg")
    spec = {
        "schools": {"file": "s.gpkg", "columns": {"students": "核定在校生"}},
        "population": {"file": county.name, "layer": "population"},
        "boundary": {"file": county.name, "layer": "boundary"},
    }
    (tmp_path / "project.toml").write_text(builders.project_toml(spec), encoding="utf-8")
    layers, _ = load(tmp_path / "project.toml")
    got = layers.schools.set_index("school_id")["students"]
    assert got["S01"] == 1081 and got["S04"] == 1501


@pytest.mark.parametrize(
    ("text", "file", "layer"),
    [
        ("county.gpkg:schools", "county.gpkg", "schools"),
        ("county.gpkg", "county.gpkg", None),
        ("学校.csv", "学校.csv", None),
        ("data/county.gpkg:学校", "data/county.gpkg", "学校"),
        (r"C:\data\county.gpkg", r"C:\data\county.gpkg", None),
        (r"C:\data\county.gpkg:schools", r"C:\data\county.gpkg", "schools"),
        ("C:/data/county.gpkg", "C:/data/county.gpkg", None),
        ("/mnt/a:b/county.gpkg", "/mnt/a:b/county.gpkg", None),
    ],
)
def test_parse_layer_arg(text, file, layer):
    src = parse_layer_arg("schools", text)
    assert (str(src.file), src.layer, src.key) == (str(Path(file)), layer, "schools")


def test_layer_args_on_the_command_line(tmp_path, county):
    layers, _ = load(
        schools=f"{county}:schools",
        population=f"{county}:population",
        boundary=f"{county}:boundary",
    )
    assert_mini_schools(layers, first_row=1)


def test_multi_layer_file_without_layer_takes_the_layer_named_like_the_key(tmp_path, county):
    layers, _ = load(schools=county, population=county, boundary=county)
    assert_mini_schools(layers, first_row=1)


def test_declared_crs_for_a_projected_table(tmp_path, county):
    # Surveyors' tables are often in CGCS2000 / 3-degree Gauss-Krüger metres (111°E: EPSG:4545).
    gk = builders.schools().to_crs("EPSG:4545")
    df = pd.DataFrame(gk.drop(columns="geometry"))
    df["X"] = gk.geometry.x
    df["Y"] = gk.geometry.y
    df.to_csv(tmp_path / "schools.csv", index=False)
    spec = {
        "schools": {"file": "schools.csv", "crs": "EPSG:4545", "x": "X", "y": "Y"},
        "population": {"file": county.name, "layer": "population"},
        "boundary": {"file": county.name, "layer": "boundary"},
    }
    (tmp_path / "project.toml").write_text(builders.project_toml(spec), encoding="utf-8")
    layers, _ = load(tmp_path / "project.toml")
    wgs = layers.schools.to_crs(4326).set_index("school_id").geometry
    assert wgs["S01"].distance(Point(111.60, 25.50)) < 1e-7


def test_project_crs_is_used(tmp_path):
    toml = builders.write_project(tmp_path)
    text = toml.read_text(encoding="utf-8").replace(
        'name = "测试县"', 'name = "测试县"\ncrs = "EPSG:4545"'
    )
    toml.write_text(text, encoding="utf-8")
    layers, _ = load(toml)
    assert layers.crs == pyproj.CRS.from_epsg(4545)


# --- GCJ-02 / BD-09 points from Chinese web maps ---------------------------------------------

# Reference pairs (also in tests/test_crs.py): eviltransform's Shenzhen point (WGS84 → GCJ-02)
# and gcoord's [123, 45] (WGS84 → BD-09).
SHENZHEN_WGS = (113.912316, 22.543847)
SHENZHEN_GCJ = (113.9171764808363, 22.540796131694766)
POINT_WGS = (123.0, 45.0)
POINT_BD = (123.0124491, 45.0083293)


def _metres(a, b) -> float:
    _, _, d = pyproj.Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])
    return d


def _web_map_project(tmp_path: Path, web_xy, coords: str) -> Path:
    """One school given in web-map coordinates, inside a WGS84 box around it."""
    lon, lat = web_xy
    boundary = gpd.GeoDataFrame(
        {"名称": ["某县"]}, geometry=[box(lon - 0.1, lat - 0.1, lon + 0.1, lat + 0.1)], crs=4326
    )
    units = gpd.GeoDataFrame(
        {"编号": ["V1"], "人口": [5000]}, geometry=[Point(lon + 0.02, lat + 0.02)], crs=4326
    )
    builders.write_layers(tmp_path, population_gdf=units, boundary_gdf=boundary)
    pd.DataFrame(
        {
            "学校代码": ["W1"],
            "学校名称": ["网图小学"],
            "学段": ["小学"],
            "班级数": [12],
            "在校生数": [500],
            "经度": [lon],
            "纬度": [lat],
        }
    ).to_csv(tmp_path / "web.csv", index=False)
    spec = {
        "schools": {"file": "web.csv", "coords": coords},
        "population": {"file": "county.gpkg", "layer": "population"},
        "boundary": {"file": "county.gpkg", "layer": "boundary"},
    }
    toml = tmp_path / "project.toml"
    toml.write_text(builders.project_toml(spec), encoding="utf-8")
    return toml


@pytest.mark.parametrize(
    ("web_xy", "coords", "wgs_xy"),
    [(SHENZHEN_GCJ, "gcj02", SHENZHEN_WGS), (POINT_BD, "bd09", POINT_WGS)],
)
def test_web_map_coordinates_are_converted_on_load(tmp_path, web_xy, coords, wgs_xy):
    layers, _ = load(_web_map_project(tmp_path, web_xy, coords))
    p = layers.schools.to_crs(4326).geometry.iloc[0]
    assert _metres((p.x, p.y), wgs_xy) < 0.05  # the reference point, to centimetres
    # The school moved by the published offset (hundreds of metres), not by zero.
    offset = _metres(web_xy, wgs_xy)
    assert 300 < offset < 2000
    assert math.isclose(_metres(web_xy, (p.x, p.y)), offset, abs_tol=0.05)


def test_wgs84_points_are_not_moved(tmp_path):
    layers, _ = load(_web_map_project(tmp_path, SHENZHEN_WGS, "wgs84"))
    p = layers.schools.to_crs(4326).geometry.iloc[0]
    assert _metres((p.x, p.y), SHENZHEN_WGS) < 0.01


def test_gcj02_conversion_round_trips_at_dao_county(tmp_path, county):
    # Points digitised on 高德 near the sample county: convert forward, load as gcj02, get back.
    s = builders.schools()
    gx, gy = wgs84_to_gcj02(s.geometry.x.to_numpy(), s.geometry.y.to_numpy())
    bx, by = wgs84_to_bd09(s.geometry.x.to_numpy(), s.geometry.y.to_numpy())
    for coords, (x, y) in (("gcj02", (gx, gy)), ("bd09", (bx, by))):
        df = pd.DataFrame(s.drop(columns="geometry"))
        df["lng"], df["lat"] = x, y
        df.to_csv(tmp_path / f"{coords}.csv", index=False)
        spec = {
            "schools": {"file": f"{coords}.csv", "coords": coords},
            "population": {"file": county.name, "layer": "population"},
            "boundary": {"file": county.name, "layer": "boundary"},
        }
        (tmp_path / "project.toml").write_text(builders.project_toml(spec), encoding="utf-8")
        layers, _ = load(tmp_path / "project.toml")
        assert_mini_schools(layers, first_row=2)


def test_xlsx_title_rows_blank_rows_and_full_width_digits(tmp_path, county):
    # As bureaus send them: a title above the headings, blank formatted rows at the end,
    # numbers typed with a Chinese input method.
    df = table_of(builders.schools())
    df["班级数"] = ["２４", "18", "3", "30"]
    df["在校生数"] = ["1，080", "900", "60", "1500"]
    path = tmp_path / "学校.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame([["道县中小学基本情况表(2024年)"], ["填报单位: 教育局"]]).to_excel(
            xl, sheet_name="Sheet1", index=False, header=False
        )
        df.to_excel(xl, sheet_name="Sheet1", index=False, startrow=3)
        pd.DataFrame([[None] * 3] * 3).to_excel(
            xl, sheet_name="Sheet1", index=False, header=False, startrow=3 + len(df) + 1
        )
    layers, report = load(
        schools=path, population=f"{county}:population", boundary=f"{county}:boundary"
    )
    # headings in spreadsheet row 4, so S01 is row 5
    assert_mini_schools(layers, first_row=5)
    assert [p.code for p in report.problems if p.file == "学校.xlsx"] == ["header_row"]


def test_xlsx_sheet_by_number_and_rows_after_a_blank_row(tmp_path, county):
    df = table_of(builders.schools())
    with_gap = pd.concat([df.iloc[:2], pd.DataFrame([{}]), df.iloc[2:]], ignore_index=True)
    path = tmp_path / "s.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"a": [1]}).to_excel(xl, sheet_name="说明", index=False)
        with_gap.to_excel(xl, sheet_name="数据", index=False)
    spec = {
        "schools": {"file": "s.xlsx", "sheet": 1},
        "population": {"file": county.name, "layer": "population"},
        "boundary": {"file": county.name, "layer": "boundary"},
    }
    (tmp_path / "project.toml").write_text(builders.project_toml(spec), encoding="utf-8")
    layers, _ = load(tmp_path / "project.toml")
    rows = dict(zip(layers.schools["school_id"], layers.schools["src_row"]))
    assert rows == {"S01": 2, "S02": 3, "S03": 5, "S04": 6}  # row 4 is blank
