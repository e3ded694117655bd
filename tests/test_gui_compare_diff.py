"""Differences you can see (issue 18): the compare view draws the villages that change school and
the schools added, removed, moved or re-classified over its maps, as compare.html's change map;
and the dialog fits a 1366×768 laptop screen (resizable, not a fixed 1500×920).

The tiny county of ``tests/builders.py`` (pytest-qt, offscreen)."""

from __future__ import annotations

import pytest
from builders import write_project
from gui_support import idle, quiet, run_js

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]

TIMEOUT_MS = 120_000


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("SCHOOLPLAN_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("SCHOOLPLAN_SCENARIOS_DIR", str(tmp_path / "scenarios"))
    from app.gui.main import Launcher, create_app

    create_app()
    w = quiet(Launcher("zh", autosave_ms=3_600_000).open(write_project(tmp_path / "county")))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: bool(w.doc.layers is not None and idle(w)), timeout=TIMEOUT_MS)
    yield w
    from PyQt6 import sip

    if not sip.isdeleted(w):
        w.close()


def _plan(qtbot, w):
    w.jobs.run("all")
    qtbot.waitUntil(
        lambda: bool(w.doc.result is not None and not w.doc.stale and idle(w)), timeout=TIMEOUT_MS
    )


def test_compare_view_colours_the_changes(qtbot, win):
    from app.gui import commands

    w, doc, ctl = win, win.doc, win.scenarios
    _plan(qtbot, w)
    assert ctl.new_from_current("基准") == "基准"
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy and not doc.dirty), timeout=TIMEOUT_MS)
    # the other scenario: a village school closed, a school added in the new quarter, one moved
    w.undo_stack.push(commands.DeleteSchool(doc, "S03", "primary"))
    lat, lng = 25.548, 111.648
    w.undo_stack.push(
        commands.AddSchool(doc, doc.school_template(*doc.to_metric(lat, lng), level="primary"))
    )
    x, y = doc.school_xy("S02")
    w.map.bridge.schoolMoved("S02", "junior", *doc.to_latlng(x + 1500.0, y))
    _plan(qtbot, w)
    assert ctl.new_from_current("调整") == "调整"
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy), timeout=TIMEOUT_MS)

    dlg = ctl.open_compare("基准", "调整")
    qtbot.waitUntil(
        lambda: bool(dlg.comparison is not None and dlg.map_a.is_ready and dlg.map_b.is_ready),
        timeout=TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: bool(not dlg.is_busy()), timeout=TIMEOUT_MS)
    counts = dlg.comparison.diffs[0].counts
    assert counts["villages_changed"] >= 1
    assert counts["schools_added"] >= 1 and counts["schools_removed"] >= 1
    assert counts["schools_moved"] >= 1
    for view in (dlg.map_a, dlg.map_b):
        qtbot.waitUntil(
            lambda v=view: bool(run_js(qtbot, v, "!!window.spDiffCounts")), timeout=20_000
        )
        drawn = run_js(qtbot, view, "window.spDiffCounts")
        assert int(drawn["villages"]) == len(dlg.comparison.diffs[0].villages)
        assert int(drawn["groups"]) == counts["groups_changed"]
        for change in ("added", "removed", "moved", "status"):
            assert int(drawn[change]) == counts[f"schools_{change}"], change
        legend = run_js(qtbot, view, "document.querySelector('.sp-diff-legend').innerText")
        assert "换校村庄" in legend and "新增" in legend
        n = run_js(qtbot, view, "document.querySelectorAll('.sp-diff-village').length")
        assert int(n) == len(dlg.comparison.diffs[0].villages)
    dlg.close()


def test_compare_dialog_fits_a_laptop_screen(qtbot, win):
    from app.gui.compare_view import CompareView

    dlg = CompareView(win.scenarios, "zh", win)
    qtbot.addWidget(dlg)
    hint = dlg.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 740
    avail = dlg.screen().availableGeometry()
    assert dlg.width() <= max(avail.width(), 1500) and dlg.height() <= max(avail.height(), 920)
    assert dlg.width() <= avail.width() or avail.width() >= 1500
    dlg.resize(1366, 740)  # resizable down to a laptop's screen, nothing fixed
    assert (dlg.width(), dlg.height()) == (1366, 740)
    dlg.resize(1024, 700)
    assert dlg.width() <= 1024 + 1 and dlg.height() <= 700 + 1
    dlg.close()
