"""Shared symbology and wording of every export: the HTML map, the print map and the tables.

One place decides colours, symbols and bilingual labels so the meeting printout, the offline
HTML and the GUI show the same thing.
"""

from __future__ import annotations

import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from app import resources as assets
from core.vocab import GROUP_ROLE, LEVEL, TOWNSHIP_SOURCE, Vocab

LEVELS: tuple[str, ...] = LEVEL.codes

# Colours and symbol shapes: resources/map/symbols.toml (read once, here).
_SYMBOLS = assets.read_toml("map", "symbols.toml")
LEVEL_COLOR: dict[str, str] = dict(_SYMBOLS["level_color"])
NEW_COLOR: str = _SYMBOLS["colors"]["new_school"]
CORE_RING: str = _SYMBOLS["colors"]["core_ring"]
OVER_CAPACITY: str = _SYMBOLS["colors"]["over_capacity"]
UNSERVED_COLOR: dict[str, str] = dict(_SYMBOLS["unserved_color"])
BOUNDARY_COLOR: str = _SYMBOLS["colors"]["boundary"]
LEVEL_SHAPE: dict[str, str] = dict(_SYMBOLS["level_shape"])
MPL_MARKER: dict[str, str] = dict(_SYMBOLS["mpl_marker"])
ZONE_PALETTE: tuple[str, ...] = tuple(_SYMBOLS["zones"]["palette"])
TO_MERGE: str = _SYMBOLS["colors"]["to_merge"]
TRANSITIONAL: str = _SYMBOLS["colors"]["transitional"]
TOWN_LABEL: str = _SYMBOLS["colors"]["town_label"]
VILLAGE_LABEL: str = _SYMBOLS["colors"]["village_label"]
UTIL_BOUNDS: tuple[float, ...] = tuple(_SYMBOLS["utilisation"]["bounds"])
UTIL_COLORS: tuple[str, ...] = tuple(_SYMBOLS["utilisation"]["colors"])
TOWNSHIP_COLOR: str = _SYMBOLS["township"]["color"]
TOWNSHIP_WIDTH: float = float(_SYMBOLS["township"]["width"])
TOWNSHIP_DASH: tuple[float, ...] = tuple(float(v) for v in _SYMBOLS["township"]["dash"])
ROAD_BANDS: tuple[tuple[float, str, float], ...] = tuple(
    (float(a), str(b), float(c)) for a, b, c in _SYMBOLS["roads"]["bands"]
)

# The words of the maps and legends that are not code labels (the codes' words, levels, roles,
# layout statuses, qualities, come from core.vocab). "too_far"/"not_served" name the people
# a legend shows, not the demand status codes.
TEXT = {
    "zh": {
        "title_suffix": "学校布局规划图",
        "boundary": "县域边界",
        "schools": "学校",
        "zones": "学区",
        "links": "集团结对",
        "radius": "集团辐射半径",
        "new_schools": "新建学校",
        "new_school": "新建学校",
        "unserved": "未覆盖人口",
        "too_far": "距离过远人口",
        "not_served": "无学位人口",
        "over_capacity": "超出容量学区",
        "students": "学生数",
        "capacity": "容量",
        "classes": "班级数",
        "utilization": "利用率",
        "mean_km": "平均距离",
        "max_km": "最远距离",
        "oversized": "大班额",
        "group": "集团",
        "group_reason": "分组理由",
        "layout_status": "布局",
        "quality": "办学质量",
        "population": "人口",
        "pupils": "学龄人数",
        "distance": "距离",
        "rule": "依据",
        "members": "成员校",
        "pattern": "共建形式",
        "mode": "办学模式",
        "legend": "图例",
        "scale": "比例尺",
        "north": "北",
        "date": "制图日期",
        "source": "数据来源",
        "made_with": "SchoolPlan 学校布局规划",
        "scenario": "方案",
        "km": "公里",
        "size_note": "符号大小表示学生数",
        "level_sym": "学段",
        "school_word": "所",
        "inset": "局部放大图",
        "zone_students": "学区学生数",
        "to_merge": "撤并学校",
        "transitional": "过渡学校",
        "by_school": "按学校",
        "by_util": "按学位利用率",
        "util_title": "学区学位利用率",
        "roads": "道路",
        "towns": "乡镇名称",
        "villages": "村庄名称",
        "places": "规划学位",
        "size_note_new": "新建学校表示规划学位",
    },
    "en": {
        "title_suffix": "school layout plan",
        "boundary": "County boundary",
        "schools": "schools",
        "zones": "zones",
        "links": "Group links",
        "radius": "Group radius",
        "new_schools": "New schools",
        "new_school": "New school",
        "unserved": "Unserved population",
        "too_far": "Too far",
        "not_served": "No place",
        "over_capacity": "Zone over capacity",
        "students": "Students",
        "capacity": "Capacity",
        "classes": "Classes",
        "utilization": "Utilisation",
        "mean_km": "Mean distance",
        "max_km": "Max distance",
        "oversized": "Oversized classes",
        "group": "Group",
        "group_reason": "Reason",
        "layout_status": "Layout",
        "quality": "Quality",
        "population": "Population",
        "pupils": "School-age",
        "distance": "Distance",
        "rule": "Rule",
        "members": "Members",
        "pattern": "Pattern",
        "mode": "Mode",
        "legend": "Legend",
        "scale": "Scale",
        "north": "N",
        "date": "Date",
        "source": "Source",
        "made_with": "SchoolPlan",
        "scenario": "Scenario",
        "km": "km",
        "size_note": "symbol size: students",
        "level_sym": "Level",
        "school_word": "",
        "inset": "Enlarged view",
        "zone_students": "Zone students",
        "to_merge": "School to merge",
        "transitional": "Transitional school",
        "by_school": "by school",
        "by_util": "by utilisation",
        "util_title": "Zone utilisation",
        "roads": "Roads",
        "towns": "Township names",
        "villages": "Village names",
        "places": "planned places",
        "size_note_new": "new schools: planned places",
    },
}


def texts(lang: str) -> dict[str, str]:
    """Wording for ``lang`` ("zh" or "en"); unknown languages get Chinese, the users' language."""
    return TEXT["en"] if lang == "en" else TEXT["zh"]


def level_order(levels) -> list[str]:
    present = {str(v) for v in levels}
    return [lv for lv in LEVELS if lv in present]


def marker_size_px(students, lo: float = 7.0, hi: float = 26.0, ref: float = 3000.0) -> np.ndarray:
    """Symbol diameter in pixels: area grows with students (sqrt), clipped so tiny schools show."""
    s = np.clip(np.asarray(students, dtype=float), 0, None)
    s = np.nan_to_num(s)
    return np.clip(lo + (hi - lo) * np.sqrt(s / ref), lo, hi)


def zone_colors(zones: gpd.GeoDataFrame, key: str = "school_id") -> dict[str, str]:
    """A palette colour per zone such that touching zones of the same level differ.

    Greedy colouring of the adjacency graph in (level, school_id) order: deterministic, and zones
    that share a border never share a colour while the palette lasts.
    """
    out: dict[str, str] = {}
    if zones is None or len(zones) == 0:
        return out
    n_pal = len(ZONE_PALETTE)
    for level in level_order(zones["level"].unique()):
        sub = zones[zones["level"] == level].sort_values(key)
        geoms = sub.geometry.values
        ids = [str(v) for v in sub[key]]
        tree = shapely.STRtree(geoms)
        # A tiny buffer makes zones that meet at a shared edge count as neighbours.
        pairs = tree.query(shapely.buffer(geoms, 1.0), predicate="intersects")
        nbrs: dict[int, set[int]] = {i: set() for i in range(len(ids))}
        for a, b in zip(*pairs):
            if a != b:
                nbrs[int(a)].add(int(b))
        used: dict[int, int] = {}
        for i in range(len(ids)):
            taken = {used[j] for j in nbrs[i] if j in used}
            c = next((k for k in range(n_pal) if k not in taken), i % n_pal)
            used[i] = c
            out[f"{level}|{ids[i]}"] = ZONE_PALETTE[c]
    return out


def util_band(util) -> int:
    """Band index of a utilisation (0 = most under-used … len(UTIL_BOUNDS) = most over-full)."""
    try:
        u = float(util)
    except (TypeError, ValueError):
        return 0
    return 0 if math.isnan(u) else int(np.searchsorted(UTIL_BOUNDS, u, side="left"))


def util_labels() -> list[str]:
    """The bands' legend texts: "<60%", "60–85%", …, ">115%"."""
    b = [f"{v * 100:.0f}%" for v in UTIL_BOUNDS]
    return [f"<{b[0]}"] + [f"{b[i]}–{b[i + 1]}" for i in range(len(b) - 1)] + [f">{b[-1]}"]


def road_band(speed) -> int:
    """Index into ROAD_BANDS of a road by its speed (unknown speed: the minor band)."""
    try:
        v = float(speed)
    except (TypeError, ValueError):
        return len(ROAD_BANDS) - 1
    for k, (lo, _, _) in enumerate(ROAD_BANDS):
        if v >= lo:
            return k
    return len(ROAD_BANDS) - 1


def has_townships(townships) -> bool:
    return townships is not None and len(townships) > 0


def township_label(townships, lang: str) -> str:
    """The legend's and layer list's name of the township boundaries: given, or approximated
    from the villages (core.vocab.TOWNSHIP_SOURCE)."""
    derived = "source" in townships and (townships["source"].astype(str) == "derived").any()
    return TOWNSHIP_SOURCE.label("derived" if derived else "given", lang)


def township_lines(townships, boundary, tolerance_m: float) -> shapely.Geometry | None:
    """The township borders as lines, each shared border once (two dashed lines drawn over
    each other out of step would look solid) and the county's own boundary left out (it is
    drawn already), simplified by ``tolerance_m`` (neighbours' borders stay shared); in the
    layers' CRS, None when there is nothing to draw."""
    if not has_townships(townships):
        return None
    geoms = townships.geometry.values
    try:
        geoms = shapely.coverage_simplify(geoms, tolerance_m)
    except Exception:  # not a valid coverage (a given layer may overlap): each on its own
        geoms = shapely.simplify(geoms, tolerance_m, preserve_topology=True)
    lines = shapely.union_all(shapely.boundary(geoms))
    if boundary is not None and len(boundary):
        county = shapely.union_all(boundary.geometry.values)
        lines = shapely.difference(lines, shapely.buffer(county.boundary, tolerance_m))
    lines = shapely.line_merge(lines)
    return None if lines is None or lines.is_empty else lines


def line_parts(shape: shapely.Geometry | None) -> list[np.ndarray]:
    """The (x, y) vertex arrays of the lines of ``shape``."""
    if shape is None or shape.is_empty:
        return []
    parts = shapely.get_parts(shape)
    return [
        shapely.get_coordinates(p) for p in parts if p.geom_type in ("LineString", "LinearRing")
    ]


def town_points(demand, townships=None) -> list[tuple[str, float, float]]:
    """(township, x, y) at the mean position of each township's units, in the layer's CRS; at
    a point inside each township's polygon when the bureau gave the township boundaries."""
    if has_townships(townships) and "source" in townships:
        given = townships[townships["source"].astype(str) == "given"]
        if len(given):
            g = given.sort_values("name")
            pts = shapely.point_on_surface(g.geometry.values)
            return [
                (str(n), float(x), float(y))
                for n, x, y in zip(g["name"], shapely.get_x(pts), shapely.get_y(pts), strict=True)
            ]
    if demand is None or len(demand) == 0 or "town" not in demand:
        return []
    pts = demand.geometry.representative_point()
    frame = {
        "town": demand["town"].astype(str).to_numpy(),
        "x": pts.x.to_numpy(),
        "y": pts.y.to_numpy(),
    }
    g = pd.DataFrame(frame)
    g = g[g["town"].str.strip() != ""].groupby("town", sort=True)[["x", "y"]].mean()
    return [(str(k), float(r.x), float(r.y)) for k, r in g.iterrows()]


def village_names(demand) -> list[tuple[str, float, float, float]]:
    """(name, x, y, population) of every named unit at its point, in the layer's CRS; the name
    without its township's prefix ("祥霖铺镇柑子园村" → "柑子园村": the township is on the map)."""
    if demand is None or len(demand) == 0 or "name" not in demand:
        return []
    pts = demand.geometry.representative_point()
    town = demand["town"].astype(str) if "town" in demand else pd.Series("", index=demand.index)
    pop = (
        pd.to_numeric(demand["population"], errors="coerce").fillna(0.0)
        if "population" in demand
        else pd.Series(0.0, index=demand.index)
    )
    out = []
    for nm, tw, x, y, n in zip(demand["name"].astype(str), town, pts.x, pts.y, pop, strict=True):
        short = nm[len(tw) :] if tw and nm.startswith(tw) and len(nm) > len(tw) else nm
        if short.strip() and short != "nan":
            out.append((short, float(x), float(y), float(n)))
    return out


def fmt_num(value, digits: int = 0) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    if math.isnan(v):
        return "—"
    return f"{v:,.{digits}f}"


def fmt_pct(value) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return "—" if math.isnan(v) else f"{v * 100:.0f}%"


_TRAILING_NOTE = re.compile(r"^(?P<base>.*?)(?P<note>\s*[(（][^()（）]*[)）])?\s*$", re.S)


def plan_title(meta: dict, lang: str) -> str:
    """The map title: the project's name made into a map title without saying 规划 twice.

    "道县" → "道县学校布局规划图"; "道县学校布局规划(示例)" → "道县学校布局规划图(示例)";
    "道县学校布局规划图" stays; any other name that already speaks of 规划 →
    "<project> — 学校布局规划图". English: "<project> — school layout plan".
    The scenario follows in brackets."""
    t = texts(lang)
    project = str(meta.get("project") or meta.get("project_name") or "").strip()
    scenario = str(meta.get("scenario") or "").strip()
    suffix = t["title_suffix"]
    if lang == "en":
        title = f"{project} — {suffix}" if project else suffix[:1].upper() + suffix[1:]
    else:
        m = _TRAILING_NOTE.match(project)
        base, note = m.group("base").rstrip(), m.group("note") or ""
        if not project:
            title = suffix
        elif base.endswith("规划图"):
            title = project
        elif base.endswith("规划"):
            title = f"{base}图{note.strip()}"
        elif "规划" in project:
            title = f"{project} — {suffix}"
        else:
            title = project + suffix
    if scenario:
        title += (
            f" — {t['scenario']}: {scenario}" if lang == "en" else f"({t['scenario']}:{scenario})"
        )
    return title


def county_name(meta: dict) -> str:
    """The county as a document title starts with it: "道县学校布局规划(示例)" → "道县"."""
    project = str(meta.get("project") or meta.get("project_name") or "").strip()
    base = re.split(r"(学校布局规划|布局规划|规划)", project, maxsplit=1)[0].strip()
    return base or project


def plan_date(meta: dict) -> str:
    created = str(meta.get("created") or "")
    return created[:10] if created else ""


def symbol_svg(shape: str, color: str, size: float = 14, ring: bool = False) -> str:
    """A small inline SVG of a map symbol (legend swatches; same geometry as the map script)."""
    s, h = float(size), float(size) / 2
    if shape == "square":
        body = f"<rect x='1.5' y='1.5' width='{s - 3:g}' height='{s - 3:g}'"
    elif shape == "triangle":
        body = f"<polygon points='{h:g},1 {s - 1:g},{s - 1:g} 1,{s - 1:g}'"
    elif shape == "star":
        pts = []
        for i in range(10):
            r = h * 0.45 if i % 2 else h - 1
            pts.append(
                f"{h + r * math.sin(math.pi * i / 5):.1f},{h - r * math.cos(math.pi * i / 5):.1f}"
            )
        body = f"<polygon points='{' '.join(pts)}'"
    else:
        body = f"<circle cx='{h:g}' cy='{h:g}' r='{h - 1.5:g}'"
    if ring:
        return (
            f"<svg width='{s:g}' height='{s:g}'><circle cx='{h:g}' cy='{h:g}' r='{h - 1:g}' "
            f"fill='{color}' stroke='{CORE_RING}' stroke-width='2'/></svg>"
        )
    return f"<svg width='{s:g}' height='{s:g}'>{body} fill='{color}' stroke='#ffffff' stroke-width='1'/></svg>"


def level_name(level: object, lang: str) -> str:
    """A level as maps, legends and sheets start a line with it: 小学 / Primary."""
    return heading(LEVEL, level, lang)


def heading(vocab: Vocab, code: object, lang: str) -> str:
    """A code's vocabulary label, capitalised in English where it starts a legend entry or line."""
    text = vocab.label(code, lang)
    return text[:1].upper() + text[1:] if lang == "en" else text


def role_name(role: object, lang: str) -> str:
    return heading(GROUP_ROLE, role, lang)
