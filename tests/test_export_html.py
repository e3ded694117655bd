"""map.html opened in a real browser engine (QtWebEngine, offscreen) with the network blocked."""

from __future__ import annotations

import json
import os
import re

os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")

import pyogrio  # noqa: E402
import pytest  # noqa: E402
from PyQt6 import QtWebEngineWidgets  # noqa: E402, F401  (must load before the QApplication)
from PyQt6.QtCore import QUrl  # noqa: E402
from PyQt6.QtWebEngineCore import (  # noqa: E402
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestInterceptor,
)
from test_export_fixture import XSS_NAME, make_plan  # noqa: E402

from app.export import export_all  # noqa: E402
from app.export.mapbuilder import build_map  # noqa: E402
from app.export.offline import OfflineError, external_refs, make_offline  # noqa: E402
from planning.outputs import write_plan  # noqa: E402

pytestmark = pytest.mark.gui


class BlockNetwork(QWebEngineUrlRequestInterceptor):
    """Counts and blocks every request that is not to a local file or a data: URI."""

    def __init__(self):
        super().__init__()
        self.blocked: list[str] = []

    def interceptRequest(self, info):  # noqa: N802 (Qt name)
        url = info.requestUrl()
        if url.scheme() not in ("file", "data"):
            self.blocked.append(url.toString())
            info.block(True)


class Page(QWebEnginePage):
    def __init__(self, profile):
        super().__init__(profile)
        self.alerts: list[str] = []

    def javaScriptAlert(self, origin, msg):  # noqa: N802 (Qt name)
        self.alerts.append(msg)


@pytest.fixture
def browser(qapp):
    profile = QWebEngineProfile()  # off the record: no cache shared between tests
    guard = BlockNetwork()
    profile.setUrlRequestInterceptor(guard)
    page = Page(profile)
    # Let the file:// page try remote URLs, so that any attempt reaches the guard (Chromium would
    # otherwise refuse it silently and an online-only map could pass).
    page.settings().setAttribute(
        QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True
    )
    yield page, guard
    page.deleteLater()
    qapp.processEvents()


def _load(qtbot, page, path):
    with qtbot.waitSignal(page.loadFinished, timeout=30000) as sig:
        page.load(QUrl.fromLocalFile(str(path)))
    assert sig.args[0], "page failed to load"


def _js(qtbot, page, script):
    box = {}
    page.runJavaScript(script, lambda v: box.setdefault("v", v))
    qtbot.waitUntil(lambda: "v" in box, timeout=10000)
    return box["v"]


COUNT_JS = """
(function () {
  var sp = window.schoolplan;
  Object.keys(sp.overlays).forEach(function (k) { sp.map.addLayer(sp.overlays[k]); });
  return JSON.stringify({
    leaflet: window.L ? L.version : null,
    mapIsGlobal: window.schoolplanMap === sp.map,
    schools: document.querySelectorAll(".leaflet-marker-pane .sp-school").length,
    zones: document.querySelectorAll("path.sp-zone").length,
    links: document.querySelectorAll("path.sp-link").length,
    markerOptions: Object.keys(sp.markers).map(function (k) {
      var o = sp.markers[k].options; return o.level + "|" + o.schoolId; }).sort()
  });
})()
"""


def test_offline_map_draws_every_school_and_zone_without_network(tmp_path, qtbot, browser):
    page, guard = browser
    plan = make_plan((9, 4, 3))
    write_plan(plan, tmp_path)
    files = export_all(plan, tmp_path, formats=("html",))
    html = files["html"].read_text(encoding="utf-8")
    markup = re.sub(r"<script>.*?</script>", "", html, flags=re.S)  # tags only, not inlined code
    assert "<script src" not in markup and "<link" not in markup and external_refs(html) == []

    schools = pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="schools")
    zones = pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="catchments")
    _load(qtbot, page, files["html"])
    qtbot.waitUntil(
        lambda: bool(_js(qtbot, page, "!!(window.schoolplan && window.schoolplan.ready)")),
        timeout=10000,
    )
    got = json.loads(_js(qtbot, page, COUNT_JS))

    assert got["leaflet"] == "1.9.3"
    assert got["mapIsGlobal"]
    assert got["schools"] == len(schools)
    assert got["zones"] == len(zones)
    assert got["links"] == len(plan.groups)
    assert got["markerOptions"] == sorted(
        f"{lv}|{sid}" for sid, lv in zip(schools["school_id"], schools["level"])
    )
    assert guard.blocked == []
    assert page.alerts == []


def test_school_named_like_a_script_shows_as_text(tmp_path, qtbot, browser):
    page, guard = browser
    plan = make_plan()
    path = tmp_path / "map.html"
    path.write_text(make_offline(build_map(plan).get_root().render()), encoding="utf-8")
    _load(qtbot, page, path)
    qtbot.waitUntil(
        lambda: bool(_js(qtbot, page, "!!(window.schoolplan && window.schoolplan.ready)")),
        timeout=10000,
    )
    got = json.loads(
        _js(
            qtbot,
            page,
            """(function () {
              var m = window.schoolplan.markers["primary|P001"]; m.openPopup();
              var pop = document.querySelector(".leaflet-popup-content");
              m.openTooltip();
              var tip = document.querySelector(".leaflet-tooltip");
              return JSON.stringify({ pop: pop.textContent, tip: tip.textContent,
                scripts: pop.querySelectorAll("script").length + tip.querySelectorAll("script").length });
            })()""",
        )
    )
    assert XSS_NAME in got["pop"] and XSS_NAME in got["tip"]
    assert got["scripts"] == 0
    assert page.alerts == []
    assert guard.blocked == []


def test_network_guard_sees_external_requests(tmp_path, qtbot, browser):
    # The guard must be able to fail: an external image is seen and blocked.
    page, guard = browser
    path = tmp_path / "ext.html"
    path.write_text(
        "<html><body><img src='https://example.invalid/x.png'></body></html>", encoding="utf-8"
    )
    _load(qtbot, page, path)
    qtbot.waitUntil(lambda: bool(guard.blocked), timeout=10000)
    assert guard.blocked[0].startswith("https://example.invalid/")


def test_make_offline_refuses_unknown_external_assets():
    html = build_map(make_plan()).get_root().render()
    bad = html.replace(
        "</head>", "<script src='https://cdn.example.com/plugin.js'></script></head>"
    )
    with pytest.raises(OfflineError) as err:
        make_offline(bad)
    assert "cdn.example.com" in str(err.value)
    css = html.replace(
        "</head>", "<style>.x{background:url(https://cdn.example.com/a.png)}</style></head>"
    )
    with pytest.raises(OfflineError):
        make_offline(css)


def test_online_base_layer_is_optional_and_the_only_external_reference(tmp_path):
    plan = make_plan()
    files = export_all(plan, tmp_path, formats=("html",), online_basemap=True)
    refs = external_refs(files["html"].read_text(encoding="utf-8"))
    assert len(refs) == 1 and refs[0].startswith("https://tile.openstreetmap.org/")
    plain = export_all(plan, tmp_path / "off", formats=("html",))
    assert external_refs(plain["html"].read_text(encoding="utf-8")) == []


def test_english_map_texts():
    html = build_map(make_plan(), lang="en").get_root().render()
    assert "Primary" in html and "Legend" in html
    assert "图例" not in html
