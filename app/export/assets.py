"""The exports' non-Python files, read from the top-level ``resources`` package.

``resources/map`` holds the map symbols and the Leaflet script and style of the HTML map,
``resources/qgis`` the QML style templates of plan.gpkg. The files ship in the wheel as package
data, so they are found through importlib whether the app runs from a checkout or is installed.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def read_text(*parts: str) -> str:
    """A resource file's text, e.g. ``read_text("map", "plan_layers.js")``; read once."""
    return resources.files("resources").joinpath(*parts).read_text(encoding="utf-8")


@cache
def read_toml(*parts: str) -> dict[str, Any]:
    return tomllib.loads(read_text(*parts))
