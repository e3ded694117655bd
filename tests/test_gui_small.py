"""The smaller items of issue 18, each on its own (pytest-qt, offscreen)."""

from __future__ import annotations

import pytest

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]


def _wheel(widget, steps: int = -1) -> None:
    from PyQt6.QtCore import QPoint, QPointF, Qt
    from PyQt6.QtGui import QWheelEvent
    from PyQt6.QtWidgets import QApplication

    pos = QPointF(widget.rect().center())
    event = QWheelEvent(
        pos,
        QPointF(widget.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_wheel_over_the_rules_form_changes_no_value_unless_focused(qtbot):
    from PyQt6.QtWidgets import QComboBox, QSpinBox

    from app.gui.rules_form import RulesForm

    form = RulesForm("zh")
    qtbot.addWidget(form)
    form.show()
    spin = next(e for _, e in form.editors.values() if isinstance(e, QSpinBox) and e.value() > 2)
    combo = next(e for _, e in form.editors.values() if isinstance(e, QComboBox))
    page = spin.parentWidget()
    page.parentWidget().parentWidget().ensureWidgetVisible(spin)  # the scroll area
    value, index = spin.value(), combo.currentIndex()
    for _ in range(3):
        _wheel(spin)
        _wheel(combo, 1)
    assert spin.value() == value and combo.currentIndex() == index and not form.changes()
    # clicked into (focused), the wheel does change it
    form.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=5000)
    _wheel(spin)
    assert spin.value() == value - spin.singleStep()


def test_rule_choices_show_labels_and_store_codes(qtbot):
    from PyQt6.QtWidgets import QComboBox

    from app.gui.rules_form import CodeList, RulesForm
    from core.vocab import MODE, PATTERN
    from planning.rules import Rules

    form = RulesForm("zh")
    qtbot.addWidget(form)
    rules = Rules()
    form.set_rules(rules, rules)
    _, mode = form.editors[("groups", "mode_central_rural")]
    assert isinstance(mode, QComboBox)
    assert [mode.itemText(i) for i in range(mode.count())] == [
        MODE.label(c, "zh") for c in MODE.codes
    ]
    assert mode.currentText() == MODE.label(rules.groups.mode_central_rural, "zh")
    assert form.value("groups", "mode_central_rural") == rules.groups.mode_central_rural
    form.set_value("groups", "mode_central_rural", "bundled")
    assert form.changes() == {"groups": {"mode_central_rural": "bundled"}}
    _, order = form.editors[("groups", "pattern_priority")]
    assert isinstance(order, CodeList)
    assert order.codes() == rules.groups.pattern_priority
    shown = [order.item(i).text() for i in range(order.count())]
    assert shown == [PATTERN.label(c, "zh") for c in rules.groups.pattern_priority.split(",")]
    for _, editor in form.editors.values():
        if isinstance(editor, QComboBox):
            for i in range(editor.count()):
                assert editor.itemText(i) != editor.itemData(i) or not editor.itemText(i).isascii()
