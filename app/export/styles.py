"""QGIS styles for plan.gpkg: a ``layer_styles`` table, as QGIS itself writes it.

QGIS opens each plan layer with these symbols (schools by level, zones with over-capacity in
red, dashed group links, stars for new schools, red crosses for unserved places) instead of
random colours. Other GIS software ignores the table. The styles are templates in
resources/qgis/<layer>.qml, filled with the colours of resources/map/symbols.toml and the labels.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

from app.export import assets
from app.export import symbology as sym

_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))
"""
STYLE_NAME = "SchoolPlan"


# Layers with a style template in resources/qgis/<layer>.qml.
STYLED_LAYERS = ("schools", "new_schools", "catchments", "groups", "demand", "boundary")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _rgba(hex_color: str, alpha: int = 255) -> str:
    h = hex_color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


@cache
def _template(layer: str) -> Template:
    # The templates are indented one tag a line for people; QGIS gets them as one line, the
    # way it writes styles itself (lines break only between tags, so nothing else changes).
    text = _COMMENT.sub("", assets.read_text("qgis", f"{layer}.qml"))
    return Template("".join(line.strip() for line in text.splitlines()))


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;", "\n": "&#10;"})


def _fields(lang: str, first_level: str) -> dict[str, str]:
    """Every template placeholder: symbol colours and shapes, and labels in ``lang``."""
    t = sym.texts(lang)
    first = sym.level_name(first_level, lang)
    fields = {
        "new_color": _rgba(sym.NEW_COLOR),
        "over_fill": _rgba(sym.OVER_CAPACITY, 90),
        "over_line": _rgba(sym.OVER_CAPACITY),
        "zone_fill": _rgba(sym.ZONE_PALETTE[0], 110),
        "label_over": _attr(t["over_capacity"]),
        "label_zones": _attr(t["zones"]),
        "level": first_level,
        "label_too_far": _attr(f"{first} {t['too_far']}"),
        "label_unserved": _attr(f"{first} {t['not_served']}"),
        "label_population": _attr(t["population"]),
        "color_too_far": _rgba(sym.UNSERVED_COLOR["too_far"]),
        "color_unserved": _rgba(sym.UNSERVED_COLOR["unserved"]),
        "boundary": _rgba(sym.BOUNDARY_COLOR),
    }
    for lv in sym.LEVELS:
        name = sym.level_name(lv, lang)
        fields[f"label_{lv}"] = _attr(name)
        fields[f"links_{lv}"] = _attr(f"{name} {t['links']}")
        fields[f"color_{lv}"] = _rgba(sym.LEVEL_COLOR[lv])
        fields[f"shape_{lv}"] = sym.LEVEL_SHAPE[lv]
    return fields


def layer_qml(layer: str, lang: str = "zh", first_level: str = "primary") -> str | None:
    """QML text for one plan layer, or None for layers without a style."""
    if layer not in STYLED_LAYERS:
        return None
    return _template(layer).substitute(_fields(lang, first_level))


def write_qgis_styles(gpkg: str | Path, result=None, *, lang: str = "zh") -> int:
    """Add (or replace) the SchoolPlan default style of every plan layer in ``gpkg``.

    Returns the number of layers styled. Tables that are not in the GeoPackage are skipped.
    """
    first = "primary"
    if result is not None and len(result.schools):
        order = sym.level_order(result.schools["level"].unique())
        first = order[0] if order else first
    con = sqlite3.connect(str(gpkg))
    try:
        geom_cols = dict(
            con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
        )
        con.execute(_DDL)
        con.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) VALUES ('layer_styles', 'attributes', 'layer_styles')"
        )
        n = 0
        for table, geom in geom_cols.items():
            qml = layer_qml(table, lang, first)
            if qml is None:
                continue
            con.execute(
                "DELETE FROM layer_styles WHERE f_table_name = ? AND styleName = ?",
                (table, STYLE_NAME),
            )
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui) "
                "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '')",
                (table, geom, STYLE_NAME, qml, escape(f"SchoolPlan {table}")),
            )
            n += 1
        con.commit()
        return n
    finally:
        con.close()
