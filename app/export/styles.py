"""QGIS styles for plan.gpkg: a ``layer_styles`` table, as QGIS itself writes it.

QGIS opens each plan layer with these symbols (schools by level, zones with over-capacity in
red, dashed group links, stars for new schools, red crosses for unserved places) instead of
random colours. Other GIS software ignores the table.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from app.export import symbology as sym

_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))
"""
STYLE_NAME = "SchoolPlan"


def _rgba(hex_color: str, alpha: int = 255) -> str:
    h = hex_color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _opts(**kw: str) -> str:
    inner = "".join(
        f'<Option type="QString" name={quoteattr(k)} value={quoteattr(str(v))}/>'
        for k, v in kw.items()
    )
    return f'<Option type="Map">{inner}</Option>'


def _marker(name: str, shape: str, color: str, size: float, outline: str = "#ffffff") -> str:
    layer = _opts(
        name=shape,
        color=_rgba(color),
        size=f"{size:g}",
        size_unit="MM",
        outline_color=_rgba(outline),
        outline_width="0.2",
    )
    return f'<symbol type="marker" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" enabled="1" pass="0" locked="0">{layer}</layer></symbol>'


def _fill(
    name: str,
    color: str,
    alpha: int,
    outline: str,
    width: float,
    style: str = "solid",
    line_style: str = "solid",
) -> str:
    layer = _opts(
        color=_rgba(color, alpha),
        style=style,
        outline_color=_rgba(outline),
        outline_width=f"{width:g}",
        outline_width_unit="MM",
        outline_style=line_style,
    )
    return f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleFill" enabled="1" pass="0" locked="0">{layer}</layer></symbol>'


def _line(name: str, color: str, width: float, style: str = "solid") -> str:
    layer = _opts(
        line_color=_rgba(color), line_width=f"{width:g}", line_width_unit="MM", line_style=style
    )
    return f'<symbol type="line" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleLine" enabled="1" pass="0" locked="0">{layer}</layer></symbol>'


def _doc(renderer: str, labeling: str = "") -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        f'<qgis version="3.28.0" styleCategories="Symbology|Labeling">{renderer}{labeling}</qgis>'
    )


def _labels(field: str, size: float = 8) -> str:
    return (
        '<labeling type="simple"><settings calloutType="simple">'
        f'<text-style fieldName={quoteattr(field)} fontSize="{size:g}" fontFamily="Noto Sans CJK SC" textColor="0,0,0,255">'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,255"/></text-style>'
        '<placement placement="6" dist="1"/><rendering obstacle="1" displayAll="0"/></settings></labeling>'
    )


def _categorized(attr: str, cats: list[tuple[str, str]], symbols: list[str]) -> str:
    c = "".join(
        f'<category render="true" symbol="{i}" value={quoteattr(v)} label={quoteattr(lbl)}/>'
        for i, (v, lbl) in enumerate(cats)
    )
    return (
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0" enableorderby="0" forceraster="0">'
        f"<categories>{c}</categories><symbols>{''.join(symbols)}</symbols></renderer-v2>"
    )


def _rules(rules: list[tuple[str, str, str]], symbols: list[str]) -> str:
    r = "".join(
        f'<rule key="r{i}" symbol="{i}" filter={quoteattr(flt)} label={quoteattr(lbl)}/>'
        for i, (flt, lbl, _) in enumerate(rules)
    )
    return (
        '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">'
        f'<rules key="root">{r}</rules><symbols>{"".join(symbols)}</symbols></renderer-v2>'
    )


def _single(symbol: str) -> str:
    return f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>{symbol}</symbols></renderer-v2>'


def layer_qml(layer: str, lang: str = "zh", first_level: str = "primary") -> str | None:
    """QML text for one plan layer, or None for layers without a style."""
    t = sym.texts(lang)
    if layer == "schools":
        cats = [(lv, t[lv]) for lv in sym.LEVELS]
        symbols = [
            _marker(str(i), sym.LEVEL_SHAPE[lv], sym.LEVEL_COLOR[lv], 3.2)
            for i, lv in enumerate(sym.LEVELS)
        ]
        return _doc(_categorized("level", cats, symbols), _labels("name"))
    if layer == "new_schools":
        return _doc(_single(_marker("0", "star", sym.NEW_COLOR, 5.0, "#000000")), _labels("name"))
    if layer == "catchments":
        rules = [
            ('"utilization" > 1', t["over_capacity"], ""),
            ('"utilization" <= 1 OR "utilization" IS NULL', t["zones"], ""),
        ]
        symbols = [
            _fill(
                "0",
                sym.OVER_CAPACITY,
                90,
                sym.OVER_CAPACITY,
                0.6,
                style="b_diagonal",
                line_style="dash",
            ),
            _fill("1", sym.ZONE_PALETTE[0], 110, "#666666", 0.2),
        ]
        return _doc(_rules(rules, symbols))
    if layer == "groups":
        cats = [(lv, f"{t[lv]} {t['links']}") for lv in sym.LEVELS]
        return _doc(
            _categorized(
                "level",
                cats,
                [
                    _line(str(i), sym.LEVEL_COLOR[lv], 0.5, "dash")
                    for i, lv in enumerate(sym.LEVELS)
                ],
            )
        )
    if layer == "demand":
        col = f"status_{first_level}"
        rules = [
            (f"\"{col}\" = 'too_far'", f"{t[first_level]} {t['too_far']}", ""),
            (f"\"{col}\" = 'unserved'", f"{t[first_level]} {t['not_served']}", ""),
            (f"\"{col}\" = 'assigned'", t["population"], ""),
        ]
        symbols = [
            _marker(
                "0", "cross2", sym.UNSERVED_COLOR["too_far"], 2.4, sym.UNSERVED_COLOR["too_far"]
            ),
            _marker(
                "1", "cross2", sym.UNSERVED_COLOR["unserved"], 2.4, sym.UNSERVED_COLOR["unserved"]
            ),
            _marker("2", "circle", "#999999", 1.0),
        ]
        return _doc(_rules(rules, symbols))
    if layer == "boundary":
        return _doc(_single(_fill("0", "#ffffff", 0, sym.BOUNDARY_COLOR, 0.6, style="no")))
    return None


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
