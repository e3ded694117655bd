"""Check and normalise each layer to the canonical schema, collecting every problem.

One pass does both: recognising a column, parsing its numbers and checking them are the same
work, and a planner wants all problems of a file listed at once, not the first one.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

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
from planning.errors import Problem
from planning.rules import LEVELS, Standards
from planning.validate import duplicates, numeric_column, report_rows

POINT_LAYERS = {"schools", "candidates"}
LINE_LAYERS = {"roads"}
AREA_LAYERS = {"boundary"}


def _where(src: LayerSource) -> dict:
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
        heading = match_column(kind, canonical, headings)
        if heading is not None:
            found[canonical] = heading
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


def _categorical(kind, canonical, raw, cols, src, rows, problems) -> pd.Series:
    table = VALUE_TABLES[(kind, canonical)]
    default = DEFAULT_VALUES.get((kind, canonical))
    if canonical not in cols:
        return pd.Series(default, index=raw.index, dtype=object)
    values = raw[cols[canonical]]
    out = values.map(lambda v: normalise_value(table, v))
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


def _ids(raw, col, rows, src, problems, prefix) -> pd.Series:
    if col is None:
        return pd.Series(
            [f"{prefix}{i + 1:05d}" for i in range(len(raw))], index=raw.index, dtype=object
        )
    ids = raw[col].map(_id_text)
    report_rows(problems, ids.isna(), rows, "id is missing", fix="give every feature an id",
                code="missing_id", where={**_where(src), "column": col})  # fmt: skip
    duplicates(ids, where=_where(src), column=col, row_numbers=rows, problems=problems)
    return ids


def _id_text(v) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text or None


def _text(raw, col) -> pd.Series:
    if col is None:
        return pd.Series("", index=raw.index, dtype=object)
    values = raw[col]
    blank = values.isna().to_numpy()
    out = values.astype(str).str.strip().astype(object)
    out[blank] = ""
    return out


def check_geometry(
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


def normalise_schools(
    raw: gpd.GeoDataFrame, src: LayerSource, problems: list[Problem], standards: Standards
) -> gpd.GeoDataFrame:
    rows = row_numbers(raw)
    cols = map_columns("schools", raw, src, problems)
    where = _where(src)
    out = pd.DataFrame(index=raw.index)
    out["school_id"] = _ids(raw, cols.get("school_id"), rows, src, problems, "S")
    out["name"] = _text(raw, cols.get("name"))
    out["form"] = (
        _categorical("schools", "level", raw, cols, src, rows, problems)
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
        out[c] = _categorical("schools", c, raw, cols, src, rows, problems)
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


def expand_levels(gdf: gpd.GeoDataFrame, standards: Standards) -> gpd.GeoDataFrame:
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
    out["kind"] = _categorical("population", "kind", raw, cols, src, rows, problems)
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
    out["src_row"] = rows
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
    gdf = check_geometry(gdf, "roads", src, problems)
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty) & gdf.geometry.geom_type.isin(
        ["LineString", "MultiLineString"]
    )
    return gdf[keep].reset_index(drop=True)


def normalise_candidates(
    raw: gpd.GeoDataFrame, src: LayerSource, problems: list[Problem]
) -> gpd.GeoDataFrame:
    rows = row_numbers(raw)
    cols = map_columns("candidates", raw, src, problems)
    out = pd.DataFrame(index=raw.index)
    out["candidate_id"] = _ids(raw, cols.get("candidate_id"), rows, src, problems, "C")
    out["name"] = _text(raw, cols.get("name"))
    out["level"] = _categorical("candidates", "level", raw, cols, src, rows, problems)
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
