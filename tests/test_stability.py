"""Stable answers (issue 15): the plan (groups, new schools, catchments) is a function of the
geography, not of row order, file format or centimetres."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from builders import boundary_layer, school_layer, unit_layer
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import StraightLine
from planning.catchments import run_catchments
from planning.grouping import run_grouping
from planning.rules import LEVELS, CatchmentParams, GroupingParams, Standards


def jittered(gdf, seed: int, radius_m: float = 0.01):
    """Every point moved by at most ``radius_m`` in a random direction."""
    rng = np.random.default_rng(seed)
    xy = shapely.get_coordinates(gdf.geometry.values)
    ang = rng.uniform(0, 2 * np.pi, len(xy))
    r = rng.uniform(0, radius_m, len(xy))
    moved = xy + np.c_[r * np.cos(ang), r * np.sin(ang)]
    return gdf.set_geometry(gpd.GeoSeries(shapely.points(moved), index=gdf.index, crs=gdf.crs))


def assignment(demand) -> dict:
    cols = [c for c in demand.columns if c.startswith("school_id_")]
    d = demand.set_index(demand["unit_id"].astype(str))
    return {c: d[c].astype(str).to_dict() for c in cols}


# --- random instances -------------------------------------------------------------------------


def lattice_instance(seed: int, n: int, m: int):
    """Units and schools on a 500 m lattice: many exactly equal distances, the hard case for
    tie-breaking. Capacity about 80 % of the pupils, so the whole-unit search has work."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(20 * 20, n + m, replace=False)
    xy = np.c_[cells % 20, cells // 20] * 500.0 + 250.0
    pupils = rng.integers(5, 150, n)
    units = unit_layer(
        [
            {"unit_id": f"u{i:03d}", "population": 0, "students_primary": int(p)}
            for i, p in enumerate(pupils)
        ],
        [tuple(p) for p in xy[:n]],
    )
    cap = max(1, int(pupils.sum() * 0.8 / m))
    schools = school_layer(
        [
            {"school_id": f"s{j:02d}", "level": "primary", "capacity": cap, "classes": 6}
            for j in range(m)
        ],
        [tuple(p) for p in xy[n:]],
    )
    return schools, units


def plan(schools, units):
    params = CatchmentParams(mode="capacity", zone_cell_m=500.0)
    res = run_catchments(
        schools, units, boundary_layer(), params, Standards(), costs=StraightLine()
    )
    return res


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(5, 30),
    m=st.integers(2, 8),
    order_seed=st.integers(0, 10**6),
)
def test_shuffled_rows_and_jitter_give_the_same_assignment(seed, n, m, order_seed):
    schools, units = lattice_instance(seed, n, m)
    base = plan(schools, units)
    rng = np.random.default_rng(order_seed)
    shuffled_u = jittered(units.iloc[rng.permutation(len(units))], order_seed)
    shuffled_s = jittered(schools.iloc[rng.permutation(len(schools))], order_seed + 1)
    other = plan(shuffled_s, shuffled_u)
    assert assignment(base.demand) == assignment(other.demand)
    a, b = base.summary.levels["primary"], other.summary.levels["primary"]
    assert (a.assigned, a.too_far, a.unserved) == (b.assigned, b.too_far, b.unserved)
    assert a.mean_distance_km == pytest.approx(b.mean_distance_km, abs=1e-4)


# --- grouping on random instances -------------------------------------------------------------


def grouping_instance(seed: int, n_cores: int, n_members: int):
    """Cores and weak rural members on a 1 km lattice, each half a metre off it along x: many
    pairings tie exactly in total distance (collinear schools) and every distance sits on a
    whole-metre rounding edge, where centimetres used to decide."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(8 * 8, n_cores + n_members, replace=False)
    xy = np.c_[cells % 8, cells // 8] * 1000.0
    xy[:, 0] += rng.choice([0.0, 0.5], len(cells))
    rows = [
        {"school_id": f"c{j}", "quality": "core", "classes": 18, "location": "urban"}
        for j in range(n_cores)
    ] + [
        {"school_id": f"m{i:02d}", "quality": "weak", "classes": 6, "location": "rural"}
        for i in range(n_members)
    ]
    return school_layer(rows, [tuple(p) for p in xy])


def grouping_of(result) -> dict:
    sg = result.school_groups
    cores = {
        g: s for s, g, r in zip(sg.index.map(str), sg["group_id"], sg["group_role"]) if r == "core"
    }
    return {
        s: (r, cores.get(g, ""))
        for s, g, r in zip(sg.index.map(str), sg["group_id"], sg["group_role"])
    }


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10**6),
    n_cores=st.integers(2, 5),
    n_members=st.integers(3, 14),
    min_members=st.sampled_from([1, 2]),
    order_seed=st.integers(0, 10**6),
)
def test_grouping_ignores_row_order_and_centimetres(
    seed, n_cores, n_members, min_members, order_seed
):
    schools = grouping_instance(seed, n_cores, n_members).set_index("school_id", drop=False)
    params = GroupingParams(max_members=2, min_members=min_members)
    base = run_grouping(schools, params, Standards(), costs=StraightLine())
    rng = np.random.default_rng(order_seed)
    moved = jittered(schools.iloc[rng.permutation(len(schools))], order_seed)
    other = run_grouping(moved, params, Standards(), costs=StraightLine())
    assert grouping_of(other) == grouping_of(base)
    assert other.groups["group_id"].tolist() == base.groups["group_id"].tolist()
    assert other.pairs["member_id"].tolist() == base.pairs["member_id"].tolist()


# --- the sample county, four ways -------------------------------------------------------------


def _figures(result) -> dict:
    out = {}
    for level in LEVELS:
        s = result.summary["catchments"].get(level)
        if s and "too_far" in s:
            out[level] = (s["too_far"], s["unserved"], round(s["mean_distance_km"], 2))
    return out


def _csv_project(src, dst) -> None:
    """The sample's point layers saved as CSV with 6-decimal degrees (as a bureau's Excel
    export would), boundary and roads left in the GeoPackage."""
    gpkg = src / "daoxian.gpkg"
    lines = ['[project]\nname = "csv"\ncrs = ""\nrules = ""\n']
    for key, layer in (
        ("schools", "schools"),
        ("population", "population"),
        ("candidates", "candidates"),
    ):
        gdf = pyogrio.read_dataframe(gpkg, layer=layer)
        table = pd.DataFrame(gdf.drop(columns="geometry"))
        table["lon"] = gdf.geometry.x.round(6)
        table["lat"] = gdf.geometry.y.round(6)
        table.to_csv(dst / f"{layer}.csv", index=False, float_format="%.6f")
        lines.append(f'[layers.{key}]\nfile = "{layer}.csv"\nx = "lon"\ny = "lat"\n')
    for key in ("boundary", "roads"):
        lines.append(f'[layers.{key}]\nfile = "{gpkg}"\nlayer = "{key}"\n')
    (dst / "project.toml").write_text("".join(lines), encoding="utf-8")


@pytest.mark.slow  # four whole plans of the sample county
def test_sample_plans_the_same_four_ways(sample_project, sample_layers, tmp_path):
    from planning.pipeline import run_plan
    from planning.project import load_project

    layers, rules, _ = sample_layers
    # The default rules: with the feeder-pool rule of 000 §七(八) the zones follow the groups,
    # so the grouping's choices must be as stable as the catchments' (planning.ties).
    base = run_plan(layers, rules)
    want = _figures(base)
    # Not worse than the plan before the grouping broke ties by ids (2.36 km). Which of the
    # grouping's equally short pairings the ids pick moves this between 2.10 and 2.37 km.
    assert want["primary"][2] <= 2.36
    # Issue 15's bound was set before the feeder-pool rule existed: it holds without it.
    plain = run_plan(layers, rules.with_values({"catchments": {"no_feeder_pools": False}}))
    assert _figures(plain)["primary"][2] <= 1.96

    _csv_project(sample_project, tmp_path)
    csv_layers, csv_rules, _ = load_project(tmp_path)
    reversed_layers = dataclasses.replace(
        layers,
        units=layers.units.iloc[::-1].reset_index(drop=True),
        schools=layers.schools.iloc[::-1].reset_index(drop=True),
    )
    jitter_layers = dataclasses.replace(
        layers, units=jittered(layers.units, 1), schools=jittered(layers.schools, 2)
    )
    for name, other in (
        ("csv", run_plan(csv_layers, rules)),  # the same rules: only the file format differs
        ("reversed", run_plan(reversed_layers, rules)),
        ("jitter 1 cm", run_plan(jitter_layers, rules)),
    ):
        assert _figures(other) == want, name
        assert assignment(other.demand) == assignment(base.demand), name
