"""A scenario: one alternative of the plan, saved as a folder a planner can reopen and compare.

The folder holds two files:

- ``scenario.gpkg``: the input layers as edited (``input_schools``, ``input_units``,
  ``input_boundary``, ``input_roads``, ``input_candidates``, in the project CRS) and, when the
  scenario was planned, the result layers (``result_schools``, ``result_groups``, …).
- ``scenario.json``: rules, the planner's group choices, the edits log, ``schema_version``, app
  version, created/modified times, name, notes, the column types of every layer and the result
  summary.

Both files are written under temporary names in the folder and renamed into place, so an
interrupted save never leaves half a file. The two files share a ``save_id`` (in the JSON and in
the GeoPackage metadata): a crash between the two renames, or files copied from two different
saves, is detected on load. Loading only reads: a damaged file raises ``ScenarioError`` and is
left exactly as it was. Older layouts are migrated in memory (see ``MIGRATIONS``); the next save
writes the current layout.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj

from core.errors import RulesError, ScenarioError, SchoolPlanError
from geo.layers import Layers, LayerSource
from planning.grouping import GroupChoices
from planning.outputs import _jsonable
from planning.rules import Rules

SCHEMA_VERSION = 1
JSON_NAME = "scenario.json"
GPKG_NAME = "scenario.gpkg"
KIND = "schoolplan-scenario"

# Layers.<attribute> -> GeoPackage layer name (current layout).
INPUT_LAYERS: dict[str, str] = {
    "schools": "input_schools",
    "units": "input_units",
    "boundary": "input_boundary",
    "roads": "input_roads",
    "candidates": "input_candidates",
}
REQUIRED_INPUTS = ("schools", "units", "boundary")
# PlanResult.<attribute> -> layer name; the result boundary is the input boundary.
RESULT_LAYERS: dict[str, str] = {
    "schools": "result_schools",
    "groups": "result_groups",
    "new_schools": "result_new_schools",
    "catchments": "result_catchments",
    "demand": "result_demand",
}
INFO_TABLE = "scenario_info"
REQUIRED_KEYS = ("schema_version", "name", "crs", "layers", "rules", "choices")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_FIX_DAMAGED = "reopen the project and save the scenario again, or restore the folder from a backup"


# --------------------------------------------------------------------------- the scenario
@dataclass
class Scenario:
    """One alternative: the layers as edited, the rules, the planner's choices and its result."""

    name: str
    layers: Layers
    rules: Rules = field(default_factory=Rules)
    choices: GroupChoices = field(default_factory=GroupChoices)
    result: Any = None  # planning.pipeline.PlanResult once planned
    notes: str = ""
    edits: list[dict[str, Any]] = field(default_factory=list)
    project: dict[str, str] = field(default_factory=dict)  # name, name_en, file
    created: str = ""
    modified: str = ""
    app_version: str = ""
    schema_version: int = SCHEMA_VERSION
    migrated_from: int | None = None  # schema_version of the file it was loaded from, if older

    def log_edit(self, action: str, **details: Any) -> None:
        """Record a planner's edit (moved school, changed rule, …) in the scenario's log."""
        entry = {"time": _now(), "action": str(action)}
        entry.update(_jsonable(details))
        self.edits.append(entry)

    def duplicate(self, name: str) -> Scenario:
        """An independent copy under a new name (for 'duplicate' in the scenario list)."""
        twin = copy.deepcopy(self)
        twin.name = name
        twin.created = twin.modified = ""
        twin.migrated_from = None
        twin.log_edit("duplicate", source=self.name)
        return twin


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("schoolplan")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


# --------------------------------------------------------------------------- building
def scenario_from_layers(
    layers: Layers,
    rules: Rules,
    *,
    name: str,
    choices: GroupChoices | None = None,
    notes: str = "",
    result: Any = None,
) -> Scenario:
    """A new scenario over a copy of ``layers`` (later edits of the caller's layers don't leak in)."""
    src = layers.sources.get("schools")
    return Scenario(
        name=name,
        layers=_copy_layers(layers),
        rules=rules,
        choices=choices or GroupChoices(),
        result=result,
        notes=notes,
        project={
            "name": layers.name,
            "name_en": layers.name_en,
            "file": str(src.file.parent) if src is not None else "",
        },
    )


def scenario_from_project(
    project: str | Path | None = None,
    *,
    name: str,
    rules: Rules | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    choices: GroupChoices | None = None,
    notes: str = "",
    rules_path: str | Path | None = None,
) -> Scenario:
    """Load a project (default: the sample county) and make a scenario of it.

    ``rules`` replaces the project's rules; ``overrides`` (``{section: {name: value}}``) is applied
    on top, e.g. ``{"groups": {"radius_km": 15}}``.
    """
    from planning.project import load_project

    layers, project_rules, _report = load_project(project, rules_path=rules_path)
    rules = rules or project_rules
    if overrides:
        rules = rules.with_values(overrides, where="scenario")
    sc = scenario_from_layers(layers, rules, name=name, choices=choices, notes=notes)
    if project is not None:
        sc.project["file"] = str(Path(project))
    if overrides:
        sc.log_edit("rules", values=overrides)
    return sc


def layers_from_scenario(scenario: Scenario) -> Layers:
    """The scenario's input layers, copied, ready for ``run_plan``."""
    return _copy_layers(scenario.layers)


def plan_scenario(scenario: Scenario, *, progress=None) -> Any:
    """Run the plan on the scenario's layers, rules and choices; keeps and returns the result."""
    from planning.pipeline import run_plan

    meta = {
        "project": scenario.project.get("name", ""),
        "project_en": scenario.project.get("name_en", ""),
        "scenario": scenario.name,
    }
    choices = scenario.choices if _has_choices(scenario.choices) else None
    scenario.result = run_plan(
        layers_from_scenario(scenario),
        scenario.rules,
        choices=choices,
        progress=progress,
        meta=meta,
    )
    return scenario.result


def _has_choices(choices: GroupChoices) -> bool:
    return bool(choices.locked_pairs or choices.excluded or choices.forced_cores)


def _copy_layers(layers: Layers) -> Layers:
    def cp(g):
        return None if g is None else g.copy()

    return Layers(
        schools=cp(layers.schools),
        units=cp(layers.units),
        boundary=cp(layers.boundary),
        crs=layers.crs,
        roads=cp(layers.roads),
        candidates=cp(layers.candidates),
        sources=dict(layers.sources),
        name=layers.name,
        name_en=layers.name_en,
    )


# --------------------------------------------------------------------------- saving
def save_scenario(scenario: Scenario, folder: str | Path) -> dict[str, Path]:
    """Write ``scenario.gpkg`` and ``scenario.json`` into ``folder`` (created if needed).

    Each file is written in full under a temporary name in the folder, flushed, and renamed over
    the old one; on any failure the temporary files are removed and the old scenario is untouched.
    Sets ``scenario.created`` (first save), ``modified`` and ``app_version``.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(
            f"cannot create the scenario folder {folder}: {exc.strerror}",
            fix="choose another folder",
        ) from None
    save_id = uuid.uuid4().hex
    now = _now()
    tmp_gpkg = folder / f".{GPKG_NAME}.{save_id}.tmp.gpkg"
    tmp_json = folder / f".{JSON_NAME}.{save_id}.tmp"
    try:
        frames = _frames_to_write(scenario)
        schema = _write_gpkg(tmp_gpkg, frames, save_id)
        doc = _to_doc(scenario, save_id, now, schema)
        _write_json(tmp_json, doc)
        os.replace(tmp_gpkg, folder / GPKG_NAME)
        os.replace(tmp_json, folder / JSON_NAME)
        _fsync_dir(folder)
    except BaseException:
        tmp_gpkg.unlink(missing_ok=True)
        tmp_json.unlink(missing_ok=True)
        raise
    scenario.created = doc["created"]
    scenario.modified = now
    scenario.app_version = doc["app_version"]
    scenario.schema_version = SCHEMA_VERSION
    return {"gpkg": folder / GPKG_NAME, "json": folder / JSON_NAME}


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
    return frames


def _write_gpkg(path: Path, frames: dict[str, gpd.GeoDataFrame], save_id: str) -> dict:
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
        if len(out) == 0:
            kwargs["geometry_type"] = "Unknown"
        pyogrio.write_dataframe(out, path, layer=layer, driver="GPKG", **kwargs)
        schema[layer] = {
            "rows": int(len(gdf)),
            "columns": [str(c) for c in gdf.columns],  # with the geometry, in place
            "geometry": str(gdf.geometry.name),
            "dtypes": {str(c): str(gdf[c].dtype) for c in gdf.columns if c != gdf.geometry.name},
        }
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())
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
        return json.dumps(_jsonable(v), ensure_ascii=False)
    return v if isinstance(v, str) else str(v)


def _write_json(path: Path, doc: dict) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(_jsonable(doc), fh, ensure_ascii=False, indent=2)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _to_doc(sc: Scenario, save_id: str, now: str, schema: dict) -> dict[str, Any]:
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


# --------------------------------------------------------------------------- migrations
def _migrate_v0(doc: dict[str, Any]) -> dict[str, Any]:
    """v0 (the prototype layout, before schema_version existed) → v1.

    v0 ``scenario.json``: ``{"name", "note", "saved", "rules": {"groups.radius_km": 15, …}
    (flat 'section.name' keys), "locks": [[core, member, level], …], "excluded": [[school_id,
    level], …]}``; no CRS (taken from the GeoPackage), no save_id, no column types.
    v0 ``scenario.gpkg``: layers ``schools``, ``population``, ``boundary``, ``roads``,
    ``candidates``; results ``plan_schools``, ``plan_groups``, ``plan_new_schools``,
    ``plan_catchments``, ``plan_demand`` when planned.
    """
    missing = [k for k in ("name", "rules") if k not in doc]
    if missing:
        raise _missing_keys(missing, 0)
    flat = doc["rules"]
    if not isinstance(flat, dict):
        raise ScenarioError(f"{JSON_NAME}: 'rules' must be a table", fix=_FIX_DAMAGED)
    rules: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        section, dot, pname = str(key).partition(".")
        if not dot:
            raise ScenarioError(
                f"{JSON_NAME} (version 0): rule key '{key}' is not 'section.name'",
                fix=_FIX_DAMAGED,
            )
        rules.setdefault(section, {})[pname] = value
    saved = str(doc.get("saved", ""))
    layer_names = {
        "schools": "schools",
        "units": "population",
        "boundary": "boundary",
        "roads": "roads",
        "candidates": "candidates",
    }
    result_names = {a: f"plan_{a}" for a in RESULT_LAYERS}
    return {
        "schema_version": 1,
        "kind": KIND,
        "name": str(doc["name"]),
        "notes": str(doc.get("note", "")),
        "app_version": "unknown (version 0 file)",
        "created": saved,
        "modified": saved,
        "save_id": None,
        "project": {},
        "crs": None,  # filled from the GeoPackage
        "layers": layer_names,
        "optional_layers": True,  # v0 wrote only the layers it had
        "sources": {},
        "rules": rules,
        "choices": {
            "locked_pairs": doc.get("locks", []),
            "excluded": doc.get("excluded", []),
            "forced_cores": [],
        },
        "edits": doc.get("edits", []),
        "schema": {},
        # v0 kept results only when planned: read them if the GeoPackage has them.
        "result": {
            "layers": result_names,
            "summary": {},
            "meta": {},
            "status": "ok",
            "optional": True,
        },
    }


# schema_version of the file -> function turning it into the next version's dict.
MIGRATIONS = {0: _migrate_v0}


def migrate(doc: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The document in the current layout, and the version it was written in."""
    version = doc.get("schema_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ScenarioError(
            f"{JSON_NAME}: schema_version {version!r} is not a whole number", fix=_FIX_DAMAGED
        )
    if version > SCHEMA_VERSION:
        raise ScenarioError(
            f"{JSON_NAME} was written by a newer SchoolPlan (schema_version {version}; this "
            f"version reads up to {SCHEMA_VERSION})",
            fix="update SchoolPlan to open this scenario",
        )
    if version < 0:
        raise ScenarioError(f"{JSON_NAME}: schema_version {version} is invalid", fix=_FIX_DAMAGED)
    original = version
    while version < SCHEMA_VERSION:
        doc = MIGRATIONS[version](doc)
        version = doc["schema_version"]
    return doc, original


def _missing_keys(keys: list[str], version: int) -> ScenarioError:
    return ScenarioError(
        f"{JSON_NAME} (schema_version {version}) lacks {', '.join(repr(k) for k in keys)}",
        fix=_FIX_DAMAGED,
    )


# --------------------------------------------------------------------------- loading
def load_scenario(folder: str | Path) -> Scenario:
    """Read a scenario folder; raises ``ScenarioError`` (never writes) when it is damaged."""
    folder = Path(folder)
    js, gp = folder / JSON_NAME, folder / GPKG_NAME
    if not folder.is_dir():
        raise ScenarioError(f"scenario folder not found: {folder}", fix="check the path")
    for f in (js, gp):
        if not f.is_file():
            raise ScenarioError(
                f"{folder}: {f.name} is missing",
                fix="a scenario folder holds scenario.json and scenario.gpkg",
            )
    raw = _read_json(js)
    doc, original = migrate(raw)
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise _missing_keys(missing, original)
    if doc.get("kind", KIND) != KIND:
        raise ScenarioError(f"{js}: not a SchoolPlan scenario (kind = {doc.get('kind')!r})")
    where = str(js)
    try:
        rules = Rules().with_values(doc["rules"], where=where)
    except RulesError as exc:
        raise ScenarioError(
            f"{js}: the saved rules are not valid: {exc.message}", fix=exc.fix or _FIX_DAMAGED
        ) from None
    choices = GroupChoices.from_dict(doc["choices"], where=where)

    names = _gpkg_layers(gp, doc)
    layer_names = doc["layers"]
    if not isinstance(layer_names, dict):
        raise ScenarioError(f"{js}: 'layers' must be a table", fix=_FIX_DAMAGED)
    schema = doc.get("schema") or {}
    frames: dict[str, gpd.GeoDataFrame | None] = {}
    for attr in INPUT_LAYERS:
        layer = layer_names.get(attr)
        if layer is None or (doc.get("optional_layers") and layer not in names):
            if attr in REQUIRED_INPUTS:
                raise ScenarioError(f"{gp}: the {attr} layer is missing", fix=_FIX_DAMAGED)
            frames[attr] = None
            continue
        frames[attr] = _read_layer(gp, layer, names, schema.get(layer))
    crs = _crs(doc, frames["schools"], js)
    for attr, gdf in frames.items():
        if gdf is not None and gdf.crs is not None and not _same_crs(gdf.crs, crs):
            raise ScenarioError(
                f"{gp}: layer {layer_names[attr]} is in {gdf.crs.to_string()}, the scenario in "
                f"{crs.to_string()}",
                fix=_FIX_DAMAGED,
            )
    frames = {
        a: None if g is None else g.set_crs(crs, allow_override=True) for a, g in frames.items()
    }
    project = {str(k): str(v) for k, v in dict(doc.get("project") or {}).items()}
    layers = Layers(
        schools=frames["schools"],
        units=frames["units"],
        boundary=frames["boundary"],
        crs=crs,
        roads=frames["roads"],
        candidates=frames["candidates"],
        sources=_sources(doc.get("sources") or {}),
        name=project.get("name", ""),
        name_en=project.get("name_en", ""),
    )
    sc = Scenario(
        name=str(doc["name"]),
        layers=layers,
        rules=rules,
        choices=choices,
        notes=str(doc.get("notes", "")),
        edits=list(doc.get("edits") or []),
        project=project,
        created=str(doc.get("created", "")),
        modified=str(doc.get("modified", "")),
        app_version=str(doc.get("app_version", "")),
        schema_version=SCHEMA_VERSION,
        migrated_from=original if original != SCHEMA_VERSION else None,
    )
    if doc.get("result"):
        sc.result = _read_result(gp, doc, names, schema, layers, rules, crs)
    return sc


def _read_json(js: Path) -> dict[str, Any]:
    try:
        text = js.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{js}: not a text file (damaged)", fix=_FIX_DAMAGED) from None
    except OSError as exc:
        raise ScenarioError(f"{js}: cannot be read ({exc.strerror})") from None
    if not text.strip():
        raise ScenarioError(f"{js} is empty", fix=_FIX_DAMAGED)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) - 1
        what = "is cut short (truncated)" if cut else "is not valid JSON"
        raise ScenarioError(
            f"{js} {what}: {exc.msg} at line {exc.lineno} column {exc.colno}", fix=_FIX_DAMAGED
        ) from None
    if not isinstance(doc, dict):
        raise ScenarioError(
            f"{js}: expected a JSON object, found {type(doc).__name__}", fix=_FIX_DAMAGED
        )
    return doc


def _gpkg_layers(gp: Path, doc: dict) -> set[str]:
    """Layer names of a GeoPackage that passed SQLite's integrity check (read-only), after
    checking that it was written by the same save as the JSON."""
    with open(gp, "rb") as fh:
        head = fh.read(16)
    if head != _SQLITE_MAGIC:
        raise ScenarioError(f"{gp} is not a GeoPackage (damaged or another file)", fix=_FIX_DAMAGED)
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
        raise ScenarioError(f"{gp} is damaged ({exc})", fix=_FIX_DAMAGED) from None
    if rows != [("ok",)]:
        detail = "; ".join(str(r[0]) for r in rows[:3])
        raise ScenarioError(f"{gp} is damaged ({detail})", fix=_FIX_DAMAGED)
    if doc.get("save_id") and info.get("save_id") != doc["save_id"]:  # v0 files had none
        raise ScenarioError(
            f"{gp.parent}: scenario.json and scenario.gpkg come from different saves "
            "(an interrupted save, or files copied from two scenarios)",
            fix=_FIX_DAMAGED,
        )
    return tables


def _read_layer(gp: Path, layer: str, names: set[str], schema: dict | None) -> gpd.GeoDataFrame:
    if layer not in names:
        raise ScenarioError(f"{gp}: layer '{layer}' is missing", fix=_FIX_DAMAGED)
    try:
        gdf = pyogrio.read_dataframe(gp, layer=layer)
    except Exception as exc:  # noqa: BLE001 - any failure means the file is damaged
        raise ScenarioError(
            f"{gp}: layer '{layer}' cannot be read ({str(exc)[:200]})", fix=_FIX_DAMAGED
        ) from None
    if schema:
        if len(gdf) != schema.get("rows", len(gdf)):
            raise ScenarioError(
                f"{gp}: layer '{layer}' has {len(gdf)} rows, the save wrote {schema['rows']}",
                fix=_FIX_DAMAGED,
            )
        gdf = _restore_types(gdf, schema, gp, layer)
    return gdf


def _restore_types(gdf: gpd.GeoDataFrame, schema: dict, gp: Path, layer: str) -> gpd.GeoDataFrame:
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
            f"{gp}: layer '{layer}' lacks column(s) {', '.join(missing)}", fix=_FIX_DAMAGED
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


def _crs(doc: dict, schools: gpd.GeoDataFrame, js: Path) -> pyproj.CRS:
    text = doc.get("crs")
    if text:
        try:
            return pyproj.CRS.from_user_input(text)
        except pyproj.exceptions.CRSError:
            raise ScenarioError(f"{js}: the saved CRS cannot be read", fix=_FIX_DAMAGED) from None
    if schools.crs is None:
        raise ScenarioError(f"{js}: the scenario has no coordinate system", fix=_FIX_DAMAGED)
    return pyproj.CRS.from_user_input(schools.crs)


def _same_crs(a, b) -> bool:
    return pyproj.CRS.from_user_input(a).equals(
        pyproj.CRS.from_user_input(b), ignore_axis_order=True
    )


def _sources(data: dict) -> dict[str, LayerSource]:
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
            raise ScenarioError(f"{JSON_NAME}: 'sources' is damaged", fix=_FIX_DAMAGED) from None
    return out


def _read_result(gp, doc, names, schema, layers: Layers, rules: Rules, crs) -> Any:
    from planning.pipeline import PlanResult

    info = doc["result"]
    if not isinstance(info, dict) or not isinstance(info.get("layers"), dict):
        raise ScenarioError(f"{JSON_NAME}: 'result' is damaged", fix=_FIX_DAMAGED)
    if info.get("optional") and not set(info["layers"].values()) & names:
        return None
    frames = {}
    for attr in RESULT_LAYERS:
        layer = info["layers"].get(attr)
        if layer is None or (info.get("optional") and layer not in names):
            frames[attr] = gpd.GeoDataFrame(geometry=[], crs=crs)
            continue
        gdf = _read_layer(gp, layer, names, schema.get(layer))
        frames[attr] = gdf.set_crs(crs, allow_override=True)
    return PlanResult(
        boundary=layers.boundary,
        summary=dict(info.get("summary") or {}),
        rules=rules,
        meta=dict(info.get("meta") or {}),
        status=str(info.get("status", "ok")),
        **frames,
    )


def is_scenario_folder(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / JSON_NAME).is_file()


__all__ = [
    "SCHEMA_VERSION",
    "Scenario",
    "ScenarioError",
    "SchoolPlanError",
    "scenario_from_layers",
    "scenario_from_project",
    "layers_from_scenario",
    "plan_scenario",
    "save_scenario",
    "load_scenario",
    "migrate",
    "is_scenario_folder",
]
