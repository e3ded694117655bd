"""The vectorised checks give what the row-by-row checks they replaced gave.

The reference functions below are the previous implementations of ``geo.checks``
(``check_geometry``, ``expand_levels``, ``_text``, ``check_inside``), kept verbatim so that any
later speed work is held to the same problems, rows, messages and frames.
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
from geo.checks import AREA_LAYERS, LINE_LAYERS, POINT_LAYERS, _split, _where, row_numbers
from geo.columns import COMBINED_LEVELS
from geo.layers import LayerSource
from planning.rules import LEVELS, Standards

# ---------------------------------------------------------------- references (previous code)


def ref_check_geometry(
    gdf: gpd.GeoDataFrame, kind: str, src: LayerSource, problems: list[Problem]
) -> gpd.GeoDataFrame:
    """Report empty geometry, repair invalid polygons, turn areas into points where points are meant."""
    rows = row_numbers(gdf)
    where = _where(src)
    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    # Rows whose coordinates the reader already refused have no point; say so once, not twice.
    told = {
        p.row
        for p in problems
        if p.code == "bad_coordinates" and p.file == where["file"] and p.layer == src.key
    }
    for i in np.flatnonzero(empty.to_numpy()):
        if int(rows[i]) in told:
            continue
        problems.append(
            Problem(
                "geometry is empty or missing",
                fix="draw the feature again or delete the row",
                row=int(rows[i]),
                code="empty_geometry",
                **where,
            )
        )
    # Coordinates that do not survive projection (latitude beyond 90°, text read as numbers)
    # become inf: report them and drop the shape rather than let GEOS fail on it later.
    bounds = np.asarray(geom.bounds, dtype=float).reshape(len(gdf), 4)
    broken = ~empty & ~np.isfinite(bounds).all(axis=1)
    if broken.any():
        gdf = gdf.copy()
        for i in np.flatnonzero(broken.to_numpy()):
            problems.append(
                Problem(
                    "coordinates are out of range for the layer's coordinate system",
                    fix="check the coordinates and the layer's CRS (longitude −180–180°, latitude −90–90°)",
                    row=int(rows[i]),
                    code="bad_coordinates",
                    **where,
                )
            )
        gdf.loc[broken.to_numpy(), gdf.geometry.name] = None
        geom = gdf.geometry
        empty = empty | broken
    ok = ~empty
    invalid = ok & ~geom.is_valid
    if invalid.any():
        idx = np.flatnonzero(invalid.to_numpy())
        repaired = shapely.make_valid(np.asarray(geom.values[idx]))
        gdf = gdf.copy()
        gdf.loc[gdf.index[idx], gdf.geometry.name] = repaired
        problems.append(
            Problem(
                f"{len(idx)} invalid geometr{'y was' if len(idx) == 1 else 'ies were'} repaired "
                f"(rows {', '.join(str(int(rows[i])) for i in idx[:10])})",
                fix="check the repaired shapes in QGIS (Vector ▸ Geometry Tools ▸ Check Validity)",
                row=int(rows[idx[0]]),
                severity="warning",
                code="invalid_geometry",
                **where,
            )
        )
    types = gdf.geometry[ok].geom_type
    if kind in POINT_LAYERS:
        areal = types.isin(["Polygon", "MultiPolygon", "LineString", "MultiLineString"])
        if areal.any():
            gdf = gdf.copy()
            sel = areal.index[areal.to_numpy()]
            gdf.loc[sel, gdf.geometry.name] = gdf.loc[sel].geometry.representative_point()
            problems.append(
                Problem(
                    f"{int(areal.sum())} feature(s) are areas or lines; a point inside each is used",
                    fix="give points for this layer",
                    severity="warning",
                    code="not_point",
                    **where,
                )
            )
        multi = types == "MultiPoint"
        if multi.any():
            gdf = gdf.copy()
            sel = multi.index[multi.to_numpy()]
            gdf.loc[sel, gdf.geometry.name] = gdf.loc[sel].geometry.centroid
    elif kind == "population":
        # A unit is a point or an area; a line (a street traced for a community) is neither.
        other = ~types.isin(["Point", "Polygon", "MultiPolygon"])
        if other.any():
            gdf = gdf.copy()
            sel = other.index[other.to_numpy()]
            gdf.loc[sel, gdf.geometry.name] = gdf.loc[sel].geometry.representative_point()
            problems.append(
                Problem(
                    f"{int(other.sum())} unit(s) are lines or collections; a point on each is used",
                    fix="give population units as points or polygons",
                    row=int(
                        rows[np.flatnonzero(ok.to_numpy())[np.flatnonzero(other.to_numpy())[0]]]
                    ),
                    severity="warning",
                    code="not_point",
                    **where,
                )
            )
    elif kind in LINE_LAYERS:
        bad = ~types.isin(["LineString", "MultiLineString"])
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(
                Problem(
                    f"a road must be a line, found {types.iloc[i]}",
                    fix="remove it or redraw it as a line",
                    row=int(rows[np.flatnonzero(ok.to_numpy())[i]]),
                    severity="warning",
                    code="wrong_geometry",
                    **where,
                )
            )
    elif kind in AREA_LAYERS:
        bad = ~types.isin(["Polygon", "MultiPolygon", "GeometryCollection"])
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(
                Problem(
                    f"the boundary must be a polygon, found {types.iloc[i]}",
                    fix="give the county polygon",
                    row=int(rows[np.flatnonzero(ok.to_numpy())[i]]),
                    code="wrong_geometry",
                    **where,
                )
            )
    return gdf


def ref_expand_levels(gdf: gpd.GeoDataFrame, standards: Standards) -> gpd.GeoDataFrame:
    """One row per school and level; combined schools share classes, pupils and staff by grades."""
    records = []
    for rec in gdf.to_dict("records"):
        form = rec.pop("form")
        if form is None or (isinstance(form, float) and np.isnan(form)):
            continue
        levels = COMBINED_LEVELS[form]
        weights = [standards.grades(lv) for lv in levels]
        parts = {
            c: _split(rec[c], weights) for c in ("classes", "students", "capacity", "teachers")
        }
        for j, level in enumerate(levels):
            row = dict(rec)
            row["level"] = level
            row["combined"] = form if len(levels) > 1 else ""
            for c in parts:
                row[c] = parts[c][j]
            records.append(row)
    cols = [
        "school_id",
        "name",
        "level",
        "classes",
        "students",
        "capacity",
        "teachers",
        "quality",
        "location",
        "status",
        "ownership",
        "school_type",
        "combined",
        "src_row",
        "geometry",
    ]
    out = gpd.GeoDataFrame(
        pd.DataFrame.from_records(records, columns=cols), geometry="geometry", crs=gdf.crs
    )
    out["level_order"] = out["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    missing_cap = out["capacity"].isna()
    sizes = out["level"].map(standards.class_size).astype(float)
    out.loc[missing_cap, "capacity"] = out.loc[missing_cap, "classes"] * sizes[missing_cap]
    out = (
        out.sort_values(["level_order", "school_id"], kind="stable")
        .drop(columns="level_order")
        .reset_index(drop=True)
    )
    for c in ("classes", "students", "capacity"):
        out[c] = out[c].fillna(0).round().astype("int64")
    out["teachers"] = out["teachers"].astype(float)
    out.attrs.update(gdf.attrs)
    return out


def ref_text(raw, col) -> pd.Series:
    if col is None:
        return pd.Series("", index=raw.index, dtype=object)
    values = raw[col]
    blank = values.isna().to_numpy()
    out = values.astype(str).str.strip().astype(object)
    out[blank] = ""
    return out


def ref_check_inside(
    gdf: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame,
    src: LayerSource,
    problems: list[Problem],
    tolerance_m: float = 500.0,
) -> None:
    """Points (or unit centres) farther than ``tolerance_m`` outside the boundary are errors."""
    if boundary is None or len(boundary) == 0 or len(gdf) == 0:
        return
    shape = boundary.geometry.iloc[0]
    pts = (
        gdf.geometry.representative_point()
        if not (gdf.geom_type == "Point").all()
        else gdf.geometry
    )
    valid = ~(pts.isna() | pts.is_empty)
    dist = pd.Series(np.zeros(len(gdf)), index=gdf.index)
    dist[valid] = pts[valid].distance(shape)
    out = valid & (dist > tolerance_m)
    id_col = next((c for c in ("school_id", "unit_id", "candidate_id") if c in gdf.columns), None)
    reported = set()
    for i in np.flatnonzero(out.to_numpy()):
        row = int(gdf["src_row"].iloc[i]) if "src_row" in gdf.columns else i + 1
        if row in reported:
            continue
        reported.add(row)
        fid = str(gdf[id_col].iloc[i]) if id_col else ""
        problems.append(
            Problem(
                f"{fid} lies {dist.iloc[i] / 1000:.1f} km outside the county boundary",
                fix="check its coordinates (swapped, or from another coordinate system?) or remove it",
                file=src.file.name,
                layer=src.layer or src.key,
                row=row,
                code="outside_boundary",
                feature_id=fid,
            )
        )


# ---------------------------------------------------------------- comparisons

SRC = LayerSource(key="schools", file=Path("x.gpkg"))
BOWTIE = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
SHAPES = [
    None,
    Point(5, 5),
    Point(),
    Point(1e9, 5),
    Point(np.inf, 5),
    LineString([(0, 0), (3, 4)]),
    LineString([(1, 1), (1, 1)]),
    LineString(),
    box(1, 1, 3, 3),
    BOWTIE,
    MultiPoint([(1, 1), (2, 2)]),
    shapely.geometrycollections([Point(1, 1), LineString([(0, 0), (1, 1)])]),
    shapely.multilinestrings([[(0, 0), (1, 1)], [(2, 2), (3, 3)]]),
    shapely.multipolygons([box(0, 0, 1, 1), box(2, 2, 3, 3)]),
]


def _problems_as_dicts(problems: list[Problem]) -> list[dict]:
    return [p.__dict__ for p in problems]


def _same_gdf(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes]
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
    )
    wa = [None if g is None else shapely.to_wkb(g) for g in a.geometry.values]
    wb = [None if g is None else shapely.to_wkb(g) for g in b.geometry.values]
    assert wa == wb


@settings(max_examples=80, deadline=None)
@given(
    picks=st.lists(st.integers(0, len(SHAPES) - 1), min_size=1, max_size=12),
    kind=st.sampled_from(["schools", "candidates", "population", "roads", "boundary"]),
    told=st.lists(st.integers(1, 12), max_size=3),
)
def test_check_geometry_matches_the_row_by_row_version(picks, kind, told):
    gdf = gpd.GeoDataFrame(
        {"src_row": range(1, len(picks) + 1)}, geometry=[SHAPES[i] for i in picks], crs=None
    )
    src = LayerSource(key=kind, file=Path("x.gpkg"))
    before = [Problem("x", code="bad_coordinates", file="x.gpkg", layer=kind, row=r) for r in told]
    got_p, want_p = list(before), list(before)
    got = checks.check_geometry(gdf.copy(), kind, src, got_p)
    want = ref_check_geometry(gdf.copy(), kind, src, want_p)
    assert _problems_as_dicts(got_p) == _problems_as_dicts(want_p)
    _same_gdf(got, want)
    if kind == "roads":
        kept = checks.normalise_roads(gdf.assign(道路等级="县道"), src, [])
        want_keep = ~(want.geometry.isna() | want.geometry.is_empty) & want.geom_type.isin(
            ["LineString", "MultiLineString"]
        )
        assert len(kept) == int(want_keep.sum())


totals = st.one_of(st.just(np.nan), st.integers(0, 3000).map(float), st.floats(0, 3000))


@settings(max_examples=80, deadline=None)
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
def test_expand_levels_matches_the_row_by_row_version(rows):
    frame = pd.DataFrame(
        {
            "school_id": [r[5] for r in rows],
            "name": [f"校{i}" for i in range(len(rows))],
            "form": pd.Series([r[0] for r in rows], dtype=object),
            "classes": [r[1] for r in rows],
            "students": [r[2] for r in rows],
            "capacity": [r[3] for r in rows],
            "teachers": [r[4] for r in rows],
        }
    )
    for c in ("quality", "location", "status", "ownership", "school_type"):
        frame[c] = pd.Series(["x"] * len(rows), dtype=object)
    frame["src_row"] = np.arange(1, len(rows) + 1)
    gdf = gpd.GeoDataFrame(
        frame, geometry=[Point(i, i) for i in range(len(rows))], crs="EPSG:32649"
    )
    _same_gdf(checks.expand_levels(gdf, Standards()), ref_expand_levels(gdf, Standards()))


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(st.one_of(st.none(), st.text(" 县乡道a", max_size=4)), max_size=10),
    dtype=st.sampled_from(["str", object]),
)
def test_text_matches_the_previous_version(cells, dtype):
    raw = pd.DataFrame({"c": pd.Series(cells, dtype=dtype)})
    got, want = checks._text(raw, "c"), ref_text(raw, "c")
    assert got.dtype == want.dtype
    assert got.tolist() == want.tolist()


@settings(max_examples=60, deadline=None)
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
def test_check_inside_matches_the_previous_version(pts):
    boundary = gpd.GeoDataFrame({"name": ["b"]}, geometry=[box(0, 0, 10000, 10000)])
    gdf = gpd.GeoDataFrame(
        {"school_id": [f"S{i}" for i in range(len(pts))], "src_row": range(1, len(pts) + 1)},
        geometry=pts,
    )
    got, want = [], []
    checks.check_inside(gdf, boundary, SRC, got)
    ref_check_inside(gdf, boundary, SRC, want)
    assert _problems_as_dicts(got) == _problems_as_dicts(want)
