"""The one Leaflet map of a plan, used by the offline HTML export and by the GUI's map view.

All features are drawn by one script from one JSON payload: small HTML, fast to load, and every
text that comes from data is HTML-escaped in Python before it reaches the page (a school named
``<script>…`` shows as text). The page exposes ``window.schoolplanMap`` (the ``L.Map``) and
``window.schoolplan`` (layers, markers by ``level|school_id``, counts) so the GUI can attach click
and drag handlers through a QWebChannel without any Qt code in the exported file. School markers
carry ``options.schoolId``, ``options.level``, ``options.layoutStatus`` and ``options.groupRole``.
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
from branca.element import MacroElement
from jinja2 import Template

from app.export import symbology as sym

WGS84 = "EPSG:4326"
# Zone outlines are simplified for the screen; shared borders stay shared (coverage simplify).
ZONE_SIMPLIFY_M = 15.0
COORD_GRID_DEG = 1e-6  # ~0.1 m: enough for a county map, and keeps the HTML small
DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILES_ATTR = "© OpenStreetMap contributors"


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
        return f"{t[level]} {t[kind].lower()}"
    return f"{t[level]}{t[kind]}"


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
                        (t["oversized"], esc(t["yes"] if oversized else t["no"])),
                    ]
                )
                + "</div>"
            )
            props.append(
                {
                    "id": sid,
                    "color": colors.get(f"{level}|{sid}", sym.ZONE_PALETTE[0]),
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
        students = r.get("students", np.nan)
        capacity = r.get("capacity", np.nan)
        util = (
            float(students) / float(capacity)
            if capacity and not pd.isna(capacity) and float(capacity) > 0
            else np.nan
        )
        z = zone_stats.get((sid, level))
        rows = [
            (t["layout_status"], esc(t.get(status, status))),
            (t["classes"], _num(r, "classes")),
            (t["students"], _num(r, "students")),
            (t["capacity"], _num(r, "capacity")),
            (t["utilization"], esc(sym.fmt_pct(util))),
            (
                t["quality"],
                esc(
                    t.get(
                        {"core": "core_q"}.get(
                            str(r.get("quality", "")), str(r.get("quality", ""))
                        ),
                        "",
                    )
                ),
            ),
        ]
        if role in ("core", "member"):
            rows.append((t["group"], f"{esc(r.get('group_id', ''))} · {esc(t[role])}"))
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
        head = f"<b>{name}</b> · {esc(t.get(level, level))}" + (
            f" · {esc(t['new_school'])}" if is_new else ""
        )
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
                "tip": f"{name} · {esc(t.get(level, level))}",
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
    pattern_names, mode_names = sym.group_vocab(lang)
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
                (t["core"], esc(names.get(core, core))),
                (t["members"], "、".join(esc(names.get(m, m)) for m in members)),
                (t["pattern"], esc(pattern_names.get(pattern, pattern))),
                (t["mode"], esc(mode_names.get(mode, mode))),
                (t["max_km"], _num(r, "max_distance_km", 1) + " " + esc(t["km"])),
            ]
            tip = f"{esc(r['group_id'])}: {esc(names.get(core, core))} → {len(members)} {esc(t['member'])}"
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


def _unserved_payload(result, t) -> dict[str, list[dict]]:
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
                f"<b>{esc(label)}</b> · {esc(t[level])}<br>{esc(r.get('unit_id', ''))} · "
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


def _legend_html(t, levels, has_new, has_unserved, has_links) -> str:
    def svg(shape, color, size=14, ring=False):
        return sym.symbol_svg(shape, color, size, ring)

    items = [f"<div class='sp-lg-h'>{esc(t['legend'])}</div>"]
    for lv in levels:
        items.append(f"<div>{svg(sym.LEVEL_SHAPE[lv], sym.LEVEL_COLOR[lv])} {esc(t[lv])}</div>")
    items.append(f"<div>{svg('circle', '#ffffff', 16, True)} {esc(t['core'])}</div>")
    if has_new:
        items.append(f"<div>{svg('star', sym.NEW_COLOR)} {esc(t['new_school'])}</div>")
    if has_links:
        items.append(f"<div><span class='sp-lg-line'></span> {esc(t['links'])}</div>")
    items.append(f"<div><span class='sp-lg-zone'></span> {esc(t['zones'].capitalize())}</div>")
    hatch = "<svg width='16' height='11'><rect width='16' height='11' fill='url(#sp-hatch-over)'/></svg>"
    items.append(f"<div><span class='sp-lg-over'>{hatch}</span> {esc(t['over_capacity'])}</div>")
    if has_unserved:
        for st in ("too_far", "unserved"):
            label = t["too_far"] if st == "too_far" else t["not_served"]
            items.append(
                f"<div><span class='sp-lg-dot' style='background:{sym.UNSERVED_COLOR[st]}'></span> {esc(label)}</div>"
            )
    items.append(f"<div class='sp-lg-note'>{esc(t['size_note'])}</div>")
    return "".join(items)


class PlanLayers(MacroElement):
    """Draws the payload on the parent map; see the module docstring for the JS interface."""

    _template = Template(
        """
{% macro header(this, kwargs) %}
<style>
.leaflet-container { font-family: "Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",
  "Microsoft YaHei","PingFang SC",sans-serif; background: #f4f4f0; }
.sp-school { background: none; border: none; }
.sp-school svg { display: block; overflow: visible; }
.sp-title { background: rgba(255,255,255,.92); padding: 6px 12px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.sp-title h1 { font-size: 18px; margin: 0; } .sp-title div { font-size: 12px; color: #444; }
.sp-legend { background: rgba(255,255,255,.92); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px; line-height: 20px; }
.sp-legend svg { vertical-align: middle; }
.sp-lg-h { font-weight: bold; } .sp-lg-note { color: #666; font-size: 11px; }
.sp-lg-zone, .sp-lg-over, .sp-lg-line, .sp-lg-dot { display: inline-block; vertical-align: middle; }
.sp-lg-zone { width: 16px; height: 11px; background: #8DD3C7; border: 1px solid #555; }
.sp-lg-over { width: 16px; height: 11px; background: #FB8072; border: 2px dashed {{ this.over_color }}; }
.sp-lg-over svg { display: block; }
.sp-lg-line { width: 18px; border-top: 2px dashed #555; }
.sp-lg-dot { width: 8px; height: 8px; border-radius: 4px; }
.sp-tab { border-collapse: collapse; font-size: 12px; margin-top: 4px; }
.sp-tab th { text-align: left; font-weight: normal; color: #555; padding: 1px 8px 1px 0; }
.sp-tab td { text-align: right; }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var D = {{ this.payload }};
  var sp = { map: map, data: D, layers: {}, overlays: {}, markers: {}, zones: {}, radius: {},
             counts: { schools: 0, zones: 0, links: 0, unserved: 0 } };
  window.schoolplanMap = map;
  window.schoolplan = sp;
  var T = D.t;
  var HATCH = "sp-hatch-over";
  if (!document.getElementById(HATCH)) {
    // A 0×0 SVG (not display:none, which would disable the pattern) holds the hatch pattern.
    document.body.insertAdjacentHTML("beforeend",
      "<svg id='sp-defs' width='0' height='0' style='position:absolute' aria-hidden='true'><defs>" +
      "<pattern id='" + HATCH + "' patternUnits='userSpaceOnUse' width='7' height='7' patternTransform='rotate(45)'>" +
      "<line x1='0' y1='0' x2='0' y2='7' stroke='{{ this.over_color }}' stroke-width='2.2' stroke-opacity='0.85'/>" +
      "</pattern></defs></svg>");
  }
  function shapePath(shape, s) {
    var h = s / 2;
    if (shape === "square") return "<rect x='1.5' y='1.5' width='" + (s - 3) + "' height='" + (s - 3) + "'";
    if (shape === "triangle") return "<polygon points='" + h + ",1 " + (s - 1) + "," + (s - 1) + " 1," + (s - 1) + "'";
    if (shape === "star") {
      var pts = [], i, r;
      for (i = 0; i < 10; i++) { r = i % 2 ? h * 0.45 : h - 1;
        pts.push((h + r * Math.sin(Math.PI * i / 5)).toFixed(1) + "," + (h - r * Math.cos(Math.PI * i / 5)).toFixed(1)); }
      return "<polygon points='" + pts.join(" ") + "'";
    }
    return "<circle cx='" + h + "' cy='" + h + "' r='" + (h - 1.5) + "'";
  }
  function icon(s) {
    var size = s.size + (s.core ? 8 : 0), o = s.core ? 4 : 0;
    var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='" + size + "' height='" + size + "'>";
    if (s.core) svg += "<circle cx='" + size / 2 + "' cy='" + size / 2 + "' r='" + (size / 2 - 1) +
      "' fill='none' stroke='{{ this.core_ring }}' stroke-width='2'/>";
    svg += "<g transform='translate(" + o + "," + o + ")'>" + shapePath(s.shape, s.size) +
      " fill='" + s.color + "' fill-opacity='0.9' stroke='#ffffff' stroke-width='1.2'/></g></svg>";
    return L.divIcon({ className: "sp-school sp-" + s.lv + (s.core ? " sp-core" : "") + (s.shape === "star" ? " sp-new" : ""),
                       html: svg, iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
  }
  function overlay(key, name, layer, show) {
    sp.layers[key] = layer; sp.overlays[name] = layer;
    if (show) layer.addTo(map);
  }
  // Own panes keep the stacking fixed whatever order layers are switched on in.
  [["spLinks", 420], ["spBoundary", 430], ["spUnserved", 440]].forEach(function (p) {
    map.createPane(p[0]).style.zIndex = p[1]; });
  map.getPane("spBoundary").style.pointerEvents = "none";
  L.geoJSON(D.boundary, { interactive: false, className: "sp-boundary", pane: "spBoundary",
    style: { color: "{{ this.boundary_color }}", weight: 2.5, fill: false } }).addTo(map);
  var schoolLayers = {};
  D.schools.forEach(function (s) {
    var g = schoolLayers[s.lv] || (schoolLayers[s.lv] = L.layerGroup());
    var m = L.marker([s.lat, s.lng], { icon: icon(s), schoolId: s.id, level: s.lv, layoutStatus: s.status,
      groupRole: s.role, riseOnHover: true, keyboard: false });
    m.bindTooltip(s.tip, { direction: "top", offset: [0, -s.size / 2] });
    m.bindPopup(s.popup);
    m.addTo(g);
    sp.markers[s.lv + "|" + s.id] = m; sp.counts.schools += 1;
  });
  D.levels.forEach(function (lv, k) {
    var N = D.layerNames[lv];
    if (schoolLayers[lv]) overlay("schools_" + lv, N.schools, schoolLayers[lv], true);
    if (D.zones[lv]) {
      var over = [];
      var zl = L.geoJSON(D.zones[lv], { className: "sp-zone sp-zone-" + lv,
        style: function (f) { var p = f.properties;
          return p.over ? { color: "{{ this.over_color }}", weight: 3, dashArray: "8 5", fillColor: p.color, fillOpacity: 0.55 }
                        : { color: "#555555", weight: 1, fillColor: p.color, fillOpacity: 0.45 }; },
        onEachFeature: function (f, layer) {
          layer.options.schoolId = f.properties.id; layer.options.level = lv;
          layer.bindTooltip(f.properties.tip, { sticky: true }); layer.bindPopup(f.properties.popup);
          sp.zones[lv + "|" + f.properties.id] = layer; sp.counts.zones += 1;
          if (f.properties.over) over.push(f); } });
      // Over capacity: the zone's own colour stays, a red hatch (SVG pattern in this page) on top.
      if (over.length) zl.addLayer(L.geoJSON({ type: "FeatureCollection", features: over }, {
        className: "sp-hatch sp-hatch-" + lv, interactive: false,
        style: { stroke: false, fill: true, fillColor: "url(#" + HATCH + ")", fillOpacity: 1 } }));
      overlay("zones_" + lv, N.zones, zl, k === 0);
    }
    if (D.links[lv]) {
      var ll = L.geoJSON(D.links[lv], { className: "sp-link sp-link-" + lv, pane: "spLinks",
        style: { color: D.levelColor[lv], weight: 2, opacity: 0.85, dashArray: "6 4" },
        onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.tip, { sticky: true });
          layer.bindPopup(f.properties.popup); sp.counts.links += 1; } });
      overlay("links_" + lv, N.links, ll, true);
    }
    if (D.unserved[lv]) {
      var ul = L.layerGroup();
      D.unserved[lv].forEach(function (u) {
        L.circleMarker([u.lat, u.lng], { radius: 3.5, className: "sp-unserved", pane: "spUnserved", color: D.unservedColor[u.st],
          weight: 1, fillOpacity: 0.9 }).bindTooltip(u.tip).addTo(ul);
        sp.counts.unserved += 1; });
      overlay("unserved_" + lv, N.unserved, ul, k === 0);
    }
  });
  if (D.radius.length) {
    var rl = L.layerGroup();
    D.radius.forEach(function (c) {
      var circle = L.circle([c.lat, c.lng], { radius: c.r, className: "sp-radius", pane: "spLinks", color: D.levelColor[c.lv],
        weight: 1.5, dashArray: "3 5", fill: false, interactive: false });
      circle.addTo(rl); sp.radius[c.lv + "|" + c.id] = circle;
      var m = sp.markers[c.lv + "|" + c.id];
      if (m) m.on("click", function () { if (map.hasLayer(circle)) map.removeLayer(circle); else circle.addTo(map); });
    });
    overlay("radius", T.radius, rl, false);
  }
  var title = L.control({ position: "topleft" });
  title.onAdd = function () { var d = L.DomUtil.create("div", "sp-title"); d.innerHTML = D.titleHtml;
    L.DomEvent.disableClickPropagation(d); return d; };
  title.addTo(map);
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () { var d = L.DomUtil.create("div", "sp-legend"); d.innerHTML = D.legendHtml; return d; };
  legend.addTo(map);
  L.control.scale({ imperial: false, metric: true, maxWidth: 160, position: "bottomleft" }).addTo(map);
  sp.control = L.control.layers({}, sp.overlays, { collapsed: D.collapsed, position: "topright" }).addTo(map);
  if (D.bounds) map.fitBounds(D.bounds);
  sp.ready = true;
})();
{% endmacro %}
"""
    )

    def __init__(self, payload: dict):
        super().__init__()
        self._name = "SchoolPlanLayers"
        self.payload = safe_json(payload)
        self.core_ring = sym.CORE_RING
        self.over_color = sym.OVER_CAPACITY
        self.boundary_color = sym.BOUNDARY_COLOR


def build_payload(
    result, *, lang: str = "zh", title: str | None = None, collapsed: bool = False
) -> dict:
    """Everything the map script draws, as JSON-ready data with texts already HTML-escaped."""
    t = sym.texts(lang)
    names = _school_names(result.schools)
    zones = _zones_payload(result, t, lang, names)
    schools = _schools_payload(result, t, lang)
    links, radius = _links_payload(result, t, lang, names)
    unserved = _unserved_payload(result, t)
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
        "t": {k: t[k] for k in ("primary", "junior", "senior", "zones", "schools", "links", "unserved", "radius")},
        "levels": levels,
        "layerNames": {lv: {k: layer_name(t, lv, k, lang) for k in ("schools", "zones", "links", "unserved")} for lv in levels},
        "boundary": _features(boundary, [{} for _ in range(len(boundary))]) if boundary is not None else {"type": "FeatureCollection", "features": []},
        "zones": zones,
        "schools": schools,
        "links": links,
        "radius": radius,
        "unserved": unserved,
        "levelColor": sym.LEVEL_COLOR,
        "unservedColor": sym.UNSERVED_COLOR,
        "titleHtml": f"<h1>{esc(title_text)}</h1><div>{esc(sub)}</div>",
        "legendHtml": _legend_html(t, levels, any(s["shape"] == "star" for s in schools), bool(unserved), bool(links)),
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
    return m
