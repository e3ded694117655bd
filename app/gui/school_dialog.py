"""Edit one school's attributes (level, classes, pupils, places, quality, status)."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QCoreApplication
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
)

from core.vocab import LEVEL, LEVELS, QUALITY, STATUS


def _tr(text: str) -> str:
    return QCoreApplication.translate("school_dialog", text)


class SchoolDialog(QDialog):
    def __init__(self, school_id: str, values: dict[str, Any], lang: str = "zh", parent=None):
        super().__init__(parent)
        self.setWindowTitle(_tr("School %1").replace("%1", school_id))
        form = QFormLayout(self)
        self.name = QLineEdit(str(values.get("name", "")))
        self.level = QComboBox()
        for lv in LEVELS:
            self.level.addItem(LEVEL.label(lv, lang), lv)
        self.level.setCurrentIndex(LEVELS.index(values.get("level", "primary")))
        self.classes, self.students, self.capacity = QSpinBox(), QSpinBox(), QSpinBox()
        for box, col in (
            (self.classes, "classes"),
            (self.students, "students"),
            (self.capacity, "capacity"),
        ):
            box.setRange(0, 100000)
            box.setGroupSeparatorShown(True)
            v = values.get(col, 0)
            box.setValue(0 if v is None or v != v else int(v))
        self.quality = QComboBox()
        for code in QUALITY.codes:
            self.quality.addItem(QUALITY.label(code, lang), code)
        self.quality.setCurrentIndex(
            max(0, self.quality.findData(values.get("quality", "ordinary")))
        )
        self.status = QComboBox()
        for code in STATUS.codes:
            self.status.addItem(STATUS.label(code, lang), code)
        self.status.setCurrentIndex(max(0, self.status.findData(values.get("status", "existing"))))
        form.addRow(_tr("Name"), self.name)
        form.addRow(_tr("Level"), self.level)
        form.addRow(_tr("Classes"), self.classes)
        form.addRow(_tr("Pupils"), self.students)
        form.addRow(_tr("Places"), self.capacity)
        form.addRow(_tr("Quality"), self.quality)
        form.addRow(_tr("Status"), self.status)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text().strip(),
            "level": self.level.currentData(),
            "classes": self.classes.value(),
            "students": self.students.value(),
            "capacity": self.capacity.value(),
            "quality": self.quality.currentData(),
            "status": self.status.currentData(),
        }
