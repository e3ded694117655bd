"""The Arrow reading path and pending shapes give exactly what the row reader and to_crs gave.

``geo.read`` reads vector layers through GDAL's columnar reader and keeps plain point and line
layers as coordinates until the metric CRS is known; these tests compare both shortcuts with the
plain ``pyogrio.read_dataframe`` + ``GeoDataFrame.to_crs`` they replace, value for value.
"""

from __future__ import annotations

import gc
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, Point, box

from geo.layers import LayerSource
from geo.project import load_layers, make_config
from geo.read import PendingLayer, _read_arrow, as_frame, read_layer
from planning.rules import Rules
from tests import builders

LINES = [LineString([(111.55 + i * 0.01, 25.45), (111.56 + i * 0.01, 25.46)]) for i in range(4)]


def _frame(geoms, **columns) -> gpd.GeoDataFrame:
    n = len(geoms)
    data = {"道路等级": ["县道", None, " 乡道 ", "国道"][:n] * (n // 4 + 1)}
    data["道路等级"] = data["道路等级"][:n]
    data["设计速度"] = [40, 30, None, 60][:n] * (n // 4 + 1)
    data["设计速度"] = data["设计速度"][:n]
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4326")


CASES = {
    "points": ("gpkg", [Point(111.6, 25.5), Point(111.61, 25.51), None, Point(111.7, 25.6)]),
    "two_point_lines": ("gpkg", LINES),
    "lines_of_any_length": (
        "gpkg",
        [*LINES[:3], LineString([(111.6, 25.5), (111.61, 25.5), (111.62, 25.52)])],
    ),
    "lines_and_multilines": (
        "gpkg",
        [
            *LINES[:3],
            MultiLineString([[(111.6, 25.5), (111.61, 25.5)], [(111.7, 25.6), (111.8, 25.7)]]),
        ],
    ),
    "lines_with_z": ("gpkg", [LineString([(111.5, 25.4, 1.0), (111.6, 25.5, 2.0)])] * 4),
    "polygons": ("gpkg", [box(111.5 + i / 100, 25.4, 111.51 + i / 100, 25.41) for i in range(4)]),
    "null_line": ("geojson", [*LINES[:3], None]),
    "fgb_points": ("fgb", [Point(111.6, 25.5), Point(111.61, 25.51), Point(111.7, 25.6)] * 2),
    "shp_lines": ("shp", LINES),
}


def _write(tmp_path: Path, name: str) -> Path:
    ext, geoms = CASES[name]
    gdf = _frame(geoms, 备注=[None] * len(geoms))
    path = tmp_path / f"{name}.{ext}"
    gdf.to_file(path, **({"encoding": "gbk"} if ext == "shp" else {}))  # GBK names fit 10 bytes
    return path


def _assert_same_frame(got: gpd.GeoDataFrame, want: gpd.GeoDataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert got.geometry.name == want.geometry.name
    assert got.crs == want.crs
    pd.testing.assert_frame_equal(
        pd.DataFrame(got.drop(columns=got.geometry.name)),
        pd.DataFrame(want.drop(columns=want.geometry.name)),
        check_exact=True,
    )
    assert list(shapely.to_wkb(np.asarray(got.geometry.values))) == list(
        shapely.to_wkb(np.asarray(want.geometry.values))
    )


@pytest.mark.parametrize("name", list(CASES))
def test_arrow_frame_equals_the_row_reader(tmp_path, name):
    path = _write(tmp_path, name)
    fast = _read_arrow(path, None)
    assert fast is not None, "this format is read through Arrow"
    _assert_same_frame(as_frame(fast), pyogrio.read_dataframe(path))


@pytest.mark.parametrize("name", list(CASES))
def test_pending_to_crs_equals_geopandas_to_crs(tmp_path, name):
    path = _write(tmp_path, name)
    fast = _read_arrow(path, None)
    want = pyogrio.read_dataframe(path).to_crs("EPSG:32649")
    _assert_same_frame(fast.to_crs("EPSG:32649"), want)


def test_plain_points_and_lines_stay_pending(tmp_path):
    assert isinstance(_read_arrow(_write(tmp_path, "points"), None), PendingLayer)
    assert isinstance(_read_arrow(_write(tmp_path, "two_point_lines"), None), PendingLayer)
    assert isinstance(_read_arrow(_write(tmp_path, "lines_of_any_length"), None), PendingLayer)
    # anything else is built by shapely.from_wkb at once
    assert isinstance(_read_arrow(_write(tmp_path, "lines_and_multilines"), None), gpd.GeoDataFrame)
    assert isinstance(_read_arrow(_write(tmp_path, "lines_with_z"), None), gpd.GeoDataFrame)


def test_public_read_layer_still_gives_a_geodataframe(tmp_path):
    path = _write(tmp_path, "two_point_lines")
    src = LayerSource(key="roads", file=path)
    gdf = read_layer(src, [])
    assert isinstance(gdf, gpd.GeoDataFrame)
    _assert_same_frame(gdf, pyogrio.read_dataframe(path))


def test_broken_arrow_data_falls_back_to_the_row_reader(tmp_path):
    # GDAL writes inconsistent Arrow offsets for a FlatGeobuf holding empty shapes.
    gdf = _frame([*LINES[:2], None, LineString()])
    path = tmp_path / "roads.fgb"
    gdf.to_file(path, driver="FlatGeobuf", SPATIAL_INDEX="NO")
    assert _read_arrow(path, None) is None
    toml = builders.write_project(tmp_path, specs={"roads": {"file": "roads.fgb"}})
    _, report = load_layers(make_config(toml), Rules().standards)
    assert [p.code for p in report.problems] == ["empty_geometry", "empty_geometry"]
    assert [p.row for p in report.problems] == [3, 4]


def test_shapefile_without_cpg_keeps_the_row_reader_and_its_guess(tmp_path):
    builders.schools().to_file(tmp_path / "schools.shp", encoding="gbk")
    (tmp_path / "schools.cpg").unlink()
    county = builders.write_layers(tmp_path / "c")
    cfg = make_config(
        None,
        {
            "schools": str(tmp_path / "schools.shp"),
            "population": f"{county}:population",
            "boundary": f"{county}:boundary",
        },
    )
    layers, report = load_layers(cfg, Rules().standards)
    assert [p.code for p in report.problems] == ["encoding_guessed"]
    assert set(layers.schools["name"]) == {"城关一小", "城关中学", "桥头村小", "县一中"}


def test_loading_leaves_the_cycle_collector_as_it_was(tmp_path):
    toml = builders.write_project(tmp_path)
    assert gc.isenabled()
    load_layers(make_config(toml), Rules().standards)
    assert gc.isenabled()
    gc.disable()
    try:
        load_layers(make_config(toml), Rules().standards)
        assert not gc.isenabled()
    finally:
        gc.enable()


def _wkb_layer(wkb: list[bytes | None]) -> PendingLayer | None:
    import pyarrow as pa

    return PendingLayer.from_wkb(
        pd.DataFrame(index=range(len(wkb))), pa.array(wkb, pa.binary()), None
    )


def test_unusual_wkb_is_left_to_shapely():
    line = shapely.to_wkb(LINES[0])
    assert _wkb_layer([line, line]) is not None
    assert _wkb_layer([shapely.to_wkb(LINES[0], byte_order=0)] * 2) is None  # big-endian
    assert _wkb_layer([line, shapely.to_wkb(Point(1, 2))]) is None  # mixed kinds
    assert _wkb_layer([line, shapely.to_wkb(LineString())]) is None  # empty line
    assert _wkb_layer([shapely.to_wkb(Point(np.nan, np.nan))]) is None  # POINT EMPTY
    assert _wkb_layer([line, b""]) is None  # not WKB at all
    nulls = _wkb_layer([None, line, None])
    assert list(nulls.counts) == [0, 2, 0]


coords = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 4), min_size=1, max_size=12),
    data=st.data(),
    target=st.sampled_from(["EPSG:32649", "EPSG:4547", "EPSG:3857"]),
)
def test_pending_lines_equal_geopandas_on_random_lines(sizes, data, target):
    """Rows of 0 (null), or 2-4 points in a projected CRS; the same shapes and coordinates."""
    geoms = []
    for n in sizes:
        if n < 2:
            geoms.append(None)
            continue
        pts = data.draw(st.lists(st.tuples(coords, coords), min_size=n, max_size=n))
        geoms.append(LineString(pts))
    want = gpd.GeoDataFrame({"a": range(len(geoms))}, geometry=geoms, crs="EPSG:32649")
    import pyarrow as pa

    wkb = pa.array([None if g is None else shapely.to_wkb(g) for g in geoms], pa.binary())
    pending = PendingLayer.from_wkb(pd.DataFrame({"a": range(len(geoms))}), wkb, want.crs)
    if all(g is None for g in geoms):
        assert pending is None
        return
    _assert_same_frame(pending.to_frame(), want)
    _assert_same_frame(pending.to_crs(target), want.to_crs(target))
