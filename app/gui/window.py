"""The planner's main window: map in the middle, layers and rules at the sides, tables below.

Widgets only show and forward: planning runs in ``planning/`` through jobs on
``app/gui/workers.py``; edits go through undo commands (``commands.py``) into the document
(``document.py``), which says which results are stale; the window re-runs those.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import os
import tempfile
import time
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, QStandardPaths, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PyQt6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QStyle,
    QTabWidget,
    QTextBrowser,
    QToolButton,
    QWidget,
)

from app.gui import commands
from app.gui.check_panel import CheckPanel, locate_problem
from app.gui.column_mapping import ColumnMappingDialog, file_headings, missing_required
from app.gui.document import ALL_STAGES, QUICK_STAGES, PlanDocument
from app.gui.layers_panel import LayersPanel
from app.gui.mapview import MapView, write_map_html
from app.gui.rules_form import RulesForm
from app.gui.scenarios_panel import install_scenarios
from app.gui.school_dialog import SchoolDialog
from app.gui.tables import TablesPanel
from app.gui.workers import Job, JobRunner
from core.errors import SchoolPlanError
from geo.layers import LAYER_KEYS
from planning.pipeline import preview_result, rerun_stages
from planning.rules import LEVELS

EXPORT_FORMATS = ("html", "png", "pdf", "xlsx")


def _tr(text: str) -> str:
    return QCoreApplication.translate("window", text)


def autosave_root() -> Path:
    env = os.environ.get("SCHOOLPLAN_AUTOSAVE_DIR")
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".schoolplan") / "autosave"


def has_result(result) -> bool:
    return result is not None and result.status != "empty"


class MainWindow(QMainWindow):
    """The planner window. ``languageRequested`` asks ``run_gui`` to rebuild in another language."""

    languageRequested = pyqtSignal(str)

    def __init__(self, doc: PlanDocument | None = None, lang: str = "zh", autosave_ms: int = 60000):
        super().__init__()
        self.doc = doc or PlanDocument()
        if not hasattr(self.doc, "undo_stack"):
            self.doc.undo_stack = QUndoStack(self.doc)
        self.undo_stack: QUndoStack = self.doc.undo_stack
        self.lang = lang
        self.jobs = JobRunner(self)  # planning: a new request replaces the running one
        self.maps = JobRunner(self)  # map pages: only the newest matters
        self.io = JobRunner(self, supersede=False)  # opening, saving, exporting: in order
        self._tmp = tempfile.TemporaryDirectory(prefix="schoolplan-map-")
        self._map_n = 0
        self.selected: list[tuple[str, str]] = []
        self.selected_candidate: str | None = None
        self.last_export: dict[str, Path] = {}
        self.last_error: str = ""
        self.autosaved_revision = -1
        self.autosave_path: Path | None = None
        self.closing_for_switch = False
        # Hooks for questions; tests replace them to answer without a modal dialog.
        self.confirm = self._confirm_dialog
        self.ask_unsaved = self._unsaved_dialog
        self.last_recompute_s = 0.0
        self._job_started = 0.0

        self.setWindowTitle("SchoolPlan")
        self.resize(1440, 900)
        self.setAcceptDrops(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self._build_widgets()
        self._build_actions()
        self._build_status()
        self._connect()
        self.scenarios = install_scenarios(self)  # scenario list dock, menu and compare view
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self._recompute_timer = QTimer(self)
        self._recompute_timer.setSingleShot(True)
        self._recompute_timer.setInterval(120)  # gathers a burst of edits into one re-run
        self._recompute_timer.timeout.connect(self.recompute)
        self._refresh_all()

    # ================================================================== building the window
    def _build_widgets(self) -> None:
        self.map = MapView(self)
        self.setCentralWidget(self.map)

        self.layers_panel = LayersPanel()
        self.layers_dock = self._dock(
            _tr("Layers"), self.layers_panel, Qt.DockWidgetArea.LeftDockWidgetArea, "layers"
        )
        self.summary = QTextBrowser()
        self.summary.setOpenLinks(False)
        self.summary_dock = self._dock(
            _tr("Summary"), self.summary, Qt.DockWidgetArea.LeftDockWidgetArea, "summary"
        )
        self.rules_form = RulesForm(self.lang)
        self.rules_dock = self._dock(
            _tr("Rules"), self.rules_form, Qt.DockWidgetArea.RightDockWidgetArea, "rules"
        )

        self.tables = TablesPanel()
        self.check_panel = CheckPanel()
        self.bottom = QTabWidget()
        self.bottom.addTab(self.tables, _tr("Tables"))
        self.bottom.addTab(self.check_panel, _tr("Data check"))
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.bottom.addTab(self.log, _tr("Messages"))
        self.bottom_dock = self._dock(
            _tr("Results"), self.bottom, Qt.DockWidgetArea.BottomDockWidgetArea, "results"
        )
        self.resizeDocks([self.layers_dock, self.rules_dock], [240, 320], Qt.Orientation.Horizontal)
        self.resizeDocks([self.bottom_dock], [230], Qt.Orientation.Vertical)
        self.splitDockWidget(self.layers_dock, self.summary_dock, Qt.Orientation.Vertical)

    def _dock(self, title: str, widget: QWidget, area, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text, slot, icon=None, shortcut=None, tip=None, checkable=False) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        a = self.actions_by_name = {}
        a["open"] = self._action(
            _tr("Open..."),
            self.open_dialog,
            sp.SP_DialogOpenButton,
            QKeySequence.StandardKey.Open,
            _tr("Open a project.toml or a saved scenario folder"),
        )
        a["add_layer"] = self._action(
            _tr("Add layer..."),
            self.add_layer_dialog,
            sp.SP_FileDialogNewFolder,
            None,
            _tr("Add or replace a layer from a file"),
        )
        a["save"] = self._action(
            _tr("Save"),
            self.save,
            sp.SP_DialogSaveButton,
            QKeySequence.StandardKey.Save,
            _tr("Save the scenario"),
        )
        a["save_as"] = self._action(
            _tr("Save as..."), self.save_as_dialog, None, QKeySequence.StandardKey.SaveAs
        )
        a["export"] = self._action(
            _tr("Export..."),
            self.export_dialog,
            sp.SP_DriveFDIcon,
            "Ctrl+E",
            _tr("Write map.html, map.png, map.pdf, tables.xlsx and plan.gpkg"),
        )
        a["quit"] = self._action(_tr("Quit"), self.close, None, QKeySequence.StandardKey.Quit)
        a["undo"] = self.undo_stack.createUndoAction(self, _tr("Undo"))
        a["undo"].setShortcut(QKeySequence.StandardKey.Undo)
        a["undo"].setIcon(self.style().standardIcon(sp.SP_ArrowBack))
        a["redo"] = self.undo_stack.createRedoAction(self, _tr("Redo"))
        a["redo"].setShortcut(QKeySequence.StandardKey.Redo)
        a["redo"].setIcon(self.style().standardIcon(sp.SP_ArrowForward))
        a["run_all"] = self._action(
            _tr("Run plan"),
            lambda: self.run("all"),
            sp.SP_MediaPlay,
            "F5",
            _tr("Plan new schools, groups and catchments"),
        )
        a["run_new"] = self._action(
            _tr("New schools"),
            lambda: self.run("new_schools"),
            None,
            None,
            _tr("Plan new schools (groups and catchments follow, they depend on them)"),
        )
        a["run_groups"] = self._action(
            _tr("Groups"),
            lambda: self.run("groups"),
            None,
            None,
            _tr("Form education groups again"),
        )
        a["run_catch"] = self._action(
            _tr("Catchments"),
            lambda: self.run("catchments"),
            None,
            None,
            _tr("Draw catchments again"),
        )
        a["cancel"] = self._action(
            _tr("Cancel"), self.cancel, sp.SP_BrowserStop, "Esc", _tr("Stop the running job")
        )
        a["add_school"] = self._action(
            _tr("Add school"),
            self._toggle_add_mode,
            sp.SP_FileIcon,
            None,
            _tr("Click the map to place a planned school"),
            checkable=True,
        )
        a["add_candidate"] = self._action(
            _tr("Add candidate site"),
            self._toggle_candidate_mode,
            sp.SP_DialogApplyButton,
            None,
            _tr("Click the map to mark a candidate site for new schools (any level)"),
            checkable=True,
        )
        a["delete_candidate"] = self._action(
            _tr("Delete candidate site"),
            self.delete_selected_candidate,
            None,
            None,
            _tr("Delete the candidate site last clicked on the map"),
        )
        a["delete_candidate"].setEnabled(False)
        a["edit_school"] = self._action(
            _tr("Edit school..."),
            self.edit_selected,
            sp.SP_FileDialogDetailedView,
            None,
            _tr("Edit the selected school's attributes"),
        )
        a["delete_school"] = self._action(
            _tr("Delete school"),
            self.delete_selected,
            sp.SP_TrashIcon,
            QKeySequence.StandardKey.Delete,
            _tr("Delete the selected school"),
        )
        a["lock_pair"] = self._action(
            _tr("Lock to core..."),
            self.lock_selected_dialog,
            None,
            None,
            _tr("Keep the selected member with a core school of your choice"),
        )
        a["exclude"] = self._action(
            _tr("Exclude from groups"),
            self.exclude_selected,
            None,
            None,
            _tr("Keep the selected school out of every group"),
        )
        a["force_core"] = self._action(
            _tr("Force as core"),
            self.force_core_selected,
            None,
            None,
            _tr("Let the selected school lead a group"),
        )
        a["lang_zh"] = self._action(
            "中文", lambda: self.languageRequested.emit("zh"), checkable=True
        )
        a["lang_en"] = self._action(
            "English", lambda: self.languageRequested.emit("en"), checkable=True
        )
        group = QActionGroup(self)
        for key in ("lang_zh", "lang_en"):
            group.addAction(a[key])
        a["lang_zh" if self.lang == "zh" else "lang_en"].setChecked(True)

        menu = self.menuBar()
        m = menu.addMenu(_tr("&File"))
        for key in ("open", "add_layer", None, "save", "save_as", None, "export", None, "quit"):
            m.addSeparator() if key is None else m.addAction(a[key])
        m = menu.addMenu(_tr("&Edit"))
        for key in (
            "undo",
            "redo",
            None,
            "add_school",
            "edit_school",
            "delete_school",
            None,
            "add_candidate",
            "delete_candidate",
            None,
            "lock_pair",
            "exclude",
            "force_core",
        ):
            m.addSeparator() if key is None else m.addAction(a[key])
        m = menu.addMenu(_tr("&Plan"))
        for key in ("run_all", None, "run_new", "run_groups", "run_catch", None, "cancel"):
            m.addSeparator() if key is None else m.addAction(a[key])
        m = menu.addMenu(_tr("&View"))
        for dock in (self.layers_dock, self.summary_dock, self.rules_dock, self.bottom_dock):
            m.addAction(dock.toggleViewAction())
        lang = m.addMenu(_tr("Language"))
        lang.addAction(a["lang_zh"])
        lang.addAction(a["lang_en"])

        tb = self.addToolBar(_tr("Main"))
        tb.setObjectName("main_toolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for key in ("open", "save", None, "undo", "redo", None):
            tb.addSeparator() if key is None else tb.addAction(a[key])
        tb.addAction(a["add_school"])
        self.new_level = QComboBox()
        self.new_level.setToolTip(_tr("Level of schools added on the map"))
        for lv, text in zip(LEVELS, (_tr("Primary"), _tr("Junior"), _tr("Senior"))):
            self.new_level.addItem(text, lv)
        tb.addWidget(self.new_level)
        tb.addAction(a["add_candidate"])
        for key in ("edit_school", "delete_school", None, "run_all"):
            tb.addSeparator() if key is None else tb.addAction(a[key])
        run_more = QToolButton()
        run_more.setText(_tr("Run part"))
        run_more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        for key in ("run_new", "run_groups", "run_catch"):
            run_more.addAction(a[key])
        tb.addWidget(run_more)
        tb.addSeparator()
        tb.addAction(a["export"])

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.status_text = QLabel()
        self.stale_label = QLabel()
        self.stale_label.setStyleSheet("color: #b26a00;")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setDefaultAction(self.actions_by_name["cancel"])
        self.cancel_button.hide()
        sb.addWidget(self.status_text, 1)
        sb.addPermanentWidget(self.stale_label)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        self.actions_by_name["cancel"].setEnabled(False)

    def _connect(self) -> None:
        d = self.doc
        d.resultChanged.connect(self._on_result)
        d.layersChanged.connect(self._on_layers)
        # Bound methods, not lambdas: the document outlives a window rebuilt for a language
        # switch, and a lambda would keep calling into the deleted window's widgets.
        d.rulesChanged.connect(self._on_rules)
        d.dirtyChanged.connect(self.setWindowModified)
        d.staleChanged.connect(self._update_stale)
        d.edited.connect(self._on_edited)
        for runner in (self.jobs, self.io):
            runner.started.connect(self._job_started_ui)
            runner.progressed.connect(self._job_progress)
            runner.noted.connect(self.note)
            runner.failed.connect(self._job_failed)
            runner.crashed.connect(self._job_crashed)
            runner.canceled.connect(
                lambda job: self._say(_tr("Canceled: %1").replace("%1", self._job_label(job)))
            )
            runner.idle.connect(self._job_idle)
            runner.finished.connect(self._job_finished)
        self.maps.finished.connect(self._map_built)
        self.maps.failed.connect(self._job_failed)
        self.maps.crashed.connect(self._job_crashed)
        self.map.bridge.moved.connect(self.on_school_dragged)
        self.map.bridge.clicked.connect(self.on_map_school_clicked)
        self.map.bridge.mapClickedAt.connect(self.on_map_clicked)
        self.map.bridge.candidateClickedOn.connect(self.on_candidate_clicked)
        self.map.layersListed.connect(self.layers_panel.set_layers)
        self.layers_panel.visibilityChanged.connect(self.map.set_visible)
        self.layers_panel.orderChanged.connect(self.map.set_order)
        self.tables.selected.connect(self.on_table_selected)
        self.rules_form.applied.connect(self.apply_rules)
        self.check_panel.problemActivated.connect(self.zoom_to_problem)
        self.undo_stack.cleanChanged.connect(lambda clean: None)

    # ================================================================== refreshing
    def _on_rules(self) -> None:
        self.rules_form.set_rules(self.doc.rules, self.doc.default_rules)

    def _refresh_all(self) -> None:
        self.rules_form.set_rules(self.doc.rules, self.doc.default_rules)
        self.check_panel.set_report(self.doc.report)
        self._on_result()
        self._update_stale()
        self.setWindowModified(self.doc.dirty)

    def _update_title(self) -> None:
        name = self.doc.name or _tr("no project")
        where = f" — {self.doc.scenario_path.name}" if self.doc.scenario_path else ""
        self.setWindowTitle(f"{name}{where} [*] — SchoolPlan " + _tr("School layout planner"))

    def _on_layers(self) -> None:
        self._update_title()
        self._show_candidates()
        if not has_result(self.doc.result):
            self.tables.set_data(self.doc.layers, None)
            self.refresh_map()

    def _on_result(self) -> None:
        self._update_title()
        self.tables.set_data(
            self.doc.layers, self.doc.result if has_result(self.doc.result) else None
        )
        self.summary.setHtml(self._summary_html())
        self.refresh_map()

    def _update_stale(self) -> None:
        if self.doc.layers is None:
            self.stale_label.setText("")
            return
        if not has_result(self.doc.result):
            self.stale_label.setText(_tr("Not planned yet: press Run plan"))
        elif "new_schools" in self.doc.stale:
            self.stale_label.setText(
                _tr("New schools not updated since your edits: Run plan to update")
            )
        elif self.doc.stale:
            self.stale_label.setText(_tr("Updating..."))
        else:
            self.stale_label.setText(_tr("Results up to date"))

    def refresh_map(self) -> None:
        if self.doc.layers is None:
            return
        result = (
            self.doc.result
            if has_result(self.doc.result)
            else preview_result(self.doc.layers, self.doc.rules, {"project": self.doc.name})
        )
        self._map_n += 1
        path = Path(self._tmp.name) / f"map_{self._map_n}.html"
        lang = self.lang
        self.maps.submit(Job("map", lambda p: write_map_html(result, path, lang), tag=path))

    def _map_built(self, job: Job, path) -> None:
        self.map.show_file(path)
        old = Path(self._tmp.name).glob("map_*.html")
        for f in old:  # the page in view was read already; keep only the newest files
            if f != path and f.stat().st_mtime < time.time() - 30:
                f.unlink(missing_ok=True)

    def _summary_html(self) -> str:
        r = self.doc.result
        if self.doc.layers is None:
            return "<p>" + html.escape(_tr("Open a project to start (File > Open).")) + "</p>"
        s = self.doc.layers.schools
        rows = [
            (_tr("Schools (rows by level)"), f"{len(s):,}"),
            (_tr("Population units"), f"{len(self.doc.layers.units):,}"),
        ]
        if has_result(r):
            g, n, c = (
                r.summary.get("groups", {}),
                r.summary.get("new_schools", {}),
                r.summary.get("catchments", {}),
            )
            rows.append((_tr("Groups"), f"{g.get('count', 0)}"))
            if "coverage_pct" in g:
                rows.append(
                    (
                        _tr("Group coverage"),
                        f"{g['coverage_pct']:.1f} % / {g.get('target_pct', 0):.0f} %",
                    )
                )
            new_total = sum(int(n.get(lv, 0) or 0) for lv in LEVELS)
            rows.append((_tr("New schools"), f"{new_total}"))
            if "capacity_total" in n:
                rows.append((_tr("New places"), f"{int(n['capacity_total']):,}"))
            layout = n.get("layout", {})
            if layout:
                rows.append((_tr("To merge"), f"{layout.get('to_merge', 0)}"))
            for lv, name in zip(LEVELS, (_tr("Primary"), _tr("Junior"), _tr("Senior"))):
                cl = c.get(lv)
                if isinstance(cl, dict):
                    rows.append((name + " " + _tr("pupils"), f"{cl.get('students', 0):,.0f}"))
                    rows.append(
                        (
                            name + " " + _tr("mean distance"),
                            f"{cl.get('mean_distance_km', 0):.2f} km",
                        )
                    )
                    far = cl.get("too_far", 0) + cl.get("unserved", 0)
                    rows.append((name + " " + _tr("too far or unserved"), f"{far:,.0f}"))
            t = r.summary.get("timings_s", {})
            if t:
                rows.append((_tr("Solve time"), f"{sum(t.values()):.2f} s"))
        cells = "".join(
            f"<tr><td style='color:#555;padding:1px 10px 1px 0'>{html.escape(k)}</td>"
            f"<td align='right'><b>{html.escape(v)}</b></td></tr>"
            for k, v in rows
        )
        return f"<table width='100%'>{cells}</table>"

    # ================================================================== jobs: ui
    def _job_label(self, job: Job) -> str:
        return {
            "open": _tr("opening"),
            "add_layer": _tr("adding a layer"),
            "plan": _tr("planning"),
            "rerun": _tr("updating results"),
            "save": _tr("saving"),
            "autosave": _tr("autosaving"),
            "export": _tr("exporting"),
        }.get(job.name, job.name)

    def _job_started_ui(self, name: str) -> None:
        self._job_started = time.perf_counter()
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.actions_by_name["cancel"].setEnabled(True)

    def _job_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if message:
            self.status_text.setText(message)

    def _job_idle(self) -> None:
        if self.jobs.busy or self.io.busy:
            return
        self.progress.hide()
        self.cancel_button.hide()
        self.actions_by_name["cancel"].setEnabled(False)

    def _say(self, text: str) -> None:
        self.status_text.setText(text)
        self.note(text)

    def note(self, text: str) -> None:
        """Engine notes and window events, kept in the Messages tab."""
        self.log.appendPlainText(time.strftime("%H:%M:%S  ") + text)

    def show_message(self, title: str, text: str, icon=QMessageBox.Icon.Warning) -> QMessageBox:
        """A message that never blocks the event loop (jobs keep running, tests keep driving)."""
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def _job_failed(self, job: Job, exc: SchoolPlanError) -> None:
        self.last_error = str(exc)
        self._say(_tr("Failed: %1").replace("%1", exc.message))
        if exc.problems:
            from geo.project import CheckReport

            self.check_panel.set_report(CheckReport(problems=list(exc.problems)))
            self.bottom.setCurrentWidget(self.check_panel)
        self.show_message(_tr("SchoolPlan"), str(exc))

    def _job_crashed(self, job: Job, trace: str) -> None:
        self.last_error = trace
        self._say(_tr("Unexpected error: please report it"))
        box = self.show_message(
            _tr("Unexpected error"),
            _tr(
                "This is a bug in SchoolPlan, not in your data. Your work is kept; please send the details below to the developers."
            ),
            QMessageBox.Icon.Critical,
        )
        box.setDetailedText(trace)

    def _job_finished(self, job: Job, value) -> None:
        handler = getattr(self, f"_done_{job.name}", None)
        if handler is not None:
            handler(job, value)

    def cancel(self) -> None:
        self.jobs.cancel()

    def is_busy(self) -> bool:
        return self.jobs.busy or self.io.busy or self.maps.busy or self._recompute_timer.isActive()

    # ================================================================== open / add layers
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, _tr("Open project"), "", _tr("Project or scenario (project.toml scenario.json)")
        )
        if path:
            p = Path(path)
            self.open_path(p.parent if p.name == "scenario.json" else p)

    def open_path(self, path: str | Path | None) -> None:
        """Open a project (project.toml or folder; None = the sample county) or a scenario folder."""
        if self.doc.dirty and not self.confirm(
            _tr("Unsaved changes"), _tr("Open another project and drop the unsaved changes?")
        ):
            return

        def work(progress):
            from store.scenario import is_scenario_folder, load_scenario

            if path is not None and is_scenario_folder(path):
                progress.update(0.1, _tr("Reading the scenario..."))
                return ("scenario", Path(path), load_scenario(path))
            return ("project", path, *self._load_project(path, None, progress))

        self.io.submit(Job("open", work))

    @staticmethod
    def _load_project(path, cfg, progress):
        from geo.project import load_layers, make_config
        from planning.project import load_rules_for

        progress.update(0.1, _tr("Reading and checking the layers..."))
        cfg = cfg or make_config(path)
        rules = load_rules_for(cfg)
        layers, report = load_layers(cfg, rules.standards)
        progress.update(1.0, "")
        return cfg, layers, rules, report

    def _done_open(self, job: Job, value) -> None:
        kind = value[0]
        self.undo_stack.clear()
        if kind == "scenario":
            _, folder, sc = value
            self.doc.set_project(sc.layers, sc.rules, None, path=None, name=sc.name)
            self.doc.config = None
            self.doc.scenario_path = Path(folder)
            self.doc.choices = sc.choices
            if has_result(sc.result):
                self.doc.set_result(sc.result, ALL_STAGES)
            self._say(_tr("Opened scenario %1").replace("%1", str(folder)))
        else:
            _, path, cfg, layers, rules, report = value
            self.doc.set_project(layers, rules, report, path=cfg.path, name=cfg.name)
            self.doc.config = cfg
            self.check_panel.set_report(report)
            if layers is None:
                self.bottom.setCurrentWidget(self.check_panel)
                self.show_message(
                    _tr("The data cannot be used yet"),
                    _tr(
                        "%1 problem(s) must be fixed first; see the Data check tab (each row says how)."
                    ).replace("%1", str(len(report.errors))),
                )
                return
            self._say(
                _tr("Opened %1: %2 schools, %3 population units")
                .replace("%1", cfg.name or str(cfg.path))
                .replace("%2", str(len(layers.schools)))
                .replace("%3", str(len(layers.units)))
            )
        self._update_title()
        self._update_stale()
        self.offer_autosave()

    def add_layer_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, _tr("Add layer"), "", _tr("Layers (*.gpkg *.shp *.geojson *.json *.csv *.xlsx)")
        )
        if path:
            self.add_layer_file(Path(path))

    def add_layer_file(
        self,
        path: Path,
        kind: str | None = None,
        mapping: dict | None = None,
        layer: str | None = None,
    ) -> None:
        """Use ``path`` as the ``kind`` layer (asked when None), matching columns when needed."""
        from geo.layers import LAYER_ZH, LayerSource
        from geo.project import ProjectConfig

        if self.doc.dirty and not self.confirm(
            _tr("Add layer"),
            _tr(
                "Adding a layer reloads the project from its files: unsaved edits and the undo "
                "history are lost. Save the scenario first to keep them. Add the layer anyway?"
            ),
        ):
            return
        if kind is None:
            names = [f"{k} {LAYER_ZH[k]}" for k in LAYER_KEYS]
            choice, ok = QInputDialog.getItem(
                self, _tr("Add layer"), _tr("This file holds:"), names, 0, False
            )
            if not ok:
                return
            kind = LAYER_KEYS[names.index(choice)]
        if mapping is None:
            try:
                headings = file_headings(path, layer, kind)
            except Exception:  # noqa: BLE001 - any reader failure is reported by the load below
                # No columns to match in a file we cannot read: the loader names the file, the
                # problem and the fix (damaged file, which layer, ...) in its check report.
                headings = None
            if headings is not None and missing_required(kind, headings):
                dlg = ColumnMappingDialog(kind, headings, path.name, self)
                if not dlg.exec():
                    return
                mapping = dlg.mapping()
        base = getattr(self.doc, "config", None) or ProjectConfig(path=None, name=self.doc.name)
        # A copy: the open project's configuration changes only once the new layer loads, so a
        # broken file leaves the project as it was (and a later reload does not trip on it).
        cfg = dataclasses.replace(base, sources=dict(base.sources))
        cfg.sources[kind] = LayerSource(
            key=kind, file=Path(path), layer=layer, columns=dict(mapping or {})
        )
        self.io.submit(
            Job(
                "add_layer",
                lambda p: ("project", None, *self._load_project(None, cfg, p)),
                tag=Path(path),
            )
        )

    def _done_add_layer(self, job: Job, value) -> None:
        """The project with the added layer; when it cannot be used the open project stays."""
        _, _, cfg, layers, rules, report = value
        self.check_panel.set_report(report)
        if layers is None:
            # Handled here, not by _done_open: that would replace the working project with an
            # unusable one (no layers, no map) and its message names neither file nor fix.
            problems = report.errors or report.problems
            self.last_error = (
                _tr("Cannot read %1: %2")
                .replace("%1", job.tag.name)
                .replace("%2", "\n".join(str(p) for p in problems))
            )
            self.bottom.setCurrentWidget(self.check_panel)
            self._say(self.last_error.splitlines()[0])
            self.show_message(_tr("Add layer"), self.last_error)
            return
        self.undo_stack.clear()
        self.doc.set_project(layers, rules, report, path=cfg.path, name=cfg.name or self.doc.name)
        self.doc.config = cfg
        self._say(
            _tr("Opened %1: %2 schools, %3 population units")
            .replace("%1", job.tag.name)
            .replace("%2", str(len(layers.schools)))
            .replace("%3", str(len(layers.units)))
        )
        self._update_title()
        self._update_stale()

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        # Only files on this computer: a web link's empty local path would open the working
        # directory as a project.
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if not url.isLocalFile():
                continue
            path = Path(url.toLocalFile())
            if path.name == "scenario.json":  # a saved scenario is its folder, as in Open
                self.open_path(path.parent)
            elif path.is_dir() or path.suffix.lower() == ".toml":
                self.open_path(path)
            else:
                self.add_layer_file(path)
            event.acceptProposedAction()
            break

    # ================================================================== planning
    def run(self, what: str = "all") -> None:
        """Run the whole plan ("all", "new_schools") or one stage ("groups", "catchments")."""
        if self.doc.layers is None:
            self.show_message(_tr("SchoolPlan"), _tr("Open a project with usable data first."))
            return
        self._recompute_timer.stop()
        doc = self.doc
        layers, rules, choices, result = doc.layers, doc.rules, doc.choices, doc.result
        choice_arg = (
            choices if (choices.locked_pairs or choices.excluded or choices.forced_cores) else None
        )
        if what in ("all", "new_schools") or not has_result(result):
            stages = ALL_STAGES
            meta = {"project": doc.name, "project_en": getattr(layers, "name_en", "")}
            if doc.scenario_path:
                meta["scenario"] = doc.scenario_path.name

            def work(progress):
                from planning.pipeline import run_plan

                return run_plan(layers, rules, choices=choice_arg, progress=progress, meta=meta)

            name = "plan"
        else:
            stages = frozenset({what})

            def work(progress):
                return rerun_stages(
                    layers, rules, result, stages, choices=choice_arg, progress=progress
                )

            name = "rerun"
        self.jobs.submit(Job(name, work, tag=(doc.revision, stages)))

    def recompute(self) -> None:
        """Re-run the quick stages an edit made stale (new schools wait for Run plan)."""
        stages = self.doc.stale & QUICK_STAGES
        if not stages or not has_result(self.doc.result):
            return
        doc = self.doc
        layers, rules, result, choices = doc.layers, doc.rules, doc.result, doc.choices
        choice_arg = (
            choices if (choices.locked_pairs or choices.excluded or choices.forced_cores) else None
        )
        self.jobs.submit(
            Job(
                "rerun",
                lambda p: rerun_stages(
                    layers, rules, result, stages, choices=choice_arg, progress=p
                ),
                tag=(doc.revision, stages),
            )
        )

    def _done_plan(self, job: Job, result) -> None:
        revision, stages = job.tag
        self.last_recompute_s = time.perf_counter() - self._job_started
        if self.doc.set_result(result, stages, revision):
            self.doc.set_dirty(True)
            self._say(_tr("Plan ready in %1 s").replace("%1", f"{self.last_recompute_s:.1f}"))
            if result.status != "ok":
                self.show_message(
                    _tr("SchoolPlan"),
                    _tr(
                        "The plan finished with status '%1': some figures could not be met; see the summary."
                    ).replace("%1", result.status),
                )

    def _done_rerun(self, job: Job, result) -> None:
        revision, stages = job.tag
        self.last_recompute_s = time.perf_counter() - self._job_started
        if self.doc.set_result(result, stages, revision):
            self._say(_tr("Results updated in %1 s").replace("%1", f"{self.last_recompute_s:.2f}"))

    def _on_edited(self, kind: str) -> None:
        self._update_stale()
        if has_result(self.doc.result) and self.doc.stale & QUICK_STAGES:
            self._recompute_timer.start()

    def apply_rules(self, changes: dict) -> None:
        try:
            rules = self.doc.rules.with_values(changes, where=_tr("rules form"))
        except SchoolPlanError as exc:
            self.show_message(_tr("Rules"), str(exc))
            self.rules_form.show_rules(self.doc.rules)
            return
        self.undo_stack.push(commands.SetRules(self.doc, rules))

    # ================================================================== map and selection
    def on_school_dragged(self, school_id: str, level: str, lat: float, lng: float) -> None:
        """The map's dragend: move the school (all its levels) through an undo command."""
        if self.doc.layers is None:
            return
        try:
            xy = self.doc.to_metric(lat, lng)
            self.undo_stack.push(commands.MoveSchool(self.doc, school_id, xy))
        except KeyError:
            self._say(
                _tr("%1 is a planned new school: run the plan again to move it").replace(
                    "%1", school_id
                )
            )
            self.refresh_map()

    def on_map_school_clicked(self, school_id: str, level: str) -> None:
        self.selected = [(school_id, level)]
        self.tables.select_school((school_id, level))
        self.map.highlight(self.selected, pan=False)
        self._update_selection_actions()

    def on_table_selected(self, keys: list) -> None:
        self.selected = [tuple(k) for k in keys]
        self.map.highlight(self.selected, pan=True)
        self._update_selection_actions()

    def _update_selection_actions(self) -> None:
        key = self.selected_school()
        for name in ("edit_school", "delete_school", "lock_pair", "exclude", "force_core"):
            self.actions_by_name[name].setEnabled(key is not None)

    def selected_school(self) -> tuple[str, str] | None:
        if len(self.selected) != 1 or self.doc.layers is None:
            return None
        sid, level = self.selected[0]
        s = self.doc.layers.schools
        if not ((s["school_id"].astype(str) == sid) & (s["level"] == level)).any():
            return None
        return sid, level

    def on_map_clicked(self, lat: float, lng: float) -> None:
        if self.actions_by_name["add_candidate"].isChecked():
            self.add_candidate_at(lat, lng)
        elif self.actions_by_name["add_school"].isChecked():
            self.add_school_at(lat, lng, self.new_level.currentData())

    def _toggle_add_mode(self, on: bool) -> None:
        if on:  # one click mode at a time
            self.actions_by_name["add_candidate"].setChecked(False)
        self.map.set_add_mode(on or self.actions_by_name["add_candidate"].isChecked())
        if on:
            self._say(_tr("Click the map where the new school should be"))

    def _toggle_candidate_mode(self, on: bool) -> None:
        if on:
            self.actions_by_name["add_school"].setChecked(False)
        self.map.set_add_mode(on or self.actions_by_name["add_school"].isChecked())
        if on:
            self._say(_tr("Click the map where a candidate site should be"))

    def add_candidate_at(self, lat: float, lng: float, level: str = "") -> str | None:
        """A candidate site at the clicked point; new-school planning uses it on the next Run."""
        if self.doc.layers is None:
            return None
        x, y = self.doc.to_metric(lat, lng)
        row = self.doc.candidate_template(x, y, level)
        self.undo_stack.push(commands.AddCandidate(self.doc, row))
        self.selected_candidate = row["candidate_id"]
        self.actions_by_name["delete_candidate"].setEnabled(True)
        return row["candidate_id"]

    def on_candidate_clicked(self, candidate_id: str) -> None:
        self.selected_candidate = candidate_id
        self.actions_by_name["delete_candidate"].setEnabled(True)
        self._say(_tr("Candidate site %1 selected").replace("%1", candidate_id))

    def delete_selected_candidate(self) -> None:
        cid = self.selected_candidate
        if cid and self.doc.layers is not None:
            self.delete_candidate(cid)

    def delete_candidate(self, candidate_id: str) -> None:
        ids = set(self.doc.candidates()["candidate_id"].astype(str))
        if str(candidate_id) in ids:
            self.undo_stack.push(commands.DeleteCandidate(self.doc, candidate_id))
        self.selected_candidate = None
        self.actions_by_name["delete_candidate"].setEnabled(False)

    def _show_candidates(self) -> None:
        items = []
        if self.doc.layers is not None and self.doc.layers.candidates is not None:
            c = self.doc.layers.candidates
            c = c[~(c.geometry.isna() | c.geometry.is_empty)]
            for cid, name, level, p in zip(
                c["candidate_id"].astype(str),
                c["name"].fillna("").astype(str),
                c["level"].fillna("").astype(str),
                c.geometry.to_crs("EPSG:4326"),
            ):
                lat, lng = float(p.y), float(p.x)
                label = f"{_tr('Candidate site')} {cid} {name if name != cid else ''} {level}"
                items.append({"id": cid, "lat": lat, "lng": lng, "label": " ".join(label.split())})
        self.map.set_candidates(items)

    def add_school_at(self, lat: float, lng: float, level: str = "primary") -> str:
        x, y = self.doc.to_metric(lat, lng)
        row = self.doc.school_template(x, y, level)
        self.undo_stack.push(commands.AddSchool(self.doc, row))
        return row["school_id"]

    def delete_selected(self) -> None:
        key = self.selected_school()
        if key:
            self.undo_stack.push(commands.DeleteSchool(self.doc, key[0], key[1]))
            self.selected = []

    def edit_selected(self) -> None:
        key = self.selected_school()
        if not key:
            return
        dlg = SchoolDialog(key[0], self.doc.school_attrs(key), self)
        if dlg.exec():
            self.edit_school(key, dlg.values())

    def edit_school(self, key: tuple[str, str], values: dict) -> None:
        cmd = commands.EditSchool(self.doc, key, values)
        if cmd.values:
            self.undo_stack.push(cmd)

    def lock_selected_dialog(self) -> None:
        key = self.selected_school()
        r = self.doc.result
        if not key or not has_result(r):
            self.show_message(_tr("Groups"), _tr("Run the plan and select a member school first."))
            return
        s = r.schools
        cores = s[(s["group_role"] == "core") & (s["level"] == key[1])]
        forced = [sid for sid, lv in self.doc.choices.forced_cores if lv == key[1]]
        options = sorted(set(cores["school_id"].astype(str)) | set(forced))
        names = {str(a): str(b) for a, b in zip(s["school_id"], s["name"])}
        labels = [f"{sid} {names.get(sid, '')}" for sid in options if sid != key[0]]
        if not labels:
            self.show_message(_tr("Groups"), _tr("No core school at this level yet."))
            return
        choice, ok = QInputDialog.getItem(
            self,
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

    def zoom_to_problem(self, problem) -> None:
        point = locate_problem(self.doc.layers, problem)
        if point is None:
            self._say(_tr("This problem has no place on the map"))
            return
        lat, lng = self.doc.to_latlng(point.x, point.y)
        self.map.zoom_to(lat, lng, 14)

    # ================================================================== save / autosave
    def _scenario_snapshot(self, name: str):
        d = self.doc
        result = d.result if has_result(d.result) else None
        return d.layers, d.rules, d.choices, result, name

    def save(self) -> None:
        if self.doc.scenario_path is None:
            self.save_as_dialog()
        else:
            self.save_to(self.doc.scenario_path)

    def save_as_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _tr("Save scenario in folder"))
        if folder:
            self.save_to(Path(folder))

    def save_to(self, folder: str | Path) -> None:
        """Save the scenario (layers as edited, rules, choices, results) into ``folder``."""
        if self.doc.layers is None:
            return
        folder = Path(folder)
        layers, rules, choices, result, name = self._scenario_snapshot(self._scenario_name(folder))
        revision = self.doc.revision

        def work(progress):
            from planning.scenario import scenario_from_layers
            from store.scenario import save_scenario

            progress.update(0.2, _tr("Saving..."))
            sc = scenario_from_layers(layers, rules, name=name, choices=choices, result=result)
            return save_scenario(sc, folder)

        self.io.submit(Job("save", work, tag=(folder, revision)))

    def _scenario_name(self, folder: Path) -> str:
        """The name to save under: saving in place keeps the scenario's own name; a new folder
        (Save as) names a new scenario after the folder, so two scenarios never share a name."""
        current = self.doc.scenario_path
        if current is None or Path(current).resolve() != folder.resolve():
            return folder.name
        sset = getattr(self.doc, "scenario_set", None)
        for entry in getattr(sset, "entries", None) or []:
            if Path(entry.folder).resolve() == folder.resolve():
                return entry.name
        from app.gui.scenarios_panel import _saved_name

        return _saved_name(folder) or self.doc.name or folder.name

    def _done_save(self, job: Job, files) -> None:
        folder, revision = job.tag
        self.doc.scenario_path = folder
        if revision == self.doc.revision:
            self.doc.set_dirty(False)
            self.undo_stack.setClean()
        self._update_title()
        self._say(_tr("Saved to %1").replace("%1", str(folder)))

    def autosave_folder(self) -> Path:
        source = str(self.doc.scenario_path or self.doc.project_path or self.doc.name or "untitled")
        return autosave_root() / hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]

    def autosave(self) -> None:
        """Save a copy beside the real save when there are unsaved edits (crash safety)."""
        if (
            self.doc.layers is None
            or not self.doc.dirty
            or self.autosaved_revision == self.doc.revision
        ):
            return
        folder = self.autosave_folder()
        layers, rules, choices, result, name = self._scenario_snapshot(self.doc.name or "autosave")
        self.autosaved_revision = self.doc.revision

        def work(progress):
            from planning.scenario import scenario_from_layers
            from store.scenario import save_scenario

            sc = scenario_from_layers(layers, rules, name=name, choices=choices, result=result)
            sc.notes = "autosave"
            return save_scenario(sc, folder)

        self.io.submit(Job("autosave", work, tag=folder))

    def _done_autosave(self, job: Job, files) -> None:
        self.autosave_path = job.tag
        self.statusBar().showMessage(_tr("Autosaved"), 3000)

    def offer_autosave(self) -> None:
        """After opening: if an autosave newer than the file exists, offer to restore it."""
        folder = self.autosave_folder()
        js = folder / "scenario.json"
        if not js.exists():
            return
        source = self.doc.scenario_path or self.doc.project_path
        src_time = 0.0
        if source is not None and Path(source).exists():
            probe = Path(source) / "scenario.json" if Path(source).is_dir() else Path(source)
            src_time = probe.stat().st_mtime if probe.exists() else 0.0
        if js.stat().st_mtime <= src_time:
            return
        if self.confirm(
            _tr("Restore autosave"),
            _tr("Unsaved work from %1 was autosaved. Restore it?").replace(
                "%1", time.strftime("%Y-%m-%d %H:%M", time.localtime(js.stat().st_mtime))
            ),
        ):
            self.restore_autosave(folder)

    def restore_autosave(self, folder: Path) -> None:
        scenario_path, project_path, config = (
            self.doc.scenario_path,
            self.doc.project_path,
            getattr(self.doc, "config", None),
        )

        def work(progress):
            from store.scenario import load_scenario

            return load_scenario(folder)

        def done(sc):
            self.doc.set_project(
                sc.layers, sc.rules, self.doc.report, path=project_path, name=self.doc.name
            )
            self.doc.scenario_path, self.doc.config = scenario_path, config
            self.doc.set_choices(sc.choices)
            if has_result(sc.result):
                self.doc.set_result(sc.result, ALL_STAGES)
            self.doc.set_dirty(True)
            # Remembered so a later save + close removes the copy it came from (else it would be
            # offered again on the next opening, over the saved work).
            self.autosave_path = folder
            self._say(_tr("Restored the autosave"))

        self.io.submit(Job("restore", work, tag=done))

    def _done_restore(self, job: Job, sc) -> None:
        job.tag(sc)

    # ================================================================== export
    def export_dialog(self) -> None:
        if not has_result(self.doc.result):
            self.show_message(_tr("Export"), _tr("Run the plan first."))
            return
        folder = QFileDialog.getExistingDirectory(self, _tr("Export to folder"))
        if folder:
            self.export_to(Path(folder))

    def export_to(
        self, folder: str | Path, formats: tuple[str, ...] = EXPORT_FORMATS, paper: str = "A3"
    ) -> None:
        """plan.gpkg, summary.json, the current map view (view.png) and the CLI's exports."""
        if not has_result(self.doc.result):
            return
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.map.grab().save(str(folder / "view.png"))
        result, lang = self.doc.result, self.lang

        def work(progress):
            from app.export import export_all
            from store.plan import write_plan

            progress.update(0.05, _tr("Writing plan.gpkg..."))
            files = dict(write_plan(result, folder))
            progress.update(0.3, _tr("Writing maps and tables..."))
            files.update(export_all(result, folder, lang=lang, paper=paper, formats=formats))
            files["view"] = folder / "view.png"
            return files

        self.io.submit(Job("export", work, tag=folder))

    def _done_export(self, job: Job, files) -> None:
        self.last_export = {k: Path(v) for k, v in files.items()}
        self._say(
            _tr("Exported %1 files to %2")
            .replace("%1", str(len(files)))
            .replace("%2", str(job.tag))
        )

    def screenshot(self):
        """The window as a pixmap, map included (its GPU-drawn page is not in a plain grab)."""
        from PyQt6.QtCore import QPoint
        from PyQt6.QtGui import QPainter

        pix = self.grab()
        painter = QPainter(pix)
        painter.drawPixmap(self.map.mapTo(self, QPoint(0, 0)), self.map.grab())
        painter.end()
        return pix

    # ================================================================== closing
    def _confirm_dialog(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _unsaved_dialog(self) -> str:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            _tr("Unsaved changes"),
            _tr("Save the scenario before closing?"),
            parent=self,
        )
        box.setStandardButtons(
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        answer = box.exec()
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(QMessageBox.StandardButton(answer), "cancel")

    def closeEvent(self, event) -> None:  # noqa: N802
        # The autosaves of this session: the project's folder, and the scenario's after a Save.
        autosaves = {self.autosave_folder(), self.autosave_path}
        if not self.closing_for_switch and self.doc.dirty:
            answer = self.ask_unsaved()
            if answer == "cancel":
                event.ignore()
                return
            if answer == "save":
                folder = self.doc.scenario_path
                if folder is None:  # never saved as a scenario: ask where, as Save does
                    chosen = QFileDialog.getExistingDirectory(self, _tr("Save scenario in folder"))
                    if not chosen:
                        event.ignore()
                        return
                    folder = Path(chosen)
                # Saved here, not as a job: a job queued behind a running autosave never starts
                # once the window is gone, and the window may only close once the save happened.
                self.io.wait(60000)
                try:
                    from planning.scenario import scenario_from_layers
                    from store.scenario import save_scenario

                    layers, rules, choices, result, name = self._scenario_snapshot(
                        self._scenario_name(folder)
                    )
                    sc = scenario_from_layers(
                        layers, rules, name=name, choices=choices, result=result
                    )
                    save_scenario(sc, folder)
                except SchoolPlanError as exc:
                    self.last_error = str(exc)
                    self.show_message(_tr("SchoolPlan"), str(exc))
                    event.ignore()
                    return
                self.doc.scenario_path = Path(folder)
                self.doc.set_dirty(False)
                self.undo_stack.setClean()
        self.autosave_timer.stop()
        self.jobs.cancel()
        self.maps.cancel()
        for runner in (self.jobs, self.maps, self.io):
            runner.wait(60000)
        if not self.closing_for_switch and not self.doc.dirty:
            import shutil

            for folder in autosaves | {self.autosave_folder()}:
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
        # Web pages must be gone before Qt releases the browser profile at exit (else a crash).
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        event.accept()
