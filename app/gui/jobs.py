"""The window's jobs: planning runs and re-runs, map pages and exports on the worker threads,
their progress bar and Cancel, their failures as messages, their results into the document.

Three runners: ``planning`` (a new request replaces the running one), ``maps`` (only the newest
page matters) and ``io`` (opening, saving, exporting: in order). A job's ``done`` callback takes
its value; whoever submits a job (this controller, ``docio``, the scenario panel) says what
happens with the result.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, QObject, QTimer
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QFileDialog, QMessageBox, QProgressBar, QToolButton

from app.export import FORMATS, export_all
from app.gui.basemap import Basemap, BasemapDialog, tile_url
from app.gui.document import ALL_STAGES, QUICK_STAGES, PlanDocument, has_result
from app.gui.mapview import MapView, map_payload, with_edited_schools, write_map_html
from app.gui.services import WindowServices
from app.gui.workers import Job, JobRunner, run_beside
from core.errors import SchoolPlanError
from geo.project import CheckReport
from planning.pipeline import preview_result, rerun_stages, run_plan
from store.plan import write_plan


def _tr(text: str) -> str:
    return QCoreApplication.translate("window", text)


def one_language(message: str, lang: str) -> str:
    """The engines' progress messages say "中文 / English": the window's half of it."""
    zh, sep, en = message.partition(" / ")
    if not sep:
        return message
    return en if lang == "en" else zh


class JobController(QObject):
    """Starts the window's jobs and shows how they go."""

    def __init__(self, doc: PlanDocument, map_view: MapView, lang: str, ui: WindowServices):
        super().__init__(ui.parent)
        self.doc, self.map, self.lang, self.ui = doc, map_view, lang, ui
        self.planning = JobRunner(self)
        self.maps = JobRunner(self)
        self.io = JobRunner(self, supersede=False)
        self._tmp = tempfile.TemporaryDirectory(prefix="schoolplan-map-")
        self._map_n = 0
        self._job_started = 0.0
        self.last_recompute_s = 0.0
        self.last_export: dict[str, Path] = {}
        self.last_export_count = 0
        self.popups_at_grab = 0
        self.recompute_timer = QTimer(self)
        self.recompute_timer.setSingleShot(True)
        self.recompute_timer.setInterval(120)  # gathers a burst of edits into one re-run
        self.recompute_timer.timeout.connect(self.recompute)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.hide()
        self.cancel_action: QAction | None = None
        for runner in (self.planning, self.io):
            runner.started.connect(self._started)
            runner.progressed.connect(self._progressed)
            runner.noted.connect(ui.tech_note)
            runner.failed.connect(self._failed)
            runner.crashed.connect(self._crashed)
            runner.canceled.connect(
                lambda job: ui.say(_tr("Canceled: %1").replace("%1", self._label(job)))
            )
            runner.idle.connect(self._idle)
            runner.finished.connect(self._finished)
        if getattr(doc, "basemap", Basemap()).kind != "none":  # a window rebuilt: keep it
            QTimer.singleShot(0, lambda: self.set_basemap(doc.basemap))
        self.maps.finished.connect(self._map_built)
        self.maps.failed.connect(self._failed)
        self.maps.crashed.connect(self._crashed)

    def bind_cancel(self, action: QAction) -> None:
        self.cancel_action = action
        self.cancel_button.setDefaultAction(action)

    # ----- planning ----------------------------------------------------------------------------
    def run(self, what: str = "all") -> None:
        """Run the whole plan ("all", "new_schools") or one stage ("groups", "catchments")."""
        doc = self.doc
        if doc.layers is None:
            self.ui.show_message(_tr("SchoolPlan"), _tr("Open a project with usable data first."))
            return
        self.recompute_timer.stop()
        layers, rules, result = doc.layers, doc.rules, doc.result
        choice_arg = self._choice_arg()
        if what in ("all", "new_schools") or not has_result(result):
            stages = ALL_STAGES
            meta = {"project": doc.name, "project_en": getattr(layers, "name_en", "")}
            if doc.scenario_path:
                meta["scenario"] = doc.scenario_path.name

            def work(progress):
                return run_plan(layers, rules, choices=choice_arg, progress=progress, meta=meta)

            self.planning.submit(
                Job("plan", work, tag=(doc.revision, stages), done=self._done_plan)
            )
            return
        self._rerun(frozenset({what}))

    def recompute(self) -> None:
        """Re-run the quick stages an edit made stale (new schools wait for Run plan)."""
        stages = self.doc.stale & QUICK_STAGES
        if stages and has_result(self.doc.result):
            self._rerun(stages)

    def _rerun(self, stages) -> None:
        doc = self.doc
        layers, rules, result, choice_arg = doc.layers, doc.rules, doc.result, self._choice_arg()

        def work(progress):
            return rerun_stages(
                layers, rules, result, stages, choices=choice_arg, progress=progress
            )

        self.planning.submit(Job("rerun", work, tag=(doc.revision, stages), done=self._done_rerun))

    def _choice_arg(self):
        c = self.doc.choices
        return c if (c.locked_pairs or c.excluded or c.forced_cores) else None

    def on_edited(self, kind: str) -> None:
        if has_result(self.doc.result) and self.doc.stale & QUICK_STAGES:
            self.recompute_timer.start()

    def _done_plan(self, job: Job, result) -> None:
        revision, stages = job.tag
        self.last_recompute_s = time.perf_counter() - self._job_started
        if self.doc.set_result(result, stages, revision):
            self.doc.set_dirty(True)
            self.ui.say(_tr("Plan ready in %1 s").replace("%1", f"{self.last_recompute_s:.1f}"))
            if result.status != "ok":
                self.ui.show_message(
                    _tr("SchoolPlan"),
                    _tr(
                        "The plan finished with status '%1': some figures could not be met; see the summary."
                    ).replace("%1", result.status),
                )

    def _done_rerun(self, job: Job, result) -> None:
        revision, stages = job.tag
        self.last_recompute_s = time.perf_counter() - self._job_started
        if self.doc.set_result(result, stages, revision):
            self.ui.say(
                _tr("Results updated in %1 s").replace("%1", f"{self.last_recompute_s:.2f}")
            )

    # ----- the map page ------------------------------------------------------------------------
    def refresh_map(self) -> None:
        """Show the document on the map: new layers drawn in the page shown (an edit, a re-plan:
        no reload), or a whole new page when none is ready yet."""
        doc = self.doc
        if doc.layers is None:
            return
        if has_result(doc.result):
            result = with_edited_schools(doc.result, doc.layers.schools)
        else:
            result = preview_result(doc.layers, doc.rules, {"project": doc.name})
        self._map_n += 1
        lang = self.lang
        if self.map.is_ready:
            self.maps.submit(
                Job("map_layers", lambda p: map_payload(result, lang), tag=self._map_n)
            )
            return
        path = Path(self._tmp.name) / f"map_{self._map_n}.html"
        self.maps.submit(Job("map", lambda p: write_map_html(result, path, lang), tag=path))

    def _map_built(self, job: Job, value) -> None:
        if job.name == "map_layers":
            if not self.map.replace_layers(value, job.tag):
                self.refresh_map()  # the page went away meanwhile: a whole page then
            return
        path = value
        self.map.show_file(path)
        for f in Path(self._tmp.name).glob("map_*.html"):
            # The page in view was read already; keep only the newest files.
            if f != path and f.stat().st_mtime < time.time() - 30:
                f.unlink(missing_ok=True)

    # ----- base map ---------------------------------------------------------------------------
    def choose_basemap(self) -> None:
        dlg = BasemapDialog(getattr(self.doc, "basemap", Basemap()), self.ui.parent)
        if dlg.exec():
            self.set_basemap(dlg.choice())

    def set_basemap(self, b: Basemap) -> None:
        """Show base map ``b`` (an MBTiles file is unpacked off the GUI thread first)."""
        self.doc.basemap = b  # on the document: kept when the window is rebuilt

        def done(job: Job, url) -> None:
            self.map.set_basemap(url, b.gcj02)
            self.ui.say(_tr("Base map: %1").replace("%1", b.source or _tr("none")))

        self.io.submit(Job("basemap", lambda p: tile_url(b), done=done))

    # ----- export ------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        if not has_result(self.doc.result):
            self.ui.show_message(_tr("Export"), _tr("Run the plan first."))
            return
        folder = QFileDialog.getExistingDirectory(self.ui.parent, _tr("Export to folder"))
        if folder:
            self.export_to(Path(folder))

    def export_to(
        self, folder: str | Path, formats: tuple[str, ...] = FORMATS, paper: str = "A3"
    ) -> None:
        """plan.gpkg, summary.json, the current map view (view.png) and the CLI's exports."""
        if not has_result(self.doc.result):
            return
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        # The view as the planner sees it, without an open popup over it (closed first; the
        # grab waits for the page to have done so and painted).
        self.map.js(
            "(function(){if(window.schoolplanMap)schoolplanMap.closePopup();"
            "return Array.from(document.querySelectorAll('.leaflet-popup'))"
            ".filter(function(e){return e.style.opacity!=='0';}).length;})()",
            # Leaflet fades a closed popup out in 200 ms before removing it.
            lambda popups: QTimer.singleShot(250, lambda: self._export_after_grab(folder, popups)),
        )
        self._export_args = (formats, paper)

    def _export_after_grab(self, folder: Path, popups) -> None:
        formats, paper = self._export_args
        self.popups_at_grab = int(popups or 0)
        self.map.grab().save(str(folder / "view.png"))
        result, lang = self.doc.result, self.lang

        def work(progress):
            progress.update(0.05, _tr("Writing plan.gpkg..."))
            files = dict(write_plan(result, folder))
            progress.update(0.3, _tr("Writing maps and tables..."))
            files.update(
                export_all(
                    result, folder, lang=lang, paper=paper, formats=formats, beside=run_beside
                )
            )
            files["view"] = folder / "view.png"
            return files

        self.io.submit(Job("export", work, tag=folder, done=self._done_export))

    def _done_export(self, job: Job, files) -> None:
        self.last_export = {k: Path(v) for k, v in files.items()}
        # Files on disk, each once (the QGIS styles live inside plan.gpkg: not a file of its own)
        written = {p.resolve() for p in self.last_export.values() if p.is_file()}
        self.last_export_count = len(written)
        self.ui.say(
            _tr("Exported %1 files to %2")
            .replace("%1", str(len(written)))
            .replace("%2", str(job.tag))
        )

    # ----- how jobs go -------------------------------------------------------------------------
    def _label(self, job: Job) -> str:
        return {
            "open": _tr("opening"),
            "add_layer": _tr("adding a layer"),
            "plan": _tr("planning"),
            "rerun": _tr("updating results"),
            "save": _tr("saving"),
            "autosave": _tr("autosaving"),
            "export": _tr("exporting"),
        }.get(job.name, job.name)

    def _started(self, name: str) -> None:
        self._job_started = time.perf_counter()
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        if self.cancel_action is not None:
            self.cancel_action.setEnabled(True)

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if message:
            self.ui.status(one_language(message, self.lang))

    def _idle(self) -> None:
        if self.planning.busy or self.io.busy:
            return
        self.progress.hide()
        self.cancel_button.hide()
        if self.cancel_action is not None:
            self.cancel_action.setEnabled(False)

    def _finished(self, job: Job, value) -> None:
        if job.done is not None:
            job.done(job, value)

    def _failed(self, job: Job, exc: SchoolPlanError) -> None:
        self.ui.record_error(str(exc))
        self.ui.say(_tr("Failed: %1").replace("%1", exc.message))
        if exc.problems:
            self.ui.show_report(CheckReport(problems=list(exc.problems)), True)
        self.ui.show_message(_tr("SchoolPlan"), str(exc))

    def _crashed(self, job: Job, trace: str) -> None:
        self.ui.record_error(trace)
        self.ui.say(_tr("Unexpected error: please report it"))
        box = self.ui.show_message(
            _tr("Unexpected error"),
            _tr(
                "This is a bug in SchoolPlan, not in your data. Your work is kept; please send the details below to the developers."
            ),
            QMessageBox.Icon.Critical,
        )
        box.setDetailedText(trace)

    def cancel(self) -> None:
        self.planning.cancel()

    def stop(self) -> None:
        """Stop planning: the running job and a re-run waiting for a burst of edits."""
        self.planning.cancel()
        self.recompute_timer.stop()

    def is_busy(self) -> bool:
        return (
            self.planning.busy or self.io.busy or self.maps.busy or self.recompute_timer.isActive()
        )

    def shutdown(self, ms: int = 60000) -> None:
        """Stop planning and map pages, let saving finish (the window is closing)."""
        self.planning.cancel()
        self.maps.cancel()
        for runner in (self.planning, self.maps, self.io):
            runner.wait(ms)
