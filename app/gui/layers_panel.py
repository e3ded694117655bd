"""Map layers: tick to show, drag to reorder (top of the list draws on top)."""

from __future__ import annotations

from PyQt6.QtCore import QCoreApplication, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from app.gui.attributes import data_layers, layers_of_map_key


def _tr(text: str) -> str:
    return QCoreApplication.translate("layers_panel", text)


class LayersPanel(QWidget):
    visibilityChanged = pyqtSignal(str, bool)
    orderChanged = pyqtSignal(list)
    # A data layer's attribute table asked for (a key of ``attributes.data_layers``).
    attributesRequested = pyqtSignal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.itemChanged.connect(self._item_changed)
        self.list.model().rowsMoved.connect(lambda *_: self.orderChanged.emit(self.keys()))
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.itemDoubleClicked.connect(self._double_clicked)
        layout.addWidget(self.list, 1)
        hint = QLabel(
            _tr("Tick to show; drag to change the drawing order; double-click: attribute table.")
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666; font-size: 11px; padding: 2px 4px;")
        layout.addWidget(hint)
        self._quiet = False

    def set_layers(self, layers: list[dict]) -> None:
        """[{key, name, visible}] as the map lists them; keeps the user's order of known keys."""
        old = self.keys()
        rank = {k: i for i, k in enumerate(old)}
        layers = sorted(layers, key=lambda d: rank.get(d["key"], len(rank)))
        self._quiet = True
        try:
            self.list.clear()
            for d in layers:
                item = QListWidgetItem(d["name"])
                item.setData(Qt.ItemDataRole.UserRole, d["key"])
                item.setFlags(
                    item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled
                )
                item.setCheckState(
                    Qt.CheckState.Checked if d["visible"] else Qt.CheckState.Unchecked
                )
                self.list.addItem(item)
        finally:
            self._quiet = False

    def keys(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def _item_changed(self, item: QListWidgetItem) -> None:
        if not self._quiet:
            on = item.checkState() == Qt.CheckState.Checked
            self.visibilityChanged.emit(item.data(Qt.ItemDataRole.UserRole), on)

    def attribute_menu(self, item: QListWidgetItem | None) -> QMenu:
        """The item's attribute tables, then every layer's (the boundary has no map layer)."""
        menu = QMenu(self)
        names = data_layers()
        own = layers_of_map_key(item.data(Qt.ItemDataRole.UserRole)) if item else []
        for key in own:
            act = menu.addAction(_tr("Attribute table: {layer}").format(layer=names[key]))
            act.triggered.connect(lambda _=False, k=key: self.attributesRequested.emit(k))
        sub = menu.addMenu(_tr("Attribute table of a layer"))
        for key, name in names.items():
            sub.addAction(name).triggered.connect(
                lambda _=False, k=key: self.attributesRequested.emit(k)
            )
        return menu

    def _context_menu(self, pos) -> None:
        self.attribute_menu(self.list.itemAt(pos)).exec(self.list.viewport().mapToGlobal(pos))

    def _double_clicked(self, item: QListWidgetItem) -> None:
        own = layers_of_map_key(item.data(Qt.ItemDataRole.UserRole))
        if own:
            self.attributesRequested.emit(own[0])
