"""Check and normalise each layer to the canonical schema, collecting every problem.

One pass does both: recognising a column, parsing its numbers and checking them are the same
work, and a planner wants all problems of a file listed at once, not the first one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from core.errors import Problem
from core.validate import duplicates, numeric_column, report_rows
from core.vocab import LEVELS, ROAD_CLASS
from core.vocab import normal_key as _key
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
from geo.plausibility import PlausibilityParams, check_schools, check_units
from geo.townships import polygon_part


class LevelStandards(Protocol):
    """What checking needs of the rules: class size and number of grades per level."""

    def class_size(self, level: str) -> int: ...

    def grades(self, level: str) -> int: ...


@dataclass(frozen=True)
class AssumedCapacity:
    """Places of a school whose data gives neither capacity nor classes (the rules' [data]):
    ``per_student`` × its pupils when known, else the default of its level."""

    primary: int = 540
    junior: int = 900
    senior: int = 1200
    per_student: float = 1.1

    def default(self, level: str) -> int:
        return int(getattr(self, level))


POINT_LAYERS = {"schools", "candidates"}
LEVEL_TABLE = {k: v for k, v in VALUE_TABLES[("schools", "level")].items() if k in LEVELS}
LINE_LAYERS = {"roads"}
AREA_LAYERS = {"boundary", "townships"}
# What an area layer's wrong shape is told as: (problem, fix, severity).
AREA_WORDS = {
    "boundary": ("the boundary must be a polygon", "give the county polygon", "error"),
    "townships": (
        "a township must be a polygon",
        "remove the row or give the township's area as a polygon (it is left out)",
        "warning",
    ),
}
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
    _by_values(kind, raw, headings, found, src, problems)
    for canonical in REQUIRED[kind]:
        if canonical not in found and canonical not in src.columns:
            aliases = " / ".join(COLUMNS[kind][canonical][:5])
            holding = f" holding {accepted(LEVEL_TABLE)}" if canonical == "level" else ""
            problems.append(
                Problem(
                    f"required column '{canonical}' not found (columns: {', '.join(map(str, headings))})",
                    fix=f"add a column {aliases}{holding}, or map one in project.toml: "
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


def _parse_share(values: pd.Series, table: dict[str, tuple[str, ...]]) -> float:
    """Share of the distinct non-blank cells of ``values`` that are spellings in ``table``."""
    cells = {str(v).strip() for v in values.dropna().unique()[:200]} - {""}
    if not cells:
        return 1.0
    return sum(normalise_value(table, c) is not None for c in cells) / len(cells)


def _by_values(
    kind: str,
    raw: pd.DataFrame,
    headings: list[str],
    found: dict[str, str],
    src: LayerSource,
    problems: list[Problem],
) -> None:
    """Recognise coded columns by their values as well as their headings: a heading taken for
    a field whose values it does not hold is let go (a ``Status`` column of ELEM/MS/HS), and a
    field still missing takes the column whose values are its spellings."""
    coded = [c for (k, c) in VALUE_TABLES if k == kind]
    for canonical in coded:
        heading = found.get(canonical)
        if heading is None or canonical in src.columns:
            continue
        other = [c for c in coded if c != canonical]
        if _parse_share(raw[heading], VALUE_TABLES[(kind, canonical)]) < 0.5 and any(
            _parse_share(raw[heading], VALUE_TABLES[(kind, c)]) >= 0.8 for c in other
        ):  # another field's values under this heading: leave it to that field
            del found[canonical]
    for canonical in coded:
        if canonical in found or canonical in src.columns:
            continue
        table = VALUE_TABLES[(kind, canonical)]
        taken = set(found.values())
        for h in headings:
            if h in taken or raw[h].dropna().astype(str).str.strip().eq("").all():
                continue
            if _parse_share(raw[h], table) >= 0.8 and not _is_numeric(raw[h]):
                found[canonical] = h
                problems.append(
                    Problem(
                        f"column '{h}' holds {canonical} values: read as {canonical}",
                        fix=f'if not, map the right column: [layers.{src.key}.columns] {canonical} = "..."',
                        severity="info",
                        code="column_by_values",
                        **_where(src),
                    )
                )
                break


def _is_numeric(values: pd.Series) -> bool:
    return bool(pd.to_numeric(values.dropna(), errors="coerce").notna().all())


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
    # The project's own words first ([layers.X.values]), then the vocabulary's spellings.
    own = {_key(k): v for k, v in src.values.get(canonical, {}).items()}
    out = values.map(
        _once_per_value(lambda v: normalise_value(table, own.get(_key(v), v) if own else v))
    )
    blank = values.isna() | (values.astype(str).str.strip() == "")
    unknown = out.isna() & ~blank
    where = {**_where(src), "column": cols[canonical]}
    report_rows(problems, unknown, rows, lambda i: f"'{values.iloc[i]}' is not a known {canonical} value",
                fix=f"use one of: {accepted(table)}; or map your word in project.toml: "
                f'[layers.{src.key}.values] {canonical} = {{"your word" = "..."}}',
                code="unknown_value", where=where)  # fmt: skip
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
        if len(raw):
            problems.append(
                Problem(
                    f"no id column: ids {prefix}00001… given by row order",
                    fix="add an id column (编号) so results can be matched to your rows "
                    "after the table changes",
                    severity="warning",
                    code="ids_from_rows",
                    **_where(src),
                )
            )
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
        text, fix, severity = AREA_WORDS[kind]
        for i in np.flatnonzero(bad):
            problems.append(
                Problem(
                    f"{text}, found {TYPE_NAMES.get(int(types[i]))}",
                    fix=fix,
                    row=int(rows[at[i]]),
                    severity=severity,
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
    coll = types == COLLECTION
    if coll.any():
        gdf = _as_points(gdf, at[coll], collection_point)
        problems.append(
            Problem(
                f"{int(coll.sum())} feature(s) are geometry collections; reduced to a point "
                f"(rows {', '.join(str(int(r)) for r in row_numbers(gdf)[at[coll]][:10])})",
                fix="save the layer with point geometry",
                severity="warning",
                code="not_point",
                **where,
            )
        )
    return gdf


def collection_point(shapes: gpd.GeoSeries) -> gpd.GeoSeries:
    """The point of each geometry collection: the centre of its points when it holds any
    (a school saved as a collection of one point), else a point inside its other parts."""
    out = []
    for g in shapes:
        parts = shapely.get_parts(g)
        pts = parts[shapely.get_type_id(parts) == POINT] if len(parts) else parts
        out.append(
            shapely.centroid(shapely.multipoints(pts)) if len(pts) else g.representative_point()
        )
    return gpd.GeoSeries(out, index=shapes.index, crs=shapes.crs)


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
    raw: gpd.GeoDataFrame,
    src: LayerSource,
    problems: list[Problem],
    standards: LevelStandards,
    assumed: AssumedCapacity | None = None,
) -> gpd.GeoDataFrame:
    """Schools in the canonical schema, one row per level; a school without capacity and
    classes gets an assumed capacity (``assumed``) and ``capacity_assumed`` True."""
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
    # Counts of classes and pupils are whole numbers; a school without them gets an assumed
    # capacity (see expand_levels), so none is required.
    numeric = {
        "classes": {"integer": True, "required": False},
        "students": {"integer": True, "required": False},
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
    if "students" in cols:
        # A blank count of pupils is read as none: say so row by row, it may be an oversight.
        report_rows(problems, out["students"].isna() & raw[cols["students"]].isna(), rows,
                    "number of pupils is missing: taken as 0", fix="fill in the pupils",
                    code="missing_value", where={**where, "column": cols["students"]},
                    severity="warning")  # fmt: skip
    for c in ("quality", "location", "status", "ownership", "school_type"):
        out[c] = _categorical("schools", c, raw, cols, src, rows, problems=problems)
    if "affiliation" in cols:  # optional: kept only when the data has it
        out["affiliation"] = _text(raw, cols["affiliation"])
    out["src_row"] = rows
    gdf = gpd.GeoDataFrame(out, geometry=raw.geometry.values, crs=raw.crs)
    gdf.attrs.update(raw.attrs)
    gdf = check_geometry(gdf, "schools", src, problems)
    out = expand_levels(gdf, standards, assumed or AssumedCapacity())
    _report_assumed(out, src, problems)
    return out


def _report_assumed(schools: gpd.GeoDataFrame, src: LayerSource, problems: list[Problem]) -> None:
    if "capacity_assumed" not in schools.columns:
        return
    n = int(schools["capacity_assumed"].sum())
    problems.append(
        Problem(
            f"{n} school level(s) have no capacity or classes: capacity assumed (from pupils "
            "where given, else the default of the level) and marked capacity_assumed",
            fix="add a capacity (学位数) or classes (班级数) column, or change the defaults "
            "under [data] in the rules",
            severity="warning",
            code="capacity_assumed",
            **_where(src),
        )
    )


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


def expand_levels(
    gdf: gpd.GeoDataFrame, standards: LevelStandards, assumed: AssumedCapacity | None = None
) -> gpd.GeoDataFrame:
    """One row per school and level; combined schools share classes, pupils and staff by grades.

    Capacity where missing: classes × class size; without classes either, assumed (see
    ``assume_capacity``)."""
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
    assume_capacity(out, sizes, assumed or AssumedCapacity())
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


def assume_capacity(out: pd.DataFrame, sizes: pd.Series, assumed: AssumedCapacity) -> None:
    """Rows with neither capacity nor classes get capacity from pupils × ``per_student`` or the
    level's default, classes = capacity / class size, and ``capacity_assumed`` True (the
    column is added only when a row needs it, so complete data keeps its schema)."""
    todo = out["capacity"].isna() & out["classes"].isna()
    if not todo.any():
        return
    students = out.loc[todo, "students"].round()  # as the counts are kept below
    default = out.loc[todo, "level"].map(assumed.default).astype(float)
    cap = np.ceil(students * assumed.per_student).where(students > 0, default)
    out.loc[todo, "capacity"] = cap
    out.loc[todo, "classes"] = np.ceil(cap / sizes[todo])
    out["capacity_assumed"] = todo.to_numpy()


# Projection inputs kept on the units layer under their own names; the projection checks them
# row by row (planning.projection.tables).
PROJECTION_COLUMNS = re.compile(r"^(births_\d{4}|age_\d{1,2}|delivery_year)$")


# Each unit's school now, per level (a re-zoning keeps it unless moving is needed or saves more
# than the rules' catchments.keep_current_km): school ids of the schools layer, "" when not known.
CURRENT_SCHOOL_COLUMNS = tuple(f"current_school_{level}" for level in LEVELS)


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
    for col in CURRENT_SCHOOL_COLUMNS:  # optional: the zones now, a re-zoning's baseline
        if col in cols:
            out[col] = raw[cols[col]].map(_id_text).fillna("").astype(object)
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


def normalise_townships(
    raw: gpd.GeoDataFrame, src: LayerSource, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """The townships layer as one (multi)polygon per township name, sorted by name, ``source``
    "given"; None (with a warning: the maps then approximate the townships) when it has no
    name column or no polygon. The layer only draws the maps: its problems are warnings."""
    where = _where(src)
    cols = map_columns("townships", raw, src, problems)
    if "name" not in cols:
        headings = [str(c) for c in raw.columns if c != raw.geometry.name]
        problems.append(
            Problem(
                f"the townships layer has no name column (columns: {', '.join(headings)}); "
                "it is not used",
                fix="add a column 乡镇名称 / 乡镇 / name, or map one in project.toml: "
                '[layers.townships.columns] name = "你的列名"',
                column="name",
                severity="warning",
                code="missing_column",
                **where,
            )
        )
        return None
    rows = row_numbers(raw)
    names = _text(raw, cols["name"]).to_numpy()
    raw = check_geometry(raw, "townships", src, problems)
    shapes = [polygon_part(g) for g in raw.geometry.values]
    has_shape = np.array([g is not None for g in shapes], bool)
    blank = has_shape & (names == "")
    report_rows(problems, blank, rows, "the township has no name: its area is left out",
                fix="fill in the name", code="missing_value", where=where,
                severity="warning")  # fmt: skip
    keep = has_shape & ~blank
    if not keep.any():
        problems.append(
            Problem(
                "the townships layer has no named polygon; it is not used",
                fix="give the townships as polygons with a name column",
                severity="warning",
                code="empty_layer",
                **where,
            )
        )
        return None
    kept = pd.DataFrame({"name": names[keep], "shape": np.array(shapes, dtype=object)[keep]})
    by_name = kept.groupby("name", sort=True)["shape"].agg(
        lambda s: shapely.make_valid(shapely.union_all(np.asarray(s.values)))
    )
    out = gpd.GeoDataFrame(
        {"name": list(by_name.index), "source": "given"},
        geometry=[polygon_part(g) for g in by_name.values],
        crs=raw.crs,
    )
    return out[out.geometry.notna()].reset_index(drop=True)


def road_class_codes(words: pd.Series) -> pd.Series:
    """Road classes as ``core.vocab.ROAD_CLASS`` codes (县道 -> secondary, trunk_link -> trunk),
    each distinct word parsed once; a word the vocabulary does not know is kept as it is."""
    codes, uniq = pd.factorize(words)
    parsed = np.array([ROAD_CLASS.parse(w) or str(w) for w in uniq] + [""], dtype=object)
    return pd.Series(parsed[codes], index=words.index, dtype=object)


def normalise_roads(
    raw: gpd.GeoDataFrame, src: LayerSource, problems: list[Problem]
) -> gpd.GeoDataFrame:
    rows = row_numbers(raw)
    cols = map_columns("roads", raw, src, problems)
    out = pd.DataFrame(index=raw.index)
    out["road_class"] = road_class_codes(_text(raw, cols.get("road_class")))
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
    boundary: gpd.GeoDataFrame | None,
    src: LayerSource,
    problems: list[Problem],
    tolerance_m: float = 1000.0,
) -> gpd.GeoDataFrame:
    """``gdf`` without the rows farther than ``tolerance_m`` outside the boundary (dropped with a
    warning naming them); rows outside within the tolerance are kept with a warning."""
    if boundary is None or len(boundary) == 0 or len(gdf) == 0:
        return gdf
    dist = _outside_m(gdf, boundary.geometry.iloc[0])
    # A few hundred metres is the usual error of a point taken from a web map: silent.
    near = (dist > min(NOISE_M, tolerance_m)) & (dist <= tolerance_m)
    far = dist > tolerance_m
    id_col = next((c for c in ("school_id", "unit_id", "candidate_id") if c in gdf.columns), None)
    rows = gdf["src_row"].to_numpy() if "src_row" in gdf.columns else np.arange(len(gdf)) + 1
    for mask, verb, fix in (
        (near, "kept", "check its coordinates if it should lie inside"),
        (far, "left out", "check its coordinates (swapped, or from another coordinate system?) "
                         f"or raise data.edge_tolerance_m (now {tolerance_m:g} m)"),
    ):  # fmt: skip
        _report_outside(gdf, mask, dist, rows=rows, id_col=id_col, verb=verb, fix=fix, src=src,
                        problems=problems)  # fmt: skip
    if not far.any():
        return gdf
    return gdf[~far].reset_index(drop=True)


NOISE_M = 500.0


def _outside_m(gdf: gpd.GeoDataFrame, shape: shapely.Geometry) -> np.ndarray:
    """Metres each row's point (or a point on its area) lies outside ``shape``; 0 inside."""
    pts = (
        gdf.geometry.representative_point()
        if not (gdf.geom_type == "Point").all()
        else gdf.geometry
    )
    shapes = np.asarray(pts.values, dtype=object)
    valid = ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))
    dist = np.zeros(len(gdf))
    # Most points lie inside, where the distance is 0: a prepared point-in-polygon test is far
    # cheaper than a distance to every edge of the county outline.
    sel = shapes[valid]
    far = np.ones(len(sel), bool)
    if len(sel) and (shapely.get_type_id(sel) == 0).all():
        shapely.prepare(shape)
        far = ~shapely.contains_xy(shape, shapely.get_x(sel), shapely.get_y(sel))
    inner = np.zeros(len(sel))
    inner[far] = shapely.distance(sel[far], shape)
    dist[valid] = inner
    return dist


def _report_outside(
    gdf: gpd.GeoDataFrame,
    mask: np.ndarray,
    dist: np.ndarray,
    *,
    rows: np.ndarray,
    id_col: str | None,
    verb: str,
    fix: str,
    src: LayerSource,
    problems: list[Problem],
) -> None:
    """One warning per row (a combined school's levels share a row)."""
    reported = set()
    for i in np.flatnonzero(mask):
        row = int(rows[i])
        if row in reported:
            continue
        reported.add(row)
        fid = str(gdf[id_col].iloc[i]) if id_col else ""
        problems.append(
            Problem(
                f"{fid} lies {dist[i] / 1000:.1f} km outside the county boundary: {verb}",
                fix=fix,
                file=src.file.name,
                layer=src.layer or src.key,
                row=row,
                severity="warning",
                code="outside_boundary",
                feature_id=fid,
            )
        )


def check_plausible(
    found: dict[str, gpd.GeoDataFrame | None],
    src: dict[str, LayerSource],
    problems: list[Problem],
    limits: PlausibilityParams,
) -> None:
    """Values out of reason in the population and schools layers (``geo.plausibility``):
    errors make the data unusable, before a typo plans thousands of schools or takes memory in
    proportion to an absurd number."""
    units, schools = found.get("population"), found.get("schools")
    if units is not None and len(units):
        check_units(units, _where(src["population"]), problems, limits)
    if schools is not None and len(schools):
        # one row per school and level: a combined school's row once is enough
        first = schools.drop_duplicates("src_row") if "src_row" in schools else schools
        check_schools(first, _where(src["schools"]), problems, limits)


def check_road_coverage(
    roads: gpd.GeoDataFrame | None,
    layers: dict[str, gpd.GeoDataFrame | None],
    src: dict[str, LayerSource],
    problems: list[Problem],
    snap_max_m: float,
) -> None:
    """A warning per point layer with places farther than ``snap_max_m`` from every road
    (how many, the farthest): their distances rest on the straight off-road leg, so a roads
    layer covering only the county seat is said, not silently planned on."""
    if roads is None or not len(roads):
        return
    lines = np.asarray(roads.geometry.values)
    lines = lines[~shapely.is_empty(lines) & ~shapely.is_missing(lines)]
    if not len(lines):
        return
    tree = shapely.STRtree(lines)
    for key, gdf in layers.items():
        if gdf is None or not len(gdf) or key not in src:
            continue
        pts = np.asarray(gdf.geometry.values)
        ok = ~shapely.is_empty(pts) & ~shapely.is_missing(pts)
        pts = shapely.centroid(pts[ok])
        # only the points with no road within reach get a true nearest distance
        near, _ = tree.query_nearest(pts, max_distance=snap_max_m, all_matches=False)
        far = np.ones(len(pts), bool)
        far[near] = False
        if not far.any():
            continue
        _, dist = tree.query_nearest(pts[far], return_distance=True, all_matches=False)
        problems.append(
            Problem(
                f"{int(far.sum())} of {len(pts)} places lie farther than {snap_max_m:,.0f} m "
                f"from every road (the farthest {float(dist.max()) / 1000:.1f} km): their "
                "distances are the straight line × the off-road detour factor",
                fix="add the roads near them, or raise distance.snap_max_m in the rules if "
                "paths reach them",
                severity="warning",
                code="far_from_roads",
                **_where(src[key]),
            )
        )


def check_current_schools(
    units: gpd.GeoDataFrame | None,
    schools: gpd.GeoDataFrame | None,
    src: LayerSource,
    problems: list[Problem],
) -> None:
    """A warning per unit whose ``current_school_<level>`` is not a school of that level in the
    schools layer: the unit is then planned as if it had no school now."""
    if units is None or schools is None or not len(units):
        return
    rows = units["src_row"].to_numpy() if "src_row" in units else row_numbers(units)
    ids = schools["school_id"].astype(str)
    for col in (c for c in CURRENT_SCHOOL_COLUMNS if c in units.columns):
        level = col.removeprefix("current_school_")
        known = set(ids[schools["level"] == level])
        given = units[col].fillna("").astype(str)
        bad = ((given != "") & ~given.isin(known)).to_numpy()
        heading = src.columns.get(col, col)
        texts = [
            f"current {level} school '{g}' is not a {level} school of the schools layer: "
            "the unit is planned as if it had no school now"
            for g in given
        ]
        report_rows(
            problems,
            bad,
            rows,
            texts.__getitem__,
            fix="give the school_id (编号) of a school of that level in the schools layer, or "
            "leave the cell blank",
            code="unknown_current_school",
            where={**_where(src), "column": heading},
            severity="warning",
        )
