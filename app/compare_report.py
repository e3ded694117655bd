"""compare.xlsx and compare.html: a ``planning.compare.Comparison`` for a meeting with no internet.

The HTML is one self-contained file: the tables and, per scenario after the first, a PNG map of
what changed (drawn with matplotlib, embedded as base64). No script, no external reference.
Every text from the data is escaped (HTML) or stored as plain text (Excel: no formula runs).
"""

from __future__ import annotations

import base64
import html
import io
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from app.export.symbology import LEVEL_COLOR
from core.vocab import GROUP_ROLE, LAYOUT_STATUS, LEVEL, Vocab
from planning.compare import Comparison, PlanDiff

BEST_FILL = "C6EFCE"
BEST_FONT = "006100"
WORDS = {
    "zh": {
        "title": "方案对比",
        "metric": "指标",
        "unit": "单位",
        "better": "优劣方向",
        "best": "最优方案",
        "higher": "越高越好",
        "lower": "越低越好",
        "none": "不评优劣",
        "legend": "绿色加粗 = 该行最优(各方案相同时不标)",
        "rules": "参数差异",
        "param": "参数",
        "no_rule_diff": "各方案规则参数相同",
        "schools": "学校变化",
        "groups": "集团变化",
        "villages": "村庄(社区)就读学校变化",
        "pair": "对比",
        "change": "变化",
        "school_id": "学校编号",
        "level": "学段",
        "name": "名称",
        "before": "之前",
        "after": "之后",
        "moved_m": "移动距离(米)",
        "role_before": "之前角色",
        "core_before": "之前核心校",
        "role_after": "之后角色",
        "core_after": "之后核心校",
        "unit_id": "村/社区编号",
        "school_before": "之前学校",
        "school_after": "之后学校",
        "km_before": "之前距离(km)",
        "km_after": "之后距离(km)",
        "sources": "数据来源",
        "scenario": "方案",
        "kind": "类型",
        "path": "位置",
        "created": "生成时间",
        "no_change": "与基准方案相比无变化",
        "summary": "变化概况",
        "added": "新增",
        "removed": "减少",
        "moved": "位置移动",
        "status": "布局状态改变",
        "groups_changed": "集团变化学校",
        "villages_changed": "换校村庄(社区)",
        "pupils": "学生数",
        "units_moved": "换校:{level} {units} 个村(社区),{pupils} 名学生",
        "map": "变化区域图",
        "baseline": "基准方案",
    },
    "en": {
        "title": "Scenario comparison",
        "metric": "Figure",
        "unit": "Unit",
        "better": "Better",
        "best": "Best",
        "higher": "higher is better",
        "lower": "lower is better",
        "none": "not ranked",
        "legend": "Bold green = best in the row (not marked when all are equal)",
        "rules": "Rules that differ",
        "param": "Parameter",
        "no_rule_diff": "The scenarios use the same rules",
        "schools": "School changes",
        "groups": "Group changes",
        "villages": "Villages whose school changed",
        "pair": "Comparison",
        "change": "Change",
        "school_id": "School id",
        "level": "Level",
        "name": "Name",
        "before": "Before",
        "after": "After",
        "moved_m": "Moved (m)",
        "role_before": "Role before",
        "core_before": "Core before",
        "role_after": "Role after",
        "core_after": "Core after",
        "unit_id": "Unit id",
        "school_before": "School before",
        "school_after": "School after",
        "km_before": "Distance before (km)",
        "km_after": "Distance after (km)",
        "sources": "Sources",
        "scenario": "Scenario",
        "kind": "Kind",
        "path": "Path",
        "created": "Created",
        "no_change": "No change from the baseline",
        "summary": "Changes",
        "added": "added",
        "removed": "removed",
        "moved": "moved",
        "status": "layout status changed",
        "groups_changed": "schools whose group changed",
        "villages_changed": "villages changing school",
        "pupils": "Pupils",
        "units_moved": "{level}: {units} units, {pupils} pupils change school",
        "map": "Map of the changes",
        "baseline": "baseline",
    },
}
# The report's own codes, not in core.vocab: a school missing from one plan, the kinds of source.
OWN_CODES = {
    "zh": {
        "absent": "(无此校)",
        "scenario": "方案文件夹",
        "plan": "规划输出文件夹",
        "project": "项目(重新规划)",
    },
    "en": {"absent": "(not in plan)", "project": "project (planned now)"},
}


def _w(lang: str) -> dict[str, str]:
    return WORDS["en" if lang == "en" else "zh"]


def _code(value: Any, lang: str, vocab: Vocab | None = None) -> str:
    """A layout status or group role (``vocab``), or one of the report's own codes, in words."""
    text = "" if value is None else str(value)
    if vocab is not None and text in vocab.codes:
        return vocab.label(text, lang)
    return OWN_CODES["en" if lang == "en" else "zh"].get(text, text)


def fmt_value(v: Any, digits: int) -> str:
    """A figure of the comparison with thousands separators; missing or infinite → "—"."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:,.{digits}f}"


def _names(cmp: Comparison) -> dict[str, str]:
    """school_id -> name over every plan (for 'core school' and 'school' columns)."""
    out: dict[str, str] = {}
    for plan in cmp.plans:
        s = plan.schools
        if "school_id" in s and "name" in s:
            for sid, name in zip(s["school_id"].astype(str), s["name"].astype(str)):
                out.setdefault(sid, name)
    return out


def _label_school(sid: Any, names: dict[str, str]) -> str:
    sid = "" if sid is None else str(sid)
    if not sid:
        return ""
    return f"{names[sid]} ({sid})" if sid in names else sid


# --------------------------------------------------------------------------- rows shared by both
def metric_rows(cmp: Comparison, lang: str) -> list[dict[str, Any]]:
    w = _w(lang)
    out = []
    for row in cmp.rows:
        out.append(
            {
                "label": row.spec.label(lang),
                "unit": row.spec.unit,
                "better": w[row.spec.better] if row.spec.better else w["none"],
                "values": row.values,
                "digits": row.spec.digits,
                "best": row.best,
            }
        )
    return out


def school_rows(d: PlanDiff, lang: str) -> list[list[Any]]:
    rows = []
    for r in d.schools.itertuples(index=False):
        rows.append(
            [
                _w(lang)[r.change],
                r.school_id,
                LEVEL.label(r.level, lang),
                r.name,
                _code(r.before, lang, LAYOUT_STATUS),
                _code(r.after, lang, LAYOUT_STATUS),
                None if r.moved_m != r.moved_m else round(float(r.moved_m), 1),
            ]
        )
    return rows


def group_rows(d: PlanDiff, lang: str, names: dict[str, str]) -> list[list[Any]]:
    return [
        [
            r.school_id,
            LEVEL.label(r.level, lang),
            r.name,
            _code(r.role_before, lang, GROUP_ROLE),
            _label_school(r.core_before, names),
            _code(r.role_after, lang, GROUP_ROLE),
            _label_school(r.core_after, names),
        ]
        for r in d.groups.itertuples(index=False)
    ]


def village_rows(d: PlanDiff, lang: str, names: dict[str, str]) -> list[list[Any]]:
    return [
        [
            r.unit_id,
            r.name,
            LEVEL.label(r.level, lang),
            _label_school(r.school_before, names),
            _label_school(r.school_after, names),
            r.km_before,
            r.km_after,
            r.pupils,
        ]
        for r in d.villages.itertuples(index=False)
    ]


def moved_lines(d: PlanDiff, lang: str) -> list[str]:
    """Per level: units and pupils that change school from the baseline."""
    w = _w(lang)
    return [
        w["units_moved"].format(level=LEVEL.label(lv, lang), units=n, pupils=f"{p:,.0f}")
        for lv, (n, p) in d.moved().items()
    ]


def _headers(lang: str, keys: list[str]) -> list[str]:
    w = _w(lang)
    return [w[k] for k in keys]


SCHOOL_KEYS = ["change", "school_id", "level", "name", "before", "after", "moved_m"]
GROUP_KEYS = [
    "school_id",
    "level",
    "name",
    "role_before",
    "core_before",
    "role_after",
    "core_after",
]
VILLAGE_KEYS = [
    "unit_id",
    "name",
    "level",
    "school_before",
    "school_after",
    "km_before",
    "km_after",
    "pupils",
]


# --------------------------------------------------------------------------- Excel
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def _put(ws, row: int, col: int, value: Any):
    """Write a cell; text is always stored as text, so '=HYPERLINK(…)' in a name never runs."""
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
        if value.startswith(_RISKY):
            cell.alignment = Alignment(horizontal="left")
            cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    else:
        cell.value = value
    return cell


def _sheet(wb, title: str, headers: list[str], rows: list[list[Any]]):
    ws = wb.create_sheet(title)
    for j, h in enumerate(headers, start=1):
        _put(ws, 1, j, h).font = Font(bold=True)
    for i, r in enumerate(rows, start=2):
        for j, v in enumerate(r, start=1):
            _put(ws, i, j, v)
    ws.freeze_panes = "A2"
    for j, h in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = max(10, 2 * len(h) + 2)
    return ws


def write_compare_xlsx(
    cmp: Comparison, path: str | Path, *, lang: str = "zh", sources: list[dict] | None = None
) -> Path:
    w = _w(lang)
    names = _names(cmp)
    wb = Workbook()
    ws = wb.active
    ws.title = w["title"][:31]
    _put(ws, 1, 1, f"{w['title']} — {datetime.now():%Y-%m-%d}").font = Font(bold=True, size=14)
    _put(ws, 2, 1, w["legend"])
    head = [w["metric"], w["unit"], w["better"], *cmp.names, w["best"]]
    for j, h in enumerate(head, start=1):
        _put(ws, 4, j, h).font = Font(bold=True)
    fill = PatternFill("solid", fgColor=BEST_FILL)
    best_font = Font(bold=True, color=BEST_FONT)
    for i, row in enumerate(metric_rows(cmp, lang), start=5):
        _put(ws, i, 1, row["label"])
        _put(ws, i, 2, row["unit"])
        _put(ws, i, 3, row["better"])
        for k, v in enumerate(row["values"]):
            c = _put(ws, i, 4 + k, v)
            c.number_format = "#,##0" if row["digits"] == 0 else "#,##0." + "0" * row["digits"]
            if k in row["best"]:
                c.fill, c.font = fill, best_font
        _put(ws, i, 4 + len(cmp.names), "、".join(cmp.names[k] for k in row["best"]))
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["C"].width = 12
    for k in range(len(cmp.names) + 1):
        ws.column_dimensions[ws.cell(row=4, column=4 + k).column_letter].width = 16
    ws.freeze_panes = "D5"

    label = "label_zh" if lang != "en" else "label_en"
    rrows = [[r[label], r["unit"], *[r[n] for n in cmp.names]] for _, r in cmp.rules.iterrows()]
    _sheet(wb, w["rules"], [w["param"], w["unit"], *cmp.names], rrows)
    pair = [f"{d.base} → {d.other}" for d in cmp.diffs]
    _sheet(
        wb,
        w["schools"],
        [w["pair"], *_headers(lang, SCHOOL_KEYS)],
        [[p, *r] for p, d in zip(pair, cmp.diffs) for r in school_rows(d, lang)],
    )
    _sheet(
        wb,
        w["groups"],
        [w["pair"], *_headers(lang, GROUP_KEYS)],
        [[p, *r] for p, d in zip(pair, cmp.diffs) for r in group_rows(d, lang, names)],
    )
    _sheet(
        wb,
        w["villages"][:31],
        [w["pair"], *_headers(lang, VILLAGE_KEYS)],
        [[p, *r] for p, d in zip(pair, cmp.diffs) for r in village_rows(d, lang, names)],
    )
    if sources:
        _sheet(
            wb,
            w["sources"],
            [w["scenario"], w["kind"], w["path"], w["created"]],
            [[s["name"], _code(s["kind"], lang), s["path"], s.get("created", "")] for s in sources],
        )
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- maps
def diff_map_png(cmp: Comparison, index: int, *, lang: str = "zh", dpi: int = 110) -> bytes | None:
    """A PNG of what changed from the baseline to scenario ``index`` (1-based in ``cmp.plans``):
    the county, and when the changes sit in a part of it, that part framed and enlarged beside it.
    None when nothing changed."""
    # matplotlib (and the font lookup built on it) only when a map is drawn: it is slow to
    # import, and the backend must be chosen before pyplot is.
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from app.export.fonts import find_cjk_font, font_families

    d = cmp.diffs[index - 1]
    plan = cmp.plans[index]
    pts = _change_points(d)
    if not len(pts):
        return None
    zh = lang != "en" and find_cjk_font() is not None  # no CJK font: English labels, no boxes
    lab = WORDS["zh" if zh else "en"]
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    pad = max(2000.0, 0.15 * max(x1 - x0, y1 - y0))
    box = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)

    cx0, cy0, cx1, cy1 = plan.boundary.total_bounds
    # A zoomed panel only helps when the changes sit in a part of the county.
    zoom = (box[2] - box[0]) * (box[3] - box[1]) < 0.4 * (cx1 - cx0) * (cy1 - cy0)
    with plt.rc_context({"font.family": font_families("zh" if zh else "en")}):
        fig, axes = plt.subplots(1, 2 if zoom else 1, figsize=(12 if zoom else 7, 6), dpi=dpi)
        axes = list(np.atleast_1d(axes))
        for k, ax in enumerate(axes):
            plan.boundary.boundary.plot(ax=ax, color="#333333", linewidth=0.8)
            s = plan.schools
            ax.scatter(s.geometry.x, s.geometry.y, s=6, color="#BBBBBB", zorder=1)
            v = d.villages
            for lv, sub in v.groupby("level", sort=False):
                ax.scatter(
                    sub["x"],
                    sub["y"],
                    s=18,
                    color=LEVEL_COLOR.get(lv, "#666666"),
                    zorder=3,
                    label=f"{lab['villages_changed']}: {LEVEL.label(lv, 'zh' if zh else 'en')}"
                    if k == len(axes) - 1
                    else None,
                )
            g = d.groups
            if len(g):
                ax.scatter(
                    g["x"],
                    g["y"],
                    s=70,
                    facecolors="none",
                    edgecolors="#7B3294",
                    linewidths=1.4,
                    zorder=4,
                    label=lab["groups_changed"] if k == len(axes) - 1 else None,
                )
            sc = d.schools
            styles = {
                "added": dict(marker="P", color="#1A9641", s=90),
                "removed": dict(marker="X", color="#D7191C", s=90),
                "status": dict(marker="D", color="#FDAE61", s=60),
                "moved": dict(marker="o", color="#2B83BA", s=60),
            }
            for change, st in styles.items():
                sub = sc[sc["change"] == change]
                if len(sub):
                    ax.scatter(
                        sub["x"],
                        sub["y"],
                        zorder=5,
                        edgecolors="black",
                        linewidths=0.5,
                        label=f"{lab['schools']}: {lab[change]}" if k == len(axes) - 1 else None,
                        **st,
                    )
            for r in sc[sc["change"] == "moved"].itertuples(index=False):
                ax.annotate(
                    "",
                    xy=(r.x, r.y),
                    xytext=(r.x_before, r.y_before),
                    arrowprops=dict(arrowstyle="->", color="#2B83BA"),
                    zorder=5,
                )
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("")
            ax.set_ylabel("")
        if zoom:
            axes[0].add_patch(
                Rectangle(
                    (box[0], box[1]),
                    box[2] - box[0],
                    box[3] - box[1],
                    fill=False,
                    edgecolor="#D7191C",
                    linewidth=1.2,
                )
            )
            axes[1].set_xlim(box[0], box[2])
            axes[1].set_ylim(box[1], box[3])
        axes[-1].legend(loc="best", fontsize=8, framealpha=0.9)
        fig.suptitle(f"{lab['map']}: {d.base} → {d.other}")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
    return buf.getvalue()


def _change_points(d: PlanDiff) -> np.ndarray:
    parts = [d.schools[["x", "y"]], d.groups[["x", "y"]], d.villages[["x", "y"]]]
    moved = d.schools.dropna(subset=["x_before"])[["x_before", "y_before"]]
    parts.append(moved.set_axis(["x", "y"], axis=1))
    arr = np.vstack([p.to_numpy(float) for p in parts if len(p)] or [np.empty((0, 2))])
    return arr[np.isfinite(arr).all(axis=1)]


# --------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:24px;color:#222}
h1{font-size:22px} h2{font-size:18px;margin-top:28px;border-bottom:2px solid #ccc}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #bbb;padding:3px 8px} th{background:#f0f0f0}
td.n{text-align:right} td.best{background:#C6EFCE;color:#006100;font-weight:bold}
td.best::after{content:" ★"} .muted{color:#777} img{max-width:100%;border:1px solid #ccc}
"""


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _table(headers: list[str], rows: list[list[Any]], digits: dict[int, int] | None = None) -> str:
    digits = digits or {}
    out = ["<table><thead><tr>", *[f"<th>{_e(h)}</th>" for h in headers], "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>")
        for j, v in enumerate(r):
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                out.append(f'<td class="n">{_e(fmt_value(float(v), digits.get(j, 1)))}</td>')
            else:
                out.append(f"<td>{_e(v)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def compare_html(
    cmp: Comparison, *, lang: str = "zh", sources: list[dict] | None = None, maps: bool = True
) -> str:
    w = _w(lang)
    names = _names(cmp)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">',
        f"<title>{_e(w['title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(w['title'])}: {_e(' / '.join(cmp.names))}</h1>",
        f'<p class="muted">{_e(datetime.now().strftime("%Y-%m-%d %H:%M"))} · {_e(w["legend"])} · '
        f"{_e(w['baseline'])}: {_e(cmp.names[0])}</p>",
        "<table><thead><tr>",
        *[f"<th>{_e(h)}</th>" for h in (w["metric"], w["unit"], w["better"], *cmp.names)],
        "</tr></thead><tbody>",
    ]
    for row in metric_rows(cmp, lang):
        cells = [f"<td>{_e(row['label'])}</td><td>{_e(row['unit'])}</td>"]
        cells.append(f'<td class="muted">{_e(row["better"])}</td>')
        for k, v in enumerate(row["values"]):
            cls = "n best" if k in row["best"] else "n"
            cells.append(f'<td class="{cls}">{_e(fmt_value(v, row["digits"]))}</td>')
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")

    parts.append(f"<h2>{_e(w['rules'])}</h2>")
    if len(cmp.rules):
        label = "label_zh" if lang != "en" else "label_en"
        rrows = [
            [r[label], r["unit"], *[str(r[n]) for n in cmp.names]] for _, r in cmp.rules.iterrows()
        ]
        parts.append(_table([w["param"], w["unit"], *cmp.names], rrows))
    else:
        parts.append(f"<p>{_e(w['no_rule_diff'])}</p>")

    for i, d in enumerate(cmp.diffs, start=1):
        parts.append(f"<h2>{_e(d.base)} → {_e(d.other)}</h2>")
        c = d.counts
        if not any(c.values()):
            parts.append(f"<p>{_e(w['no_change'])}</p>")
            continue
        summary = [
            f"{w['schools']} {w['added']} {c['schools_added']}",
            f"{w['removed']} {c['schools_removed']}",
            f"{w['moved']} {c['schools_moved']}",
            f"{w['status']} {c['schools_status']}",
            f"{w['groups_changed']} {c['groups_changed']}",
            f"{w['villages_changed']} {c['villages_changed']}",
            *moved_lines(d, lang),
        ]
        parts.append(f"<p><b>{_e(w['summary'])}:</b> {_e(' · '.join(summary))}</p>")
        png = diff_map_png(cmp, i, lang=lang) if maps else None
        if png:
            b64 = base64.b64encode(png).decode("ascii")
            parts.append(f'<img alt="{_e(w["map"])}" src="data:image/png;base64,{b64}">')
        if len(d.schools):
            parts.append(f"<h3>{_e(w['schools'])}</h3>")
            parts.append(_table(_headers(lang, SCHOOL_KEYS), school_rows(d, lang)))
        if len(d.groups):
            parts.append(f"<h3>{_e(w['groups'])}</h3>")
            parts.append(_table(_headers(lang, GROUP_KEYS), group_rows(d, lang, names)))
        if len(d.villages):
            parts.append(f"<h3>{_e(w['villages'])}</h3>")
            parts.append(
                _table(
                    _headers(lang, VILLAGE_KEYS),
                    village_rows(d, lang, names),
                    digits={5: 2, 6: 2, 7: 0},
                )
            )
    if sources:
        parts.append(f"<h2>{_e(w['sources'])}</h2>")
        parts.append(
            _table(
                [w["scenario"], w["kind"], w["path"], w["created"]],
                [
                    [s["name"], _code(s["kind"], lang), s["path"], s.get("created", "")]
                    for s in sources
                ],
            )
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_compare_html(
    cmp: Comparison, path: str | Path, *, lang: str = "zh", sources: list[dict] | None = None
) -> Path:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(compare_html(cmp, lang=lang, sources=sources), encoding="utf-8")
    tmp.replace(path)
    return path
