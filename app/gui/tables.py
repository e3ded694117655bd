"""Result tables (schools, groups, new schools, catchments) linked with the map by selection."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from PyQt6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QItemSelectionModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    pyqtSignal,
)
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QAbstractItemView, QHeaderView, QLineEdit, QTableView, QTabWidget

from core.vocab import (
    CANDIDATE_ORIGIN,
    GROUP_ROLE,
    LAYOUT_STATUS,
    LEVEL,
    MODE,
    NEW_SCHOOL_SITE_KIND,
    PATTERN,
    QUALITY,
    ROAD_CLASS,
    STATUS,
    Vocab,
)

SchoolKey = tuple[str, str]
_ROOT = QModelIndex()


def _tr(text: str) -> str:
    return QCoreApplication.translate("tables", text)


# The vocabulary of each coded column (``core`` is a quality and a group role).
CODED_COLUMNS: dict[str, Vocab] = {
    "level": LEVEL,
    "quality": QUALITY,
    "group_role": GROUP_ROLE,
    "status": STATUS,
    "layout_status": LAYOUT_STATUS,
    "pattern": PATTERN,
    "mode": MODE,
    "site": NEW_SCHOOL_SITE_KIND,
    "origin": CANDIDATE_ORIGIN,
    "road_class": ROAD_CLASS,
}


def value_labels(lang: str) -> dict[str, dict[str, str]]:
    """Display names of coded values, per column, from ``core.vocab``."""
    return {col: vocab.labels(lang) for col, vocab in CODED_COLUMNS.items()}


def table_columns() -> dict[str, list[tuple[str, str]]]:
    """(column, header) per table, in display order."""
    return {
        "schools": [
            ("school_id", _tr("ID")),
            ("name", _tr("Name")),
            ("level", _tr("Level")),
            ("classes", _tr("Classes")),
            ("students", _tr("Pupils")),
            ("capacity", _tr("Places")),
            ("quality", _tr("Quality")),
            ("status", _tr("Status")),
            ("layout_status", _tr("Layout")),
            ("group_id", _tr("Group")),
            ("group_role", _tr("Role")),
        ],
        "groups": [
            ("group_id", _tr("Group")),
            ("level", _tr("Level")),
            ("core_id", _tr("Core school")),
            ("member_ids", _tr("Members")),
            ("n_members", _tr("Members (n)")),
            ("pattern", _tr("Pattern")),
            ("mode", _tr("Mode")),
            ("max_distance_km", _tr("Farthest (km)")),
        ],
        "new_schools": [
            ("school_id", _tr("ID")),
            ("name", _tr("Name")),
            ("level", _tr("Level")),
            ("classes", _tr("Classes")),
            ("capacity", _tr("Places")),
            ("unit_id", _tr("Unit")),
            ("rule", _tr("Rule")),
        ],
        "catchments": [
            ("school_id", _tr("School")),
            ("level", _tr("Level")),
            ("students", _tr("Pupils")),
            ("capacity", _tr("Places")),
            ("utilization", _tr("Use")),
            ("mean_distance_km", _tr("Mean (km)")),
            ("max_distance_km", _tr("Farthest (km)")),
            ("oversized", _tr("Over capacity")),
        ],
    }


def fmt_value(col: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return _tr("yes") if value else ""
    if isinstance(value, str) and value in ("True", "False"):  # a flag read back as text
        return _tr("yes") if value == "True" else ""
    if col == "utilization":
        return f"{float(value):.0%}"
    if isinstance(value, float):
        return f"{value:,.1f}" if not value.is_integer() or col.endswith("_km") else f"{value:,.0f}"
    if isinstance(value, int) or type(value).__name__.startswith("int"):
        return f"{int(value):,}"
    return str(value)


class FrameModel(QAbstractTableModel):
    """A read-only view of a DataFrame's chosen columns; sorts on raw values."""

    def __init__(self, columns: list[tuple[str, str]], lang: str = "zh", parent=None):
        super().__init__(parent)
        self.columns = columns
        self.frame = pd.DataFrame()
        self.labels = value_labels(lang)
        self.id_names: dict[str, str] = {}  # school id -> name, for the groups' id columns

    def set_frame(self, frame: pd.DataFrame | None, names: dict[str, str] | None = None) -> None:
        self.beginResetModel()
        frame = pd.DataFrame() if frame is None else pd.DataFrame(frame).reset_index(drop=True)
        if names and "school_id" in frame and "name" not in frame:
            frame = frame.assign(name=frame["school_id"].astype(str).map(names))
        self.frame = frame
        self.id_names = names or {}
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.frame)

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def raw(self, row: int, col: str):
        return self.frame[col].iloc[row] if col in self.frame else None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        col = self.columns[index.column()][0]
        value = self.raw(index.row(), col)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == "core_id" and self.id_names:
                return self.id_names.get(str(value), str(value))
            if col == "member_ids" and self.id_names:
                ids = [m.strip() for m in str(value).split(",") if m.strip()]
                return "、".join(self.id_names.get(m, m) for m in ids)
            text = fmt_value(col, value)
            return self.labels.get(col, {}).get(text, text) if isinstance(value, str) else text
        if role == Qt.ItemDataRole.UserRole:  # sort key
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return -math.inf
            return value.item() if hasattr(value, "item") else value
        if role == Qt.ItemDataRole.TextAlignmentRole and not isinstance(value, str):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col == "utilization":
            if value is not None and not pd.isna(value) and float(value) > 1.0:
                return QColor("#c62828")
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section][1]
        return None

    def keys(self, row: int) -> list[SchoolKey]:
        """The schools a row stands for (a group row: its core and members)."""
        f = self.frame
        if "core_id" in f:
            level = str(f["level"].iloc[row])
            ids = [str(f["core_id"].iloc[row])]
            ids += [m.strip() for m in str(f["member_ids"].iloc[row]).split(",") if m.strip()]
            return [(i, level) for i in ids]
        if "school_id" in f and "level" in f:
            return [(str(f["school_id"].iloc[row]), str(f["level"].iloc[row]))]
        return []

    def find(self, key: SchoolKey) -> int:
        f = self.frame
        if "school_id" not in f or "level" not in f:
            return -1
        hit = (f["school_id"].astype(str) == key[0]) & (f["level"].astype(str) == key[1])
        rows = hit.to_numpy().nonzero()[0]
        return int(rows[0]) if len(rows) else -1


class TablesPanel(QTabWidget):
    """Four linked tables; ``selected`` carries the schools of the selected row."""

    selected = pyqtSignal(list)

    def __init__(self, lang: str = "zh", parent=None):
        super().__init__(parent)
        self.models: dict[str, FrameModel] = {}
        self.views: dict[str, QTableView] = {}
        titles = {
            "schools": _tr("Schools"),
            "groups": _tr("Groups"),
            "new_schools": _tr("New schools"),
            "catchments": _tr("Catchments"),
        }
        self._quiet = False
        self._sized: set[str] = set()
        self.proxies: dict[str, QSortFilterProxyModel] = {}
        # One filter for every table: rows holding the text in any column (words as shown).
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(_tr("Filter rows..."))
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(220)
        self.filter.textChanged.connect(self.set_filter)
        self.setCornerWidget(self.filter, Qt.Corner.TopRightCorner)
        for name, cols in table_columns().items():
            model = FrameModel(cols, lang, self)
            proxy = QSortFilterProxyModel(self)
            proxy.setSourceModel(model)
            proxy.setSortRole(Qt.ItemDataRole.UserRole)
            proxy.setFilterKeyColumn(-1)
            proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            self.proxies[name] = proxy
            view = QTableView()
            view.setObjectName(f"table_{name}")
            view.setModel(proxy)
            view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            view.setSortingEnabled(True)  # starts in data order: level, then school id
            view.setAlternatingRowColors(True)
            view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            view.verticalHeader().setDefaultSectionSize(22)
            view.verticalHeader().hide()
            view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            view.horizontalHeader().setStretchLastSection(False)
            view.horizontalHeader().setResizeContentsPrecision(50)  # widths from 50 rows
            view.selectionModel().selectionChanged.connect(lambda *_, n=name: self._on_selection(n))
            self.models[name], self.views[name] = model, view
            self.addTab(view, titles[name])

    def set_data(self, layers, result) -> None:
        schools = result.schools if result is not None and len(result.schools) else None
        if schools is None and layers is not None:
            schools = layers.schools
        names = (
            {str(a): str(b) for a, b in zip(schools["school_id"], schools["name"])}
            if schools is not None
            else {}
        )
        empty = result is None or result.status == "empty"
        frames = {
            "schools": schools,
            "groups": None if empty else result.groups,
            "new_schools": None if empty else result.new_schools,
            "catchments": None if empty else result.catchments,
        }
        for name, frame in frames.items():
            if frame is not None and "geometry" in frame:
                frame = pd.DataFrame(frame.drop(columns="geometry"))
            self.models[name].set_frame(frame, names if name in ("catchments", "groups") else None)
            if name in self._sized or self.models[name].rowCount() == 0:
                continue
            # Sized once, on the first rows (a re-plan after each edit keeps the widths: measuring
            # every cell of four tables took longer than the re-plan itself).
            self._sized.add(name)
            view = self.views[name]
            view.resizeColumnsToContents()
            cols = [c for c, _ in self.models[name].columns]
            wide = next((c for c in ("name", "member_ids", "rule") if c in cols), cols[-1])
            view.horizontalHeader().setSectionResizeMode(
                cols.index(wide), QHeaderView.ResizeMode.Stretch
            )

    def set_filter(self, text: str) -> None:
        for proxy in self.proxies.values():
            proxy.setFilterFixedString(text.strip())

    def _on_selection(self, name: str) -> None:
        if self._quiet:
            return
        view = self.views[name]
        rows = view.selectionModel().selectedRows()
        if not rows:
            return
        src = view.model().mapToSource(rows[0]).row()
        self.selected.emit(self.models[name].keys(src))

    def select_school(self, key: SchoolKey) -> bool:
        """Select a school's row in the schools table (from a map click) without echoing back."""
        row = self.models["schools"].find(key)
        if row < 0:
            return False
        view = self.views["schools"]
        proxy_index = view.model().mapFromSource(self.models["schools"].index(row, 0))
        self._quiet = True
        try:
            self.setCurrentWidget(view)
            view.selectionModel().select(
                proxy_index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            view.scrollTo(proxy_index)
        finally:
            self._quiet = False
        return True

    def selected_key(self) -> SchoolKey | None:
        view = self.views["schools"]
        rows = view.selectionModel().selectedRows()
        if not rows:
            return None
        keys = self.models["schools"].keys(view.model().mapToSource(rows[0]).row())
        return keys[0] if keys else None
