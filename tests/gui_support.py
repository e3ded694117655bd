"""Helpers shared by the GUI tests (pytest-qt, offscreen): the window fixtures live in
conftest.py and use these."""

from __future__ import annotations


def idle(w) -> bool:
    """The window has no job running and its map page is ready."""
    return bool(not w.jobs.is_busy() and w.map.is_ready and not w.map.pending)


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


def visible_texts(root) -> list[tuple[str, str]]:
    """(where, text) of every text a planner can read in ``root`` and its children: labels,
    buttons, combo items, tab and toolbox titles, dock titles, menus and toolbar actions, table
    cells and headers, list items, text panes and the status bar. Widgets named
    ``technical_log`` (the engines' English notes, shown as such) are left out."""
    from PyQt6.QtCore import QAbstractListModel, QModelIndex, Qt
    from PyQt6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QComboBox,
        QDockWidget,
        QLabel,
        QLineEdit,
        QMainWindow,
        QMenu,
        QPlainTextEdit,
        QTabWidget,
        QTextEdit,
        QToolBar,
        QToolBox,
    )

    out: list[tuple[str, str]] = [("title", root.windowTitle())]

    def actions(where: str, acts) -> None:
        for a in acts:
            if a.isSeparator():
                continue
            out.append((where, a.text()))

    if isinstance(root, QMainWindow):
        actions("menu", root.menuBar().actions())
        out.append(("status", root.statusBar().currentMessage()))
    for w in root.findChildren(QToolBar):
        actions("toolbar", w.actions())
    for w in root.findChildren(QMenu):
        actions("menu", w.actions())
    for w in root.findChildren(QLabel):
        out.append(("label", w.text()))
    for w in root.findChildren(QAbstractButton):
        out.append(("button", w.text()))
    for w in root.findChildren(QLineEdit):
        out.append(("line", w.text()))
    for w in root.findChildren(QComboBox):
        out += [("combo", w.itemText(i)) for i in range(w.count())]
    for w in root.findChildren(QTabWidget):
        out += [("tab", w.tabText(i)) for i in range(w.count())]
    for w in root.findChildren(QToolBox):
        out += [("toolbox", w.itemText(i)) for i in range(w.count())]
    for w in root.findChildren(QDockWidget):
        out.append(("dock", w.windowTitle()))
    for w in root.findChildren(QPlainTextEdit):
        if w.objectName() != "technical_log":
            out.append(("log", w.toPlainText()))
    for w in root.findChildren(QTextEdit):
        out.append(("text", w.toPlainText()))
    for w in root.findChildren(QAbstractItemView):
        m = w.model()
        if m is None or isinstance(w.parent(), QComboBox):
            continue
        name = w.objectName() or type(w).__name__
        root_index = QModelIndex()
        cols = 1 if isinstance(m, QAbstractListModel) else m.columnCount(root_index)
        for c in range(cols):
            out.append((f"{name} header", str(m.headerData(c, Qt.Orientation.Horizontal) or "")))
        for r in range(m.rowCount(root_index)):
            for c in range(cols):
                value = m.data(m.index(r, c))
                if value is not None:
                    out.append((f"{name} cell", str(value)))
    return [(where, text) for where, text in out if text]


def code_words(texts: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(where, word, text) of the ASCII words that are vocabulary codes (or raw Python values)."""
    import re

    from core.vocab import VOCABS

    # Codes that are their own Chinese labels too (a CRS's name is written so in Chinese text).
    names = {c for v in VOCABS.values() for c in v.codes if c and c in v.label(c, "zh")}
    codes = {c for v in VOCABS.values() for c in v.codes if c} - names
    codes |= {"False", "True", "None", "nan"}
    hits = []
    for where, text in texts:
        for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
            if word in codes:
                hits.append((where, word, text[:120]))
    return hits


def run_js(qtbot, view, code: str, timeout_ms: int = 20_000):
    """The value of ``code`` run in a web view's page (or a page), waited for."""
    page = view.page() if hasattr(view, "page") else view
    out = []
    page.runJavaScript(code, out.append)
    qtbot.waitUntil(lambda: bool(out), timeout=timeout_ms)
    return out[0]
