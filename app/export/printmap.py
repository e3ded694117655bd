"""Print map of a plan: A3 landscape (or A4) PNG at 300 dpi and a vector PDF.

Page 1 (also map.png) is the overview: all schools, group links, new schools and the zones of
the first level; the PDF adds one page per level. Every page has a title with scenario and date,
legend, scale bar, north arrow and source note; school names are placed so they never overlap.
Drawn in the plan's metric CRS, so the scale bar is true.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle

from app.export import symbology as sym
from app.export.fonts import cjk_font_or_raise

MM = 1 / 25.4
PAPER_MM = {"A3": (420.0, 297.0), "A4": (297.0, 210.0)}
DPI = 300
# Marker diameter on paper (points): small schools stay visible, big ones do not hide the map.
SIZE_PT = {"A3": (4.0, 13.0), "A4": (3.0, 10.0)}
LABEL_PT = {"A3": 6.5, "A4": 5.0}


def _paper(paper: str) -> tuple[float, float]:
    from planning.errors import SchoolPlanError

    key = str(paper).upper()
    if key not in PAPER_MM:
        raise SchoolPlanError(
            f"未知纸张 / unknown paper size: {paper}", fix="A3 或 A4 / use A3 or A4"
        )
    w, h = PAPER_MM[key]
    return w * MM, h * MM


def _points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    g = gdf.geometry
    g = g.where(g.geom_type == "Point", g.representative_point())
    return np.c_[g.x.to_numpy(), g.y.to_numpy()]


def _nice_length(span_m: float) -> float:
    target = span_m / 5
    exp = 10 ** math.floor(math.log10(target))
    for f in (5, 2, 1):
        if f * exp <= target:
            return f * exp
    return exp


def _scale_bar(ax, t) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 4, by), length / 4, h,
                facecolor="black" if i % 2 == 0 else "white", edgecolor="black", lw=0.6, zorder=20,
            )
        )  # fmt: skip
    km = length / 1000
    for frac, label in ((0, "0"), (1, f"{km:g} {t['km']}")):
        ax.text(
            bx + frac * length, by + 1.8 * h, label, ha="center", va="bottom", fontsize=7, zorder=20
        )


def _north_arrow(ax, t) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    cx, top = x1 - 0.04 * (x1 - x0), y1 - 0.04 * (y1 - y0)
    hgt, w = 0.07 * (y1 - y0), 0.018 * (x1 - x0)
    left = Polygon(
        [(cx, top), (cx - w, top - hgt), (cx, top - 0.75 * hgt)],
        closed=True,
        fc="black",
        ec="black",
        lw=0.6,
    )
    right = Polygon(
        [(cx, top), (cx + w, top - hgt), (cx, top - 0.75 * hgt)],
        closed=True,
        fc="white",
        ec="black",
        lw=0.6,
    )
    ax.add_patch(left)
    ax.add_patch(right)
    ax.text(
        cx,
        top - hgt - 0.01 * (y1 - y0),
        t["north"],
        ha="center",
        va="top",
        fontsize=10,
        weight="bold",
    )


def _place_labels(
    fig,
    ax,
    xy: np.ndarray,
    names: list[str],
    sizes_pt: np.ndarray,
    order: list[int],
    fontsize: float,
) -> int:
    """Greedy label placement: each name tries four spots around its symbol and is dropped if
    every spot overlaps a label, a symbol or the map edge. Returns the number placed."""
    renderer = fig.canvas.get_renderer()
    disp = ax.transData.transform(xy) if len(xy) else np.zeros((0, 2))
    px = sizes_pt * fig.dpi / 72.0
    boxes = [(x - r / 2, y - r / 2, x + r / 2, y + r / 2) for (x, y), r in zip(disp, px)]
    axbox = ax.get_window_extent(renderer)
    placed: list[tuple[float, float, float, float]] = []
    pad = 1.5 * fig.dpi / 72.0
    n = 0
    offsets = (
        (1, 0, "left", "center"),
        (-1, 0, "right", "center"),
        (0, 1, "center", "bottom"),
        (0, -1, "center", "top"),
    )

    def hits(b, others):
        return any(b[0] < o[2] and o[0] < b[2] and b[1] < o[3] and o[1] < b[3] for o in others)

    for i in order:
        x, y = xy[i]
        gap = sizes_pt[i] / 2 + 1.5
        txt = ax.annotate(
            names[i], (x, y), xytext=(0, 0), textcoords="offset points", fontsize=fontsize, zorder=15,
            annotation_clip=True,
            bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.65),
        )  # fmt: skip
        txt.set_parse_math(False)
        ok = False
        for dx, dy, ha, va in offsets:
            txt.set_position((dx * gap, dy * gap))
            txt.set_ha(ha)
            txt.set_va(va)
            e = txt.get_window_extent(renderer)
            b = (e.x0 - pad, e.y0 - pad, e.x1 + pad, e.y1 + pad)
            inside = e.x0 >= axbox.x0 and e.x1 <= axbox.x1 and e.y0 >= axbox.y0 and e.y1 <= axbox.y1
            if (
                inside
                and not hits(b, placed)
                and not hits(b, [bx for k, bx in enumerate(boxes) if k != i])
            ):
                placed.append(b)
                ok = True
                break
        if ok:
            n += 1
        else:
            txt.remove()
    return n


def _draw_page(
    fig, result, *, lang: str, paper: str, level: str | None, zone_level: str | None
) -> dict:
    t = sym.texts(lang)
    schools = result.schools
    if level is not None:
        schools = schools[schools["level"] == level]
    ax = fig.add_axes([0.025, 0.07, 0.70, 0.80])
    ax.set_axis_off()
    ax.set_aspect("equal")
    panel = fig.add_axes([0.745, 0.07, 0.235, 0.80])
    panel.set_axis_off()
    stats: dict = {}

    boundary = result.boundary
    if boundary is not None and len(boundary):
        boundary.boundary.plot(ax=ax, color=sym.BOUNDARY_COLOR, linewidth=1.4, zorder=5)
        extent = boundary.total_bounds
    else:
        extent = schools.total_bounds
    w, s, e, n = extent
    mx, my = (e - w) * 0.04 + 1, (n - s) * 0.04 + 1
    ax.set_xlim(w - mx, e + mx)
    ax.set_ylim(s - my, n + my)

    zones = result.catchments
    if zone_level is not None and zones is not None and len(zones):
        colors = sym.zone_colors(zones)
        z = zones[zones["level"] == zone_level]
        if len(z):
            z.plot(
                ax=ax, color=[colors.get(f"{zone_level}|{sid}", "#dddddd") for sid in z["school_id"]],
                alpha=0.55, edgecolor="#666666", linewidth=0.4, zorder=1,
            )  # fmt: skip
            over = z[pd.to_numeric(z["utilization"], errors="coerce") > 1.0]
            if len(over):
                over.plot(
                    ax=ax,
                    facecolor="none",
                    edgecolor=sym.OVER_CAPACITY,
                    hatch="////",
                    linewidth=1.0,
                    zorder=2,
                )
            stats["zones"] = len(z)
            stats["over"] = len(over)

    groups = result.groups
    if groups is not None and len(groups):
        g = groups if level is None else groups[groups["level"] == level]
        for lv in sym.level_order(g["level"].unique()):
            g[g["level"] == lv].plot(
                ax=ax, color=sym.LEVEL_COLOR[lv], linewidth=0.9, linestyle=(0, (4, 2)), zorder=6
            )

    demand = result.demand
    show_unserved = zone_level or level
    if demand is not None and len(demand) and show_unserved and f"status_{show_unserved}" in demand:
        col = demand[f"status_{show_unserved}"]
        for st in ("too_far", "unserved"):
            d = demand[col == st]
            if len(d):
                p = _points(d)
                ax.scatter(
                    p[:, 0],
                    p[:, 1],
                    s=9,
                    marker="x",
                    color=sym.UNSERVED_COLOR[st],
                    linewidths=0.8,
                    zorder=7,
                )
                stats[st] = len(d)

    lo, hi = SIZE_PT[paper]
    xy = _points(schools) if len(schools) else np.zeros((0, 2))
    status = (
        schools["layout_status"].astype(str).to_numpy()
        if "layout_status" in schools
        else np.array([""] * len(schools))
    )
    load = pd.to_numeric(schools["students"], errors="coerce").fillna(0).to_numpy(dtype=float)
    load = np.where(
        status == "new", pd.to_numeric(schools["capacity"], errors="coerce").fillna(0), load
    )
    d_pt = lo + (hi - lo) * np.sqrt(np.clip(load, 0, None) / 3000.0)
    d_pt = np.clip(d_pt, lo, hi)
    role = (
        schools["group_role"].astype(str).to_numpy()
        if "group_role" in schools
        else np.array(["none"] * len(schools))
    )
    levels_arr = schools["level"].astype(str).to_numpy()
    is_new = status == "new"
    core = role == "core"
    if core.any():
        ax.scatter(
            xy[core, 0],
            xy[core, 1],
            s=(d_pt[core] + 5) ** 2,
            facecolors="none",
            edgecolors=sym.CORE_RING,
            linewidths=1.1,
            zorder=9,
        )
    for lv in sym.LEVELS:
        m = (levels_arr == lv) & ~is_new
        if m.any():
            ax.scatter(
                xy[m, 0],
                xy[m, 1],
                s=d_pt[m] ** 2,
                marker=sym.MPL_MARKER[sym.LEVEL_SHAPE[lv]],
                color=sym.LEVEL_COLOR[lv],
                edgecolors="white",
                linewidths=0.5,
                zorder=10,
            )
    if is_new.any():
        ax.scatter(
            xy[is_new, 0],
            xy[is_new, 1],
            s=(d_pt[is_new] * 1.5) ** 2,
            marker="*",
            color=sym.NEW_COLOR,
            edgecolors="black",
            linewidths=0.4,
            zorder=11,
        )

    # Label priority: new schools, cores, senior before junior before primary, then by size.
    lv_rank = {lv: k for k, lv in enumerate(("senior", "junior", "primary"))}
    order = sorted(
        range(len(schools)),
        key=lambda i: (0 if is_new[i] else 1, 0 if core[i] else 1, lv_rank.get(levels_arr[i], 3), -load[i], str(schools["school_id"].iloc[i])),
    )  # fmt: skip
    names = [str(v) for v in schools["name"].fillna("")]
    stats["labels"] = _place_labels(
        fig,
        ax,
        xy,
        names,
        np.where(is_new, d_pt * 1.5, d_pt + np.where(core, 5, 0)),
        order,
        LABEL_PT[paper],
    )
    stats["schools"] = len(schools)

    _scale_bar(ax, t)
    _north_arrow(ax, t)

    title = sym.plan_title(result.meta, lang)
    subtitle = t[level] if level else (f"{t[zone_level]}{t['zones']}" if zone_level else "")
    fig.text(0.025, 0.955, title, fontsize=17, weight="bold", va="center")
    date = sym.plan_date(result.meta)
    right = " · ".join(p for p in (subtitle, f"{t['date']}: {date}" if date else "") if p)
    fig.text(0.98, 0.955, right, fontsize=10, ha="right", va="center")

    handles = []
    shown_levels = [level] if level else sym.level_order(schools["level"].unique())
    for lv in shown_levels:
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker=sym.MPL_MARKER[sym.LEVEL_SHAPE[lv]],
                color=sym.LEVEL_COLOR[lv],
                markersize=8,
                label=f"{t[lv]}{t['schools'] if lang == 'zh' else ' ' + t['schools']}",
            )
        )
    if core.any():
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                markerfacecolor="none",
                markeredgecolor=sym.CORE_RING,
                markersize=11,
                label=t["core"],
            )
        )
    if is_new.any():
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="*",
                color=sym.NEW_COLOR,
                markeredgecolor="black",
                markersize=11,
                label=t["new_school"],
            )
        )
    if groups is not None and len(groups):
        handles.append(Line2D([], [], color="#555555", ls=(0, (4, 2)), lw=1, label=t["links"]))
    if stats.get("zones"):
        handles.append(
            Patch(
                facecolor=sym.ZONE_PALETTE[0],
                alpha=0.6,
                edgecolor="#666666",
                label=f"{t[zone_level]}{t['zones']}",
            )
        )
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=sym.OVER_CAPACITY,
                hatch="////",
                label=t["over_capacity"],
            )
        )
    for st in ("too_far", "unserved"):
        if stats.get(st):
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="",
                    marker="x",
                    color=sym.UNSERVED_COLOR[st],
                    markersize=6,
                    label=t["too_far"] if st == "too_far" else t["not_served"],
                )
            )
    handles.append(Line2D([], [], color=sym.BOUNDARY_COLOR, lw=1.4, label=t["boundary"]))
    leg = panel.legend(
        handles=handles,
        loc="upper left",
        title=t["legend"],
        fontsize=9,
        title_fontsize=10,
        frameon=True,
        borderpad=0.8,
        labelspacing=0.9,
    )
    leg.get_frame().set_edgecolor("#999999")
    panel.text(
        0.02,
        0.30,
        _summary_lines(result, t, level, lang),
        fontsize=8.5,
        va="top",
        linespacing=1.6,
        transform=panel.transAxes,
    )
    panel.text(0.02, 0.02, t["size_note"], fontsize=7.5, color="#555555", transform=panel.transAxes)

    project = str(result.meta.get("project") or "")
    crs = str(
        result.meta.get("crs") or (result.schools.crs.to_string() if result.schools.crs else "")
    )
    note = f"{t['source']}: {project} {t['schools']}/{t['population']} · {t['made_with']} · {crs}"
    fig.text(0.025, 0.03, note, fontsize=7.5, color="#444444")
    fig.add_artist(
        Line2D([0.025, 0.98], [0.925, 0.925], color="#333333", lw=0.8, transform=fig.transFigure)
    )
    return stats


def _summary_lines(result, t, level, lang) -> str:
    s = result.schools
    lines = []
    for lv in [level] if level else sym.level_order(s["level"].unique()):
        sub = s[s["level"] == lv]
        n_new = int((sub.get("layout_status", pd.Series(dtype=str)) == "new").sum())
        students = int(pd.to_numeric(sub["students"], errors="coerce").fillna(0).sum())
        lines.append(
            f"{t[lv]}: {len(sub)} {t['school_word']} · {t['students']} {students:,}"
            + (f" · {t['new']} {n_new}" if n_new else "")
        )
    g = result.groups
    if g is not None and len(g):
        gg = g if level is None else g[g["level"] == level]
        lines.append(f"{t['group']}: {len(gg)}")
    z = result.catchments
    if z is not None and len(z):
        zz = z if level is None else z[z["level"] == level]
        over = int((pd.to_numeric(zz["utilization"], errors="coerce") > 1).sum())
        lines.append(f"{t['over_capacity']}: {over}")
    return "\n".join(lines)


def _figure(paper: str) -> Figure:
    fig = Figure(figsize=_paper(paper), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def render_print(
    result,
    *,
    png: str | Path | None = None,
    pdf: str | Path | None = None,
    lang: str = "zh",
    paper: str = "A3",
    dpi: int = DPI,
) -> dict[str, Path]:
    """Write the print map; returns {"png": path, "pdf": path} for those asked for."""
    paper = str(paper).upper()
    _paper(paper)
    font = cjk_font_or_raise()
    rc = {
        "font.family": [font.family, "DejaVu Sans"],
        "pdf.fonttype": 42,  # TrueType embedded: text in the PDF stays text (searchable, copyable)
        "axes.unicode_minus": False,
        "hatch.linewidth": 0.6,
    }
    levels = sym.level_order(result.schools["level"].unique())
    zones = result.catchments
    zone_levels = (
        sym.level_order(zones["level"].unique()) if zones is not None and len(zones) else []
    )
    first_zone = zone_levels[0] if zone_levels else None
    out: dict[str, Path] = {}
    with rc_context(rc):
        fig = _figure(paper)
        _draw_page(fig, result, lang=lang, paper=paper, level=None, zone_level=first_zone)
        if png is not None:
            fig.savefig(png, dpi=dpi, facecolor="white", pil_kwargs={"compress_level": 3})
            out["png"] = Path(png)
        if pdf is not None:
            with PdfPages(
                pdf, metadata={"Title": sym.plan_title(result.meta, lang), "Creator": "SchoolPlan"}
            ) as pages:
                pages.savefig(fig, facecolor="white")
                if len(levels) > 1:
                    for lv in levels:
                        page = _figure(paper)
                        _draw_page(
                            page,
                            result,
                            lang=lang,
                            paper=paper,
                            level=lv,
                            zone_level=lv if lv in zone_levels else None,
                        )
                        pages.savefig(page, facecolor="white")
            out["pdf"] = Path(pdf)
    return out
