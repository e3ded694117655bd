"""What changed between two plans, drawn over the compare view's maps (as compare.html shows it).

``diff_layer`` turns a ``planning.compare.PlanDiff`` (the same diff compare.html and compare.xlsx
are made from) into points in degrees with their tooltips: villages (communities) that go to
another school, coloured by level, and schools added, removed, moved (with a line from where
they were) or re-classified (their layout status changed). ``DIFF_JS`` draws them in a map page
as one layer with its legend; ``window.spDiffCounts`` tells tests what was drawn.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
from pyproj import Transformer

from app.compare_report import WORDS
from app.export.symbology import LEVEL_COLOR
from core.vocab import GROUP_ROLE, LAYOUT_STATUS, LEVEL
from planning.compare import SCHOOL_CHANGES, Comparison

GROUP_COLOR = "#7B3294"  # schools whose group changed (as compare.html)
# colour and symbol of each school change (as the change map of compare.html)
CHANGE_STYLE = {
    "added": ("#1A9641", "+"),
    "removed": ("#D7191C", "×"),
    "moved": ("#2B83BA", "→"),
    "status": ("#FDAE61", "◆"),
}


def _names(cmp: Comparison) -> dict[str, str]:
    out: dict[str, str] = {}
    for plan in cmp.plans:
        s = plan.schools
        out.update(zip(s["school_id"].astype(str), s["name"].astype(str)))
    return out


def diff_layer(cmp: Comparison, lang: str = "zh", index: int = 1) -> dict[str, Any]:
    """The changes from the baseline to scenario ``index`` as JSON-ready map items."""
    d = cmp.diffs[index - 1]
    crs = cmp.plans[index].schools.crs
    to_deg = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    w = WORDS["en" if lang == "en" else "zh"]
    names = _names(cmp)

    def latlng(x: float, y: float) -> list[float]:
        lng, lat = to_deg.transform(float(x), float(y))
        return [round(lat, 6), round(lng, 6)]

    def school(sid: Any) -> str:
        sid = "" if sid is None or (isinstance(sid, float) and pd.isna(sid)) else str(sid)
        return names.get(sid, sid) or "—"

    villages = []
    for r in d.villages.itertuples(index=False):
        tip = (
            f"{r.name or r.unit_id}({LEVEL.label(r.level, lang)}):"
            f"{school(r.school_before)} → {school(r.school_after)}"
        )
        villages.append(
            {
                "at": latlng(r.x, r.y),
                "color": LEVEL_COLOR.get(r.level, "#666666"),
                "tip": html.escape(tip),
            }
        )
    schools = []
    for r in d.schools.itertuples(index=False):
        color, symbol = CHANGE_STYLE[r.change]
        what = w[r.change]
        if r.change == "status":
            what += f":{LAYOUT_STATUS.label(r.before, lang)} → {LAYOUT_STATUS.label(r.after, lang)}"
        elif r.change == "moved":
            what += f" {float(r.moved_m) / 1000:.1f} km"
        item = {
            "change": r.change,
            "at": latlng(r.x, r.y),
            "color": color,
            "symbol": symbol,
            "tip": html.escape(f"{r.name}({LEVEL.label(r.level, lang)}):{what}"),
        }
        if r.change == "moved":
            item["from"] = latlng(r.x_before, r.y_before)
        schools.append(item)
    groups = []
    for r in d.groups.itertuples(index=False):
        before = f"{GROUP_ROLE.label(r.role_before, lang)} {school(r.core_before)}".strip()
        after = f"{GROUP_ROLE.label(r.role_after, lang)} {school(r.core_after)}".strip()
        tip = f"{r.name}({LEVEL.label(r.level, lang)}):{before} → {after}"
        groups.append({"at": latlng(r.x, r.y), "tip": html.escape(tip)})
    return {
        "villages": villages,
        "schools": schools,
        "groups": groups,
        "legend": _legend(d, w, lang),
    }


def _legend(d, w: dict[str, str], lang: str) -> str:
    counts = d.counts
    rows = [f"<b>{html.escape(d.base)} → {html.escape(d.other)}</b>"]
    levels = list(dict.fromkeys(d.villages["level"])) if len(d.villages) else []
    for lv in levels:
        rows.append(
            f"<span style='color:{LEVEL_COLOR.get(lv, '#666')}'>●</span> "
            f"{html.escape(w['villages_changed'])}({html.escape(LEVEL.label(lv, lang))})"
        )
    if not levels:
        rows.append(f"{html.escape(w['villages_changed'])}:0")
    rows.append(
        f"<span style='color:{GROUP_COLOR};font-weight:bold'>◯</span> "
        f"{html.escape(w['groups_changed'])} {counts.get('groups_changed', 0)}"
    )
    for change in SCHOOL_CHANGES:
        color, symbol = CHANGE_STYLE[change]
        rows.append(
            f"<span style='color:{color};font-weight:bold'>{symbol}</span> "
            f"{html.escape(w[change])} {counts.get(f'schools_{change}', 0)}"
        )
    return "<br>".join(rows)


# Defines and calls window.spDiff(D) in a plan page: one layer of changes and its legend.
DIFF_JS = r"""
(function (D) {
  var map = window.schoolplanMap;
  if (!map) return;
  if (window.spDiffLayer) map.removeLayer(window.spDiffLayer);
  if (window.spDiffLegend) map.removeControl(window.spDiffLegend);
  var g = window.spDiffLayer = L.layerGroup().addTo(map);
  var counts = { villages: 0, groups: 0, added: 0, removed: 0, moved: 0, status: 0 };
  D.groups.forEach(function (s) {
    L.circleMarker(s.at, { radius: 13, color: "#7B3294", weight: 2.5, fill: false,
      className: "sp-diff sp-diff-group" }).bindTooltip(s.tip).addTo(g);
    counts.groups += 1;
  });
  D.villages.forEach(function (v) {
    L.circleMarker(v.at, { radius: 6, color: "#222", weight: 1.2, fillColor: v.color,
      fillOpacity: 0.95, className: "sp-diff sp-diff-village" }).bindTooltip(v.tip).addTo(g);
    counts.villages += 1;
  });
  D.schools.forEach(function (s) {
    if (s.from) L.polyline([s.from, s.at], { color: s.color, weight: 2.5, dashArray: "5 4",
      interactive: false, className: "sp-diff-move" }).addTo(g);
    var html = "<div style='width:20px;height:20px;border-radius:10px;background:#fff;" +
      "border:2px solid " + s.color + ";color:" + s.color + ";font:bold 15px/18px sans-serif;" +
      "text-align:center'>" + s.symbol + "</div>";
    L.marker(s.at, { icon: L.divIcon({ className: "sp-diff sp-diff-" + s.change, html: html,
      iconSize: [24, 24], iconAnchor: [12, 12] }), zIndexOffset: 1000, keyboard: false })
      .bindTooltip(s.tip).addTo(g);
    counts[s.change] += 1;
  });
  var lg = window.spDiffLegend = L.control({ position: "topright" });
  lg.onAdd = function () {
    var d = L.DomUtil.create("div", "sp-legend sp-diff-legend");
    d.style.background = "rgba(255,255,255,0.92)"; d.style.padding = "6px 8px";
    d.style.fontSize = "12px"; d.style.lineHeight = "18px"; d.innerHTML = D.legend; return d;
  };
  lg.addTo(map);
  window.spDiffCounts = counts;
})
"""
