"""Files the app loads that are not Python: the top-level ``resources/`` package (translations,
icons, map symbols, QGIS styles, the offline map's script and style, document wording), shipped
in the wheel beside ``app/`` and found through importlib from a checkout or an install alike."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

ROOT = Path(str(resources.files("resources")))


def resource_path(*parts: str) -> Path:
    """``resources/<parts...>``, e.g. ``resource_path("translations", "zh_CN.json")``."""
    return ROOT.joinpath(*parts)


@cache
def read_text(*parts: str) -> str:
    """A resource file's text, e.g. ``read_text("map", "plan_layers.js")``; read once."""
    return resource_path(*parts).read_text(encoding="utf-8")


@cache
def read_toml(*parts: str) -> dict[str, Any]:
    return tomllib.loads(read_text(*parts))
