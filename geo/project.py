"""A project: which files hold which layer, the CRS and the rules; loading and checking them.

``load_project`` never raises for bad data: it returns a ``CheckReport`` listing every problem,
and the layers when they are usable, so ``schoolplan check`` can show all problems at once.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from core.errors import InputError, Problem, ProblemList, ProjectError, SchoolPlanError
from core.vocab import LEVELS
from geo import checks
from geo.checks import LevelStandards
from geo.crs import choose_metric_crs, convert_points
from geo.layers import (
    LAYER_KEYS,
    LAYER_ZH,
    MAP_ONLY_LAYERS,
    OPTIONAL_LAYERS,
    Layers,
    LayerSource,
)
from geo.osm import roads_from_osm, schools_from_osm
from geo.plausibility import PlausibilityParams
from geo.raster import population_from_raster
from geo.read import PendingLayer, as_frame, gc_paused, read_layer
from geo.roads import SNAP_MAX_M
from geo.rowfilter import keep_rows

SAMPLE_PROJECT = Path(__file__).resolve().parents[1] / "sample_maps" / "daoxian"
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")


@dataclass
class ProjectConfig:
    path: Path | None  # the project.toml, None when layers come from the command line
    name: str = ""
    name_en: str = ""
    crs: str | None = None
    rules_file: Path | None = None
    sources: dict[str, LayerSource] = field(default_factory=dict)


RASTER_SUFFIXES = (".tif", ".tiff")
OSM_SUFFIXES = (".osm.pbf", ".pbf")


def source_kind(src: LayerSource) -> str:
    """'raster' (a population GeoTIFF), 'osm' (an OpenStreetMap extract) or 'table' (read by
    geo.read: vector files, CSV, Excel)."""
    name = src.file.name.lower()
    if name.endswith(RASTER_SUFFIXES):
        return "raster"
    if name.endswith(OSM_SUFFIXES):
        return "osm"
    return "table"


# Layers read once the boundary is known: a raster is cut to it, an OSM extract clipped.
READ_LATER = {("population", "raster"), ("roads", "osm"), ("schools", "osm")}


@dataclass(frozen=True)
class LoadOptions:
    """How loading fills what the data lacks (the rules' ``[data]`` section; the defaults are
    the rules' defaults)."""

    raster_cell_m: float = 500.0
    grid_cell_m: float = 1000.0  # the catchments' grid when there is no population layer
    osm_margin_m: float = 2000.0
    edge_tolerance_m: float = 1000.0
    capacity: checks.AssumedCapacity = field(default_factory=checks.AssumedCapacity)
    limits: PlausibilityParams = field(default_factory=PlausibilityParams)  # the rules' [checks]
    snap_max_m: float = SNAP_MAX_M  # places farther from every road are warned about


@dataclass
class CheckReport(ProblemList):
    """The problems of loading a project (``errors``/``warnings`` as any problem list), the
    rows read per layer and the CRS planned in."""

    counts: dict[str, int] = field(default_factory=dict)
    crs: str = ""

    @property
    def usable(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "usable": self.usable,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "counts": self.counts,
            "crs": self.crs,
            "problems": [p.__dict__ for p in self.problems],
        }


def find_project_file(project: str | Path | None) -> Path:
    path = Path(project) if project else SAMPLE_PROJECT
    if path.is_dir():
        path = path / "project.toml"
    if not path.exists():
        raise ProjectError(
            f"project file not found: {path}",
            fix="give a project.toml or a folder holding one, or the layers with --schools/--population/--boundary",
        )
    return path


def parse_layer_arg(key: str, text: str, base: Path | None = None) -> LayerSource:
    """'file.gpkg:layer' or 'file.csv' from the command line."""
    file, layer = text, None
    head, sep, tail = text.rpartition(":")
    if (
        sep
        and head
        and not (len(head) == 1 and head.isalpha())
        and "/" not in tail
        and "\\" not in tail
    ):
        file, layer = head, tail
    path = Path(file)
    if base is not None and not path.is_absolute():
        path = base / path
    return LayerSource(key=key, file=path, layer=layer)


PROJECT_KEYS = ("name", "name_en", "crs", "rules")
LAYER_SPEC_KEYS = (
    "file",
    "layer",
    "columns",
    "x",
    "y",
    "coords",
    "crs",
    "sheet",
    "values",
    "where",
)


def read_project_file(path: Path) -> ProjectConfig:
    try:
        data = tomllib.loads(project_text(path.read_bytes()))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProjectError(
            f"{path}: not valid TOML ({exc})", fix="compare with sample_maps/daoxian/project.toml"
        ) from None
    except OSError as exc:
        raise ProjectError(
            f"{path}: cannot be read ({exc.strerror or exc})", fix="check the file's permissions"
        ) from None
    base = path.parent
    # A misspelt key would otherwise be ignored without a word and its setting silently lost.
    _known_keys(path, "the top level", data, ("project", "layers"))
    proj = _table(path, "[project]", data.get("project", {}))
    _known_keys(path, "[project]", proj, PROJECT_KEYS)
    cfg = ProjectConfig(
        path=path,
        name=str(proj.get("name", "")),
        name_en=str(proj.get("name_en", "")),
        crs=(str(proj.get("crs")) or None) if proj.get("crs") else None,
    )
    if proj.get("rules"):
        cfg.rules_file = base / str(proj["rules"])
    layers = _table(path, "[layers]", data.get("layers", {}))
    unknown = [k for k in layers if k not in LAYER_KEYS]
    if unknown:
        raise ProjectError(
            f"{path}: unknown layer(s) {', '.join(unknown)}",
            fix=f"layers are: {', '.join(LAYER_KEYS)}",
        )
    for key, spec in layers.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("file"), str):
            raise ProjectError(
                f'{path}: [layers.{key}] needs file = "..."', fix='e.g. file = "schools.gpkg"'
            )
        _known_keys(path, f"[layers.{key}]", spec, LAYER_SPEC_KEYS)
        columns = _table(path, f"[layers.{key}.columns]", spec.get("columns", {}))
        values = _table(path, f"[layers.{key}.values]", spec.get("values", {}))
        for name, table in values.items():
            _table(path, f"[layers.{key}.values] {name}", table)
        coords = str(spec.get("coords", "wgs84")).lower()
        if coords not in COORD_SYSTEMS:
            raise ProjectError(
                f"{path}: [layers.{key}] coords = '{coords}' is unknown",
                fix=f"use one of {', '.join(COORD_SYSTEMS)}",
            )
        cfg.sources[key] = LayerSource(
            key=key,
            file=base / spec["file"],
            layer=_opt_str(spec.get("layer")),
            columns={str(k): str(v) for k, v in columns.items()},
            x=_opt_str(spec.get("x")),
            y=_opt_str(spec.get("y")),
            coords=coords,
            crs=_opt_str(spec.get("crs")),
            sheet=_opt_str(spec.get("sheet")),
            values={str(f): {str(k): str(v) for k, v in t.items()} for f, t in values.items()},
            where=_opt_str(spec.get("where")),
        )
    return cfg


def project_text(raw: bytes) -> str:
    """The text of a project file: UTF-8 with or without a byte-order mark (Notepad writes
    one), else GBK (a Chinese Windows editor's default)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gbk")


def _table(path: Path, name: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProjectError(
            f"{path}: {name} must be a table of name = value",
            fix="compare with sample_maps/daoxian/project.toml",
        )
    return value


def _known_keys(path: Path, where: str, table: dict[str, Any], known: tuple[str, ...]) -> None:
    unknown = [k for k in table if k not in known]
    if unknown:
        raise ProjectError(
            f"{path}: unknown key(s) in {where}: {', '.join(unknown)}",
            fix=f"keys allowed there: {', '.join(known)}",
        )


def _opt_str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def make_config(
    project: str | Path | None = None, layer_args: dict[str, str] | None = None
) -> ProjectConfig:
    """Project from a project.toml (default: the sample county) or from --schools/... arguments."""
    layer_args = {k: v for k, v in (layer_args or {}).items() if v}
    if layer_args and project is None:
        cfg = ProjectConfig(path=None, name="")
    else:
        cfg = read_project_file(find_project_file(project))
    for key, text in layer_args.items():
        cfg.sources[key] = parse_layer_arg(key, text)
    return cfg


def load_layers(
    cfg: ProjectConfig, standards: LevelStandards, options: LoadOptions | None = None
) -> tuple[Layers | None, CheckReport]:
    """Read, check and normalise every layer; layers is None when an error makes the data unusable.

    ``options`` (from the rules' ``[data]`` section) say how to fill what the data lacks."""
    # Loading makes hundreds of thousands of shapes and frames and no reference cycles; with
    # the cycle collector running it rescans them all again and again (a fifth of the time).
    with gc_paused():
        return _load_layers(cfg, standards, options or LoadOptions())


def _load_layers(
    cfg: ProjectConfig, standards: LevelStandards, options: LoadOptions
) -> tuple[Layers | None, CheckReport]:
    report = CheckReport()
    problems = report.problems
    for key in ("schools", "boundary"):
        if key not in cfg.sources:
            problems.append(
                Problem(
                    f"no {key} ({LAYER_ZH[key]}) layer given",
                    code="missing_layer",
                    fix=f"add [layers.{key}] to project.toml or pass --{key} FILE",
                )
            )
    raw = _read_sources(cfg, problems)
    crs = _metric_crs(cfg, raw, problems)
    if crs is None:
        return None, report
    report.crs = crs.to_string()
    metric = {k: g.to_crs(crs) if g.crs is not None else as_frame(g) for k, g in raw.items()}
    for k in metric:
        metric[k].attrs.update(raw[k].attrs)
    metric = _filtered(metric, cfg.sources, problems)
    found = _normalise(metric, cfg.sources, Normalising(standards, options, problems))
    checks.check_plausible(found, cfg.sources, problems, options.limits)
    if "population" in cfg.sources:
        checks.check_current_schools(
            found["population"], found["schools"], cfg.sources["population"], problems
        )
    points = {k: found[k] for k in ("population", "schools")}
    checks.check_road_coverage(found["roads"], points, cfg.sources, problems, options.snap_max_m)
    for name, gdf in found.items():
        if gdf is not None and name != "boundary":
            report.counts[name] = int(len(gdf))
    schools, units, boundary = found["schools"], found["population"], found["boundary"]
    if not report.usable or schools is None or units is None or boundary is None:
        return None, report
    layers = Layers(
        schools=schools,
        units=units,
        boundary=boundary,
        crs=crs,
        roads=found["roads"],
        candidates=found["candidates"],
        townships=found["townships"],
        sources=dict(cfg.sources),
        name=cfg.name,
        name_en=cfg.name_en,
    )
    return layers, report


def _read_sources(
    cfg: ProjectConfig, problems: list[Problem]
) -> dict[str, gpd.GeoDataFrame | PendingLayer]:
    """Every readable, non-empty layer, in WGS 84 where its coordinates were GCJ-02 or BD-09."""
    # Big point and line layers stay pending until the metric CRS is known, so their shapes
    # are built once, already projected (see geo.read.PendingLayer).
    raw: dict[str, gpd.GeoDataFrame | PendingLayer] = {}
    for key, src in cfg.sources.items():
        if (key, source_kind(src)) in READ_LATER:
            continue
        where: dict[str, Any] = {"file": src.file.name, "layer": src.layer or key}
        try:
            gdf = read_layer(src, problems, defer=True)
        except SchoolPlanError as exc:
            # A layer only the maps use is left out, the plan made without it.
            sev = "warning" if key in MAP_ONLY_LAYERS else "error"
            problems.append(
                Problem(exc.message, fix=exc.fix, code="unreadable", severity=sev, **where)
            )
            problems.extend(exc.problems)
            continue
        if len(gdf) == 0:
            sev = "warning" if key in OPTIONAL_LAYERS else "error"
            problems.append(
                Problem(
                    f"the {key} layer is empty",
                    fix="check you named the right file and layer",
                    severity=sev,
                    code="empty_layer",
                    **where,
                )
            )
            continue
        if src.coords != "wgs84":
            gdf = as_frame(gdf)
            try:
                gdf = convert_points(
                    gdf.to_crs("EPSG:4326") if gdf.crs and not gdf.crs.is_geographic else gdf,
                    src.coords,
                )
            except InputError as exc:
                problems.append(Problem(exc.message, fix=exc.fix, code="coords", **where))
        raw[key] = gdf
    return raw


def _metric_crs(
    cfg: ProjectConfig,
    raw: dict[str, gpd.GeoDataFrame | PendingLayer],
    problems: list[Problem],
) -> pyproj.CRS | None:
    """The metric CRS, from the boundary's extent or, without one, from another layer's."""
    # Without a readable boundary the other layers are still checked (in a CRS chosen from
    # their own extent) so the planner sees every problem in one run.
    extent_key = next(
        (k for k in ("boundary", "schools", "population", "candidates", "roads") if k in raw), None
    )
    if extent_key is None:
        return None
    try:
        return choose_metric_crs(as_frame(raw[extent_key]).to_crs("EPSG:4326"), cfg.crs)
    except SchoolPlanError as exc:
        if extent_key == "boundary":
            problems.append(
                Problem(
                    exc.message,
                    fix=exc.fix,
                    file=cfg.sources["boundary"].file.name,
                    layer=cfg.sources["boundary"].layer or "boundary",
                    code="crs",
                )
            )
        return None


def _filtered(
    metric: dict[str, gpd.GeoDataFrame], src: dict[str, LayerSource], problems: list[Problem]
) -> dict[str, gpd.GeoDataFrame]:
    """Each layer with ``where`` set reduced to the rows it keeps (row numbers kept)."""
    out = dict(metric)
    for key, gdf in metric.items():
        text = src[key].where
        if not text:
            continue
        try:
            keep = keep_rows(gdf, text)
        except InputError as exc:
            problems.append(Problem(exc.message, fix=exc.fix, code="bad_where", **_where(src[key])))
            continue
        rows = checks.row_numbers(gdf)
        kept = gdf[keep]
        kept.attrs.update(gdf.attrs)
        kept.attrs["row_numbers"] = tuple(int(r) for r in rows[keep])
        problems.append(
            Problem(
                f"where = {text!r} keeps {int(keep.sum())} of {len(gdf)} rows",
                severity="info",
                code="where",
                **_where(src[key]),
            )
        )
        out[key] = kept
    return out


@dataclass(frozen=True)
class Normalising:
    """What normalising the layers needs besides the layers: the standards, the ``[data]``
    options and the list problems are added to."""

    standards: LevelStandards
    options: LoadOptions
    problems: list[Problem]


def _normalise(
    metric: dict[str, gpd.GeoDataFrame], src: dict[str, LayerSource], n: Normalising
) -> dict[str, gpd.GeoDataFrame | None]:
    """Each layer in the canonical schema (None where not given), points checked against the
    boundary. Rasters and OpenStreetMap extracts, read only now (they need the boundary), join
    the tables and vector files here."""
    problems, tolerance = n.problems, n.options.edge_tolerance_m
    boundary = _boundary(metric, src, problems)
    found: dict[str, gpd.GeoDataFrame | None] = dict.fromkeys(
        ("schools", "population", "roads", "candidates", "townships"), None
    )
    if "schools" in src:
        raw = metric.get("schools")
        if raw is None and source_kind(src["schools"]) == "osm":
            raw = _osm_schools(src["schools"], boundary, problems)
        if raw is not None:
            schools = checks.normalise_schools(
                raw, src["schools"], problems, n.standards, n.options.capacity
            )
            found["schools"] = checks.check_inside(
                schools, boundary, src["schools"], problems, tolerance
            )
    found["population"] = _population(metric, src, boundary, n)
    if "roads" in metric:
        found["roads"] = checks.normalise_roads(metric["roads"], src["roads"], problems)
    elif "roads" in src and source_kind(src["roads"]) == "osm":
        found["roads"] = _osm_roads(src["roads"], boundary, n.options, problems)
    if "candidates" in metric:
        candidates = checks.normalise_candidates(metric["candidates"], src["candidates"], problems)
        found["candidates"] = checks.check_inside(
            candidates, boundary, src["candidates"], problems, tolerance
        )
    if "townships" in metric:
        found["townships"] = checks.normalise_townships(
            metric["townships"], src["townships"], problems
        )
    found["boundary"] = boundary
    return found


def _boundary(
    metric: dict[str, gpd.GeoDataFrame], src: dict[str, LayerSource], problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    if "boundary" not in metric:
        return None
    boundary = checks.normalise_boundary(metric["boundary"], src["boundary"], problems)
    if len(boundary) == 0:
        problems.append(
            Problem(
                "the boundary has no usable polygon",
                fix="give the county polygon",
                file=src["boundary"].file.name,
                layer=src["boundary"].layer or "boundary",
                code="empty_layer",
            )
        )
        return None
    return boundary


def _where(src: LayerSource) -> dict[str, Any]:
    return {"file": src.file.name, "layer": src.layer or src.key}


def _needs_boundary(src: LayerSource, what: str, problems: list[Problem]) -> None:
    problems.append(
        Problem(
            f"{what} needs the county boundary to be read",
            fix="add [layers.boundary] to project.toml or pass --boundary FILE",
            code="missing_layer",
            **_where(src),
        )
    )


def _population(
    metric: dict[str, gpd.GeoDataFrame],
    src: dict[str, LayerSource],
    boundary: gpd.GeoDataFrame | None,
    n: Normalising,
) -> gpd.GeoDataFrame | None:
    """The units: from a table or vector layer, a raster, or none at all (an empty layer: the
    engines then use a uniform grid, zones drawn from the schools' positions alone)."""
    problems = n.problems
    if "population" in metric:
        units = checks.normalise_units(metric["population"], src["population"], problems)
        return checks.check_inside(
            units, boundary, src["population"], problems, n.options.edge_tolerance_m
        )
    if "population" in src and source_kind(src["population"]) == "raster":
        return _raster_units(src["population"], boundary, n.options, problems)
    if "population" in src:
        return None  # unreadable: already reported
    if boundary is None:
        return None
    problems.append(
        Problem(
            "no population (人口单元) layer given: zones are geometric, drawn on a uniform grid of "
            f"{n.options.grid_cell_m:g} m cells by distance to the schools alone; no pupil counts, "
            "no new schools",
            fix="add a population layer, or a population raster (--population pop.tif, e.g. "
            "WorldPop), for zones and new schools by pupils",
            severity="warning",
            code="no_population",
        )
    )
    return empty_units(boundary.crs)


def empty_units(crs: Any) -> gpd.GeoDataFrame:
    """A units layer with the canonical columns and no rows."""
    cols: dict[str, Any] = {
        "unit_id": pd.Series([], dtype=object),
        "name": pd.Series([], dtype=object),
        "population": pd.Series([], dtype=float),
        "kind": pd.Series([], dtype=object),
        "town": pd.Series([], dtype=object),
    }
    for level in LEVELS:
        cols[f"students_{level}"] = pd.Series([], dtype=float)
    cols["src_row"] = pd.Series([], dtype="int64")
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _raster_units(
    src: LayerSource,
    boundary: gpd.GeoDataFrame | None,
    options: LoadOptions,
    problems: list[Problem],
) -> gpd.GeoDataFrame | None:
    if boundary is None:
        _needs_boundary(src, "a population raster", problems)
        return None
    try:
        pop = population_from_raster(src.file, boundary, options.raster_cell_m)
    except SchoolPlanError as exc:
        problems.append(Problem(exc.message, fix=exc.fix, code="unreadable", **_where(src)))
        return None
    outside = (
        f"; {pop.outside:,.0f} people on pixels outside the boundary left out"
        if pop.outside
        else ""
    )
    problems.append(
        Problem(
            f"population raster: {pop.pixels:,} inhabited pixels summed into {len(pop.units):,} "
            f"cells of {options.raster_cell_m:g} m, {pop.total:,.0f} people{outside}",
            fix="change data.raster_cell_m in the rules for finer or coarser cells",
            severity="info",
            code="raster_population",
            **_where(src),
        )
    )
    units = pop.units
    for level in LEVELS:
        units[f"students_{level}"] = np.nan
    cols = [c for c in empty_units(None).columns if c != "geometry"]
    return units[[*cols, "geometry"]]


def _osm_roads(
    src: LayerSource,
    boundary: gpd.GeoDataFrame | None,
    options: LoadOptions,
    problems: list[Problem],
) -> gpd.GeoDataFrame | None:
    if boundary is None:
        _needs_boundary(src, "an OpenStreetMap extract", problems)
        return None
    try:
        osm = roads_from_osm(src.file, boundary, options.osm_margin_m)
    except SchoolPlanError as exc:
        problems.append(Problem(exc.message, fix=exc.fix, code="unreadable", **_where(src)))
        return None
    problems.append(
        Problem(
            f"OpenStreetMap: {osm.kept:,} road segments of {osm.ways:,} highway ways kept within "
            f"{options.osm_margin_m:g} m of the boundary",
            severity="info",
            code="osm_roads",
            **_where(src),
        )
    )
    roads = osm.roads[["road_class", "speed_kmh", "geometry"]]
    return checks.normalise_roads(roads, src, problems)


def _osm_schools(
    src: LayerSource, boundary: gpd.GeoDataFrame | None, problems: list[Problem]
) -> gpd.GeoDataFrame | None:
    """Schools of an OSM extract, as a raw layer for ``normalise_schools``; those whose level
    the tags do not tell are left out (with a warning), the rest need their attributes."""
    if boundary is None:
        _needs_boundary(src, "an OpenStreetMap extract", problems)
        return None
    try:
        pts = schools_from_osm(src.file, boundary)
    except SchoolPlanError as exc:
        problems.append(Problem(exc.message, fix=exc.fix, code="unreadable", **_where(src)))
        return None
    no_level = pts["level"] == ""
    if no_level.any():
        problems.append(
            Problem(
                f"{int(no_level.sum())} OpenStreetMap school(s) have no level tag (isced:level or "
                "school=*) and are left out",
                fix="export the schools to a table, add a level column and give that table",
                severity="warning",
                code="osm_no_level",
                **_where(src),
            )
        )
    pts = pts[~no_level].drop(columns="needs_attributes").reset_index(drop=True)
    if len(pts) == 0:
        problems.append(
            Problem(
                "the OpenStreetMap extract has no school with a level inside the boundary",
                fix="give a schools table with a level column",
                code="empty_layer",
                **_where(src),
            )
        )
        return None
    problems.append(
        Problem(
            f"{len(pts)} school(s) from OpenStreetMap need their attributes (classes, pupils, "
            "capacity): capacity is assumed until then",
            fix="export them to a table, fill in classes and pupils, and give that table",
            severity="warning",
            code="needs_attributes",
            **_where(src),
        )
    )
    return pts
