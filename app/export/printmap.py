"""Print map of a plan: A3 landscape (or A4) PNG at 300 dpi and a vector PDF.

Page 1 (also map.png) is the overview: all schools, group links, new schools, the zones of
the first level and village names where there is room; the PDF adds one page per level. Every page has a title with scenario and date,
legend, scale bar, north arrow and source note; school names are placed so they never overlap.
Where names cannot all be placed (a county seat is crowded) the page gets an inset: an enlarged,
framed view of the crowded area (referenced on the main map by a frame with the same letter)
where those names are placed again. Drawn in the plan's metric CRS, so the scale bars are true.

Pages are laid out at ``LAYOUT_DPI`` (every size is in points, so nothing moves with the dpi) and
the PNG is rendered at 300 dpi from the same figure that goes into the PDF and encoded on a
thread of its own while the PDF pages are drawn.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.legend_handler import HandlerBase
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.patheffects import withStroke
from matplotlib.transforms import Affine2D, offset_copy
from scipy.spatial import cKDTree

from app.export import symbology as sym
from app.export.fonts import cjk_font_or_raise
from core.errors import SchoolPlanError
from core.vocab import LAYOUT_STATUS
from planning.figures import plan_figures

MM = 1 / 25.4
PAPER_MM = {"A3": (420.0, 297.0), "A4": (297.0, 210.0)}
DPI = 300
# Layout (and label measuring) resolution; output resolution is independent of it.
LAYOUT_DPI = 100
# Marker diameter on paper (points): small schools stay visible, big ones do not hide the map.
SIZE_PT = {"A3": (4.0, 13.0), "A4": (3.0, 10.0)}
LABEL_PT = {"A3": 6.5, "A4": 5.0}
# A new school's star is never smaller than this (points): the plan's main decision must show.
NEW_MIN_PT = 12.0
ROAD_SIMPLIFY_M = 10.0  # well under a printed line's width at county scale
TOWN_PT = {"A3": 8.0, "A4": 6.0}
# A township name's spots (in name widths x 0.6 and heights): its middle, then a ring above,
# below and beside it, then a ring twice as far (still inside the township at county scale).
_RING = np.array([(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)])
TOWN_SPOTS = np.vstack([(0, 0), _RING, 2 * _RING])
TOWN_READABLE = 0.1  # share of a township name's box another name or a symbol may cover
# Village names (where there is room, under the school names): small grey type.
VILLAGE_PT = {"A3": 5.0, "A4": 4.0}
# Legend items and title, summary text (points): A4 is 0.7 times A3, its panel too.
PANEL_PT = {"A3": (9.0, 10.0, 8.5), "A4": (7.0, 8.0, 7.0)}
# Page frame (figure fractions): map on the left, legend panel on the right.
MAP_RECT = (0.025, 0.07, 0.75, 0.80)
PANEL_RECT = (0.795, 0.07, 0.185, 0.80)
# Inset: shown when at least this many names could not be placed within INSET_RADIUS (share of
# the map's larger side) of one another; the column right of the map takes it when it is at least
# INSET_MIN_W of the paper's width wide, else the legend panel does if it has INSET_MIN_H of the
# paper's height below the legend (shares, so A3 and A4 behave alike).
INSET_MIN_MISSING = 3
INSET_RADIUS = 0.04
INSET_MIN_W = 0.19
INSET_MIN_H = 0.13


def _paper(paper: str) -> tuple[float, float]:
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


def _scale_bar(ax, t, fontsize: float = 7) -> None:
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
            bx + frac * length,
            by + 1.8 * h,
            label,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            zorder=20,
        )
    return (bx - 0.02 * length, by - h, bx + 1.2 * length, by + 5 * h)


def _north_arrow(ax, t) -> tuple[float, float, float, float]:
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
    return (cx - 1.5 * w, top - 1.35 * hgt, cx + 1.5 * w, top)


def _free(b, boxes: np.ndarray) -> bool:
    if not len(boxes):
        return True
    return not np.any(
        (b[0] < boxes[:, 2]) & (boxes[:, 0] < b[2]) & (b[1] < boxes[:, 3]) & (boxes[:, 1] < b[3])
    )


def _measure(fig, names: list[str], fontsize: float, seen: dict | None = None) -> np.ndarray:
    """Width and height (display pixels, incl. the white backing box) of every name.

    ``seen`` keeps sizes across pages of the same dpi (each name is measured once per export)."""
    renderer = fig.canvas.get_renderer()
    prop = FontProperties(size=fontsize)
    scale = fig.dpi / 72.0
    out = np.zeros((len(names), 2))
    seen = {} if seen is None else seen.setdefault((fontsize, fig.dpi), {})
    for i, name in enumerate(names):
        if not name:
            continue
        if name not in seen:
            w, h, _ = renderer.get_text_width_height_descent(name, prop, ismath=False)
            seen[name] = (w + 0.1 * fontsize * scale, h + 0.1 * fontsize * scale)
        out[i] = seen[name]
    return out


def _place_labels(
    fig,
    ax,
    xy: np.ndarray,
    names: list[str],
    sizes_pt: np.ndarray,
    order: list[int],
    fontsize: float,
    *,
    only: np.ndarray | None = None,
    avoid: np.ndarray | None = None,
    wh: np.ndarray | None = None,
    draw: bool = True,
    taken: list | None = None,
) -> tuple[list[int], int]:
    """Greedy label placement: each name tries four spots around its symbol and is dropped if
    every spot overlaps a placed label, another symbol, a box of ``avoid`` (display pixels) or
    the map edge. ``only`` (mask) limits which schools get a name. Returns the indices named
    (a combined school's second level at the same spot shares the first one's name) and the
    number of names drawn; with ``draw=False`` nothing is added to the axes (a trial run).
    ``taken`` (optional) receives the boxes (display pixels) of the names and symbols, for the
    village names placed after them.

    Each name is measured once (``wh``, from ``_measure``); the four spots are then plain
    arithmetic, and only accepted names become Text artists."""
    if wh is None:
        wh = _measure(fig, names, fontsize)
    disp = ax.transData.transform(xy) if len(xy) else np.zeros((0, 2))
    scale = fig.dpi / 72.0
    px = sizes_pt * scale
    sym_boxes = (
        np.c_[disp - px[:, None] / 2, disp + px[:, None] / 2] if len(xy) else np.zeros((0, 4))
    )
    axbox = ax.get_window_extent()
    pad = 1.5 * scale
    placed = np.zeros((0, 4)) if avoid is None else np.asarray(avoid, float).reshape(-1, 4)
    # Symbols outside the axes cannot collide with a label inside it.
    near = (
        (sym_boxes[:, 2] >= axbox.x0)
        & (sym_boxes[:, 0] <= axbox.x1)
        & (sym_boxes[:, 3] >= axbox.y0)
        & (sym_boxes[:, 1] <= axbox.y1)
    )
    done: list[int] = []
    drawn = 0
    boxes: list[tuple[int, float, float, float, float]] = []
    named: dict[str, list[tuple[float, float]]] = {}
    for i in order:
        if not names[i] or (only is not None and not only[i]) or not near[i]:
            continue
        w, h = wh[i]
        x, y = disp[i]
        gap = (sizes_pt[i] / 2 + 1.5) * scale
        if any(abs(px_ - x) + abs(py_ - y) < 2 * scale for px_, py_ in named.get(names[i], ())):
            done.append(i)  # a combined school's other level at the same spot: one name is enough
            continue
        d = gap * 0.7
        spots = (
            (x + gap, y - h / 2),
            (x - gap - w, y - h / 2),
            (x - w / 2, y + gap),
            (x - w / 2, y - gap - h),
            # Diagonal spots: a name at the edge of a crowded place still finds room.
            (x + d, y + d),
            (x - d - w, y + d),
            (x + d, y - d - h),
            (x - d - w, y - d - h),
        )
        others = sym_boxes[near & (np.arange(len(sym_boxes)) != i)]
        for bx, by in spots:
            b = (bx - pad, by - pad, bx + w + pad, by + h + pad)
            inside = bx >= axbox.x0 and bx + w <= axbox.x1 and by >= axbox.y0 and by + h <= axbox.y1
            if inside and _free(b, placed) and _free(b, others):
                placed = np.vstack([placed, b])
                done.append(i)
                named.setdefault(names[i], []).append((x, y))
                # Box relative to the school, in points (dpi-free).
                boxes.append((i, (bx - x) / scale, (by - y) / scale, w / scale, h / scale))
                break
    if draw and boxes:
        _draw_names(ax, xy, names, boxes, fontsize)
        drawn = len(boxes)
    if taken is not None:
        taken += [placed, sym_boxes[near]]
    return done, drawn


def _draw_names(ax, xy: np.ndarray, names: list[str], boxes, fontsize: float) -> None:
    """Names centred in their boxes, on one collection of white backing boxes.

    One PolyCollection instead of a bbox patch per Text: the patch makes matplotlib lay every
    name out twice per output, the slowest part of the print map."""
    fig = ax.figure
    pts = Affine2D().scale(1 / 72) + fig.dpi_scale_trans  # points → pixels at any dpi
    idx = [b[0] for b in boxes]
    verts = [[(ox, oy), (ox + w, oy), (ox + w, oy + h), (ox, oy + h)] for _, ox, oy, w, h in boxes]
    ax.add_collection(
        PolyCollection(
            verts, offsets=xy[idx], offset_transform=ax.transData, transform=pts,
            facecolors=(1, 1, 1, 0.65), edgecolors="none", zorder=14.9,
        )
    )  # fmt: skip
    for i, ox, oy, w, h in boxes:
        txt = ax.text(
            xy[i, 0], xy[i, 1], names[i], fontsize=fontsize, ha="center", va="center", zorder=15,
            transform=offset_copy(ax.transData, fig=fig, x=ox + w / 2, y=oy + h / 2, units="points"),
        )  # fmt: skip
        txt.set_parse_math(False)


@dataclass
class _Schools:
    """School symbols of one page, computed once and drawn on the map and on the inset."""

    frame: gpd.GeoDataFrame
    xy: np.ndarray
    d_pt: np.ndarray  # symbol diameter (points)
    box_pt: np.ndarray  # symbol footprint for label collisions (ring / star included)
    level: np.ndarray
    is_new: np.ndarray
    core: np.ndarray
    status: np.ndarray  # layout_status: to_merge and transitional get their own marks
    names: list[str]
    order: list[int]  # label priority


def _school_symbols(schools: gpd.GeoDataFrame, paper: str) -> _Schools:
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
    d_pt = np.clip(lo + (hi - lo) * np.sqrt(np.clip(load, 0, None) / 3000.0), lo, hi)
    role = (
        schools["group_role"].astype(str).to_numpy()
        if "group_role" in schools
        else np.array(["none"] * len(schools))
    )
    level = schools["level"].astype(str).to_numpy()
    is_new = status == "new"
    core = role == "core"
    ids = schools["school_id"].astype(str).to_numpy()
    # Label priority: new schools, cores, senior before junior before primary, then by size.
    lv_rank = {lv: k for k, lv in enumerate(("senior", "junior", "primary"))}
    order = sorted(
        range(len(schools)),
        key=lambda i: (0 if is_new[i] else 1, 0 if core[i] else 1, lv_rank.get(level[i], 3), -load[i], ids[i]),
    )  # fmt: skip
    return _Schools(
        frame=schools,
        xy=xy,
        d_pt=d_pt,
        box_pt=np.where(is_new, np.maximum(d_pt * 1.5, NEW_MIN_PT), d_pt + np.where(core, 5, 0)),
        level=level,
        is_new=is_new,
        core=core,
        status=status,
        names=[str(v) for v in schools["name"].fillna("")],
        order=order,
    )


def _draw_features(ax, result, sc: _Schools, *, level, zone_level, cache: dict, stats: dict):
    """Boundary, zones (over capacity hatched), group links, unserved places and school symbols."""
    boundary = result.boundary
    if boundary is not None and len(boundary):
        _add_polygons(
            ax, boundary.geometry, edgecolors=sym.BOUNDARY_COLOR, linewidths=1.4, zorder=5
        )
    zones = result.catchments
    if zone_level is not None and zones is not None and len(zones):
        z = zones[zones["level"] == zone_level]
        if len(z):
            # Zones coloured by utilisation band, so 29 % and 127 % never look alike.
            fills = [
                to_rgba(sym.UTIL_COLORS[sym.util_band(u)], 0.6)
                for u in pd.to_numeric(z["utilization"], errors="coerce")
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

    _draw_roads(ax, getattr(result, "roads", None), cache)
    stats["townships"] = _draw_townships(ax, result, cache)
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

    xy, d_pt = sc.xy, sc.d_pt
    if sc.core.any():
        ax.scatter(
            xy[sc.core, 0],
            xy[sc.core, 1],
            s=(d_pt[sc.core] + 5) ** 2,
            facecolors="none",
            edgecolors=sym.CORE_RING,
            linewidths=1.1,
            zorder=9,
        )
    for lv in sym.LEVELS:
        m = (sc.level == lv) & ~sc.is_new
        if m.any():
            merge = sc.status == "to_merge"
            ax.scatter(
                xy[m, 0],
                xy[m, 1],
                s=d_pt[m] ** 2,
                marker=sym.MPL_MARKER[sym.LEVEL_SHAPE[lv]],
                # A school to merge keeps its shape, greyed, under its cross.
                color=np.where(merge[m], "#BDBDBD", sym.LEVEL_COLOR[lv]).tolist(),
                edgecolors="white",
                linewidths=0.5,
                zorder=10,
            )
    _decision_marks(ax, sc)
    if sc.is_new.any():
        ax.scatter(
            xy[sc.is_new, 0],
            xy[sc.is_new, 1],
            s=np.maximum(d_pt[sc.is_new] * 1.5, NEW_MIN_PT) ** 2,
            marker="*",
            color=sym.NEW_COLOR,
            edgecolors="black",
            linewidths=0.8,
            zorder=11,
        )


def _decision_marks(ax, sc: _Schools) -> None:
    """撤并: a dark-red cross over the greyed symbol; 过渡: an amber ring around it."""
    xy, d_pt = sc.xy, sc.d_pt
    merge = sc.status == "to_merge"
    if merge.any():
        ax.scatter(
            xy[merge, 0], xy[merge, 1], s=(np.maximum(d_pt[merge], 6.0) + 4) ** 2, marker="x",
            color=sym.TO_MERGE, linewidths=1.6, zorder=12,
        )  # fmt: skip
    trans = sc.status == "transitional"
    if trans.any():
        ax.scatter(
            xy[trans, 0], xy[trans, 1], s=(d_pt[trans] + 3.5) ** 2, facecolors="none",
            edgecolors=sym.TRANSITIONAL, linewidths=1.0, zorder=9,
        )  # fmt: skip


def _compound_path(parts: list[np.ndarray]) -> MplPath:
    """Many polylines as one path (one PDF path instead of one per line)."""
    codes = [np.r_[MplPath.MOVETO, np.full(len(p) - 1, MplPath.LINETO)] for p in parts]
    return MplPath(np.concatenate(parts), np.concatenate(codes))


def _draw_roads(ax, roads, cache: dict) -> None:
    """Roads by speed band under the symbols (the plan's road network, when it has one).

    Each band is one compound path, built once per export: a county's thousands of road
    segments are then one PDF path per band and page instead of one each."""
    if roads is None or len(roads) == 0:
        return
    if "roads" not in cache:
        speed = roads["speed_kmh"] if "speed_kmh" in roads else pd.Series(np.nan, index=roads.index)
        band = np.array([sym.road_band(v) for v in speed])
        geoms = shapely.simplify(roads.geometry.values, ROAD_SIMPLIFY_M)
        paths = []
        for k in range(len(sym.ROAD_BANDS)):
            parts = [
                np.asarray(ln.coords)[:, :2]
                for g in geoms[band == k]
                if g is not None and not g.is_empty
                for ln in (getattr(g, "geoms", None) or [g])
                if ln.geom_type == "LineString"
            ]
            if parts:
                paths.append((k, _compound_path(parts)))
        cache["roads"] = paths
    for k, path in cache["roads"]:
        _, color, width = sym.ROAD_BANDS[k]
        ax.add_collection(
            PathCollection([path], facecolors="none", edgecolors=color, linewidths=width,
                           alpha=0.8, zorder=3 - 0.1 * k)
        )  # fmt: skip


def _draw_townships(ax, result, cache: dict) -> int:
    """Township borders: a thin dashed grey line above the zones and roads, under the names and
    symbols. One compound path, built once per export (the print map is time-critical: a path per
    township and page would multiply the PDF's paths); returns the townships drawn."""
    townships = getattr(result, "townships", None)
    if not sym.has_townships(townships):
        return 0
    if "townships" not in cache:
        lines = sym.township_lines(townships, result.boundary, ROAD_SIMPLIFY_M)
        parts = [p for p in sym.line_parts(lines) if len(p) > 1]
        cache["townships"] = _compound_path(parts) if parts else None
    if cache["townships"] is None:
        return 0
    ax.add_collection(
        PathCollection([cache["townships"]], facecolors="none", edgecolors=sym.TOWNSHIP_COLOR,
                       linewidths=sym.TOWNSHIP_WIDTH, linestyles=[(0, sym.TOWNSHIP_DASH)],
                       zorder=3.5)
    )  # fmt: skip
    return len(townships)


def _draw_towns(fig, ax, result, cache: dict, paper: str, taken: list) -> tuple[int, int]:
    """Township names at the middle of their units, or inside the townships the bureau gave
    (grey, bold, haloed). Placed after the school names and symbols: each takes the first of its
    middle and the spots around it inside its township that is free of them (the middle of a
    township is often its central school), else the spot least covered; its box joins ``taken``
    for the village names.
    Returns the names drawn and how many of them are readable (at most TOWN_READABLE covered)."""
    if "towns" not in cache:
        cache["towns"] = sym.town_points(result.demand, getattr(result, "townships", None))
    towns = [r for r in cache["towns"] if _in_view(ax, r[1], r[2])]
    if not towns:
        return 0, 0
    size, scale = TOWN_PT[paper], fig.dpi / 72.0
    # Bold type with a halo: measured a little wider than the regular face.
    wh = _measure(fig, [n for n, _, _ in towns], size, cache.setdefault("sizes", {})) * 1.15
    disp = ax.transData.transform(np.array([(x, y) for _, x, y in towns]))
    boxes = np.vstack([np.asarray(b, float).reshape(-1, 4) for b in taken])
    areas = _township_shapes(result, cache)
    to_data = ax.transData.inverted()
    placed, clear = [], 0
    for (name, x, y), (dx, dy), (w, h) in zip(towns, disp, wh, strict=True):
        # Spots in order of preference; the first free one, else the one least covered.
        cx = dx + TOWN_SPOTS[:, 0] * (w * 0.6 + 2 * scale)
        cy = dy + TOWN_SPOTS[:, 1] * (h + 2 * scale)
        cover = np.array([_overlap((x0 - w / 2, y0 - h / 2, x0 + w / 2, y0 + h / 2), boxes)
                          for x0, y0 in zip(cx, cy, strict=True)])  # fmt: skip
        if name in areas:  # a name moved off its middle stays inside its own township
            inside = shapely.contains_xy(areas[name], *to_data.transform(np.c_[cx, cy]).T)
            cover[1:][~inside[1:]] = np.inf
        k = int(np.argmin(cover))  # ties: the earlier spot
        clear += int(cover[k] <= TOWN_READABLE * w * h)
        ox, oy = (cx[k] - dx) / scale, (cy[k] - dy) / scale
        placed.append((cx[k] - w / 2, cy[k] - h / 2, cx[k] + w / 2, cy[k] + h / 2))
        boxes = np.vstack([boxes, placed[-1]])
        ax.text(
            x, y, name, fontsize=size, color=sym.TOWN_LABEL, ha="center", va="center",
            weight="bold", alpha=0.75, zorder=4, parse_math=False,
            transform=offset_copy(ax.transData, fig=fig, x=ox, y=oy, units="points"),
            path_effects=[withStroke(linewidth=2.2, foreground="white", alpha=0.8)],
        )  # fmt: skip
    taken.append(np.array(placed))
    return len(towns), clear


def _township_shapes(result, cache: dict) -> dict:
    """Township name → its area (prepared for point tests), once per export."""
    if "township_shapes" not in cache:
        t = getattr(result, "townships", None)
        shapes = {}
        if t is not None and len(t) and "name" in t:
            for name, geom in zip(t["name"].astype(str), t.geometry.values, strict=True):
                if geom is not None and not geom.is_empty:
                    shapely.prepare(geom)
                    shapes[name] = geom
        cache["township_shapes"] = shapes
    return cache["township_shapes"]


def _overlap(b, boxes: np.ndarray) -> float:
    """Area of box ``b`` covered by ``boxes`` (summed; display pixels)."""
    w = np.minimum(b[2], boxes[:, 2]) - np.maximum(b[0], boxes[:, 0])
    h = np.minimum(b[3], boxes[:, 3]) - np.maximum(b[1], boxes[:, 1])
    return float((np.clip(w, 0, None) * np.clip(h, 0, None)).sum())


def _in_view(ax, x: float, y: float) -> bool:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    return bool(x0 <= x <= x1 and y0 <= y <= y1)


def _place_villages(fig, ax, result, paper: str, cache: dict, taken: list) -> int:
    """Village names where there is room: biggest population first, each tries a spot above,
    below, right and left of its point and is dropped when every spot overlaps a name, a
    symbol, a township name, the scale bar, the north arrow, the inset frame or the map edge
    (boxes in display pixels). Small grey type under the school names; returns the names drawn."""
    if "villages" not in cache:
        v = sym.village_names(result.demand)
        v.sort(key=lambda r: (-r[3], r[0]))
        cache["villages"] = v
    villages = cache["villages"]
    if not villages:
        return 0
    size = VILLAGE_PT[paper]
    scale = fig.dpi / 72.0
    names = [r[0] for r in villages]
    wh = _measure(fig, names, size, cache.setdefault("sizes", {}))
    disp = ax.transData.transform(np.array([(r[1], r[2]) for r in villages]))
    boxes = np.vstack([np.asarray(b, float).reshape(-1, 4) for b in taken])
    axbox = ax.get_window_extent()
    pad, gap = 1.0 * scale, 2.5 * scale
    out: list[tuple[int, float, float]] = []
    for i, (x, y) in enumerate(disp):
        w, h = wh[i]
        if not w:
            continue
        for bx, by in ((x - w / 2, y + gap), (x - w / 2, y - gap - h), (x + gap, y - h / 2),
                       (x - gap - w, y - h / 2)):  # fmt: skip
            b = (bx - pad, by - pad, bx + w + pad, by + h + pad)
            inside = bx >= axbox.x0 and bx + w <= axbox.x1 and by >= axbox.y0 and by + h <= axbox.y1
            if inside and _free(b, boxes):
                boxes = np.vstack([boxes, b])
                out.append((i, (bx + w / 2 - x) / scale, (by + h / 2 - y) / scale))
                break
    for i, ox, oy in out:
        ax.text(
            villages[i][1], villages[i][2], names[i], fontsize=size, color=sym.VILLAGE_LABEL,
            ha="center", va="center", zorder=13, parse_math=False,
            transform=offset_copy(ax.transData, fig=fig, x=ox, y=oy, units="points"),
        )  # fmt: skip
    return len(out)


def _crowded_window(xy: np.ndarray, missing: np.ndarray, span: float):
    """(x0, y0, x1, y1) around the densest group of schools whose names found no place, or None.

    The centre is the unnamed school with most unnamed neighbours within ``INSET_RADIUS`` of the
    map's span (first in label order on ties); the window holds the unnamed schools within twice
    that distance, with a margin for their names."""
    idx = np.flatnonzero(missing)
    if len(idx) < INSET_MIN_MISSING:
        return None
    r = INSET_RADIUS * span
    pts = xy[idx]
    counts = np.array([len(c) for c in cKDTree(pts).query_ball_point(pts, r)])
    if counts.max() < INSET_MIN_MISSING:
        return None
    c = pts[int(np.argmax(counts))]
    near = pts[np.hypot(pts[:, 0] - c[0], pts[:, 1] - c[1]) <= 2 * r]
    (x0, y0), (x1, y1) = near.min(axis=0), near.max(axis=0)
    pad = 0.12 * max(x1 - x0, y1 - y0)
    # At least 2r across: a handful of schools is not blown up to a street plan.
    half = max((x1 - x0) / 2 + pad, (y1 - y0) / 2 + pad, r)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - half, cy - half, cx + half, cy + half)


def _inset_space(fig, ax, legend) -> tuple[float, float, float, float] | None:
    """The largest box the inset may take (figure fractions): the empty column right of the map
    (anchored left) when the county is narrow enough to leave one, else the legend panel below
    the legend."""
    fw, fh = fig.get_size_inches() / MM
    pos = ax.get_position()
    right = MAP_RECT[0] + MAP_RECT[2]
    free_w = (right - pos.x1) * fw - 8.0
    if free_w >= INSET_MIN_W * fw:
        w = min(free_w, 0.45 * MAP_RECT[2] * fw) / fw
        return (right - w, MAP_RECT[1], w, MAP_RECT[3] * 0.85)
    top = legend.get_window_extent().transformed(fig.transFigure.inverted()).y0 - 10.0 / fh
    bottom = PANEL_RECT[1] + 0.34 * PANEL_RECT[3]
    if top - bottom < INSET_MIN_H:
        return None
    return (PANEL_RECT[0], bottom, PANEL_RECT[2], top - bottom)


def _fit_inset(fig, window, space):
    """Window and box (figure fractions) of the same shape: the window grows along one side to
    fill the box's width or height, and the box is bottom-right in ``space``."""
    fw, fh = fig.get_size_inches() / MM
    x0, y0, x1, y1 = window
    sw, sh = space[2] * fw, space[3] * fh  # mm
    ww, wh = x1 - x0, y1 - y0
    a = ww / wh
    # Keep a sensible shape: a very flat or tall cluster gets a taller or wider window.
    a = min(max(a, 0.6 * sw / sh), 1.6 * sw / sh) if sh else a
    bw, bh = (sw, sw / a) if a > sw / sh else (sh * a, sh)
    scale = max(ww / bw, wh / bh)  # metres per mm of the box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    win = (cx - bw * scale / 2, cy - bh * scale / 2, cx + bw * scale / 2, cy + bh * scale / 2)
    rect = (space[0] + space[2] - bw / fw, space[1], bw / fw, bh / fh)
    return win, rect


def _add_inset(fig, ax, result, sc, window, rect, *, level, zone_level, cache, t, fontsize, wh):
    """The enlarged view: same layers, framed, its own scale bar, names placed again."""
    ix = fig.add_axes(rect, label="inset")
    x0, y0, x1, y1 = window
    ix.set_xlim(x0, x1)
    ix.set_ylim(y0, y1)
    ix.set_aspect("equal")  # the box was cut to the window's shape: nothing moves
    ix.set_xticks([])
    ix.set_yticks([])
    for spine in ix.spines.values():
        spine.set_linewidth(1.2)
        spine.set_edgecolor("#222222")
        spine.set_zorder(30)
    ix.set_facecolor("white")
    _draw_features(ix, result, sc, level=level, zone_level=zone_level, cache=cache, stats={})
    ix.apply_aspect()
    wx0, wx1 = ix.get_xlim()
    wy0, wy1 = ix.get_ylim()
    # The frame on the main map shows exactly what the inset shows.
    ax.add_patch(
        Rectangle((wx0, wy0), wx1 - wx0, wy1 - wy0, fill=False, ec="#222222", lw=1.0, zorder=16)
    )
    ax.text(wx0, wy1, " A", ha="left", va="bottom", fontsize=9, weight="bold", zorder=16)
    mag = (ix.get_position().width / (wx1 - wx0)) / (
        ax.get_position().width / np.diff(ax.get_xlim())[0]
    )
    ix.text(
        0.0, 1.01, f"A  {t['inset']} (×{mag:.1f})",
        transform=ix.transAxes, ha="left", va="bottom", fontsize=9, weight="bold", parse_math=False,
    )  # fmt: skip
    bar = _scale_bar(ix, t, fontsize=6.5)
    inside = (
        (sc.xy[:, 0] >= wx0) & (sc.xy[:, 0] <= wx1) & (sc.xy[:, 1] >= wy0) & (sc.xy[:, 1] <= wy1)
    )
    (bx0, by0), (bx1, by1) = ix.transData.transform([bar[:2], bar[2:]])
    placed = _place_labels(
        fig, ix, sc.xy, sc.names, sc.box_pt, sc.order, fontsize, only=inside,
        avoid=np.array([[bx0, by0, bx1, by1]]), wh=wh,
    )  # fmt: skip
    return ix, inside, placed, mag


def _draw_page(
    fig,
    result,
    *,
    lang: str,
    paper: str,
    level: str | None,
    zone_level: str | None,
    cache: dict | None = None,
) -> dict:
    """Draw one page on ``fig``; ``cache`` (shared by the pages of one export) keeps zone colours
    and name sizes. Returns the page's figures (labels, inset, …)."""
    t = sym.texts(lang)
    schools = result.schools
    if level is not None:
        schools = schools[schools["level"] == level]
    ax = fig.add_axes(MAP_RECT, label="map")
    ax.set_axis_off()
    ax.set_aspect("equal")
    panel = fig.add_axes(PANEL_RECT, label="panel")
    panel.set_axis_off()
    stats: dict = {}
    cache = {} if cache is None else cache

    boundary = result.boundary
    extent = (
        boundary.total_bounds if boundary is not None and len(boundary) else schools.total_bounds
    )
    w, s, e, n = extent
    mx, my = (e - w) * 0.04 + 1, (n - s) * 0.04 + 1
    ax.set_xlim(w - mx, e + mx)
    ax.set_ylim(s - my, n + my)
    ax.apply_aspect()  # the box the page really gets: labels are measured against it

    sc = _school_symbols(schools, paper)
    _draw_features(ax, result, sc, level=level, zone_level=zone_level, cache=cache, stats=stats)
    stats["to_merge"] = int((sc.status == "to_merge").sum())
    stats["transitional"] = int((sc.status == "transitional").sum())
    stats["new"] = int(sc.is_new.sum())
    fontsize = LABEL_PT[paper]
    wh = _measure(fig, sc.names, fontsize, cache.setdefault("sizes", {}))
    legend = _legend(
        panel,
        t,
        sc,
        level,
        zone_level,
        lang,
        stats,
        result.groups,
        paper,
        getattr(result, "roads", None),
        getattr(result, "townships", None) if stats.get("townships") else None,
    )

    # A trial placement tells whether some crowded area needs an enlarged view.
    trial, _ = _place_labels(
        fig, ax, sc.xy, sc.names, sc.box_pt, sc.order, fontsize, wh=wh, draw=False
    )
    missing = np.array([bool(nm) for nm in sc.names], bool)
    missing[trial] = False
    stats["unlabelled_without_inset"] = int(missing.sum())
    window = _crowded_window(sc.xy, missing, max(e - w, n - s))
    stats["inset"] = None
    only, avoid = None, None
    inset_labels: list[int] = []
    inset_drawn = 0
    if window is not None:
        ax.set_anchor("W")
        ax.apply_aspect()
        space = _inset_space(fig, ax, legend)
        if space is None or space[0] >= PANEL_RECT[0]:
            ax.set_anchor("C")  # the map keeps the middle when the inset is not beside it
            ax.apply_aspect()
        if space is not None:
            window, rect = _fit_inset(fig, window, space)
            _ix, inside, (inset_labels, inset_drawn), mag = _add_inset(
                fig, ax, result, sc, window, rect, level=level, zone_level=zone_level,
                cache=cache, t=t, fontsize=fontsize, wh=wh,
            )  # fmt: skip
            wx0, wx1 = _ix.get_xlim()
            wy0, wy1 = _ix.get_ylim()
            only = ~inside
            (bx0, by0), (bx1, by1) = ax.transData.transform([(wx0, wy0), (wx1, wy1)])
            tag = 14 * fig.dpi / 72  # the frame's letter above its top-left corner
            avoid = np.array([[bx0, by0, bx1, by1 + tag], [bx0 - tag, by1, bx0 + tag, by1 + tag]])
            stats["inset"] = {
                "window": (wx0, wy0, wx1, wy1),
                "schools": int(inside.sum()),
                "labels": inset_drawn,
                "magnification": float(mag),
                "in_panel": bool(space[0] >= PANEL_RECT[0] - 1e-9),
            }
    taken: list[np.ndarray] = []
    main_labels, main_drawn = _place_labels(
        fig, ax, sc.xy, sc.names, sc.box_pt, sc.order, fontsize, only=only, avoid=avoid, wh=wh,
        taken=taken,
    )  # fmt: skip
    stats["labels_main"] = main_drawn
    stats["labels"] = main_drawn + inset_drawn  # name texts drawn on the page
    named = np.zeros(len(sc.names), bool)
    named[main_labels] = True
    named[inset_labels] = True
    stats["unlabelled"] = int(sum(1 for i, nm in enumerate(sc.names) if nm and not named[i]))
    stats["schools"] = len(schools)

    bar = _scale_bar(ax, t)
    arrow = _north_arrow(ax, t)
    taken.append(ax.transData.transform(np.array([bar, arrow]).reshape(-1, 2)).reshape(-1, 4))
    stats["towns"], stats["towns_clear"] = _draw_towns(fig, ax, result, cache, paper, taken)
    # Village names on the overview page (map.png and the PDF's first page): on the level pages,
    # with few school names, hundreds would fit, and each costs as much to draw as a school name.
    stats["villages"] = (
        _place_villages(fig, ax, result, paper, cache, taken) if level is None else 0
    )

    title = sym.plan_title(result.meta, lang)
    subtitle = (
        sym.level_name(level, lang)
        if level
        else (_zone_label(t, zone_level, lang) if zone_level else "")
    )
    fig.text(0.025, 0.955, title, fontsize=17, weight="bold", va="center", parse_math=False)
    date = sym.plan_date(result.meta)
    right = " · ".join(p for p in (subtitle, f"{t['date']}: {date}" if date else "") if p)
    fig.text(0.98, 0.955, right, fontsize=10, ha="right", va="center", parse_math=False)

    panel.text(
        0.02,
        0.30,
        _summary_lines(result, t, level, lang),
        fontsize=PANEL_PT[paper][2],
        va="top",
        linespacing=1.6,
        transform=panel.transAxes,
    )
    note = t["size_note"] + ("; " if lang == "en" else ";") + t["size_note_new"]
    panel.text(0.02, 0.02, note, fontsize=7.5, color="#555555", transform=panel.transAxes)

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


def _zone_label(t, zone_level: str, lang: str) -> str:
    name = sym.level_name(zone_level, lang)
    return f"{name} {t['zones']}" if lang == "en" else f"{name}{t['zones']}"


class UtilBands(Patch):
    """Legend entry of the utilisation bands: one row of the band colours (see the handler)."""


class _UtilBandsHandler(HandlerBase):
    def create_artists(
        self, legend, orig_handle, xdescent, ydescent, width, height, fontsize, trans
    ):
        n = len(sym.UTIL_COLORS)
        w = width / n
        return [
            Rectangle((-xdescent + k * w, -ydescent), w, height, facecolor=c, edgecolor="#666666",
                      lw=0.3, alpha=0.75, transform=trans)
            for k, c in enumerate(sym.UTIL_COLORS)
        ]  # fmt: skip


def _legend(
    panel,
    t,
    sc: _Schools,
    level,
    zone_level,
    lang,
    stats,
    groups,
    paper,
    result_roads=None,
    townships=None,
):
    handles = []
    shown_levels = [level] if level else sym.level_order(sc.level)
    for lv in shown_levels:
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker=sym.MPL_MARKER[sym.LEVEL_SHAPE[lv]],
                color=sym.LEVEL_COLOR[lv],
                markersize=8,
                label=f"{sym.level_name(lv, lang)}{t['schools'] if lang == 'zh' else ' ' + t['schools']}",
            )
        )
    if sc.core.any():
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                markerfacecolor="none",
                markeredgecolor=sym.CORE_RING,
                markersize=11,
                label=sym.role_name("core", lang),
            )
        )
    if sc.is_new.any():
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="*",
                color=sym.NEW_COLOR,
                markeredgecolor="black",
                markersize=13,
                label=t["new_school"],
            )
        )
    if (sc.status == "to_merge").any():
        handles.append(
            Line2D([], [], ls="", marker="x", color=sym.TO_MERGE, markersize=9, mew=1.6,
                   label=t["to_merge"])
        )  # fmt: skip
    if (sc.status == "transitional").any():
        handles.append(
            Line2D([], [], ls="", marker="o", markerfacecolor="none", markeredgecolor=sym.TRANSITIONAL,
                   markersize=9, label=t["transitional"])
        )  # fmt: skip
    if groups is not None and len(groups):
        handles.append(Line2D([], [], color="#555555", ls=(0, (4, 2)), lw=1, label=t["links"]))
    if stats.get("zones") and zone_level:
        labels = sym.util_labels()
        # One row of the band colours, from under-used to over-full (see _UtilBandsHandler).
        sep = " " if lang == "en" else ""
        handles.append(UtilBands(label=f"{t['utilization']}{sep}{labels[0]}…{labels[-1]}"))
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
    roads = getattr(result_roads, "geometry", None)
    if roads is not None and len(roads):
        handles.append(Line2D([], [], color=sym.ROAD_BANDS[0][1], lw=1.2, label=t["roads"]))
    if sym.has_townships(townships):
        handles.append(
            Line2D([], [], color=sym.TOWNSHIP_COLOR, lw=sym.TOWNSHIP_WIDTH * 1.5,
                   ls=(0, sym.TOWNSHIP_DASH), label=sym.township_label(townships, lang))
        )  # fmt: skip
    handles.append(Line2D([], [], color=sym.BOUNDARY_COLOR, lw=1.4, label=t["boundary"]))
    leg = panel.legend(
        handles=handles,
        handler_map={UtilBands: _UtilBandsHandler()},
        loc="upper left",
        title=t["legend"],
        fontsize=PANEL_PT[paper][0],
        title_fontsize=PANEL_PT[paper][1],
        frameon=True,
        borderpad=0.8,
        labelspacing=0.9 if paper == "A3" else 0.45,
    )
    leg.get_frame().set_edgecolor("#999999")
    return leg


# The headline figures the panel has room for (planning.figures).
PANEL_FIGURES = (
    "groups",
    "coverage_pct",
    "over_capacity_now",
    "oversized_now",
    "over_capacity_after",
)


def _summary_lines(result, t, level, lang) -> str:
    s = result.schools
    lines = []
    for lv in [level] if level else sym.level_order(s["level"].unique()):
        sub = s[s["level"] == lv]
        n_new = int((sub.get("layout_status", pd.Series(dtype=str)) == "new").sum())
        students = int(pd.to_numeric(sub["students"], errors="coerce").fillna(0).sum())
        lines.append(
            f"{sym.level_name(lv, lang)}: {len(sub)} {t['school_word']} · {t['students']} {students:,}"
            + (f" · {LAYOUT_STATUS.label('new', lang)} {n_new}" if n_new else "")
        )
    g = result.groups
    if level is not None:  # one level's page: its own groups and zones
        if g is not None and len(g):
            lines.append(f"{t['group']}: {len(g[g['level'] == level])}")
        z = result.catchments
        if z is not None and len(z):
            zz = z[z["level"] == level]
            over = int((pd.to_numeric(zz["utilization"], errors="coerce") > 1).sum())
            lines.append(f"{t['over_capacity']}: {over}")
        return "\n".join(lines)
    # The county: the headline figures as every output shows them (planning.figures).
    fig = plan_figures(result)
    lines += [f"{fig.label(k, lang)}: {fig.text(k, lang)}" for k in PANEL_FIGURES]
    return "\n".join(lines)


def _figure(paper: str) -> Figure:
    fig = Figure(figsize=_paper(paper), dpi=LAYOUT_DPI)
    FigureCanvasAgg(fig)
    return fig


def print_rc() -> dict:
    """matplotlib settings of the print map: the CJK font first (raises if there is none)."""
    font = cjk_font_or_raise()
    return {
        "font.family": [font.family, "DejaVu Sans"],
        # Type 3 subsets glyphs quickly; Type 42 re-subsets a 20 MB CJK font per page (4x slower).
        "pdf.fonttype": 3,
        "pdf.compression": 1,
        "axes.unicode_minus": False,
        "hatch.linewidth": 0.6,
        # Hinting snaps glyphs to a screen's pixel grid: nothing to gain at 300 dpi or in a PDF,
        # and laying out CJK text without it takes half the time.
        "text.hinting": "no_hinting",
    }


def _render_rgb(fig: Figure, dpi: int) -> np.ndarray:
    """The figure as an RGB array at ``dpi`` (the layout does not change: sizes are in points)."""
    old = fig.dpi
    try:
        fig.set_dpi(dpi)
        fig.canvas.draw()
        return np.array(fig.canvas.buffer_rgba())[..., :3]
    finally:
        fig.set_dpi(old)


def run_now(fn: Callable[[], None]) -> Callable[[], None]:
    """Run ``fn`` at once (threads live only in app/gui/workers.py; the window passes its
    ``run_beside`` to write the PNG next to the PDF drawing)."""
    fn()
    return lambda: None


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _save_png(rgb: np.ndarray, path: Path, dpi: int) -> None:
    """An RGB array as a PNG (8-bit, no row filter, fastest deflate, dpi in pHYs).

    Written with zlib itself: it lets go of the GIL (PIL's encoder does not), so the page
    compresses on its thread while the PDF pages are drawn, in a third of PIL's time; a map's
    flat areas need no row filter (the file is smaller than PIL's at the same level)."""
    h, w, _ = rgb.shape
    raw = np.empty((h, 1 + 3 * w), np.uint8)
    raw[:, 0] = 0  # filter type None on every row
    raw[:, 1:] = rgb.reshape(h, -1)
    ppm = round(dpi / 0.0254)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + _png_chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
        + _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), 1))
        + _png_chunk(b"IEND", b"")
    )
    Path(path).write_bytes(png)


def render_print(
    result,
    *,
    png: str | Path | None = None,
    pdf: str | Path | None = None,
    lang: str = "zh",
    paper: str = "A3",
    dpi: int = DPI,
    stats: list | None = None,
    beside: Callable[[Callable[[], None]], Callable[[], None]] | None = None,
    images: dict | None = None,
) -> dict[str, Path]:
    """Write the print map; returns {"png": path, "pdf": path} for those asked for.

    ``stats`` (optional) receives each page's figures (labels placed, inset, …), for tests.
    ``beside(fn) -> join`` runs the PNG encoding next to the PDF drawing (default: a thread of
    its own). ``images`` (optional) receives the overview page as an RGB array (``"png"``), so the
    report embeds map.png without reading and decoding the file again."""
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
    pages = stats if stats is not None else []
    join: Callable[[], None] | None = None
    cache: dict = {}
    with rc_context(rc):
        fig = _figure(paper)
        pages.append(
            _draw_page(
                fig, result, lang=lang, paper=paper, level=None, zone_level=first_zone, cache=cache
            )
        )
        try:
            if png is not None:
                rgb = _render_rgb(fig, dpi)
                if images is not None:
                    images["png"] = rgb
                # zlib lets go of the GIL: the PNG compresses while the PDF pages are drawn.
                join = (beside or run_now)(lambda: _save_png(rgb, Path(png), dpi))
                out["png"] = Path(png)
            if pdf is not None:
                meta = {"Title": sym.plan_title(result.meta, lang), "Creator": "SchoolPlan"}
                with PdfPages(pdf, metadata=meta) as book:
                    book.savefig(fig, facecolor="white")
                    if len(levels) > 1:
                        for lv in levels:
                            page = _figure(paper)
                            pages.append(
                                _draw_page(
                                    page,
                                    result,
                                    lang=lang,
                                    paper=paper,
                                    level=lv,
                                    zone_level=lv if lv in zone_levels else None,
                                    cache=cache,
                                )
                            )
                            book.savefig(page, facecolor="white")
                out["pdf"] = Path(pdf)
        finally:
            if join is not None:
                join()
    return out
