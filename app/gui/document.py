"""The editable plan behind the window: layers, rules, group choices, results and what is stale.

Edits replace data frames instead of changing them in place, so a job running on the worker
thread keeps a consistent snapshot. Every edit goes through a ``QUndoCommand``
(``app/gui/commands.py``) which calls the methods here; the document records which plan stages
the edit makes stale and the window re-runs those.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import Transformer
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtGui import QUndoGroup, QUndoStack

from planning.grouping import GroupChoices
from planning.rules import LEVELS, SECTIONS, Rules

ALL_STAGES = frozenset({"new_schools", "groups", "catchments"})
# Which plan stages an edit makes stale. Rules of a section feed that section's stage and every
# later one: new schools join groups and catchments.
EDIT_EFFECTS: dict[str, frozenset[str]] = {
    "schools": ALL_STAGES,
    "choices": frozenset({"groups"}),
    "rules:standards": ALL_STAGES,
    "rules:new_schools": ALL_STAGES,
    "rules:groups": frozenset({"groups"}),
    "rules:catchments": frozenset({"catchments"}),
    # The one cost model every engine measures with.
    "rules:distance": ALL_STAGES,
    # The CRS plan.gpkg is written in: no stage computes with it.
    "rules:output": frozenset(),
    # Read when the layers are loaded (limits, what to assume for missing data), not by a stage.
    "rules:checks": frozenset(),
    "rules:data": frozenset(),
    # The plan year changes every unit's children and the class sizes, so every stage.
    "rules:projection": ALL_STAGES,
    "layers": ALL_STAGES,
    # Candidate sites feed new-school planning, whose new schools feed the later stages.
    "candidates": ALL_STAGES,
}
# Stages the window re-runs at once after an edit (fast); new-school planning waits for "Run".
QUICK_STAGES = frozenset({"groups", "catchments"})
EDITABLE = ("name", "level", "classes", "students", "capacity", "quality", "status")
SchoolKey = tuple[str, str]  # (school_id, level)


def has_result(result: Any) -> bool:
    """A plan result with something in it (a run that had nothing to plan is "empty")."""
    return result is not None and result.status != "empty"


CANDIDATE_COLUMNS = ("candidate_id", "name", "level", "src_row")


class PlanDocument(QObject):
    """Layers + rules + choices + results, with dirty flags and stale stages."""

    layersChanged = pyqtSignal()
    resultChanged = pyqtSignal()
    rulesChanged = pyqtSignal()
    choicesChanged = pyqtSignal()
    dirtyChanged = pyqtSignal(bool)
    staleChanged = pyqtSignal()
    edited = pyqtSignal(str)  # the kind of edit (a key of EDIT_EFFECTS)
    schoolMoved = pyqtSignal(str, float, float)  # school_id, x, y (before layersChanged)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.layers = None
        self.rules = Rules()
        self.default_rules = Rules()
        self.choices = GroupChoices()
        self.report = None
        self.result = None
        self.project_path: Path | None = None
        self.config = None  # geo.project.ProjectConfig of an opened project (None for a scenario)
        self.scenario_path: Path | None = None
        self.name = ""
        self.stale: set[str] = set(ALL_STAGES)
        self.revision = 0  # bumped by every edit; results of older revisions are dropped
        self._dirty = False
        self._next_id = 1
        # On the document, not the window: the history survives a window rebuilt for a language.
        # One stack per scenario (the scenario panel swaps them); the window's Undo/Redo actions
        # follow the group's active stack.
        self.undo_group = QUndoGroup(self)
        self.undo_stack = QUndoStack(self)
        self.use_undo_stack(self.undo_stack)

    def use_undo_stack(self, stack: QUndoStack) -> None:
        """Make ``stack`` the history edits go on (a scenario's own, when switching to it)."""
        if stack not in self.undo_group.stacks():
            self.undo_group.addStack(stack)
        self.undo_stack = stack
        self.undo_group.setActiveStack(stack)

    # ----- state -----------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self._dirty

    def set_dirty(self, value: bool) -> None:
        if value != self._dirty:
            self._dirty = value
            self.dirtyChanged.emit(value)

    def set_project(self, layers, rules: Rules, report, *, path=None, name="") -> None:
        self.layers, self.rules, self.report = layers, rules, report
        self.default_rules = rules
        self.choices = GroupChoices()
        self.result = None
        self.project_path = Path(path) if path else None
        self.scenario_path = None
        self.name = name or (getattr(layers, "name", "") if layers is not None else "")
        self.stale = set(ALL_STAGES)
        self.revision += 1
        self.set_dirty(False)
        self.layersChanged.emit()
        self.rulesChanged.emit()
        self.resultChanged.emit()
        self.staleChanged.emit()

    def set_result(self, result, stages, revision: int | None = None) -> bool:
        """Take a finished job's result; refused (False) when edits happened since it started."""
        if revision is not None and revision != self.revision:
            return False
        self.result = result
        self.stale -= set(stages)
        self.resultChanged.emit()
        self.staleChanged.emit()
        return True

    def _edited(self, kind: str) -> None:
        self.revision += 1
        self.stale |= EDIT_EFFECTS[kind]
        self.set_dirty(True)
        self.edited.emit(kind)
        self.staleChanged.emit()

    # ----- coordinates -----------------------------------------------------------------------
    def to_metric(self, lat: float, lng: float) -> tuple[float, float]:
        t = Transformer.from_crs("EPSG:4326", self.layers.crs, always_xy=True)
        x, y = t.transform(lng, lat)
        return float(x), float(y)

    def to_latlng(self, x: float, y: float) -> tuple[float, float]:
        t = Transformer.from_crs(self.layers.crs, "EPSG:4326", always_xy=True)
        lng, lat = t.transform(x, y)
        return float(lat), float(lng)

    # ----- school edits (called by undo commands) ---------------------------------------------
    def _set_schools(self, schools: gpd.GeoDataFrame) -> None:
        order = {lv: i for i, lv in enumerate(LEVELS)}
        schools = schools.assign(_o=schools["level"].map(order).fillna(9))
        schools = schools.sort_values(["_o", "school_id"], kind="stable").drop(columns="_o")
        schools = gpd.GeoDataFrame(
            schools.reset_index(drop=True), geometry="geometry", crs=self.layers.schools.crs
        )
        self.layers = dataclasses.replace(self.layers, schools=schools)
        self.layersChanged.emit()
        self._edited("schools")

    def school_rows(self, school_id: str) -> gpd.GeoDataFrame:
        s = self.layers.schools
        return s[s["school_id"].astype(str) == str(school_id)]

    def school_xy(self, school_id: str) -> tuple[float, float]:
        rows = self.school_rows(school_id)
        if len(rows) == 0:
            raise KeyError(school_id)
        p = rows.geometry.iloc[0]
        return float(p.x), float(p.y)

    def move_school(self, school_id: str, x: float, y: float) -> None:
        """Move every level row of a school (a combined school is one building)."""
        s = self.layers.schools.copy()
        mask = s["school_id"].astype(str) == str(school_id)
        if not mask.any():
            raise KeyError(school_id)
        s.loc[mask, "geometry"] = shapely.points([x] * int(mask.sum()), [y] * int(mask.sum()))
        self.schoolMoved.emit(str(school_id), float(x), float(y))
        self._set_schools(s)

    def new_school_id(self) -> str:
        used = set(self.layers.schools["school_id"].astype(str))
        while f"U{self._next_id:03d}" in used:
            self._next_id += 1
        return f"U{self._next_id:03d}"

    def school_template(self, x: float, y: float, level: str = "primary") -> dict[str, Any]:
        """A planned school at (x, y) with the level's standard class size and no pupils yet."""
        sid = self.new_school_id()
        std = self.rules.standards
        classes = 12 if level == "primary" else 18
        return {
            "school_id": sid,
            "name": sid,
            "level": level,
            "classes": classes,
            "students": 0,
            "capacity": classes * std.class_size(level),
            "teachers": float("nan"),
            "quality": "ordinary",
            "location": "rural",
            "status": "planned",
            "ownership": "public",
            "school_type": "regular",
            "combined": "",
            "src_row": 0,
            "geometry": shapely.Point(x, y),
        }

    def add_school_rows(self, rows: list[dict[str, Any]]) -> None:
        s = self.layers.schools
        add = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=s.crs)
        self._set_schools(
            pd.concat([s, add[[c for c in s.columns if c in add]]], ignore_index=True)
        )

    def remove_school(self, school_id: str, level: str | None = None) -> list[dict[str, Any]]:
        """Remove a school (one level, or all when ``level`` is None); returns the removed rows."""
        s = self.layers.schools
        mask = s["school_id"].astype(str) == str(school_id)
        if level:
            mask &= s["level"] == level
        removed = [dict(r) for _, r in s[mask].iterrows()]
        if removed:
            self._set_schools(s[~mask])
        return removed

    def school_attrs(self, key: SchoolKey) -> dict[str, Any]:
        s = self.layers.schools
        row = s[(s["school_id"].astype(str) == key[0]) & (s["level"] == key[1])]
        if len(row) == 0:
            raise KeyError(key)
        return {c: row.iloc[0][c] for c in EDITABLE if c in row}

    def set_school_attrs(self, key: SchoolKey, values: dict[str, Any]) -> SchoolKey:
        """Change attributes of one (school, level) row; returns the row's key afterwards."""
        s = self.layers.schools.copy()
        mask = (s["school_id"].astype(str) == key[0]) & (s["level"] == key[1])
        if not mask.any():
            raise KeyError(key)
        for col, value in values.items():
            if col in EDITABLE:
                s.loc[mask, col] = value
        self._set_schools(s)
        return key[0], str(values.get("level", key[1]))

    # ----- candidate sites (called by undo commands) ------------------------------------------
    def _set_candidates(self, cands: gpd.GeoDataFrame) -> None:
        cands = gpd.GeoDataFrame(
            cands.sort_values("candidate_id", kind="stable").reset_index(drop=True),
            geometry="geometry",
            crs=self.layers.crs,
        )
        self.layers = dataclasses.replace(self.layers, candidates=cands)
        self.layersChanged.emit()
        self._edited("candidates")

    def candidates(self) -> gpd.GeoDataFrame:
        """The candidate sites; an empty layer in the project CRS when the project had none."""
        c = self.layers.candidates
        if c is None:
            empty = {
                col: pd.Series(dtype=int if col == "src_row" else object)
                for col in CANDIDATE_COLUMNS
            }
            return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=self.layers.crs))
        return c

    def new_candidate_id(self) -> str:
        used = set(self.candidates()["candidate_id"].astype(str))
        n = 1
        while f"C{n:03d}" in used:
            n += 1
        return f"C{n:03d}"

    def candidate_template(self, x: float, y: float, level: str = "") -> dict[str, Any]:
        """A candidate site at (x, y); level "" lets any level use it."""
        cid = self.new_candidate_id()
        return {
            "candidate_id": cid,
            "name": cid,
            "level": level,
            "src_row": 0,
            "geometry": shapely.Point(x, y),
        }

    def add_candidate_rows(self, rows: list[dict[str, Any]]) -> None:
        c = self.candidates()
        add = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=self.layers.crs)
        cols = list(dict.fromkeys([*c.columns, *CANDIDATE_COLUMNS, "geometry"]))
        parts = [f for f in (c, add) if len(f)]
        self._set_candidates(pd.concat(parts, ignore_index=True).reindex(columns=cols))

    def remove_candidate(self, candidate_id: str) -> list[dict[str, Any]]:
        """Remove a candidate site; returns the removed rows (empty when there is none)."""
        c = self.candidates()
        mask = c["candidate_id"].astype(str) == str(candidate_id)
        removed = [dict(r) for _, r in c[mask].iterrows()]
        if removed:
            self._set_candidates(c[~mask])
        return removed

    # ----- rules and choices ------------------------------------------------------------------
    def set_rules(self, rules: Rules) -> None:
        old = self.rules
        self.rules = rules
        self.rulesChanged.emit()
        changed = [s for s in SECTIONS if getattr(old, s) != getattr(rules, s)]
        for section in changed:
            self._edited(f"rules:{section}")

    def set_choices(self, choices: GroupChoices) -> None:
        self.choices = choices
        self.choicesChanged.emit()
        self._edited("choices")
