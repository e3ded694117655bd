"""Edits that answer at once (issue 18): a moved, added or deleted school and a re-planned result
are drawn in the page shown, through the bridge (``spReplace``), never by loading a new page.

The tiny county of ``tests/builders.py`` (pytest-qt, offscreen)."""

from __future__ import annotations

import json

import pytest
from builders import write_project
from gui_support import idle, quiet, run_js

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]

TIMEOUT_MS = 120_000


@pytest.fixture
def planned(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("SCHOOLPLAN_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("SCHOOLPLAN_SCENARIOS_DIR", str(tmp_path / "scenarios"))
    from app.gui.main import Launcher, create_app

    create_app()
    w = quiet(Launcher("zh", autosave_ms=3_600_000).open(write_project(tmp_path / "county")))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: bool(w.doc.layers is not None and idle(w)), timeout=TIMEOUT_MS)
    w.jobs.run("all")
    qtbot.waitUntil(
        lambda: bool(w.doc.result is not None and not w.doc.stale and idle(w)), timeout=TIMEOUT_MS
    )
    yield w
    from PyQt6 import sip

    if not sip.isdeleted(w):
        w.close()


def _marker(qtbot, w, key: str):
    got = run_js(
        qtbot,
        w.map,
        f"(function(){{var m=schoolplan.markers[{json.dumps(key)}];"
        "if(!m)return null;var p=m.getLatLng();return [p.lat,p.lng];})()",
    )
    return None if got is None else (float(got[0]), float(got[1]))


def test_edits_redraw_layers_without_a_new_page(qtbot, planned):
    w, doc = planned, planned.doc
    loads, replaced = w.map.loads, w.map.replaced
    assert _marker(qtbot, w, "primary|S01") is not None

    # moved (what the page's dragend calls): drawn at once, then the re-plan drawn again
    x, y = doc.school_xy("S01")
    lat, lng = doc.to_latlng(x + 1500.0, y)
    w.map.bridge.schoolMoved("S01", "primary", lat, lng)
    qtbot.waitUntil(lambda: w.map.replaced > replaced, timeout=TIMEOUT_MS)
    got = _marker(qtbot, w, "primary|S01")
    assert got == pytest.approx((lat, lng), abs=1e-5)
    qtbot.waitUntil(
        lambda: bool(not (doc.stale & {"groups", "catchments"}) and idle(w)), timeout=TIMEOUT_MS
    )
    assert w.map.replaced >= replaced + 2  # the edit, then the re-planned result
    # the zone of S01 in the page is the re-planned one (its popup/zone follow the result)
    assert _marker(qtbot, w, "primary|S01") == pytest.approx((lat, lng), abs=1e-5)

    # added on the map
    n = w.map.replaced
    lat2, lng2 = doc.to_latlng(x - 2000.0, y + 500.0)
    row = doc.school_template(*doc.to_metric(lat2, lng2), level="primary")
    from app.gui import commands

    w.undo_stack.push(commands.AddSchool(doc, row))
    qtbot.waitUntil(lambda: w.map.replaced > n, timeout=TIMEOUT_MS)
    assert _marker(qtbot, w, f"primary|{row['school_id']}") == pytest.approx((lat2, lng2), abs=1e-5)

    # deleted
    qtbot.waitUntil(lambda: bool(idle(w)), timeout=TIMEOUT_MS)
    n = w.map.replaced
    w.undo_stack.push(commands.DeleteSchool(doc, "S02"))
    qtbot.waitUntil(lambda: w.map.replaced > n, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: bool(idle(w)), timeout=TIMEOUT_MS)
    assert _marker(qtbot, w, "primary|S02") is None

    # a full re-plan is drawn in the same page too
    n = w.map.replaced
    w.jobs.run("all")
    qtbot.waitUntil(
        lambda: bool(not doc.stale and idle(w) and w.map.replaced > n), timeout=TIMEOUT_MS
    )
    assert w.map.loads == loads  # no page was loaded for any of it
    assert w.map.info["counts"]["schools"] >= len(doc.layers.schools) - 1
    errors = [m for m in w.map.page().console if m.startswith("Error")]
    assert not errors, errors
