"""Test setup: Qt offscreen, QtWebEngine allowed as root, and shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

# Must be set before any QApplication exists (see ../shared/STACK.md).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")
os.environ.setdefault("MPLBACKEND", "Agg")

try:  # QtWebEngine must be imported before the QApplication is created.
    import PyQt6.QtWebEngineWidgets  # noqa: F401
except ImportError:  # pragma: no cover - the GUI tests skip themselves then
    pass

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_maps" / "daoxian"


@pytest.fixture(scope="session")
def sample_project() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_layers():
    """The sample county, loaded and checked once per test session."""
    from planning.project import load_project

    layers, rules, report = load_project(SAMPLE)
    return layers, rules, report


@pytest.fixture(scope="session")
def sample_plan(sample_layers, tmp_path_factory):
    """The whole plan of the sample county, run once per session and written to plan.gpkg."""
    from planning.pipeline import run_plan
    from store.plan import write_plan

    layers, rules, _ = sample_layers
    result = run_plan(layers, rules, meta={"project": "道县学校布局规划(示例)"})
    out = tmp_path_factory.mktemp("sample_plan")
    write_plan(result, out)
    return result, out


@pytest.fixture(scope="module")
def gui_cleanup():
    """Module-scoped: GUI test modules use it to delete their windows at the end."""
    yield
    from gui_support import close_all_windows

    close_all_windows()


@pytest.fixture
def mini(qtbot, tmp_path, monkeypatch):
    """The planner window on a tiny generated county (tests/builders.write_project), idle."""
    from builders import write_project
    from gui_support import idle, quiet

    monkeypatch.setenv("SCHOOLPLAN_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("SCHOOLPLAN_SCENARIOS_DIR", str(tmp_path / "scenarios"))
    from app.gui.main import Launcher, create_app

    create_app()
    w = quiet(Launcher("zh", autosave_ms=3_600_000).open(write_project(tmp_path / "county")))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: bool(w.doc.layers is not None and idle(w)), timeout=120_000)
    yield w
    from PyQt6 import sip

    if not sip.isdeleted(w):
        w.close()


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The planner window on the sample county, loaded and idle; autosave and scenarios in tmp."""
    monkeypatch.setenv("SCHOOLPLAN_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("SCHOOLPLAN_SCENARIOS_DIR", str(tmp_path / "scenarios"))
    from gui_support import idle, quiet

    from app.gui.main import Launcher, create_app

    create_app()
    w = quiet(Launcher("zh", autosave_ms=3_600_000).open(None))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: bool(w.doc.layers is not None and idle(w)), timeout=120_000)
    yield w
    from PyQt6 import sip

    if not sip.isdeleted(w):
        w.close()
