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
    from geo.project import load_project

    layers, rules, report = load_project(SAMPLE)
    return layers, rules, report


@pytest.fixture(scope="session")
def sample_plan(sample_layers, tmp_path_factory):
    """The whole plan of the sample county, run once per session and written to plan.gpkg."""
    from planning.outputs import write_plan
    from planning.pipeline import run_plan

    layers, rules, _ = sample_layers
    result = run_plan(layers, rules, meta={"project": "道县学校布局规划(示例)"})
    out = tmp_path_factory.mktemp("sample_plan")
    write_plan(result, out)
    return result, out
