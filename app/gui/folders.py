"""Where the window keeps things on disk: autosave copies and a project's scenario folders."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from PyQt6.QtCore import QStandardPaths

from core.errors import SchoolPlanError
from store.layout import JSON_NAME

_BAD_CHARS = set('<>:"/\\|?*')


def autosave_root() -> Path:
    """``SCHOOLPLAN_AUTOSAVE_DIR``, else the user's application data folder."""
    env = os.environ.get("SCHOOLPLAN_AUTOSAVE_DIR")
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".schoolplan") / "autosave"


_WINDOWS = itertools.count(1)


def window_key(doc) -> str:
    """A name for the window showing ``doc``, unique among all windows of all running copies
    (process id + a counter); kept on the document so a window rebuilt for another language
    keeps its autosave."""
    key = getattr(doc, "window_key", None)
    if key is None:
        key = doc.window_key = f"w{os.getpid()}-{next(_WINDOWS)}"
    return key


def folder_name(name: str) -> str:
    """A folder name for a scenario name (Chinese kept; characters Windows forbids replaced)."""
    text = "".join("_" if c in _BAD_CHARS or ord(c) < 32 else c for c in name).strip(" .")
    return text or "scenario"


def scenarios_root(project_path: Path | None, scenario_path: Path | None) -> Path | None:
    """Where a project's scenarios live: ``<project folder>/scenarios``."""
    env = os.environ.get("SCHOOLPLAN_SCENARIOS_DIR")
    if env:
        return Path(env)
    if project_path is not None:
        p = Path(project_path)
        return (p.parent if p.suffix == ".toml" else p) / "scenarios"
    if scenario_path is not None:
        return Path(scenario_path).parent
    return None


def saved_name(folder: Path) -> str | None:
    """The name inside a scenario folder's scenario.json (None: not a readable scenario)."""
    try:
        doc = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = doc.get("name") if isinstance(doc, dict) else None
    return str(name) if name else None


def save_error(exc: OSError, folder: Path) -> SchoolPlanError:
    """A failed write as the planner's error: which file, why, and what to do about it."""
    where = exc.filename or folder
    if isinstance(exc, PermissionError):
        fix = (
            "close the program that holds the file (antivirus, cloud sync, Excel), check that you "
            "may write in the folder, then save again - or save in another folder"
        )
    else:
        fix = "free disk space or choose another folder, then save again"
    return SchoolPlanError(f"Cannot write {where}: {exc.strerror or exc}", fix=fix)
