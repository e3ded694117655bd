"""Zone raster fast path: units on pixel centres take their own pixel without a tree query.

It must give exactly what the KD-tree gives (same nearest unit for every pixel, same polygons),
on grids with holes, irregular boundaries and grids that are not lattices at all."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

import geo.zones as zones_mod
from geo.grid import uniform_grid
from geo.zones import zone_polygons, zones_from_points


def irregular_boundary(rng, size=6_000.0):
    """A star-shaped polygon with a lake (hole) in it: slanted edges give many pixels the
    boundary crosses, whose centres hold no unit and so go to the tree."""
    k = int(rng.integers(5, 14))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    rad = rng.uniform(0.35, 0.5, k) * size
    shell = np.column_stack([size / 2 + rad * np.cos(ang), size / 2 + rad * np.sin(ang)])
    geom = shapely.Polygon(shell).buffer(0)
    lake = shapely.Point(size / 2 + rng.uniform(-300, 300, 2)).buffer(rng.uniform(100, 900))
    return shapely.difference(geom, lake).buffer(0) if rng.random() < 0.7 else geom


def grid_units(rng, geom, cell, holes):
    xy = np.asarray(shapely.get_coordinates(uniform_grid(geom, cell).geometry.values))
    if holes and len(xy) > 1:  # drop cells (no people there) and a block of them
        keep = rng.random(len(xy)) > holes
        cx, cy = rng.uniform(*geom.bounds[::2]), rng.uniform(*geom.bounds[1::2])
        keep &= np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) > rng.uniform(0, 6 * cell)
        keep[rng.integers(len(xy))] = True
        xy = xy[keep]
    return xy


def tree_only(monkeypatch):
    monkeypatch.setattr(zones_mod, "_lattice_nearest", lambda *a, **k: None)


def both_paths(xy, lab, geom, cell):
    """(fast nearest, tree nearest, fast zones, tree zones, pixels the fast path asked the tree)"""
    asked = []
    real = zones_mod._tree_nearest
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zones_mod, "_tree_nearest", lambda *a: asked.append(len(a[1])) or real(*a))
        zones_mod._PIXELS.clear()
        fast = zones_mod._pixels(xy, geom, cell)[3].copy()
    fast_z = zones_from_points(xy, lab, geom, cell)
    with pytest.MonkeyPatch.context() as mp:
        tree_only(mp)
        zones_mod._PIXELS.clear()
        slow = zones_mod._pixels(xy, geom, cell)[3].copy()
        zones_mod._PIXELS.clear()
        slow_z = zones_from_points(xy, lab, geom, cell)
    zones_mod._PIXELS.clear()
    return fast, slow, fast_z, slow_z, sum(asked)


def assert_same_zones(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        assert shapely.to_wkb(a[k]) == shapely.to_wkb(b[k]), k


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    cell=st.sampled_from([100.0, 150.0, 333.3, 250.0]),
    holes=st.sampled_from([0.0, 0.05, 0.3, 0.8]),
    labels=st.integers(1, 8),
)
def test_grid_fast_path_equals_tree_on_random_grids(seed, cell, holes, labels):
    rng = np.random.default_rng(seed)
    geom = irregular_boundary(rng)
    xy = grid_units(rng, geom, cell, holes)
    lab = rng.integers(0, labels, len(xy))
    fast, slow, fast_z, slow_z, asked = both_paths(xy, lab, geom, cell)
    np.testing.assert_array_equal(fast, slow)
    assert_same_zones(fast_z, slow_z)
    # the fast path was taken: the tree saw only the pixels holding no unit
    assert asked == len(fast) - len(xy)


def test_fast_path_is_taken_and_queries_only_empty_pixels(monkeypatch):
    rng = np.random.default_rng(3)
    geom = irregular_boundary(rng)
    cell = 100.0
    xy = grid_units(rng, geom, cell, 0.0)
    asked = []
    real = zones_mod._tree_nearest

    def spy(xy_, px, py):
        asked.append(len(px))
        return real(xy_, px, py)

    monkeypatch.setattr(zones_mod, "_tree_nearest", spy)
    zones_mod._PIXELS.clear()
    inside = zones_mod._pixels(xy, geom, cell)[0]
    zones_mod._PIXELS.clear()
    # only the pixels the boundary cuts hold no unit: a small share of the raster
    assert len(asked) == 1 and 0 < asked[0] == int(inside.sum()) - len(xy) < len(xy) / 5


def test_full_square_grid_needs_no_tree(monkeypatch):
    side, cell = 5_000.0, 100.0
    c = (np.arange(50) + 0.5) * cell
    xy = np.column_stack([a.ravel() for a in np.meshgrid(c, c)])
    monkeypatch.setattr(zones_mod, "_tree_nearest", lambda *a: pytest.fail("tree queried"))
    zones_mod._PIXELS.clear()
    z = zones_from_points(xy, (xy[:, 0] > 2_500).astype(int), shapely.box(0, 0, side, side), cell)
    zones_mod._PIXELS.clear()
    assert sorted(z) == [0, 1]
    assert z[0].area == pytest.approx(side * side / 2)


@pytest.mark.parametrize(
    "case", ["jitter", "tiny_offset", "duplicate", "outside_raster", "coarser_cells", "villages"]
)
def test_units_off_the_lattice_fall_back_to_the_tree_with_the_same_answer(case):
    rng = np.random.default_rng(11)
    geom = irregular_boundary(rng)
    cell = 200.0
    xy = grid_units(rng, geom, cell, 0.1)
    if case == "jitter":
        xy = xy + rng.normal(0, cell / 10, xy.shape)
    elif case == "tiny_offset":  # within the tolerance: still the lattice, still exact
        xy = xy + rng.uniform(-1e-8, 1e-8, xy.shape) * cell
    elif case == "duplicate":
        xy = np.vstack([xy, xy[:3]])
    elif case == "outside_raster":
        xy = np.vstack([xy, [[geom.bounds[0] - cell / 2, geom.bounds[1] - cell / 2]]])
    elif case == "coarser_cells":
        xy = grid_units(rng, geom, 2 * cell, 0.0)
    else:
        xy = rng.uniform(0, 6_000, (300, 2))
    lab = rng.integers(0, 5, len(xy))
    fast, slow, fast_z, slow_z, _ = both_paths(xy, lab, geom, cell)
    np.testing.assert_array_equal(fast, slow)
    assert_same_zones(fast_z, slow_z)


def test_uniform_grid_zones_through_zone_polygons_match_the_tree(monkeypatch):
    rng = np.random.default_rng(5)
    geom = irregular_boundary(rng)
    units = uniform_grid(geom, 120.0)
    lab = rng.integers(0, 6, len(units))
    zones_mod._PIXELS.clear()
    fast = zone_polygons(units.geometry.values, lab, geom, 120.0)
    tree_only(monkeypatch)
    zones_mod._PIXELS.clear()
    slow = zone_polygons(units.geometry.values, lab, geom, 120.0)
    zones_mod._PIXELS.clear()
    assert_same_zones(fast, slow)
    total = sum(g.area for g in fast.values())
    assert total == pytest.approx(geom.area, rel=1e-9)
    assert shapely.union_all(list(fast.values())).area == pytest.approx(geom.area, rel=1e-9)


def assert_cover(zones, geom):
    z = np.asarray(list(zones.values()), dtype=object)
    assert abs(shapely.area(z).sum() - geom.area) <= 1e-6 * geom.area
    union = shapely.union_all(z)
    assert shapely.symmetric_difference(union, geom).area <= 1e-6 * geom.area
    tree = shapely.STRtree(z)
    i, j = tree.query(z, predicate="intersects")
    pair = i < j
    assert shapely.area(shapely.intersection(z[i[pair]], z[j[pair]])).sum() <= 1e-6 * geom.area


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    grid=st.booleans(),
    tol=st.sampled_from([0.5, 1.0, 2.0, 4.0]),
    labels=st.integers(1, 9),
)
# a zone of three edge pixels whose inside part a smoothed neighbouring edge took
@example(seed=400, grid=False, tol=1.0, labels=5)
def test_simplified_zones_cover_the_boundary_without_gaps_or_overlaps(seed, grid, tol, labels):
    rng = np.random.default_rng(seed)
    geom = irregular_boundary(rng)
    cell = 100.0
    if grid:
        xy = grid_units(rng, geom, cell, 0.3)
    else:
        xy = rng.uniform(-300, 6_300, (int(rng.integers(1, 60)), 2))
    lab = rng.integers(0, labels, len(xy))
    zones_mod._PIXELS.clear()
    plain = zones_from_points(xy, lab, geom, cell)
    smooth = zones_from_points(xy, lab, geom, cell, simplify_cells=tol)
    zones_mod._PIXELS.clear()
    assert set(smooth) == set(plain)
    assert_cover(smooth, geom)
    # the shared edges are one edge: a valid coverage (same vertices on both sides)
    assert shapely.coverage_is_valid(np.asarray(list(smooth.values()), dtype=object))


def test_simplify_off_is_the_raster_outline():
    rng = np.random.default_rng(8)
    geom = irregular_boundary(rng)
    xy = rng.uniform(0, 6_000, (40, 2))
    lab = rng.integers(0, 5, 40)
    zones_mod._PIXELS.clear()
    a = zones_from_points(xy, lab, geom, 100.0)
    b = zones_from_points(xy, lab, geom, 100.0, simplify_cells=0.0)
    zones_mod._PIXELS.clear()
    assert_same_zones(a, b)
    assert_cover(a, geom)
