"""Check and normalise each layer to the canonical schema, collecting every problem.

One pass does both: recognising a column, parsing its numbers and checking them are the same
work, and a planner wants all problems of a file listed at once, not the first one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.errors import Problem
from core.validate import duplicates, numeric_column, report_rows
from core.vocab import LEVELS
from geo.columns import (
    COLUMNS,
    COMBINED_LEVELS,
    DEFAULT_VALUES,
    REQUIRED,
    VALUE_TABLES,
    accepted,
    match_column,
    normalise_value,
)
from geo.layers import LayerSource


class LevelStandards(Protocol):
    """What checking needs of the rules: class size and number of grades per level."""

    def class_size(self, level: str) -> int: ...

    def grades(self, level: str) -> int: ...


POINT_LAYERS = {"schools", "candidates"}
LINE_LAYERS = {"roads"}
AREA_LAYERS = {"boundary"}
T = TypeVar("T")


def _where(src: LayerSource) -> dict[str, Any]:
    return {"file": src.file.name, "layer": src.layer or src.key}


def row_numbers(raw: pd.DataFrame) -> np.ndarray:
    """Spreadsheet row (header = 1) for tables, feature number (from 1) for vector files."""
    rows = raw.attrs.get("row_numbers")
    if rows is not None and len(rows) == len(raw):
        return np.asarray(rows, dtype=np.int64)
    return np.arange(len(raw)) + int(raw.attrs.get("row_offset", 1))


def map_columns(
    kind: str, raw: pd.DataFrame, src: LayerSource, problems: list[Problem]
) -> dict[str, str]:
    """canonical -> heading; reports missing required columns and mapping errors."""
    headings = (
        [c for c in raw.columns if c != raw.geometry.name]
        if isinstance(raw, gpd.GeoDataFrame)
        else list(raw.columns)
    )
    found: dict[str, str] = {}
    where = _where(src)
    for canonical in src.columns:
        if canonical not in COLUMNS[kind]:
            problems.append(
                Problem(
                    f"project.toml maps unknown field '{canonical}'",
                    fix=f"fields of the {kind} layer: {', '.join(COLUMNS[kind])}",
                    code="unknown_field",
                    **where,
                )
            )
    for canonical in COLUMNS[kind]:
        if canonical in src.columns:
            heading = src.columns[canonical]
            if heading in headings:
                found[canonical] = heading
            else:
                problems.append(
                    Problem(
                        f"column '{heading}' (mapped to {canonical}) is not in the file",
                        fix=f"the file's columns are: {', '.join(map(str, headings))}",
                        column=heading,
                        code="missing_column",
                        **where,
                    )
                )
            continue
        matched = match_column(kind, canonical, headings)
        if matched is not None:
            found[canonical] = matched
    for canonical in REQUIRED[kind]:
        if canonical not in found and canonical not in src.columns:
            aliases = " / ".join(COLUMNS[kind][canonical][:5])
            problems.append(
                Problem(
                    f"required column '{canonical}' not found (columns: {', '.join(map(str, headings))})",
                    fix=f"name a column {aliases}, or map it in project.toml: "
                    f'[layers.{src.key}.columns] {canonical} = "你的列名"',
                    column=canonical,
                    code="missing_column",
                    **where,
                )
            )
    unused = [h for h in headings if h not in found.values()]
    if unused:
        problems.append(
            Problem(
                f"columns not used: {', '.join(map(str, unused))}",
                fix=f"if one of them holds a field ({', '.join(COLUMNS[kind])}), map it in project.toml",
                severity="info",
                code="unused_columns",
                **where,
            )
        )
    return found


def _categorical(
    kind: str,
    canonical: str,
    raw: pd.DataFrame,
    cols: dict[str, str],
    src: LayerSource,
    rows: np.ndarray,
    *,
    problems: list[Problem],
) -> pd.Series:
    table = VALUE_TABLES[(kind, canonical)]
    default = DEFAULT_VALUES.get((kind, canonical))
    if canonical not in cols:
        return pd.Series(default, index=raw.index, dtype=object)
    values = raw[cols[canonical]]
    out = values.map(_once_per_value(lambda v: normalise_value(table, v)))
    blank = values.isna() | (values.astype(str).str.strip() == "")
    unknown = out.isna() & ~blank
    where = {**_where(src), "column": cols[canonical]}
    report_rows(problems, unknown, rows, lambda i: f"'{values.iloc[i]}' is not a known {canonical} value",
                fix=f"use one of: {accepted(table)}", code="unknown_value", where=where)  # fmt: skip
    if blank.any() and default == "":
        out = out.where(~blank, default)  # blank means "any" / unknown here, not a mistake
    elif blank.any() and default is not None:
        n = int(blank.sum())
        problems.append(
            Problem(
                f"{n} row(s) have no {canonical}; assumed '{default}'",
                fix=f"fill column '{cols[canonical]}' with one of: {accepted(table)}",
                row=int(rows[np.flatnonzero(blank.to_numpy())[0]]),
                column=cols[canonical],
                severity="warning",
                code="assumed_value",
                **_where(src),
            )
        )
        out = out.where(~blank, default)
    elif blank.any():
        report_rows(problems, blank, rows, f"{canonical} is missing",
                    fix=f"use one of: {accepted(table)}", code="missing_value", where=where)  # fmt: skip
    return out


def _once_per_value(fn: Callable[[Any], T]) -> Callable[[Any], T]:
    """``fn`` evaluated once per distinct cell: a column repeats a few spellings many times.

    Cells are keyed with their type, since 1, 1.0 and True are one dict key but not one text.
    """
    cache: dict[tuple[type, Any], T] = {}

    def once(v: Any) -> T:
        key = (type(v), v)
        try:
            return cache[key]
        except KeyError:
            cache[key] = result = fn(v)
            return result
        except TypeError:  # unhashable cell
            return fn(v)

    return once


def _ids(
    raw: pd.DataFrame,
    col: str | None,
    rows: np.ndarray,
    src: LayerSource,
    problems: list[Problem],
    prefix: str,
) -> pd.Series:
    if col is None:
        return pd.Series(
            [f"{prefix}{i + 1:05d}" for i in range(len(raw))], index=raw.index, dtype=object
        )
    ids = raw[col].map(_id_text)
    report_rows(problems, ids.isna(), rows, "id is missing", fix="give every feature an id",
                code="missing_id", where={**_where(src), "column": col})  # fmt: skip
    duplicates(ids, where=_where(src), column=col, row_numbers=rows, problems=problems)
    return ids


def _id_text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text or None


def _text(raw: pd.DataFrame, col: str | None) -> pd.Series:
    if col is None:
        return pd.Series("", index=raw.index, dtype=object)
    values = raw[col]
    blank = values.isna().to_numpy()
    if isinstance(values.dtype, pd.StringDtype) and len(values):
        # Road classes repeat a handful of words over a million rows: strip each word once.
        codes, words = pd.factorize(values)
        stripped = np.array([str(w).strip() for w in words] + [""], dtype=object)
        return pd.Series(stripped[codes], index=values.index, dtype=object)
    out = values.astype(str).str.strip().astype(object)
    out[blank] = ""
    return out


# shapely.get_type_id codes and the names geopandas' geom_type gives them (for messages).
TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
POINT, LINE, POLYGON, MULTIPOINT, MULTILINE, MULTIPOLYGON, COLLECTION = 0, 1, 3, 4, 5, 6, 7


def _shapes(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(gdf.geometry.values, dtype=object)


def check_geometry(
    gdf: gpd.GeoDataFrame, kind: str, src: LayerSource, problems: list[Problem]
) -> gpd.GeoDataFrame:
    """Report empty geometry, repair invalid polygons, turn areas into points where points are meant."""
    return _check_geometry(gdf, kind, src, problems)[0]


def _as_points(
    gdf: gpd.GeoDataFrame, positions: np.ndarray, how: Callable[[gpd.GeoSeries], gpd.GeoSeries]
) -> gpd.GeoDataFrame:
    """A copy with the shapes at ``positions`` replaced by ``how(shapes)``, a point of each."""
    gdf = gdf.copy()
    sel = gdf.index[positions]
    gdf.loc[sel, gdf.geometry.name] = how(gdf.loc[sel].geometry)
    return gdf


def _check_geometry(
    gdf: gpd.GeoDataFrame, kind: str, src: LayerSource, problems: list[Problem]
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """``check_geometry``; for a line layer also which rows keep a line (saves a second pass)."""
    # Plain shapely calls on the shape array: a million road segments would otherwise spend
    # most of their checking time building Series of geometry-type names.
    rows = row_numbers(gdf)
    where = _where(src)
    shapes = _shapes(gdf)
    empty = shapely.is_missing(shapes) | shapely.is_empty(shapes)
    _report_empty(empty, rows, src, problems)
    gdf, empty = _drop_broken(gdf, empty, rows, where, problems)
    ok = ~empty
    gdf, empty = _repair_invalid(gdf, ok, empty, rows, where, problems)
    at = np.flatnonzero(ok)  # positions of the rows with a shape (before any repair)
    types = shapely.get_type_id(_shapes(gdf)[at])
    lines = np.zeros(len(gdf), bool)
    if kind in POINT_LAYERS:
        gdf = _points_only(gdf, at, types, where, problems)
    elif kind == "population":
        gdf = _points_or_areas(gdf, at, types, rows, where, problems)
    elif kind in LINE_LAYERS:
        bad = ~np.isin(types, [LINE, MULTILINE])
        lines[at[~bad]] = True
        lines &= ~empty  # a repair may leave nothing
        for i in np.flatnonzero(bad):
            problems.append(
                Problem(
                    f"a road must be a line, found {TYPE_NAMES.get(int(types[i]))}",
                    fix="remove it or redraw it as a line",
                    row=int(rows[at[i]]),
                    severity="warning",
                    code="wrong_geometry",
                    **where,
                )
            )
    elif kind in AREA_LAYERS:
        bad = ~np.isin(types, [POLYGON, MULTIPOLYGON, COLLECTION])
        for i in np.flatnonzero(bad):
            problems.append(
                Problem(
                    f"the boundary must be a polygon, found {TYPE_NAMES.get(int(types[i]))}",
                    fix="give the county polygon",
                    row=int(rows[at[i]]),
                    code="wrong_geometry",
                    **where,
                )
            )
    return gdf, lines


def _report_empty(
    empty: np.ndarray, rows: np.ndarray, src: LayerSource, problems: list[Problem]
) -> None:
    where = _where(src)
    # Rows whose coordinates the reader already refused have no point; say so once, not twice.
    told = {
        p.row
        for p in problems
        if p.code == "bad_coordinates"
        and p.file == where["file"]
        and p.layer == src.key
        and p.row is not None
    }
    untold = empty & ~np.isin(rows, list(told))
    report_rows(problems, untold, rows, "geometry is empty or missing",
                fix="draw the feature again or delete the row", code="empty_geometry",
                where=where)  # fmt: skip


def _drop_broken(
    gdf: gpd.GeoDataFrame,
    empty: np.ndarray,
    rows: np.ndarray,
    where: dict[str, Any],
    problems: list[Problem],
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Coordinates that do not survive projection (latitude beyond 90°, text read as numbers)
    become inf: report them and drop the shape rather than let GEOS fail on it later."""
    shapes = _shapes(gdf)
    if np.isfinite(shapely.get_coordinates(shapes)).all():  # the usual case: nothing to find
        return gdf, empty
    bounds = shapely.bounds(shapes).reshape(len(gdf), 4)
    broken = ~empty & ~np.isfinite(bounds).all(axis=1)
    if not broken.any():
        return gdf, empty
    gdf = gdf.copy()
    report_rows(problems, broken, rows,
                "coordinates are out of range for the layer's coordinate system",
                fix="check the coordinates and the layer's CRS (longitude −180–180°, latitude −90–90°)",
                code="bad_coordinates", where=where)  # fmt: skip
    gdf.loc[broken, gdf.geometry.name] = None
    return gdf, empty | broken


def _repair_invalid(
    gdf: gpd.GeoDataFrame,
    ok: np.ndarray,
    empty: np.ndarray,
    rows: np.ndarray,
    where: dict[str, Any],
    problems: list[Problem],
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Invalid shapes made valid (a repair may leave nothing: then the row becomes empty)."""
    shapes = _shapes(gdf)
    invalid = ok & ~shapely.is_valid(shapes)
    if not invalid.any():
        return gdf, empty
    idx = np.flatnonzero(invalid)
    repaired = shapely.make_valid(shapes[idx])
    gdf = gdf.copy()
    gdf.loc[gdf.index[idx], gdf.geometry.name] = repaired
    empty = empty.copy()
    empty[idx] = shapely.is_missing(repaired) | shapely.is_empty(repaired)
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
    return gdf, empty


def _points_only(
    gdf: gpd.GeoDataFrame,
    at: np.ndarray,
    types: np.ndarray,
    where: dict[str, Any],
    problems: list[Problem],
) -> gpd.GeoDataFrame:
    """Schools and candidates are points: a point inside each area or line, a multipoint's centre."""
    areal = np.isin(types, [POLYGON, MULTIPOLYGON, LINE, MULTILINE])
    if areal.any():
        gdf = _as_points(gdf, at[areal], gpd.GeoSeries.representative_point)
        problems.append(
            Problem(
                f"{int(areal.sum())} feature(s) are areas or lines; a point inside each is used",
                fix="give points for this layer",
                severity="warning",
                code="not_point",
                **where,
            )
        )
    multi = types == MULTIPOINT
    if multi.any():
        gdf = _as_points(gdf, at[multi], lambda g: g.centroid)
    return gdf


def _points_or_areas(
    gdf: gpd.GeoDataFrame,
    at: np.ndarray,
    types: np.ndarray,
    rows: np.ndarray,
    where: dict[str, Any],
    problems: list[Problem],
) -> gpd.GeoDataFrame:
    """A unit is a point or an area; a line (a street traced for a community) is neither."""
    other = ~np.isin(types, [POINT, POLYGON, MULTIPOLYGON])
    if other.any():
        gdf = _as_points(gdf, at[other], gpd.GeoSeries.representative_point)
        problems.append(
            Problem(
                f"{int(other.sum())} unit(s) are lines or collections; a point on each is used",
                fix="give population units as points or polygons",
                row=int(rows[at[np.flatnonzero(other)[0]]]),
                severity="warning",
                code="not_point",
                **where,
            )
        )
    return gdf


def normalise_schools(
    raw: gpd.GeoDataFrame, src: LayerSource, problems: list[Problem], standards: LevelStandards
) -> gpd.GeoDataFrame:
    rows = row_numbers(raw)
    cols = map_columns("schools", raw, src, problems)
    where = _where(src)
    out = pd.DataFrame(index=raw.index)
    out["school_id"] = _ids(raw, cols.get("school_id"), rows, src, problems, "S")
    out["name"] = _text(raw, cols.get("name"))
    out["form"] = (
        _categorical("schools", "level", raw, cols, src, rows, problems=problems)
        if "level" in cols
        else None
    )
    # Counts of classes and pupils are required whole numbers; capacity and staff optional.
    numeric = {
        "classes": {"integer": True},
        "students": {"integer": True},
        "capacity": {"required": False},
        "teachers": {"required": False},
    }
    for c, options in numeric.items():
        out[c] = (
            numeric_column(
                raw[cols[c]],
                where=where,
                column=cols[c],
                problems=problems,
                row_numbers=rows,
                **options,
            )  # fmt: skip
            if c in cols
            else np.nan
        )
    for c in ("quality", "location", "status", "ownership", "school_type"):
        out[c] = _categorical("schools", c, raw, cols, src, rows, problems=problems)
    if "affiliation" in cols:  # optional: kept only when the data has it
        out["affiliation"] = _text(raw, cols["affiliation"])
    out["src_row"] = rows
    gdf = gpd.GeoDataFrame(out, geometry=raw.geometry.values, crs=raw.crs)
    gdf.attrs.update(raw.attrs)
    gdf = check_geometry(gdf, "schools", src, problems)
    return expand_levels(gdf, standards)


def _split(total: float, weights: list[int]) -> list[float]:
    """Split a count by integer weights with the largest-remainder rule so parts sum to the total."""
    if total != total:  # NaN stays NaN on every level
        return [np.nan] * len(weights)
    share = np.array(weights, float) / sum(weights) * total
    if float(total).is_integer():
        base = np.floor(share)
        rest = int(round(total - base.sum()))
        order = np.argsort(-(share - base), kind="stable")
        base[order[:rest]] += 1
        return list(base)
    return list(share)


EXPANDED_COLUMNS = [
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
# Columns a school keeps when the data has them.
OPTIONAL_COLUMNS = ["affiliation"]
SHARED_COUNTS = ("classes", "students", "capacity", "teachers")


def expand_levels(gdf: gpd.GeoDataFrame, standards: LevelStandards) -> gpd.GeoDataFrame:
    """One row per school and level; combined schools share classes, pupils and staff by grades."""
    # Column lists, not row dicts: a single-level school (nearly all) keeps its counts as they
    # are, which is what _split gives for one weight, and only combined schools are split.
    data = {c: gdf[c].tolist() for c in gdf.columns if c != "form"}
    take: list[int] = []
    level: list[str] = []
    combined: list[str] = []
    parts: dict[str, list[Any]] = {c: [] for c in SHARED_COUNTS}
    for i, form in enumerate(gdf["form"].tolist()):
        if form is None or (isinstance(form, float) and np.isnan(form)):
            continue
        levels = COMBINED_LEVELS[form]
        if len(levels) == 1:
            take.append(i)
            level.append(levels[0])
            combined.append("")
            for c in SHARED_COUNTS:
                total = data[c][i]
                parts[c].append(np.nan if total != total else np.float64(total))
            continue
        weights = [standards.grades(lv) for lv in levels]
        split = {c: _split(data[c][i], weights) for c in SHARED_COUNTS}
        for j, lv in enumerate(levels):
            take.append(i)
            level.append(lv)
            combined.append(form)
            for c in SHARED_COUNTS:
                parts[c].append(split[c][j])
    columns = {"level": level, "combined": combined, **parts}
    names = EXPANDED_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in data]
    for c in names:
        if c not in columns:
            values = data[c]
            columns[c] = [values[i] for i in take]
    records = list(zip(*(columns[c] for c in names)))
    out = gpd.GeoDataFrame(
        pd.DataFrame.from_records(records, columns=names),
        geometry="geometry",
        crs=gdf.crs,
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


# Projection inputs kept on the units layer under their own names; the projection checks them
# row by row (planning.projection.tables).
PROJECTION_COLUMNS = re.compile(r"^(births_\d{4}|age_\d{1,2}|delivery_year)$")


def normalise_units(
    raw: gpd.GeoDataFrame, src: LayerSource, problems: list[Problem]
) -> gpd.GeoDataFrame:
    rows = row_numbers(raw)
    cols = map_columns("population", raw, src, problems)
    where = _where(src)
    out = pd.DataFrame(index=raw.index)
    out["unit_id"] = _ids(raw, cols.get("unit_id"), rows, src, problems, "U")
    out["name"] = _text(raw, cols.get("name"))
    out["population"] = (
        numeric_column(
            raw[cols["population"]],
            where=where,
            column=cols["population"],
            problems=problems,
            row_numbers=rows,
        )
        if "population" in cols
        else np.nan
    )
    out["kind"] = _categorical("population", "kind", raw, cols, src, rows, problems=problems)
    out["town"] = _text(raw, cols.get("town"))
    for level in LEVELS:
        c = f"students_{level}"
        out[c] = (
            numeric_column(
                raw[cols[c]],
                where=where,
                column=cols[c],
                problems=problems,
                row_numbers=rows,
                required=False,
            )
            if c in cols
            else np.nan
        )
    if "affiliation" in cols:  # optional: kept only when the data has it
        out["affiliation"] = _text(raw, cols["affiliation"])
    out["src_row"] = rows
    for col in (c for c in raw.columns if PROJECTION_COLUMNS.match(str(c))):
        out[col] = raw[col]
    gdf = gpd.GeoDataFrame(out, geometry=raw.geometry.values, crs=raw.crs)
    gdf.attrs.update(raw.attrs)
    gdf = check_geometry(gdf, "population", src, problems)
    gdf["population"] = gdf["population"].astype(float)
    return gdf


def normalise_boundary(
    raw: gpd.GeoDataFrame, src: LayerSource, problems: list[Problem]
) -> gpd.GeoDataFrame:
    cols = map_columns("boundary", raw, src, problems)
    raw = check_geometry(raw, "boundary", src, problems)
    geoms = raw.geometry[~(raw.geometry.isna() | raw.geometry.is_empty)]
    geoms = geoms[geoms.geom_type.isin(["Polygon", "MultiPolygon", "GeometryCollection"])]
    name = str(raw[cols["name"]].iloc[0]) if "name" in cols and len(raw) else ""
    if len(geoms) == 0:
        return gpd.GeoDataFrame({"name": []}, geometry=[], crs=raw.crs)
    merged = shapely.union_all(np.asarray(geoms.values))
    merged = shapely.make_valid(merged)
    if merged.geom_type == "GeometryCollection":
        polys = [g for g in merged.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        merged = shapely.union_all(polys)
    return gpd.GeoDataFrame({"name": [name]}, geometry=[merged], crs=raw.crs)


def normalise_roads(
    raw: gpd.GeoDataFrame, src: LayerSource, problems: list[Problem]
) -> gpd.GeoDataFrame:
    rows = row_numbers(raw)
    cols = map_columns("roads", raw, src, problems)
    out = pd.DataFrame(index=raw.index)
    out["road_class"] = _text(raw, cols.get("road_class"))
    out["speed_kmh"] = (
        numeric_column(
            raw[cols["speed_kmh"]],
            where=_where(src),
            column=cols["speed_kmh"],
            problems=problems,
            row_numbers=rows,
            required=False,
        )
        if "speed_kmh" in cols
        else np.nan
    )
    gdf = gpd.GeoDataFrame(out, geometry=raw.geometry.values, crs=raw.crs)
    gdf.attrs.update(raw.attrs)
    gdf, keep = _check_geometry(gdf, "roads", src, problems)
    if keep.all():
        return gdf.reset_index(drop=True)
    return gdf[keep].reset_index(drop=True)


def normalise_candidates(
    raw: gpd.GeoDataFrame, src: LayerSource, problems: list[Problem]
) -> gpd.GeoDataFrame:
    rows = row_numbers(raw)
    cols = map_columns("candidates", raw, src, problems)
    out = pd.DataFrame(index=raw.index)
    out["candidate_id"] = _ids(raw, cols.get("candidate_id"), rows, src, problems, "C")
    out["name"] = _text(raw, cols.get("name"))
    out["level"] = _categorical("candidates", "level", raw, cols, src, rows, problems=problems)
    if "affiliation" in cols:  # optional: kept only when the data has it
        out["affiliation"] = _text(raw, cols["affiliation"])
    out["src_row"] = rows
    gdf = gpd.GeoDataFrame(out, geometry=raw.geometry.values, crs=raw.crs)
    gdf.attrs.update(raw.attrs)
    gdf = check_geometry(gdf, "candidates", src, problems)
    # A combined candidate level means any of its levels; keep the first for simplicity of matching.
    gdf["level"] = gdf["level"].map(
        lambda v: v if v in ("",) + LEVELS else (COMBINED_LEVELS.get(v, ("",))[0] if v else "")
    )
    return gdf


def check_inside(
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
    # Most points lie inside, where the distance is 0: a prepared point-in-polygon test is far
    # cheaper than a distance to every edge of the county outline.
    shapes = np.asarray(pts[valid].values)
    far = np.ones(len(shapes), bool)
    if len(shapes) and (shapely.get_type_id(shapes) == 0).all():
        far = ~shapely.contains_xy(shape, shapely.get_x(shapes), shapely.get_y(shapes))
    inner = np.zeros(len(shapes))
    inner[far] = shapely.distance(shapes[far], shape)
    dist[valid] = inner
    out = valid & (dist > tolerance_m)
    id_col = next((c for c in ("school_id", "unit_id", "candidate_id") if c in gdf.columns), None)
    reported = set()
    for i in np.flatnonzero(out.to_numpy()):
        row = int(gdf["src_row"].iloc[i]) if "src_row" in gdf.columns else int(i) + 1
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
