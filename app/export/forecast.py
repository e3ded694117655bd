"""The forecast of school-age children: forecast.xlsx (tables) and forecast.png (charts).

forecast.xlsx: the county per level and year, each township (units' ``town``) per level, each
school's current zone per level when a plan is given, every unit, and the rules used. The base
year's column is marked as the data's present (现状); later years are the projection.
forecast.png: the county's children per level (lines) above small multiples per township.
With a schedule it adds the phased steps (分期实施, in tables.xlsx's order) and the classes per
school and year (tables.xlsx has the steps as a titled, print-ready sheet of its own).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from app.export.fonts import cjk_font_or_raise
from app.export.tables import HEADER_FILL, HEADER_FONT, INT, put, schedule_frame
from core.params import specs
from core.vocab import CLASS_CHANGE, LEVEL, LEVELS, SCHEDULE_ACTION, TERM
from planning.projection.engine import ProjectionResult
from planning.projection.params import ProjectionParams
from planning.schedule import ScheduleResult

LEVEL_COLORS = {"primary": "#2b7bba", "junior": "#e08214", "senior": "#5aa05a"}
NO_SCHOOL = "(无学位)"
WORDS = {
    "zh": {
        "county": "全县",
        "town": "乡镇(街道)",
        "level": "学段",
        "school_id": "学校编号",
        "school": "学校名称",
        "capacity": "现有学位",
        "unit_id": "单元编号",
        "unit": "村/社区",
        "present": "(现状)",
        "change": "{year}年较现状",
        "title": "学龄人口预测",
        "axis": "学龄人口(人)",
        "note": "{base}年为现状(数据),以后各年为预测",
        "sheets": ("全县", "分乡镇", "分学区", "分村社区", "预测参数", "分期实施", "分年班级"),
        "param": ("参数", "取值", "单位", "依据"),
        "steps": ("学段", "学校编号", "学校名称", "措施", "年份", "分期", "接收学校", "理由"),
        "classes": ("学段", "学校编号", "学校名称", "现有班级", "现状班额"),
    },
    "en": {
        "county": "County",
        "town": "Township",
        "level": "Level",
        "school_id": "School id",
        "school": "School",
        "capacity": "Places now",
        "unit_id": "Unit id",
        "unit": "Village / community",
        "present": " (data)",
        "change": "{year} vs now",
        "title": "School-age children forecast",
        "axis": "school-age children",
        "note": "{base}: the data; later years: projection",
        "sheets": ("County", "Townships", "Zones", "Units", "Parameters", "Phasing", "Classes"),
        "param": ("Parameter", "Value", "Unit", "Source"),
        "steps": ("Level", "School id", "School", "Action", "Year", "Term", "Receiving", "Reason"),
        "classes": ("Level", "School id", "School", "Classes now", "Class size now"),
    },
}


def _words(lang: str) -> dict:
    return WORDS["en" if lang == "en" else "zh"]


def _year_heading(year: int, base: int, lang: str) -> str:
    return f"{year}{_words(lang)['present']}" if year == base else str(year)


def unit_table(projection: ProjectionResult, units: pd.DataFrame) -> pd.DataFrame:
    """Units × (level) rows with one column per year, plus the unit's town and name."""
    n, k, t = projection.children.shape
    wide = pd.DataFrame(
        projection.children.reshape(n * k, t), columns=[int(y) for y in projection.years]
    )
    wide.insert(0, "level", np.tile(np.array(LEVELS), n))
    wide.insert(0, "unit_id", np.repeat(projection.unit_ids, k))
    info = units[["unit_id", "name", "town"]].astype(str).drop_duplicates("unit_id")
    return info.merge(wide, on="unit_id", how="right")


def town_table(table: pd.DataFrame) -> pd.DataFrame:
    years = [c for c in table.columns if isinstance(c, int)]
    town = table["town"].replace("", "(未注明)")
    out = table.assign(town=town).groupby(["town", "level"], sort=False)[years].sum()
    out = out.reset_index()
    rank = out["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    return out.assign(_rank=rank).sort_values(["_rank", "town"]).drop(columns="_rank")


def zone_table(table: pd.DataFrame, plan) -> pd.DataFrame:
    """Each school's current zone (the plan's demand) per level; unserved units on their own row."""
    years = [c for c in table.columns if isinstance(c, int)]
    demand = pd.DataFrame(plan.demand.drop(columns="geometry", errors="ignore"))
    parts = []
    for level in LEVELS:
        col = f"school_id_{level}"
        if col not in demand.columns:
            continue
        zone = dict(zip(demand["unit_id"].astype(str), demand[col]))
        rows = table[table["level"] == level]
        school = rows["unit_id"].map(zone).fillna("").astype(str).replace("", NO_SCHOOL)
        parts.append(rows.assign(school_id=school).groupby(["level", "school_id"])[years].sum())
    if not parts:
        return pd.DataFrame(columns=["level", "school_id", "name", "capacity", *years])
    out = pd.concat(parts).reset_index()
    sch = pd.DataFrame(plan.schools.drop(columns="geometry", errors="ignore"))
    key = sch["school_id"].astype(str) + "|" + sch["level"].astype(str)
    names = dict(zip(key, sch["name"]))
    cap = dict(zip(key, pd.to_numeric(sch.get("capacity"), errors="coerce")))
    k = out["school_id"].astype(str) + "|" + out["level"]
    out.insert(2, "name", k.map(names).fillna(""))
    out.insert(3, "capacity", k.map(cap))
    return out


def _header(ws, row: int, values: list[str], widths: list[float]) -> None:
    for j, text in enumerate(values, start=1):
        cell = put(ws, row, j, text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = widths[j - 1]
    ws.row_dimensions[row].height = 30


def _sheet(wb, title, lead: list[tuple[str, str, str | None, float]], frame, years, base, lang):
    """lead: (frame column, heading, number format, width) before the year columns."""
    ws = wb.create_sheet(title)
    last = int(years[-1])
    heads = [h for _, h, _, _ in lead] + [_year_heading(int(y), base, lang) for y in years]
    heads.append(_words(lang)["change"].format(year=last))
    _header(ws, 1, heads, [w for *_, w in lead] + [10.5] * len(years) + [12])
    level_words = LEVEL.labels(lang)
    for i, rec in enumerate(frame.to_dict("records"), start=2):
        for j, (key, _, fmt, _) in enumerate(lead, start=1):
            value = rec.get(key)
            put(ws, i, j, level_words.get(value, value) if key == "level" else value, fmt)
        for j, y in enumerate(years, start=len(lead) + 1):
            put(ws, i, j, float(rec[int(y)]), INT)
        now, then = float(rec[int(base)]) if base in years else np.nan, float(rec[last])
        put(ws, i, len(heads), then / now - 1 if now > 0 else None, "+0%;-0%;0%")
    ws.freeze_panes = ws.cell(row=2, column=len(lead) + 1)
    if len(frame):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(heads))}{len(frame) + 1}"
    return ws


def _params_sheet(wb, title: str, params: ProjectionParams, lang: str) -> None:
    ws = wb.create_sheet(title)
    _header(ws, 1, list(_words(lang)["param"]), [34, 10, 10, 70])
    for i, spec in enumerate(specs(params), start=2):
        put(ws, i, 1, spec.info.label(lang))
        value = getattr(params, spec.name)
        put(ws, i, 2, value, "General" if isinstance(value, (int, float)) else None)
        put(ws, i, 3, spec.info.unit)
        put(ws, i, 4, spec.info.source)


def _steps_sheet(wb, title: str, schedule: ScheduleResult, names: dict, lang: str) -> None:
    ws = wb.create_sheet(title)
    _header(ws, 1, list(_words(lang)["steps"]), [8, 12, 26, 12, 8, 10, 26, 60])
    frame = schedule_frame(schedule, names, lang)
    for i, rec in enumerate(frame.to_dict("records"), start=2):
        cells = [
            LEVEL.label(rec["level"], lang),
            rec["school_id"],
            rec["name"],
            SCHEDULE_ACTION.label(rec["action"], lang),
            rec["year"],
            TERM.label(rec["term"], lang),
            rec["receiving"],
            rec["reason_text"],
        ]
        for j, value in enumerate(cells, start=1):
            put(ws, i, j, value, "0" if j == 5 else None)
    ws.freeze_panes = "A2"


def _classes_sheet(wb, title: str, schedule: ScheduleResult, names: dict, years, lang) -> None:
    """Classes needed per school and year, each cell with expand / keep / shrink."""
    ws = wb.create_sheet(title)
    heads = list(_words(lang)["classes"]) + [str(int(y)) for y in years]
    _header(ws, 1, heads, [8, 12, 26, 10, 8] + [11] * len(years))
    change = CLASS_CHANGE.labels(lang)
    c = schedule.classes
    for i, ((level, sid), rows) in enumerate(c.groupby(["level", "school_id"], sort=False), 2):
        rows = rows.set_index("year")
        first = rows.iloc[0]
        lead = [LEVEL.label(level, lang), sid, names.get(sid, ""), int(first["classes"])]
        for j, value in enumerate([*lead, int(first["class_size"])], start=1):
            put(ws, i, j, value, INT if j >= 4 else None)
        for j, y in enumerate(years, start=len(lead) + 2):
            r = rows.loc[int(y)]
            text = f"{int(r['classes_needed'])} {change[r['change']]}" if r["open"] else "—"
            put(ws, i, j, text)
    ws.freeze_panes = ws.cell(row=2, column=6)


def write_forecast_xlsx(
    projection: ProjectionResult,
    units: pd.DataFrame,
    path: str | Path,
    *,
    params: ProjectionParams | None = None,
    plan=None,
    schedule: ScheduleResult | None = None,
    lang: str = "zh",
) -> Path:
    """forecast.xlsx: county, townships, zones (with ``plan``), units, the rules used and, with
    ``schedule``, the phased steps (分期实施) and classes per school and year."""
    w = _words(lang)
    years, base = [int(y) for y in projection.years], projection.base_year
    table = unit_table(projection, units)
    wb = Workbook()
    wb.remove(wb.active)
    county = projection.totals().T.reset_index(names="level")
    county.columns = ["level", *years]
    names = w["sheets"]
    _sheet(wb, names[0], [("level", w["level"], None, 10)], county, years, base, lang)
    towns = town_table(table)
    lead = [("town", w["town"], None, 16), ("level", w["level"], None, 8)]
    _sheet(wb, names[1], lead, towns, years, base, lang)
    if plan is not None:
        lead = [
            ("level", w["level"], None, 8),
            ("school_id", w["school_id"], None, 12),
            ("name", w["school"], None, 26),
            ("capacity", w["capacity"], INT, 10),
        ]
        _sheet(wb, names[2], lead, zone_table(table, plan), years, base, lang)
    lead = [
        ("town", w["town"], None, 14),
        ("unit_id", w["unit_id"], None, 10),
        ("name", w["unit"], None, 22),
        ("level", w["level"], None, 8),
    ]
    _sheet(wb, names[3], lead, table, years, base, lang)
    if params is not None:
        _params_sheet(wb, names[4], params, lang)
    if schedule is not None and plan is not None:
        school_names = dict(zip(plan.schools["school_id"].astype(str), plan.schools["name"]))
        _steps_sheet(wb, names[5], schedule, school_names, lang)
        _classes_sheet(wb, names[6], schedule, school_names, years, lang)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _thousands(value: float, _pos: int) -> str:
    return f"{value:,.0f}"


def _lines(ax, years, series: dict[str, np.ndarray], base: int, lang: str, *, small: bool):
    labels = LEVEL.labels(lang)
    for level, values in series.items():
        ax.plot(
            years,
            values,
            color=LEVEL_COLORS[level],
            lw=1.4 if small else 2.4,
            marker=None if small else "o",
            ms=4,
            label=labels[level],
        )
    ax.axvline(base, color="#888888", lw=0.8, ls="--")
    ax.set_ylim(bottom=0)
    ax.grid(True, color="#e6e6e6", lw=0.6)
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.yaxis.set_major_locator(MaxNLocator(3 if small else 6))
    ax.xaxis.set_major_locator(MaxNLocator(4 if small else 12, integer=True))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def plot_forecast(
    projection: ProjectionResult,
    units: pd.DataFrame,
    path: str | Path,
    *,
    title: str = "",
    lang: str = "zh",
    dpi: int = 150,
) -> Path:
    """forecast.png: the county's lines per level, then one small chart per township."""
    w = _words(lang)
    font = cjk_font_or_raise()
    years, base = projection.years, projection.base_year
    towns = town_table(unit_table(projection, units))
    # Largest township first: the charts a planner looks at first are the ones that matter most.
    size = towns.groupby("town")[int(years[0])].sum().sort_values(ascending=False, kind="stable")
    names = list(size.index)
    cols = 6 if len(names) > 20 else 5 if len(names) > 12 else 4
    rows = max(1, math.ceil(len(names) / cols))
    with rc_context({"font.family": [font.family, "DejaVu Sans"], "axes.unicode_minus": False}):
        height = 5.2 + 1.75 * rows
        fig = Figure(figsize=(3.0 * cols, height), dpi=dpi)
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(
            rows + 1, cols, height_ratios=[2.8] + [1.0] * rows, hspace=0.6, wspace=0.32
        )
        ax = fig.add_subplot(grid[0, :])
        totals = projection.totals()
        _lines(ax, years, {lv: totals[lv].to_numpy() for lv in LEVELS}, base, lang, small=False)
        ax.set_ylabel(w["axis"])
        ax.set_title(f"{w['county']}  ·  {w['note'].format(base=base)}", fontsize=11, loc="left")
        ax.text(base, 0.03, f" {w['present'].strip('() ')}", transform=ax.get_xaxis_transform(),
                ha="left", va="bottom", fontsize=9, color="#666666")  # fmt: skip
        ax.legend(loc="upper right", frameon=False, ncols=3)
        for i, town in enumerate(names):
            sub = fig.add_subplot(grid[1 + i // cols, i % cols])
            part = towns[towns["town"] == town].set_index("level")
            series = {lv: part.loc[lv, list(years)].to_numpy(float) for lv in LEVELS}
            _lines(sub, years, series, base, lang, small=True)
            sub.set_title(town, fontsize=9.5, pad=3)
            sub.tick_params(labelsize=7)
        heading = f"{title}{w['title']}" if title else w["title"]
        fig.suptitle(heading, fontsize=15, x=0.015, y=1 - 0.12 / height, ha="left", va="top")
        fig.subplots_adjust(left=0.06, right=0.985, top=1 - 0.85 / height, bottom=0.35 / height)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, facecolor="white")
    return path


def write_forecast(
    projection: ProjectionResult,
    units: pd.DataFrame,
    out_dir: str | Path,
    *,
    params: ProjectionParams | None = None,
    plan=None,
    schedule: ScheduleResult | None = None,
    title: str = "",
    lang: str = "zh",
) -> dict[str, Path]:
    """forecast.xlsx and forecast.png in ``out_dir``."""
    out = Path(out_dir)
    xlsx = out / "forecast.xlsx"
    return {
        "xlsx": write_forecast_xlsx(
            projection, units, xlsx, params=params, plan=plan, schedule=schedule, lang=lang
        ),
        "png": plot_forecast(projection, units, out / "forecast.png", title=title, lang=lang),
    }
