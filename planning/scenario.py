"""A scenario in memory: one alternative of the plan (the layers as edited, the rules, the planner's
group choices and its result), built from a project and planned.

Saving and reading scenario folders is ``store.scenario``; nothing here writes a file.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd

from core.jsonable import jsonable
from core.progress import Progress
from geo.layers import Layers
from planning.grouping import GroupChoices
from planning.pipeline import PlanResult, run_plan
from planning.project import load_project
from planning.rules import Rules


# --------------------------------------------------------------------------- the scenario
@dataclass
class Scenario:
    """One alternative: the layers as edited, the rules, the planner's choices and its result."""

    name: str
    layers: Layers
    rules: Rules = field(default_factory=Rules)
    choices: GroupChoices = field(default_factory=GroupChoices)
    result: PlanResult | None = None  # once planned
    notes: str = ""
    edits: list[dict[str, Any]] = field(default_factory=list)
    project: dict[str, str] = field(default_factory=dict)  # name, name_en, file
    created: str = ""
    modified: str = ""
    app_version: str = ""
    schema_version: int | None = None  # layout version of its folder; None until saved or read
    migrated_from: int | None = None  # schema_version of the file it was loaded from, if older

    def log_edit(self, action: str, **details: Any) -> None:
        """Record a planner's edit (moved school, changed rule, …) in the scenario's log."""
        entry = {"time": _now(), "action": str(action)}
        entry.update(jsonable(details))
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


# --------------------------------------------------------------------------- building
def scenario_from_layers(
    layers: Layers,
    rules: Rules,
    *,
    name: str,
    choices: GroupChoices | None = None,
    notes: str = "",
    result: PlanResult | None = None,
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


def plan_scenario(
    scenario: Scenario,
    *,
    progress: Progress | None = None,
    baseline: dict[str, dict[str, str]] | None = None,
) -> PlanResult:
    """Run the plan on the scenario's layers, rules and choices; keeps and returns the result.
    ``baseline``: per level, each unit's current school (minimal-change re-zoning)."""
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
        baseline=baseline,
    )
    return scenario.result


def _has_choices(choices: GroupChoices) -> bool:
    return bool(choices.locked_pairs or choices.excluded or choices.forced_cores)


def _copy_layers(layers: Layers) -> Layers:
    def cp(g: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        return None if g is None else g.copy()

    return Layers(
        schools=cp(layers.schools),
        units=cp(layers.units),
        boundary=cp(layers.boundary),
        crs=layers.crs,
        roads=cp(layers.roads),
        candidates=cp(layers.candidates),
        townships=cp(layers.townships),
        sources=dict(layers.sources),
        name=layers.name,
        name_en=layers.name_en,
    )
