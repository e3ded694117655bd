"""The window's year bar (app/gui/year_bar.py): the slider chooses a year, the document's rules
follow and the plan is made again for that year (issue 19)."""

from __future__ import annotations

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import Qt  # noqa: E402

from app.gui.document import PlanDocument  # noqa: E402
from app.gui.year_bar import YearBar  # noqa: E402
from planning.pipeline import run_plan  # noqa: E402

pytestmark = [pytest.mark.gui]


@pytest.fixture
def doc(sample_layers):
    layers, rules, report = sample_layers
    d = PlanDocument()
    d.set_project(layers, rules, report, name="道县")
    return d


def test_the_slider_replans_for_the_chosen_year(qtbot, doc):
    plans = []

    def replan():
        result = run_plan(doc.layers, doc.rules)
        doc.set_result(result, {"new_schools", "groups", "catchments"})
        plans.append(result)

    bar = YearBar(doc, "zh", replan=replan)
    qtbot.addWidget(bar)
    p = doc.rules.projection
    assert (bar.slider.minimum(), bar.slider.maximum()) == (p.base_year, p.horizon)
    assert bar.year() == 0 and bar.label.text() == f"现状({p.base_year})"
    # Keys pressed in a row choose one year, after the pause: one plan, not six.
    bar.slider.setFocus()
    with qtbot.waitSignal(bar.yearChosen, timeout=3000) as chosen:
        for _ in range(6):
            qtbot.keyClick(bar.slider, Qt.Key.Key_Right)
    assert chosen.args == [p.base_year + 6] and len(plans) == 1
    assert doc.rules.projection.plan_year == p.base_year + 6
    assert bar.label.text() == f"{p.base_year + 6}年"
    result = plans[-1]
    assert result.rules.projection.plan_year == p.base_year + 6 and result.schedule is not None
    assert result.rules.standards.class_size_primary == 45  # 建标109-2008, near term
    # Back to the leftmost stop: the data as it is, no schedule.
    with qtbot.waitSignal(bar.yearChosen, timeout=3000) as chosen:
        bar.set_year(0)
    assert chosen.args == [0] and doc.rules.projection.plan_year == 0
    assert plans[-1].schedule is None and len(plans) == 2
    assert not doc.stale


def test_the_bar_follows_rules_set_elsewhere(qtbot, doc):
    bar = YearBar(doc, "en")
    qtbot.addWidget(bar)
    doc.set_rules(doc.rules.with_values({"projection": {"horizon": 2033, "plan_year": 2031}}))
    assert bar.slider.maximum() == 2033 and bar.year() == 2031 and bar.label.text() == "2031"
    assert doc.stale == {"new_schools", "groups", "catchments"}
    with qtbot.assertNotEmitted(bar.yearChosen, wait=500):
        bar.sync(doc.rules.projection)
