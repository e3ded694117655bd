"""The smaller items of issue 18, each on its own (pytest-qt, offscreen)."""

from __future__ import annotations

import pytest
from gui_support import run_js

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]


def _wheel(widget, steps: int = -1) -> None:
    from PyQt6.QtCore import QPoint, QPointF, Qt
    from PyQt6.QtGui import QWheelEvent
    from PyQt6.QtWidgets import QApplication

    pos = QPointF(widget.rect().center())
    event = QWheelEvent(
        pos,
        QPointF(widget.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_wheel_over_the_rules_form_changes_no_value_unless_focused(qtbot):
    from PyQt6.QtWidgets import QComboBox, QSpinBox

    from app.gui.rules_form import RulesForm

    form = RulesForm("zh")
    qtbot.addWidget(form)
    form.show()
    spin = next(e for _, e in form.editors.values() if isinstance(e, QSpinBox) and e.value() > 2)
    combo = next(e for _, e in form.editors.values() if isinstance(e, QComboBox))
    page = spin.parentWidget()
    page.parentWidget().parentWidget().ensureWidgetVisible(spin)  # the scroll area
    value, index = spin.value(), combo.currentIndex()
    for _ in range(3):
        _wheel(spin)
        _wheel(combo, 1)
    assert spin.value() == value and combo.currentIndex() == index and not form.changes()
    # clicked into (focused), the wheel does change it
    form.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=5000)
    _wheel(spin)
    assert spin.value() == value - spin.singleStep()


def test_rule_choices_show_labels_and_store_codes(qtbot):
    from PyQt6.QtWidgets import QComboBox

    from app.gui.rules_form import CodeList, RulesForm
    from core.vocab import MODE, PATTERN
    from planning.rules import Rules

    form = RulesForm("zh")
    qtbot.addWidget(form)
    rules = Rules()
    form.set_rules(rules, rules)
    _, mode = form.editors[("groups", "mode_central_rural")]
    assert isinstance(mode, QComboBox)
    assert [mode.itemText(i) for i in range(mode.count())] == [
        MODE.label(c, "zh") for c in MODE.codes
    ]
    assert mode.currentText() == MODE.label(rules.groups.mode_central_rural, "zh")
    assert form.value("groups", "mode_central_rural") == rules.groups.mode_central_rural
    form.set_value("groups", "mode_central_rural", "bundled")
    assert form.changes() == {"groups": {"mode_central_rural": "bundled"}}
    _, order = form.editors[("groups", "pattern_priority")]
    assert isinstance(order, CodeList)
    assert order.codes() == rules.groups.pattern_priority
    shown = [order.item(i).text() for i in range(order.count())]
    assert shown == [PATTERN.label(c, "zh") for c in rules.groups.pattern_priority.split(",")]
    for _, editor in form.editors.values():
        if isinstance(editor, QComboBox):
            for i in range(editor.count()):
                assert editor.itemText(i) != editor.itemData(i) or not editor.itemText(i).isascii()


# ----------------------------------------------------------------------------- in a window
TIMEOUT_MS = 120_000


def _boxes(w):
    from PyQt6.QtWidgets import QMessageBox

    return [b for b in w.findChildren(QMessageBox) if b.isVisible()]


def test_adding_a_school_outside_the_county_warns(qtbot, mini):
    w, doc = mini, mini.doc
    minx, miny, maxx, maxy = doc.layers.boundary.total_bounds
    inside = doc.to_latlng((minx + maxx) / 2, (miny + maxy) / 2)
    w.edit.add_school_at(*inside, "primary")
    assert not _boxes(w)
    sid = w.edit.add_school_at(*doc.to_latlng(maxx + 5000.0, maxy + 5000.0), "primary")
    boxes = _boxes(w)
    assert boxes and "县域" in boxes[-1].text() and sid in boxes[-1].text()
    assert sid in set(doc.layers.schools["school_id"])  # kept; undo takes it back
    w.undo_stack.undo()
    assert sid not in set(doc.layers.schools["school_id"])
    for b in boxes:
        b.close()


def test_candidate_sites_in_the_layers_panel_and_the_legend(qtbot, mini):
    from gui_support import idle

    w, doc = mini, mini.doc
    minx, miny, maxx, maxy = doc.layers.boundary.total_bounds
    w.edit.add_candidate_at(*doc.to_latlng((minx + maxx) / 2, (miny + maxy) / 2))
    qtbot.waitUntil(lambda: bool(idle(w)), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: "candidates" in w.layers_panel.keys(), timeout=TIMEOUT_MS)
    i = w.layers_panel.keys().index("candidates")
    assert w.layers_panel.list.item(i).text() == "候选地块"
    legend = run_js(qtbot, w.map, "document.querySelector('.sp-cand-legend').innerText")
    assert "候选地块" in legend
    # unticked in the panel: hidden on the map
    from PyQt6.QtCore import Qt

    w.layers_panel.list.item(i).setCheckState(Qt.CheckState.Unchecked)
    qtbot.waitUntil(
        lambda: run_js(qtbot, w.map, "document.querySelectorAll('.sp-candidate').length") == 0,
        timeout=10_000,
    )


def test_export_counts_the_files_written_and_the_view_has_no_popup(qtbot, mini, tmp_path):
    import os
    import stat

    from gui_support import idle

    w = mini
    w.jobs.run("all")
    qtbot.waitUntil(
        lambda: bool(w.doc.result is not None and not w.doc.stale and idle(w)), timeout=TIMEOUT_MS
    )
    opened = run_js(
        qtbot,
        w.map,
        "(function(){var k=Object.keys(schoolplan.markers)[0];schoolplan.markers[k].openPopup();"
        "return document.querySelectorAll('.leaflet-popup').length;})()",
    )
    assert opened == 1
    out = tmp_path / "export"
    w.jobs.export_to(out, formats=("html", "xlsx"))
    qtbot.waitUntil(lambda: bool(w.jobs.last_export) and not w.jobs.io.busy, timeout=300_000)
    assert w.jobs.popups_at_grab == 0  # closed before the view was grabbed
    on_disk = sorted(p.name for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    assert w.jobs.last_export_count == len(on_disk)
    assert f"{len(on_disk)} 个文件" in w.status_text.text() or str(len(on_disk)) in (
        w.status_text.text()
    )
    # summary.json: an ordinary file (umask-respecting), not private 0600
    mask = os.umask(0o022)
    os.umask(mask)
    mode = stat.S_IMODE((out / "summary.json").stat().st_mode)
    assert mode == 0o666 & ~mask


def test_search_by_name_and_filter_and_sort_tables(qtbot, mini):
    from PyQt6.QtCore import Qt

    w, doc = mini, mini.doc
    box = w.search
    box.refresh()
    names = list(box.entries)
    assert any("城关一小" in n for n in names) and any("桥头村" in n and "村庄" in n for n in names)
    hit = next(n for n in names if n.startswith("城关一小"))
    assert box.go(hit)
    assert w.edit.selected_school() == ("S01", "primary")
    assert w.tables.selected_key() == ("S01", "primary")
    assert box.go("桥头村")  # a village: the map goes there
    assert not box.go("没有这个名字")

    view = w.tables.views["schools"]
    total = view.model().rowCount()
    w.tables.filter.setText("城关")
    assert 0 < view.model().rowCount() < total
    w.tables.filter.setText("小学")  # words as shown (the level's label), not codes
    assert view.model().rowCount() == int((doc.layers.schools["level"] == "primary").sum())
    w.tables.filter.clear()
    assert view.model().rowCount() == total
    col = [c for c, _ in w.tables.models["schools"].columns].index("students")
    view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    shown = [view.model().index(r, col).data(Qt.ItemDataRole.UserRole) for r in range(total)]
    assert shown == sorted(shown, reverse=True)


def test_measure_distance_and_labels(qtbot, mini):
    from gui_support import idle
    from pyproj import Geod

    w, doc = mini, mini.doc
    a = w.actions_by_name
    a["measure"].trigger()
    assert a["measure"].isChecked() and not a["add_school"].isChecked()
    pts = [(25.50, 111.60), (25.50, 111.62), (25.52, 111.62)]
    for lat, lng in pts:
        run_js(qtbot, w.map, f"spMeasureAdd({lat}, {lng})")
    km = float(run_js(qtbot, w.map, "window.spMeasureKm"))
    geod = Geod(ellps="WGS84")
    expected = sum(geod.inv(p[1], p[0], q[1], q[0])[2] for p, q in zip(pts, pts[1:])) / 1000
    assert abs(km - expected) < 0.01 * expected
    qtbot.waitUntil(lambda: "距离" in w.status_text.text(), timeout=10_000)
    a["add_school"].trigger()  # another click mode ends measuring
    assert not a["measure"].isChecked()
    a["add_school"].trigger()

    a["labels"].trigger()
    qtbot.waitUntil(
        lambda: (
            run_js(qtbot, w.map, "document.querySelectorAll('.sp-label').length")
            == w.map.info["counts"]["schools"]
        ),
        timeout=10_000,
    )
    text = run_js(qtbot, w.map, "document.querySelector('.sp-label').innerText")
    assert text in set(doc.layers.schools["name"])
    # kept across a redraw of the layers
    w.jobs.run("all")
    qtbot.waitUntil(
        lambda: bool(w.doc.result is not None and not w.doc.stale and idle(w)), timeout=TIMEOUT_MS
    )
    assert run_js(qtbot, w.map, "document.querySelectorAll('.sp-label').length") > 0
    a["labels"].trigger()
    qtbot.waitUntil(  # (Leaflet fades tooltips out before removing them)
        lambda: run_js(qtbot, w.map, "document.querySelectorAll('.sp-label').length") == 0,
        timeout=10_000,
    )


def _png(color) -> bytes:
    from PyQt6.QtCore import QBuffer, QIODevice
    from PyQt6.QtGui import QColor, QImage

    img = QImage(256, 256, QImage.Format.Format_RGB32)
    img.fill(QColor(color))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(buf.data())


def _mbtiles(path, zooms=range(0, 13)) -> None:
    """Tiles covering the mini county at every zoom (TMS rows, as MBTiles store them)."""
    import math
    import sqlite3

    lat, lng = 25.5, 111.6
    png = _png("#a0c8f0")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("INSERT INTO metadata VALUES ('format', 'png')")
        db.execute(
            "CREATE TABLE tiles (zoom_level INT, tile_column INT, tile_row INT, tile_data BLOB)"
        )
        for z in zooms:
            n = 1 << z
            x = int((lng + 180) / 360 * n)
            y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    tx, ty = (x + dx) % n, min(max(y + dy, 0), n - 1)
                    db.execute("INSERT INTO tiles VALUES (?,?,?,?)", (z, tx, n - 1 - ty, png))


def test_basemap_none_folder_mbtiles_and_gcj02_shift(qtbot, mini, tmp_path):
    from gui_support import idle

    from app.gui.basemap import Basemap, unpack_mbtiles

    w = mini
    mb = tmp_path / "county.mbtiles"
    _mbtiles(mb, zooms=(1,))
    folder = unpack_mbtiles(mb, tmp_path / "tiles")
    # TMS row 0 of zoom 1 is the bottom row: XYZ row 1
    written = {p.relative_to(folder).as_posix() for p in folder.glob("1/*/*.png")}
    assert "1/1/0.png" in written  # the county's tile at zoom 1 (x 1, y 0 from the top)
    _mbtiles(tmp_path / "full.mbtiles")

    def tiles() -> int:
        return int(run_js(qtbot, w.map, "document.querySelectorAll('.sp-basemap img').length"))

    assert tiles() == 0  # none by default: the map works offline
    w.jobs.set_basemap(Basemap("mbtiles", str(tmp_path / "full.mbtiles")))
    qtbot.waitUntil(lambda: bool(idle(w)) and tiles() > 0, timeout=TIMEOUT_MS)
    src = run_js(qtbot, w.map, "document.querySelector('.sp-basemap img').src")
    assert src.startswith("file://") and src.endswith(".png")
    loaded = "Array.from(document.querySelectorAll('.sp-basemap img')).filter(function(i){return i.complete&&i.naturalWidth>0;}).length"
    qtbot.waitUntil(lambda: int(run_js(qtbot, w.map, loaded)) > 0, timeout=20_000)
    assert run_js(qtbot, w.map, "window.spBasemapShift") == [0, 0]

    # an online source in GCJ-02: the tiles are shifted by the local offset (a few hundred m)
    w.jobs.set_basemap(Basemap("xyz", "https://tiles.invalid/{z}/{x}/{y}.png", gcj02=True))
    qtbot.waitUntil(lambda: bool(idle(w)) and tiles() > 0, timeout=TIMEOUT_MS)
    dx, dy = run_js(qtbot, w.map, "window.spBasemapShift")
    zoom = float(run_js(qtbot, w.map, "schoolplanMap.getZoom()"))
    metres_per_px = 156543.03 * 0.9026 / 2**zoom  # cos(25.5°)
    shift_m = (dx * dx + dy * dy) ** 0.5 * metres_per_px
    assert 200 < shift_m < 900, shift_m
    gcj = run_js(qtbot, w.map, "spToGcj(25.5, 111.6)")
    assert abs(gcj[0] - 25.5) < 0.01 and abs(gcj[1] - 111.6) < 0.01 and gcj != [25.5, 111.6]

    w.jobs.set_basemap(Basemap("none"))
    qtbot.waitUntil(lambda: bool(idle(w)) and tiles() == 0, timeout=TIMEOUT_MS)
