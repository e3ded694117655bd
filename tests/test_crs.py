"""geo.crs: metric CRS choice and the GCJ-02 / BD-09 conversions against published reference pairs."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from core.errors import InputError, ProjectError
from geo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    cgcs2000_gk3_epsg,
    choose_metric_crs,
    convert_points,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    to_metric,
    utm_epsg,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

FORWARD_TOL_DEG = 1e-6
INVERSE_TOL_M = 0.5


def metres_apart(lon1, lat1, lon2, lat2) -> float:
    """Great-circle distance; plenty for sub-metre comparisons."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


# --- reference pairs ---------------------------------------------------------------------------

# (wgs_lon, wgs_lat, gcj_lon, gcj_lat). Source: googollee/eviltransform, python/test.py (TESTS,
# given there as lat, lng; same three in go/transform_test.go): Shanghai, Shenzhen, Beijing.
EVILTRANSFORM_WGS_GCJ = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]

# Source: hujiulong/gcoord, test/unit/crs/WGS84.spec.ts, GCJ02.spec.ts, BD09.spec.ts — one point
# [123, 45] pushed through every transform.
GCOORD_123_45 = {
    "wgs84_to_gcj02": (123.00607541, 45.00197815),
    "wgs84_to_bd09": (123.0124491, 45.0083293),
    "gcj02_to_bd09": (123.00636499, 45.00636899),
    "gcj02_to_wgs84": (122.99395597, 44.99804071),
    "bd09_to_gcj02": (122.99363304, 44.99365430),
    "bd09_to_wgs84": (122.98762210, 44.99171540),
}

# (gcj_lon, gcj_lat, bd_lon, bd_lat). Source: hujiulong/gcoord, test/fixtures/china-cities.json
# ("GCJ02" and "BD09" of 邵阳市, 永州市, 郴州市 in Hunan near Dao County, plus 那曲, 沈阳, 钦州,
# 锡林浩特 for the edges of the country). The same file's "WGS84" values sit a systematic ~0.5 m
# from the published formula (gcoord itself checks them to 4 decimals only), so they are not used.
GCOORD_CITIES_GCJ_BD = [
    (111.4677938, 27.2388981, 111.4742271, 27.2451662),  # 邵阳市
    (111.6134459, 26.4203993, 111.6199025, 26.4266586),  # 永州市
    (113.014722, 25.7705143, 113.0211835, 25.7765929),  # 郴州市
    (92.0512438, 31.4762063, 92.0576832, 31.4824421),  # 那曲地区
    (123.4314787, 41.8057023, 123.438095, 41.8114013),  # 沈阳市
    (108.6541485, 21.9799392, 108.6607283, 21.9856319),  # 钦州市
    (116.0482308, 43.9334573, 116.0546232, 43.9397782),  # 锡林郭勒盟
]
# The fixture is rounded to 7 decimals, so a forward agreement of 1e-6° is meaningful.


@pytest.mark.parametrize(("w_lon", "w_lat", "g_lon", "g_lat"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(w_lon, w_lat, g_lon, g_lat):
    lon, lat = wgs84_to_gcj02(w_lon, w_lat)
    assert abs(lon - g_lon) < FORWARD_TOL_DEG and abs(lat - g_lat) < FORWARD_TOL_DEG


@pytest.mark.parametrize(("w_lon", "w_lat", "g_lon", "g_lat"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_matches_eviltransform(w_lon, w_lat, g_lon, g_lat):
    lon, lat = gcj02_to_wgs84(g_lon, g_lat)
    assert metres_apart(lon, lat, w_lon, w_lat) < INVERSE_TOL_M


@pytest.mark.parametrize("name", sorted(GCOORD_123_45))
def test_gcoord_point_123_45(name):
    func = globals()[name]
    src = (123.0, 45.0)
    lon, lat = func(*src)
    ref_lon, ref_lat = GCOORD_123_45[name]
    if name in ("wgs84_to_gcj02", "wgs84_to_bd09", "gcj02_to_bd09"):
        assert abs(lon - ref_lon) < FORWARD_TOL_DEG and abs(lat - ref_lat) < FORWARD_TOL_DEG
    else:
        assert metres_apart(lon, lat, ref_lon, ref_lat) < INVERSE_TOL_M


@pytest.mark.parametrize(("g_lon", "g_lat", "b_lon", "b_lat"), GCOORD_CITIES_GCJ_BD)
def test_gcj02_bd09_match_gcoord_cities(g_lon, g_lat, b_lon, b_lat):
    lon, lat = gcj02_to_bd09(g_lon, g_lat)
    assert abs(lon - b_lon) < FORWARD_TOL_DEG and abs(lat - b_lat) < FORWARD_TOL_DEG
    lon, lat = bd09_to_gcj02(b_lon, b_lat)
    assert metres_apart(lon, lat, g_lon, g_lat) < INVERSE_TOL_M


def test_vectorised_equals_scalar_calls():
    w = np.array(EVILTRANSFORM_WGS_GCJ)
    for func in (
        wgs84_to_gcj02,
        gcj02_to_wgs84,
        gcj02_to_bd09,
        bd09_to_gcj02,
        wgs84_to_bd09,
        bd09_to_wgs84,
    ):
        lon, lat = func(w[:, 0], w[:, 1])
        assert isinstance(lon, np.ndarray) and lon.shape == (3,)
        for i in range(3):
            s_lon, s_lat = func(float(w[i, 0]), float(w[i, 1]))
            assert isinstance(s_lon, float)
            # bit-identical: a point's result must not depend on the rest of the batch
            assert (s_lon, s_lat) == (lon[i], lat[i])


def test_arrays_mixing_inside_and_outside_china():
    lon = np.array([121.5272106, 2.35, 151.2])  # Shanghai, Paris, Sydney
    lat = np.array([31.1774276, 48.85, -33.9])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert abs(g_lon[0] - EVILTRANSFORM_WGS_GCJ[0][2]) < FORWARD_TOL_DEG
    assert np.array_equal(g_lon[1:], lon[1:]) and np.array_equal(g_lat[1:], lat[1:])
    # inputs are not modified in place
    assert lon[0] == 121.5272106


def test_inverse_is_iterated_not_one_step():
    # The one-step approximation (gcj - delta(gcj)) misses by ~1 m; the iteration must not.
    g_lon, g_lat = 121.531541859215, 31.17530398364597
    lon, lat = gcj02_to_wgs84(g_lon, g_lat)
    back_lon, back_lat = wgs84_to_gcj02(lon, lat)
    assert abs(back_lon - g_lon) < 1e-7 and abs(back_lat - g_lat) < 1e-7
    fwd_lon, fwd_lat = wgs84_to_gcj02(g_lon, g_lat)
    one_step = (2 * g_lon - fwd_lon, 2 * g_lat - fwd_lat)
    assert metres_apart(*one_step, lon, lat) > 0.05  # the two really differ here


# --- properties ------------------------------------------------------------------------------

# Inside the rectangle with a margin larger than any shift, so the round trip stays inside.
china_lon = st.floats(73.0, 136.5, allow_nan=False)
china_lat = st.floats(1.5, 55.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_round_trip_wgs_gcj(lon, lat):
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert (g_lon, g_lat) != (lon, lat)
    b_lon, b_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert abs(b_lon - lon) < 1e-7 and abs(b_lat - lat) < 1e-7
    # and the other way round
    w_lon, w_lat = gcj02_to_wgs84(lon, lat)
    f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
    assert abs(f_lon - lon) < 1e-7 and abs(f_lat - lat) < 1e-7


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_round_trip_bd(lon, lat):
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    w_lon, w_lat = bd09_to_wgs84(b_lon, b_lat)
    assert abs(w_lon - lon) < 1e-7 and abs(w_lat - lat) < 1e-7
    g_lon, g_lat = bd09_to_gcj02(lon, lat)
    f_lon, f_lat = gcj02_to_bd09(g_lon, g_lat)
    assert abs(f_lon - lon) < 1e-7 and abs(f_lat - lat) < 1e-7


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=50))
def test_round_trip_arrays(points):
    arr = np.array(points)
    g_lon, g_lat = wgs84_to_gcj02(arr[:, 0], arr[:, 1])
    b_lon, b_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert np.max(np.abs(b_lon - arr[:, 0])) < 1e-7 and np.max(np.abs(b_lat - arr[:, 1])) < 1e-7


outside_china = st.one_of(
    st.tuples(st.floats(-180, 72.0), st.floats(-90, 90)),
    st.tuples(st.floats(137.84, 180), st.floats(-90, 90)),
    st.tuples(st.floats(-180, 180), st.floats(-90, 0.8292)),
    st.tuples(st.floats(-180, 180), st.floats(55.8272, 90)),
)


@settings(max_examples=200, deadline=None)
@given(outside_china)
def test_outside_china_unchanged(point):
    lon, lat = point
    assert not in_china(lon, lat)
    for func in (
        wgs84_to_gcj02,
        gcj02_to_wgs84,
        gcj02_to_bd09,
        bd09_to_gcj02,
        wgs84_to_bd09,
        bd09_to_wgs84,
    ):
        assert func(lon, lat) == (lon, lat)


# --- convert_points --------------------------------------------------------------------------


def test_convert_points_gcj02_and_bd09_to_wgs84():
    gcj = gpd.GeoDataFrame(
        {"name": ["上海", "深圳", "北京"]},
        geometry=[Point(g_lon, g_lat) for _, _, g_lon, g_lat in EVILTRANSFORM_WGS_GCJ],
        crs="EPSG:4326",
    )
    out = convert_points(gcj, "GCJ-02")
    assert list(out["name"]) == ["上海", "深圳", "北京"] and out.crs == gcj.crs
    for geom, (w_lon, w_lat, _, _) in zip(out.geometry, EVILTRANSFORM_WGS_GCJ, strict=True):
        assert metres_apart(geom.x, geom.y, w_lon, w_lat) < INVERSE_TOL_M
    # the input is left alone
    assert gcj.geometry.iloc[0].x == EVILTRANSFORM_WGS_GCJ[0][2]

    bd = gpd.GeoDataFrame(
        geometry=[Point(b_lon, b_lat) for *_, b_lon, b_lat in GCOORD_CITIES_GCJ_BD], crs=4326
    )
    out = convert_points(bd, "bd09")
    expect_lon, expect_lat = gcj02_to_wgs84(*np.array(GCOORD_CITIES_GCJ_BD)[:, :2].T)
    assert np.allclose(out.geometry.x, expect_lon, atol=1e-7)
    assert np.allclose(out.geometry.y, expect_lat, atol=1e-7)


def test_convert_points_wgs84_is_a_copy_and_polygons_convert_vertexwise():
    square = Polygon([(111.6, 25.5), (111.61, 25.5), (111.61, 25.51), (111.6, 25.51)])
    gdf = gpd.GeoDataFrame(geometry=[square, None], crs="EPSG:4326")
    same = convert_points(gdf, "wgs84")
    assert same is not gdf and same.geometry.iloc[0].equals(square)
    out = convert_points(gdf, "gcj02")
    xs, ys = np.asarray(out.geometry.iloc[0].exterior.coords).T
    exp_lon, exp_lat = gcj02_to_wgs84(*np.asarray(square.exterior.coords).T)
    assert np.allclose(xs, exp_lon, atol=1e-12) and np.allclose(ys, exp_lat, atol=1e-12)
    assert out.geometry.iloc[1] is None


def test_convert_points_refuses_projected_or_unknown_input():
    projected = gpd.GeoDataFrame(geometry=[Point(561000, 2821000)], crs="EPSG:32649")
    with pytest.raises(InputError) as err:
        convert_points(projected, "gcj02")
    assert "longitude/latitude" in str(err.value) and "EPSG:4326" in err.value.fix
    with pytest.raises(InputError):
        convert_points(gpd.GeoDataFrame(geometry=[Point(111.6, 25.5)]), "gcj02")
    mislabelled = gpd.GeoDataFrame(geometry=[Point(561000, 2821000)], crs="EPSG:4326")
    with pytest.raises(InputError, match="not longitude/latitude"):
        convert_points(mislabelled, "gcj02")
    with pytest.raises(InputError) as err:
        convert_points(gpd.GeoDataFrame(geometry=[Point(111.6, 25.5)], crs=4326), "mars")
    assert "gcj02" in err.value.fix


# --- metric CRS ------------------------------------------------------------------------------

DAO_COUNTY = (111.6, 25.5)


def test_dao_county_gets_utm_49n():
    pts = gpd.GeoDataFrame(geometry=[Point(111.4, 25.3), Point(111.8, 25.7)], crs="EPSG:4326")
    assert choose_metric_crs(pts).to_epsg() == 32649
    assert choose_metric_crs((111.4, 25.3, 111.8, 25.7)).to_epsg() == 32649
    # a layer already projected elsewhere is located through WGS 84
    assert choose_metric_crs(pts.to_crs("EPSG:4547")).to_epsg() == 32649


def test_southern_hemisphere_gets_327xx():
    crs = choose_metric_crs((151.1, -33.95, 151.3, -33.8))  # Sydney
    assert crs.to_epsg() == 32756
    assert utm_epsg(-70.6, -33.4) == 32719  # Santiago


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [(113.99, 30.0, 32649), (114.0, 30.0, 32650), (-179.9, 10.0, 32601), (179.9, 10.0, 32660)],
)
def test_utm_zone_edges(lon, lat, epsg):
    assert utm_epsg(lon, lat) == epsg
    # the zone really covers the point according to the EPSG database
    aou = pyproj.CRS.from_epsg(epsg).area_of_use
    assert aou.west <= lon <= aou.east


@pytest.mark.parametrize("declared", ["EPSG:4526", "EPSG:4547", "epsg:32649"])
def test_declared_metric_crs_is_used(declared):
    crs = choose_metric_crs(DAO_COUNTY * 2, declared=declared)
    assert crs == pyproj.CRS.from_user_input(declared)
    # the data is not needed when the project declares its CRS
    assert choose_metric_crs(None, declared=declared) == crs


def test_declared_geographic_crs_is_refused_with_a_concrete_fix():
    with pytest.raises(ProjectError) as err:
        choose_metric_crs(DAO_COUNTY * 2, declared="EPSG:4326")
    assert "geographic" in str(err.value) and "EPSG:4326" in str(err.value)
    assert "EPSG:4546" in err.value.fix and "EPSG:32649" in err.value.fix  # CM 111E and UTM 49N
    with pytest.raises(ProjectError) as err:
        choose_metric_crs(None, declared="EPSG:4490")  # CGCS2000 lon/lat, no data known
    assert "EPSG:4547" in err.value.fix


def test_declared_non_metre_or_unknown_crs_is_refused():
    with pytest.raises(ProjectError, match="metres"):
        choose_metric_crs(DAO_COUNTY * 2, declared="EPSG:2249")  # US survey feet
    with pytest.raises(ProjectError, match="not a coordinate reference system"):
        choose_metric_crs(DAO_COUNTY * 2, declared="EPSG:99999999")


def test_data_without_crs_or_position_is_refused():
    with pytest.raises(InputError):
        choose_metric_crs(gpd.GeoDataFrame(geometry=[Point(111.6, 25.5)]))
    with pytest.raises(InputError, match="not a valid longitude/latitude"):
        choose_metric_crs((561000, 2821000, 562000, 2822000))
    with pytest.raises(InputError):
        choose_metric_crs(gpd.GeoDataFrame(geometry=[], crs=4326))
    with pytest.raises(InputError):
        choose_metric_crs(None)


@settings(max_examples=60, deadline=None)
@given(st.floats(73.5, 135.0))
def test_cgcs2000_suggestion_matches_epsg_names(lon):
    code = cgcs2000_gk3_epsg(lon)
    cm = math.floor((lon + 1.5) / 3) * 3
    crs = pyproj.CRS.from_epsg(code)
    assert crs.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"
    assert abs(lon - cm) <= 1.5


def test_to_metric_projects_and_keeps_distances():
    # UTM scale at 0.6° from the central meridian is 0.99964, so a projected distance agrees with
    # the ellipsoidal one to better than 0.1 %.
    pts = gpd.GeoDataFrame(geometry=[Point(111.6, 25.5), Point(111.6, 25.51)], crs="EPSG:4326")
    crs = choose_metric_crs(pts)
    out = to_metric(pts, crs)
    assert out.crs == crs
    d = out.geometry.iloc[0].distance(out.geometry.iloc[1])
    _, _, geodesic = pyproj.Geod(ellps="WGS84").inv(111.6, 25.5, 111.6, 25.51)
    assert d == pytest.approx(geodesic, rel=1e-3)
    assert to_metric(out, crs) is out
    with pytest.raises(InputError):
        to_metric(gpd.GeoDataFrame(geometry=[Point(0, 0)]), crs)
