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
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.path import Path as MplPath

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


def _polygon_path(geom) -> MplPath | None:
    polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    parts = []
    for poly in polys:
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            codes[0], codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            parts.append(MplPath(xy, codes))
    return MplPath.make_compound_path(*parts) if parts else None


def _add_polygons(ax, geoms, **kw) -> None:
    """Polygons as one PathCollection (geopandas.plot would redraw the whole figure per call)."""
    paths, keep = [], []
    for i, g in enumerate(geoms):
        p = _polygon_path(g) if g is not None else None
        if p is not None:
            paths.append(p)
            keep.append(i)
    if not paths:
        return
    fc = kw.pop("facecolors", None)
    if isinstance(fc, list):
        fc = [fc[i] for i in keep]
    ax.add_collection(PathCollection(paths, facecolors=fc if fc is not None else "none", **kw))


def _add_lines(ax, geoms, **kw) -> None:
    segs = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        lines = [g] if g.geom_type == "LineString" else list(getattr(g, "geoms", []))
        segs += [np.asarray(ln.coords)[:, :2] for ln in lines if ln.geom_type == "LineString"]
    if segs:
        ax.add_collection(LineCollection(segs, **kw))


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
    every spot overlaps a placed label, another symbol or the map edge. Returns the number placed.

    Each name is measured once with the renderer; the four spots are then plain arithmetic, and
    only accepted names become Text artists (measuring Text artists per try is 4x slower)."""
    renderer = fig.canvas.get_renderer()
    disp = ax.transData.transform(xy) if len(xy) else np.zeros((0, 2))
    scale = fig.dpi / 72.0
    px = sizes_pt * scale
    sym_boxes = (
        np.c_[disp - px[:, None] / 2, disp + px[:, None] / 2] if len(xy) else np.zeros((0, 4))
    )
    axbox = ax.get_window_extent(renderer)
    prop = FontProperties(size=fontsize)
    pad = 1.5 * scale
    placed = np.zeros((0, 4))
    n = 0

    def free(b, boxes):
        if not len(boxes):
            return True
        return not np.any(
            (b[0] < boxes[:, 2])
            & (boxes[:, 0] < b[2])
            & (b[1] < boxes[:, 3])
            & (boxes[:, 1] < b[3])
        )

    for i in order:
        name = names[i]
        if not name:
            continue
        w, h, _ = renderer.get_text_width_height_descent(name, prop, ismath=False)
        w, h = w + 0.1 * fontsize * scale, h + 0.1 * fontsize * scale  # the white backing box
        x, y = disp[i]
        gap = (sizes_pt[i] / 2 + 1.5) * scale
        spots = (
            ((x + gap, y - h / 2), (gap, 0), "left", "center"),
            ((x - gap - w, y - h / 2), (-gap, 0), "right", "center"),
            ((x - w / 2, y + gap), (0, gap), "center", "bottom"),
            ((x - w / 2, y - gap - h), (0, -gap), "center", "top"),
        )
        others = np.delete(sym_boxes, i, axis=0)
        for (bx, by), (ox, oy), ha, va in spots:
            b = (bx - pad, by - pad, bx + w + pad, by + h + pad)
            inside = bx >= axbox.x0 and bx + w <= axbox.x1 and by >= axbox.y0 and by + h <= axbox.y1
            if inside and free(b, placed) and free(b, others):
                placed = np.vstack([placed, b])
                txt = ax.annotate(
                    name, tuple(xy[i]), xytext=(ox / scale, oy / scale), textcoords="offset points",
                    fontsize=fontsize, ha=ha, va=va, zorder=15, annotation_clip=True,
                    bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.65),
                )  # fmt: skip
                txt.set_parse_math(False)
                n += 1
                break
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
        _add_polygons(
            ax, boundary.geometry, edgecolors=sym.BOUNDARY_COLOR, linewidths=1.4, zorder=5
        )
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
            fills = [
                to_rgba(colors.get(f"{zone_level}|{sid}", "#dddddd"), 0.55)
                for sid in z["school_id"]
            ]
            _add_polygons(
                ax, z.geometry, facecolors=fills, edgecolors="#666666", linewidths=0.4, zorder=1
            )
            over = z[pd.to_numeric(z["utilization"], errors="coerce") > 1.0]
            if len(over):
                _add_polygons(
                    ax,
                    over.geometry,
                    edgecolors=sym.OVER_CAPACITY,
                    hatch="////",
                    linewidths=1.0,
                    zorder=2,
                )
            stats["zones"] = len(z)
            stats["over"] = len(over)

    groups = result.groups
    if groups is not None and len(groups):
        g = groups if level is None else groups[groups["level"] == level]
        for lv in sym.level_order(g["level"].unique()):
            _add_lines(
                ax,
                g[g["level"] == lv].geometry,
                colors=sym.LEVEL_COLOR[lv],
                linewidths=0.9,
                linestyles=[(0, (4, 2))],
                zorder=6,
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
    fig.text(0.025, 0.955, title, fontsize=17, weight="bold", va="center", parse_math=False)
    date = sym.plan_date(result.meta)
    right = " · ".join(p for p in (subtitle, f"{t['date']}: {date}" if date else "") if p)
    fig.text(0.98, 0.955, right, fontsize=10, ha="right", va="center", parse_math=False)

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
    fig.text(0.025, 0.03, note, fontsize=7.5, color="#444444", parse_math=False)
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


def print_rc() -> dict:
    """matplotlib settings of the print map: the CJK font first (raises if there is none)."""
    font = cjk_font_or_raise()
    return {
        "font.family": [font.family, "DejaVu Sans"],
        # Type 3 subsets glyphs quickly; Type 42 re-subsets a 20 MB CJK font per page (4x slower).
        "pdf.fonttype": 3,
        "axes.unicode_minus": False,
        "hatch.linewidth": 0.6,
    }


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
    rc = print_rc()
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
            fig.savefig(png, dpi=dpi, facecolor="white", pil_kwargs={"compress_level": 1})
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
