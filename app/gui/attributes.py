"""Attribute tables (one dock per layer) and identify (what is under a click), in the planner's
language: fields under the aliases the QGIS styles use, coded values through ``core.vocab``.

The data are the document's input layers and its last result; the map page only says where the
planner clicked, and the feature is found here, in the project's metric CRS.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from PyQt6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    pyqtSignal,
)
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shapely.geometry import Point

from app.export.styles import FIELD_LABELS, VALUE_MAPS
from app.gui.tables import CODED_COLUMNS, fmt_value
from core.vocab import CANDIDATE_LEVEL, UNIT_KIND

_ROOT = QModelIndex()
# Columns the export aliases do not name (the input layers' own).
_EXTRA_LABELS: dict[str, tuple[str, str]] = {
    "unit_id": ("单元编号", "Unit id"),
    "candidate_id": ("候选点编号", "Candidate id"),
    "road_class": ("道路等级", "Road class"),
    "highway": ("道路等级", "Road class"),
    "speed_kmh": ("车速(公里/时)", "Speed (km/h)"),
    "length_m": ("长度(米)", "Length (m)"),
    "area_km2": ("面积(平方公里)", "Area (km²)"),
    "note": ("备注", "Note"),
    "source": ("来源", "Source"),
    "kind": ("单元类型", "Unit kind"),
    "origin": ("来源", "Origin"),
}
# Bookkeeping of the data check (the source file's row), not an attribute of the feature.
_INTERNAL = {"src_row"}


def _tr(text: str) -> str:
    return QCoreApplication.translate("attributes", text)


def data_layers() -> dict[str, str]:
    """The layers with an attribute table: key -> display name, in menu order."""
    return {
        "schools": _tr("Schools"),
        "units": _tr("Population units"),
        "candidates": _tr("Candidate sites"),
        "roads": _tr("Roads"),
        "boundary": _tr("County boundary"),
        "catchments": _tr("Catchment zones"),
        "groups": _tr("Education groups"),
        "new_schools": _tr("New schools"),
        "demand": _tr("Demand points"),
    }


def layers_of_map_key(key: str) -> list[str]:
    """The data layers behind a layer of the map page (``schools_primary``, ``zones_util_junior``,
    ``links_senior``, ``unserved_primary``, ``villages``, ...)."""
    head = key.split("_", 1)[0]
    return {
        "schools": ["schools", "new_schools"],
        "zones": ["catchments"],
        "links": ["groups"],
        "unserved": ["demand"],
        "villages": ["units"],
        "towns": ["units"],
        "roads": ["roads"],
        "candidates": ["candidates"],
    }.get(head, [])


def hidden_data_layers(listed: list[dict], hidden=()) -> set[str]:
    """Data layers none of whose map layers is shown (identify leaves them out); ``listed`` as
    ``MapView.listed_layers`` gives them, ``hidden`` the keys switched off."""
    shown, behind = set(), set()
    for layer in listed:
        data = layers_of_map_key(layer["key"])
        behind.update(data)
        if layer.get("visible", True) and layer["key"] not in hidden:
            shown.update(data)
    return behind - shown


def layer_frame(doc, key: str) -> gpd.GeoDataFrame | None:
    """The layer ``key`` of the document: the plan's when there is one, else the input's."""
    result, layers = doc.result, doc.layers
    if key in ("catchments", "groups", "new_schools", "demand"):
        return getattr(result, key, None) if result is not None else None
    if key == "schools" and result is not None:
        return result.schools
    if key == "roads" and result is not None and result.roads is not None:
        return result.roads
    return getattr(layers, key, None) if layers is not None else None


def field_label(col: str, lang: str) -> str:
    pair = FIELD_LABELS.get(col) or _EXTRA_LABELS.get(col)
    return pair[1 if lang == "en" else 0] if pair else col


_MORE_CODES = {"kind": UNIT_KIND}


def value_text(col: str, value, lang: str) -> str:
    """A cell as shown: coded values as words, numbers grouped, flags as yes."""
    vocab = CODED_COLUMNS.get(col) or VALUE_MAPS.get(col) or _MORE_CODES.get(col)
    if vocab is not None and isinstance(value, str) and value in vocab.codes:
        return vocab.label(value, lang)
    # A candidate site's level may be a combined one (九年一贯制) or any level.
    if col == "level" and isinstance(value, str) and value in CANDIDATE_LEVEL.codes:
        return CANDIDATE_LEVEL.label(value, lang)
    return fmt_value(col, value)


class AttributeModel(QAbstractTableModel):
    """A layer's fields (geometry left out); sorts on raw values, shows words."""

    def __init__(self, frame: pd.DataFrame, lang: str = "zh", parent=None):
        super().__init__(parent)
        self.lang = lang
        self.set_frame(frame)

    def set_frame(self, frame: pd.DataFrame | None) -> None:
        self.beginResetModel()
        frame = pd.DataFrame() if frame is None else frame
        self.geometry = (
            frame.geometry.reset_index(drop=True)
            if isinstance(frame, gpd.GeoDataFrame) and frame.active_geometry_name is not None
            else None
        )
        dropped = [
            c
            for c in frame.columns
            if c in _INTERNAL or isinstance(frame[c].dtype, gpd.array.GeometryDtype)
        ]
        self.frame = pd.DataFrame(frame.drop(columns=dropped)).reset_index(drop=True)
        self.columns = list(self.frame.columns)
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.frame)

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        col = self.columns[index.column()]
        value = self.frame.iat[index.row(), index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return value_text(col, value, self.lang)
        if role == Qt.ItemDataRole.UserRole:  # the sort key
            if isinstance(value, (int, float, np.integer, np.floating)) and not pd.isna(value):
                return float(value)
            return value_text(col, value, self.lang)
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return field_label(self.columns[section], self.lang)
        return str(section + 1)

    def raw(self, row: int, col: str):
        return self.frame.at[row, col] if col in self.frame else None


class AttributeTable(QWidget):
    """One layer's table: a filter box over a sortable view. ``featureChosen`` carries the
    model row of the feature the planner selected."""

    featureChosen = pyqtSignal(int)

    def __init__(self, key: str, frame, lang: str = "zh", parent=None):
        super().__init__(parent)
        self.key = key
        self.model = AttributeModel(frame, lang, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(_tr("Filter rows..."))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.count = QLabel()
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.proxy.layoutChanged.connect(self._count)
        self.proxy.rowsInserted.connect(self._count)
        self.proxy.rowsRemoved.connect(self._count)
        self.proxy.modelReset.connect(self._count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count)
        self._count()
        self.view.resizeColumnsToContents()

    def set_frame(self, frame) -> None:
        self.model.set_frame(frame)
        self._count()

    def _count(self, *_) -> None:
        self.count.setText(
            _tr("{shown} of {total} features").format(
                shown=self.proxy.rowCount(), total=self.model.rowCount()
            )
        )

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.featureChosen.emit(self.proxy.mapToSource(current).row())

    def select_school(self, school_id: str, level: str) -> bool:
        """Select the row of a school clicked on the map (no echo back to the map)."""
        m = self.model
        if "school_id" not in m.columns:
            return False
        ids = m.frame["school_id"].astype(str)
        hit = ids.eq(str(school_id))
        if "level" in m.columns:
            hit &= m.frame["level"].astype(str).eq(str(level))
        rows = np.flatnonzero(hit.to_numpy())
        if not len(rows):
            return False
        index = self.proxy.mapFromSource(m.index(int(rows[0]), 0))
        if not index.isValid():
            return False
        self.view.selectionModel().blockSignals(True)
        try:
            self.view.selectRow(index.row())
            self.view.scrollTo(index)
        finally:
            self.view.selectionModel().blockSignals(False)
        return True


class IdentifyPanel(QWidget):
    """The attributes of the feature last clicked on the map, one field a row."""

    def __init__(self, lang: str = "zh", parent=None):
        super().__init__(parent)
        self.lang = lang
        self.title = QLabel(_tr("Click a feature on the map."))
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold; padding: 2px;")
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([_tr("Field"), _tr("Value")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        self.shown: tuple[str, int] | None = None  # (layer, row) identified

    def show_feature(self, layer: str, frame: pd.DataFrame, row: int) -> None:
        self.shown = (layer, row)
        record = frame.iloc[row]
        fields = [
            c
            for c in frame.columns
            if c not in _INTERNAL and not isinstance(frame[c].dtype, gpd.array.GeometryDtype)
        ]
        self.title.setText(data_layers().get(layer, layer))
        self.table.setRowCount(len(fields))
        for i, col in enumerate(fields):
            self.table.setItem(i, 0, QTableWidgetItem(field_label(col, self.lang)))
            self.table.setItem(i, 1, QTableWidgetItem(value_text(col, record[col], self.lang)))
        self.table.resizeColumnToContents(0)

    def value(self, col: str) -> str | None:
        """The shown text of a field (by its label), for tests."""
        label = field_label(col, self.lang)
        for i in range(self.table.rowCount()):
            if self.table.item(i, 0).text() == label:
                return self.table.item(i, 1).text()
        return None


# Identify searches these in order: points before lines before areas, so a village on a zone
# is found rather than the zone under it.
_IDENTIFY_ORDER = (
    "new_schools",
    "schools",
    "candidates",
    "demand",
    "units",
    "groups",
    "roads",
    "catchments",
)


def school_row(doc, school_id: str, level: str) -> tuple[str, int] | None:
    """(layer, row) of a school at a level: among the schools, then the new schools."""
    for layer in ("schools", "new_schools"):
        frame = layer_frame(doc, layer)
        if frame is None or "school_id" not in frame:
            continue
        hit = frame["school_id"].astype(str).eq(str(school_id))
        if "level" in frame:
            hit &= frame["level"].astype(str).eq(str(level))
        rows = hit.to_numpy().nonzero()[0]
        if len(rows):
            return layer, int(rows[0])
    return None


def candidate_row(doc, candidate_id: str) -> tuple[str, int] | None:
    """(layer, row) of a candidate site by its id."""
    frame = layer_frame(doc, "candidates")
    if frame is not None and "candidate_id" in frame:
        rows = frame["candidate_id"].astype(str).eq(str(candidate_id)).to_numpy().nonzero()[0]
        if len(rows):
            return "candidates", int(rows[0])
    return None


def feature_at(doc, x: float, y: float, tolerance_m: float, skip=()) -> tuple[str, int] | None:
    """(layer, row) of the feature under (x, y) in the project CRS: the nearest point or line
    within ``tolerance_m``, else the zone that contains the point; None if nothing is there."""
    here = Point(x, y)
    for key in _IDENTIFY_ORDER:
        if key in skip:
            continue
        frame = layer_frame(doc, key)
        if frame is None or not len(frame) or not isinstance(frame, gpd.GeoDataFrame):
            continue
        geom = frame.geometry
        if key == "catchments":
            inside = np.flatnonzero(geom.contains(here).to_numpy())
            if len(inside):  # the smallest zone: a primary zone inside a junior one
                return key, int(inside[np.argmin(geom.iloc[inside].area.to_numpy())])
            continue
        dist = geom.distance(here).to_numpy(dtype=float)
        if len(dist) and np.nanmin(dist) <= tolerance_m:
            return key, int(np.nanargmin(dist))
    return None


class AttributeDocks:
    """The attribute tables of a window: one dock per layer, opened on demand, refreshed when the
    document's layers or result change, and linked with the map by selection."""

    def __init__(self, window, doc, map_view, lang: str = "zh"):
        self.window, self.doc, self.map, self.lang = window, doc, map_view, lang
        self.docks: dict[str, QDockWidget] = {}
        self.tables: dict[str, AttributeTable] = {}

    def open(self, key: str) -> AttributeTable | None:
        """Show the attribute table of layer ``key`` (None when the layer has no data yet)."""
        frame = layer_frame(self.doc, key)
        if frame is None:
            self.window.say(_tr("{layer}: no data yet.").format(layer=data_layers()[key]))
            return None
        if key in self.tables:
            self.tables[key].set_frame(frame)
        else:
            table = AttributeTable(key, frame, self.lang)
            table.featureChosen.connect(lambda row, k=key: self.chosen(k, row))
            dock = QDockWidget(
                _tr("Attribute table: {layer}").format(layer=data_layers()[key]), self.window
            )
            dock.setObjectName(f"attributes_{key}")
            dock.setWidget(table)
            self.window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            bottom = getattr(self.window, "bottom_dock", None)
            if bottom is not None:
                self.window.tabifyDockWidget(bottom, dock)
            self.docks[key], self.tables[key] = dock, table
        self.docks[key].show()
        self.docks[key].raise_()
        return self.tables[key]

    def refresh(self) -> None:
        """New data in the open tables (a closed one is refreshed when opened again)."""
        for key, table in self.tables.items():
            if self.docks[key].isVisible():
                table.set_frame(layer_frame(self.doc, key))

    def chosen(self, key: str, row: int) -> None:
        """A row selected in a table: its feature marked on the map."""
        frame = self.tables[key].model
        keys = _school_keys(frame, row)
        if keys:
            self.map.highlight(keys, pan=True)
            return
        geom = frame.geometry
        if geom is None or row >= len(geom) or geom.iloc[row] is None or self.doc.layers is None:
            return
        p = geom.iloc[row].representative_point()
        lat, lng = self.doc.to_latlng(p.x, p.y)
        self.map.zoom_to(lat, lng)

    def school_clicked(self, school_id: str, level: str) -> None:
        for key in ("schools", "new_schools"):
            if key in self.tables:
                self.tables[key].select_school(school_id, level)


def _school_keys(model: AttributeModel, row: int) -> list[tuple[str, str]]:
    """The schools a row stands for: itself, or a group's core and members."""
    level = model.raw(row, "level")
    if level is None:
        return []
    sid = model.raw(row, "school_id")
    if sid is not None and not pd.isna(sid):
        return [(str(sid), str(level))]
    core = model.raw(row, "core_id")
    if core is None or pd.isna(core):
        return []
    members = str(model.raw(row, "member_ids") or "").replace(";", ",").split(",")
    return [(str(core), str(level))] + [(m.strip(), str(level)) for m in members if m.strip()]
