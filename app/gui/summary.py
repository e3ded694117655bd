"""The Summary dock's text: the project's size and, once planned, the plan's key figures."""

from __future__ import annotations

import html

from PyQt6.QtCore import QCoreApplication

from app.gui.document import PlanDocument, has_result
from core.vocab import LEVEL, LEVELS
from planning.figures import HEADLINE, plan_figures


def _tr(text: str) -> str:
    return QCoreApplication.translate("window", text)


def summary_rows(doc: PlanDocument, lang: str) -> list[tuple[str, str]]:
    s, r = doc.layers.schools, doc.result
    rows = [
        (_tr("Schools (rows by level)"), f"{len(s):,}"),
        (_tr("Population units"), f"{len(doc.layers.units):,}"),
    ]
    if not has_result(r):
        return rows
    n, c = r.summary.get("new_schools", {}), r.summary.get("catchments", {})
    # The headline figures as every output shows them (planning.figures), 现状 and 规划后 named.
    fig = plan_figures(r)
    rows += [(fig.label(k, lang), fig.text(k, lang)) for k in HEADLINE]
    rows.append((fig.label("coverage_target_pct", lang), fig.text("coverage_target_pct", lang)))
    # Each open school without a zone, with its reason.
    sr = r.schools
    if "zone_reason" in sr:
        col = "zone_reason_en" if lang == "en" and "zone_reason_en" in sr else "zone_reason"
        for name, why in zip(sr["name"], sr[col].fillna("")):
            if why:
                rows.append((f"  {name}", str(why)))
    rows.append((_tr("New schools"), f"{sum(int(n.get(lv, 0) or 0) for lv in LEVELS)}"))
    if "capacity_total" in n:
        rows.append((_tr("New places"), f"{int(n['capacity_total']):,}"))
    layout = n.get("layout", {})
    if layout:
        rows.append((_tr("To merge"), f"{layout.get('to_merge', 0)}"))
    for lv in LEVELS:
        cl = c.get(lv)
        if not isinstance(cl, dict) or lv not in fig.levels:
            continue
        rows.append((LEVEL.label(lv, lang) + " " + _tr("pupils"), f"{cl.get('students', 0):,.0f}"))
        for code in ("mean_km", "too_far", "no_place", "off_road"):
            if code == "off_road" and not fig.value(f"off_road_{lv}"):
                continue  # said only when some distances rest on off-road legs
            rows.append((fig.label(f"{code}_{lv}", lang), fig.text(f"{code}_{lv}", lang)))
    t = r.summary.get("timings_s", {})
    if t:
        rows.append((_tr("Solve time"), f"{sum(t.values()):.2f} s"))
    return rows


def summary_html(doc: PlanDocument, lang: str) -> str:
    if doc.layers is None:
        return "<p>" + html.escape(_tr("Open a project to start (File > Open).")) + "</p>"
    cells = "".join(
        f"<tr><td style='color:#555;padding:1px 10px 1px 0'>{html.escape(k)}</td>"
        f"<td align='right'><b>{html.escape(v)}</b></td></tr>"
        for k, v in summary_rows(doc, lang)
    )
    return f"<table width='100%'>{cells}</table>"
