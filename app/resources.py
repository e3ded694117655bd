"""Files the app loads that are not Python: the top-level ``resources/`` folder (translations,
icons, map symbols, QGIS styles, the offline-map page), shipped in the wheel beside ``app/``."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "resources"


def resource_path(*parts: str) -> Path:
    """``resources/<parts...>``, e.g. ``resource_path("translations", "zh_CN.json")``."""
    return ROOT.joinpath(*parts)
