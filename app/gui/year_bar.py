"""The year bar: plan the project for a year from the base year to the horizon (issue 19).

A slider from the rules' base year to the horizon; its leftmost stop is the data as it is (rules
``[projection] plan_year`` 0), every other stop plans with that year's projected children and
class sizes and adds the phased schedule (``planning.pipeline.for_plan_year``). Dragging chooses
a year when the handle is released and keys after a short pause, so a sweep across the years
starts one plan, not twelve.

The window adds it to a toolbar, ``toolbar.addWidget(YearBar(doc, lang, replan=jobs.run))``: a
chosen year becomes the document's rules (every stage stale, as for any rules edit, and undoable
like one if the window records rules edits) and ``replan`` starts the plan.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from app.gui.document import PlanDocument
from planning.projection.params import ProjectionParams
from planning.rules import Rules

PAUSE_MS = 350  # keys held down or clicked in a row choose one year, after this pause
WORDS = {
    "zh": {"title": "规划年份", "data": "现状({year})", "year": "{year}年", "tip": (
        "按所选年份预测的学龄人口和班额重新规划(建标109-2008 近期/远期),并编制分期实施;"
        "最左为数据现状"
    )},
    "en": {"title": "Plan year", "data": "data ({year})", "year": "{year}", "tip": (
        "re-plan with the chosen year's projected children and class sizes (建标109-2008 near/"
        "long term) and the phased schedule; leftmost: the data as it is"
    )},
}  # fmt: skip


class YearBar(QWidget):
    """A slider choosing the plan year; ``yearChosen`` carries it (0 = the data as it is)."""

    yearChosen = pyqtSignal(int)

    def __init__(
        self,
        doc: PlanDocument | None = None,
        lang: str = "zh",
        *,
        replan: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.doc, self.replan = doc, replan
        self.words = WORDS["en" if lang == "en" else "zh"]
        self.setObjectName("year_bar")
        self.setToolTip(self.words["tip"])
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("year_slider")
        self.slider.setTracking(False)  # a drag chooses on release
        self.slider.setPageStep(5)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(5)
        self.slider.setMinimumWidth(180)
        self.label = QLabel()
        self.label.setMinimumWidth(72)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(QLabel(self.words["title"]))
        layout.addWidget(self.slider)
        layout.addWidget(self.label)
        self.pause = QTimer(self)
        self.pause.setSingleShot(True)
        self.pause.setInterval(PAUSE_MS)
        self.pause.timeout.connect(self._choose)
        self.slider.valueChanged.connect(self._moved)
        self.slider.sliderMoved.connect(self._show)  # the label follows the handle while dragging
        self._chosen = 0
        self.sync(ProjectionParams() if doc is None else doc.rules.projection)
        if doc is not None:
            doc.rulesChanged.connect(lambda: self.sync(doc.rules.projection))
            self.yearChosen.connect(self._apply)

    # ---- state ------------------------------------------------------------------------------
    def sync(self, params: ProjectionParams) -> None:
        """Range and position from the rules (a rules file opened, the form edited)."""
        self.slider.blockSignals(True)
        self.slider.setRange(params.base_year, params.horizon)
        self.slider.setValue(params.plan_year or params.base_year)
        self.slider.blockSignals(False)
        self._chosen = self.year()
        self._show(self.slider.value())

    def year(self) -> int:
        """The plan year shown: 0 at the leftmost stop (the data as it is)."""
        value = self.slider.value()
        return 0 if value == self.slider.minimum() else value

    def set_year(self, year: int) -> None:
        """Move the handle as a planner would (0 = the data); chosen after the pause."""
        self.slider.setValue(year or self.slider.minimum())

    def rules_for(self, rules: Rules) -> Rules:
        """``rules`` planning for the year shown."""
        return rules.with_values({"projection": {"plan_year": self.year()}}, where="year bar")

    # ---- events -----------------------------------------------------------------------------
    def _show(self, value: int) -> None:
        data = value == self.slider.minimum()
        self.label.setText(self.words["data" if data else "year"].format(year=value))

    def _moved(self, value: int) -> None:
        self._show(value)
        self.pause.start()

    def _choose(self) -> None:
        year = self.year()
        if year != self._chosen:
            self._chosen = year
            self.yearChosen.emit(year)

    def _apply(self, year: int) -> None:
        doc = self.doc
        if doc is None or doc.layers is None or doc.rules.projection.plan_year == year:
            return
        doc.set_rules(self.rules_for(doc.rules))
        if self.replan is not None:
            self.replan()
