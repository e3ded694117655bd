"""The vectorised checks against a per-row specification and invariants.

``check_geometry`` is held to a table that says, for each kind of shape, what it is (empty,
out of range, invalid, or its type after repair) and what each layer makes of it; ``expand_levels``
to the sums a split must keep and a hand-computed split; ``check_inside`` to distances worked
out by hand for a square boundary.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box

from core.errors import Problem
from geo import checks
from geo.columns import COMBINED_LEVELS
from geo.layers import LayerSource
from planning.rules import LEVELS, Standards
from tests import builders

SRC = LayerSource(key="schools", file=Path("x.gpkg"))
BOWTIE = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
# (shape, what it is, its type once repaired)
SHAPES = [
    (None, "empty", None),
    (Point(5, 5), "ok", "Point"),
    (Point(), "empty", None),
    (Point(1e9, 5), "ok", "Point"),
    (Point(np.inf, 5), "broken", None),
    (LineString([(0, 0), (3, 4)]), "ok", "LineString"),
    (LineString([(1, 1), (1, 1)]), "invalid", "Point"),  # make_valid gives its point
    (LineString(), "empty", None),
    (box(1, 1, 3, 3), "ok", "Polygon"),
    (BOWTIE, "invalid", "MultiPolygon"),
    (MultiPoint([(1, 1), (2, 2)]), "ok", "MultiPoint"),
    (
        shapely.geometrycollections([Point(1, 1), LineString([(0, 0), (1, 1)])]),
        "ok",
        "GeometryCollection",
    ),
    (shapely.multilinestrings([[(0, 0), (1, 1)], [(2, 2), (3, 3)]]), "ok", "MultiLineString"),
    (shapely.multipolygons([box(0, 0, 1, 1), box(2, 2, 3, 3)]), "ok", "MultiPolygon"),
]
AREAL = {"Polygon", "MultiPolygon", "LineString", "MultiLineString"}
LINES = {"LineString", "MultiLineString"}


def expected(kind: str, picks: list[int], told: set[int]):
    """(problems as (code, row, severity), geometry type per row or None) by the rules:
    empty rows reported (unless the reader already told), out-of-range coordinates dropped,
    invalid shapes repaired (one warning), then what the layer expects of its shapes."""
    rows = range(1, len(picks) + 1)
    state = [SHAPES[i][1] for i in picks]
    kinds = [SHAPES[i][2] for i in picks]
    probs = [("empty_geometry", r, "error") for r, s in zip(rows, state) if s == "empty"]
    probs = [p for p in probs if p[1] not in told]
    probs += [("bad_coordinates", r, "error") for r, s in zip(rows, state) if s == "broken"]
    invalid = [r for r, s in zip(rows, state) if s == "invalid"]
    if invalid:
        probs.append(("invalid_geometry", invalid[0], "warning"))
    shaped = [(r, t) for r, t in zip(rows, kinds) if t is not None]
    out = list(kinds)
    if kind in ("schools", "candidates"):
        if any(t in AREAL for _, t in shaped):
            probs.append(("not_point", None, "warning"))
        out = ["Point" if t in AREAL | {"MultiPoint"} else t for t in kinds]
    elif kind == "population":
        other = [r for r, t in shaped if t not in ("Point", "Polygon", "MultiPolygon")]
        if other:
            probs.append(("not_point", other[0], "warning"))
        out = [t if t in (None, "Point", "Polygon", "MultiPolygon") else "Point" for t in kinds]
    elif kind == "roads":
        probs += [("wrong_geometry", r, "warning") for r, t in shaped if t not in LINES]
    else:
        keep = ("Polygon", "MultiPolygon", "GeometryCollection")
        probs += [("wrong_geometry", r, "error") for r, t in shaped if t not in keep]
    return probs, out


@settings(max_examples=120, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(SHAPES) - 1), min_size=1, max_size=12),
    kind=st.sampled_from(["schools", "candidates", "population", "roads", "boundary"]),
    told=st.lists(st.integers(1, 12), max_size=3),
)
def test_check_geometry_follows_the_rules_row_by_row(picks, kind, told):
    gdf = gpd.GeoDataFrame(
        {"src_row": range(1, len(picks) + 1)}, geometry=[SHAPES[i][0] for i in picks], crs=None
    )
    src = LayerSource(key=kind, file=Path("x.gpkg"))
    before = [Problem("x", code="bad_coordinates", file="x.gpkg", layer=kind, row=r) for r in told]
    problems = list(before)
    got = checks.check_geometry(gdf.copy(), kind, src, problems)
    want_problems, want_types = expected(kind, picks, set(told))
    new = problems[len(before) :]
    assert [(p.code, p.row, p.severity) for p in new] == want_problems
    assert all(p.file == "x.gpkg" and p.layer == kind for p in new)
    assert got["src_row"].tolist() == gdf["src_row"].tolist()
    types = [None if g is None or g.is_empty else g.geom_type for g in got.geometry.values]
    assert types == want_types
    for i, pick in enumerate(picks):  # shapes that needed nothing are kept as they were
        shape, what, kind_after = SHAPES[pick]
        if what == "ok" and want_types[i] == kind_after:
            assert got.geometry.values[i].equals(shape)
    if kind == "roads":
        kept = checks.normalise_roads(gdf.assign(道路等级="县道"), src, [])
        assert len(kept) == sum(t in LINES for t in want_types)


def test_messages_name_the_found_type_and_the_repaired_rows():
    gdf = gpd.GeoDataFrame(geometry=[BOWTIE, box(0, 0, 1, 1), BOWTIE])
    problems: list[Problem] = []
    checks.check_geometry(gdf, "roads", LayerSource(key="roads", file=Path("r.shp")), problems)
    assert "2 invalid geometries were repaired (rows 1, 3)" in problems[0].problem
    assert [p.problem for p in problems[1:]] == ["a road must be a line, found MultiPolygon",
        "a road must be a line, found Polygon", "a road must be a line, found MultiPolygon"]  # fmt: skip


totals = st.one_of(st.just(np.nan), st.integers(0, 3000).map(float), st.floats(0, 3000))


def _schools(rows) -> gpd.GeoDataFrame:
    """(form, classes, students, capacity, teachers, school_id) rows as normalise_schools
    gives them, each with its own attribute values."""
    keys = ("form", "classes", "students", "capacity", "teachers", "school_id")
    attrs = ("quality", "location", "status", "ownership", "school_type")
    if not rows:  # no row to take the columns from
        return builders.layer([], [], {**builders.SCHOOL_DEFAULTS, **dict.fromkeys(keys)})
    return builders.school_layer(
        [
            {"name": f"校{i}", **dict(zip(keys, r)), **{c: f"{c}{i}" for c in attrs}}
            for i, r in enumerate(rows)
        ]
    )


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([None, np.nan, *COMBINED_LEVELS]),
            totals,
            totals,
            totals,
            totals,
            st.sampled_from(["S1", "S2", "S3", None, "S10"]),
        ),
        min_size=0,
        max_size=10,
    )
)
def test_expand_levels_keeps_every_count_and_attribute(rows):
    std = Standards()
    gdf = _schools(rows)
    out = checks.expand_levels(gdf, std)
    forms = {i + 1: r[0] for i, r in enumerate(rows) if isinstance(r[0], str)}
    assert len(out) == sum(len(COMBINED_LEVELS[f]) for f in forms.values())
    order = [(LEVELS.index(lv), sid) for lv, sid in zip(out["level"], out["school_id"])]
    assert [o[0] for o in order] == sorted(o[0] for o in order)
    for c in ("classes", "students", "capacity"):
        assert str(out[c].dtype) == "int64"
    for src_row, form in forms.items():
        part = out[out["src_row"] == src_row]
        levels = COMBINED_LEVELS[form]
        assert sorted(part["level"], key=LEVELS.index) == list(levels)
        assert set(part["combined"]) == {form if len(levels) > 1 else ""}
        rec = gdf.iloc[src_row - 1]
        for c in ("name", "quality", "location", "status", "ownership", "school_type"):
            assert set(part[c]) == {rec[c]}
        assert (part.geometry == rec.geometry).all()
        for c in ("classes", "students"):
            total = rec[c]
            if np.isnan(total):
                assert (part[c] == 0).all()
            elif float(total).is_integer():
                assert part[c].sum() == total  # largest remainder: the parts add up
            else:
                assert abs(part[c].sum() - total) <= len(levels) / 2 + 1e-9
        t = rec["teachers"]
        if np.isnan(t):
            assert part["teachers"].isna().all()
        else:
            assert part["teachers"].sum() == np.float64(t) or np.isclose(part["teachers"].sum(), t)
        if not np.isnan(rec["capacity"]):
            if float(rec["capacity"]).is_integer():
                assert part["capacity"].sum() == rec["capacity"]
        elif not np.isnan(rec["classes"]) and float(rec["classes"]).is_integer():
            # no capacity given: classes × the level's class size
            sizes = part["level"].map(std.class_size)
            assert (part["capacity"] == part["classes"] * sizes).all()


def test_expand_levels_splits_by_grades_by_hand():
    """A nine-year school: 6 primary grades and 3 junior. 9 classes → 6 + 3; 100 pupils →
    66.7 + 33.3 → 67 + 33 (the larger remainder takes the spare pupil); 10 teachers → 7 + 3;
    2.5 teachers (not a whole count) → 5/3 + 5/6; no capacity → classes × the class size."""
    std = Standards()
    combined = next(f for f, lv in COMBINED_LEVELS.items() if lv == ("primary", "junior"))
    out = checks.expand_levels(_schools([(combined, 9.0, 100.0, np.nan, 10.0, "S1")]), std)
    assert out["level"].tolist() == ["primary", "junior"]
    assert out["classes"].tolist() == [6, 3]
    assert out["students"].tolist() == [67, 33]
    assert out["teachers"].tolist() == [7.0, 3.0]
    half = checks.expand_levels(_schools([(combined, 9.0, 100.0, np.nan, 2.5, "S1")]), std)
    assert np.allclose(half["teachers"], [5 / 3, 5 / 6])
    want_cap = [6 * std.class_size("primary"), 3 * std.class_size("junior")]
    assert out["capacity"].tolist() == want_cap
    assert std.grades("primary") == 6 and std.grades("junior") == 3


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(st.one_of(st.none(), st.text(" 县乡道a", max_size=4)), max_size=10),
    dtype=st.sampled_from(["str", object]),
)
def test_text_is_the_stripped_cell_and_blank_for_none(cells, dtype):
    raw = pd.DataFrame({"c": pd.Series(cells, dtype=dtype)})
    got = checks._text(raw, "c")
    assert got.dtype == object
    assert got.tolist() == ["" if c is None else c.strip() for c in cells]
    assert checks._text(raw, None).tolist() == [""] * len(cells)


def _outside_m(p: Point, size: float = 10000.0) -> float:
    """Distance from a point to the square [0, size]² (0 inside)."""
    dx = max(-p.x, 0.0, p.x - size)
    dy = max(-p.y, 0.0, p.y - size)
    return float(np.hypot(dx, dy))


@settings(max_examples=80, deadline=None)
@given(
    pts=st.lists(
        st.one_of(
            st.none(),
            st.tuples(st.floats(-3000, 13000), st.floats(-3000, 13000)).map(Point),
            st.just(box(-2000, -2000, -1500, -1500)),
            st.just(Point()),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_check_inside_reports_what_lies_beyond_the_tolerance(pts):
    boundary = gpd.GeoDataFrame({"name": ["b"]}, geometry=[box(0, 0, 10000, 10000)])
    gdf = gpd.GeoDataFrame(
        {"school_id": [f"S{i}" for i in range(len(pts))], "src_row": range(1, len(pts) + 1)},
        geometry=pts,
    )
    problems: list[Problem] = []
    checks.check_inside(gdf, boundary, SRC, problems)
    want = []
    for i, g in enumerate(pts):
        if g is None or g.is_empty:
            continue
        if g.geom_type == "Polygon":  # its inner point is 1.5-2 km out on both axes
            want.append((i + 1, f"S{i}", None))
        elif _outside_m(g) > 500.0:
            want.append((i + 1, f"S{i}", f"{_outside_m(g) / 1000:.1f} km"))
    assert [(p.row, p.feature_id) for p in problems] == [w[:2] for w in want]
    for p, (_, fid, km) in zip(problems, want, strict=True):
        assert p.code == "outside_boundary" and p.severity == "error"
        assert p.problem.startswith(f"{fid} lies ")
        if km is not None:
            assert km in p.problem
