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
import pyproj

from core.errors import InputError, Problem, ProblemList, ProjectError, SchoolPlanError
from geo import checks
from geo.checks import LevelStandards
from geo.crs import choose_metric_crs, convert_points
from geo.layers import LAYER_KEYS, LAYER_ZH, OPTIONAL_LAYERS, Layers, LayerSource
from geo.read import PendingLayer, as_frame, gc_paused, read_layer

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
LAYER_SPEC_KEYS = ("file", "layer", "columns", "x", "y", "coords", "crs", "sheet")


def read_project_file(path: Path) -> ProjectConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
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
        )
    return cfg


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


def load_layers(cfg: ProjectConfig, standards: LevelStandards) -> tuple[Layers | None, CheckReport]:
    """Read, check and normalise every layer; layers is None when an error makes the data unusable."""
    # Loading makes hundreds of thousands of shapes and frames and no reference cycles; with
    # the cycle collector running it rescans them all again and again (a fifth of the time).
    with gc_paused():
        return _load_layers(cfg, standards)


def _load_layers(
    cfg: ProjectConfig, standards: LevelStandards
) -> tuple[Layers | None, CheckReport]:
    report = CheckReport()
    problems = report.problems
    for key in ("schools", "population", "boundary"):
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
    found = _normalise(metric, cfg.sources, standards, problems)
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
        where: dict[str, Any] = {"file": src.file.name, "layer": src.layer or key}
        try:
            gdf = read_layer(src, problems, defer=True)
        except SchoolPlanError as exc:
            problems.append(Problem(exc.message, fix=exc.fix, code="unreadable", **where))
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


def _normalise(
    metric: dict[str, gpd.GeoDataFrame],
    src: dict[str, LayerSource],
    standards: LevelStandards,
    problems: list[Problem],
) -> dict[str, gpd.GeoDataFrame | None]:
    """Each layer in the canonical schema (None where not given), points checked against the
    boundary."""
    boundary = None
    if "boundary" in metric:
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
    found: dict[str, gpd.GeoDataFrame | None] = dict.fromkeys(
        ("schools", "population", "roads", "candidates"), None
    )
    if "schools" in metric:
        found["schools"] = checks.normalise_schools(
            metric["schools"], src["schools"], problems, standards
        )
        checks.check_inside(found["schools"], boundary, src["schools"], problems)
    if "population" in metric:
        found["population"] = checks.normalise_units(
            metric["population"], src["population"], problems
        )
        checks.check_inside(found["population"], boundary, src["population"], problems)
    if "roads" in metric:
        found["roads"] = checks.normalise_roads(metric["roads"], src["roads"], problems)
    if "candidates" in metric:
        found["candidates"] = checks.normalise_candidates(
            metric["candidates"], src["candidates"], problems
        )
        checks.check_inside(found["candidates"], boundary, src["candidates"], problems)
    found["boundary"] = boundary
    return found
