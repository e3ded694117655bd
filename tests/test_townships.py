"""Township boundaries (issue 17): a given [layers.townships] layer, or areas approximated from
the units' town column (geo.townships), carried by the plan into plan.gpkg and onto the maps."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import Point, box

from core.vocab import TOWNSHIP_SOURCE
from geo.townships import derive_townships, township_areas
from planning.project import load_project
from tests import builders
from tests.builders import X0, Y0, boundary_layer, unit_layer

# Three townships of villages in a 10 km square: west (西镇), north-east (北乡), south-east (南镇).
TOWN_XY = {
    "西镇": [(1000, 2000), (2000, 5000), (3000, 8000), (1500, 9000), (2500, 1000)],
    "北乡": [(6000, 6000), (8000, 9000), (9000, 7000), (7000, 8000)],
    "南镇": [(6000, 2000), (8000, 1000), (9000, 4000), (7000, 3500)],
}


def _units(order=None):
    rows = [(t, xy) for t, pts in TOWN_XY.items() for xy in pts]
    if order is not None:
        rows = [rows[i] for i in order]
    recs = [{"unit_id": f"U{i}", "name": f"{t}{i}村", "town": t} for i, (t, _) in enumerate(rows)]
    return unit_layer(recs, [xy for _, xy in rows])


def test_derived_townships_tile_the_boundary_with_their_villages_inside():
    bnd = boundary_layer()
    towns = derive_townships(_units(), bnd)
    assert towns is not None
    assert list(towns["name"]) == sorted(TOWN_XY) and set(towns["source"]) == {"derived"}
    county = bnd.geometry.iloc[0]
    union = shapely.union_all(towns.geometry.values)
    assert union.symmetric_difference(county).area < 1.0  # no gap, nothing outside
    assert abs(towns.area.sum() - county.area) < 1.0  # no overlap
    for name, shape in zip(towns["name"], towns.geometry, strict=True):
        for x, y in TOWN_XY[name]:
            assert shape.contains(Point(X0 + x, Y0 + y)), (name, x, y)


def test_villages_in_the_middle_still_give_townships_reaching_the_county_edge():
    # the villages span 2 km of a 10 km county: the cells must be extended to the boundary
    xy = [(4000, 4000), (4500, 5500), (5500, 4200), (6000, 6000)]
    recs = [{"unit_id": f"U{i}", "town": t} for i, t in enumerate(["甲", "甲", "乙", "乙"])]
    bnd = boundary_layer()
    towns = derive_townships(unit_layer(recs, xy), bnd)
    assert towns is not None and list(towns["name"]) == ["乙", "甲"]
    assert abs(towns.area.sum() - bnd.area.iloc[0]) < 1.0


def test_derivation_does_not_depend_on_the_row_order():
    bnd = boundary_layer()
    first = derive_townships(_units(), bnd)
    n = sum(map(len, TOWN_XY.values()))
    shuffled = derive_townships(_units(np.random.default_rng(7).permutation(n)), bnd)
    assert first is not None and shuffled is not None
    assert list(first["name"]) == list(shuffled["name"])
    assert first.geometry.to_wkb().tolist() == shuffled.geometry.to_wkb().tolist()


def test_no_town_column_values_no_townships():
    units = _units()
    units["town"] = ""
    assert derive_townships(units, boundary_layer()) is None
    assert len(township_areas(None, units, boundary_layer())) == 0


def test_a_given_layer_wins_over_the_derivation():
    bnd = boundary_layer()
    given = gpd.GeoDataFrame(
        {"name": ["全县镇"], "source": ["given"]}, geometry=[bnd.geometry.iloc[0]], crs=bnd.crs
    )
    out = township_areas(given, _units(), bnd)
    assert list(out["name"]) == ["全县镇"] and list(out["source"]) == ["given"]


# --- the townships layer of a project ------------------------------------------------------------

W, E = builders.LON0, builders.LON1
MID = (W + E) / 2


def _townships_file(folder, gdf, name="towns.gpkg"):
    path = folder / name
    gdf.to_file(path, layer="townships", driver="GPKG")
    return {"townships": {"file": name, "layer": "townships"}}


def _halves(**columns):
    shapes = [box(W, builders.LAT0, MID, builders.LAT1), box(MID, builders.LAT0, E, builders.LAT1)]
    return gpd.GeoDataFrame(columns, geometry=shapes, crs="EPSG:4326")


def test_a_given_townships_layer_is_read_with_its_chinese_name_column(tmp_path):
    # two rows of one township are one area; names sorted
    gdf = _halves(乡镇名称=["桥头乡", "城关镇"])
    toml = builders.write_project(tmp_path, specs=_townships_file(tmp_path, gdf))
    layers, _, report = load_project(toml)
    towns = layers.townships
    assert list(towns["name"]) == ["城关镇", "桥头乡"] and set(towns["source"]) == {"given"}
    assert towns.crs == layers.crs and report.counts["townships"] == 2


@pytest.mark.parametrize(
    "case, code",
    [("points", "wrong_geometry"), ("no_name", "missing_column"), ("no_crs", "unreadable")],
)
def test_bad_townships_layer_is_a_warning_with_file_and_fix_and_the_plan_goes_on(
    tmp_path, case, code
):
    if case == "points":
        gdf = gpd.GeoDataFrame({"乡镇": ["城关镇"]}, geometry=[Point(111.6, 25.5)], crs="EPSG:4326")
    elif case == "no_name":
        gdf = _halves(面积=[1.0, 2.0])
    else:
        gdf = _halves(乡镇=["桥头乡", "城关镇"]).set_crs(None, allow_override=True)
    toml = builders.write_project(tmp_path, specs=_townships_file(tmp_path, gdf))
    layers, _, report = load_project(toml)  # usable: raises otherwise
    assert layers.townships is None
    found = [p for p in report.problems if p.code == code and p.file == "towns.gpkg"]
    assert found and all(p.severity == "warning" and p.fix for p in found)
    if case == "points":
        assert found[0].row == 1


# --- the sample county: plan.gpkg and the maps ---------------------------------------------------


def test_sample_county_plan_gpkg_has_one_township_per_town(sample_layers, sample_plan):
    layers = sample_layers[0]
    result, out = sample_plan
    n_towns = layers.units["town"].nunique()
    assert n_towns == 22
    saved = pyogrio.read_dataframe(out / "plan.gpkg", layer="townships")
    assert len(saved) == len(result.townships) == n_towns
    assert sorted(saved["name"]) == sorted(layers.units["town"].unique())
    assert set(saved["source"]) == {"derived"}
    county = result.boundary.geometry.iloc[0]
    assert abs(result.townships.area.sum() - county.area) < 1e-6 * county.area


def test_print_map_draws_the_township_borders_and_their_legend(sample_plan):
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.colors import to_hex
    from matplotlib.figure import Figure

    from app.export import printmap
    from app.export import symbology as sym

    result, _ = sample_plan
    with rc_context(printmap.print_rc()):
        fig = Figure(figsize=printmap._paper("A4"), dpi=72)
        FigureCanvasAgg(fig)
        stats = printmap._draw_page(
            fig, result, lang="zh", paper="A4", level=None, zone_level="primary"
        )
    assert stats["townships"] == 22
    ax = next(a for a in fig.axes if a.get_label() == "map")
    lines = [
        c
        for c in ax.collections
        if isinstance(c, PathCollection)
        and len(c.get_edgecolor())
        and to_hex(c.get_edgecolor()[0]) == sym.TOWNSHIP_COLOR.lower()
    ]
    assert len(lines) == 1 and len(lines[0].get_paths()) == 1  # one compound path
    assert len(lines[0].get_paths()[0].vertices) > 22
    legend = next(a for a in fig.axes if a.get_label() == "panel").get_legend()
    assert TOWNSHIP_SOURCE.label("derived") in [t.get_text() for t in legend.get_texts()]


def test_html_map_has_a_township_layer_and_legend_entry(sample_plan):
    from app.export.mapbuilder import build_payload

    result, _ = sample_plan
    for lang in ("zh", "en"):
        payload = build_payload(result, lang=lang)
        tw = payload["townships"]
        assert tw["count"] == 22 and tw["name"] == TOWNSHIP_SOURCE.label("derived", lang)
        assert tw["data"]["features"] and tw["name"] in payload["legendHtml"]
        assert len(payload["towns"]) == 22


def test_names_sit_inside_the_given_townships(sample_plan):
    from app.export import symbology as sym

    result, _ = sample_plan
    given = result.townships.assign(source="given")
    points = sym.town_points(result.demand, given)
    assert [n for n, _, _ in points] == sorted(given["name"])
    for (name, x, y), shape in zip(points, given.sort_values("name").geometry, strict=True):
        assert shape.contains(Point(x, y)), name
    assert sym.township_label(given, "zh") == TOWNSHIP_SOURCE.label("given")


@pytest.mark.slow  # draws the sample's four print pages
def test_township_names_step_aside_from_school_names_and_symbols(sample_plan, tmp_path):
    """The middle of a township is often its central school: the name moves to a spot nearby,
    inside its township, that the school names and symbols leave free (2 of 22 names are readable
    when they keep their middles)."""
    from app.export.printmap import render_print

    stats: list = []
    render_print(sample_plan[0], pdf=tmp_path / "map.pdf", stats=stats)
    overview = stats[0]
    assert overview["towns"] == sample_plan[0].demand["town"].nunique() == 22
    assert overview["towns_clear"] >= 0.75 * overview["towns"], overview
