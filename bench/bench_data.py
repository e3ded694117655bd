"""Planning from what data there is, at scale (issue 16): time and peak memory of

- ``raster``: a population raster of 1,000 × 1,000 pixels (100 m) summed into 500 m cells;
- ``polygons``: the sample county planned with its villages replaced by 135 census-tract
  polygons (squares holding the villages' people), against the same plan on the villages;
- ``province``: the 30-county generated province planned in one project (load + plan).

- ``polygons_bare``: the same without candidate sites and senior high schools (siting among
  samples of the tracts);

Run:  .venv/bin/python bench/bench_data.py [raster,polygons,polygons_bare,province]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import RssSampler, mb, row  # noqa: E402
from bench.instances import cached_project  # noqa: E402
from geo.layers import Layers  # noqa: E402
from geo.raster import population_from_raster  # noqa: E402
from planning.pipeline import run_plan  # noqa: E402
from planning.project import load_project  # noqa: E402

SAMPLE = ROOT / "sample_maps" / "daoxian"


def bench_raster() -> dict:
    """1,000,000 pixels of 100 m in UTM 49N, a county-sized boundary inside them."""
    with tempfile.TemporaryDirectory() as tmp:
        tif = Path(tmp) / "pop.tif"
        rng = np.random.default_rng(0)
        people = rng.gamma(0.3, 20.0, size=(1000, 1000))
        with rasterio.open(
            tif, "w", driver="GTiff", width=1000, height=1000, count=1, dtype="float64",
            crs="EPSG:32649", transform=from_origin(500_000, 2_900_000, 100, 100),
        ) as dst:  # fmt: skip
            dst.write(people, 1)
        circle = shapely.Point(550_000, 2_850_000).buffer(45_000)
        boundary = gpd.GeoDataFrame(geometry=[circle], crs="EPSG:32649")
        with RssSampler() as mem:
            t = time.perf_counter()
            pop = population_from_raster(tif, boundary, 500.0)
            secs = time.perf_counter() - t
    return row(
        "data: population raster",
        f"1,000,000 pixels → {len(pop.units):,} cells of 500 m",
        secs,
        target="a county raster in seconds",
        max_s=10.0,
        note=f"peak +{mb(mem.peak_bytes - mem.start_bytes)}; total kept {pop.total:,.0f}",
    )


def _tracts(layers: Layers, n_side: int) -> gpd.GeoDataFrame:
    """The villages' people summed into squares of a n_side × n_side grid over the county."""
    units = layers.units
    x0, y0, x1, y1 = layers.boundary.total_bounds
    sx, sy = (x1 - x0) / n_side, (y1 - y0) / n_side
    xy = shapely.get_coordinates(units.geometry.values)
    cell = np.minimum(((xy[:, 0] - x0) // sx), n_side - 1) * n_side + np.minimum(
        (xy[:, 1] - y0) // sy, n_side - 1
    )
    g = units.assign(cell=cell.astype(int)).groupby("cell")
    pop = g["population"].sum()
    boxes = [
        shapely.box(x0 + (c // n_side) * sx, y0 + (c % n_side) * sy,
                    x0 + (c // n_side + 1) * sx, y0 + (c % n_side + 1) * sy)
        for c in pop.index
    ]  # fmt: skip
    tracts = gpd.GeoDataFrame(
        {"unit_id": [f"T{c}" for c in pop.index], "population": pop.to_numpy()},
        geometry=boxes,
        crs=units.crs,
    )
    for c in ("name", "town"):
        tracts[c] = ""
    tracts["kind"] = "village"
    for lv in ("primary", "junior", "senior"):
        tracts[f"students_{lv}"] = np.nan
    tracts["src_row"] = np.arange(1, len(tracts) + 1)
    return tracts


def _tracts_against_points(layers: Layers, rules, stage: str, size: str) -> dict:
    """The plan on the villages, then on 135 tract polygons holding their people: one row."""
    tracts = _tracts(layers, 20)[:135]
    t = time.perf_counter()
    run_plan(layers, rules)
    points_s = time.perf_counter() - t
    layers.units = tracts
    t = time.perf_counter()
    run_plan(layers, rules)
    secs = time.perf_counter() - t
    return row(
        stage,
        size.format(n=len(tracts)),
        secs,
        peer="same plan on the 294 village points",
        peer_s=points_s,
        target="< 10 s",
        max_s=10.0,
    )


def bench_polygons() -> dict:
    layers, rules, _ = load_project(SAMPLE)
    return _tracts_against_points(
        layers, rules, "data: polygon units", "{n} tract polygons (sample county)"
    )


def bench_polygons_bare() -> dict:
    """The polygons bench where the siting has only the tracts to go on: no candidate sites and
    no senior high schools, so the county-wide senior schools are sited among samples of the
    tracts (the case that cost ten times the points before the samples were capped)."""
    layers, rules, _ = load_project(SAMPLE)
    layers.candidates = None
    layers.schools = layers.schools[layers.schools["level"] != "senior"].reset_index(drop=True)
    return _tracts_against_points(
        layers,
        rules,
        "data: polygon units, no candidates",
        "{n} tract polygons, no candidate sites, no senior schools",
    )


def bench_province() -> dict:
    toml = cached_project("province")
    with RssSampler() as mem:
        t = time.perf_counter()
        layers, rules, _ = load_project(toml)
        load_s = time.perf_counter() - t
        run_plan(layers, rules)
        secs = time.perf_counter() - t
    return row(
        "data: province in one project",
        f"{len(layers.units):,} units, {len(layers.schools):,} school rows",
        secs,
        target="within 8 GB",
        met=mem.peak_bytes < 8 * 2**30,
        note=f"load {load_s:.0f} s; peak RSS {mb(mem.peak_bytes)}",
    )


BENCHES = {
    "raster": bench_raster,
    "polygons": bench_polygons,
    "polygons_bare": bench_polygons_bare,
    "province": bench_province,
}


def run(quick: bool = False) -> list[dict]:
    """Rows for bench/run_all.py; the province (tens of minutes on 2 cores) only on a full run."""
    names = ["raster", "polygons"] + ([] if quick else ["province"])
    return [BENCHES[name]() for name in names]


def main(argv: list[str]) -> None:
    names = argv[0].split(",") if argv else list(BENCHES)
    for name in names:
        print(BENCHES[name](), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
