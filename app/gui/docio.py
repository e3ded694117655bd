"""The document on disk: opening a project or a saved scenario, adding a layer from a file,
saving the scenario, and the autosave copy kept beside the real save (crash safety).

Reading and writing run as jobs on the window's ``io`` runner; the results go into the document.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, QObject, QTimer, pyqtSignal
from PyQt6.QtWidgets import QFileDialog, QInputDialog

from app.gui.column_mapping import ColumnMappingDialog, file_headings, missing_required
from app.gui.document import ALL_STAGES, PlanDocument, has_result
from app.gui.folders import autosave_root, save_error, saved_name, window_key
from app.gui.services import WindowServices
from app.gui.workers import Job, JobRunner
from core.errors import SchoolPlanError
from geo.layers import LAYER_KEYS, LAYER_ZH, LayerSource
from geo.project import ProjectConfig, make_config
from planning.project import load_planning_layers, load_rules_for
from planning.scenario import scenario_from_layers
from store.layout import JSON_NAME
from store.scenario import is_scenario_folder, load_scenario, save_scenario


def _tr(text: str) -> str:
    return QCoreApplication.translate("window", text)


def _load_project(path, cfg, progress):
    progress.update(0.1, _tr("Reading and checking the layers..."))
    cfg = cfg or make_config(path)
    rules = load_rules_for(cfg)
    layers, report = load_planning_layers(cfg, rules)
    progress.update(1.0, "")
    return cfg, layers, rules, report


class DocumentIO(QObject):
    """Open, add layer, save, autosave and restore. ``opened``: a project or scenario was opened
    (whether its data is usable or not)."""

    opened = pyqtSignal()
    saved = pyqtSignal(object, object)  # folder, the planning.scenario.Scenario written there

    def __init__(self, doc: PlanDocument, io: JobRunner, ui: WindowServices, autosave_ms: int):
        super().__init__(ui.parent)
        self.doc, self.io, self.ui = doc, io, ui
        self.autosaved_revision = -1
        self.autosave_path: Path | None = None
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self.autosave_failures = 0
        self.restoring = False  # an autosave is being read back into the document
        self.retry_timer = QTimer(self)
        self.retry_timer.setSingleShot(True)
        self.retry_timer.setInterval(min(autosave_ms, 10000))
        self.retry_timer.timeout.connect(self.autosave)

    # ----- open --------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.ui.parent,
            _tr("Open project"),
            "",
            _tr("Project or scenario (project.toml scenario.json)"),
        )
        if path:
            p = Path(path)
            self.open_path(p.parent if p.name == "scenario.json" else p)

    def open_path(self, path: str | Path | None) -> None:
        """Open a project (project.toml or folder; None = the sample county) or a scenario folder."""
        if self.doc.dirty and not self.ui.confirm(
            _tr("Unsaved changes"), _tr("Open another project and drop the unsaved changes?")
        ):
            return

        def work(progress):
            if path is not None and is_scenario_folder(path):
                progress.update(0.1, _tr("Reading the scenario..."))
                return ("scenario", Path(path), load_scenario(path))
            return ("project", path, *_load_project(path, None, progress))

        self.io.submit(Job("open", work, done=self._done_open))

    def _done_open(self, job: Job, value) -> None:
        if self._take_opened(value):
            self.ui.refresh()
            self.offer_autosave()
        self.opened.emit()

    def _take_opened(self, value) -> bool:
        doc = self.doc
        doc.undo_stack.clear()
        if value[0] == "scenario":
            _, folder, sc = value
            doc.set_project(sc.layers, sc.rules, None, path=None, name=sc.name)
            doc.config = None
            doc.scenario_path = Path(folder)
            doc.choices = sc.choices
            if has_result(sc.result):
                doc.set_result(sc.result, ALL_STAGES)
            self.ui.say(_tr("Opened scenario %1").replace("%1", str(folder)))
            return True
        _, path, cfg, layers, rules, report = value
        doc.set_project(layers, rules, report, path=cfg.path, name=cfg.name)
        doc.config = cfg
        self.ui.show_report(report, layers is None)
        if layers is None:
            self.ui.show_message(
                _tr("The data cannot be used yet"),
                _tr(
                    "%1 problem(s) must be fixed first; see the Data check tab (each row says how)."
                ).replace("%1", str(len(report.errors))),
            )
            return False
        self.ui.say(
            _tr("Opened %1: %2 schools, %3 population units")
            .replace("%1", cfg.name or str(cfg.path))
            .replace("%2", str(len(layers.schools)))
            .replace("%3", str(len(layers.units)))
        )
        return True

    # ----- add a layer -------------------------------------------------------------------------
    def add_layer_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.ui.parent,
            _tr("Add layer"),
            "",
            _tr("Layers (*.gpkg *.shp *.geojson *.json *.csv *.xlsx)"),
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
        if self.doc.dirty and not self.ui.confirm(
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
                self.ui.parent, _tr("Add layer"), _tr("This file holds:"), names, 0, False
            )
            if not ok:
                return
            kind = LAYER_KEYS[names.index(choice)]
        extra: dict = {}
        if mapping is None:
            try:
                headings = file_headings(path, layer, kind)
            except Exception:  # noqa: BLE001 - any reader failure is reported by the load below
                # No columns to match in a file we cannot read: the loader names the file, the
                # problem and the fix (damaged file, which layer, ...) in its check report.
                headings = None
            if headings is not None and missing_required(kind, headings):
                dlg = ColumnMappingDialog(kind, headings, path.name, self.ui.parent)
                if not dlg.exec():
                    return
                mapping = dlg.mapping()
                extra = {"values": dlg.values(), "where": dlg.where()}
        base = self.doc.config or ProjectConfig(path=None, name=self.doc.name)
        # A copy: the open project's configuration changes only once the new layer loads, so a
        # broken file leaves the project as it was (and a later reload does not trip on it).
        cfg = dataclasses.replace(base, sources=dict(base.sources))
        cfg.sources[kind] = LayerSource(
            key=kind, file=Path(path), layer=layer, columns=dict(mapping or {}), **extra
        )
        self.io.submit(
            Job(
                "add_layer",
                lambda p: ("project", None, *_load_project(None, cfg, p)),
                tag=Path(path),
                done=self._done_add_layer,
            )
        )

    def _done_add_layer(self, job: Job, value) -> None:
        """The project with the added layer; when it cannot be used the open project stays."""
        _, _, cfg, layers, rules, report = value
        if layers is None:
            # Not taken as an opened project: that would replace the working project with an
            # unusable one (no layers, no map) and its message names neither file nor fix.
            problems = report.errors or report.problems
            error = (
                _tr("Cannot read %1: %2")
                .replace("%1", job.tag.name)
                .replace("%2", "\n".join(str(p) for p in problems))
            )
            self.ui.record_error(error)
            self.ui.show_report(report, True)
            self.ui.say(error.splitlines()[0])
            self.ui.show_message(_tr("Add layer"), error)
            return
        self.ui.show_report(report, False)
        self.doc.undo_stack.clear()
        self.doc.set_project(layers, rules, report, path=cfg.path, name=cfg.name or self.doc.name)
        self.doc.config = cfg
        self.ui.say(
            _tr("Opened %1: %2 schools, %3 population units")
            .replace("%1", job.tag.name)
            .replace("%2", str(len(layers.schools)))
            .replace("%3", str(len(layers.units)))
        )
        self.ui.refresh()

    # ----- save --------------------------------------------------------------------------------
    def _snapshot(self, name: str, notes: str = ""):
        """What to save, taken now; the scenario itself is built by the job (off this thread)."""
        d = self.doc
        layers, rules, choices = d.layers, d.rules, d.choices
        result = d.result if has_result(d.result) else None

        def scenario():
            sc = scenario_from_layers(layers, rules, name=name, choices=choices, result=result)
            if notes:
                sc.notes = notes
            return sc

        return scenario

    def save(self) -> None:
        if self.doc.scenario_path is None:
            self.save_as_dialog()
        else:
            self.save_to(self.doc.scenario_path)

    def save_as_dialog(self) -> None:
        folder = self.ask_folder()
        if folder is not None:
            self.save_to(folder)

    def ask_folder(self) -> Path | None:
        folder = QFileDialog.getExistingDirectory(self.ui.parent, _tr("Save scenario in folder"))
        return Path(folder) if folder else None

    def save_to(self, folder: str | Path) -> None:
        """Save the scenario (layers as edited, rules, choices, results) into ``folder``."""
        if self.doc.layers is None:
            return
        folder = Path(folder)
        scenario, revision = self._snapshot(self.scenario_name(folder)), self.doc.revision

        def work(progress):
            progress.update(0.2, _tr("Saving..."))
            sc = scenario()
            try:
                save_scenario(sc, folder)
            except OSError as exc:
                raise save_error(exc, folder) from exc
            return sc

        self.io.submit(Job("save", work, tag=(folder, revision), done=self._done_save))

    def save_now(self, folder: Path) -> None:
        """Save at once on this thread (closing: a queued job would never start)."""
        self.io.wait(60000)
        sc = self._snapshot(self.scenario_name(folder))()
        try:
            save_scenario(sc, folder)
        except OSError as exc:
            raise save_error(exc, folder) from exc
        self.doc.scenario_path = Path(folder)
        self.doc.set_dirty(False)
        self.doc.undo_stack.setClean()
        self.saved.emit(Path(folder), sc)

    def save_before_close(self, answer: str) -> bool:
        """The planner's answer about unsaved edits on closing; False: the window stays open
        (canceled, no folder chosen, or the save failed - said in a message, work kept)."""
        if answer != "save":
            return answer != "cancel"
        folder = self.doc.scenario_path or self.ask_folder()
        if folder is None:  # never saved as a scenario and no folder chosen
            return False
        try:
            # Saved here, not as a job: a job queued behind a running autosave never starts
            # once the window is gone, and the window may only close once the save happened.
            self.save_now(Path(folder))
        except (SchoolPlanError, OSError) as exc:
            if isinstance(exc, OSError):
                exc = save_error(exc, Path(folder))
            self.ui.record_error(str(exc))
            self.ui.show_message(
                _tr("Not saved"),
                _tr("The scenario could not be saved; the window stays open with your work.")
                + "\n\n"
                + str(exc),
            )
            return False
        return True

    def scenario_name(self, folder: Path) -> str:
        """The name to save under: saving in place keeps the scenario's own name; a new folder
        (Save as) names a new scenario after the folder, so two scenarios never share a name."""
        current = self.doc.scenario_path
        if current is None or Path(current).resolve() != folder.resolve():
            return folder.name
        sset = getattr(self.doc, "scenario_set", None)
        for entry in getattr(sset, "entries", None) or []:
            if Path(entry.folder).resolve() == folder.resolve():
                return entry.name
        return saved_name(folder) or self.doc.name or folder.name

    def _done_save(self, job: Job, sc) -> None:
        folder, revision = job.tag
        self.doc.scenario_path = folder
        if revision == self.doc.revision:
            self.doc.set_dirty(False)
            self.doc.undo_stack.setClean()
        self.saved.emit(folder, sc)
        self.ui.refresh()
        self.ui.say(_tr("Saved to %1").replace("%1", str(folder)))

    # ----- autosave ----------------------------------------------------------------------------
    def project_autosaves(self) -> Path:
        """The autosaves of the open project or scenario: one folder per window inside."""
        d = self.doc
        source = str(d.scenario_path or d.project_path or d.name or "untitled")
        return autosave_root() / hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]

    def autosave_folder(self) -> Path:
        """This window's autosave of the open project: two windows on one project never share
        (or, closing, delete) each other's copy."""
        return self.project_autosaves() / window_key(self.doc)

    def autosave(self) -> None:
        """Save a copy beside the real save when there are unsaved edits (crash safety)."""
        d = self.doc
        if d.layers is None or not d.dirty or self.autosaved_revision == d.revision:
            return
        folder = self.autosave_folder()
        scenario = self._snapshot(d.name or "autosave", notes="autosave")
        self.autosaved_revision = d.revision

        def work(progress):
            try:
                save_scenario(scenario(), folder)
            except (OSError, SchoolPlanError) as exc:  # retried: see _autosaved
                return exc
            return folder

        self.io.submit(Job("autosave", work, tag=(folder, d.revision), done=self._autosaved))

    def _autosaved(self, job: Job, value) -> None:
        folder, revision = job.tag
        if isinstance(value, Exception):
            # Not a message box every minute: the status line says it, and the copy is tried
            # again soon (a full disk or a locked file often clears up).
            if self.autosaved_revision == revision:
                self.autosaved_revision = -1
            self.autosave_failures += 1
            self.ui.say(_tr("Autosave failed (%1); trying again shortly").replace("%1", str(value)))
            self.retry_timer.start()
            return
        self.autosave_failures = 0
        self.autosave_path = folder
        self.ui.parent.statusBar().showMessage(_tr("Autosaved"), 3000)

    def offer_autosave(self) -> None:
        """After opening: if an autosave newer than the file exists (of this window or of one
        that did not close properly), offer to restore it."""
        own = self.autosave_folder()
        copies = [js for js in self.project_autosaves().glob(f"*/{JSON_NAME}") if js.parent != own]
        if (own / JSON_NAME).exists():
            copies.append(own / JSON_NAME)
        if not copies:
            return
        js = max(copies, key=lambda p: p.stat().st_mtime)
        folder = js.parent
        source = self.doc.scenario_path or self.doc.project_path
        src_time = 0.0
        if source is not None and Path(source).exists():
            probe = Path(source) / JSON_NAME if Path(source).is_dir() else Path(source)
            src_time = probe.stat().st_mtime if probe.exists() else 0.0
        if js.stat().st_mtime <= src_time:
            return
        if self.ui.confirm(
            _tr("Restore autosave"),
            _tr("Unsaved work from %1 was autosaved. Restore it?").replace(
                "%1", time.strftime("%Y-%m-%d %H:%M", time.localtime(js.stat().st_mtime))
            ),
        ):
            self.restore_autosave(folder)

    def restore_autosave(self, folder: Path) -> None:
        doc = self.doc
        scenario_path, project_path, config = doc.scenario_path, doc.project_path, doc.config

        self.restoring = True

        def done(job: Job, sc) -> None:
            self.restoring = False
            doc.set_project(sc.layers, sc.rules, doc.report, path=project_path, name=doc.name)
            doc.scenario_path, doc.config = scenario_path, config
            doc.set_choices(sc.choices)
            if has_result(sc.result):
                doc.set_result(sc.result, ALL_STAGES)
            doc.set_dirty(True)
            # Remembered so a later save + close removes the copy it came from (else it would be
            # offered again on the next opening, over the saved work).
            self.autosave_path = folder
            self.ui.say(_tr("Restored the autosave"))

        self.io.submit(Job("restore", lambda p: load_scenario(folder), done=done))

    def remove_autosaves(self, *more: Path) -> None:
        """The autosaves of this session: the project's folder, the scenario's after a Save, and
        ``more`` (the folder of what was open before a save on closing)."""
        for folder in {self.autosave_folder(), self.autosave_path, *more}:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
                if folder.parent.is_dir() and not any(folder.parent.iterdir()):
                    folder.parent.rmdir()  # the project's folder, once no window has a copy
