"""The map: the exports' Leaflet page in a QWebEngineView, wired to Python by a QWebChannel.

The page is the same self-contained HTML as ``map.html`` (``app.export.mapbuilder``), loaded
from a file (``setHtml`` fails silently over 2 MB). Interaction is added from outside the page:
``qwebchannel.js`` and a small script of ours are injected with ``QWebEngineScript``s, so the
exported file holds no Qt code. The script makes school markers draggable and calls the bridge
slots below; tests call the same slots to act as the map would.
"""

from __future__ import annotations

import dataclasses
import html
import json
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
from PyQt6.QtCore import QCoreApplication, QFile, QIODevice, QObject, QUrl, pyqtSignal, pyqtSlot
from PyQt6.QtWebChannel import QWebChannel
from PyQt6.QtWebEngineCore import QWebEnginePage, QWebEngineScript
from PyQt6.QtWebEngineWidgets import QWebEngineView

from app.gui.basemap import BASEMAP_JS


def write_map_html(result, path: str | Path, lang: str = "zh") -> Path:
    """Build the plan map and write it as one offline HTML file (callable off the GUI thread)."""
    # Imported here, on the map job's thread: folium's import would stall the window's start.
    from app.export.mapbuilder import build_map
    from app.export.offline import save_offline

    fmap = build_map(result, lang=lang, collapsed_layers=True)
    return save_offline(fmap, path)


def _tr(text: str) -> str:
    return QCoreApplication.translate("mapview", text)


def map_payload(result, lang: str = "zh") -> str:
    """The plan map's layers as the JSON ``MapView.replace_layers`` draws (off the GUI thread)."""
    # Imported here for the same reason as in write_map_html.
    from app.export.mapbuilder import build_payload, safe_json

    return safe_json(build_payload(result, lang=lang, collapsed=True))


def with_edited_schools(result, schools):
    """``result`` showing the schools as edited since it was planned: moved ones where they are
    now, deleted ones gone, added ones present (the map answers an edit before the re-plan)."""
    rs = result.schools
    if schools.crs is not None and rs.crs is not None and schools.crs != rs.crs:
        schools = schools.to_crs(rs.crs)
    key_r = rs["school_id"].astype(str) + "|" + rs["level"].astype(str)
    key_s = schools["school_id"].astype(str) + "|" + schools["level"].astype(str)
    planned = rs["layout_status"].astype(str).eq("new") if "layout_status" in rs else key_r.eq(None)
    keep = planned | key_r.isin(set(key_s))
    where = dict(zip(key_s, schools.geometry))
    kept = rs[keep.to_numpy()].copy()
    kept_keys = key_r[keep.to_numpy()]
    kept["geometry"] = [where.get(k, g) for k, g in zip(kept_keys, kept.geometry)]
    added = schools[~key_s.isin(set(key_r)).to_numpy()]
    if len(added):
        cols = [c for c in rs.columns if c in added.columns]
        kept = pd.concat([kept, added[cols]], ignore_index=True)
    out = gpd.GeoDataFrame(kept, geometry="geometry", crs=rs.crs)
    return dataclasses.replace(result, schools=out)


# Runs in every page load, after the page's own scripts (DocumentReady).
_BRIDGE_JS = r"""
(function () {
  function setup() {
    var sp = window.schoolplan;
    if (!sp || !sp.ready || typeof QWebChannel === "undefined" || !window.qt) {
      setTimeout(setup, 30); return;
    }
    new QWebChannel(qt.webChannelTransport, function (channel) {
      var bridge = channel.objects.bridge, map = sp.map, addMode = false;
      var mark = L.layerGroup().addTo(map);
      // The window's layers panel replaces the page's own layer switcher.
      if (sp.control) sp.control.getContainer().style.display = "none";
      window.spBridge = bridge;
      function wire() {  // the page's markers and zones talk to the window (again after spReplace)
        Object.keys(sp.markers).forEach(function (key) {
          var m = sp.markers[key];
          m.on("click", function () { bridge.schoolClicked(m.options.schoolId, m.options.level); });
          if (m.options.layoutStatus === "new") return;  // planned by the optimiser, not an input
          m.options.draggable = true;
          if (m.dragging) m.dragging.enable();
          m.on("dragend", function (e) {
            var ll = e.target.getLatLng();
            bridge.schoolMoved(m.options.schoolId, m.options.level, ll.lat, ll.lng);
          });
        });
        Object.keys(sp.zones).forEach(function (key) {
          var z = sp.zones[key];
          z.on("click", function () { bridge.schoolClicked(z.options.schoolId, z.options.level); });
        });
      }
      function listed() {
        return Object.keys(sp.layers).map(function (k) {
          var name = k;
          Object.keys(sp.overlays).forEach(function (n) { if (sp.overlays[n] === sp.layers[k]) name = n; });
          return { key: k, name: name, visible: map.hasLayer(sp.layers[k]) };
        });
      }
      wire();
      // New layers from the window (an edit, a re-plan) drawn in this page: no reload.
      window.spReplace = function (payload, stamp) {
        map.closePopup();
        sp.replace(payload);
        if (sp.control) sp.control.getContainer().style.display = "none";
        wire();
        if (window.spAfterReplace) window.spAfterReplace();
        bridge.layersReplaced(JSON.stringify({ layers: listed(), counts: sp.counts, stamp: stamp }));
      };
      map.on("click", function (e) { if (addMode) bridge.mapClicked(e.latlng.lat, e.latlng.lng); });
      map.on("moveend", function () {
        var c = map.getCenter(); bridge.viewChanged(c.lat, c.lng, map.getZoom());
      });
      // A moved school (every level of it, and its radius circle) moved in place: the drag answers
      // at once; the re-planned result is drawn by spReplace when it is ready.
      window.spMoveSchool = function (id, lat, lng, stamp) {
        Object.keys(sp.markers).forEach(function (key) {
          var m = sp.markers[key];
          if (m.options.schoolId !== id) return;
          m.setLatLng([lat, lng]);
          if (sp.radius[key]) sp.radius[key].setLatLng([lat, lng]);
        });
        bridge.layersReplaced(JSON.stringify({ layers: listed(), counts: sp.counts, stamp: stamp,
                                                moved: true }));
      };
      // Names beside the schools (the name part of each marker's tooltip).
      var labels = L.layerGroup();
      window.spLabels = function (on) {
        labels.clearLayers();
        if (!on) { map.removeLayer(labels); return 0; }
        Object.keys(sp.markers).forEach(function (key) {
          var m = sp.markers[key], t = m.getTooltip();
          if (!t || !map.hasLayer(m)) return;
          var name = String(t.getContent()).split(" · ")[0];
          L.tooltip({ permanent: true, direction: "right", offset: [8, 0], interactive: false,
            className: "sp-label" }).setLatLng(m.getLatLng()).setContent(name).addTo(labels);
        });
        labels.addTo(map);
        return labels.getLayers().length;
      };
      // Measure a distance: each click adds a point; the line shows the length so far.
      var ruler = L.layerGroup().addTo(map), rulerPts = [], measuring = false;
      window.spMeasure = function (on) {
        measuring = !!on; rulerPts = []; ruler.clearLayers(); window.spMeasureKm = 0;
        map.getContainer().style.cursor = on ? "crosshair" : (addMode ? "crosshair" : "");
        if (on) map.doubleClickZoom.disable(); else map.doubleClickZoom.enable();
      };
      window.spMeasureAdd = function (lat, lng) {
        var ll = L.latLng(lat, lng);
        if (rulerPts.length) window.spMeasureKm += map.distance(rulerPts[rulerPts.length - 1], ll) / 1000;
        rulerPts.push(ll);
        ruler.clearLayers();
        L.polyline(rulerPts, { color: "#d81b60", weight: 3, dashArray: "6 4", interactive: false,
          className: "sp-ruler" }).addTo(ruler);
        rulerPts.forEach(function (p) { L.circleMarker(p, { radius: 4, color: "#d81b60",
          interactive: false }).addTo(ruler); });
        L.tooltip({ permanent: true, direction: "right", className: "sp-ruler-label" })
          .setLatLng(ll).setContent(window.spMeasureKm.toFixed(2) + " km").addTo(ruler);
        bridge.measured(window.spMeasureKm);
        return window.spMeasureKm;
      };
      map.on("click", function (e) { if (measuring) spMeasureAdd(e.latlng.lat, e.latlng.lng); });
      window.spAddMode = function (on) {
        addMode = !!on; map.getContainer().style.cursor = on ? "crosshair" : "";
      };
      window.spHighlight = function (keys, pan) {
        mark.clearLayers();
        var pts = [];
        keys.forEach(function (key) {
          var m = sp.markers[key];
          if (!m) return;
          pts.push(m.getLatLng());
          L.circleMarker(m.getLatLng(), { radius: 16, color: "#00e5ff", weight: 4, fill: false,
            interactive: false, className: "sp-highlight" }).addTo(mark);
        });
        if (pan && pts.length === 1 && !map.getBounds().contains(pts[0])) map.panTo(pts[0]);
        if (pan && pts.length > 1) map.fitBounds(L.latLngBounds(pts).pad(0.3));
        return pts.length;
      };
      // Candidate sites are drawn here, not by the export builder: they are the planner's
      // working input, refreshed after each edit without rebuilding the page.
      var cands = L.layerGroup().addTo(map);
      window.spCandidates = function (items, name, legendRow) {
        cands.clearLayers();
        items.forEach(function (c) {
          L.circleMarker([c.lat, c.lng], { radius: 7, color: "#6a1b9a", weight: 3,
            fillColor: "#fff", fillOpacity: 1, dashArray: "3 2", className: "sp-candidate" })
            .bindTooltip(c.label)
            .on("click", function (e) { L.DomEvent.stop(e); bridge.candidateClicked(c.id); })
            .addTo(cands);
        });
        if (sp.legendDiv) {  // a row in the map's legend while there are sites
          var row = sp.legendDiv.querySelector(".sp-cand-legend");
          if (!row) {
            row = document.createElement("div"); row.className = "sp-cand-legend";
            sp.legendDiv.appendChild(row);
          }
          row.innerHTML = items.length ? legendRow : "";
        }
        return items.length;
      };
      window.spZoomTo = function (lat, lng, zoom) {
        mark.clearLayers();
        L.circleMarker([lat, lng], { radius: 18, color: "#ff1744", weight: 4, fill: false,
          interactive: false }).addTo(mark);
        map.setView([lat, lng], zoom || Math.max(map.getZoom(), 13));
      };
      window.spSetVisible = function (key, on) {
        var layer = key === "candidates" ? cands : sp.layers[key];
        if (!layer) return false;
        if (on && !map.hasLayer(layer)) layer.addTo(map);
        if (!on && map.hasLayer(layer)) map.removeLayer(layer);
        return true;
      };
      window.spOrder = function (keys) {  // first key ends on top
        keys.slice().reverse().forEach(function (k) {
          var layer = sp.layers[k];
          if (layer && map.hasLayer(layer) && layer.bringToFront) layer.bringToFront();
        });
      };
      bridge.pageReady(JSON.stringify({ layers: listed(), counts: sp.counts }));
    });
  }
  setup();
})();
"""


def _qwebchannel_js() -> str:
    f = QFile(":/qtwebchannel/qwebchannel.js")
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        raise RuntimeError("qwebchannel.js is missing from the Qt WebEngine resources")
    try:
        return bytes(f.readAll()).decode("utf-8")
    finally:
        f.close()


class MapBridge(QObject):
    """Slots the page calls; they turn into signals for the window."""

    moved = pyqtSignal(str, str, float, float)  # school_id, level, lat, lng
    clicked = pyqtSignal(str, str)  # school_id, level
    mapClickedAt = pyqtSignal(float, float)  # lat, lng
    ready = pyqtSignal(dict)  # {"layers": [...], "counts": {...}}
    replaced = pyqtSignal(dict)  # the same, after new layers were drawn in the page
    viewMoved = pyqtSignal(float, float, int)
    candidateClickedOn = pyqtSignal(str)  # candidate_id
    distanceMeasured = pyqtSignal(float)  # km so far on the ruler

    @pyqtSlot(str, str, float, float)
    def schoolMoved(self, school_id: str, level: str, lat: float, lng: float) -> None:
        self.moved.emit(school_id, level, lat, lng)

    @pyqtSlot(str, str)
    def schoolClicked(self, school_id: str, level: str) -> None:
        self.clicked.emit(school_id, level)

    @pyqtSlot(float, float)
    def mapClicked(self, lat: float, lng: float) -> None:
        self.mapClickedAt.emit(lat, lng)

    @pyqtSlot(str)
    def candidateClicked(self, candidate_id: str) -> None:
        self.candidateClickedOn.emit(candidate_id)

    @pyqtSlot(str)
    def pageReady(self, info: str) -> None:
        self.ready.emit(json.loads(info))

    @pyqtSlot(float)
    def measured(self, km: float) -> None:
        self.distanceMeasured.emit(km)

    @pyqtSlot(str)
    def layersReplaced(self, info: str) -> None:
        self.replaced.emit(json.loads(info))

    @pyqtSlot(float, float, int)
    def viewChanged(self, lat: float, lng: float, zoom: int) -> None:
        self.viewMoved.emit(lat, lng, zoom)


class MapPage(QWebEnginePage):
    """Keeps the page's console messages (a broken script shows up in tests and bug reports)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.console: list[str] = []

    def javaScriptConsoleMessage(self, level, message, line, source):  # noqa: N802
        self.console.append(f"{level.name}: {message} ({Path(source).name}:{line})")
        del self.console[:-200]


class MapView(QWebEngineView):
    """Shows a map file and keeps the view (centre, zoom) across reloads."""

    layersListed = pyqtSignal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.bridge = MapBridge(self)
        self._new_page()
        self.is_ready = False
        self.loads = 0  # pages fully wired (for tests and the status bar)
        self.info: dict = {}
        self._view: tuple[float, float, int] | None = None
        self._hidden: set[str] = set()
        self._order: list[str] = []
        self._add_mode = False
        self._labels = False
        self._measure = False
        self._basemap: tuple[str | None, bool] = (None, False)
        self._candidates: list[dict] = []
        self.bridge.ready.connect(self._on_ready)
        self.bridge.replaced.connect(self._on_replaced)
        self.replaced = 0  # layer replacements drawn (for tests and the bench)
        self.pending = 0  # replacements sent to the page, not drawn yet
        self.replaced_at: dict[int, float] = {}  # stamp -> perf_counter when drawn
        self.bridge.viewMoved.connect(lambda lat, lng, z: setattr(self, "_view", (lat, lng, z)))

    def _new_page(self) -> MapPage:
        """A fresh page with the channel and our scripts.

        Each map is shown in a new page rather than by navigating the old one: navigating away
        from a large plan page left Chromium's renderer busy and the next load never finished
        (seen offscreen with Qt 6.11).
        """
        page = MapPage(self)
        channel = QWebChannel(page)
        channel.registerObject("bridge", self.bridge)
        page.setWebChannel(channel)
        for name, source in (("qwebchannel", _qwebchannel_js()), ("schoolplan-bridge", _BRIDGE_JS)):
            s = QWebEngineScript()
            s.setName(name)
            s.setSourceCode(source)
            s.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentReady)
            s.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
            s.setRunsOnSubFrames(False)
            page.scripts().insert(s)
        old = self.page()
        self.setPage(page)
        if isinstance(old, MapPage):
            old.deleteLater()
        return page

    def show_file(self, path: str | Path) -> None:
        self.is_ready = False
        self.pending = 0
        if (
            isinstance(self.page(), MapPage)
            and self.page().url().isValid()
            and not self.page().url().isEmpty()
        ):
            self._new_page()
        self.page().load(QUrl.fromLocalFile(str(Path(path).resolve())))

    def _on_ready(self, info: dict) -> None:
        self.info = info
        if self._view is not None:
            lat, lng, zoom = self._view
            self.js(f"schoolplanMap.setView([{lat}, {lng}], {int(zoom)}, {{animate: false}});")
        for layer in info.get("layers", []):
            if layer["key"] in self._hidden:
                self.set_visible(layer["key"], False)
                layer["visible"] = False
        if self._order:
            self.set_order(self._order)
        self.set_add_mode(self._add_mode)
        self.set_candidates(self._candidates)
        if self._labels:
            self.set_labels(True)
        if self._basemap[0]:
            self.set_basemap(*self._basemap)
        if self._measure:
            self.set_measure(True)
        self.is_ready = True
        self.loads += 1
        if "candidates" in self._hidden:
            self.set_visible("candidates", False)
        self.layersListed.emit(self.listed_layers())

    def replace_layers(self, payload_json: str, stamp: int = 0) -> bool:
        """Draw new layers (a ``build_payload`` as JSON) in the page shown; False when no page is
        ready for it (the caller loads a whole page instead)."""
        if not self.is_ready:
            return False
        self.pending += 1
        self.js(f"window.spReplace({payload_json}, {int(stamp)});")
        return True

    def move_school(self, school_id: str, lat: float, lng: float, stamp: int = 0) -> bool:
        """Move a school's markers in the page shown (no new layers needed for that)."""
        if not self.is_ready:
            return False
        self.pending += 1
        self.js(f"window.spMoveSchool({json.dumps(school_id)}, {lat}, {lng}, {int(stamp)});")
        return True

    @property
    def updates(self) -> int:
        """Pages loaded + layer replacements drawn: grows each time the map shows new data."""
        return self.loads + self.replaced

    def _on_replaced(self, info: dict) -> None:
        self.info = info
        for layer in info.get("layers", []):
            if layer["key"] in self._hidden:
                layer["visible"] = False
        if not info.get("moved"):  # new layers: the window's additions drawn on them again
            if self._order:
                self.set_order(self._order)
            self.set_candidates(self._candidates)
            if self._labels:
                self.set_labels(True)
        self.replaced += 1
        self.pending = max(0, self.pending - 1)
        self.replaced_at[int(info.get("stamp", 0))] = time.perf_counter()
        self.layersListed.emit(self.listed_layers())

    def js(self, code: str, callback=None) -> None:
        if callback is None:
            # The script's last value goes back to Qt even without a callback; a Leaflet object
            # (setView returns the map) cannot be serialised and hangs the page. End on null.
            self.page().runJavaScript(code + "\n;null;")
        else:
            self.page().runJavaScript(code, callback)

    def set_visible(self, key: str, on: bool) -> None:
        (self._hidden.discard if on else self._hidden.add)(key)
        self.js(f"window.spSetVisible && spSetVisible({json.dumps(key)}, {str(bool(on)).lower()});")

    def set_order(self, keys: list[str]) -> None:
        self._order = list(keys)
        self.js(f"window.spOrder && spOrder({json.dumps(keys)});")

    def set_basemap(self, url: str | None, gcj02: bool = False) -> None:
        """Tiles under the plan (None: none), kept across page loads; see ``basemap.py``."""
        self._basemap = (url, bool(gcj02))
        self.js(f"{BASEMAP_JS}\nwindow.spBasemap({json.dumps(url)}, {str(bool(gcj02)).lower()});")

    def set_labels(self, on: bool) -> None:
        self._labels = bool(on)
        self.js(f"window.spLabels && spLabels({str(bool(on)).lower()});")

    def set_measure(self, on: bool) -> None:
        self._measure = bool(on)
        self.js(f"window.spMeasure && spMeasure({str(bool(on)).lower()});")

    def set_add_mode(self, on: bool) -> None:
        self._add_mode = bool(on)
        self.js(f"window.spAddMode && spAddMode({str(bool(on)).lower()});")

    def set_candidates(self, items: list[dict]) -> None:
        """Show candidate sites: dicts with id, lat, lng, label (kept across page reloads); a
        layer of the layers panel and a row of the legend while there are any."""
        had = bool(self._candidates)
        self._candidates = list(items)
        name = _tr("Candidate sites")
        row = (
            "<svg width='14' height='14'><circle cx='7' cy='7' r='5' fill='#fff' "
            "stroke='#6a1b9a' stroke-width='2.5' stroke-dasharray='3 2'/></svg> "
            + html.escape(name)
        )
        self.js(
            f"window.spCandidates && spCandidates({json.dumps(self._candidates)}, "
            f"{json.dumps(name)}, {json.dumps(row)});"
        )
        if had != bool(items) and self.is_ready:
            self.layersListed.emit(self.listed_layers())

    def listed_layers(self) -> list[dict]:
        """The page's layers for the layers panel, candidate sites included when there are any."""
        layers = [dict(d) for d in self.info.get("layers", [])]
        for layer in layers:
            if layer["key"] in self._hidden:
                layer["visible"] = False
        if self._candidates:
            layers.append(
                {
                    "key": "candidates",
                    "name": _tr("Candidate sites"),
                    "visible": "candidates" not in self._hidden,
                }
            )
        return layers

    def highlight(self, keys: list[tuple[str, str]], pan: bool = True) -> None:
        ids = [f"{level}|{sid}" for sid, level in keys]
        self.js(f"window.spHighlight && spHighlight({json.dumps(ids)}, {str(pan).lower()});")

    def zoom_to(self, lat: float, lng: float, zoom: int | None = None) -> None:
        z = "null" if zoom is None else str(int(zoom))
        self.js(f"window.spZoomTo && spZoomTo({lat}, {lng}, {z});")
