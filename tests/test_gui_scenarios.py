"""Scenarios in the window: the list, switching, and the compare view with two maps in step.

Drives the real window on the sample county (pytest-qt, offscreen): two scenarios differing in
the group radius (15 vs 20 km), each planned through the window's own run path; switching back
restores the first; the compare view's table equals ``planning.compare`` on the two results;
panning one map through its page (moveend → QWebChannel bridge) moves the other; the export
writes compare.xlsx and compare.html. Saves docs/compare_view.png.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from gui_support import idle, run_js

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]

ROOT = Path(__file__).resolve().parents[1]
PLAN_TIMEOUT_MS = 600_000
A, B = "半径15公里", "半径20公里"


def _run_all(qtbot, w, radius: float):
    loads = w.map.updates
    w.jobs.run("all")
    qtbot.waitUntil(
        lambda: bool(
            w.doc.result is not None
            and w.doc.result.status != "empty"
            and w.doc.result.rules.groups.radius_km == radius
            and not w.doc.stale
            and idle(w)
            and w.map.updates > loads
        ),
        timeout=PLAN_TIMEOUT_MS,
    )
    return w.doc.result


def _center(qtbot, view):
    c = run_js(
        qtbot,
        view,
        "(function(){var c=schoolplanMap.getCenter();return [c.lat,c.lng,schoolplanMap.getZoom()];})()",
    )
    return float(c[0]), float(c[1]), float(c[2])


def test_scenarios_switch_compare_sync_export(qtbot, window, tmp_path):
    from planning.compare import compare_plans
    from store.scenario import load_scenario

    w, doc, ctl = window, window.doc, window.scenarios
    root = tmp_path / "scenarios"
    assert ctl.set.entries == [] and ctl.set.root == root

    defaults = doc.default_rules
    # --- scenario A: radius 15 km, planned through the window's run path
    w.edit.apply_rules({"groups": {"radius_km": 15.0}})
    assert ctl.new_from_current(A) == A
    assert ctl.set.current == A and doc.scenario_path == root / A
    r15 = _run_all(qtbot, w, 15.0)
    w.files.save()  # the plan of A is saved in A ("new from current" below is a "save as")
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy and not doc.dirty), timeout=120_000)

    # --- scenario B from A, radius 20 km, planned again
    assert ctl.new_from_current(B) == B
    assert ctl.set.current == B
    w.edit.apply_rules({"groups": {"radius_km": 20.0}})
    r20 = _run_all(qtbot, w, 20.0)
    assert r20 is not r15
    assert w.undo_stack.count() == 2  # "new from current" keeps the history: 15 km, then 20 km
    stack_b = w.undo_stack
    assert w.scenarios_panel.list.count() == 2

    # --- switch back to A (B's edits saved on the way): A's rules, result and own history return
    assert ctl.switch_to(A)
    qtbot.waitUntil(lambda: bool(ctl.set.current == A and idle(w)), timeout=120_000)
    assert doc.rules.groups.radius_km == 15.0 and doc.result.rules.groups.radius_km == 15.0
    assert not doc.stale and w.undo_stack.count() == 0 and w.undo_stack is not stack_b
    assert ctl.set.get(B).stack is stack_b and stack_b.count() == 2
    assert doc.default_rules is defaults  # "reset to defaults" still means the project's rules
    assert ctl.set.get(B).result.rules.groups.radius_km == 20.0

    # --- both saved as scenario folders (B saved when we left it)
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy), timeout=120_000)
    for name, radius in ((A, 15.0), (B, 20.0)):
        sc = load_scenario(root / name)
        assert sc.name == name and sc.rules.groups.radius_km == radius
        assert sc.result is not None and len(sc.result.groups) > 0

    # --- compare view: the same table as planning.compare on the two results
    dlg = ctl.open_compare(A, B)
    qtbot.waitUntil(
        lambda: bool(dlg.comparison is not None and dlg.map_a.is_ready and dlg.map_b.is_ready),
        timeout=120_000,
    )
    qtbot.waitUntil(lambda: bool(not dlg.is_busy()), timeout=120_000)
    expected = compare_plans([(A, r15), (B, r20)])
    t = dlg.table
    assert t.rowCount() == len(expected.rows) > 10
    assert [t.horizontalHeaderItem(c).text() for c in (3, 4)] == [A, B]
    from app.gui.compare_view import BEST_ROLE, VALUE_ROLE

    differs = 0
    for r, row in enumerate(expected.rows):
        assert t.item(r, 0).text() == row.spec.label("zh")
        for k, value in enumerate(row.values):
            cell = t.item(r, 3 + k)
            assert cell.data(VALUE_ROLE) == value, (row.spec.key, k)
            assert bool(cell.data(BEST_ROLE)) == (k in row.best), (row.spec.key, k)
        differs += row.values[0] != row.values[1]
    assert differs > 0  # the radius changes the plan; the columns are not interchangeable
    assert "radius_km" in set(expected.rules["name"])
    assert "15" in dlg.note.text() and "20" in dlg.note.text()
    # the schools whose group changed with the radius are marked on the maps (as compare.html)
    changed = dlg.comparison.diffs[0].counts["groups_changed"]
    assert changed > 0
    qtbot.waitUntil(
        lambda: bool(
            run_js(qtbot, dlg.map_b, "window.spDiffCounts ? spDiffCounts.groups : -1") == changed
        ),
        timeout=20_000,
    )

    # --- pan map A through its page: moveend → bridge → map B follows, no echo loop
    sync = dlg.sync
    lat, lng, zoom = _center(qtbot, dlg.map_a)
    target = (lat + 0.03, lng - 0.04, zoom + 1)
    reports_b, forwarded = sync.reports[1], sync.forwarded
    # (a script must not end on the L.Map: runJavaScript would try to serialise it)
    dlg.map_a.js(
        f"schoolplanMap.setView([{target[0]}, {target[1]}], {target[2]}, {{animate: false}}); null"
    )
    qtbot.waitUntil(lambda: bool(sync.reports[1] > reports_b), timeout=10_000)  # B's echo
    qtbot.wait(300)
    lat_b, lng_b, zoom_b = _center(qtbot, dlg.map_b)
    assert zoom_b == target[2]  # fractional zooms (quarter steps) carried exactly
    assert abs(lat_b - target[0]) < 1e-3 and abs(lng_b - target[1]) < 1e-3
    assert sync.forwarded == forwarded + 1  # A → B once; B's echo was not sent back
    lat_a, lng_a, zoom_a = _center(qtbot, dlg.map_a)
    assert zoom_a == target[2] and abs(lat_a - target[0]) < 1e-3

    # and the other way: zoom B out, A follows
    reports_a = sync.reports[0]
    dlg.map_b.js("schoolplanMap.setZoom(schoolplanMap.getZoom() - 2, {animate: false}); null")
    qtbot.waitUntil(lambda: bool(sync.reports[0] > reports_a), timeout=10_000)
    qtbot.wait(300)
    assert _center(qtbot, dlg.map_a)[2] == target[2] - 2 == _center(qtbot, dlg.map_b)[2]
    assert sync.forwarded == forwarded + 2

    # --- screenshot of the compare view on a laptop screen (the maps fitted back to the county)
    dlg.resize(1366, 768)
    qtbot.wait(300)
    reports_b = sync.reports[1]
    dlg.map_a.js("schoolplanMap.fitBounds(schoolplan.data.bounds, {animate: false}); null")
    qtbot.waitUntil(lambda: bool(sync.reports[1] > reports_b), timeout=10_000)
    qtbot.wait(1200)
    # The README picture is refreshed only on request (SCHOOLPLAN_UPDATE_DOCS=1), so a test run
    # never leaves a tracked file changed.
    docs = ROOT / "docs" if os.environ.get("SCHOOLPLAN_UPDATE_DOCS") else tmp_path
    shot = docs / "compare_view.png"
    shot.parent.mkdir(exist_ok=True)
    assert dlg.screenshot().save(str(shot))
    assert shot.stat().st_size > 50_000

    # --- export through app/compare_report.py on the worker thread
    out = tmp_path / "compare"
    dlg.export_to(out)
    qtbot.waitUntil(lambda: bool(dlg.last_export) and not dlg.is_busy(), timeout=300_000)
    assert (out / "compare.xlsx").stat().st_size > 0
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert A in page and B in page
    from openpyxl import load_workbook

    ws = load_workbook(out / "compare.xlsx").worksheets[0]
    assert [ws.cell(row=4, column=c).value for c in (4, 5)] == [A, B]

    assert not dlg.last_error and not w.last_error


def _question_answers(monkeypatch, answers: list):
    """QMessageBox.question answers the next of ``answers`` (and records what it was asked)."""
    from PyQt6.QtWidgets import QMessageBox

    asked = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def test_issue_sequence_scenarios_never_overwrite_each_other(qtbot, window, tmp_path, monkeypatch):
    """Issue 18: make 基准方案, change the group radius to 15 km, make 半径15公里 -> the two
    scenarios keep 20 and 15 km on disk and in memory, each with its own undo history, and the
    comparison shows two different columns."""
    from PyQt6.QtWidgets import QMessageBox

    from store.scenario import load_scenario

    w, doc, ctl = window, window.doc, window.scenarios
    ctl.ask_switch = ctl._switch_dialog  # the real question, answered by QMessageBox.question
    root = tmp_path / "scenarios"
    base, r15 = "基准方案", "半径15公里"
    assert doc.rules.groups.radius_km == 20.0
    _run_all(qtbot, w, 20.0)
    assert ctl.new_from_current(base) == base
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy and not doc.dirty), timeout=120_000)

    w.edit.apply_rules({"groups": {"radius_km": 15.0}})
    qtbot.waitUntil(
        lambda: bool(not doc.stale and idle(w) and doc.result.rules.groups.radius_km == 15.0),
        timeout=PLAN_TIMEOUT_MS,
    )
    assert doc.dirty and w.undo_stack.count() == 1
    assert ctl.new_from_current(r15) == r15
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy and not doc.dirty), timeout=120_000)

    for name, radius in ((base, 20.0), (r15, 15.0)):
        meta = json.loads((root / name / "scenario.json").read_text(encoding="utf-8"))
        assert meta["name"] == name
        assert load_scenario(root / name).rules.groups.radius_km == radius, name
        mem = ctl.set.get(name).scenario
        assert mem.rules.groups.radius_km == radius and mem.result.rules.groups.radius_km == radius
    # the radius edit's history went with the edit into the new scenario
    assert w.undo_stack.count() == 1 and ctl.set.get(r15).stack is w.undo_stack
    assert ctl.set.get(base).stack is None

    # an unsaved edit, then switching asks: Cancel stays, Discard drops the edit
    w.edit.apply_rules({"groups": {"radius_km": 12.0}})
    qtbot.waitUntil(lambda: bool(not doc.stale and idle(w)), timeout=PLAN_TIMEOUT_MS)
    asked = _question_answers(monkeypatch, [QMessageBox.StandardButton.Cancel])
    assert not ctl.switch_to(base)
    assert ctl.set.current == r15 and doc.rules.groups.radius_km == 12.0 and len(asked) == 1
    assert r15 in asked[0]
    _question_answers(monkeypatch, [QMessageBox.StandardButton.Discard])
    assert ctl.switch_to(base)
    qtbot.waitUntil(lambda: bool(ctl.set.current == base and idle(w)), timeout=120_000)
    assert doc.rules.groups.radius_km == 20.0 and not doc.dirty
    assert w.undo_stack.count() == 0 and w.undo_stack is ctl.set.get(base).stack
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy), timeout=120_000)
    assert load_scenario(root / r15).rules.groups.radius_km == 15.0  # the dropped 12 km
    assert ctl.set.get(r15).scenario.rules.groups.radius_km == 15.0

    # the comparison: two different columns
    dlg = ctl.open_compare(base, r15)
    qtbot.waitUntil(lambda: bool(dlg.comparison is not None), timeout=120_000)
    qtbot.waitUntil(lambda: bool(not dlg.is_busy()), timeout=120_000)
    t = dlg.table
    assert [t.horizontalHeaderItem(c).text() for c in (3, 4)] == [base, r15]
    col_a = [t.item(r, 3).text() for r in range(t.rowCount())]
    col_b = [t.item(r, 4).text() for r in range(t.rowCount())]
    assert col_a != col_b
    assert "15" in dlg.note.text() and "20" in dlg.note.text()
    dlg.close()


def test_duplicate_rename_delete(qtbot, window, tmp_path):
    w, ctl = window, window.scenarios
    root = tmp_path / "scenarios"
    assert ctl.new_from_current("基准") == "基准"
    assert ctl.new_from_current("基准") is None  # names are unique
    ctl.duplicate("基准", "基准副本")
    qtbot.waitUntil(
        lambda: bool(not w.jobs.io.busy and "基准副本" in ctl.set.names()), timeout=60_000
    )
    assert (root / "基准副本" / "scenario.json").exists()
    ctl.rename("基准副本", "不关停教学点")
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy), timeout=60_000)
    assert not (root / "基准副本").exists()
    meta = json.loads((root / "不关停教学点" / "scenario.json").read_text(encoding="utf-8"))
    assert meta["name"] == "不关停教学点"
    assert ctl.set.names() == ["基准", "不关停教学点"]

    # the open scenario cannot be deleted; another one only after the planner confirms
    assert not ctl.delete("基准")
    w.confirm = lambda title, text: False
    assert not ctl.delete("不关停教学点")
    assert (root / "不关停教学点" / "scenario.json").exists()
    w.confirm = lambda title, text: True
    assert ctl.delete("不关停教学点")
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy), timeout=60_000)
    assert not (root / "不关停教学点").exists()
    assert ctl.set.names() == ["基准"]

    # reopening the project lists the scenarios saved beside it (read lazily) and shows the
    # scenario shown last (read from disk on the io thread, then swapped into the document)
    (root / "last.json").unlink()
    w.files.open_path(None)
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy and idle(w)), timeout=120_000)
    assert ctl.set.names() == ["基准"] and ctl.set.get("基准").scenario is None
    assert w.scenarios_panel.list.count() == 1 and ctl.set.current is None

    n_schools = len(w.doc.layers.schools)
    assert ctl.switch_to("基准")
    qtbot.waitUntil(lambda: bool(ctl.set.current == "基准" and idle(w)), timeout=120_000)
    assert w.doc.scenario_path == root / "基准"
    assert ctl.set.get("基准").scenario is not None
    assert w.doc.layers is ctl.set.get("基准").scenario.layers
    assert len(w.doc.layers.schools) == n_schools
    assert "基准" in w.windowTitle()
    assert (root / "last.json").exists()


def test_reopening_a_project_restores_its_last_plan(qtbot, window, tmp_path):
    """Issue 18: the plan of the scenario shown last comes back when the project is reopened."""
    w, ctl, doc = window, window.scenarios, window.doc
    _run_all(qtbot, w, 20.0)
    assert ctl.new_from_current("上次方案") == "上次方案"
    qtbot.waitUntil(lambda: bool(not w.jobs.io.busy and not doc.dirty), timeout=120_000)
    planned = doc.result
    w.files.open_path(None)  # the project again (as after restarting the program)
    qtbot.waitUntil(
        lambda: bool(ctl.set.current == "上次方案" and idle(w) and doc.result is not None),
        timeout=120_000,
    )
    assert doc.result is not planned  # read back from the saved scenario
    assert len(doc.result.catchments) == len(planned.catchments) > 0
    assert not doc.stale and not doc.dirty
    assert w.tables.models["catchments"].rowCount() == len(planned.catchments)
