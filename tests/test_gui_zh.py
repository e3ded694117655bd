"""The Chinese window is Chinese (issue 18): after a full plan of the sample county no visible
text (labels, buttons, table cells and headers, combo items, tab titles, menu actions, the status
bar, the Messages tab) shows a vocabulary code such as 'primary', 'core_rural', 'cooperative' or
a raw 'False'. Qt's own translations are loaded for dialogs and standard buttons."""

from __future__ import annotations

import pytest
from gui_support import code_words, idle, visible_texts

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]


def test_no_codes_in_the_chinese_window(qtbot, window):
    w = window
    loads = w.map.updates
    w.jobs.run("all")
    qtbot.waitUntil(
        lambda: bool(
            w.doc.result is not None and not w.doc.stale and idle(w) and w.map.updates > loads
        ),
        timeout=600_000,
    )
    # every table shown once (their views are filled whether shown or not)
    for i in range(w.tables.count()):
        w.tables.setCurrentIndex(i)
    w.statusBar().showMessage(w.status_text.text())
    texts = visible_texts(w)
    assert len(texts) > 500
    hits = code_words(texts)
    assert not hits, "\n".join(f"{where}: {word!r} in {text!r}" for where, word, text in hits[:40])


def test_qt_translations_loaded(qtbot, window):
    from PyQt6.QtWidgets import QApplication, QDialogButtonBox

    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    assert box.button(QDialogButtonBox.StandardButton.Cancel).text() in ("取消", "取消(&C)")
    assert QApplication.translate("QFileDialog", "Look in:") != "Look in:"
    from PyQt6.QtWidgets import QFileDialog, QLabel

    dlg = QFileDialog(window, "打开")
    dlg.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    qtbot.addWidget(dlg)
    labels = [lb.text() for lb in dlg.findChildren(QLabel) if lb.text()]
    assert labels and not any(t in ("Look in:", "Files of type:", "File name:") for t in labels)
