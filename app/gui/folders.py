"""Where the window keeps things on disk: autosave copies and a project's scenario folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

from PyQt6.QtCore import QStandardPaths

from store.layout import JSON_NAME

_BAD_CHARS = set('<>:"/\\|?*')


def autosave_root() -> Path:
    """``SCHOOLPLAN_AUTOSAVE_DIR``, else the user's application data folder."""
    env = os.environ.get("SCHOOLPLAN_AUTOSAVE_DIR")
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".schoolplan") / "autosave"


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
