"""Find a school or a village (community) by name: a search box with completion; the match is
selected (a school) and the map zooms to it."""

from __future__ import annotations

from PyQt6.QtCore import QCoreApplication, QStringListModel, Qt, pyqtSignal
from PyQt6.QtWidgets import QCompleter, QLineEdit

from core.vocab import LEVEL


def _tr(text: str) -> str:
    return QCoreApplication.translate("search", text)


Entry = tuple[str, str, str, float, float]  # kind "school" | "unit", id, level, x, y


def school_entries(s, lang: str = "zh") -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for sid, name, level, p in zip(
        s["school_id"].astype(str), s["name"].astype(str), s["level"].astype(str), s.geometry
    ):
        if p is None or p.is_empty:
            continue
        out[f"{name}({LEVEL.label(level, lang)} {sid})"] = ("school", sid, level, p.x, p.y)
    return out


def unit_entries(u) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    names = u["name"].astype(str) if "name" in u else u["unit_id"].astype(str)
    for uid, name, g in zip(u["unit_id"].astype(str), names, u.geometry):
        if g is None or g.is_empty:
            continue
        p = g.representative_point()
        out[f"{name}({_tr('village')} {uid})"] = ("unit", uid, "", p.x, p.y)
    return out


class SearchBox(QLineEdit):
    """``found``: kind, id, level, x, y of the chosen entry."""

    found = pyqtSignal(str, str, str, float, float)

    def __init__(self, lang: str = "zh", parent=None):
        super().__init__(parent)
        self.lang = lang
        self.entries: dict[str, Entry] = {}
        self._units = None
        self._layers, self._stale = None, False
        self._unit_entries: dict[str, Entry] = {}
        self.setPlaceholderText(_tr("Find a school or village..."))
        self.setClearButtonEnabled(True)
        self.setMaximumWidth(260)
        self.model = QStringListModel(self)
        completer = QCompleter(self.model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(self.go)
        self.setCompleter(completer)
        self.returnPressed.connect(lambda: self.go(self.text()))

    def set_layers(self, layers) -> None:
        """The layers to search; the list is made when the box is used (not on every edit)."""
        self._layers, self._stale = layers, True

    def refresh(self) -> None:
        if not self._stale:
            return
        self._stale = False
        layers = self._layers
        if layers is None:
            self.entries = {}
        else:
            # Villages do not change with school edits: their entries are made once per layer.
            if self._units is not layers.units:
                self._units, self._unit_entries = layers.units, unit_entries(layers.units)
            self.entries = {**school_entries(layers.schools, self.lang), **self._unit_entries}
        self.model.setStringList(list(self.entries))

    def focusInEvent(self, event) -> None:  # noqa: N802
        self.refresh()
        super().focusInEvent(event)

    def go(self, text: str) -> bool:
        """Go to the entry ``text`` names (exactly, else the first containing it)."""
        self.refresh()
        text = text.strip()
        hit = self.entries.get(text)
        if hit is None and text:
            hit = next((v for k, v in self.entries.items() if text.lower() in k.lower()), None)
        if hit is None:
            return False
        self.found.emit(*hit)
        return True
