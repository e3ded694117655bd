"""Checks of the committed sample county (sample_maps/daoxian), read with geopandas only so the test
does not depend on the project's own loaders."""

from __future__ import annotations

import tomllib
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyogrio
import pytest

FOLDER = Path(__file__).resolve().parents[1] / "sample_maps" / "daoxian"
GPKG = FOLDER / "daoxian.gpkg"
TOTAL_2020 = 621_275  # 2020 census, 431124 道县 (see ../shared/data/china_counties/SOURCE.md)
LAYERS = ("boundary", "population", "schools", "roads", "candidates")


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return {
        name: gpd.read_file(GPKG, layer=name, engine="pyogrio")
        for name, *_ in pyogrio.list_layers(GPKG)
    }


def test_layers_and_crs(layers: dict[str, gpd.GeoDataFrame]) -> None:
    for name in LAYERS:
        assert name in layers
        assert layers[name].crs.to_epsg() == 4326
    assert len(layers["boundary"]) == 1
    assert layers["boundary"]["行政区划代码"].iloc[0] == "431124"


def test_project_toml_names_every_layer() -> None:
    project = tomllib.loads((FOLDER / "project.toml").read_text(encoding="utf-8"))
    for name in LAYERS:
        assert project["layers"][name] == {"file": "daoxian.gpkg", "layer": name}
    assert "columns" not in project


def test_population_sums_to_census(layers: dict[str, gpd.GeoDataFrame]) -> None:
    pop = layers["population"]
    assert int(pop["人口"].sum()) == TOTAL_2020
    assert (pop["人口"] > 0).all()
    assert set(pop["类型"]) == {"村", "社区", "新建小区", "安置点"}


def test_population_thresholds(layers: dict[str, gpd.GeoDataFrame]) -> None:
    pop = layers["population"]
    assert pop.loc[pop["类型"] == "村", "人口"].max() < 4000
    new = pop.loc[pop["类型"] == "新建小区", "人口"]
    assert (new > 10_000).any()
    assert new.between(4000, 10_000).any()
    assert new.sum() > 20_000


def test_everything_inside_boundary(layers: dict[str, gpd.GeoDataFrame]) -> None:
    county = layers["boundary"].geometry.iloc[0]
    for name, df in layers.items():
        if name == "boundary":
            continue
        assert df.geometry.within(county).all(), name


def test_ids_unique(layers: dict[str, gpd.GeoDataFrame]) -> None:
    assert layers["population"]["编号"].is_unique
    assert layers["schools"]["学校代码"].is_unique
    assert layers["schools"]["学校名称"].is_unique
    assert layers["candidates"]["编号"].is_unique


def test_schools(layers: dict[str, gpd.GeoDataFrame]) -> None:
    schools = layers["schools"]
    assert 120 <= len(schools) <= 200
    assert set(schools["学段"]) == {"小学", "初中", "高中", "九年一贯制", "完全中学"}
    assert {"优质", "一般", "薄弱"} == set(schools["办学质量"])
    assert {"城区", "镇区", "乡村"} == set(schools["城乡类别"])
    assert {"现有", "待建"} == set(schools["状态"])
    assert {"公办", "民办"} == set(schools["办学性质"])
    assert {"完小", "中心校", "教学点", "安置点学校", "普通"} == set(schools["学校类型"])
    assert (schools["班级数"] > 0).all()
    existing = schools[schools["状态"] == "现有"]
    assert (existing["在校生数"] > 0).all() and (existing["教师数"] > 0).all()


def test_roads_connect_everything(layers: dict[str, gpd.GeoDataFrame]) -> None:
    roads = layers["roads"]
    assert 3000 <= len(roads) <= 8000
    g = nx.Graph()
    for line in roads.geometry:
        xy = np.asarray(line.coords)
        g.add_edge(tuple(xy[0]), tuple(xy[-1]))
    assert nx.is_connected(g)
    nodes = set(g.nodes)
    for name in ("population", "schools", "candidates"):
        for p in layers[name].geometry:
            assert (p.x, p.y) in nodes, (name, p)


def test_folder_size() -> None:
    size = sum(p.stat().st_size for p in FOLDER.rglob("*") if p.is_file())
    assert size <= 10 * 1024 * 1024
