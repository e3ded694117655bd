"""Undoable edits: every change a planner makes goes through one of these ``QUndoCommand``s."""

from __future__ import annotations

import dataclasses
from typing import Any

from PyQt6.QtCore import QCoreApplication
from PyQt6.QtGui import QUndoCommand

from app.gui.document import PlanDocument, SchoolKey
from planning.grouping import GroupChoices
from planning.rules import Rules


def _tr(text: str) -> str:
    return QCoreApplication.translate("commands", text)


class MoveSchool(QUndoCommand):
    ID = 1001

    def __init__(self, doc: PlanDocument, school_id: str, new_xy: tuple[float, float]):
        super().__init__(_tr("Move school %1").replace("%1", str(school_id)))
        self.doc, self.school_id = doc, str(school_id)
        self.old_xy = doc.school_xy(self.school_id)
        self.new_xy = new_xy

    def redo(self) -> None:
        self.doc.move_school(self.school_id, *self.new_xy)

    def undo(self) -> None:
        self.doc.move_school(self.school_id, *self.old_xy)


class AddSchool(QUndoCommand):
    def __init__(self, doc: PlanDocument, row: dict[str, Any]):
        super().__init__(_tr("Add school %1").replace("%1", str(row["school_id"])))
        self.doc, self.row = doc, dict(row)

    def redo(self) -> None:
        self.doc.add_school_rows([self.row])

    def undo(self) -> None:
        self.doc.remove_school(self.row["school_id"], self.row["level"])


class DeleteSchool(QUndoCommand):
    def __init__(self, doc: PlanDocument, school_id: str, level: str | None = None):
        super().__init__(_tr("Delete school %1").replace("%1", str(school_id)))
        self.doc, self.school_id, self.level = doc, str(school_id), level
        self.rows: list[dict[str, Any]] = []

    def redo(self) -> None:
        self.rows = self.doc.remove_school(self.school_id, self.level)

    def undo(self) -> None:
        if self.rows:
            self.doc.add_school_rows(self.rows)


class AddCandidate(QUndoCommand):
    def __init__(self, doc: PlanDocument, row: dict[str, Any]):
        super().__init__(_tr("Add candidate site %1").replace("%1", str(row["candidate_id"])))
        self.doc, self.row = doc, dict(row)

    def redo(self) -> None:
        self.doc.add_candidate_rows([self.row])

    def undo(self) -> None:
        self.doc.remove_candidate(self.row["candidate_id"])


class DeleteCandidate(QUndoCommand):
    def __init__(self, doc: PlanDocument, candidate_id: str):
        super().__init__(_tr("Delete candidate site %1").replace("%1", str(candidate_id)))
        self.doc, self.candidate_id = doc, str(candidate_id)
        self.rows: list[dict[str, Any]] = []

    def redo(self) -> None:
        self.rows = self.doc.remove_candidate(self.candidate_id)

    def undo(self) -> None:
        if self.rows:
            self.doc.add_candidate_rows(self.rows)


class EditSchool(QUndoCommand):
    def __init__(self, doc: PlanDocument, key: SchoolKey, values: dict[str, Any]):
        super().__init__(_tr("Edit school %1").replace("%1", key[0]))
        self.doc, self.key = doc, key
        self.old = doc.school_attrs(key)
        self.values = {k: v for k, v in values.items() if self.old.get(k) != v}
        self.new_key = (key[0], str(values.get("level", key[1])))

    def redo(self) -> None:
        self.doc.set_school_attrs(self.key, self.values)

    def undo(self) -> None:
        self.doc.set_school_attrs(self.new_key, {k: self.old[k] for k in self.values})


class SetChoices(QUndoCommand):
    """Replace the group choices (lock pair, exclude, force core and their reverses)."""

    def __init__(self, doc: PlanDocument, choices: GroupChoices, text: str):
        super().__init__(text)
        self.doc, self.old, self.new = doc, doc.choices, choices

    def redo(self) -> None:
        self.doc.set_choices(self.new)

    def undo(self) -> None:
        self.doc.set_choices(self.old)


def _toggle(items: tuple, item: tuple) -> tuple:
    return tuple(t for t in items if t != item) if item in items else (*items, item)


def lock_pair(doc: PlanDocument, core_id: str, member_id: str, level: str) -> SetChoices:
    """Lock (or unlock, when already locked) member under core at a level."""
    item = (str(core_id), str(member_id), str(level))
    # A member sits in one group: locking it to a new core drops its other locks.
    pairs = tuple(p for p in doc.choices.locked_pairs if not (p[1:] == item[1:] and p != item))
    choices = dataclasses.replace(doc.choices, locked_pairs=_toggle(pairs, item))
    locked = item in choices.locked_pairs
    text = _tr("Lock %1 to core %2") if locked else _tr("Unlock %1 from core %2")
    return SetChoices(doc, choices, text.replace("%1", member_id).replace("%2", core_id))


def exclude_school(doc: PlanDocument, school_id: str, level: str) -> SetChoices:
    item = (str(school_id), str(level))
    choices = dataclasses.replace(doc.choices, excluded=_toggle(doc.choices.excluded, item))
    on = item in choices.excluded
    text = _tr("Exclude %1 from groups") if on else _tr("Include %1 in groups")
    return SetChoices(doc, choices, text.replace("%1", school_id))


def force_core(doc: PlanDocument, school_id: str, level: str) -> SetChoices:
    item = (str(school_id), str(level))
    choices = dataclasses.replace(doc.choices, forced_cores=_toggle(doc.choices.forced_cores, item))
    on = item in choices.forced_cores
    text = _tr("Make %1 a core school") if on else _tr("Stop forcing %1 as core")
    return SetChoices(doc, choices, text.replace("%1", school_id))


class SetRules(QUndoCommand):
    def __init__(self, doc: PlanDocument, rules: Rules):
        super().__init__(_tr("Change rules"))
        self.doc, self.old, self.new = doc, doc.rules, rules

    def redo(self) -> None:
        self.doc.set_rules(self.new)

    def undo(self) -> None:
        self.doc.set_rules(self.old)
