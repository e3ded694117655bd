"""Languages of the window: Chinese (default) and English.

Source strings in the code are English and ASCII (PyQt6 passes ``translate``'s text as ASCII);
the Chinese text lives in ``resources/translations/zh_CN.json`` ({English: Chinese}) and is
compiled to ``resources/translations/schoolplan_zh_CN.qm`` by ``python -m app.gui.i18n`` (no
``lrelease`` needed: ``app/gui/qm.py`` writes the format). The .qm is rebuilt automatically when
the dictionary is newer. The commands' own words (menus, toolbar) are in ``actions.py``.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from PyQt6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

from app.gui.qm import write_qm
from app.resources import resource_path

QM_ZH = resource_path("translations", "schoolplan_zh_CN.qm")
DICT_ZH = resource_path("translations", "zh_CN.json")
LANGS = ("zh", "en")
_installed: list[QTranslator] = []


def zh_messages() -> dict[str, str]:
    return dict(json.loads(DICT_ZH.read_text(encoding="utf-8")))


def compile_translations() -> Path:
    return write_qm(zh_messages(), QM_ZH)


def settings() -> QSettings:
    return QSettings("SchoolPlan", "SchoolPlan")


def saved_language() -> str:
    lang = str(settings().value("language", "zh"))
    return lang if lang in LANGS else "zh"


def save_language(lang: str) -> None:
    settings().setValue("language", lang)


def install_language(lang: str) -> str:
    """Install the translators for ``lang`` (replacing earlier ones); returns the language used."""
    app = QCoreApplication.instance()
    for t in _installed:
        app.removeTranslator(t)
    _installed.clear()
    if lang != "zh":
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
        return "en"
    if not QM_ZH.exists() or (DICT_ZH.exists() and DICT_ZH.stat().st_mtime > QM_ZH.stat().st_mtime):
        try:
            compile_translations()
        except OSError:  # read-only install: use the shipped .qm
            pass
    ours = QTranslator()
    if ours.load(str(QM_ZH)):
        app.installTranslator(ours)
        _installed.append(ours)
    qt = QTranslator()  # Qt's own dialogs (file dialog, message box buttons)
    if qt.load("qtbase_zh_CN", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        _installed.append(qt)
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    return "zh"


def source_strings() -> set[str]:
    """Every literal passed to ``_tr``/``tr``/``translate`` in app/gui (for the completeness test)."""
    found: set[str] = set()
    for path in Path(__file__).resolve().parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = (
                fn.id
                if isinstance(fn, ast.Name)
                else fn.attr
                if isinstance(fn, ast.Attribute)
                else ""
            )
            args = node.args
            if name in ("_tr", "tr") and args and isinstance(args[0], ast.Constant):
                found.add(str(args[0].value))
            elif name == "translate" and len(args) > 1 and isinstance(args[1], ast.Constant):
                found.add(str(args[1].value))
    return found


if __name__ == "__main__":
    print(compile_translations())
