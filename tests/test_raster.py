"""Population rasters: every person inside the boundary is counted once, in one cell."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from core.errors import InputError
from geo.raster import population_from_raster


def _write(path, data, *, crs="EPSG:4326", west=111.50, north=25.60, px=0.001, nodata=-1.0):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=data.shape[0],
        width=data.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(west, north, px, px),
        nodata=nodata,
    ) as dst:
        dst.write(data.astype("float32"), 1)
    return path


def _boundary(west=111.50, north=25.60, w=0.05, h=0.04):
    b = gpd.GeoDataFrame(geometry=[box(west, north - h, west + w, north)], crs="EPSG:4326")
    return b.to_crs("EPSG:32649")


def test_totals_kept_and_cells_aggregated(tmp_path):
    rng = np.random.default_rng(7)
    data = rng.uniform(0, 30, size=(40, 50))
    data[0, 0] = -1.0  # nodata
    data[5, 5] = 0.0
    path = _write(tmp_path / "pop.tif", data)
    res = population_from_raster(path, _boundary(), 500)
    expected = data[data > 0].sum()
    # Pixels whose centre falls outside the reprojected box are the only people left out.
    assert res.total + res.outside == pytest.approx(expected, rel=1e-9)
    assert res.units["population"].sum() == pytest.approx(res.total, rel=1e-12)
    assert res.outside < 0.05 * expected
    assert len(res.units) < 40 * 50 / 4
    assert res.units["unit_id"].is_unique
    assert (res.units["kind"] == "cell").all()
    assert res.units.crs == "EPSG:32649"


def test_same_answer_twice_and_sorted_ids(tmp_path):
    data = np.arange(40 * 50, dtype=float).reshape(40, 50) % 17
    path = _write(tmp_path / "pop.tif", data)
    a = population_from_raster(path, _boundary(), 300).units
    b = population_from_raster(path, _boundary(), 300).units
    assert a.equals(b)
    assert a["unit_id"].tolist() == sorted(a["unit_id"])


def test_raster_outside_the_county_is_refused(tmp_path):
    path = _write(tmp_path / "pop.tif", np.ones((10, 10)), west=100.0, north=30.0)
    with pytest.raises(InputError, match="no people inside"):
        population_from_raster(path, _boundary(), 500)


def test_not_a_raster_is_named(tmp_path):
    bad = tmp_path / "pop.tif"
    bad.write_bytes(b"not a tiff")
    with pytest.raises(InputError) as err:
        population_from_raster(bad, _boundary(), 500)
    assert err.value.problems[0].file == "pop.tif"
