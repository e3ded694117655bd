"""The scenario list: alternatives of one project, kept in memory and saved as scenario folders.

A planner makes a scenario from the plan in the window ("New from current"), duplicates,
renames or deletes one, and switches between them; switching swaps the document's layers,
rules, group choices and result. Every scenario is a folder of ``planning.scenario`` under the
project's ``scenarios`` folder (``SCHOOLPLAN_SCENARIOS_DIR`` overrides it), written on the io
worker thread.

Decisions:
- Each scenario is its own document: its own layers, rules, choices, result and undo stack
  (``ScenarioEntry.stack``, made the document's active stack when the scenario is shown).
  ``ScenarioEntry.scenario`` is always the scenario as last saved; the window's unsaved edits
  live only in the document until they are saved, so no action ever writes them into another
  scenario behind the planner's back.
- "New from current" is a "save as": the new scenario takes the window's state and its undo
  history; the scenario left behind keeps what it had when last saved (and a fresh history).
- Switching with unsaved edits asks: save them, drop them, or stay.
- Results are kept with the stages still stale, so switching back to a scenario whose rules were
  changed but not re-run says so instead of showing the old result as up to date.

The set of scenarios lives on the document (``doc.scenario_set``) so it survives the window
being rebuilt for a language switch. Widgets only forward to ``ScenarioController``, which asks
the window for what it needs through ``ScenarioServices`` and tells it through signals
(``shown``: the scenario in the window or its name changed; ``switched``: another scenario's
content replaced the document's).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QCoreApplication, QObject, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QUndoStack
from PyQt6.QtWidgets import (
    QDockWidget,
    QGridLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.gui.compare_view import CompareView
from app.gui.document import ALL_STAGES, PlanDocument, has_result
from app.gui.folders import (
    autosave_root,
    folder_name,
    save_error,
    saved_name,
    scenarios_root,
)
from app.gui.workers import Job
from planning.scenario import scenario_from_layers
from store.layout import GPKG_NAME, JSON_NAME
from store.scenario import load_scenario, save_scenario

LAST_NAME = "last.json"  # in the scenarios folder: the scenario the window showed last


def _tr(text: str) -> str:
    return QCoreApplication.translate("scenarios", text)


@dataclass(frozen=True)
class ScenarioServices:
    """What the scenario panel may ask of the window (and nothing else)."""

    parent: QMainWindow  # parent of its dialogs and of the compare view
    lang: str
    say: Callable[[str], None]
    show_message: Callable[[str, str], Any]
    confirm: Callable[[str, str], bool]
    submit_io: Callable[[Job], None]  # reading and saving scenarios, in order with the window's
    planning_busy: Callable[[], bool]
    stop_planning: Callable[[], None]


@dataclass
class ScenarioEntry:
    name: str
    folder: Path
    scenario: object | None = None  # planning.scenario.Scenario; None: on disk, not read yet
    stale: frozenset[str] = frozenset()  # plan stages its result is not up to date for
    stack: QUndoStack | None = None  # its own undo history (None: none yet)

    @property
    def result(self):
        sc = self.scenario
        return sc.result if sc is not None and has_result(sc.result) else None


class ScenarioSet(QObject):
    """The scenarios of the open project and which one the window shows."""

    changed = pyqtSignal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.entries: list[ScenarioEntry] = []
        self.current: str | None = None
        self.root: Path | None = None

    def get(self, name: str) -> ScenarioEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(name)

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def free_folder(self, name: str, root: Path) -> Path:
        used = {e.folder.resolve() for e in self.entries}
        base = root / folder_name(name)
        folder, k = base, 1
        while folder.resolve() in used or folder.exists():
            k += 1
            folder = base.with_name(f"{base.name} ({k})")
        return folder


class ScenarioController(QObject):
    """Scenario actions of one window: make, duplicate, rename, delete, switch, compare."""

    shown = pyqtSignal()  # the scenario in the window, or its name, changed
    switched = pyqtSignal()  # another scenario's content replaced the document's

    def __init__(self, doc: PlanDocument, services: ScenarioServices):
        super().__init__(services.parent)
        self.doc, self.services = doc, services
        if not isinstance(getattr(doc, "scenario_set", None), ScenarioSet):
            doc.scenario_set = ScenarioSet(doc)
        self.set: ScenarioSet = doc.scenario_set
        # Hooks for the questions; tests replace them to answer without a modal dialog.
        self.ask_name = self._name_dialog
        self.ask_switch = self._switch_dialog
        self.compare_dialog = None

    def _name_dialog(self, title: str, default: str) -> str | None:
        text, ok = QInputDialog.getText(
            self.services.parent, title, _tr("Scenario name:"), text=default
        )
        return text if ok else None

    def _switch_dialog(self, current: str, target: str) -> str:
        """Unsaved edits in ``current`` before showing ``target``: "save", "discard" or "cancel"."""
        answer = QMessageBox.question(
            self.services.parent,
            _tr("Switch scenario"),
            _tr("Scenario %1 has unsaved changes. Save them before showing %2?")
            .replace("%1", current)
            .replace("%2", target),
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(QMessageBox.StandardButton(answer), "cancel")

    def _say(self, text: str) -> None:
        self.services.say(text)

    # ----- the list follows the opened project ----------------------------------------------
    def project_opened(self) -> None:
        """A project or scenario folder was opened: list the scenarios saved beside it."""
        s = self.set
        s.entries, s.current = [], None
        s.root = scenarios_root(self.doc.project_path, self.doc.scenario_path)
        found = []
        if s.root is not None and s.root.is_dir():
            for folder in sorted(p for p in s.root.iterdir() if p.is_dir()):
                name = saved_name(folder)
                if name is not None and name not in [n for n, _ in found]:
                    found.append((name, folder))
        opened = self.doc.scenario_path
        if opened is not None and opened.resolve() not in {f.resolve() for _, f in found}:
            name = saved_name(opened) or opened.name
            found.append((name if name not in [n for n, _ in found] else opened.name, opened))
        s.entries = [ScenarioEntry(n, f) for n, f in found]
        for e in s.entries:
            if opened is not None and e.folder.resolve() == opened.resolve():
                s.current = e.name
        s.changed.emit()

    # ----- the last scenario shown, shown again when the project is reopened -----------------
    def remember_current(self) -> None:
        """Note which scenario the window shows, beside the scenarios (``last.json``)."""
        s = self.set
        if s.root is None or s.current is None:
            return
        e = s.get(s.current)
        try:
            s.root.mkdir(parents=True, exist_ok=True)
            (s.root / LAST_NAME).write_text(
                json.dumps({"folder": e.folder.name}, ensure_ascii=False), encoding="utf-8"
            )
        except OSError:  # a read-only project folder: nothing restored next time, no harm
            pass

    def restore_last(self) -> str | None:
        """After opening a project: show the scenario shown when it was last open (its saved
        plan with it); None when there is none or the window holds unsaved work."""
        s, doc = self.set, self.doc
        if s.root is None or s.current is not None or doc.dirty or doc.layers is None:
            return None
        try:
            folder = json.loads((s.root / LAST_NAME).read_text(encoding="utf-8"))["folder"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        for e in s.entries:
            if e.folder.name == folder:
                self.switch_to(e.name)
                return e.name
        return None

    # ----- the window's state and the scenarios ----------------------------------------------
    def live_scenario(self):
        """The window's state as a scenario of the current name (not stored, not saved)."""
        s, doc = self.set, self.doc
        if s.current is None or doc.layers is None:
            return None
        result = doc.result if has_result(doc.result) else None
        return scenario_from_layers(
            doc.layers, doc.rules, name=s.current, choices=doc.choices, result=result
        )

    def _store_current(self) -> ScenarioEntry | None:
        """Take the window's state as the current scenario's saved state and save it."""
        s, doc = self.set, self.doc
        sc = self.live_scenario()
        if sc is None:
            return None
        e = s.get(s.current)
        if e.scenario is not None:
            sc.edits, sc.notes = list(e.scenario.edits), e.scenario.notes
        e.scenario = sc
        e.stale = frozenset(doc.stale) if sc.result is not None else frozenset()
        self._save(e)
        doc.undo_stack.setClean()
        return e

    def compare_entries(self) -> list[ScenarioEntry]:
        """The entries as the compare view sees them: the current one as the window shows it."""
        out = []
        for e in self.set.entries:
            if e.name == self.set.current and self.doc.dirty:
                live = self.live_scenario()
                stale = frozenset(self.doc.stale) if live.result is not None else frozenset()
                e = ScenarioEntry(e.name, e.folder, live, stale)
            out.append(e)
        return out

    def scenario_saved(self, folder: Path, sc) -> None:
        """The window saved ``sc`` in ``folder`` (File > Save): it is that scenario's state now."""
        for e in self.set.entries:
            if Path(e.folder).resolve() == Path(folder).resolve():
                sc.name = e.name
                e.scenario = sc
                e.stale = frozenset(self.doc.stale) if has_result(sc.result) else frozenset()
        self.remember_current()

    def _save(self, e: ScenarioEntry) -> None:
        sc, folder = e.scenario, e.folder
        revision = self.doc.revision if e.name == self.set.current else None

        def work(progress):
            progress.update(0.2, _tr("Saving scenario %1...").replace("%1", sc.name))
            try:
                return save_scenario(sc, folder)
            except OSError as exc:
                raise save_error(exc, folder) from exc

        self.services.submit_io(
            Job("scenario_save", work, tag=(e.name, folder, revision), done=self._saved)
        )

    def _saved(self, job: Job, value) -> None:
        name, folder, revision = job.tag
        if name == self.set.current and revision == self.doc.revision:
            self.doc.set_dirty(False)
            self.doc.undo_stack.setClean()
        self._say(_tr("Scenario %1 saved in %2").replace("%1", name).replace("%2", str(folder)))

    def _load_then(self, entries: list[ScenarioEntry], then) -> None:
        """Read scenarios not in memory yet (io thread), then call ``then()``."""
        todo = [(e.name, e.folder) for e in entries if e.scenario is None]
        if not todo:
            then()
            return

        def work(progress):
            out = {}
            for i, (name, folder) in enumerate(todo):
                progress.update(i / len(todo), _tr("Reading scenario %1...").replace("%1", name))
                out[name] = load_scenario(folder)
            return out

        def done(job: Job, loaded: dict) -> None:
            for name, sc in loaded.items():
                try:
                    e = self.set.get(name)
                except KeyError:  # renamed or deleted meanwhile
                    continue
                if e.scenario is None:
                    sc.name = name
                    e.scenario = sc
            then()

        self.services.submit_io(Job("scenario_load", work, done=done))

    # ----- actions ----------------------------------------------------------------------------
    def _valid_new_name(self, name: str | None, title: str, default: str = "") -> str | None:
        if name is None:
            name = self.ask_name(title, default)
        name = (name or "").strip()
        if not name:
            return None
        if name in self.set.names():
            self.services.show_message(
                title, _tr("A scenario called %1 exists already.").replace("%1", name)
            )
            return None
        return name

    def _root(self) -> Path:
        s = self.set
        if s.root is None:
            s.root = scenarios_root(self.doc.project_path, self.doc.scenario_path)
        if s.root is None:
            s.root = autosave_root().parent / "scenarios"
        return s.root

    def new_from_current(self, name: str | None = None) -> str | None:
        """Make a scenario of what the window shows and continue working in it."""
        doc = self.doc
        if doc.layers is None:
            self.services.show_message(_tr("Scenarios"), _tr("Open a project first."))
            return None
        n = len(self.set.entries) + 1
        name = self._valid_new_name(
            name, _tr("New scenario"), _tr("Scenario %1").replace("%1", str(n))
        )
        if name is None:
            return None
        left = self.set.current
        result = doc.result if has_result(doc.result) else None
        sc = scenario_from_layers(
            doc.layers, doc.rules, name=name, choices=doc.choices, result=result
        )
        if left is not None:
            sc.log_edit("new_from", source=left)
            # The scenario left behind keeps its last saved state; the history of the edits
            # made since goes with them into the new scenario.
            self.set.get(left).stack = None
        e = ScenarioEntry(
            name,
            self.set.free_folder(name, self._root()),
            sc,
            frozenset(doc.stale) if result is not None else frozenset(),
            doc.undo_stack,
        )
        self.set.entries.append(e)
        self.set.current = name
        doc.scenario_path = e.folder
        self.shown.emit()
        self._save(e)
        self.remember_current()
        self.set.changed.emit()
        text = _tr("New scenario %1: your edits now go into it").replace("%1", name)
        if left is not None:
            text += " " + _tr("(%1 keeps what it had when last saved)").replace("%1", left)
        self._say(text)
        return name

    def duplicate(self, source: str, name: str | None = None) -> None:
        """A copy of ``source`` under a new name (the window stays on the current scenario)."""
        src = self.set.get(source)
        name = self._valid_new_name(name, _tr("Duplicate scenario"), source + " " + _tr("copy"))
        if name is None:
            return
        live = self.live_scenario() if src.name == self.set.current else None
        folder = self.set.free_folder(name, self._root())
        # Reserve the name at once (a second request must not take it while the source loads).
        e = ScenarioEntry(name, folder, None, src.stale)
        self.set.entries.append(e)

        def then() -> None:
            e.scenario = (live or src.scenario).duplicate(name)
            self._save(e)
            self.set.changed.emit()
            self._say(_tr("Scenario %1 duplicated as %2").replace("%1", source).replace("%2", name))

        # The reserved entry has no scenario yet but also no file: load only the source.
        self._load_then([src], then)

    def rename(self, old: str, new: str | None = None) -> None:
        e = self.set.get(old)
        new = self._valid_new_name(new, _tr("Rename scenario"), old)
        if new is None or new == old:
            return
        old_folder, new_folder = e.folder, self.set.free_folder(new, self._root())
        e.name, e.folder = new, new_folder
        if e.scenario is not None:
            e.scenario.name = new
        if self.set.current == old:
            self.set.current = new
            self.doc.scenario_path = new_folder
            self.shown.emit()
        sc = e.scenario

        def work(progress):
            if old_folder.exists():
                old_folder.rename(new_folder)
            target = sc
            if target is None:  # not read yet: the name inside scenario.json changes too
                target = load_scenario(new_folder)
                target.name = new
            save_scenario(target, new_folder)
            return target

        def done(job: Job, target) -> None:
            if e.scenario is None:
                e.scenario = target

        self.services.submit_io(Job("scenario_task", work, done=done))
        self.set.changed.emit()
        self._say(_tr("Scenario %1 renamed to %2").replace("%1", old).replace("%2", new))

    def delete(self, name: str) -> bool:
        """Delete a scenario and its saved files, after the planner confirms."""
        e = self.set.get(name)
        if name == self.set.current:
            self.services.show_message(
                _tr("Delete scenario"),
                _tr(
                    "%1 is open in the window: switch to another scenario before deleting it."
                ).replace("%1", name),
            )
            return False
        if not self.services.confirm(
            _tr("Delete scenario"),
            _tr("Delete scenario %1 and its files in %2? This cannot be undone.")
            .replace("%1", name)
            .replace("%2", str(e.folder)),
        ):
            return False
        self.set.entries.remove(e)
        folder = e.folder

        def work(progress):
            # Only our own files: anything else the planner put in the folder stays.
            for f in (folder / JSON_NAME, folder / GPKG_NAME, *folder.glob(".scenario.*.tmp*")):
                f.unlink(missing_ok=True)
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
            return None

        self.services.submit_io(Job("scenario_task", work))
        self.set.changed.emit()
        self._say(_tr("Scenario %1 deleted").replace("%1", name))
        return True

    def switch_to(self, name: str) -> bool:
        """Show scenario ``name`` in the window (the one left behind is kept and saved)."""
        s, sv, doc = self.set, self.services, self.doc
        if name == s.current:
            return True
        target = s.get(name)
        if sv.planning_busy() and not sv.confirm(
            _tr("Switch scenario"),
            _tr("A plan is running. Stop it and switch to %1?").replace("%1", name),
        ):
            return False
        if (
            s.current is None
            and doc.dirty
            and not sv.confirm(
                _tr("Switch scenario"),
                _tr("Your edits are not in a scenario yet. Drop them and switch to %1?").replace(
                    "%1", name
                ),
            )
        ):
            return False
        left = s.get(s.current) if s.current is not None else None
        if left is not None and doc.dirty:
            answer = self.ask_switch(left.name, name)
            if answer == "cancel":
                return False
            if answer == "save":
                self._store_current()
            else:  # dropped: the scenario stays as saved, the dropped edits' history goes too
                doc.undo_stack.clear()
        sv.stop_planning()
        if left is not None:
            left.stack = doc.undo_stack
        self._load_then([target], lambda: self._apply(target, left))
        return True

    def _apply(self, e: ScenarioEntry, left: ScenarioEntry | None) -> None:
        doc, sc = self.doc, e.scenario
        defaults, report, path, cfg, project = (
            doc.default_rules,
            doc.report,
            doc.project_path,
            doc.config,
            doc.name,
        )
        if left is None:
            doc.undo_stack.clear()  # edits outside any scenario, dropped above
        if e.stack is None:
            e.stack = QUndoStack(doc)
        doc.use_undo_stack(e.stack)
        self.switched.emit()
        doc.set_project(sc.layers, sc.rules, report, path=path, name=project)
        doc.default_rules, doc.config = defaults, cfg  # reset-to-defaults: the project's rules
        doc.rulesChanged.emit()
        doc.scenario_path = e.folder
        doc.choices = sc.choices
        doc.choicesChanged.emit()
        self.set.current = e.name
        if has_result(sc.result):
            doc.set_result(sc.result, ALL_STAGES - e.stale)
        self.remember_current()
        self.shown.emit()
        self.set.changed.emit()
        text = _tr("Switched to scenario %1 (with its own undo history)").replace("%1", e.name)
        if left is not None:
            text += " " + _tr("(%1 is kept as last saved)").replace("%1", left.name)
        self._say(text)

    # ----- compare -----------------------------------------------------------------------------
    def open_compare(self, a: str | None = None, b: str | None = None):
        """Open the compare view on two scenarios (read from disk first when needed)."""
        names = self.set.names()
        if len(names) < 2:
            self.services.show_message(
                _tr("Compare scenarios"), _tr("Make at least two scenarios to compare.")
            )
            return None
        a = a or (self.set.current if self.set.current in names else names[0])
        b = b or next(n for n in names if n != a)
        dlg = self.compare_dialog
        if dlg is None:
            dlg = CompareView(self, self.services.lang, self.services.parent)
            dlg.destroyed.connect(lambda *_: setattr(self, "compare_dialog", None))
            self.compare_dialog = dlg
        self._load_then(list(self.set.entries), lambda: dlg.show_pair(a, b))
        dlg.show()
        dlg.raise_()
        return dlg


class ScenarioPanel(QWidget):
    """The list and its buttons; double-click switches."""

    def __init__(self, controller: ScenarioController, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctl = controller
        self.list = QListWidget()
        self.list.setToolTip(_tr("Double-click a scenario to show it in the window"))
        self.list.itemActivated.connect(
            lambda item: self.ctl.switch_to(item.data(Qt.ItemDataRole.UserRole))
        )
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        buttons = QGridLayout()
        buttons.setSpacing(2)
        self.actions = {}
        for key, text, tip, slot in (
            ("new", _tr("New"), _tr("New scenario from what the window shows"), self._new),
            ("duplicate", _tr("Duplicate"), _tr("Copy the selected scenario"), self._duplicate),
            ("rename", _tr("Rename"), _tr("Rename the selected scenario"), self._rename),
            (
                "delete",
                _tr("Delete"),
                _tr("Delete the selected scenario and its files"),
                self._delete,
            ),
            ("switch", _tr("Show"), _tr("Show the selected scenario in the window"), self._switch),
            ("compare", _tr("Compare"), _tr("Compare two scenarios side by side"), self._compare),
        ):
            act = QAction(text, self)
            act.setToolTip(tip)
            act.triggered.connect(slot)
            button = QToolButton()
            button.setDefaultAction(act)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            n = len(self.actions)
            buttons.addWidget(button, n // 3, n % 3)
            self.actions[key] = act
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setStyleSheet("color: #666;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(buttons)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.where)
        controller.set.changed.connect(self.refresh)
        self.refresh()

    def selected_name(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def refresh(self) -> None:
        s = self.ctl.set
        keep = self.selected_name()
        self.list.clear()
        for e in s.entries:
            text = e.name
            if e.name == s.current:
                text = "▶ " + text
            if e.stale and e.scenario is not None:
                text += "  " + _tr("(not up to date)")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, e.name)
            item.setToolTip(str(e.folder))
            if e.name == s.current:
                f = item.font()
                f.setBold(True)
                item.setFont(f)
            self.list.addItem(item)
            if e.name == keep:
                self.list.setCurrentItem(item)
        self.where.setText(
            _tr("Saved in %1").replace("%1", str(s.root)) if s.root is not None else ""
        )
        self._update_buttons()
        dock = self.parentWidget()
        if s.entries and isinstance(dock, QDockWidget):
            dock.raise_()  # shown once it has something to show

    def _update_buttons(self) -> None:
        has = self.selected_name() is not None
        for key in ("duplicate", "rename", "delete", "switch"):
            self.actions[key].setEnabled(has)
        self.actions["compare"].setEnabled(len(self.ctl.set.entries) >= 2)

    def _new(self) -> None:
        self.ctl.new_from_current()

    def _duplicate(self) -> None:
        if self.selected_name():
            self.ctl.duplicate(self.selected_name())

    def _rename(self) -> None:
        if self.selected_name():
            self.ctl.rename(self.selected_name())

    def _delete(self) -> None:
        if self.selected_name():
            self.ctl.delete(self.selected_name())

    def _switch(self) -> None:
        if self.selected_name():
            self.ctl.switch_to(self.selected_name())

    def _compare(self) -> None:
        sel = self.selected_name()
        cur = self.ctl.set.current
        self.ctl.open_compare(cur, sel if sel and sel != cur else None)


def install_scenarios(
    main: QMainWindow, doc: PlanDocument, services: ScenarioServices, beside: QDockWidget
) -> tuple[ScenarioController, ScenarioPanel, QDockWidget]:
    """The scenario dock (a tab beside ``beside``), its menu and the toolbar's compare button."""
    ctl = ScenarioController(doc, services)
    panel = ScenarioPanel(ctl)
    dock = QDockWidget(_tr("Scenarios"), main)
    dock.setObjectName("scenarios")
    dock.setWidget(panel)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        | QDockWidget.DockWidgetFeature.DockWidgetClosable
    )
    # A tab beside the layers: the rules form and the summary keep their height.
    main.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    main.tabifyDockWidget(beside, dock)
    beside.raise_()
    menu = main.menuBar().addMenu(_tr("&Scenarios"))
    for key in ("new", "duplicate", "rename", "delete", "switch"):
        menu.addAction(panel.actions[key])
    menu.addSeparator()
    menu.addAction(panel.actions["compare"])
    menu.addSeparator()
    menu.addAction(dock.toggleViewAction())
    toolbar = main.findChild(QToolBar, "main_toolbar")
    if toolbar is not None:
        toolbar.addSeparator()
        button = QToolButton()
        button.setDefaultAction(panel.actions["compare"])
        toolbar.addWidget(button)
    return ctl, panel, dock
