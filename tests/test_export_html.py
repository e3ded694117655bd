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
from store.plan import write_plan  # noqa: E402

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
              var tip = document.querySelector(".leaflet-tooltip:not(.sp-town):not(.sp-village):not(.sp-new-label)");
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


HATCH_JS = """
(function () {
  var sp = window.schoolplan;
  Object.keys(sp.overlays).forEach(function (k) { sp.map.addLayer(sp.overlays[k]); });
  var pat = document.getElementById("sp-hatch-over");
  var hatch = Array.prototype.slice.call(document.querySelectorAll("path.sp-hatch"));
  return JSON.stringify({
    pattern: pat ? pat.tagName : null,
    inSvg: pat ? pat.ownerSVGElement !== null : false,
    lines: pat ? pat.querySelectorAll("line").length : 0,
    hatch: hatch.length,
    fills: hatch.map(function (p) { return p.getAttribute("fill"); }),
    interactive: hatch.filter(function (p) { return p.classList.contains("leaflet-interactive"); }).length,
    legend: document.querySelectorAll(".sp-legend rect[fill='url(#sp-hatch-over)']").length
  });
})()
"""


def test_over_capacity_zones_are_hatched_with_a_pattern_of_the_page(tmp_path, qtbot, browser):
    page, guard = browser
    plan = make_plan((9, 4, 3))
    files = export_all(plan, tmp_path, formats=("html",))
    html = files["html"].read_text(encoding="utf-8")
    assert external_refs(html) == []
    assert "url(#sp-hatch-over)" in html  # the fill points into the page itself
    _load(qtbot, page, files["html"])
    qtbot.waitUntil(
        lambda: bool(_js(qtbot, page, "!!(window.schoolplan && window.schoolplan.ready)")),
        timeout=10000,
    )
    got = json.loads(_js(qtbot, page, HATCH_JS))
    n_over = int((plan.catchments["utilization"] > 1).sum())
    assert n_over >= 2  # the fixture has one per level
    assert got["pattern"] == "pattern" and got["inSvg"] and got["lines"] == 1
    assert got["hatch"] == n_over
    assert got["fills"] == ["url(#sp-hatch-over)"] * n_over
    assert got["interactive"] == 0  # clicks reach the zone below (its popup)
    assert got["legend"] == 1
    assert guard.blocked == []


ENGLISH_JS = """
(function () {
  var sp = window.schoolplan;
  var layers = Array.prototype.map.call(
    document.querySelectorAll(".leaflet-control-layers-overlays label span"),
    function (s) { return s.textContent.trim(); });
  var z = sp.zones["primary|P003"]; z.openPopup(z.getBounds().getCenter());
  var zone = Array.prototype.map.call(document.querySelectorAll(".leaflet-popup-content th"),
    function (th) { return th.textContent; });
  var zoneText = document.querySelector(".leaflet-popup-content").textContent;
  var m = sp.markers["primary|P001"]; m.openPopup();
  var school = Array.prototype.map.call(document.querySelectorAll(".leaflet-popup-content th"),
    function (th) { return th.textContent; });
  return JSON.stringify({ layers: layers, zone: zone, school: school,
    zoneText: zoneText,
    legend: document.querySelector(".sp-legend").textContent,
    title: document.querySelector(".sp-title").textContent });
})()
"""


def test_english_map_in_the_browser(tmp_path, qtbot, browser):
    page, guard = browser
    files = export_all(make_plan(), tmp_path, formats=("html",), lang="en")
    _load(qtbot, page, files["html"])
    qtbot.waitUntil(
        lambda: bool(_js(qtbot, page, "!!(window.schoolplan && window.schoolplan.ready)")),
        timeout=10000,
    )
    got = json.loads(_js(qtbot, page, ENGLISH_JS))
    cjk = re.compile(r"[\u3400-\u9fff]")
    assert "Primary schools" in got["layers"] and "Primary zones" in got["layers"]
    assert "Junior group links" in got["layers"]
    for texts in (got["layers"], got["zone"], got["school"], [got["legend"]]):
        assert not any(cjk.search(x) for x in texts), texts  # data names are not in these
    assert {"Students", "Capacity", "Utilisation"} <= set(got["zone"])
    assert "· Primary zones" in got["zoneText"]
    assert {"Layout", "Students", "Group", "Reason"} <= set(got["school"])
    assert "Zone over capacity" in got["legend"] and "Zones" in got["legend"]
    assert "school layout plan" in got["title"]
    assert guard.blocked == []


PANELS_JS = """
(function () {
  function box(sel) { var r = document.querySelector(sel).getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom]; }
  return JSON.stringify({ legend: box(".sp-legend"), layers: box(".leaflet-control-layers"),
    title: box(".sp-title"), w: window.innerWidth, h: window.innerHeight });
})()
"""


def test_legend_and_layer_list_do_not_meet_on_a_1400_by_900_screen(
    tmp_path, qtbot, browser, sample_plan
):
    """The sample county's map (roads, townships, villages, three levels: the longest layer list)
    on a common laptop screen: the title, the legend and the layer list all show, none on another."""
    from PyQt6.QtWebEngineWidgets import QWebEngineView

    page, guard = browser
    files = export_all(sample_plan[0], tmp_path, formats=("html",))
    view = QWebEngineView()
    view.setPage(page)
    view.resize(1400, 900)
    view.show()
    _load(qtbot, page, files["html"])
    qtbot.waitUntil(
        lambda: bool(_js(qtbot, page, "!!(window.schoolplan && window.schoolplan.ready)")),
        timeout=10000,
    )
    got = json.loads(_js(qtbot, page, PANELS_JS))
    assert (got["w"], got["h"]) == (1400, 900)

    def meet(a, b):
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    panels = [got["legend"], got["layers"], got["title"]]
    for i, a in enumerate(panels):
        assert 0 <= a[0] and a[2] <= 1400 and 0 <= a[1] and a[3] <= 900, a  # on the screen
        assert not any(meet(a, b) for b in panels[i + 1 :]), got
    assert guard.blocked == []
    view.setPage(None)
    view.deleteLater()
