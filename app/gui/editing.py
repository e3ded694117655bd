"""Editing the plan by hand: schools and candidate sites placed, moved, edited and deleted on
the map, group choices (lock, exclude, force as core), rules from the form. Every edit is an
undo command (``commands.py``) pushed on the document's undo stack; the selection it acts on
(map click or table row) is kept here.
"""

from __future__ import annotations

from collections.abc import Callable

import shapely
from PyQt6.QtCore import QCoreApplication, QObject
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QComboBox, QInputDialog

from app.gui import commands
from app.gui.actions import SELECTION_ACTIONS
from app.gui.check_panel import locate_problem
from app.gui.document import PlanDocument, SchoolKey, has_result
from app.gui.mapview import MapView
from app.gui.school_dialog import SchoolDialog
from app.gui.services import WindowServices
from app.gui.tables import TablesPanel
from core.errors import SchoolPlanError
from core.vocab import CANDIDATE_LEVEL


def _tr(text: str) -> str:
    return QCoreApplication.translate("window", text)


class EditController(QObject):
    """Hand edits through undo commands; ``selected`` holds the schools last picked."""

    def __init__(
        self,
        doc: PlanDocument,
        map_view: MapView,
        tables: TablesPanel,
        lang: str,
        ui: WindowServices,
        redraw_map: Callable[[], None],
    ):
        super().__init__(ui.parent)
        self.doc, self.map, self.tables, self.lang, self.ui = doc, map_view, tables, lang, ui
        self.redraw_map = redraw_map  # a fresh map page of the document
        self.selected: list[SchoolKey] = []
        self.selected_candidate: str | None = None
        self.actions: dict[str, QAction] = {}
        self.new_level: QComboBox | None = None
        self._candidates_shown = None  # the candidate layer last sent to the map

    def bind(self, actions: dict[str, QAction], new_level: QComboBox) -> None:
        self.actions, self.new_level = actions, new_level

    @property
    def undo_stack(self):
        return self.doc.undo_stack

    # ----- selection ---------------------------------------------------------------------------
    def on_map_school_clicked(self, school_id: str, level: str) -> None:
        self.selected = [(school_id, level)]
        self.tables.select_school((school_id, level))
        self.map.highlight(self.selected, pan=False)
        self.update_selection_actions()

    def on_table_selected(self, keys: list) -> None:
        self.selected = [tuple(k) for k in keys]
        self.map.highlight(self.selected, pan=True)
        self.update_selection_actions()

    def clear_selection(self) -> None:
        self.selected = []

    def update_selection_actions(self) -> None:
        key = self.selected_school()
        for name in SELECTION_ACTIONS:
            self.actions[name].setEnabled(key is not None)

    def selected_school(self) -> SchoolKey | None:
        if len(self.selected) != 1 or self.doc.layers is None:
            return None
        sid, level = self.selected[0]
        s = self.doc.layers.schools
        if not ((s["school_id"].astype(str) == sid) & (s["level"] == level)).any():
            return None
        return sid, level

    def go_to(self, kind: str, key: str, level: str, x: float, y: float) -> None:
        """A search hit: the school selected (table and map), the map zoomed to it."""
        lat, lng = self.doc.to_latlng(x, y)
        self.map.zoom_to(lat, lng, 14)
        if kind == "school":
            self.selected = [(key, level)]
            self.tables.select_school((key, level))
            self.update_selection_actions()

    def zoom_to_problem(self, problem) -> None:
        point = locate_problem(self.doc.layers, problem)
        if point is None:
            self.ui.say(_tr("This problem has no place on the map"))
            return
        lat, lng = self.doc.to_latlng(point.x, point.y)
        self.map.zoom_to(lat, lng, 14)

    # ----- clicks on the map -------------------------------------------------------------------
    def on_map_clicked(self, lat: float, lng: float) -> None:
        if self.actions["add_candidate"].isChecked():
            self.add_candidate_at(lat, lng)
        elif self.actions["add_school"].isChecked():
            self.add_school_at(lat, lng, self.new_level.currentData())

    def toggle_add_mode(self, on: bool) -> None:
        if on:  # one click mode at a time
            self.actions["add_candidate"].setChecked(False)
            self.actions["measure"].setChecked(False)
            self.map.set_measure(False)
        self.map.set_add_mode(on or self.actions["add_candidate"].isChecked())
        if on:
            self.ui.say(_tr("Click the map where the new school should be"))

    def toggle_measure(self, on: bool) -> None:
        if on:  # the map's clicks measure now, they add nothing
            self.actions["add_school"].setChecked(False)
            self.actions["add_candidate"].setChecked(False)
            self.map.set_add_mode(False)
            self.ui.say(_tr("Click points on the map to measure; untick to clear"))
        self.map.set_measure(on)

    def toggle_labels(self, on: bool) -> None:
        self.map.set_labels(on)

    def on_measured(self, km: float) -> None:
        self.ui.status(_tr("Distance: %1 km").replace("%1", f"{km:.2f}"))

    def toggle_candidate_mode(self, on: bool) -> None:
        if on:
            self.actions["add_school"].setChecked(False)
            self.actions["measure"].setChecked(False)
            self.map.set_measure(False)
        self.map.set_add_mode(on or self.actions["add_school"].isChecked())
        if on:
            self.ui.say(_tr("Click the map where a candidate site should be"))

    def on_school_dragged(self, school_id: str, level: str, lat: float, lng: float) -> None:
        """The map's dragend: move the school (all its levels) through an undo command."""
        if self.doc.layers is None:
            return
        try:
            xy = self.doc.to_metric(lat, lng)
            self.undo_stack.push(commands.MoveSchool(self.doc, school_id, xy))
        except KeyError:
            self.ui.say(
                _tr("%1 is a planned new school: run the plan again to move it").replace(
                    "%1", school_id
                )
            )
            self.redraw_map()

    # ----- schools -----------------------------------------------------------------------------
    def add_school_at(self, lat: float, lng: float, level: str = "primary") -> str:
        x, y = self.doc.to_metric(lat, lng)
        row = self.doc.school_template(x, y, level)
        self.undo_stack.push(commands.AddSchool(self.doc, row))
        self.warn_outside(x, y, _tr("School %1").replace("%1", row["school_id"]))
        return row["school_id"]

    def warn_outside(self, x: float, y: float, what: str) -> bool:
        """Say so when (x, y) lies outside the county boundary (kept: undo takes it back)."""
        b = getattr(self.doc.layers, "boundary", None)
        if b is None or not len(b) or b.geometry.covers(shapely.Point(x, y)).any():
            return False
        text = _tr(
            "%1 is outside the county boundary: pupils of the county are not planned there. "
            "Undo (Ctrl+Z) to take it back, or move it inside the county."
        ).replace("%1", what)
        self.ui.say(text)
        self.ui.show_message(_tr("Outside the county"), text)
        return True

    def delete_selected(self) -> None:
        key = self.selected_school()
        if key:
            self.undo_stack.push(commands.DeleteSchool(self.doc, key[0], key[1]))
            self.selected = []

    def edit_selected(self) -> None:
        key = self.selected_school()
        if not key:
            return
        dlg = SchoolDialog(key[0], self.doc.school_attrs(key), self.lang, self.ui.parent)
        if dlg.exec():
            self.edit_school(key, dlg.values())

    def edit_school(self, key: SchoolKey, values: dict) -> None:
        cmd = commands.EditSchool(self.doc, key, values)
        if cmd.values:
            self.undo_stack.push(cmd)

    # ----- group choices -----------------------------------------------------------------------
    def lock_selected_dialog(self) -> None:
        key = self.selected_school()
        r = self.doc.result
        if not key or not has_result(r):
            self.ui.show_message(
                _tr("Groups"), _tr("Run the plan and select a member school first.")
            )
            return
        s = r.schools
        cores = s[(s["group_role"] == "core") & (s["level"] == key[1])]
        forced = [sid for sid, lv in self.doc.choices.forced_cores if lv == key[1]]
        options = sorted(set(cores["school_id"].astype(str)) | set(forced))
        names = {str(a): str(b) for a, b in zip(s["school_id"], s["name"])}
        labels = [f"{sid} {names.get(sid, '')}" for sid in options if sid != key[0]]
        if not labels:
            self.ui.show_message(_tr("Groups"), _tr("No core school at this level yet."))
            return
        choice, ok = QInputDialog.getItem(
            self.ui.parent,
            _tr("Lock to core"),
            _tr("Core school for %1:").replace("%1", key[0]),
            labels,
            0,
            False,
        )
        if ok:
            self.lock_pair(choice.split(" ")[0], key[0], key[1])

    def lock_pair(self, core_id: str, member_id: str, level: str) -> None:
        self.undo_stack.push(commands.lock_pair(self.doc, core_id, member_id, level))

    def exclude_selected(self) -> None:
        key = self.selected_school()
        if key:
            self.undo_stack.push(commands.exclude_school(self.doc, *key))

    def force_core_selected(self) -> None:
        key = self.selected_school()
        if key:
            self.undo_stack.push(commands.force_core(self.doc, *key))

    def apply_rules(self, changes: dict) -> bool:
        """Rules from the form, as one undo step; False (and a message) when refused."""
        try:
            rules = self.doc.rules.with_values(changes, where=_tr("rules form"))
        except SchoolPlanError as exc:
            self.ui.show_message(_tr("Rules"), str(exc))
            return False
        self.undo_stack.push(commands.SetRules(self.doc, rules))
        return True

    # ----- candidate sites ---------------------------------------------------------------------
    def add_candidate_at(self, lat: float, lng: float, level: str = "") -> str | None:
        """A candidate site at the clicked point; new-school planning uses it on the next Run."""
        if self.doc.layers is None:
            return None
        x, y = self.doc.to_metric(lat, lng)
        row = self.doc.candidate_template(x, y, level)
        self.undo_stack.push(commands.AddCandidate(self.doc, row))
        self.warn_outside(x, y, _tr("Candidate site %1").replace("%1", row["candidate_id"]))
        self.selected_candidate = row["candidate_id"]
        self.actions["delete_candidate"].setEnabled(True)
        return row["candidate_id"]

    def on_candidate_clicked(self, candidate_id: str) -> None:
        self.selected_candidate = candidate_id
        self.actions["delete_candidate"].setEnabled(True)
        self.ui.say(_tr("Candidate site %1 selected").replace("%1", candidate_id))

    def delete_selected_candidate(self) -> None:
        cid = self.selected_candidate
        if cid and self.doc.layers is not None:
            self.delete_candidate(cid)

    def delete_candidate(self, candidate_id: str) -> None:
        ids = set(self.doc.candidates()["candidate_id"].astype(str))
        if str(candidate_id) in ids:
            self.undo_stack.push(commands.DeleteCandidate(self.doc, candidate_id))
        self.selected_candidate = None
        self.actions["delete_candidate"].setEnabled(False)

    def show_candidates(self) -> None:
        layers = self.doc.layers
        shown = None if layers is None else layers.candidates
        if shown is self._candidates_shown and shown is not None:
            return  # a school edit: the sites did not change
        self._candidates_shown = shown
        items = []
        if layers is not None and layers.candidates is not None:
            c = layers.candidates
            c = c[~(c.geometry.isna() | c.geometry.is_empty)]
            for cid, name, level, p in zip(
                c["candidate_id"].astype(str),
                c["name"].fillna("").astype(str),
                c["level"].fillna("").astype(str),
                c.geometry.to_crs("EPSG:4326"),
            ):
                where = CANDIDATE_LEVEL.label(level, self.lang)
                label = f"{_tr('Candidate site')} {cid} {name if name != cid else ''} {where}"
                items.append(
                    {
                        "id": cid,
                        "lat": float(p.y),
                        "lng": float(p.x),
                        "label": " ".join(label.split()),
                    }
                )
        self.map.set_candidates(items)
