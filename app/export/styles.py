"""QGIS styles for plan.gpkg: a ``layer_styles`` table, as QGIS itself writes it.

QGIS opens each plan layer with these symbols (schools by level with cores ringed and the
layout decisions marked, zones by utilisation band with over-capacity hatched red, one style per
level so the levels' zones never cover each other, dashed group links, stars for new schools,
red crosses for unserved places) instead of random colours, and shows the fields under Chinese
aliases with coded values as words (value maps). Other GIS software ignores the table. The
styles are templates in resources/qgis/<layer>.qml, filled with the colours of
resources/map/symbols.toml and the labels.
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

from app import resources as assets
from app.export import symbology as sym
from app.export.tables import CATCH_COLS, CODES, NEW_COLS, SCHOOL_COLS
from core.vocab import DEMAND_STATUS, MODE, PATTERN, TOWNSHIP_SOURCE, Vocab

_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))
"""
STYLE_NAME = "SchoolPlan"


# Layers with a style template in resources/qgis/<layer>.qml.
STYLED_LAYERS = (
    "schools",
    "new_schools",
    "catchments",
    "groups",
    "demand",
    "boundary",
    "townships",
)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
# Field aliases (zh, en): the sheets' headers, and the layers' own columns. A name that means
# different things in different layers ("name", "students", "unit_id") is in LAYER_FIELD_LABELS.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    **{c.key: (c.zh, c.en) for c in (*SCHOOL_COLS, *CATCH_COLS, *NEW_COLS)},
    "teachers": ("教师数", "Teachers"),
    "status": ("办学状态", "Status"),
    "combined": ("一贯制", "Combined school"),
    "classes_needed": ("需要班级数", "Classes needed"),
    "core_id": ("核心校编号", "Core school id"),
    "member_ids": ("成员校编号", "Member school ids"),
    "pattern": ("集团模式", "Pattern"),
    "mode": ("办学模式", "Mode"),
    "n_members": ("成员校数", "Members"),
    "teacher_exchange_min": ("年度交流教师不少于(人)", "Teachers exchanged / year, min"),
    "teacher_backbone_min": ("其中骨干教师不少于(人)", "of which backbone, min"),
    "funding_min_yuan": ("年度经费不少于(元)", "Yearly funding, min (yuan)"),
    "population": ("人口", "Population"),
    "town": ("乡镇(街道)", "Township"),
    "rule": ("规划依据", "Rule"),
    "rule_en": ("规划依据(英文)", "Rule (English)"),
    # the present (planning.present), the zone reason and the group's figures (planning.figures)
    "students_per_class": ("现状班额(人/班)", "Pupils per class (present)"),
    "utilization_now": ("现状学位利用率", "Utilisation (present)"),
    "over_capacity": ("现状超出学位", "Over capacity (present)"),
    "oversized_class": ("现状大班额", "Oversized classes (present)"),
    "over_max_students": ("现状超规模", "Over the size limit (present)"),
    "junior_short": ("所在乡镇初中不足", "Township short of junior classes"),
    "zone_reason": ("无学区原因", "Why no zone"),
    "zone_reason_en": ("无学区原因(英文)", "Why no zone (English)"),
    "zone_reason_code": ("无学区原因代码", "Why no zone (code)"),
    "funding_source": ("出资", "Paid by"),
    "core_outflow_min": ("核心校年度输出教师不少于(人)", "Core's teachers sent out / year, min"),
    "new_school_backbone_min": (
        "新建学校骨干教师不少于(人)",
        "Backbone teachers for new schools, min",
    ),
    "start_year": ("结对起始年份", "Pairing start year"),
    "end_year": ("结对结束年份", "Pairing end year"),
    "capacity_assumed": ("学位数为估计值", "Capacity assumed"),
    "affiliation": ("隶属", "Affiliation"),
}
for _lv, _zh in (("primary", "小学"), ("junior", "初中"), ("senior", "高中")):
    FIELD_LABELS |= {
        f"students_{_lv}": (f"{_zh}学龄人数", f"{_lv.capitalize()} pupils"),
        f"school_id_{_lv}": (f"{_zh}就读学校", f"{_lv.capitalize()} school"),
        f"distance_{_lv}_km": (f"{_zh}就学距离(公里)", f"{_lv.capitalize()} distance (km)"),
        f"status_{_lv}": (f"{_zh}就学状况", f"{_lv.capitalize()} status"),
        f"feeder_{_lv}": (f"{_zh}成员校生源", f"{_lv.capitalize()} at a member school"),
        f"unserved_pupils_{_lv}": (
            f"{_zh}无学位学生",
            f"{_lv.capitalize()} pupils without a place",
        ),
    }
LAYER_FIELD_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "schools": {c.key: (c.zh, c.en) for c in SCHOOL_COLS},
    "catchments": {c.key: (c.zh, c.en) for c in CATCH_COLS},
    "new_schools": {c.key: (c.zh, c.en) for c in NEW_COLS},
    "demand": {
        "unit_id": ("人口单元编号", "Population unit id"),
        "name": ("村(社区)名称", "Village / community"),
    },
    "boundary": {"name": ("行政区名称", "Area name")},
    "townships": {
        "name": ("乡镇名称", "Township"),
        "source": ("乡镇界来源", "Boundary source"),
    },
}


def field_labels(layer: str | None = None) -> dict[str, tuple[str, str]]:
    """Field → (zh, en) alias in ``layer`` (the shared ones where the layer has none its own)."""
    return {**FIELD_LABELS, **LAYER_FIELD_LABELS.get(layer or "", {})}


# Coded fields shown as words (QGIS value maps).
VALUE_MAPS: dict[str, Vocab] = {
    **CODES,
    "pattern": PATTERN,
    "mode": MODE,
    **{f"status_{lv}": DEMAND_STATUS for lv in ("primary", "junior", "senior")},
    "source": TOWNSHIP_SOURCE,  # the townships layer's (no other plan layer has the field)
}


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


def fields_xml(columns: list[str], lang: str, layer: str | None = None) -> str:
    """QML aliases (Chinese, or English) and value maps for the ``columns`` of ``layer`` (in
    order, without the geometry column; QGIS counts the GeoPackage fid as field 0)."""
    k = 1 if lang == "en" else 0
    labels = field_labels(layer)
    aliases = "".join(
        f'<alias field="{_attr(c)}" index="{i}" name="{_attr(labels[c][k])}"/>'
        for i, c in enumerate(columns)
        if c in labels
    )
    maps = []
    for c in columns:
        vocab = VALUE_MAPS.get(c)
        if vocab is None:
            continue
        entries = "".join(
            f'<Option type="Map"><Option type="QString" name="{_attr(vocab.label(code, lang))}" '
            f'value="{_attr(code)}"/></Option>'
            for code in vocab.codes
        )
        maps.append(
            f'<field name="{_attr(c)}" configurationFlags="None"><editWidget type="ValueMap">'
            f'<config><Option type="Map"><Option type="List" name="map">{entries}</Option>'
            "</Option></config></editWidget></field>"
        )
    return f"<fieldConfiguration>{''.join(maps)}</fieldConfiguration><aliases>{aliases}</aliases>"


def _util_rules(lang: str) -> tuple[str, str]:
    """The catchment rules and symbols of the utilisation bands (symbols.toml [utilisation])."""
    b = sym.UTIL_BOUNDS
    u = "&quot;utilization&quot;"
    rules, symbols = [], []
    for k, (color, label) in enumerate(zip(sym.UTIL_COLORS, sym.util_labels(), strict=True)):
        if k == 0:
            flt = f"{u} &lt;= {b[0]} OR {u} IS NULL"
        elif k == len(b):
            flt = f"{u} &gt; {b[-1]}"
        else:
            flt = f"{u} &gt; {b[k - 1]} AND {u} &lt;= {b[k]}"
        rules.append(f'<rule key="u{k}" symbol="u{k}" filter="{flt}" label="{_attr(label)}"/>')
        symbols.append(
            f'<symbol type="fill" name="u{k}" alpha="1" clip_to_extent="1" force_rhr="0">'
            '<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">'
            f'<Option type="QString" name="color" value="{_rgba(color, 150)}"/>'
            '<Option type="QString" name="style" value="solid"/>'
            '<Option type="QString" name="outline_color" value="102,102,102,255"/>'
            '<Option type="QString" name="outline_width" value="0.2"/>'
            '<Option type="QString" name="outline_width_unit" value="MM"/>'
            "</Option></layer></symbol>"
        )
    return "".join(rules), "".join(symbols)


def _fields(
    lang: str, first_level: str, columns: list[str] | None = None, layer: str | None = None
) -> dict[str, str]:
    """Every template placeholder: symbol colours and shapes, and labels in ``lang``."""
    t = sym.texts(lang)
    first = sym.level_name(first_level, lang)
    util_rules, util_symbols = _util_rules(lang)
    fields = {
        "fields": fields_xml(columns, lang, layer) if columns else "",
        "util_rules": util_rules,
        "util_symbols": util_symbols,
        "label_level": _attr(f"{first}{t['zones']}" if lang != "en" else f"{first} {t['zones']}"),
        "core_ring": _rgba(sym.CORE_RING),
        "to_merge": _rgba(sym.TO_MERGE),
        "transitional": _rgba(sym.TRANSITIONAL),
        "label_core": _attr(sym.role_name("core", lang)),
        "label_to_merge": _attr(t["to_merge"]),
        "label_transitional": _attr(t["transitional"]),
        "label_new": _attr(t["new_school"]),
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
        "township": _rgba(sym.TOWNSHIP_COLOR),
        "township_width": f"{sym.TOWNSHIP_WIDTH:g}",
        "township_dash": ";".join(f"{v:g}" for v in sym.TOWNSHIP_DASH),
        "town_label": _rgba(sym.TOWN_LABEL),
        "label_townships": _attr(TOWNSHIP_SOURCE.label("given", lang)),
    }
    for lv in sym.LEVELS:
        name = sym.level_name(lv, lang)
        fields[f"label_{lv}"] = _attr(name)
        fields[f"links_{lv}"] = _attr(f"{name} {t['links']}")
        fields[f"color_{lv}"] = _rgba(sym.LEVEL_COLOR[lv])
        fields[f"shape_{lv}"] = sym.LEVEL_SHAPE[lv]
    return fields


def layer_qml(
    layer: str, lang: str = "zh", first_level: str = "primary", columns: list[str] | None = None
) -> str | None:
    """QML text for one plan layer, or None for layers without a style. ``first_level``: the
    level the catchments style shows; ``columns``: the layer's fields (aliases, value maps)."""
    if layer not in STYLED_LAYERS:
        return None
    return _template(layer).substitute(_fields(lang, first_level, columns, layer))


def write_qgis_styles(gpkg: str | Path, result=None, *, lang: str = "zh") -> int:
    """Add (or replace) the SchoolPlan default style of every plan layer in ``gpkg``.

    Returns the number of layers styled. Tables that are not in the GeoPackage are skipped.
    """
    levels = ["primary"]
    if result is not None and len(result.schools):
        levels = sym.level_order(result.schools["level"].unique()) or levels
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
            if table not in STYLED_LAYERS:
                continue
            columns = [
                r[1]
                for r in con.execute(f'PRAGMA table_info("{table}")').fetchall()
                if r[1] != geom
            ]
            con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (table,))
            # Catchments: one style per level (the first is the default); others: one style.
            for k, lv in enumerate(levels if table == "catchments" else levels[:1]):
                name = STYLE_NAME
                if table == "catchments":
                    name += f" {sym.level_name(lv, lang)}"
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui) "
                    "VALUES ('', '', ?, ?, ?, ?, '', ?, ?, '', '')",
                    (table, geom, name, layer_qml(table, lang, lv, columns), int(k == 0),
                     escape(f"SchoolPlan {table} {lv if table == 'catchments' else ''}".strip())),
                )  # fmt: skip
            n += 1
        con.commit()
        return n
    finally:
        con.close()
