"""The planner's main window: map in the middle, layers and rules at the sides, tables below.

The window only assembles its parts: widgets (map, panels, tables), the commands declared in
``actions.py``, and three controllers: ``docio.DocumentIO`` (open, add layer, save, autosave),
``editing.EditController`` (hand edits through undo commands, the selection) and
``jobs.JobController`` (planning runs, map pages and exports on ``workers.py``'s threads). The
scenario panel is installed beside them. Every part reaches the window through a services
object (``services.WindowServices``, ``scenarios_panel.ScenarioServices``) and signals.
"""

from __future__ import annotations

import time
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, QPoint, Qt, pyqtSignal
from PyQt6.QtGui import QIcon, QPainter, QPixmap
from PyQt6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QTabWidget,
    QTextBrowser,
    QWidget,
)

from app.gui import actions as declared
from app.gui.attributes import (
    AttributeDocks,
    IdentifyPanel,
    candidate_row,
    feature_at,
    hidden_data_layers,
    layer_frame,
    school_row,
)
from app.gui.check_panel import CheckPanel
from app.gui.dialogs import confirm_dialog, unsaved_dialog
from app.gui.docio import DocumentIO
from app.gui.document import PlanDocument, has_result
from app.gui.editing import EditController
from app.gui.jobs import JobController
from app.gui.layers_panel import LayersPanel
from app.gui.mapview import MapView
from app.gui.rules_form import RulesForm
from app.gui.scenarios_panel import ScenarioServices, install_scenarios
from app.gui.search import SearchBox
from app.gui.services import WindowServices
from app.gui.summary import summary_html
from app.gui.tables import TablesPanel
from app.gui.year_bar import YearBar
from app.resources import resource_path
from core.vocab import LEVEL, LEVELS


def _tr(text: str) -> str:
    return QCoreApplication.translate("window", text)


class MainWindow(QMainWindow):
    """The planner window. ``languageRequested`` asks ``run_gui`` to rebuild in another language."""

    languageRequested = pyqtSignal(str)

    def __init__(self, doc: PlanDocument | None = None, lang: str = "zh", autosave_ms: int = 60000):
        super().__init__()
        self.doc = doc or PlanDocument()
        self.lang = lang
        self.last_error: str = ""
        self.closing_for_switch = False
        # Hooks for questions; tests replace them to answer without a modal dialog.
        self.confirm = lambda title, text: confirm_dialog(self, title, text)
        self.ask_unsaved = lambda: unsaved_dialog(self)

        self.setWindowTitle("SchoolPlan")
        self.setWindowIcon(QIcon(str(resource_path("icons", "schoolplan.svg"))))
        self.resize(1440, 900)
        self.setAcceptDrops(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self._build_widgets()
        ui = WindowServices(
            parent=self,
            say=self.say,
            status=self.status_text.setText,
            note=self.note,
            tech_note=self.tech_note,
            show_message=self.show_message,
            confirm=lambda title, text: self.confirm(title, text),
            record_error=self._record_error,
            show_report=self._show_report,
            refresh=self._refresh_status,
        )
        self.jobs = JobController(self.doc, self.map, lang, ui)
        self.files = DocumentIO(self.doc, self.jobs.io, ui, autosave_ms)
        self.edit = EditController(self.doc, self.map, self.tables, lang, ui, self.jobs.refresh_map)
        self._build_actions()
        self._build_status()
        self.scenarios, self.scenarios_panel, self.scenarios_dock = install_scenarios(
            self,
            self.doc,
            ScenarioServices(
                parent=self,
                lang=lang,
                say=self.say,
                show_message=self.show_message,
                confirm=lambda title, text: self.confirm(title, text),
                submit_io=self.jobs.io.submit,
                planning_busy=lambda: self.jobs.planning.busy,
                stop_planning=self.jobs.stop,
            ),
            self.layers_dock,
        )
        self._connect()
        self._refresh_all()

    @property
    def undo_stack(self):
        """The history of the scenario in the window (each scenario has its own)."""
        return self.doc.undo_stack

    # ================================================================== building the window
    def _build_widgets(self) -> None:
        self.map = MapView(self)
        self.setCentralWidget(self.map)
        self.layers_panel = LayersPanel()
        self.layers_dock = self._dock(_tr("Layers"), self.layers_panel, "left", "layers")
        self.summary = QTextBrowser()
        self.summary.setOpenLinks(False)
        self.summary_dock = self._dock(_tr("Summary"), self.summary, "left", "summary")
        self.rules_form = RulesForm(self.lang)
        self.rules_dock = self._dock(_tr("Rules"), self.rules_form, "right", "rules")
        self.tables = TablesPanel(self.lang)
        self.check_panel = CheckPanel(self.lang)
        self.bottom = QTabWidget()
        self.bottom.addTab(self.tables, _tr("Tables"))
        self.bottom.addTab(self.check_panel, _tr("Data check"))
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.bottom.addTab(self.log, _tr("Messages"))
        # The engines' own notes are English technical lines (solver steps, widened searches):
        # kept apart so the Messages tab speaks the planner's language.
        self.tech_log = QPlainTextEdit()
        self.tech_log.setObjectName("technical_log")
        self.tech_log.setReadOnly(True)
        self.tech_log.setMaximumBlockCount(2000)
        self.bottom.addTab(self.tech_log, _tr("Technical log (English)"))
        self.bottom_dock = self._dock(_tr("Results"), self.bottom, "bottom", "results")
        self.identify = IdentifyPanel(self.lang)
        self.identify_dock = self._dock(_tr("Identify"), self.identify, "right", "identify")
        self.tabifyDockWidget(self.rules_dock, self.identify_dock)
        self.rules_dock.raise_()
        self.attributes = AttributeDocks(self, self.doc, self.map, self.lang)
        self.status_text = QLabel()
        self.search = SearchBox(self.lang)
        # The plan year (issue 19): choosing one re-plans with that year's projected children.
        self.year_bar = YearBar(self.doc, self.lang, replan=lambda: self.jobs.run("all"))
        self.resizeDocks([self.layers_dock, self.rules_dock], [240, 320], Qt.Orientation.Horizontal)
        self.resizeDocks([self.bottom_dock], [230], Qt.Orientation.Vertical)
        self.splitDockWidget(self.layers_dock, self.summary_dock, Qt.Orientation.Vertical)

    def _dock(self, title: str, widget: QWidget, side: str, name: str) -> QDockWidget:
        area = {
            "left": Qt.DockWidgetArea.LeftDockWidgetArea,
            "right": Qt.DockWidgetArea.RightDockWidgetArea,
            "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
        }[side]
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

    def _build_actions(self) -> None:
        parts = {"files": self.files, "edit": self.edit, "jobs": self.jobs, "window": self}

        def resolve(handler: str):
            part, method = handler.split(".", 1)
            return getattr(parts[part], method)

        a = self.actions_by_name = declared.build_actions(
            self, self.lang, resolve, self.doc.undo_group
        )
        a["lang_zh" if self.lang == "zh" else "lang_en"].setChecked(True)
        self.new_level = QComboBox()
        self.new_level.setToolTip(_tr("Level of schools added on the map"))
        for lv in LEVELS:
            self.new_level.addItem(LEVEL.label(lv, self.lang), lv)
        docks = [
            d.toggleViewAction()
            for d in (
                self.layers_dock,
                self.summary_dock,
                self.rules_dock,
                self.identify_dock,
                self.bottom_dock,
            )
        ]
        for menu in declared.MENUS:
            declared.fill(self.menuBar().addMenu(menu.text(self.lang)), menu, a, self.lang,
                          {"docks": docks})  # fmt: skip
        spec = declared.TOOLBAR
        tb = self.addToolBar(spec.text(self.lang))
        tb.setObjectName(spec.id)
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        declared.fill(tb, spec, a, self.lang, {"new_level": self.new_level})
        tb.addSeparator()
        tb.addWidget(self.year_bar)
        tb.addWidget(self.search)
        self.edit.bind(a, self.new_level)
        self.jobs.bind_cancel(a["cancel"])

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.stale_label = QLabel()
        self.stale_label.setStyleSheet("color: #b26a00;")
        sb.addWidget(self.status_text, 1)
        sb.addPermanentWidget(self.stale_label)
        sb.addPermanentWidget(self.jobs.progress)
        sb.addPermanentWidget(self.jobs.cancel_button)

    def _connect(self) -> None:
        d, e = self.doc, self.edit
        d.resultChanged.connect(self._on_result)
        d.layersChanged.connect(self._on_layers)
        # Bound methods, not lambdas: the document outlives a window rebuilt for a language
        # switch, and a lambda would keep calling into the deleted window's widgets.
        d.rulesChanged.connect(self._on_rules)
        d.dirtyChanged.connect(self.setWindowModified)
        d.staleChanged.connect(self._update_stale)
        d.edited.connect(self._on_edited)
        d.schoolMoved.connect(self._on_school_moved)
        self.map.bridge.moved.connect(e.on_school_dragged)
        self.map.bridge.clicked.connect(e.on_map_school_clicked)
        self.map.bridge.clicked.connect(self.identify_school)
        self.map.bridge.clicked.connect(self.attributes.school_clicked)
        self.map.bridge.candidateClickedOn.connect(self.identify_candidate)
        self.map.bridge.identifyRequested.connect(self.identify_at)
        self.layers_panel.attributesRequested.connect(self.attributes.open)
        d.resultChanged.connect(self._refresh_attributes)
        d.layersChanged.connect(self._refresh_attributes)
        self.map.bridge.mapClickedAt.connect(e.on_map_clicked)
        self.map.bridge.candidateClickedOn.connect(e.on_candidate_clicked)
        self.map.bridge.distanceMeasured.connect(e.on_measured)
        self.map.layersListed.connect(self.layers_panel.set_layers)
        self.layers_panel.visibilityChanged.connect(self.map.set_visible)
        self.layers_panel.orderChanged.connect(self.map.set_order)
        self.tables.selected.connect(e.on_table_selected)
        self.search.found.connect(e.go_to)
        self.rules_form.applied.connect(self._apply_rules)
        self.check_panel.problemActivated.connect(e.zoom_to_problem)
        self.files.opened.connect(self.scenarios.project_opened)
        self.files.opened.connect(self._restore_last)
        self.files.saved.connect(self.scenarios.scenario_saved)
        self.scenarios.shown.connect(self._refresh_status)
        self.scenarios.switched.connect(e.clear_selection)

    # ================================================================== services for the parts
    def say(self, text: str) -> None:
        self.status_text.setText(text)
        self.note(text)

    def note(self, text: str) -> None:
        """Engine notes and window events, kept in the Messages tab."""
        self.log.appendPlainText(time.strftime("%H:%M:%S  ") + text)

    def tech_note(self, text: str) -> None:
        self.tech_log.appendPlainText(time.strftime("%H:%M:%S  ") + text)

    def show_message(self, title: str, text: str, icon=QMessageBox.Icon.Warning) -> QMessageBox:
        """A message that never blocks the event loop (jobs keep running, tests keep driving)."""
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    # ================================================================== identify
    def _refresh_attributes(self) -> None:
        # A window method, not the helper's: Qt drops it with the window (see _connect).
        self.attributes.refresh()

    def _identified(self, layer: str, row: int) -> None:
        self.identify.show_feature(layer, layer_frame(self.doc, layer), row)
        self.identify_dock.show()
        self.identify_dock.raise_()

    def identify_at(self, lat: float, lng: float, tolerance_m: float) -> None:
        """A click on the map: the attributes of the feature under it (shown layers only)."""
        if self.doc.layers is None:
            return
        hidden = hidden_data_layers(self.map.listed_layers(), self.map.hidden)
        hit = feature_at(self.doc, *self.doc.to_metric(lat, lng), tolerance_m, skip=hidden)
        if hit is not None:
            self._identified(*hit)

    def identify_school(self, school_id: str, level: str) -> None:
        hit = school_row(self.doc, school_id, level)
        if hit is not None:
            self._identified(*hit)

    def identify_candidate(self, candidate_id: str) -> None:
        hit = candidate_row(self.doc, candidate_id)
        if hit is not None:
            self._identified(*hit)

    def _record_error(self, text: str) -> None:
        self.last_error = text

    def _show_report(self, report, bring_up: bool) -> None:
        self.check_panel.set_report(report)
        if bring_up:
            self.bottom.setCurrentWidget(self.check_panel)

    def request_language(self, lang: str) -> None:
        self.languageRequested.emit(lang)

    # ================================================================== refreshing
    def _restore_last(self) -> None:
        if not self.files.restoring:  # an autosave being restored wins over the saved plan
            self.scenarios.restore_last()

    def _on_rules(self) -> None:
        self.rules_form.set_rules(self.doc.rules, self.doc.default_rules)

    def _refresh_all(self) -> None:
        self.rules_form.set_rules(self.doc.rules, self.doc.default_rules)
        self.check_panel.set_report(self.doc.report)
        self._on_result()
        self._update_stale()
        self.setWindowModified(self.doc.dirty)

    def _refresh_status(self) -> None:
        self._update_title()
        self._update_stale()

    def _update_title(self) -> None:
        name = self.doc.name or _tr("no project")
        where = f" — {self.doc.scenario_path.name}" if self.doc.scenario_path else ""
        self.setWindowTitle(f"{name}{where} [*] — SchoolPlan " + _tr("School layout planner"))

    def _on_school_moved(self, school_id: str, x: float, y: float) -> None:
        # With a plan shown, moving the markers is all the map needs until the re-plan (which
        # the move starts) is drawn; without one, the layers are redrawn as for any edit.
        if has_result(self.doc.result) and self.map.move_school(
            school_id, *self.doc.to_latlng(x, y)
        ):
            self._moved_only = True

    def _on_layers(self) -> None:
        self._update_title()
        self.search.set_layers(self.doc.layers)
        self.edit.show_candidates()
        if not has_result(self.doc.result):
            self.tables.set_data(self.doc.layers, None)
        if not getattr(self, "_moved_only", False):
            self.jobs.refresh_map()  # an edited school shows at once, before the re-plan
        self._moved_only = False

    def _on_result(self) -> None:
        self._update_title()
        result = self.doc.result if has_result(self.doc.result) else None
        self.jobs.refresh_map()  # first: its layers are built on a worker meanwhile
        self.tables.set_data(self.doc.layers, result)
        self.summary.setHtml(summary_html(self.doc, self.lang))

    def _update_stale(self) -> None:
        doc = self.doc
        if doc.layers is None:
            text = ""
        elif not has_result(doc.result):
            text = _tr("Not planned yet: press Run plan")
        elif "new_schools" in doc.stale:
            text = _tr("New schools not updated since your edits: Run plan to update")
        elif doc.stale:
            text = _tr("Updating...")
        else:
            text = _tr("Results up to date")
        self.stale_label.setText(text)

    def _on_edited(self, kind: str) -> None:
        self._update_stale()
        self.jobs.on_edited(kind)

    def _apply_rules(self, changes: dict) -> None:
        if not self.edit.apply_rules(changes):
            self.rules_form.show_rules(self.doc.rules)

    def screenshot(self) -> QPixmap:
        """The window as a pixmap, map included (its GPU-drawn page is not in a plain grab)."""
        pix = self.grab()
        painter = QPainter(pix)
        painter.drawPixmap(self.map.mapTo(self, QPoint(0, 0)), self.map.grab())
        painter.end()
        return pix

    # ================================================================== dropping files
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
                self.files.open_path(path.parent)
            elif path.is_dir() or path.suffix.lower() == ".toml":
                self.files.open_path(path)
            else:
                self.files.add_layer_file(path)
            event.acceptProposedAction()
            break

    # ================================================================== closing
    def closeEvent(self, event) -> None:  # noqa: N802
        # Nothing may escape from here: an exception in a Qt event handler aborts the process
        # (and the edits with it). A failed save keeps the window open with the work in it.
        try:
            opened_as = self.files.autosave_folder()  # before a save below changes it
            if (
                not self.closing_for_switch
                and self.doc.dirty
                and not self.files.save_before_close(self.ask_unsaved())
            ):
                event.ignore()
                return
            self.files.autosave_timer.stop()
            self.files.retry_timer.stop()
            self.jobs.shutdown()
            if not self.closing_for_switch and not self.doc.dirty:
                self.files.remove_autosaves(opened_as)
        except Exception as exc:  # noqa: BLE001 - a bug, shown; closing is refused
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.show_message(_tr("SchoolPlan"), self.last_error, QMessageBox.Icon.Critical)
            event.ignore()
            return
        # Web pages must be gone before Qt releases the browser profile at exit (else a crash).
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        event.accept()
