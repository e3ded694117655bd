"""The scenario folder's current layout: file names, layer names, required keys.

A folder holds two files:

- ``scenario.gpkg``: the input layers as edited (``input_schools``, ``input_units``,
  ``input_boundary``, ``input_roads``, ``input_candidates``, in the project CRS) and, when the
  scenario was planned, the result layers (``result_schools``, ``result_groups``, …).
- ``scenario.json``: rules, the planner's group choices, the edits log, ``schema_version``, app
  version, created/modified times, name, notes, the column types of every layer and the result
  summary.

The two files share a ``save_id`` (in the JSON and in the GeoPackage's ``scenario_info`` table),
so files copied from two different saves are detected on load.
"""

from __future__ import annotations

from core.errors import ScenarioError

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
    "townships": "input_townships",
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
# The phased schedule (PlanResult.schedule, planning.schedule.ScheduleResult) -> layer names; the
# steps carry their schools' points, the class table has no geometry.
SCHEDULE_LAYERS: dict[str, str] = {"steps": "result_schedule", "classes": "result_schedule_classes"}
INFO_TABLE = "scenario_info"
REQUIRED_KEYS = ("schema_version", "name", "crs", "layers", "rules", "choices")
SQLITE_MAGIC = b"SQLite format 3\x00"
FIX_DAMAGED = "reopen the project and save the scenario again, or restore the folder from a backup"


def missing_keys(keys: list[str], version: int) -> ScenarioError:
    return ScenarioError(
        f"{JSON_NAME} (schema_version {version}) lacks {', '.join(repr(k) for k in keys)}",
        fix=FIX_DAMAGED,
    )
