"""Write a plan to plan.gpkg and summary.json, and read it back for re-export.

Files are written beside the target under a temporary name and renamed into place, so an
interrupted run never leaves half a GeoPackage where a good one was.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio

from core.errors import InputError
from planning.rules import Rules

PLAN_LAYERS = ("schools", "groups", "new_schools", "catchments", "demand", "boundary")
GEOMETRY_TYPES = {
    "schools": "Point",
    "groups": "MultiLineString",
    "new_schools": "Point",
    "catchments": "MultiPolygon",
    "demand": "Unknown",
    "boundary": "MultiPolygon",
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_json_atomic(path: Path, data: Any) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(_jsonable(data), fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); a plan's summary is an ordinary file.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_layers_atomic(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write every layer into one GeoPackage under a temporary name, then rename it into place."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.gpkg")
    tmp.unlink(missing_ok=True)
    try:
        for name, gdf in layers.items():
            if gdf is None:
                continue
            gdf = _prepare(gdf)
            kwargs = {}
            if len(gdf) == 0:
                kwargs["geometry_type"] = GEOMETRY_TYPES.get(name, "Unknown")
            elif name in ("catchments", "boundary"):
                kwargs["promote_to_multi"] = True
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", **kwargs)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _prepare(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """GeoPackage takes no object columns of mixed types; make them text."""
    gdf = gdf.copy()
    for col in gdf.columns:
        if col == gdf.geometry.name:
            continue
        if gdf[col].dtype == object:
            gdf[col] = gdf[col].map(
                lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            )
        elif gdf[col].dtype == bool:
            gdf[col] = gdf[col].astype("int8")
    return gdf


def write_plan(result, out_dir: str | Path) -> dict[str, Path]:
    """plan.gpkg (every result layer) and summary.json in ``out_dir``."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the output folder {out}: {exc.strerror}",
            fix="choose another --out folder",
        ) from None
    layers = {name: getattr(result, name) for name in PLAN_LAYERS}
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


def read_plan(out_dir: str | Path):
    """A ``PlanResult`` from a folder written by ``write_plan`` (for re-export without solving)."""
    from planning.pipeline import PlanResult

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
    except Exception as exc:  # noqa: BLE001 - any failure means the saved plan is damaged
        raise InputError(
            f"{out}: the saved plan cannot be read ({str(exc)[:200]})",
            fix="run 'schoolplan plan' again",
        ) from None
    rules = Rules().with_values(summary.pop("rules", {}), where=str(js))
    meta = summary.pop("meta", {})
    status = summary.pop("status", "ok")
    return PlanResult(summary=summary, rules=rules, meta=meta, status=status, **layers)
