"""The base map under the plan: none (default), a local tile folder or an MBTiles file (offline),
or an online XYZ source the planner enters (e.g. 天地图 with its key).

Tiles of Chinese online maps (高德, 腾讯 and most others) are drawn in GCJ-02, a coordinate
system offset from WGS-84 by a few hundred metres; the plan is in WGS-84. With ``gcj02`` the tile
layer is shifted by the offset at the map's centre (it varies by metres across a county), so
schools sit on their streets. An MBTiles file is unpacked into a tile folder (z/x/y, rows
flipped from TMS) once, then shown like a folder.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, QUrl
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

KINDS = ("none", "folder", "mbtiles", "xyz")


def _tr(text: str) -> str:
    return QCoreApplication.translate("basemap", text)


@dataclass(frozen=True)
class Basemap:
    kind: str = "none"  # one of KINDS
    source: str = ""  # folder, .mbtiles file or URL template with {z} {x} {y} (and {s})
    gcj02: bool = False  # the tiles are in GCJ-02 (shift them onto the WGS-84 plan)


def unpack_mbtiles(path: Path, into: Path | None = None) -> Path:
    """The tiles of an MBTiles file as a z/x/y folder (written once per file version)."""
    path = Path(path)
    stamp = hashlib.sha1(f"{path.resolve()}|{path.stat().st_mtime_ns}".encode()).hexdigest()[:12]
    folder = into or Path(tempfile.gettempdir()) / f"schoolplan-tiles-{stamp}"
    done = folder / ".complete"
    if done.exists():
        return folder
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        fmt = dict(db.execute("SELECT name, value FROM metadata").fetchall()).get("format", "png")
        for z, x, y, data in db.execute(
            "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"
        ):
            tile = folder / str(z) / str(x) / f"{(1 << z) - 1 - y}.{fmt}"  # TMS rows -> XYZ
            tile.parent.mkdir(parents=True, exist_ok=True)
            tile.write_bytes(data)
    done.write_text("ok", encoding="utf-8")
    return folder


def tile_url(b: Basemap) -> str | None:
    """The Leaflet URL template of a base map (None: no base map)."""
    if b.kind == "none" or not b.source:
        return None
    if b.kind == "xyz":
        return b.source
    folder = Path(b.source) if b.kind == "folder" else unpack_mbtiles(Path(b.source))
    ext = next((p.suffix for p in folder.glob("*/*/*.*")), ".png")
    base = QUrl.fromLocalFile(str(folder.resolve())).toString()
    return f"{base}/{{z}}/{{x}}/{{y}}{ext}"


# window.spBasemap(url, gcj): one tile layer under the plan, shifted when its tiles are GCJ-02.
BASEMAP_JS = r"""
(function () {
  var map = window.schoolplanMap;
  if (!map || window.spBasemap) return;
  var PI = Math.PI, A = 6378245.0, EE = 0.00669342162296594323, layer = null, gcj = false;
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
    return r + (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
  }
  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    r += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
    return r + (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
  }
  window.spToGcj = function (lat, lng) {  // WGS-84 -> GCJ-02 (the published approximation)
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var rad = lat / 180 * PI, m = 1 - EE * Math.sin(rad) * Math.sin(rad), s = Math.sqrt(m);
    dLat = dLat * 180 / ((A * (1 - EE)) / (m * s) * PI);
    dLng = dLng * 180 / (A / s * Math.cos(rad) * PI);
    return [lat + dLat, lng + dLng];
  };
  function shift() {
    if (!layer) return;
    var el = layer.getContainer();
    if (!el) return;
    if (!gcj) { el.style.transform = ""; window.spBasemapShift = [0, 0]; return; }
    var c = map.getCenter(), g = window.spToGcj(c.lat, c.lng);
    var z = map.getZoom(), p = map.project(c, z), q = map.project(L.latLng(g[0], g[1]), z);
    // A GCJ tile shows the place at c where WGS-84 would put g: move the tiles back by q - p.
    var dx = p.x - q.x, dy = p.y - q.y;
    el.style.transform = "translate(" + dx.toFixed(1) + "px," + dy.toFixed(1) + "px)";
    window.spBasemapShift = [dx, dy];
  }
  map.on("zoomend moveend", shift);
  window.spBasemap = function (url, isGcj) {
    if (layer) { map.removeLayer(layer); layer = null; }
    gcj = !!isGcj;
    if (url) {
      layer = L.tileLayer(url, { maxZoom: 19, subdomains: "1234567", zIndex: 1,
        className: "sp-basemap" }).addTo(map);
      layer.bringToBack();
      shift();
    }
    return !!layer;
  };
})();
"""


class BasemapDialog(QDialog):
    """Choose the base map; ``choice()`` after ``exec()``."""

    def __init__(self, current: Basemap, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_tr("Base map"))
        self.kind = QComboBox()
        for code, text in zip(
            KINDS,
            (
                _tr("None (works offline)"),
                _tr("Local tile folder (z/x/y)"),
                _tr("MBTiles file"),
                _tr("Online tiles (XYZ address)"),
            ),
        ):
            self.kind.addItem(text, code)
        self.kind.setCurrentIndex(max(0, self.kind.findData(current.kind)))
        self.source = QLineEdit(current.source)
        self.source.setPlaceholderText(_tr("Folder, .mbtiles file or https://.../{z}/{x}/{y}.png"))
        browse = QPushButton(_tr("Browse..."))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(browse)
        self.gcj = QCheckBox(_tr("Tiles in GCJ-02 (most Chinese online maps): shift them"))
        self.gcj.setChecked(current.gcj02)
        form = QFormLayout(self)
        form.addRow(_tr("Base map:"), self.kind)
        form.addRow(_tr("Source:"), row)
        form.addRow("", self.gcj)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(560, 160)

    def _browse(self) -> None:
        if self.kind.currentData() == "folder":
            path = QFileDialog.getExistingDirectory(self, _tr("Tile folder"))
        else:
            path, _ = QFileDialog.getOpenFileName(self, _tr("MBTiles file"), "", "*.mbtiles")
        if path:
            self.source.setText(path)

    def choice(self) -> Basemap:
        return Basemap(self.kind.currentData(), self.source.text().strip(), self.gcj.isChecked())
