"""The planner window driven end to end on the sample county (pytest-qt, offscreen).

One test walks a planner's session: open → run everything → move a school through the bridge
slot the map's dragend calls → undo → lock a group pair and re-run → save → reopen → export,
checking the results at each step; it also saves docs/screenshot.png after the full run.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from gui_support import idle, quiet

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]

ROOT = Path(__file__).resolve().parents[1]
Qt = pytest.importorskip("PyQt6.QtCore").Qt
PLAN_TIMEOUT_MS = 600_000  # the whole plan; the engines' speed is measured in bench/, not here


@pytest.fixture
def launcher(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("SCHOOLPLAN_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    from app.gui.main import Launcher, create_app

    create_app()
    lau = Launcher("zh", autosave_ms=3_600_000)
    yield lau
    from PyQt6 import sip

    if lau.window is not None and not sip.isdeleted(lau.window):  # qtbot may have closed it
        quiet(lau.window).close()


def _open(qtbot, launcher, project=None):
    w = quiet(launcher.open(project))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: bool(w.doc.layers is not None and idle(w)), timeout=120_000)
    return w


def _point(result, school_id, level):
    s = result.schools
    row = s[(s["school_id"].astype(str) == school_id) & (s["level"] == level)]
    return row.geometry.iloc[0]


def _catchment(result, school_id, level):
    c = result.catchments
    return c[(c["school_id"].astype(str) == school_id) & (c["level"] == level)]


def test_planner_session(qtbot, launcher, tmp_path):
    w = _open(qtbot, launcher)
    doc = w.doc
    # --- opened: layers in the tables, check report in its panel, map wired through the channel
    assert w.tables.models["schools"].rowCount() == len(doc.layers.schools)
    assert w.check_panel.table.rowCount() == len(doc.report.problems)
    assert w.map.info["counts"]["schools"] == len(doc.layers.schools)
    assert "道县" in w.windowTitle()

    # --- run everything on the worker thread
    loads = w.map.updates
    w.jobs.run("all")
    assert w.jobs.planning.busy  # the plan runs off the GUI thread; the event loop keeps turning
    qtbot.waitUntil(
        lambda: bool(
            doc.result is not None
            and doc.result.status != "empty"
            and idle(w)
            and w.map.updates > loads
        ),
        timeout=PLAN_TIMEOUT_MS,
    )
    first = doc.result
    assert first.status in ("ok", "partial")
    assert not doc.stale
    assert w.tables.models["groups"].rowCount() == len(first.groups) > 0
    assert w.tables.models["catchments"].rowCount() == len(first.catchments) > 0
    drawn = first.catchments.geometry.notna() & ~first.catchments.geometry.is_empty
    assert w.map.info["counts"]["zones"] == int(drawn.sum()) > 0
    assert w.map.info["counts"]["links"] == len(first.groups)
    # The README picture is refreshed only on request (SCHOOLPLAN_UPDATE_DOCS=1), so a test run
    # never leaves a tracked file changed.
    docs = ROOT / "docs" if os.environ.get("SCHOOLPLAN_UPDATE_DOCS") else tmp_path
    shot = docs / "screenshot.png"
    shot.parent.mkdir(exist_ok=True)
    w.resize(1600, 1000)
    w.resizeDocks([w.bottom_dock], [230], Qt.Orientation.Vertical)
    busiest = first.catchments.sort_values("students", ascending=False)
    w.edit.on_map_school_clicked(str(busiest["school_id"].iloc[0]), str(busiest["level"].iloc[0]))
    assert w.edit.selected_school() is not None
    qtbot.wait(1200)  # let the page re-fit and paint
    assert w.screenshot().save(str(shot))
    assert shot.stat().st_size > 50_000

    # --- move a primary school 3 km east through the bridge slot the map calls on dragend
    zones = first.catchments[first.catchments["level"] == "primary"]
    sid = str(zones.sort_values("students", ascending=False)["school_id"].iloc[0])
    p0 = _point(first, sid, "primary")
    lat, lng = doc.to_latlng(p0.x + 3000.0, p0.y)
    rev = doc.revision
    w.map.bridge.schoolMoved(sid, "primary", lat, lng)
    assert doc.revision > rev and w.undo_stack.count() == 1
    assert "new_schools" in doc.stale  # the slow stage waits for Run plan
    qtbot.waitUntil(
        lambda: bool(not (doc.stale & {"groups", "catchments"}) and idle(w)),
        timeout=PLAN_TIMEOUT_MS,
    )
    moved = doc.result
    p1 = _point(moved, sid, "primary")
    assert math.isclose(p1.x - p0.x, 3000.0, abs_tol=1.0) and math.isclose(p1.y, p0.y, abs_tol=1.0)
    z0, z1 = _catchment(first, sid, "primary"), _catchment(moved, sid, "primary")
    assert not z0.geometry.iloc[0].equals(z1.geometry.iloc[0])  # its zone followed the school
    assert "new_schools" in doc.stale and w.stale_label.text()

    # --- undo: the school is back and the catchments are the first run's again
    w.undo_stack.undo()
    qtbot.waitUntil(
        lambda: bool(not (doc.stale & {"groups", "catchments"}) and idle(w)),
        timeout=PLAN_TIMEOUT_MS,
    )
    back = doc.result
    p2 = _point(back, sid, "primary")
    assert math.isclose(p2.x, p0.x, abs_tol=1e-6) and math.isclose(p2.y, p0.y, abs_tol=1e-6)
    a = first.catchments.sort_values(["level", "school_id"])[["school_id", "students"]].to_numpy()
    b = back.catchments.sort_values(["level", "school_id"])[["school_id", "students"]].to_numpy()
    assert (a == b).all()

    # --- lock a member to another group's core (same level), then re-run the groups
    s, groups = back.schools, back.groups
    member = None
    for _, m in s[s["group_role"] == "member"].iterrows():
        others = groups[(groups["level"] == m["level"]) & (groups["group_id"] != m["group_id"])]
        if len(others):
            member, core = m, str(others["core_id"].iloc[0])
            break
    assert member is not None, "the sample plan should have at least two groups at one level"
    mid, level = str(member["school_id"]), str(member["level"])
    w.edit.lock_pair(core, mid, level)
    assert (core, mid, level) in doc.choices.locked_pairs
    qtbot.waitUntil(lambda: bool("groups" not in doc.stale and idle(w)), timeout=PLAN_TIMEOUT_MS)
    w.jobs.run("groups")
    qtbot.waitUntil(lambda: bool(not w.jobs.planning.busy and idle(w)), timeout=PLAN_TIMEOUT_MS)
    locked = doc.result
    g = locked.groups
    core_group = g[(g["core_id"].astype(str) == core) & (g["level"] == level)]
    assert len(core_group) == 1
    assert mid in [x.strip() for x in str(core_group["member_ids"].iloc[0]).split(",")]
    row = locked.schools[
        (locked.schools["school_id"].astype(str) == mid) & (locked.schools["level"] == level)
    ]
    assert row["group_id"].iloc[0] == core_group["group_id"].iloc[0]

    # --- save, then reopen the scenario: the lock and the results come back
    folder = tmp_path / "scenario_a"
    w.files.save_to(folder)
    qtbot.waitUntil(lambda: bool(not doc.dirty and not w.jobs.io.busy), timeout=120_000)
    assert (folder / "scenario.json").exists() and (folder / "scenario.gpkg").exists()
    n_groups = len(locked.groups)
    w.files.open_path(folder)
    qtbot.waitUntil(
        lambda: bool(
            doc.scenario_path == folder
            and doc.result is not None
            and doc.result is not locked
            and idle(w)
        ),
        timeout=120_000,
    )
    assert (core, mid, level) in doc.choices.locked_pairs
    assert len(doc.result.groups) == n_groups
    assert len(doc.layers.schools) == len(first.schools[first.schools["layout_status"] != "new"])
    assert w.tables.models["groups"].rowCount() == n_groups

    # --- export through the CLI's code
    out = tmp_path / "export"
    w.jobs.export_to(out, formats=("html", "xlsx"))
    qtbot.waitUntil(lambda: bool(w.jobs.last_export) and not w.jobs.io.busy, timeout=300_000)
    for name in ("map.html", "tables.xlsx", "plan.gpkg", "summary.json", "view.png"):
        assert (out / name).stat().st_size > 0, name
    assert mid in (out / "map.html").read_text(encoding="utf-8")
    assert not w.last_error


def test_bad_project_is_a_message_not_a_crash(qtbot, launcher, tmp_path):
    w = quiet(launcher.open(tmp_path / "missing" / "project.toml"))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: bool(w.last_error) and not w.jobs.io.busy, timeout=60_000)
    assert "project file not found" in w.last_error
    assert w.doc.layers is None
    w.jobs.run("all")  # nothing to plan: a message, no job
    assert not w.jobs.planning.busy


def test_unusable_data_fills_the_check_panel(qtbot, launcher, tmp_path):
    (tmp_path / "schools.csv").write_text("编号,名称\n1,甲\n", encoding="utf-8")
    (tmp_path / "project.toml").write_text(
        '[project]\nname = "坏数据"\n[layers.schools]\nfile = "schools.csv"\n'
        '[layers.population]\nfile = "schools.csv"\n[layers.boundary]\nfile = "nothing.gpkg"\n',
        encoding="utf-8",
    )
    w = quiet(launcher.open(tmp_path))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: bool(w.doc.report is not None) and not w.jobs.io.busy, timeout=60_000)
    assert w.doc.layers is None
    assert w.check_panel.table.rowCount() == len(w.doc.report.problems) > 0
    assert w.bottom.currentWidget() is w.check_panel


def test_language_switch_keeps_the_document(qtbot, launcher):
    # Windows replaced by a switch are deleted by the launcher; the fixture closes the last one.
    w = quiet(launcher.open(None))
    qtbot.waitUntil(lambda: bool(w.doc.layers is not None and idle(w)), timeout=120_000)
    doc = w.doc
    assert w.actions_by_name["run_all"].text() == "运行规划"
    w2 = quiet(launcher.switch_language("en"))
    try:
        assert w2 is not w and w2.doc is doc
        assert w2.actions_by_name["run_all"].text() == "Run plan"
        assert w2.rules_form.toolbox.itemText(0) == "Standards"
        assert w2.tables.tabText(0) == "Schools"
    finally:
        quiet(launcher.switch_language("zh"))
    assert launcher.window.actions_by_name["run_all"].text() == "运行规划"
