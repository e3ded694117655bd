"""The check report (what ``schoolplan check`` prints) as a table; a click zooms the map."""

from __future__ import annotations

from PyQt6.QtCore import QCoreApplication, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.vocab import SEVERITY

SEVERITY_ORDER = {code: i for i, code in enumerate(SEVERITY.codes)}
SEVERITY_COLOR = {"error": "#c62828", "warning": "#ef6c00", "info": "#546e7a"}


def _tr(text: str) -> str:
    return QCoreApplication.translate("check_panel", text)


class CheckPanel(QWidget):
    """Rows of problems: severity, file, layer, row, problem, fix. ``problemActivated`` → Problem."""

    problemActivated = pyqtSignal(object)

    def __init__(self, lang: str = "zh", parent=None):
        super().__init__(parent)
        self.lang = lang
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel()
        self.summary.setContentsMargins(6, 3, 6, 3)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(
            [_tr("Severity"), _tr("File"), _tr("Layer"), _tr("Row"), _tr("Problem"), _tr("Fix")]
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.cellClicked.connect(self._clicked)
        layout.addWidget(self.table, 1)
        self.problems: list = []

    def set_report(self, report) -> None:
        problems = list(report.problems) if report is not None else []
        problems.sort(
            key=lambda p: (SEVERITY_ORDER.get(p.severity, 3), p.file, p.layer, p.row or 0)
        )
        self.problems = problems
        self.table.setRowCount(len(problems))
        for i, p in enumerate(problems):
            cells = [SEVERITY.label(p.severity, self.lang), p.file, p.layer,
                     "" if p.row is None else str(p.row), p.problem, p.fix]  # fmt: skip
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(str(p))
                if j == 0:
                    item.setForeground(QBrush(QColor(SEVERITY_COLOR.get(p.severity, "#000"))))
                if j == 3:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        if report is None:
            self.summary.setText("")
            return
        errors = sum(p.severity == "error" for p in problems)
        warnings = sum(p.severity == "warning" for p in problems)
        verdict = _tr("usable") if errors == 0 else _tr("not usable")
        counts = ", ".join(f"{k} {v}" for k, v in (report.counts or {}).items())
        self.summary.setText(
            _tr("%1 errors, %2 warnings: the data is %3.")
            .replace("%1", str(errors))
            .replace("%2", str(warnings))
            .replace("%3", verdict)
            + (f"  ({counts})" if counts else "")
        )

    def _clicked(self, row: int, _col: int) -> None:
        if 0 <= row < len(self.problems):
            self.problemActivated.emit(self.problems[row])


def locate_problem(layers, problem):
    """The geometry a problem refers to (by source layer and data row), or None."""
    if layers is None or problem.row is None:
        return None
    frames = {"schools": layers.schools, "population": layers.units,
              "candidates": layers.candidates}  # fmt: skip
    for key, src in layers.sources.items():
        if key not in frames or frames[key] is None:
            continue
        if problem.layer not in (key, src.layer or key) or (
            problem.file and problem.file != src.file.name
        ):
            continue
        gdf = frames[key]
        hit = gdf[gdf["src_row"] == problem.row]
        if len(hit):
            geom = hit.geometry.iloc[0]
            return geom if geom.geom_type == "Point" else geom.representative_point()
    return None
