"""Helpers shared by the GUI tests (pytest-qt, offscreen): the window fixtures live in
conftest.py and use these."""

from __future__ import annotations


def idle(w) -> bool:
    """The window has no job running and its map page is ready."""
    return bool(not w.jobs.is_busy() and w.map.is_ready)


def quiet(w):
    """Answer the window's questions without modal dialogs (pytest-qt closes widgets itself)."""
    w.ask_unsaved = lambda: "discard"
    w.confirm = lambda title, text: True
    w.scenarios.ask_switch = lambda current, target: "save"
    return w


def close_all_windows() -> None:
    """Close and delete every top-level window, so no page outlives its module's tests."""
    from PyQt6.QtWidgets import QApplication

    from app.gui.main import flush_deletes

    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    flush_deletes()
