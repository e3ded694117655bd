"""Compare two scenarios: the metrics table of ``schoolplan compare`` and two synchronised maps.

The table is ``planning.compare.compare_plans`` on the two scenarios' results, laid out like the
first sheet of compare.xlsx (best value of each row in bold green). The maps are two map views
whose pan and zoom follow each other: a map's ``moveend`` reaches Python through its QWebChannel
bridge (``MapBridge.viewChanged``) and ``ViewSync`` sets the other map's view. Setting a view
makes that map report a ``moveend`` too; ``ViewSync`` drops a report that is already the other
map's view (within a pixel), so the echo ends there instead of bouncing for ever.

Comparing, building the map pages and exporting compare.xlsx / compare.html run on a job runner
of ``app/gui/workers.py``.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, QObject, QPoint, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QFont, QPainter
from PyQt6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.compare_report import metric_rows, write_compare_html, write_compare_xlsx
from app.gui.compare_diff import DIFF_JS, diff_layer
from app.gui.mapview import MapView, write_map_html
from app.gui.workers import Job, JobRunner
from planning.compare import compare_plans

VALUE_ROLE = Qt.ItemDataRole.UserRole  # the raw figure (float or None) of a scenario cell
BEST_ROLE = Qt.ItemDataRole.UserRole + 1  # True on the best value(s) of a row
BEST_FILL, BEST_FONT = "#C6EFCE", "#006100"  # as compare.xlsx and compare.html


def _tr(text: str) -> str:
    return QCoreApplication.translate("compare", text)


def fmt(value, digits: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def _pixel(lat: float, lng: float, zoom: float) -> tuple[float, float]:
    """Web Mercator pixel position at ``zoom`` (Leaflet's 256-pixel tiles)."""
    scale = 256.0 * 2.0**zoom
    s = math.sin(math.radians(max(min(lat, 85.0511), -85.0511)))
    return (lng + 180.0) / 360.0 * scale, (
        0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)
    ) * scale


def same_view(a, b, tolerance_px: float = 1.0) -> bool:
    """Two (lat, lng, zoom) views the eye cannot tell apart: same zoom, centres within a pixel."""
    if a is None or b is None or abs(a[2] - b[2]) > 1e-6:
        return False
    (xa, ya), (xb, yb) = _pixel(a[0], a[1], a[2]), _pixel(b[0], b[1], b[2])
    return math.hypot(xa - xb, ya - yb) <= tolerance_px


# Scripts return nothing on purpose: runJavaScript turns the value of the last expression into a
# QVariant even without a callback, and serialising the L.Map that setView returns hangs the page.
_SET_VIEW_JS = (
    "(function () {{ if (window.schoolplanMap) "
    "schoolplanMap.setView([{lat!r}, {lng!r}], {zoom!r}, {{animate: false}}); }})();"
)
_GET_VIEW_JS = (
    "(function () { if (!window.schoolplanMap) return null; var c = schoolplanMap.getCenter();"
    " return [c.lat, c.lng, schoolplanMap.getZoom()]; })();"
)


def set_view(view: MapView, lat: float, lng: float, zoom: float) -> None:
    view.js(_SET_VIEW_JS.format(lat=float(lat), lng=float(lng), zoom=float(zoom)))


class ViewSync(QObject):
    """Keeps two map views on the same centre and zoom.

    The bridge's ``viewChanged`` carries the zoom as an int, but the maps zoom in quarter steps
    (``zoom_snap=0.25``); so a moveend only triggers a read of the page's exact view, which is
    then applied to the other map.
    """

    followed = pyqtSignal(int)  # index of the map that was moved to follow the other

    def __init__(self, a: MapView, b: MapView, parent: QObject | None = None):
        super().__init__(parent)
        self.maps = (a, b)
        self.views: list[tuple[float, float, float] | None] = [None, None]
        self.reports = [0, 0]  # moveends received from each map (exact view read)
        self.forwarded = 0  # views pushed to the other map
        for i, m in enumerate(self.maps):
            m.bridge.viewMoved.connect(lambda _lat, _lng, _z, i=i: self._read(i))
            m.bridge.ready.connect(lambda _info, i=i: self._ready(i))

    def _read(self, i: int) -> None:
        self.maps[i].js(_GET_VIEW_JS, lambda v, i=i: v and self.moved(i, *v))

    def moved(self, i: int, lat: float, lng: float, zoom: float) -> None:
        """Map ``i`` shows (lat, lng, zoom) after a moveend: bring the other map there."""
        view = (float(lat), float(lng), float(zoom))
        self.views[i] = view
        self.reports[i] += 1
        j = 1 - i
        if same_view(self.views[j], view):
            return  # the echo of our own setView, or already in step
        self.views[j] = view  # what map j shows once it follows; its echo then stops here
        self.forwarded += 1
        set_view(self.maps[j], *view)
        self.followed.emit(j)

    def _ready(self, i: int) -> None:
        # A page that (re)loaded shows its own fitted view: bring it to the other's.
        other = self.views[1 - i]
        if other is not None:
            self.views[i] = other
            set_view(self.maps[i], *other)


class CompareView(QDialog):
    """Side-by-side metrics of two scenarios, their maps in step, and an export button."""

    compared = pyqtSignal()
    exported = pyqtSignal(dict)

    def __init__(self, controller, lang: str = "zh", parent: QWidget | None = None):
        super().__init__(parent)
        self.ctl = controller
        self.lang = lang
        self.setWindowTitle(_tr("Compare scenarios"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.setSizeGripEnabled(True)
        self.diff: dict | None = None  # the changes drawn over both maps (compare_diff)
        self.runner = JobRunner(self, supersede=False)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(lambda job, exc: self._error(str(exc)))
        self.runner.crashed.connect(lambda job, tb: self._error(tb.strip().splitlines()[-1]))
        self._tmp = tempfile.TemporaryDirectory(prefix="schoolplan-compare-")
        self._n = 0
        self.pair: tuple[str, str] | None = None
        self.comparison = None
        self.last_export: dict[str, Path] = {}
        self.last_error = ""

        self.combo_a, self.combo_b = QComboBox(), QComboBox()
        for combo in (self.combo_a, self.combo_b):
            combo.setMinimumWidth(140)
            combo.activated.connect(lambda *_: self._combo_changed())
        self.export_button = QPushButton(_tr("Export comparison..."))
        self.export_button.setToolTip(_tr("Write compare.xlsx and compare.html"))
        self.export_button.clicked.connect(self.export_dialog)
        self.export_button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(QLabel(_tr("Baseline:")))
        top.addWidget(self.combo_a)
        top.addSpacing(12)
        top.addWidget(QLabel(_tr("Compared with:")))
        top.addWidget(self.combo_b)
        top.addStretch(1)
        top.addWidget(self.export_button)

        self.table = QTableWidget(0, 5)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 5):
            head.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.note = QLabel()
        self.note.setWordWrap(True)
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.note)

        self.map_a, self.map_b = MapView(self), MapView(self)
        self.title_a, self.title_b = QLabel(), QLabel()
        maps = QWidget()
        grid = QHBoxLayout(maps)
        grid.setContentsMargins(0, 0, 0, 0)
        for title, view in ((self.title_a, self.map_a), (self.title_b, self.map_b)):
            col = QVBoxLayout()
            title.setStyleSheet("font-weight: bold;")
            col.addWidget(title)
            col.addWidget(view, 1)
            grid.addLayout(col, 1)
        self.sync = ViewSync(self.map_a, self.map_b, self)
        for view in (self.map_a, self.map_b):
            # The compare maps show plans, they don't edit them: no dragging schools here.
            view.bridge.ready.connect(lambda _info, v=view: v.js(_NO_DRAG_JS))
            view.bridge.ready.connect(lambda _info, v=view: self._show_diff(v))

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(maps)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([400, 900])
        split.setChildrenCollapsible(False)
        left.setMinimumWidth(260)
        self.status = QLabel()
        root = QVBoxLayout(self)
        root.addLayout(top)
        root.addWidget(split, 1)
        root.addWidget(self.status)
        self.fit_screen()

    # ----- choosing the pair ------------------------------------------------------------------
    def _fill_combos(self, a: str, b: str) -> None:
        names = [e.name for e in self.ctl.compare_entries() if e.result is not None]
        for combo, pick in ((self.combo_a, a), (self.combo_b, b)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            if pick in names:
                combo.setCurrentText(pick)
            combo.blockSignals(False)

    def _combo_changed(self) -> None:
        self.show_pair(self.combo_a.currentText(), self.combo_b.currentText())

    def show_pair(self, a: str, b: str) -> None:
        """Compare scenario ``a`` (baseline) with ``b`` and show both maps."""
        self._fill_combos(a, b)
        entries = {e.name: e for e in self.ctl.compare_entries()}
        missing = [n for n in (a, b) if n not in entries or entries[n].result is None]
        if missing:
            self._error(
                _tr("Scenario %1 has no plan yet: show it and run the plan first.").replace(
                    "%1", ", ".join(missing)
                )
            )
            return
        if a == b:
            self._error(_tr("Choose two different scenarios."))
            return
        self.last_error = ""
        self.pair = (a, b)
        self.comparison = None
        self.diff = None
        self.export_button.setEnabled(False)
        ea, eb = entries[a], entries[b]
        stale = [e.name for e in (ea, eb) if e.stale]
        note = ""
        if stale:
            note = _tr("Not up to date (rules or schools changed since the last run): %1").replace(
                "%1", ", ".join(stale)
            )
        self.note.setText(note)
        self.title_a.setText(_tr("Baseline: %1").replace("%1", a))
        self.title_b.setText(b)
        plans = [(a, ea.result), (b, eb.result)]
        self.status.setText(_tr("Comparing..."))

        lang = self.lang

        def work(progress):
            cmp = compare_plans(plans)
            return cmp, diff_layer(cmp, lang)

        self.runner.submit(Job("compare", work, tag=(a, b)))
        for view, (_name, result) in zip((self.map_a, self.map_b), plans):
            self._n += 1
            path = Path(self._tmp.name) / f"compare_{self._n}.html"
            lang = self.lang
            self.runner.submit(
                Job(
                    "map",
                    lambda p, r=result, path=path, lang=lang: write_map_html(r, path, lang),
                    tag=(view, (a, b)),
                )
            )

    def _finished(self, job: Job, value) -> None:
        if job.name == "compare" and job.tag == self.pair:
            cmp, self.diff = value
            self._show_table(cmp)
            self._show_diff()
        elif job.name == "map" and job.tag[1] == self.pair:
            view = job.tag[0]
            # MapView would restore its last view with a script whose value (the L.Map) hangs
            # the page (see _SET_VIEW_JS); ViewSync puts the shared view back once it is ready.
            view._view = None
            view.show_file(value)
        elif job.name == "export":
            self.last_export = {k: Path(v) for k, v in value.items()}
            self.status.setText(_tr("Comparison written to %1").replace("%1", str(job.tag)))
            self.exported.emit(self.last_export)

    def _error(self, text: str) -> None:
        self.last_error = text
        self.status.setText(text)
        self.status.setStyleSheet("color: #b00020;")

    def _show_diff(self, view: MapView | None = None) -> None:
        """Villages that change school and changed schools, over both maps (when ready)."""
        if self.diff is None:
            return
        for v in (view,) if view is not None else (self.map_a, self.map_b):
            if v.is_ready:
                v.js(f"{DIFF_JS}({json.dumps(self.diff)});")

    def fit_screen(self) -> None:
        """A size that fits the screen it opens on (a 1366×768 laptop included)."""
        screen = self.screen() or QApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        w, h = 1500, 920
        if avail is not None:
            w, h = min(w, int(avail.width() * 0.96)), min(h, int(avail.height() * 0.92))
        self.resize(w, h)

    # ----- the table ----------------------------------------------------------------------------
    def _show_table(self, cmp) -> None:
        self.comparison = cmp
        rows = metric_rows(cmp, self.lang)
        t = self.table
        t.clear()
        t.setColumnCount(3 + len(cmp.names))
        t.setHorizontalHeaderLabels([_tr("Metric"), _tr("Unit"), _tr("Better"), *cmp.names])
        t.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        for r, row in enumerate(rows):
            for c, text in enumerate((row["label"], row["unit"], row["better"])):
                item = QTableWidgetItem(text)
                if c == 2:
                    item.setForeground(QBrush(QColor("#777")))
                t.setItem(r, c, item)
            for k, value in enumerate(row["values"]):
                item = QTableWidgetItem(fmt(value, row["digits"]))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setData(VALUE_ROLE, value)
                best = k in row["best"]
                item.setData(BEST_ROLE, best)
                if best:
                    item.setBackground(QBrush(QColor(BEST_FILL)))
                    item.setForeground(QBrush(QColor(BEST_FONT)))
                    item.setFont(bold)
                    item.setToolTip(_tr("Best value of this row"))
                t.setItem(r, 3 + k, item)
        head = t.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, t.columnCount()):
            head.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        label = "label_zh" if self.lang != "en" else "label_en"
        diffs = [
            f"{r[label]}: " + " / ".join(str(r[n]) for n in cmp.names)
            for _, r in cmp.rules.iterrows()
        ]
        parts = [_tr("Green bold: the best value of the row.")]
        if diffs:
            parts.append(_tr("Rules that differ:") + " " + "; ".join(diffs))
        if self.note.text():
            parts.append(self.note.text())
        self.note.setText("\n".join(parts))
        self.status.setStyleSheet("")
        self.status.setText(
            _tr("%1 compared with %2 (baseline)")
            .replace("%1", cmp.names[1])
            .replace("%2", cmp.names[0])
        )
        self.export_button.setEnabled(True)
        self.compared.emit()

    # ----- export -------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, _tr("Export comparison to folder"))
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: str | Path) -> None:
        """compare.xlsx and compare.html of the shown comparison (the CLI's writers)."""
        if self.comparison is None:
            return
        cmp, lang, folder = self.comparison, self.lang, Path(folder)
        entries = {e.name: e for e in self.ctl.compare_entries()}
        sources = []
        for name in cmp.names:
            e = entries.get(name)
            sc = e.scenario if e is not None else None
            sources.append(
                {
                    "name": name,
                    "kind": "scenario",
                    "path": str(e.folder) if e is not None else "",
                    "created": getattr(sc, "modified", "") or "",
                }
            )

        def work(progress):
            folder.mkdir(parents=True, exist_ok=True)
            progress.update(0.1, _tr("Writing compare.xlsx..."))
            xlsx = write_compare_xlsx(cmp, folder / "compare.xlsx", lang=lang, sources=sources)
            progress.update(0.4, _tr("Writing compare.html..."))
            page = write_compare_html(cmp, folder / "compare.html", lang=lang, sources=sources)
            return {"xlsx": xlsx, "html": page}

        self.status.setText(_tr("Writing the comparison..."))
        self.runner.submit(Job("export", work, tag=folder))

    # ----- screenshot and closing ---------------------------------------------------------------
    def screenshot(self):
        """The dialog as a pixmap, maps included (their GPU-drawn pages are not in a plain grab)."""
        pix = self.grab()
        painter = QPainter(pix)
        for view in (self.map_a, self.map_b):
            painter.drawPixmap(view.mapTo(self, QPoint(0, 0)), view.grab())
        painter.end()
        return pix

    def is_busy(self) -> bool:
        return self.runner.busy

    def closeEvent(self, event) -> None:  # noqa: N802
        self.runner.cancel()
        self.runner.wait(60000)
        super().closeEvent(event)


_NO_DRAG_JS = """
(function () {
  var sp = window.schoolplan;
  if (!sp) return;
  // The scenario's name is above each map already: the map's own title box would hide half of it.
  document.querySelectorAll(".sp-title").forEach(function (el) { el.style.display = "none"; });
  Object.keys(sp.markers).forEach(function (k) {
    var m = sp.markers[k];
    if (m.dragging) m.dragging.disable();
    m.off("dragend");
  });
})();
"""
