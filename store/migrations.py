"""Older scenario layouts turned into the current one, in memory (the next save writes the
current layout). ``MIGRATIONS[v]`` turns a version-``v`` document into version ``v + 1``."""

from __future__ import annotations

from typing import Any

from core.errors import ScenarioError
from store.layout import FIX_DAMAGED, JSON_NAME, KIND, RESULT_LAYERS, SCHEMA_VERSION, missing_keys


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
        raise missing_keys(missing, 0)
    flat = doc["rules"]
    if not isinstance(flat, dict):
        raise ScenarioError(f"{JSON_NAME}: 'rules' must be a table", fix=FIX_DAMAGED)
    rules: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        section, dot, pname = str(key).partition(".")
        if not dot:
            raise ScenarioError(
                f"{JSON_NAME} (version 0): rule key '{key}' is not 'section.name'",
                fix=FIX_DAMAGED,
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
            f"{JSON_NAME}: schema_version {version!r} is not a whole number", fix=FIX_DAMAGED
        )
    if version > SCHEMA_VERSION:
        raise ScenarioError(
            f"{JSON_NAME} was written by a newer SchoolPlan (schema_version {version}; this "
            f"version reads up to {SCHEMA_VERSION})",
            fix="update SchoolPlan to open this scenario",
        )
    if version < 0:
        raise ScenarioError(f"{JSON_NAME}: schema_version {version} is invalid", fix=FIX_DAMAGED)
    original = version
    while version < SCHEMA_VERSION:
        doc = MIGRATIONS[version](doc)
        version = doc["schema_version"]
    return doc, original
