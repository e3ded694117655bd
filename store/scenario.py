"""Scenario folders on disk: saving one atomically and reading it back (see ``store.layout`` for
the files and ``store.migrations`` for older layouts).

A save writes a complete new folder in ``.schoolplan-saving`` beside the scenario folder and makes
it current by renames of whole folders, so a stop at any moment leaves the old scenario or the new
one whole; what an interrupted save left behind is finished or cleaned by the next save or load
(``recover``). Loading never changes a scenario's files: a damaged file raises ``ScenarioError``
and is left exactly as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import time
import uuid
from contextlib import suppress
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj

from core.errors import RulesError, ScenarioError
from core.jsonable import jsonable
from geo.layers import Layers, LayerSource
from geo.townships import township_areas
from planning.grouping import GroupChoices
from planning.pipeline import PlanResult
from planning.rules import Rules
from planning.scenario import Scenario
from store.atomic import fsync_dir, fsync_file, store_error
from store.layout import (
    FIX_DAMAGED,
    GPKG_NAME,
    INFO_TABLE,
    INPUT_LAYERS,
    JSON_NAME,
    KIND,
    REQUIRED_INPUTS,
    REQUIRED_KEYS,
    RESULT_LAYERS,
    SCHEDULE_LAYERS,
    SCHEMA_VERSION,
    SQLITE_MAGIC,
    missing_keys,
)
from store.migrations import migrate
from store.plan import schedule_from_tables, schedule_layers

# Beside the scenario folders: the folders of saves in progress. No scenario.json directly inside,
# so a scan for scenario folders never takes it for one.
STAGING = ".schoolplan-saving"
_STAGED = re.compile(r"^(?P<name>.+)\.(?P<kind>new|old)-(?P<id>[0-9a-f]{32})$")
# Another scenario's leftovers older than this come from a killed save, not one under way.
STALE_S = 24 * 3600
# Files of the save itself, never carried over from the old folder (the last pattern: temporary
# files an older SchoolPlan left in the folder when a save was killed).
_OWN = re.compile(r"^(scenario\.json|scenario\.gpkg.*|\.scenario\..*\.tmp.*)$")


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def app_version() -> str:
    try:
        return version("schoolplan")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


# --------------------------------------------------------------------------- saving
def save_scenario(scenario: Scenario, folder: str | Path) -> dict[str, Path]:
    """Write ``scenario.gpkg`` and ``scenario.json`` as the folder ``folder``.

    Both files are written into a new folder in ``.schoolplan-saving`` (with hard links to any
    other file the planner keeps in ``folder``) and flushed; then ``folder`` is renamed away, the
    new folder renamed to ``folder`` and the old one deleted. A failure before the swap leaves the
    old scenario untouched; a failing rename puts it back. Write and rename failures raise
    ``StoreError`` naming the file. Sets ``scenario.created`` (first save), ``modified``,
    ``app_version`` and ``schema_version``.
    """
    target = Path(os.path.abspath(folder))  # "." has no name to rename
    staging = target.parent / STAGING
    recover(target)
    try:
        staging.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(
            f"cannot create the scenario folder {target}: {exc.strerror}",
            fix="choose another folder",
        ) from None
    save_id = uuid.uuid4().hex
    now = _now()
    new = staging / f"{target.name}.new-{save_id}"
    try:
        new.mkdir()
        doc = _write_files(scenario, new, save_id, now)
        _carry_over(target, new)
        fsync_dir(new)
        _swap(new, target, staging / f"{target.name}.old-{save_id}")
    except OSError as exc:
        raise store_error("write", exc.filename or new, exc) from None
    finally:
        shutil.rmtree(new, ignore_errors=True)
        with suppress(OSError):
            staging.rmdir()  # only when empty: another save may be under way beside this one
    scenario.created = doc["created"]
    scenario.modified = now
    scenario.app_version = doc["app_version"]
    scenario.schema_version = SCHEMA_VERSION
    return {"gpkg": Path(folder) / GPKG_NAME, "json": Path(folder) / JSON_NAME}


def _write_files(scenario: Scenario, folder: Path, save_id: str, now: str) -> dict[str, Any]:
    frames = _frames_to_write(scenario)
    schema = _write_gpkg(folder / GPKG_NAME, frames, save_id)
    doc = _to_doc(scenario, save_id, now, schema)
    with open(folder / JSON_NAME, "w", encoding="utf-8") as fh:
        json.dump(jsonable(doc), fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    return doc


def _carry_over(old: Path, new: Path) -> None:
    """Hard links (copies where links are not possible) to the planner's own files in ``old``."""
    if not old.is_dir():
        return
    for entry in old.iterdir():
        if _OWN.match(entry.name):
            continue
        if entry.is_dir():
            shutil.copytree(entry, new / entry.name, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, new / entry.name)


def _link_or_copy(src: Path | str, dst: Path | str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # FAT, some network shares: no hard links
        shutil.copy2(src, dst)


def _rename(src: Path, dst: Path) -> None:
    try:
        os.replace(src, dst)
    except OSError as exc:
        raise store_error(f"rename {src} to", dst, exc) from None


def _swap(new: Path, target: Path, old: Path) -> None:
    """Make ``new`` the folder ``target``; the old ``target`` is renamed to ``old``, then deleted."""
    if not target.exists():
        _rename(new, target)
    else:
        _rename(target, old)
        try:
            _rename(new, target)
        except BaseException:
            with suppress(OSError):
                os.replace(old, target)  # put the old scenario back; else recover() will
            raise
        shutil.rmtree(old, ignore_errors=True)  # what is left is removed by the next save
    fsync_dir(target.parent)


def recover(folder: str | Path, *, clean: bool = True) -> None:
    """Finish or undo what an interrupted save of ``folder`` left in ``.schoolplan-saving``.

    A stop between the two renames of a save leaves no ``folder`` but the complete new folder
    and the old one: the new one becomes ``folder``. Without a new one the old one is put back.
    With ``clean`` everything else left for ``folder`` is removed, and so is what killed saves of
    other scenarios left more than a day ago (a save in progress beside this one is younger).
    Best effort: a folder that cannot be moved stays for the next attempt.
    """
    target = Path(os.path.abspath(folder))
    staging = target.parent / STAGING
    if not staging.is_dir():
        return
    staged: dict[str, dict[str, dict[str, Path]]] = {}  # name -> save id -> new|old -> path
    for entry in staging.iterdir():
        m = _STAGED.match(entry.name)
        if m:
            staged.setdefault(m["name"], {}).setdefault(m["id"], {})[m["kind"]] = entry
    _finish(target, staged.pop(target.name, {}), clean)
    if not clean:
        return
    now = time.time()
    for name, saves in staged.items():
        paths = [p for kinds in saves.values() for p in kinds.values()]
        with suppress(OSError):
            if all(now - p.stat().st_mtime > STALE_S for p in paths):
                _finish(target.parent / name, saves, clean=True)
    with suppress(OSError):
        staging.rmdir()  # only when empty


def _finish(target: Path, saves: dict[str, dict[str, Path]], clean: bool) -> None:
    with suppress(OSError):
        if not target.exists():
            for kinds in saves.values():
                # "old" exists only once the new folder was complete: take the new one
                keep = kinds.get("new") if "old" in kinds else None
                keep = keep or kinds.get("old")
                if keep is not None and not target.exists():
                    os.replace(keep, target)
                    fsync_dir(target.parent)
        if clean:
            for kinds in saves.values():
                for path in kinds.values():
                    shutil.rmtree(path, ignore_errors=True)


def _frames_to_write(scenario: Scenario) -> dict[str, gpd.GeoDataFrame]:
    frames: dict[str, gpd.GeoDataFrame] = {}
    for attr, layer in INPUT_LAYERS.items():
        gdf = getattr(scenario.layers, attr)
        if gdf is None:
            if attr in REQUIRED_INPUTS:
                raise ScenarioError(f"scenario '{scenario.name}' has no {attr} layer")
            continue
        frames[layer] = gdf
    if scenario.result is not None:
        for attr, layer in RESULT_LAYERS.items():
            gdf = getattr(scenario.result, attr, None)
            if gdf is not None:
                frames[layer] = gdf
        frames.update(_schedule_frames(scenario.result))
    return frames


def _schedule_frames(result: PlanResult) -> dict[str, gpd.GeoDataFrame]:
    """The phased schedule's two tables as layers (a saved scenario keeps its schedule)."""
    tables = schedule_layers(result)
    if not tables:
        return {}
    steps, classes = tables["schedule"], tables["schedule_classes"]
    no_points = gpd.GeoSeries([None] * len(classes), index=classes.index, crs=result.schools.crs)
    return {
        SCHEDULE_LAYERS["steps"]: gpd.GeoDataFrame(steps, geometry=steps.geometry),
        SCHEDULE_LAYERS["classes"]: gpd.GeoDataFrame(classes, geometry=no_points),
    }


def _write_gpkg(
    path: Path, frames: dict[str, gpd.GeoDataFrame], save_id: str
) -> dict[str, dict[str, Any]]:
    """Write every frame; returns per layer its column types and row count (kept in the JSON)."""
    path.unlink(missing_ok=True)
    schema: dict[str, dict[str, Any]] = {}
    # The shared save_id lets a load see that the JSON and the GeoPackage belong together. A plain
    # table (not GDAL metadata) so that reading it needs no GDAL and writes no .aux.xml beside it.
    info = pd.DataFrame(
        {"key": ["save_id", "schema_version"], "value": [save_id, str(SCHEMA_VERSION)]}
    )
    pyogrio.write_dataframe(info, path, layer=INFO_TABLE, driver="GPKG")
    for layer, gdf in frames.items():
        out = _storable(gdf)
        kwargs: dict[str, Any] = {}
        if len(out) == 0 or out.geometry.isna().all():
            kwargs["geometry_type"] = "Unknown"
        pyogrio.write_dataframe(out, path, layer=layer, driver="GPKG", **kwargs)
        schema[layer] = {
            "rows": int(len(gdf)),
            "columns": [str(c) for c in gdf.columns],  # with the geometry, in place
            "geometry": str(gdf.geometry.name),
            "dtypes": {str(c): str(gdf[c].dtype) for c in gdf.columns if c != gdf.geometry.name},
        }
    fsync_file(path)
    return schema


def _storable(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """GeoPackage columns hold one type: lists/dicts/mixed objects become text, the index goes."""
    out = gdf.reset_index(drop=True)
    geom = out.geometry.name
    if geom != "geometry":
        out = out.rename_geometry("geometry")
    for col in out.columns:
        if col == "geometry":
            continue
        if out[col].dtype == object:
            out[col] = out[col].map(_cell_text)
    return out


def _cell_text(v: Any) -> Any:
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(jsonable(v), ensure_ascii=False)
    return v if isinstance(v, str) else str(v)


def _to_doc(
    sc: Scenario, save_id: str, now: str, schema: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    layers = sc.layers
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "name": sc.name,
        "notes": sc.notes,
        "app_version": app_version(),
        "created": sc.created or now,
        "modified": now,
        "save_id": save_id,
        "project": dict(sc.project),
        "crs": layers.crs.to_wkt(),
        "layers": {a: n for a, n in INPUT_LAYERS.items() if getattr(layers, a) is not None},
        "sources": {k: _source_dict(s) for k, s in layers.sources.items()},
        "rules": sc.rules.as_dict(),
        "choices": sc.choices.to_dict(),
        "edits": list(sc.edits),
        "schema": schema,
        "result": None,
    }
    if sc.result is not None:
        r = sc.result
        doc["result"] = {
            "layers": {a: n for a, n in RESULT_LAYERS.items() if getattr(r, a, None) is not None},
            "summary": r.summary,
            "meta": r.meta,
            "status": r.status,
        }
        if r.schedule is not None:
            doc["result"]["schedule"] = dict(SCHEDULE_LAYERS)
    return doc


def _source_dict(src: LayerSource) -> dict[str, Any]:
    return {
        "key": src.key,
        "file": str(src.file),
        "layer": src.layer,
        "columns": dict(src.columns),
        "x": src.x,
        "y": src.y,
        "coords": src.coords,
        "crs": src.crs,
        "sheet": src.sheet,
    }


def load_scenario(folder: str | Path) -> Scenario:
    """Read a scenario folder; raises ``ScenarioError`` when it is damaged (its files are never
    changed; only a save interrupted between its two folder renames is finished first)."""
    folder = Path(folder)
    recover(folder, clean=False)  # a save of it may be under way in another window
    js, gp = folder / JSON_NAME, folder / GPKG_NAME
    doc, original = _read_doc(folder)
    where = str(js)
    try:
        rules = Rules().with_values(doc["rules"], where=where)
    except RulesError as exc:
        raise ScenarioError(
            f"{js}: the saved rules are not valid: {exc.message}", fix=exc.fix or FIX_DAMAGED
        ) from None
    choices = GroupChoices.from_dict(doc["choices"], where=where)
    names = _gpkg_layers(gp, doc)
    layers = _read_inputs(folder, doc, names)
    sc = Scenario(
        name=str(doc["name"]),
        layers=layers,
        rules=rules,
        choices=choices,
        notes=str(doc.get("notes", "")),
        edits=list(doc.get("edits") or []),
        project={str(k): str(v) for k, v in dict(doc.get("project") or {}).items()},
        created=str(doc.get("created", "")),
        modified=str(doc.get("modified", "")),
        app_version=str(doc.get("app_version", "")),
        schema_version=SCHEMA_VERSION,
        migrated_from=original if original != SCHEMA_VERSION else None,
    )
    if doc.get("result"):
        schema = doc.get("schema") or {}
        sc.result = _read_result(gp, doc, names, schema, layers, rules)
    return sc


def _read_doc(folder: Path) -> tuple[dict[str, Any], int]:
    """scenario.json in the current layout, and the version it was written in."""
    js, gp = folder / JSON_NAME, folder / GPKG_NAME
    if not folder.is_dir():
        raise ScenarioError(f"scenario folder not found: {folder}", fix="check the path")
    for f in (js, gp):
        if not f.is_file():
            raise ScenarioError(
                f"{folder}: {f.name} is missing",
                fix="a scenario folder holds scenario.json and scenario.gpkg",
            )
    doc, original = migrate(_read_json(js))
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise missing_keys(missing, original)
    if doc.get("kind", KIND) != KIND:
        raise ScenarioError(f"{js}: not a SchoolPlan scenario (kind = {doc.get('kind')!r})")
    return doc, original


def _read_inputs(folder: Path, doc: dict[str, Any], names: set[str]) -> Layers:
    """The input layers, in the scenario's CRS, with their sources and the project's name."""
    js, gp = folder / JSON_NAME, folder / GPKG_NAME
    layer_names = doc["layers"]
    if not isinstance(layer_names, dict):
        raise ScenarioError(f"{js}: 'layers' must be a table", fix=FIX_DAMAGED)
    schema = doc.get("schema") or {}
    frames: dict[str, gpd.GeoDataFrame | None] = {}
    for attr in INPUT_LAYERS:
        layer = layer_names.get(attr)
        if layer is None or (doc.get("optional_layers") and layer not in names):
            if attr in REQUIRED_INPUTS:
                raise ScenarioError(f"{gp}: the {attr} layer is missing", fix=FIX_DAMAGED)
            frames[attr] = None
            continue
        frames[attr] = _read_layer(gp, layer, names, schema.get(layer))
    crs = _crs(doc, frames["schools"], js)
    for attr, gdf in frames.items():
        if gdf is not None and gdf.crs is not None and not _same_crs(gdf.crs, crs):
            raise ScenarioError(
                f"{gp}: layer {layer_names[attr]} is in {gdf.crs.to_string()}, the scenario in "
                f"{crs.to_string()}",
                fix=FIX_DAMAGED,
            )
    frames = {
        a: None if g is None else g.set_crs(crs, allow_override=True) for a, g in frames.items()
    }
    project = dict(doc.get("project") or {})
    return Layers(
        schools=frames["schools"],
        units=frames["units"],
        boundary=frames["boundary"],
        crs=crs,
        roads=frames["roads"],
        candidates=frames["candidates"],
        townships=frames["townships"],
        sources=_sources(doc.get("sources") or {}),
        name=str(project.get("name", "")),
        name_en=str(project.get("name_en", "")),
    )


def _read_json(js: Path) -> dict[str, Any]:
    try:
        text = js.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{js}: not a text file (damaged)", fix=FIX_DAMAGED) from None
    except OSError as exc:
        raise ScenarioError(f"{js}: cannot be read ({exc.strerror})") from None
    if not text.strip():
        raise ScenarioError(f"{js} is empty", fix=FIX_DAMAGED)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        # A JSON object ends with "}": a text that does not, or fails at its very end, was cut
        # (an error inside a string reports where the string started, not where the text ends).
        tail = text.rstrip()
        cut = exc.pos >= len(tail) - 1 or not tail.endswith("}")
        what = "is cut short (truncated)" if cut else "is not valid JSON"
        raise ScenarioError(
            f"{js} {what}: {exc.msg} at line {exc.lineno} column {exc.colno}", fix=FIX_DAMAGED
        ) from None
    if not isinstance(doc, dict):
        raise ScenarioError(
            f"{js}: expected a JSON object, found {type(doc).__name__}", fix=FIX_DAMAGED
        )
    return doc


def _gpkg_layers(gp: Path, doc: dict[str, Any]) -> set[str]:
    """Layer names of a GeoPackage that passed SQLite's integrity check (read-only), after
    checking that it was written by the same save as the JSON."""
    with open(gp, "rb") as fh:
        head = fh.read(16)
    if head != SQLITE_MAGIC:
        raise ScenarioError(f"{gp} is not a GeoPackage (damaged or another file)", fix=FIX_DAMAGED)
    try:
        # mode=ro: the check must never write, not even a journal roll-back.
        con = sqlite3.connect(f"{gp.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
            tables = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
            info = {}
            if rows == [("ok",)] and INFO_TABLE in tables:
                info = dict(con.execute(f"SELECT key, value FROM {INFO_TABLE}").fetchall())
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise ScenarioError(f"{gp} is damaged ({exc})", fix=FIX_DAMAGED) from None
    if rows != [("ok",)]:
        detail = "; ".join(str(r[0]) for r in rows[:3])
        raise ScenarioError(f"{gp} is damaged ({detail})", fix=FIX_DAMAGED)
    if doc.get("save_id") and info.get("save_id") != doc["save_id"]:  # v0 files had none
        raise ScenarioError(
            f"{gp.parent}: scenario.json and scenario.gpkg come from different saves "
            "(an interrupted save, or files copied from two scenarios)",
            fix=FIX_DAMAGED,
        )
    return tables


def _read_layer(
    gp: Path, layer: str, names: set[str], schema: dict[str, Any] | None
) -> gpd.GeoDataFrame:
    if layer not in names:
        raise ScenarioError(f"{gp}: layer '{layer}' is missing", fix=FIX_DAMAGED)
    try:
        gdf = pyogrio.read_dataframe(gp, layer=layer)
    except Exception as exc:  # noqa: BLE001 - any failure means the file is damaged
        raise ScenarioError(
            f"{gp}: layer '{layer}' cannot be read ({str(exc)[:200]})", fix=FIX_DAMAGED
        ) from None
    if schema:
        if len(gdf) != schema.get("rows", len(gdf)):
            raise ScenarioError(
                f"{gp}: layer '{layer}' has {len(gdf)} rows, the save wrote {schema['rows']}",
                fix=FIX_DAMAGED,
            )
        gdf = _restore_types(gdf, schema, gp, layer)
    return gdf


def _restore_types(
    gdf: gpd.GeoDataFrame, schema: dict[str, Any], gp: Path, layer: str
) -> gpd.GeoDataFrame:
    """The saved column order and types, so a reloaded layer equals the one saved."""
    geom = str(schema.get("geometry", "geometry"))
    if geom != "geometry":
        gdf = gdf.rename_geometry(geom)
    cols = list(schema.get("columns", []))
    if geom not in cols:
        cols.append(geom)
    missing = [c for c in cols if c not in gdf.columns]
    if missing:
        raise ScenarioError(
            f"{gp}: layer '{layer}' lacks column(s) {', '.join(missing)}", fix=FIX_DAMAGED
        )
    gdf = gdf[cols]
    for col, dtype in (schema.get("dtypes") or {}).items():
        if col in gdf.columns and str(gdf[col].dtype) != dtype:
            try:
                if dtype == "object":
                    gdf[col] = gdf[col].astype(object).where(gdf[col].notna(), None)
                else:
                    gdf[col] = gdf[col].astype(dtype)
            except (TypeError, ValueError):
                pass  # a column of text that held lists stays text: readers accept both
    return gdf


def _crs(doc: dict[str, Any], schools: gpd.GeoDataFrame, js: Path) -> pyproj.CRS:
    text = doc.get("crs")
    if text:
        try:
            return pyproj.CRS.from_user_input(text)
        except pyproj.exceptions.CRSError:
            raise ScenarioError(f"{js}: the saved CRS cannot be read", fix=FIX_DAMAGED) from None
    if schools.crs is None:
        raise ScenarioError(f"{js}: the scenario has no coordinate system", fix=FIX_DAMAGED)
    return pyproj.CRS.from_user_input(schools.crs)


def _same_crs(a: Any, b: Any) -> bool:
    return pyproj.CRS.from_user_input(a).equals(
        pyproj.CRS.from_user_input(b), ignore_axis_order=True
    )


def _sources(data: dict[str, Any]) -> dict[str, LayerSource]:
    out = {}
    for key, s in data.items():
        try:
            out[str(key)] = LayerSource(
                key=str(s.get("key", key)),
                file=Path(str(s.get("file", ""))),
                layer=s.get("layer"),
                columns={str(k): str(v) for k, v in dict(s.get("columns") or {}).items()},
                x=s.get("x"),
                y=s.get("y"),
                coords=str(s.get("coords", "wgs84")),
                crs=s.get("crs"),
                sheet=s.get("sheet"),
            )
        except (AttributeError, TypeError, ValueError):
            raise ScenarioError(f"{JSON_NAME}: 'sources' is damaged", fix=FIX_DAMAGED) from None
    return out


def _read_result(
    gp: Path,
    doc: dict[str, Any],
    names: set[str],
    schema: dict[str, dict[str, Any]],
    layers: Layers,
    rules: Rules,
) -> PlanResult | None:
    crs = layers.crs
    info = doc["result"]
    if not isinstance(info, dict) or not isinstance(info.get("layers"), dict):
        raise ScenarioError(f"{JSON_NAME}: 'result' is damaged", fix=FIX_DAMAGED)
    if info.get("optional") and not set(info["layers"].values()) & names:
        return None
    frames: dict[str, gpd.GeoDataFrame] = {}
    for attr in RESULT_LAYERS:
        layer = info["layers"].get(attr)
        if layer is None or (info.get("optional") and layer not in names):
            frames[attr] = gpd.GeoDataFrame(geometry=[], crs=crs)
            continue
        gdf = _read_layer(gp, layer, names, schema.get(layer))
        frames[attr] = gdf.set_crs(crs, allow_override=True)
    schedule = None
    sched = info.get("schedule")  # absent in saves without a schedule and in older saves
    if isinstance(sched, dict) and {"steps", "classes"} <= set(sched):
        steps, classes = (
            _read_layer(gp, str(sched[k]), names, schema.get(str(sched[k])))
            for k in ("steps", "classes")
        )
        schedule = schedule_from_tables(steps, classes)
    return PlanResult(
        boundary=layers.boundary,
        summary=dict(info.get("summary") or {}),
        rules=rules,
        meta=dict(info.get("meta") or {}),
        status=str(info.get("status", "ok")),
        schedule=schedule,
        townships=township_areas(layers.townships, layers.units, layers.boundary),
        **frames,
    )


def is_scenario_folder(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / JSON_NAME).is_file()
