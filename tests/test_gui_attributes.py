"""Attribute tables per layer and identify on every layer (issue 18; pytest-qt, offscreen)."""

from __future__ import annotations

import os

import pytest
from gui_support import run_js

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]
TIMEOUT_MS = 120_000


def _planned(qtbot, w) -> None:
    from gui_support import idle

    w.jobs.run("all")
    qtbot.waitUntil(
        lambda: bool(w.doc.result is not None and not w.doc.stale and idle(w)), timeout=TIMEOUT_MS
    )


def _headers(table) -> list[str]:
    from PyQt6.QtCore import Qt

    m = table.proxy
    return [m.headerData(i, Qt.Orientation.Horizontal) for i in range(m.columnCount())]


def test_attribute_table_from_the_layers_panel_linked_with_the_map(qtbot, mini, tmp_path):
    from PyQt6.QtCore import Qt

    w, doc = mini, mini.doc
    _planned(qtbot, w)
    panel = w.layers_panel
    item = next(
        panel.list.item(i)
        for i in range(panel.list.count())
        if panel.list.item(i).data(Qt.ItemDataRole.UserRole).startswith("schools_")
    )
    panel.list.itemDoubleClicked.emit(item)  # as a double-click on the schools layer
    table = w.attributes.tables["schools"]
    dock = w.attributes.docks["schools"]
    assert dock.isVisible() and "属性表" in dock.windowTitle()
    heads = _headers(table)
    assert "学段" in heads and "school_id" not in heads and "level" not in heads
    total = table.proxy.rowCount()
    assert total == len(doc.result.schools)
    level = table.model.columns.index("level")
    shown = {table.proxy.index(r, level).data() for r in range(total)}
    assert "小学" in shown and not shown & {"primary", "junior", "senior"}

    # filter on the words shown, sort on raw values
    table.filter.setText("城关")
    assert 0 < table.proxy.rowCount() < total
    assert "显示" in table.count.text()
    table.filter.clear()
    col = table.model.columns.index("students")
    table.view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    values = [table.proxy.index(r, col).data(Qt.ItemDataRole.UserRole) for r in range(total)]
    nums = [v for v in values if isinstance(v, float)]
    assert nums == sorted(nums, reverse=True)

    # a row selected: the school ringed on the map
    table.view.selectRow(0)
    qtbot.waitUntil(
        lambda: run_js(qtbot, w.map, "document.querySelectorAll('.sp-highlight').length") == 1,
        timeout=10_000,
    )
    # and back: a school clicked on the map selects its row
    row = doc.result.schools.iloc[3]
    w.map.bridge.schoolClicked(str(row["school_id"]), str(row["level"]))
    sel = table.view.selectionModel().selectedRows()
    assert len(sel) == 1
    src = table.proxy.mapToSource(sel[0]).row()
    assert str(table.model.raw(src, "school_id")) == str(row["school_id"])

    # the context menu names the item's layers, and every layer in a submenu
    menu = panel.attribute_menu(item)
    texts = [a.text() for a in menu.actions()]
    assert any("属性表" in t and "学校" in t for t in texts)
    sub = next(a.menu() for a in menu.actions() if a.menu() is not None)
    assert len(sub.actions()) == 9

    # every layer with data opens with Chinese headers and coded values as words
    from app.gui.attributes import value_text

    assert value_text("kind", "village", "zh") != "village"
    for key in ("units", "boundary", "catchments", "groups", "new_schools", "demand"):
        t = w.attributes.open(key)
        assert t is not None and t.model.rowCount() > 0, key
        heads = _headers(t)
        assert any(not h.isascii() for h in heads), (key, heads)
        assert not [h for h in heads if h.isascii()], (key, heads)
    groups = w.attributes.tables["groups"]
    pat = groups.model.columns.index("pattern")
    cells = [groups.proxy.index(r, pat).data() for r in range(groups.proxy.rowCount())]
    assert cells and all(not c.isascii() for c in cells if c), cells
    # a group row rings its core and members
    groups.view.selectRow(0)
    n = 1 + len(str(groups.model.raw(0, "member_ids")).replace(";", ",").split(","))
    qtbot.waitUntil(
        lambda: run_js(qtbot, w.map, "document.querySelectorAll('.sp-highlight').length") >= 2,
        timeout=10_000,
    )
    assert n >= 2
    w.attributes.open("schools")
    shot = os.environ.get("SCHOOLPLAN_SHOT", str(tmp_path / "attributes.png"))
    assert w.grab().save(shot)


def test_identify_every_layer(qtbot, mini):
    from shapely.geometry import Point

    w, doc = mini, mini.doc
    _planned(qtbot, w)
    panel = w.identify

    # a school marker clicked
    s = doc.result.schools.iloc[0]
    w.map.bridge.schoolClicked(str(s["school_id"]), str(s["level"]))
    assert panel.shown == ("schools", 0) and w.identify_dock.isVisible()
    assert panel.value("name") == str(s["name"]) and panel.value("level") == "小学"
    assert panel.value("src_row") is None  # bookkeeping, not shown

    def at(x: float, y: float, tol: float = 30.0):
        lat, lng = doc.to_latlng(x, y)
        w.map.bridge.identifyAt(lat, lng, tol)
        return panel.shown

    # a village / demand point
    d = doc.result.demand.geometry.iloc[0]
    layer, row = at(d.x + 5, d.y)
    # (a tiny project's proposed candidate sites sit on its villages)
    assert layer in ("demand", "units", "candidates")
    # a place inside a zone, far from every point and line: the zone
    zones = doc.result.catchments
    z = zones.geometry.iloc[0]
    probe = z.representative_point()
    layer, _ = at(probe.x, probe.y, tol=1.0)
    assert layer in ("catchments", "groups", "roads", "demand", "units")
    # a group link (a line) and a new school, when the plan has them
    if len(doc.result.groups) and doc.result.groups.geom_type.iloc[0] == "LineString":
        g = doc.result.groups.geometry.iloc[0].interpolate(0.5, normalized=True)
        assert at(g.x, g.y, tol=5.0)[0] in ("groups", "roads")
    # nothing there: the panel keeps what it showed
    before = panel.shown
    far = Point(z.bounds[0] - 1e6, z.bounds[1] - 1e6)
    assert at(far.x, far.y) == before

    # the page's own click handler reports the click (no add / measure mode)
    lat, lng = doc.to_latlng(d.x, d.y)
    panel.shown = None
    run_js(qtbot, w.map, f"schoolplanMap.fire('click', {{latlng: L.latLng({lat}, {lng})}}); 1")
    qtbot.waitUntil(lambda: panel.shown is not None, timeout=10_000)
    assert panel.shown[0] in ("demand", "units", "candidates")
    # a layer switched off is not identified (schools are drawn in schools_<level>)
    from app.gui.attributes import hidden_data_layers

    assert hidden_data_layers(
        [{"key": "unserved_primary"}, {"key": "unserved_junior"}, {"key": "schools_primary"}],
        {"unserved_primary", "unserved_junior"},
    ) == {"demand"}
    sx, sy = s.geometry.x, s.geometry.y
    assert at(sx, sy, tol=5.0)[0] in ("schools", "new_schools")
    for layer in list(w.map.listed_layers()):
        if layer["key"].startswith("schools_"):
            w.map.set_visible(layer["key"], False)
    panel.shown = None
    shown = at(sx, sy, tol=5.0)
    assert shown is None or shown[0] not in ("schools", "new_schools")


def test_candidates_and_roads_tables_and_identify(qtbot, mini):
    import dataclasses

    import geopandas as gpd
    from shapely.geometry import LineString

    from app.gui import commands

    w, doc = mini, mini.doc
    x, y = doc.school_xy(str(doc.layers.schools["school_id"].iloc[0]))
    # The project has no candidates layer: the sites proposed from the population (P001 ...)
    # are listed after the planner's own (C001 ...).
    proposed = len(doc.candidates())
    assert proposed and (doc.candidates()["origin"] == "proposed").all()
    doc.undo_stack.push(commands.AddCandidate(doc, doc.candidate_template(x + 300, y, "junior")))
    table = w.attributes.open("candidates")
    assert table.model.rowCount() == proposed + 1
    assert "候选点编号" in _headers(table)
    level, cid = table.model.columns.index("level"), table.model.columns.index("candidate_id")
    ids = [table.proxy.index(r, cid).data() for r in range(table.proxy.rowCount())]
    assert table.proxy.index(ids.index("C001"), level).data() == "初中"
    doc.undo_stack.push(commands.AddCandidate(doc, doc.candidate_template(x - 300, y)))
    assert table.model.rowCount() == proposed + 2  # refreshed with the layers
    w.map.bridge.candidateClicked("C002")
    assert w.identify.shown == ("candidates", 1)

    road = LineString([(x - 5000, y + 2000), (x + 5000, y + 2000)])
    roads = gpd.GeoDataFrame(
        {"road_class": ["county"], "speed_kmh": [40.0]}, geometry=[road], crs=doc.layers.crs
    )
    doc.layers = dataclasses.replace(doc.layers, roads=roads)
    t = w.attributes.open("roads")
    assert _headers(t) == ["道路等级", "车速(公里/时)"]
    lat, lng = doc.to_latlng(x + 1000, y + 2003)
    w.identify_at(lat, lng, 10.0)
    assert w.identify.shown == ("roads", 0)
    assert w.identify.value("speed_kmh") == "40"
