"""Start the desktop planner: ``schoolplan`` (with a display) or ``schoolplan gui PROJECT``."""

from __future__ import annotations

import os
import sys

from PyQt6.QtCore import QCoreApplication, QEvent
from PyQt6.QtWidgets import QApplication

from app.gui.i18n import install_language, save_language, saved_language


def _prepare_env() -> None:
    # QtWebEngine refuses to start as root without this (containers, some lab PCs).
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")


def create_app(argv: list[str] | None = None):
    """The QApplication (created once), with WebEngine imported first as Qt requires."""
    _prepare_env()
    # After _prepare_env (WebEngine reads its sandbox setting when loaded) and before the
    # QApplication, as WebEngine requires.
    import PyQt6.QtWebEngineWidgets  # noqa: F401

    app = QApplication.instance()
    if app is None:
        # Chromium needs a program name in argv.
        app = QApplication(list(argv) if argv else [sys.argv[0] or "schoolplan"])
        app.setApplicationName("SchoolPlan")
        app.setOrganizationName("SchoolPlan")
        app.setStyle("Fusion")
    return app


class Launcher:
    """Owns the window; rebuilds it (same document and undo history) when the language changes."""

    def __init__(self, lang: str | None = None, autosave_ms: int = 60000):
        self.lang = install_language(lang or saved_language())
        self.autosave_ms = autosave_ms
        self.window = None
        self.doc = None

    def open(self, project=None, *, show: bool = True):
        self.window = self._make_window()
        if show:
            self.window.show()
        self.window.files.open_path(project)
        return self.window

    def _make_window(self):
        # The window loads WebEngine: only once create_app has prepared it.
        from app.gui.window import MainWindow

        w = MainWindow(self.doc, lang=self.lang, autosave_ms=self.autosave_ms)
        self.doc = w.doc
        w.languageRequested.connect(self.switch_language)
        return w

    def switch_language(self, lang: str):
        if lang == self.lang:
            return self.window
        save_language(lang)
        self.lang = install_language(lang)
        old = self.window
        self.window = self._make_window()
        self.window.setGeometry(old.geometry())
        self.window.show()
        old.closing_for_switch = True
        old.close()
        old.deleteLater()
        return self.window


def run_gui(project: str | None = None) -> int:
    """Open the planner on ``project`` (None: the sample county) and run until it closes."""
    app = create_app()
    launcher = Launcher()
    launcher.open(project)
    code = int(app.exec())
    flush_deletes()
    return code


def flush_deletes() -> None:
    """Run pending deleteLater()s: web pages must die before the browser profile at exit."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    QCoreApplication.processEvents()
