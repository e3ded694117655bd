"""Catchments: the river-with-one-bridge fixture, modes, statuses, figures, grid fallback, zones."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from core.errors import InputError
from geo.distance import StraightLine
from planning.catchments import run_catchments
from planning.pipeline import cost_model
from planning.rules import CatchmentParams, DistanceParams, Standards

CRS = "EPSG:32649"
STRAIGHT = StraightLine()
X0, Y0 = 500_000.0, 3_000_000.0  # a place in UTM 49N; fixtures are relative to it


def gdf(rows, geoms):
    geoms = list(geoms)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS, index=range(len(geoms)))


def schools(specs):
    """specs: (school_id, level, x, y, capacity, classes, students)."""
    ids, lv, xs, ys, cap, cl, st = zip(*specs, strict=True)
    return gdf(
        {
            "school_id": ids,
            "name": ids,
            "level": lv,
            "capacity": cap,
            "classes": cl,
            "students": st,
            "status": "existing",
        },  # fmt: skip
        [Point(X0 + x, Y0 + y) for x, y in zip(xs, ys, strict=True)],
    )


def units(points, pupils, level="primary"):
    n = len(points)
    return gdf(
        {
            "unit_id": [f"u{i}" for i in range(n)],
            "population": np.full(n, 1000.0),
            "kind": "village",
            f"students_{level}": pupils,
        },  # fmt: skip
        [Point(X0 + x, Y0 + y) for x, y in points],
    )


def boundary(w=10_000, h=10_000):
    return gdf({"name": ["county"]}, [box(X0, Y0, X0 + w, Y0 + h)])


# --- the river with a single bridge ------------------------------------------------------------
# A river runs north-south at x = 5 km. West bank road x = 4.5 km, east bank road x = 5.5 km,
# the only bridge at y = 9 km. School W stands just west of the river at y = 1 km, school E
# 3.5 km east of the river at y = 1 km. Villages on the east bank near y = 1 km are 0.4–1 km from
# W in a straight line but ~17 km by road (up to the bridge and back), ~3 km from E by road.
def river_roads():
    lines = [
        LineString([(4500, 0), (4500, 10_000)]),  # west bank
        LineString([(5500, 0), (5500, 10_000)]),  # east bank
        LineString([(4500, 9000), (5500, 9000)]),  # the bridge
        LineString([(0, 1000), (4500, 1000)]),  # west village road
        LineString([(5500, 1000), (10_000, 1000)]),  # east village road
    ]
    return gdf({"road_class": ""}, [shapely.affinity.translate(g, X0, Y0) for g in lines])


def river_case(distance):
    sch = schools(
        [("W", "primary", 4700, 1000, 10_000, 10, 0), ("E", "primary", 9000, 1000, 10_000, 10, 0)]
    )
    east = [(5300, 800), (5300, 1200), (5800, 1000), (6200, 1100)]
    west = [(3000, 1000), (4200, 1500), (1000, 5000)]
    u = units(east + west, np.full(len(east) + len(west), 30.0))
    p = CatchmentParams(mode="nearest", max_km_primary=5.0, zone_cell_m=100.0)
    costs = cost_model(river_roads(), DistanceParams(model=distance))
    return run_catchments(sch, u, boundary(), p, Standards(), costs=costs), len(east)


def test_bridge_decides_the_zone_not_the_straight_line():
    road, n_east = river_case("road")
    straight, _ = river_case("straight")
    d_road, d_str = road.demand, straight.demand
    # east-bank villages go to E by road, to W by straight line
    assert list(d_road["school_id_primary"][:n_east]) == ["E"] * n_east
    assert d_str["school_id_primary"].iloc[0] == "W"
    assert list(d_road["school_id_primary"][n_east:]) == ["W"] * 3
    # the zone polygons follow: the east-bank point next to the river is in E's zone by road
    probe = Point(X0 + 5300, Y0 + 1000)
    zr = road.catchments.set_index("school_id").geometry
    zs = straight.catchments.set_index("school_id").geometry
    assert zr["E"].contains(probe) and not zr["W"].contains(probe)
    assert zs["W"].contains(probe)
    # road distances: along the east village road, not across the river
    assert d_road["distance_primary_km"].iloc[2] == pytest.approx(3.2, abs=0.01)
    assert (d_road["distance_primary_km"] >= d_str["distance_primary_km"] - 1e-9).all()
    assert road.summary.distance == "road" and straight.summary.distance == "straight"


def test_capacity_mode_never_overfills_and_reports_unserved():
    sch = schools([("A", "primary", 1000, 1000, 100, 2, 0), ("B", "primary", 8000, 8000, 50, 1, 0)])
    pts = [(1100, 1000), (1200, 1100), (900, 900), (7000, 7000), (5000, 5000)]
    u = units(pts, np.array([60, 30, 30, 40, 20]))
    p = CatchmentParams(mode="capacity", max_km_primary=3.0, split_large_units=False)
    r = run_catchments(sch, u, boundary(), p, Standards(), costs=STRAIGHT)
    c = r.catchments.set_index("school_id")
    assert (c["students"] <= c["capacity"]).all()
    s = r.summary.levels["primary"].to_dict()
    assert s["students"] == 180
    assert s["assigned"] + s["too_far"] + s["unserved"] == pytest.approx(180)
    assert s["unserved"] == 30  # 180 pupils, 150 places, whole units
    assert s["over_capacity_schools"] == 0
    st = r.demand["status_primary"]
    assert (st == "unserved").sum() == 1
    assert r.demand.loc[st == "unserved", "school_id_primary"].iloc[0] == ""
    # too_far: assigned, yet beyond max_km_primary
    far = r.demand["distance_primary_km"] > 3.0
    assert (st[far] == "too_far").all()


def test_split_allowed_places_every_pupil_when_room_exists():
    sch = schools([("A", "primary", 1000, 1000, 50, 1, 0), ("B", "primary", 3000, 1000, 50, 1, 0)])
    u = units([(1000, 1200)], np.array([90]))
    p = CatchmentParams(mode="capacity", allow_split=True)
    r = run_catchments(sch, u, boundary(), p, Standards(), costs=STRAIGHT)
    c = r.catchments.set_index("school_id")
    assert c.loc["A", "students"] == 50 and c.loc["B", "students"] == 40
    assert r.demand["school_id_primary"].iloc[0] == "A"  # the school taking most of it
    assert r.summary.levels["primary"].unserved == 0


def test_a_unit_too_big_for_any_school_is_shared_when_allowed_by_the_rule():
    sch = schools([("A", "primary", 1000, 1000, 50, 1, 0), ("B", "primary", 3000, 1000, 50, 1, 0)])
    u = units([(1000, 1200)], np.array([90]))
    strict = CatchmentParams(mode="capacity", split_large_units=False)
    share = CatchmentParams(mode="capacity", split_large_units=True)
    assert (
        run_catchments(sch, u, boundary(), strict, Standards(), costs=STRAIGHT)
        .summary.levels["primary"]
        .unserved
        == 90
    )
    assert (
        run_catchments(sch, u, boundary(), share, Standards(), costs=STRAIGHT)
        .summary.levels["primary"]
        .unserved
        == 0
    )


def test_figures_oversized_and_classes_needed():
    sch = schools(
        [("A", "primary", 1000, 1000, 1000, 2, 0), ("B", "primary", 9000, 9000, 1000, 0, 0)]
    )
    u = units([(1000, 1100), (9000, 8800)], np.array([120, 100]))
    p = CatchmentParams(mode="nearest")
    c = run_catchments(sch, u, boundary(), p, Standards(), costs=STRAIGHT).catchments.set_index(
        "school_id"
    )
    assert c.loc["A", "students"] == 120 and bool(c.loc["A", "oversized"])  # 60 per class ≥ 56
    assert not bool(c.loc["B", "oversized"])  # a school without classes yet
    assert c.loc["B", "classes_needed"] == 3  # 100 / 45
    assert c.loc["A", "utilization"] == pytest.approx(0.12)
    assert c.loc["A", "mean_distance_km"] == pytest.approx(0.1)


def test_estimated_pupils_and_levels_without_schools():
    sch = schools([("A", "primary", 1000, 1000, 1000, 10, 0)])
    u = units([(1000, 1100)], np.array([np.nan]))
    r = run_catchments(sch, u, boundary(), CatchmentParams(), Standards(), costs=STRAIGHT)
    assert r.demand["students_primary"].iloc[0] == round(1000 * Standards().rate_primary)
    assert r.demand["status_junior"].iloc[0] == "unserved"
    assert r.summary.levels["junior"].note == "no school of this level"


def test_grid_fallback_draws_zones_over_the_whole_boundary():
    sch = schools(
        [("A", "primary", 2000, 2000, 500, 5, 0), ("B", "primary", 8000, 7000, 500, 5, 0)]
    )
    b = gdf(
        {"name": ["c"]}, [shapely.Polygon([(X0, Y0), (X0 + 10_000, Y0), (X0 + 6000, Y0 + 9000)])]
    )
    r = run_catchments(sch, None, b, CatchmentParams(grid_cell_m=500), Standards(), costs=STRAIGHT)
    assert r.summary.demand_source == "uniform_grid"
    z = r.catchments.geometry
    assert z.area.sum() == pytest.approx(b.area.iloc[0], rel=1e-9)
    assert shapely.intersection(z.iloc[0], z.iloc[1]).area == pytest.approx(0, abs=1e-6)
    assert (r.catchments["students"] == 0).all()
    assert r.demand["unit_id"].str.startswith("grid_").all()


def test_polygon_units_dissolve_into_zones_covering_the_boundary():
    sch = schools(
        [("A", "primary", 2500, 5000, 500, 5, 0), ("B", "primary", 7500, 5000, 500, 5, 0)]
    )
    cells = [box(X0 + x, Y0 + y, X0 + x + 2500, Y0 + y + 2500) for x in range(0, 10000, 2500)
             for y in range(0, 10000, 2500)]  # fmt: skip
    cells[5] = cells[5].buffer(-100)  # a gap between units, inside the boundary
    u = gdf({"unit_id": [f"c{i}" for i in range(16)], "population": 1000.0,
             "students_primary": 20.0}, cells)  # fmt: skip
    r = run_catchments(sch, u, boundary(), CatchmentParams(), Standards(), costs=STRAIGHT)
    z = r.catchments.geometry
    assert z.area.sum() == pytest.approx(1e8, rel=1e-9)
    assert shapely.intersection(z.iloc[0], z.iloc[1]).area == pytest.approx(0, abs=1e-6)
    assert r.catchments["students"].sum() == 320


def test_bad_inputs_raise_input_error():
    sch = schools([("A", "primary", 1000, 1000, 100, 2, 0)]).to_crs("EPSG:4326")
    with pytest.raises(InputError):
        run_catchments(sch, None, boundary(), CatchmentParams(), Standards(), costs=STRAIGHT)
    sch2 = schools([("A", "primary", 1000, 1000, 100, 2, 0)]).drop(columns="level")
    with pytest.raises(InputError):
        run_catchments(sch2, None, boundary(), CatchmentParams(), Standards(), costs=STRAIGHT)


def test_shared_cost_model_and_pieces_reported():
    roads = river_roads()
    island = gdf({"road_class": ""}, [LineString([(X0 + 100, Y0 + 9500), (X0 + 900, Y0 + 9500)])])
    roads = gpd.GeoDataFrame(
        gpd.pd.concat([roads, island], ignore_index=True), geometry="geometry", crs=CRS
    )
    p = CatchmentParams(mode="nearest")
    costs = cost_model(roads, DistanceParams(model="road", snap_max_m=300))
    sch = schools([("W", "primary", 4700, 1000, 500, 5, 0)])
    u = units([(500, 9400), (4000, 1000)], np.array([10, 10]))
    r = run_catchments(sch, u, boundary(), p, Standards(), costs=costs)
    assert r.summary.road_network.pieces == 2
    assert list(r.demand["status_primary"]) == ["unserved", "assigned"]
    # unserved units are still drawn in some zone: the zones cover the boundary
    assert r.catchments.geometry.area.sum() == pytest.approx(1e8, rel=1e-9)
    assert any("separate pieces" in n for n in r.notes)


def test_deterministic():
    a, _ = river_case("road")
    b, _ = river_case("road")
    assert a.demand.drop(columns="geometry").equals(b.demand.drop(columns="geometry"))
    assert a.catchments.geometry.equals(b.catchments.geometry)


def test_params_replace_checked():
    p = dataclasses.replace(CatchmentParams(), zone_cell_m=50.0)
    assert p.zone_cell_m == 50.0


def test_smoothed_outlines_keep_the_assignment_and_a_gap_free_cover():
    rng = np.random.default_rng(5)
    sch = schools(
        [(f"S{i}", "primary", *rng.uniform(1000, 9000, 2), 2000, 20, 0) for i in range(6)]
    )
    u = units(rng.uniform(200, 9800, (150, 2)), np.full(150, 20.0))
    p = CatchmentParams(mode="nearest", zone_cell_m=100.0)
    plain = run_catchments(sch, u, boundary(), p, Standards(), costs=STRAIGHT)
    smooth = run_catchments(
        sch,
        u,
        boundary(),
        dataclasses.replace(p, zone_simplify_cells=2.0),
        Standards(),
        costs=STRAIGHT,
    )
    assert smooth.demand["school_id_primary"].equals(plain.demand["school_id_primary"])
    z = smooth.catchments.geometry
    assert z.area.sum() == pytest.approx(boundary().area.iloc[0], rel=1e-9)
    assert shapely.union_all(z.values).area == pytest.approx(z.area.sum(), rel=1e-9)
    # smoothing drops the stair steps: fewer vertices than the raster outline
    assert (
        shapely.get_num_coordinates(z.values).sum()
        < shapely.get_num_coordinates(plain.catchments.geometry.values).sum()
    )


def test_summary_dict_keeps_the_summary_json_layout():
    road, _ = river_case("road")
    d = road.summary.to_dict()
    # junior and senior: pupils estimated from the population, no school of the level
    levels = ["primary", "junior", "senior"]
    assert list(d) == ["distance", "mode", "demand_source", *levels, "road_network", "notes"]
    assert d["junior"] == {
        "students": 43.0 * 7,
        "unserved": 43.0 * 7,
        "note": "no school of this level",
    }
    assert list(d["primary"])[:4] == ["students", "assigned", "too_far", "unserved"]
    assert d["primary"]["method"] == "nearest" and "lower_bound_pupil_km" not in d["primary"]
    assert d["road_network"]["pieces"] == road.summary.road_network.pieces
    sch = schools([("A", "primary", 1000, 1000, 50, 1, 0), ("B", "primary", 3000, 1000, 50, 1, 0)])
    u = units([(1000, 1200), (2900, 1000), (1500, 1000)], np.array([30, 30, 30]))
    whole = run_catchments(
        sch, u, boundary(), CatchmentParams(split_large_units=False), Standards(), costs=STRAIGHT
    )
    d = whole.summary.to_dict()
    assert list(d) == ["distance", "mode", "demand_source", *levels, "notes"]
    assert list(d["primary"])[-2:] == ["lower_bound_pupil_km", "gap_to_bound_pct"]
    assert d["primary"]["gap_to_bound_pct"] == whole.summary.levels["primary"].gap_to_bound_pct
