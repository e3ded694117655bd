"""A window a planner can trust with a day's work (issue 18): a failing save on close is shown
and the window stays open with the edits; autosave is per window and retried after a failure.

Windows open the tiny county of ``tests/builders.py`` (pytest-qt, offscreen).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import write_project
from gui_support import idle, quiet

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]

TIMEOUT_MS = 120_000


@pytest.fixture
def project(tmp_path) -> Path:
    return write_project(tmp_path / "county")


@pytest.fixture
def open_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("SCHOOLPLAN_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("SCHOOLPLAN_SCENARIOS_DIR", str(tmp_path / "scenarios"))
    from app.gui.main import Launcher, create_app

    create_app()
    opened = []

    def _open(path: Path):
        w = quiet(Launcher("zh", autosave_ms=3_600_000).open(path))
        opened.append(w)
        qtbot.waitUntil(lambda: bool(w.doc.layers is not None and idle(w)), timeout=TIMEOUT_MS)
        return w

    yield _open
    from PyQt6 import sip

    for w in opened:
        if not sip.isdeleted(w):
            quiet(w).close()


def _move(w, dx: float = 1000.0) -> tuple[float, float]:
    x, y = w.doc.school_xy("S01")
    lat, lng = w.doc.to_latlng(x + dx, y)
    w.edit.on_school_dragged("S01", "primary", lat, lng)
    assert w.doc.dirty
    return x + dx, y


@pytest.mark.parametrize(
    "error",
    [
        OSError(28, "No space left on device", "scenario.gpkg"),
        PermissionError(13, "Permission denied", "scenario.json"),
        "schoolplan",
    ],
)
def test_failing_save_on_close_keeps_the_window_and_the_work(
    qtbot, open_window, project, tmp_path, monkeypatch, error
):
    from PyQt6.QtWidgets import QMessageBox

    from core.errors import ScenarioError

    w = open_window(project)
    xy = _move(w)
    if error == "schoolplan":
        error = ScenarioError("The scenario folder is damaged")

    def failing_save(folder):
        raise error

    monkeypatch.setattr(w.files, "save_now", failing_save)
    w.ask_unsaved = lambda: "save"
    w.doc.scenario_path = tmp_path / "saved"  # saving in place, no folder question
    assert not w.close()  # refused, and the process goes on (no abort from closeEvent)
    assert w.isVisible() and w.doc.dirty
    assert w.doc.school_xy("S01") == pytest.approx(xy, abs=1e-6)
    boxes = [b for b in w.findChildren(QMessageBox) if b.isVisible()]
    assert boxes, "the failure is shown in a message box"
    text = boxes[-1].text()
    assert str(getattr(error, "filename", "") or "") in text and w.last_error
    if isinstance(error, OSError):
        assert "fix" in w.last_error  # says what to do, not "internal error"
    for b in boxes:
        b.close()
    # the planner can still save elsewhere and close
    monkeypatch.undo()
    w.ask_unsaved = lambda: "discard"
    assert w.close()


def test_save_job_with_a_failing_write_is_a_message_not_a_bug(
    qtbot, open_window, project, tmp_path, monkeypatch
):
    import app.gui.docio as docio

    w = open_window(project)
    _move(w)

    def denied(sc, folder):
        raise PermissionError(13, "Permission denied", str(Path(folder) / "scenario.json"))

    monkeypatch.setattr(docio, "save_scenario", denied)
    w.files.save_to(tmp_path / "s")
    qtbot.waitUntil(lambda: bool(w.last_error and idle(w)), timeout=TIMEOUT_MS)
    assert "scenario.json" in w.last_error and "fix" in w.last_error
    assert "Traceback" not in w.last_error and w.doc.dirty


def test_two_windows_on_one_project_keep_their_own_autosave(qtbot, open_window, project):
    w1, w2 = open_window(project), open_window(project)
    assert w1.files.autosave_folder() != w2.files.autosave_folder()
    assert w1.files.project_autosaves() == w2.files.project_autosaves()
    _move(w1, 500.0)
    _move(w2, -500.0)
    for w in (w1, w2):
        w.files.autosave()
        qtbot.waitUntil(lambda w=w: bool(w.files.autosave_path and idle(w)), timeout=TIMEOUT_MS)
    f1, f2 = w1.files.autosave_path, w2.files.autosave_path
    assert f1 != f2 and (f1 / "scenario.json").exists() and (f2 / "scenario.json").exists()
    # closing the first (its edits dropped) removes its copy only
    w1.ask_unsaved = lambda: "discard"
    w1.doc.set_dirty(False)
    assert w1.close()
    assert not f1.exists() and (f2 / "scenario.json").exists()


def test_failed_autosave_is_retried(qtbot, open_window, project, monkeypatch):
    import app.gui.docio as docio

    w = open_window(project)
    _move(w)
    real = docio.save_scenario
    calls = []

    def flaky(sc, folder):
        calls.append(folder)
        if len(calls) == 1:
            raise OSError(28, "No space left on device", str(folder))
        return real(sc, folder)

    monkeypatch.setattr(docio, "save_scenario", flaky)
    w.files.retry_timer.setInterval(50)
    w.files.autosave()
    qtbot.waitUntil(lambda: bool(w.files.autosave_path is not None), timeout=TIMEOUT_MS)
    assert len(calls) == 2  # failed once, retried by the retry timer without a new edit
    assert (w.files.autosave_path / "scenario.json").exists()
    assert w.files.autosave_failures == 0
    assert "Autosave" in w.log.toPlainText() or "自动保存" in w.log.toPlainText()
