"""Candidate sites drawn on the map, runners outliving their window, saving keeps the name."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest
from gui_support import idle, run_js

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]

PLAN_TIMEOUT_MS = 600_000


# ----------------------------------------------------------------------------- document + undo
@pytest.fixture
def doc(qapp, sample_layers):
    from PyQt6.QtGui import QUndoStack

    from app.gui.document import PlanDocument

    layers, rules, report = sample_layers
    d = PlanDocument()
    d.set_project(dataclasses.replace(layers, candidates=None), rules, report, name="test")
    d.undo_stack = QUndoStack(d)
    return d


def test_candidate_layer_is_created_edited_and_undone(doc):
    from app.gui import commands

    x, y = doc.school_xy(str(doc.layers.schools["school_id"].iloc[0]))
    doc.stale.clear()
    doc.undo_stack.push(commands.AddCandidate(doc, doc.candidate_template(x + 300, y)))
    doc.undo_stack.push(commands.AddCandidate(doc, doc.candidate_template(x - 300, y, "junior")))
    c = doc.layers.candidates
    assert c.crs == doc.layers.crs
    assert list(c["candidate_id"]) == ["C001", "C002"]
    assert list(c["level"]) == ["", "junior"]
    assert {"candidate_id", "name", "level", "src_row", "geometry"} <= set(c.columns)
    assert c.geometry.iloc[0].x == pytest.approx(x + 300)
    assert "new_schools" in doc.stale and doc.dirty
    doc.undo_stack.push(commands.DeleteCandidate(doc, "C001"))
    assert list(doc.layers.candidates["candidate_id"]) == ["C002"]
    doc.undo_stack.undo()
    assert list(doc.layers.candidates["candidate_id"]) == ["C001", "C002"]
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert len(doc.candidates()) == 0


# ----------------------------------------------------------------------------- workers
def test_runner_deleted_while_its_job_finishes_does_not_raise(qtbot):
    """A window closed mid-job (language switch) deletes its runners; the outcome still arrives."""
    from PyQt6 import sip
    from PyQt6.QtCore import QObject

    from app.gui.workers import Job, JobRunner

    owner = QObject()
    runner = JobRunner(owner)
    release, entered = threading.Event(), threading.Event()

    def work(progress):
        entered.set()
        release.wait(10)
        progress.update(1.0, "done")
        return 42

    runner.submit(Job("t", work))
    assert entered.wait(5)
    thread = runner._thread
    sip.delete(owner)  # what deleting the window does to its children
    assert sip.isdeleted(runner)
    release.set()
    assert thread.wait(10_000)
    # Deliver the queued outcome: before the guard, _end raised "JobRunner has been deleted"
    # (pytest-qt fails the test on an exception inside a Qt callback).
    qtbot.wait(200)


# ----------------------------------------------------------------------------- the window


def _run_all(qtbot, w):
    w.jobs.run("all")
    qtbot.waitUntil(
        lambda: bool(
            w.doc.result is not None
            and w.doc.result.status != "empty"
            and not w.doc.stale
            and idle(w)
        ),
        timeout=PLAN_TIMEOUT_MS,
    )
    return w.doc.result


def test_candidate_drawn_on_the_map_is_used_by_new_school_planning(qtbot, window, monkeypatch):
    import planning.pipeline as pipeline

    w = window
    # Clear the sample's own candidate sites (through the same delete the menu uses) so the
    # development zone's primary school has only the site drawn below to choose.
    for cid in list(w.doc.layers.candidates["candidate_id"].astype(str)):
        w.edit.delete_candidate(cid)
    assert len(w.doc.layers.candidates) == 0
    before = _run_all(qtbot, w)
    ns = before.new_schools
    zone = ns[(ns["level"] == "primary") & ns["rule"].str.contains("经济开发区")]
    assert len(zone) and "no candidate site" in zone["rule_en"].iloc[0]
    site = zone.geometry.iloc[0]
    lat, lng = w.doc.to_latlng(site.x, site.y)
    n_before = len(w.doc.layers.candidates)

    received = []
    real = pipeline.run_new_schools

    def spy(*args, **kwargs):
        received.append(kwargs.get("candidates"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run_new_schools", spy)

    w.actions_by_name["add_candidate"].trigger()
    assert w.actions_by_name["add_candidate"].isChecked()
    assert not w.actions_by_name["add_school"].isChecked()
    n_schools = len(w.doc.layers.schools)
    w.map.bridge.mapClicked(lat, lng)  # the slot the page calls on a map click
    cands = w.doc.layers.candidates
    assert len(cands) == n_before + 1 and len(w.doc.layers.schools) == n_schools
    new = cands[cands["candidate_id"] == "C001"]
    assert new.geometry.iloc[0].distance(site) < 0.01 and new["level"].iloc[0] == ""
    assert "new_schools" in w.doc.stale
    # drawn on the map by the injected script
    qtbot.waitUntil(lambda: idle(w), timeout=120_000)
    drawn = run_js(qtbot, w.map, "document.querySelectorAll('.sp-candidate').length")
    assert drawn == len(cands)

    after = _run_all(qtbot, w)
    assert received and "C001" in set(received[-1]["candidate_id"].astype(str))
    ns = after.new_schools
    at = ns[(ns["level"] == "primary") & ns["rule_en"].str.contains("candidate site C001")]
    assert len(at) == 1 and at.geometry.iloc[0].distance(site) < 0.01

    w.undo_stack.undo()
    assert "C001" not in set(w.doc.layers.candidates["candidate_id"])
    assert len(w.doc.layers.candidates) == n_before and "new_schools" in w.doc.stale
    w.undo_stack.redo()
    w.edit.on_candidate_clicked("C001")  # the slot a click on the candidate marker reaches
    w.actions_by_name["delete_candidate"].trigger()
    assert "C001" not in set(w.doc.layers.candidates["candidate_id"])
    w.undo_stack.undo()
    assert "C001" in set(w.doc.layers.candidates["candidate_id"])


def test_save_in_place_keeps_the_scenario_name(qtbot, window, tmp_path):
    from planning.scenario import scenario_from_layers
    from store.scenario import save_scenario

    w = window
    folder = tmp_path / "folder_name"
    sc = scenario_from_layers(w.doc.layers, w.doc.rules, name="方案甲")
    save_scenario(sc, folder)
    w.files.open_path(folder)
    qtbot.waitUntil(lambda: bool(w.doc.scenario_path == folder and idle(w)), timeout=120_000)
    sid = str(w.doc.layers.schools["school_id"].iloc[0])
    x, y = w.doc.school_xy(sid)
    from app.gui import commands

    w.undo_stack.push(commands.MoveSchool(w.doc, sid, (x + 100, y)))
    w.files.save()  # Ctrl+S
    qtbot.waitUntil(lambda: bool(not w.doc.dirty and not w.jobs.is_busy()), timeout=60_000)
    saved = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))
    assert saved["name"] == "方案甲"
    # Save as into a new folder names the new scenario after that folder.
    other = tmp_path / "copy_b"
    w.files.save_to(other)
    qtbot.waitUntil(
        lambda: bool(w.doc.scenario_path == other and not w.jobs.is_busy()), timeout=60_000
    )
    assert json.loads((other / "scenario.json").read_text(encoding="utf-8"))["name"] == "copy_b"
