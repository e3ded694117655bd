"""A plan on disk: plan.gpkg (every result layer) and summary.json, and reading them back for
re-export without solving again.

A plan with a phased schedule (``PlanResult.schedule``) adds two layers: ``schedule``, one point
per step (build / close / transitional) at its school, and ``schedule_classes``, a table of the
zone's children, places and classes needed per school, level and year.

Each file is written beside its target under a temporary name and renamed into place, so an
interrupted run never leaves half a GeoPackage where a good one was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from core.errors import InputError
from planning.pipeline import PlanResult
from planning.rules import Rules
from planning.schedule import ScheduleResult
from store.atomic import replacing, write_json_atomic

PLAN_LAYERS = ("schools", "groups", "new_schools", "catchments", "demand", "boundary")
GEOMETRY_TYPES = {
    "schools": "Point",
    "groups": "MultiLineString",
    "new_schools": "Point",
    "catchments": "MultiPolygon",
    "demand": "Unknown",
    "boundary": "MultiPolygon",
    "schedule": "Point",
}
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
            elif name in ("catchments", "boundary"):
                kwargs["promote_to_multi"] = True
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", **kwargs)


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
    """plan.gpkg (every result layer) and summary.json in ``out_dir``."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the output folder {out}: {exc.strerror}",
            fix="choose another --out folder",
        ) from None
    layers: dict[str, pd.DataFrame | None] = {name: getattr(result, name) for name in PLAN_LAYERS}
    layers.update(schedule_layers(result))
    gpkg = out / "plan.gpkg"
    write_layers_atomic(gpkg, layers)
    summary = {
        "meta": result.meta,
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
        layers = {name: pyogrio.read_dataframe(gpkg, layer=name) for name in PLAN_LAYERS}
        schedule = _read_schedule(gpkg, {str(n) for n, _ in pyogrio.list_layers(gpkg)})
    except Exception as exc:  # noqa: BLE001 - any failure means the saved plan is damaged
        raise InputError(
            f"{out}: the saved plan cannot be read ({str(exc)[:200]})",
            fix="run 'schoolplan plan' again",
        ) from None
    rules = Rules().with_values(summary.pop("rules", {}), where=str(js))
    meta = summary.pop("meta", {})
    status = summary.pop("status", "ok")
    return PlanResult(
        summary=summary, rules=rules, meta=meta, status=status, schedule=schedule, **layers
    )
