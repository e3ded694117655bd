"""The one Leaflet map of a plan, used by the offline HTML export and by the GUI's map view.

All features are drawn by one script from one JSON payload: small HTML, fast to load, and every
text that comes from data is HTML-escaped in Python before it reaches the page (a school named
``<script>…`` shows as text). The page exposes ``window.schoolplanMap`` (the ``L.Map``) and
``window.schoolplan`` (layers, markers by ``level|school_id``, counts) so the GUI can attach click
and drag handlers through a QWebChannel without any Qt code in the exported file. School markers
carry ``options.schoolId``, ``options.level``, ``options.layoutStatus`` and ``options.groupRole``.
The script and its CSS are resources/map/plan_layers.js and .css; code words come from core.vocab.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from app import resources as assets
from app.export import symbology as sym
from core.vocab import GROUP_ROLE, LAYOUT_STATUS, MODE, PATTERN, QUALITY, yes_no

WGS84 = "EPSG:4326"
# Zone outlines are simplified for the screen; shared borders stay shared (coverage simplify).
ZONE_SIMPLIFY_M = 15.0
COORD_GRID_DEG = 1e-6  # ~0.1 m: enough for a county map, and keeps the HTML small
DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILES_ATTR = "© OpenStreetMap contributors"
NEW_MIN_PX = 22.0  # a new school's star is never smaller: the plan's main decision must show
ROAD_SIMPLIFY_M = 10.0
TOWNSHIP_SIMPLIFY_M = 20.0  # township borders: a screen line, not a survey (keeps the file small)
VILLAGE_ZOOM = 12  # village names appear from this zoom on (a township fills the screen)


def esc(value: Any) -> str:
    """HTML-escape any data value (None/NaN → empty)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def safe_json(payload: Any) -> str:
    """JSON that can sit inside a <script> element: no '</script>', no HTML-significant bytes."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def layer_name(t: dict, level: str, kind: str, lang: str) -> str:
    """ "小学学区" / "Primary zones": a level's layer, as the layer control and popups say it."""
    if lang == "en":
        return f"{sym.level_name(level, lang)} {t[kind].lower()}"
    return f"{sym.level_name(level, lang)}{t[kind]}"


def _table(rows: list[tuple[str, str]]) -> str:
    # Labels are ours, values already escaped by the caller.
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows if v != "")
    return f"<table class='sp-tab'>{cells}</table>"


def _features(gdf: gpd.GeoDataFrame, props: list[dict]) -> dict:
    geoms = shapely.set_precision(gdf.geometry.values, COORD_GRID_DEG, mode="pointwise")
    texts = shapely.to_geojson(geoms)
    feats = [
        {"type": "Feature", "geometry": json.loads(g), "properties": p}
        for g, p in zip(texts, props)
        if g is not None
    ]
    return {"type": "FeatureCollection", "features": feats}


def _num(row, col, digits=0) -> str:
    return esc(sym.fmt_num(row.get(col), digits)) if col in row else ""


def _school_names(schools: gpd.GeoDataFrame) -> dict[str, str]:
    return {str(s): str(n) for s, n in zip(schools["school_id"], schools["name"])}


def _zones_payload(result, t, lang, names) -> dict[str, dict]:
    zones = result.catchments
    out: dict[str, dict] = {}
    if zones is None or len(zones) == 0:
        return out
    colors = sym.zone_colors(zones)
    for level in sym.level_order(zones["level"].unique()):
        sub = zones[zones["level"] == level].sort_values("school_id")
        geoms = sub.geometry.values
        try:  # keeps neighbouring zones gap-free after simplification
            geoms = shapely.coverage_simplify(geoms, ZONE_SIMPLIFY_M)
        except Exception:  # not a valid coverage (overlaps): simplify each outline instead
            geoms = shapely.simplify(geoms, ZONE_SIMPLIFY_M, preserve_topology=True)
        sub = gpd.GeoDataFrame(
            sub.drop(columns="geometry"), geometry=list(geoms), crs=zones.crs
        ).to_crs(WGS84)
        props = []
        for _, r in sub.iterrows():
            sid = str(r["school_id"])
            util = float(r.get("utilization", np.nan))
            over = bool(util > 1.0) if not math.isnan(util) else False
            oversized = (
                bool(r.get("oversized", False)) if not pd.isna(r.get("oversized", False)) else False
            )
            name = esc(names.get(sid, sid))
            popup = (
                f"<div class='sp-pop'><b>{name}</b> · {esc(layer_name(t, level, 'zones', lang))}"
                + _table(
                    [
                        (t["students"], _num(r, "students")),
                        (t["capacity"], _num(r, "capacity")),
                        (t["utilization"], esc(sym.fmt_pct(util))),
                        (t["mean_km"], _num(r, "mean_distance_km", 1) + " " + esc(t["km"])),
                        (t["max_km"], _num(r, "max_distance_km", 1) + " " + esc(t["km"])),
                        (t["oversized"], esc(yes_no(oversized, lang))),
                    ]
                )
                + "</div>"
            )
            props.append(
                {
                    "id": sid,
                    "color": colors.get(f"{level}|{sid}", sym.ZONE_PALETTE[0]),
                    "ucolor": sym.UTIL_COLORS[sym.util_band(util)],
                    "over": over,
                    "tip": f"{name} · {esc(sym.fmt_pct(util))}",
                    "popup": popup,
                }
            )
        out[level] = _features(sub, props)
    return out


def _schools_payload(result, t, lang) -> list[dict]:
    schools = result.schools
    new = result.new_schools
    if new is not None and len(new):
        have = set(zip(schools["school_id"].astype(str), schools["level"].astype(str)))
        extra = new[[(str(a), str(b)) not in have for a, b in zip(new["school_id"], new["level"])]]
        if len(extra):
            extra = extra.assign(layout_status="new", students=0, group_role="none", group_id="")
            schools = pd.concat([schools, extra.to_crs(schools.crs)], ignore_index=True)
    zones = result.catchments
    zone_stats = {}
    if zones is not None and len(zones):
        for _, z in zones.iterrows():
            zone_stats[(str(z["school_id"]), str(z["level"]))] = z
    g4326 = gpd.GeoSeries(schools.geometry.values, crs=schools.crs).to_crs(WGS84)
    sizes = sym.marker_size_px(
        schools["students"].fillna(0) if "students" in schools else np.zeros(len(schools))
    )
    # A new school has no pupils yet: its star is sized by its planned places, and never small.
    is_new_all = (
        schools.get("layout_status", pd.Series("", index=schools.index)) == "new"
    ).to_numpy()
    new_sizes = np.maximum(
        sym.marker_size_px(pd.to_numeric(schools["capacity"], errors="coerce").fillna(0)) * 1.5,
        NEW_MIN_PX,
    )
    sizes = np.where(is_new_all, new_sizes, sizes)
    rule_col = "rule_en" if lang == "en" else "rule"
    new_rules = {}
    if new is not None and len(new) and rule_col in new:
        new_rules = {
            (str(a), str(b)): r for a, b, r in zip(new["school_id"], new["level"], new[rule_col])
        }
    order = sorted(
        range(len(schools)),
        key=lambda i: (sym.LEVELS.index(str(schools["level"].iloc[i])) if str(schools["level"].iloc[i]) in sym.LEVELS else 9,
                       str(schools["school_id"].iloc[i])),
    )  # fmt: skip
    out = []
    for i in order:
        r = schools.iloc[i]
        p = g4326.iloc[i]
        if p is None or p.is_empty:
            continue
        if p.geom_type != "Point":
            p = p.representative_point()
        sid, level = str(r["school_id"]), str(r["level"])
        status = str(r.get("layout_status", "") or "")
        role = str(r.get("group_role", "none") or "none")
        is_new = status == "new"
        quality = str(r.get("quality", ""))
        students = r.get("students", np.nan)
        capacity = r.get("capacity", np.nan)
        util = (
            float(students) / float(capacity)
            if capacity and not pd.isna(capacity) and float(capacity) > 0
            else np.nan
        )
        z = zone_stats.get((sid, level))
        rows = [
            (t["layout_status"], esc(LAYOUT_STATUS.label(status, lang))),
            (t["classes"], _num(r, "classes")),
            (t["students"], _num(r, "students")),
            (t["capacity"], _num(r, "capacity")),
            (t["utilization"], esc(sym.fmt_pct(util))),
            (t["quality"], esc(QUALITY.label(quality, lang) if quality in QUALITY.codes else "")),
        ]
        if role in ("core", "member"):
            rows.append(
                (t["group"], f"{esc(r.get('group_id', ''))} · {esc(sym.role_name(role, lang))}")
            )
            reason = (
                r.get("group_reason_en")
                if lang == "en" and "group_reason_en" in r
                else r.get("group_reason", "")
            )
            rows.append((t["group_reason"], esc(reason)))
        if z is not None:
            rows.append(
                (
                    t["zone_students"],
                    esc(sym.fmt_num(z.get("students")))
                    + " / "
                    + esc(sym.fmt_pct(z.get("utilization"))),
                )
            )
        if is_new and (sid, level) in new_rules:
            rows.append((t["rule"], esc(new_rules[(sid, level)])))
        name = esc(r.get("name", sid))
        level_text = esc(sym.level_name(level, lang))
        head = f"<b>{name}</b> · {level_text}" + (f" · {esc(t['new_school'])}" if is_new else "")
        out.append(
            {
                "id": sid,
                "lv": level,
                "lat": round(p.y, 6),
                "lng": round(p.x, 6),
                "size": round(float(sizes[i]), 1),
                "shape": "star" if is_new else sym.LEVEL_SHAPE.get(level, "circle"),
                "color": sym.NEW_COLOR if is_new else sym.LEVEL_COLOR.get(level, "#555555"),
                "core": role == "core",
                "role": role,
                "status": status,
                "label": name if is_new else "",
                "tip": f"{name} · {level_text}"
                + (f" · {esc(t['places'])} {_num(r, 'capacity')}" if is_new else ""),
                "popup": f"<div class='sp-pop'>{head}{_table(rows)}</div>",
            }
        )
    return out


def _links_payload(result, t, lang, names) -> tuple[dict[str, dict], list[dict]]:
    groups = result.groups
    links: dict[str, dict] = {}
    radius: list[dict] = []
    if groups is None or len(groups) == 0:
        return links, radius
    radius_km = float(getattr(getattr(result.rules, "groups", None), "radius_km", np.nan))
    core_pts = {}
    s4326 = result.schools.to_crs(WGS84)
    for sid, lv, g in zip(s4326["school_id"], s4326["level"], s4326.geometry):
        core_pts[(str(sid), str(lv))] = g
    for level in sym.level_order(groups["level"].unique()):
        sub = groups[groups["level"] == level].sort_values("group_id")
        sub4 = sub.to_crs(WGS84)
        props = []
        for _, r in sub4.iterrows():
            members = [m.strip() for m in str(r.get("member_ids", "")).split(",") if m.strip()]
            core = str(r["core_id"])
            pattern = str(r.get("pattern", ""))
            mode = str(r.get("mode", ""))
            rows = [
                (sym.role_name("core", lang), esc(names.get(core, core))),
                (t["members"], "、".join(esc(names.get(m, m)) for m in members)),
                (t["pattern"], esc(PATTERN.label(pattern, lang))),
                (t["mode"], esc(MODE.label(mode, lang))),
                (t["max_km"], _num(r, "max_distance_km", 1) + " " + esc(t["km"])),
            ]
            tip = f"{esc(r['group_id'])}: {esc(names.get(core, core))} → {len(members)} {esc(GROUP_ROLE.label('member', lang))}"
            props.append(
                {
                    "id": str(r["group_id"]),
                    "tip": tip,
                    "popup": f"<div class='sp-pop'><b>{esc(r['group_id'])}</b>{_table(rows)}</div>",
                }
            )
            pt = core_pts.get((core, str(level)))
            if pt is not None and not math.isnan(radius_km):
                radius.append(
                    {"lat": round(pt.y, 6), "lng": round(pt.x, 6), "r": radius_km * 1000.0, "lv": str(level), "id": core,
                     "tip": f"{esc(names.get(core, core))} · {esc(t['radius'])} {radius_km:g} {esc(t['km'])}"}
                )  # fmt: skip
        links[level] = _features(sub4, props)
    return links, radius


def _unit_name(r) -> str:
    """A unit as people know it: "道江镇 · 某某村" when the data names it, else its id."""
    name, town = str(r.get("name") or "").strip(), str(r.get("town") or "").strip()
    if not name:
        return str(r.get("unit_id", ""))
    return name if not town or name.startswith(town) else f"{town} · {name}"


def _roads_payload(result) -> list[dict]:
    """The plan's roads as one feature collection per speed band (widest first)."""
    roads = getattr(result, "roads", None)
    if roads is None or len(roads) == 0:
        return []
    speed = roads["speed_kmh"] if "speed_kmh" in roads else pd.Series(np.nan, index=roads.index)
    band = np.array([sym.road_band(v) for v in speed])
    geoms = shapely.simplify(roads.geometry.values, ROAD_SIMPLIFY_M)
    g = gpd.GeoSeries(geoms, crs=roads.crs).to_crs(WGS84)
    out = []
    for k, (_, color, width) in enumerate(sym.ROAD_BANDS):
        sub = g[band == k]
        if len(sub):
            frame = gpd.GeoDataFrame(geometry=sub.values, crs=WGS84)
            out.append({"color": color, "weight": round(width * 2.2, 1),
                        "data": _features(frame, [{} for _ in range(len(frame))])})  # fmt: skip
    return out


def _townships_payload(result, lang: str) -> dict | None:
    """The township borders as one line layer (each shared border once, simplified), with the
    layer's name: given, or approximated from the villages; None without townships."""
    townships = getattr(result, "townships", None)
    lines = sym.township_lines(townships, result.boundary, TOWNSHIP_SIMPLIFY_M)
    if lines is None:
        return None
    frame = gpd.GeoDataFrame(geometry=[lines], crs=townships.crs).to_crs(WGS84)
    return {
        "name": esc(sym.township_label(townships, lang)),
        "color": sym.TOWNSHIP_COLOR,
        "weight": round(sym.TOWNSHIP_WIDTH * 2, 1),
        "dash": " ".join(f"{v * 2:g}" for v in sym.TOWNSHIP_DASH),
        "count": len(townships),
        "data": _features(frame, [{}]),
    }


def _places_payload(result) -> tuple[list[dict], list[dict]]:
    """Township names (at the middle of their units, or inside the townships the bureau gave)
    and village names (each unit's point)."""
    d = result.demand
    townships = getattr(result, "townships", None)
    towns = []
    points = sym.town_points(d, townships)
    if points:
        crs = townships.crs if sym.has_townships(townships) else d.crs
        pts = gpd.GeoSeries([shapely.Point(x, y) for _, x, y in points], crs=crs).to_crs(WGS84)
        for (name, _, _), p in zip(points, pts, strict=True):
            towns.append({"name": esc(name), "lat": round(p.y, 6), "lng": round(p.x, 6)})
    if d is None or len(d) == 0:
        return towns, []
    villages = []
    if "name" in d:
        pts = gpd.GeoSeries(d.geometry.representative_point(), crs=d.crs).to_crs(WGS84)
        town = d["town"].astype(str) if "town" in d else pd.Series("", index=d.index)
        for nm, tw, p in zip(d["name"].astype(str), town, pts, strict=True):
            short = nm[len(tw) :] if tw and nm.startswith(tw) and len(nm) > len(tw) else nm
            if short.strip():
                villages.append({"name": esc(short), "lat": round(p.y, 6), "lng": round(p.x, 6)})
    return towns, villages


def _unserved_payload(result, t, lang) -> dict[str, list[dict]]:
    demand = result.demand
    out: dict[str, list[dict]] = {}
    if demand is None or len(demand) == 0:
        return out
    pts = gpd.GeoSeries(demand.geometry.values, crs=demand.crs)
    pts = pts.where(pts.geom_type == "Point", pts.representative_point()).to_crs(WGS84)
    for level in sym.LEVELS:
        col = f"status_{level}"
        if col not in demand:
            continue
        mask = demand[col].isin(["too_far", "unserved"]).to_numpy()
        rows = []
        for i in np.flatnonzero(mask):
            r = demand.iloc[i]
            st = str(r[col])
            label = t["too_far"] if st == "too_far" else t["not_served"]
            tip = (
                f"<b>{esc(label)}</b> · {esc(sym.level_name(level, lang))}<br>{esc(_unit_name(r))} · "
                f"{esc(t['population'])} {esc(sym.fmt_num(r.get('population')))} · "
                f"{esc(t['pupils'])} {esc(sym.fmt_num(r.get(f'students_{level}')))}"
            )
            d = r.get(f"distance_{level}_km", np.nan)
            if not pd.isna(d):
                tip += f" · {esc(t['distance'])} {esc(sym.fmt_num(d, 1))} {esc(t['km'])}"
            p = pts.iloc[i]
            rows.append({"lat": round(p.y, 6), "lng": round(p.x, 6), "st": st, "tip": tip})
        if rows:
            out[level] = rows
    return out


def _legend_html(
    t, lang, levels, has_new, has_unserved, has_links, status=(), roads=False, townships=None
) -> str:
    def svg(shape, color, size=14, ring=False):
        return sym.symbol_svg(shape, color, size, ring)

    items = [f"<div class='sp-lg-h'>{esc(t['legend'])}</div>"]
    for lv in levels:
        items.append(
            f"<div>{svg(sym.LEVEL_SHAPE[lv], sym.LEVEL_COLOR[lv])} {esc(sym.level_name(lv, lang))}</div>"
        )
    items.append(
        f"<div>{svg('circle', '#ffffff', 16, True)} {esc(sym.role_name('core', lang))}</div>"
    )
    if has_new:
        items.append(f"<div>{svg('star', sym.NEW_COLOR, 18)} {esc(t['new_school'])}</div>")
    if "to_merge" in status:
        cross = (f"<svg width='14' height='14'><path d='M2 2L12 12M12 2L2 12' stroke='{sym.TO_MERGE}' "
                 "stroke-width='2.6'/></svg>")  # fmt: skip
        items.append(f"<div>{cross} {esc(t['to_merge'])}</div>")
    if "transitional" in status:
        ring = (f"<svg width='14' height='14'><circle cx='7' cy='7' r='5.5' fill='none' "
                f"stroke='{sym.TRANSITIONAL}' stroke-width='2'/></svg>")  # fmt: skip
        items.append(f"<div>{ring} {esc(t['transitional'])}</div>")
    if roads:
        items.append(
            f"<div><span class='sp-lg-line' style='border-top:3px solid {sym.ROAD_BANDS[0][1]}'></span> {esc(t['roads'])}</div>"
        )
    if townships:
        items.append(
            f"<div><svg width='18' height='8'><line x1='0' y1='4' x2='18' y2='4' "
            f"stroke='{townships['color']}' stroke-width='1.6' stroke-dasharray='{townships['dash']}'/>"
            f"</svg> {townships['name']}</div>"
        )
    if has_links:
        items.append(f"<div><span class='sp-lg-line'></span> {esc(t['links'])}</div>")
    items.append(
        f"<div><span class='sp-lg-zone'></span> {esc(t['zones'].capitalize())} ({esc(t['by_school'])})</div>"
    )
    bands = "".join(
        f"<span class='sp-lg-band' style='background:{c}' title='{esc(x)}'></span>"
        for c, x in zip(sym.UTIL_COLORS, sym.util_labels(), strict=True)
    )
    labels = sym.util_labels()
    items.append(
        f"<div class='sp-lg-util'>{esc(t['util_title'])}<br>{bands}<br>"
        f"<span class='sp-lg-note'>{esc(labels[0])} … {esc(labels[-1])}</span></div>"
    )
    hatch = "<svg width='16' height='11'><rect width='16' height='11' fill='url(#sp-hatch-over)'/></svg>"
    items.append(f"<div><span class='sp-lg-over'>{hatch}</span> {esc(t['over_capacity'])}</div>")
    if has_unserved:
        for st in ("too_far", "unserved"):
            label = t["too_far"] if st == "too_far" else t["not_served"]
            items.append(
                f"<div><span class='sp-lg-dot' style='background:{sym.UNSERVED_COLOR[st]}'></span> {esc(label)}</div>"
            )
    items.append(
        f"<div class='sp-lg-note'>{esc(t['size_note'])}<br>{esc(t['size_note_new'])}</div>"
    )
    return "".join(items)


class PlanLayers(MacroElement):
    """Draws the payload on the parent map; see the module docstring for the JS interface."""

    # The page's CSS and script live in resources/map/ as Jinja templates (folium's macros).
    _template = Template(
        "\n{% macro header(this, kwargs) %}\n<style>\n"
        + assets.read_text("map", "plan_layers.css")
        + "</style>\n{% endmacro %}\n{% macro script(this, kwargs) %}\n"
        + assets.read_text("map", "plan_layers.js")
        + "{% endmacro %}\n"
    )

    def __init__(self, payload: dict):
        super().__init__()
        self._name = "SchoolPlanLayers"
        self.payload = safe_json(payload)
        self.core_ring = sym.CORE_RING
        self.over_color = sym.OVER_CAPACITY
        self.boundary_color = sym.BOUNDARY_COLOR
        self.town_color = sym.TOWN_LABEL
        self.village_color = sym.VILLAGE_LABEL


def build_payload(
    result, *, lang: str = "zh", title: str | None = None, collapsed: bool = False
) -> dict:
    """Everything the map script draws, as JSON-ready data with texts already HTML-escaped."""
    t = sym.texts(lang)
    names = _school_names(result.schools)
    zones = _zones_payload(result, t, lang, names)
    schools = _schools_payload(result, t, lang)
    links, radius = _links_payload(result, t, lang, names)
    unserved = _unserved_payload(result, t, lang)
    roads = _roads_payload(result)
    townships = _townships_payload(result, lang)
    towns, villages = _places_payload(result)
    status = (
        set(result.schools["layout_status"].astype(str))
        if "layout_status" in result.schools
        else set()
    )
    levels = sym.level_order(
        set(result.schools["level"])
        | (set(result.catchments["level"]) if len(result.catchments) else set())
    )
    boundary = (
        result.boundary.to_crs(WGS84)
        if result.boundary is not None and len(result.boundary)
        else None
    )
    bounds = None
    extent_src = boundary if boundary is not None else result.schools.to_crs(WGS84)
    if len(extent_src):
        w, s, e, n = extent_src.total_bounds
        if np.all(np.isfinite([w, s, e, n])):
            bounds = [[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]]
    title_text = title if title is not None else sym.plan_title(result.meta, lang)
    date = sym.plan_date(result.meta)
    sub = f"{t['date']}: {date}" if date else ""
    return {
        "t": {**{lv: sym.level_name(lv, lang) for lv in sym.LEVELS}, **{k: t[k] for k in ("zones", "schools", "links", "unserved", "radius", "roads", "towns", "villages")}},
        "levels": levels,
        "layerNames": {lv: {**{k: layer_name(t, lv, k, lang) for k in ("schools", "zones", "links", "unserved")},
                            "zonesUtil": f"{layer_name(t, lv, 'zones', lang)} ({t['by_util']})"} for lv in levels},
        "roads": roads,
        "townships": townships,
        "towns": towns,
        "villages": villages,
        "villageZoom": VILLAGE_ZOOM,
        "decision": {"merge": sym.TO_MERGE, "transitional": sym.TRANSITIONAL},
        "boundary": _features(boundary, [{} for _ in range(len(boundary))]) if boundary is not None else {"type": "FeatureCollection", "features": []},
        "zones": zones,
        "schools": schools,
        "links": links,
        "radius": radius,
        "unserved": unserved,
        "levelColor": sym.LEVEL_COLOR,
        "unservedColor": sym.UNSERVED_COLOR,
        "titleHtml": f"<h1>{esc(title_text)}</h1><div>{esc(sub)}</div>",
        "legendHtml": _legend_html(t, lang, levels, any(s["shape"] == "star" for s in schools), bool(unserved), bool(links), status, bool(roads), townships),
        "bounds": bounds,
        "collapsed": collapsed,
    }  # fmt: skip


def build_map(
    result,
    *,
    lang: str = "zh",
    title: str | None = None,
    online_basemap: bool = False,
    basemap_url: str = DEFAULT_TILES,
    basemap_attr: str = DEFAULT_TILES_ATTR,
    collapsed_layers: bool = False,
) -> folium.Map:
    """The plan's Leaflet map; no tile layer unless ``online_basemap`` (the map works without)."""
    payload = build_payload(result, lang=lang, title=title, collapsed=collapsed_layers)
    b = payload["bounds"] or [[0, 0], [0, 0]]
    center = [(b[0][0] + b[1][0]) / 2, (b[0][1] + b[1][1]) / 2]
    m = folium.Map(location=center, zoom_start=10, tiles=None, control_scale=False, zoom_snap=0.25)
    if online_basemap:
        name = "在线底图" if lang != "en" else "Online base map"
        folium.TileLayer(
            basemap_url, attr=esc(basemap_attr), name=name, overlay=False, control=False
        ).add_to(m)
    m.add_child(PlanLayers(payload))
    page_title = title if title is not None else sym.plan_title(result.meta, lang)
    m.get_root().header.add_child(Element(f"<title>{esc(page_title)}</title>"), name="sp_title")
    return m
