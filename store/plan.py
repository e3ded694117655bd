"""A plan on disk: plan.gpkg (every result layer) and summary.json, and reading them back for
re-export without solving again.

A plan with a phased schedule (``PlanResult.schedule``) adds two layers: ``schedule``, one point
per step (build / close / transitional) at its school, and ``schedule_classes``, a table of the
zone's children, places and classes needed per school, level and year.

Each file is written beside its target under a temporary name and renamed into place, so an
interrupted run never leaves half a GeoPackage where a good one was.

plan.gpkg is written in the output CRS of the rules (``[output] crs``: by default the CGCS2000
3-degree Gauss–Krüger zone for data in China, the CRS planning offices work in); the plan is
computed, and read back, in its metric CRS (``meta.crs``), so distances and areas never come
from degrees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
from pyproj.transformer import Transformer

from core.errors import InputError, RulesError
from geo.crs import cgcs2000_gk3_epsg, choose_metric_crs, in_china
from geo.townships import empty_townships
from planning.pipeline import PlanResult
from planning.rules import Rules, output_crs_keyword
from planning.schedule import ScheduleResult
from store.atomic import replacing, write_json_atomic

PLAN_LAYERS = (
    "schools",
    "groups",
    "new_schools",
    "catchments",
    "demand",
    "boundary",
    "townships",
)
# Layers a plan.gpkg written before they existed lacks: read back as None.
LATER_LAYERS = ("townships",)
GEOMETRY_TYPES = {
    "schools": "Point",
    "groups": "MultiLineString",
    "new_schools": "Point",
    "catchments": "MultiPolygon",
    "demand": "Unknown",
    "boundary": "MultiPolygon",
    "townships": "MultiPolygon",
    "schedule": "Point",
}
# GeoPackage 1.2, not GDAL's newest (1.4): the GDAL of QGIS 3.22 (planning offices' version)
# warns at every read that a 1.4 file "may only be partially supported".
GPKG_OPTIONS = {"VERSION": "1.2"}
# CGCS2000 3-degree GK: "zone nn" (EPSG:4513 = zone 25, the easting prefixed with the zone) runs
# parallel to "CM nnnE" (EPSG:4534 = CM 75E = zone 25), 21 zones each.
_GK3_ZONE_MINUS_CM = 4513 - 4534
SCHEDULE_LAYERS = ("schedule", "schedule_classes")


def write_layers_atomic(path: Path, layers: dict[str, pd.DataFrame | None]) -> None:
    """Write every layer into one GeoPackage under a temporary name, then rename it into place."""
    with replacing(Path(path), suffix=".gpkg") as tmp:
        for name, gdf in layers.items():
            if gdf is None:
                continue
            gdf = _prepare(gdf)
            kwargs: dict[str, Any] = {}
            if len(gdf) == 0 and isinstance(gdf, gpd.GeoDataFrame):
                kwargs["geometry_type"] = GEOMETRY_TYPES.get(name, "Unknown")
            elif name in ("catchments", "boundary", "townships"):
                kwargs["promote_to_multi"] = True
            pyogrio.write_dataframe(
                gdf, tmp, layer=name, driver="GPKG", dataset_options=GPKG_OPTIONS, **kwargs
            )


def _prepare(gdf: pd.DataFrame) -> pd.DataFrame:
    """GeoPackage takes no object columns of mixed types; make them text."""
    gdf = gdf.copy()
    geometry = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else None
    for col in gdf.columns:
        if col == geometry:
            continue
        if gdf[col].dtype == object:
            gdf[col] = gdf[col].map(
                lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            )
        elif gdf[col].dtype == bool:
            gdf[col] = gdf[col].astype("int8")
    return gdf


def write_plan(result: PlanResult, out_dir: str | Path) -> dict[str, Path]:
    """plan.gpkg (every result layer, in the rules' output CRS) and summary.json in ``out_dir``;
    ``meta`` records the CRS computed in (``crs``) and the one plan.gpkg is in (``output_crs``)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the output folder {out}: {exc.strerror}",
            fix="choose another --out folder",
        ) from None
    metric = plan_crs(result)
    target = output_crs(result)
    layers: dict[str, pd.DataFrame | None] = {
        name: _reprojected(getattr(result, name), metric, target) for name in PLAN_LAYERS
    }
    if layers["townships"] is None:  # always written: QGIS users find the layer where it was
        layers["townships"] = empty_townships(target)
    for name, frame in schedule_layers(result).items():
        geo = isinstance(frame, gpd.GeoDataFrame)
        layers[name] = _reprojected(frame, metric, target) if geo else frame
    gpkg = out / "plan.gpkg"
    write_layers_atomic(gpkg, layers)
    summary = {
        "meta": {
            **result.meta,
            "crs": result.meta.get("crs") or crs_code(metric),
            "output_crs": crs_code(target),
        },
        "status": result.status,
        "rules": result.rules.as_dict(),
        **result.summary,
    }
    js = out / "summary.json"
    write_json_atomic(js, summary)
    return {"gpkg": gpkg, "summary": js}


def schedule_layers(result: PlanResult) -> dict[str, pd.DataFrame]:
    """``schedule`` (each step at its school's point) and ``schedule_classes``; none without one."""
    if result.schedule is None:
        return {}
    points = result.schools[["school_id", "level", "geometry"]].astype({"school_id": str})
    points = points.drop_duplicates(["school_id", "level"])
    steps = result.schedule.steps.merge(points, on=["school_id", "level"], how="left")
    return {
        "schedule": gpd.GeoDataFrame(steps, geometry="geometry", crs=result.schools.crs),
        "schedule_classes": result.schedule.classes,
    }


def _read_schedule(gpkg: Path, names: set[str]) -> ScheduleResult | None:
    if not set(SCHEDULE_LAYERS) <= names:
        return None
    steps = pyogrio.read_dataframe(gpkg, layer="schedule", read_geometry=False)
    classes = pyogrio.read_dataframe(gpkg, layer="schedule_classes", read_geometry=False)
    return schedule_from_tables(steps, classes)


def schedule_from_tables(steps: pd.DataFrame, classes: pd.DataFrame) -> ScheduleResult:
    """The schedule back from its two stored tables (a geometry column, if any, dropped)."""
    steps = pd.DataFrame(steps.drop(columns="geometry", errors="ignore"))
    classes = pd.DataFrame(classes.drop(columns="geometry", errors="ignore"))
    steps["year"] = pd.to_numeric(steps["year"], errors="coerce").astype("Int64")
    classes["open"] = classes["open"].astype(bool)
    return ScheduleResult(steps, classes)


def read_plan(out_dir: str | Path) -> PlanResult:
    """A ``PlanResult`` from a folder written by ``write_plan`` (for re-export without solving)."""
    out = Path(out_dir)
    gpkg, js = out / "plan.gpkg", out / "summary.json"
    for f in (gpkg, js):
        if not f.exists():
            raise InputError(
                f"{f} not found", fix="run 'schoolplan plan --out DIR' first, then export from DIR"
            )
    try:
        summary = json.loads(js.read_text(encoding="utf-8"))
        names = {str(n) for n, _ in pyogrio.list_layers(gpkg)}
        layers = {
            name: pyogrio.read_dataframe(gpkg, layer=name)
            for name in PLAN_LAYERS
            if name in names or name not in LATER_LAYERS
        }
        schedule = _read_schedule(gpkg, names)
    except Exception as exc:  # noqa: BLE001 - any failure means the saved plan is damaged
        raise InputError(
            f"{out}: the saved plan cannot be read ({str(exc)[:200]})",
            fix="run 'schoolplan plan' again",
        ) from None
    rules = Rules().with_values(summary.pop("rules", {}), where=str(js))
    meta = summary.pop("meta", {})
    status = summary.pop("status", "ok")
    metric = _metric_crs_of(meta, layers)
    layers = {name: _reprojected(gdf, metric, metric) for name, gdf in layers.items()}
    return PlanResult(
        summary=summary, rules=rules, meta=meta, status=status, schedule=schedule, **layers
    )


# --- output CRS --------------------------------------------------------------------------------


def crs_code(crs: pyproj.CRS) -> str:
    """'EPSG:4546' when the CRS has an EPSG code, else its WKT."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code is not None else crs.to_wkt()


def plan_crs(result: PlanResult) -> pyproj.CRS:
    """The metric CRS ``result`` is computed in (its layers' CRS, else ``meta.crs``)."""
    for name in PLAN_LAYERS:
        gdf = getattr(result, name)
        if gdf is not None and gdf.crs is not None:
            return pyproj.CRS.from_user_input(gdf.crs)
    if result.meta.get("crs"):
        return pyproj.CRS.from_user_input(result.meta["crs"])
    raise InputError("the plan's layers have no CRS", fix="run 'schoolplan plan' again")


def centre_lonlat(result: PlanResult) -> tuple[float, float] | None:
    """WGS 84 (lon, lat) of the centre of the plan's area (its boundary, else every layer);
    None for a plan with no geometry."""
    crs = plan_crs(result)
    frames = [result.boundary] if result.boundary is not None and len(result.boundary) else []
    frames = frames or [getattr(result, n) for n in PLAN_LAYERS if getattr(result, n) is not None]
    boxes = [g.to_crs(crs).total_bounds for g in frames if len(g) and g.crs is not None]
    boxes = [b for b in boxes if np.all(np.isfinite(b))]
    if not boxes:
        return None
    b = np.array(boxes)
    x = (b[:, 0].min() + b[:, 2].max()) / 2
    y = (b[:, 1].min() + b[:, 3].max()) / 2
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    return float(lon), float(lat)


def resolve_output_crs(
    choice: str, metric: pyproj.CRS, centre: tuple[float, float] | None
) -> pyproj.CRS:
    """The CRS ``[output] crs = choice`` names for a plan computed in ``metric`` whose area's
    centre is ``centre`` (WGS 84 lon, lat; see ``planning.rules.OUTPUT_CRS_KEYWORDS``)."""
    keyword = output_crs_keyword(choice)
    if keyword is None:
        return pyproj.CRS.from_user_input(choice.strip())
    if keyword == "project":
        return metric
    if keyword == "CGCS2000":
        return pyproj.CRS.from_epsg(4490)
    if keyword == "WGS84":
        return pyproj.CRS.from_epsg(4326)
    gk = cgcs2000_gk3_epsg(centre[0]) if centre is not None else None
    if keyword == "auto":
        inside = centre is not None and bool(in_china(centre[0], centre[1]))
        return pyproj.CRS.from_epsg(gk) if gk is not None and inside else metric
    if gk is None:
        where = "no data" if centre is None else f"the data's centre {centre[0]:.2f}°E"
        raise RulesError(
            f"[output] crs = {choice}: the CGCS2000 3-degree zones cover 73.5°E–136.5°E, {where}",
            fix="choose crs = project (or auto), or give a CRS code such as EPSG:32649",
        )
    return pyproj.CRS.from_epsg(gk + _GK3_ZONE_MINUS_CM if keyword == "CGCS2000-GK-zone" else gk)


def output_crs(result: PlanResult) -> pyproj.CRS:
    """The CRS plan.gpkg of ``result`` is written in (its rules' ``[output] crs``)."""
    return resolve_output_crs(result.rules.output.crs, plan_crs(result), centre_lonlat(result))


def _reprojected(
    gdf: gpd.GeoDataFrame | None, source: pyproj.CRS, target: pyproj.CRS
) -> gpd.GeoDataFrame | None:
    """``gdf`` in ``target``; a layer without a CRS is taken to be in ``source`` (the plan's)."""
    if gdf is None:
        return None
    if gdf.crs is None:
        gdf = gdf.set_crs(source)
    return gdf if pyproj.CRS.from_user_input(gdf.crs) == target else gdf.to_crs(target)


def _metric_crs_of(meta: dict[str, Any], layers: dict[str, gpd.GeoDataFrame]) -> pyproj.CRS:
    """The CRS a saved plan was computed in: ``meta.crs``, else (plans written without it) the
    layers' own CRS when projected, else the metric CRS ``geo.crs`` chooses for the data."""
    if meta.get("crs"):
        return pyproj.CRS.from_user_input(meta["crs"])
    crs = next((g.crs for g in layers.values() if g.crs is not None), None)
    if crs is None:
        raise InputError("the saved plan's layers have no CRS", fix="run 'schoolplan plan' again")
    crs = pyproj.CRS.from_user_input(crs)
    filled = [g for g in layers.values() if len(g) and g.crs is not None]
    return crs if crs.is_projected or not filled else choose_metric_crs(filled[0])
