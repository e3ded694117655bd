"""Map a file's columns to SchoolPlan's fields when they are not recognised automatically."""

from __future__ import annotations

from pathlib import Path

import pyogrio
from PyQt6.QtCore import QCoreApplication
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from geo.columns import COLUMNS, REQUIRED, VALUE_TABLES, match_column
from geo.layers import LAYER_ZH, LayerSource
from geo.read import list_layers, table_headings

_NONE = "—"


def _tr(text: str) -> str:
    return QCoreApplication.translate("column_mapping", text)


def file_headings(path: Path, layer: str | None = None, kind: str | None = None) -> list[str]:
    """Column headings of a vector file or table (no geometry column).

    Without ``layer``, a file of several layers gives the headings of the layer the reader will
    use for ``kind`` (named like it, as ``geo.read`` picks it), not of its first layer.
    """
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".xlsx", ".xls"):
        # The reader's own rule, so a title row above the headings is skipped here too.
        return table_headings(LayerSource(key=kind or "schools", file=path))
    if layer is None and kind is not None:
        names = list_layers(path)
        if len(names) > 1:
            named = [n for n in names if n.lower() in (kind, LAYER_ZH.get(kind, ""))]
            if not named:
                # The reader refuses to guess here and names the layers in its message.
                raise ValueError(f"{path.name} holds {len(names)} layers: {', '.join(names)}")
            layer = named[0]
    info = pyogrio.read_info(path, layer=layer)
    return [str(c) for c in info["fields"]]


def auto_mapping(kind: str, headings: list[str]) -> dict[str, str]:
    out = {}
    for canonical in COLUMNS[kind]:
        found = match_column(kind, canonical, headings)
        if found:
            out[canonical] = found
    return out


def missing_required(kind: str, headings: list[str]) -> list[str]:
    found = auto_mapping(kind, headings)
    return [c for c in REQUIRED[kind] if c not in found]


class ColumnMappingDialog(QDialog):
    """One combo box per field of the layer, prefilled with the recognised heading."""

    def __init__(self, kind: str, headings: list[str], file_name: str = "", parent=None):
        super().__init__(parent)
        self.kind = kind
        self.setWindowTitle(_tr("Match columns"))
        layout = QVBoxLayout(self)
        intro = QLabel(
            _tr(
                "Choose which column of %1 holds each field. Fields marked * are required."
            ).replace("%1", file_name or _tr("the file"))
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.boxes: dict[str, QComboBox] = {}
        found = auto_mapping(kind, headings)
        for canonical in COLUMNS[kind]:
            box = QComboBox()
            box.addItems([_NONE, *headings])
            if canonical in found:
                box.setCurrentText(found[canonical])
            star = " *" if canonical in REQUIRED[kind] else ""
            form.addRow(canonical + star, box)
            self.boxes[canonical] = box
        layout.addLayout(form)
        self._add_values_and_where(layout)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        layout.addWidget(buttons)
        # OK only once every required field has a column: the loader would refuse the layer.
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        for box in self.boxes.values():
            box.currentTextChanged.connect(self._update_ok)
        self._update_ok()

    def _add_values_and_where(self, layout: QVBoxLayout) -> None:
        """[layers.X.values] (the data's word -> ours, per coded field) and where = "…"."""
        fields = [c for (k, c) in VALUE_TABLES if k == self.kind]
        layout.addWidget(QLabel(_tr("Values in your words (field, your value, our value):")))
        self.values_table = QTableWidget(4, 3)
        self.values_table.setHorizontalHeaderLabels([_tr("Field"), _tr("Your value"), _tr("Means")])
        self.values_table.setToolTip(
            _tr("Fields: %1; e.g. quality, grade A, core").replace("%1", ", ".join(fields))
        )
        layout.addWidget(self.values_table)
        self.where_edit = QLineEdit()
        self.where_edit.setPlaceholderText(
            _tr("Keep rows where, e.g. level == 'primary' and population > 0")
        )
        layout.addWidget(self.where_edit)

    def values(self) -> dict[str, dict[str, str]]:
        """field -> {value in the data -> our value}, for LayerSource.values."""
        out: dict[str, dict[str, str]] = {}
        t = self.values_table
        for r in range(t.rowCount()):
            cells = [t.item(r, c).text().strip() if t.item(r, c) else "" for c in range(3)]
            if all(cells):
                out.setdefault(cells[0], {})[cells[1]] = cells[2]
        return out

    def set_value(self, row: int, field: str, theirs: str, ours: str) -> None:
        for c, text in enumerate((field, theirs, ours)):
            self.values_table.setItem(row, c, QTableWidgetItem(text))

    def where(self) -> str | None:
        return self.where_edit.text().strip() or None

    def _update_ok(self) -> None:
        missing = self.missing()
        self.ok_button.setEnabled(not missing)
        self.hint.setText(
            _tr("Still to choose: %1").replace("%1", ", ".join(missing)) if missing else ""
        )

    def mapping(self) -> dict[str, str]:
        """canonical field -> heading, for LayerSource.columns."""
        return {c: b.currentText() for c, b in self.boxes.items() if b.currentText() != _NONE}

    def missing(self) -> list[str]:
        m = self.mapping()
        return [c for c in REQUIRED[self.kind] if c not in m]
