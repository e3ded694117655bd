"""tables.xlsx: the plan as tables a bureau prints for a meeting.

Sheets (Chinese names; English with lang="en"): 汇总 (every figure of ``planning.figures`` once,
现状 and 规划后, worded by ``app.export.figures_text``), 结对共建安排表 (seed 003 附件1: 共建形式 merged over its rows |
牵头学校 | 共建学校 | 共建周期), 集团化办学 (quotas and funding per group), 新建学校, 学区,
超距离村庄 (units beyond the distance limit), 学校, and 技术说明 (the engines' own figures).
Every sheet: a title row and a date row, 序号, wrapped text, widths from the content, header
rows repeated on each printed page, A4 landscape fitted to the page width. Every text cell is
written as a string with Excel's quote prefix, so a school named ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.export import figures_text as ft
from app.export import symbology as sym
from core.vocab import (
    CANDIDATE_ORIGIN,
    GROUP_ROLE,
    LAYOUT_STATUS,
    LEVEL,
    LOCATION,
    NEW_SCHOOL_SITE_KIND,
    OWNERSHIP,
    QUALITY,
    SCHEDULE_ACTION,
    SCHOOL_TYPE,
    STATUS,
    TERM,
    Vocab,
    yes_no,
)
from planning.grouping import pairing_table_from_layers
from planning.grouping.explain import pairing_annex
from planning.present import PRESENT_COLUMNS

INT = "#,##0"
KM_FIGURES = ("mean_km", "p95_km", "max_km")
DEC1 = "#,##0.0"
DEC2 = "0.00"
PCT = "0%"
YUAN = "#,##0"
# Characters XML 1.0 (and so xlsx) cannot hold.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Coded columns take their words from core.vocab; a code outside its vocabulary stays as it is.
CODES: dict[str, Vocab] = {
    "quality": QUALITY,
    "location": LOCATION,
    "status": STATUS,
    "ownership": OWNERSHIP,
    "school_type": SCHOOL_TYPE,
    "layout_status": LAYOUT_STATUS,
    "group_role": GROUP_ROLE,
    "level": LEVEL,
    "site": NEW_SCHOOL_SITE_KIND,
    "origin": CANDIDATE_ORIGIN,
    "schedule_action": SCHEDULE_ACTION,
    "term": TERM,
}
# A school outside any group gets a blank 集团角色 cell, not GROUP_ROLE's 未入集团: in a sheet
# the empty cell reads at a glance and the group columns beside it are empty too.
BLANK_CODES = {("group_role", "none")}


@dataclass(frozen=True)
class Col:
    key: str  # column of the source frame, or a computed key
    zh: str
    en: str
    fmt: str | None = None  # number format; None = text
    width: float = 12
    codes: str | None = None  # CODES vocabulary translating the value, or "bool" (是/否)


SCHOOL_COLS = (
    Col("school_id", "学校编号", "School id", width=11),
    Col("name", "学校名称", "Name", width=26),
    Col("level", "学段", "Level", width=8, codes="level"),
    Col("classes", "班级数", "Classes", INT, 8),
    Col("students", "学生数", "Students", INT, 9),
    Col("capacity", "学位数", "Capacity", INT, 9),
    Col("utilization", "学位利用率", "Utilisation", PCT, 10),
    Col("students_per_class", "班均人数", "Pupils per class", DEC1, 9),
    Col("present_flags", "现状问题", "Present issues", width=16),
    Col("quality", "办学质量", "Quality", width=9, codes="quality"),
    Col("location", "城乡", "Location", width=8, codes="location"),
    Col("ownership", "办学性质", "Ownership", width=9, codes="ownership"),
    Col("school_type", "学校类型", "Type", width=12, codes="school_type"),
    Col("layout_status", "布局规划", "Layout", width=11, codes="layout_status"),
    Col("group_id", "集团编号", "Group", width=10),
    Col("group_role", "集团角色", "Group role", width=9, codes="group_role"),
    Col("group_reason", "分组理由", "Grouping reason", width=36),
    Col("layout_reason", "布局理由", "Layout reason", width=36),
    # 现状: the enrolment as reported (planning.present), not the plan's zoning
    Col("students_per_class", "班均学生(现状)", "Pupils per class (present)", DEC1, 10),
    Col("over_capacity", "超出学位(现状)", "Over capacity (present)", width=9, codes="bool"),
    Col("oversized_class", "大班额(现状)", "Oversized classes (present)", width=9, codes="bool"),
    Col(
        "over_max_students", "超规模(现状)", "Over the size limit (present)", width=9, codes="bool"
    ),
    Col("junior_short", "初中不足(现状)", "Junior classes short (present)", width=9, codes="bool"),
    Col("zone_reason", "无学区原因", "Why no zone", width=36),
)
# Seed 003 附件1 as filed (planning.grouping.explain.pairing_annex).
ANNEX_COLS = (
    Col("共建形式", "共建形式", "Form", width=14),
    Col("牵头学校", "牵头学校", "Lead school", width=26),
    Col("共建学校", "共建学校", "Partner schools", width=60),
    Col("共建周期", "共建周期", "Cycle", width=18),
)
# Groups with quotas and funding (planning.grouping.pairing_table_from_layers: its keys are the
# Chinese column names): pattern with mode, lead, members ((待建) marks planned schools).
GROUP_COLS = (
    Col("集团编号", "集团编号", "Group", width=8),
    Col("共建形式", "集团模式", "Pattern (mode)", width=24),
    Col("牵头学校", "牵头学校", "Lead school", width=22),
    Col("成员学校", "成员学校", "Member schools", width=44),
    Col("学段", "学段", "Level", width=8),
    Col("成员校数", "成员校数", "Members", INT, 9),
    Col("最远距离(km)", "最远距离(公里)", "Max distance (km)", DEC1, 13),
    Col(
        "年度交流教师不少于(人)",
        "年度交流教师不少于(人)",
        "Teachers exchanged / year, min",
        INT,
        18,
    ),
    Col(
        "其中骨干教师不少于(人)",
        "其中骨干教师不少于(人)",
        "of which backbone teachers, min",
        INT,
        18,
    ),
    Col("年度经费不少于(元)", "年度经费不少于(元)", "Yearly funding, min (yuan)", YUAN, 16),
    # From the groups layer (planning.grouping): 000 §七(二) budget, 001 §二(四)2 quotas, cycle.
    Col("出资", "出资", "Paid by", width=12),
    Col(
        "核心校年度输出教师不少于(人)",
        "核心校年度输出教师不少于(人)",
        "Core's teachers sent out / year, min",
        INT,
        18,
    ),
    Col(
        "新建学校骨干教师不少于(人)",
        "新建学校骨干教师不少于(人)",
        "Backbone teachers for new schools, min",
        INT,
        16,
    ),
    Col("结对起止年份", "结对起止年份", "Pairing years", width=12),
)
# Groups layer column → groups sheet column (the sheet's other columns come from the 附件1 form).
GROUP_LAYER_COLS = {"funding_source": "出资", "core_outflow_min": "核心校年度输出教师不少于(人)",
                    "new_school_backbone_min": "新建学校骨干教师不少于(人)"}  # fmt: skip
NEW_COLS = (
    Col("school_id", "学校编号", "School id", width=11),
    Col("name", "学校名称", "Name", width=26),
    Col("level", "学段", "Level", width=8, codes="level"),
    Col("classes", "班级数", "Classes", INT, 8),
    Col("capacity", "学位数", "Capacity", INT, 9),
    Col("unit_id", "所在人口单元", "Population unit", width=14),
    Col("site", "选址", "Site", width=12, codes="site"),
    Col("rule_text", "规划依据", "Rule", width=50),
)
CATCH_COLS = (
    Col("school_id", "学校编号", "School id", width=11),
    Col("name", "学校名称", "Name", width=26),
    Col("level", "学段", "Level", width=8, codes="level"),
    Col("students", "学区学生数", "Students", INT, 11),
    Col("capacity", "学位数", "Capacity", INT, 9),
    Col("utilization", "学位利用率", "Utilisation", PCT, 10),
    Col("mean_distance_km", "平均距离(公里)", "Mean distance (km)", DEC1, 13),
    Col("max_distance_km", "最远距离(公里)", "Max distance (km)", DEC1, 13),
    Col("oversized", "大班额", "Oversized classes", width=9, codes="bool"),
)

FAR_COLS = (
    Col("unit", "村庄/社区", "Village / community", width=22),
    Col("town", "乡镇(街道)", "Township", width=12),
    Col("level", "学段", "Level", width=8),
    Col("pupils", "学龄人数", "Pupils", INT, 9),
    Col("distance_km", "就学距离(公里)", "Distance (km)", DEC1, 12),
    Col("school", "规划就读学校", "School in the plan", width=24),
    Col("nearest", "最近学校(直线)", "Nearest school (straight line)", width=24),
)
SUMMARY_COLS = (
    Col("state", "类别", "State", width=10),
    Col("level", "学段", "Level", width=8),
    Col("label", "指标", "Figure", width=34),
    Col("value", "数值", "Value", width=20),
)
# The phased plan (planning.schedule): builds first, then closures and transitional schools.
SCHEDULE_COLS = (
    Col("action", "措施", "Step", width=10, codes="schedule_action"),
    Col("year", "年份", "Year", "0", 7),
    Col("term", "分期", "Term", width=8, codes="term"),
    Col("level", "学段", "Level", width=8, codes="level"),
    Col("school_id", "学校编号", "School id", width=11),
    Col("name", "学校名称", "Name", width=26),
    Col("receiving", "接收学校", "Receiving school", width=24),
    Col("reason_text", "理由", "Reason", width=44),
)
TECH_COLS = (
    Col("key", "项目", "Item", width=48),
    Col("value", "数值", "Value", width=40),
)
# (key, zh sheet name, en sheet name, zh title, en title); the title follows the project name.
SHEETS = (
    ("summary", "汇总", "Summary", "学校布局规划主要指标", "school layout plan: headline figures"),
    ("annex1", "结对共建安排表", "Pairing arrangement", "中小学结对共建安排表", "school pairing arrangement"),
    ("groups", "集团化办学", "Groups", "集团化办学一览表", "education groups"),
    ("new_schools", "新建学校", "New schools", "新建学校一览表", "new schools"),
    ("catchments", "学区", "Catchments", "学区划片一览表", "catchment zones"),
    ("far_units", "超距离村庄", "Beyond distance", "超出就学距离的村庄(社区)", "units beyond the distance limit"),
    ("schools", "学校", "Schools", "学校现状与规划一览表", "schools, present and planned"),
    ("schedule", "分期实施", "Phasing", "学校建设分期实施计划表", "phased school building plan"),
    ("technical", "技术说明", "Technical notes", "技术说明(模型计算数据)", "technical notes (model figures)"),
)  # fmt: skip
SHEET_NAMES = {k: (zh, en) for k, zh, en, _, _ in SHEETS}
TITLE_ROWS = 2  # title, then project / scenario / date: the header is row 3
FLAG_WORDS = {
    "over_capacity": ("超容量", "over capacity"),
    "oversized_class": ("大班额", "oversized classes"),
    "over_max_students": ("超规模", "over size limit"),
    "junior_short": ("初中班额不足", "junior classes short"),
}
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=15)
_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
MIDDLE = Alignment(vertical="center")
MAX_WIDTH = 60


def _clean_text(value: Any) -> str:
    return _ILLEGAL.sub("", str(value))


def put(ws, row: int, col: int, value: Any, fmt: str | None = None):
    """Write one cell; text is always a string cell (never a formula), numbers keep ``fmt``."""
    cell = ws.cell(row=row, column=col)
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return cell
    if isinstance(value, (bool, np.bool_)):
        value = str(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and fmt is not None:
        v = float(value)
        if math.isfinite(v):
            cell.value = int(v) if float(v).is_integer() and fmt in (INT, YUAN) else v
            if cell.number_format != fmt:  # a body cell's named style has it already
                cell.number_format = fmt
        return cell
    text = _clean_text(value)
    cell.value = text
    cell.data_type = "s"  # openpyxl turns "=..." into a formula otherwise
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True  # stays text when a user edits the cell or saves as CSV
    return cell


def _body_style(wb: Workbook, fmt: str | None) -> str:
    """The named style of a table's body cells with number format ``fmt`` (None: wrapped text),
    added to the workbook the first time."""
    name = f"SchoolPlan {fmt or 'text'}"
    if name not in wb.named_styles:
        wb.add_named_style(
            NamedStyle(
                name=name, border=BORDER, alignment=WRAP if fmt is None else MIDDLE,
                number_format=fmt or "General",
            )
        )  # fmt: skip
    return name


def _translate(value: Any, codes: str | None, lang: str) -> Any:
    if codes is None:
        return value
    if codes == "bool":
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return yes_no(value, lang)
    code = str(value)
    if (codes, code) in BLANK_CODES:
        return ""
    vocab = CODES[codes]
    return vocab.label(code, lang) if code in vocab.codes else value


def text_width(value: Any, fmt: str | None = None) -> float:
    """Display width in Excel character units: a CJK character takes two."""
    if value is None:
        return 0.0
    if fmt is not None and isinstance(value, (int, float)):
        return len(f"{value:,.1f}") + 1.0
    return float(sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value)))


def _page_setup(ws: Worksheet, n_cols: int, header_rows: str) -> None:
    """A4 landscape, fitted to the page width, the header repeated on every printed page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = header_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页 / 共 &N 页"


def _titles(ws: Worksheet, key: str, n_cols: int, result, lang: str) -> None:
    meta = result.meta or {}
    _, _, _, zh, en = next(s for s in SHEETS if s[0] == key)
    project = str(meta.get("project") or "") if lang == "en" else sym.county_name(meta)
    if lang == "en":
        title = f"{project} — {en}" if project else en[:1].upper() + en[1:]
        sub = [f"Scenario: {meta['scenario']}" if meta.get("scenario") else "",
               f"Date: {sym.plan_date(meta)}" if sym.plan_date(meta) else ""]  # fmt: skip
    else:
        title = project + zh
        sub = [f"方案:{meta['scenario']}" if meta.get("scenario") else "",
               f"编制日期:{sym.plan_date(meta)}" if sym.plan_date(meta) else ""]  # fmt: skip
    put(ws, 1, 1, title).font = TITLE_FONT
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    put(ws, 2, 1, "    ".join(x for x in sub if x)).alignment = Alignment(horizontal="right")
    if n_cols > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n_cols)
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n_cols)
    ws.row_dimensions[1].height = 28


def _sheet(
    wb: Workbook, key: str, cols: tuple[Col, ...], frame: pd.DataFrame, result, lang: str,
    *, number: bool = True,
) -> Worksheet:  # fmt: skip
    """One titled, numbered, bordered sheet of ``frame``'s ``cols``, ready to print."""
    zh, en = SHEET_NAMES[key]
    ws = wb.create_sheet(en if lang == "en" else zh)
    cols = ((Col("_n", "序号", "No.", INT, 6),) if number else ()) + tuple(cols)
    _titles(ws, key, len(cols), result, lang)
    hr = TITLE_ROWS + 1
    records = frame.to_dict("records") if len(frame) else []
    widths = []
    for j, c in enumerate(cols, start=1):
        cell = put(ws, hr, j, c.en if lang == "en" else c.zh)
        cell.font, cell.fill, cell.alignment, cell.border = HEADER_FONT, HEADER_FILL, CENTER, BORDER
        widths.append(max(6.0, min(text_width(cell.value) / 2 + 2, 14)))
    # One named style per number format: a cell takes it in one assignment (four style
    # assignments per cell were most of the workbook's time).
    styles = [_body_style(wb, c.fmt) for c in cols]
    text_w = np.zeros((len(records), len(cols)))
    for i, rec in enumerate(records, start=hr + 1):
        rec["_n"] = i - hr
        for j, c in enumerate(cols, start=1):
            value = _translate(rec.get(c.key), c.codes, lang)
            ws.cell(row=i, column=j).style = styles[j - 1]
            cell = put(ws, i, j, value, c.fmt)
            text_w[i - hr - 1, j - 1] = text_width(cell.value, c.fmt)
            widths[j - 1] = max(widths[j - 1], text_w[i - hr - 1, j - 1] + 2)
    col_w = []
    for j, c in enumerate(cols, start=1):
        # Content decides the width; long texts stop at the column's own cap and wrap.
        cap = max(c.width, 12) if c.fmt is None else 16
        col_w.append(min(widths[j - 1], cap, MAX_WIDTH))
        ws.column_dimensions[get_column_letter(j)].width = col_w[-1]
    text_cols = [j for j, c in enumerate(cols) if c.fmt is None]
    for i in range(len(records)):
        lines = max([1] + [math.ceil(text_w[i, j] / max(col_w[j] - 1, 1)) for j in text_cols])
        # LibreOffice keeps the stored height: give wrapped rows the lines they need.
        ws.row_dimensions[hr + 1 + i].height = 15 * lines + 3
    ws.freeze_panes = ws.cell(hr + 1, 1 + int(number)).coordinate
    ws.row_dimensions[hr].height = 30
    if records:
        last = get_column_letter(len(cols))
        ws.auto_filter.ref = f"A{hr}:{last}{len(records) + hr}"
    _page_setup(ws, len(cols), f"{hr}:{hr}")
    return ws


def _names(result) -> dict[str, str]:
    s = result.schools
    return {str(a): str(b) for a, b in zip(s["school_id"], s["name"])}


def _level_sorted(g: pd.DataFrame) -> pd.DataFrame:
    lv = {k: i for i, k in enumerate(sym.LEVELS)}
    order = sorted(
        range(len(g)), key=lambda i: (lv.get(str(g["level"].iat[i]), 9), str(g["group_id"].iat[i]))
    )
    return g.iloc[order]


def groups_frame(result, lang: str = "zh") -> pd.DataFrame:
    """The groups with quotas and funding, one row per group, in (level, group_id) order; from
    the plan's layers alone, so a re-read plan.gpkg gives the same sheet as the run that wrote it."""
    g = result.groups
    if g is None or len(g) == 0:
        return pd.DataFrame(columns=[c.key for c in GROUP_COLS])
    g = _level_sorted(g)
    table = pairing_table_from_layers(g, result.schools, lang=lang)
    by_id = g.set_index(g["group_id"].astype(str))
    ids = table["集团编号"].astype(str)
    for col, head in GROUP_LAYER_COLS.items():
        if col in by_id:
            table[head] = ids.map(by_id[col]).to_numpy()
    if {"start_year", "end_year"} <= set(by_id.columns):
        years = by_id["start_year"].astype(str) + "–" + by_id["end_year"].astype(str)
        table["结对起止年份"] = ids.map(years).to_numpy()
    return table


def annex_frame(result, lang: str = "zh") -> pd.DataFrame:
    """Seed 003 附件1 rows (共建形式, 牵头学校, 共建学校, 共建周期), forms adjacent."""
    g = result.groups
    if g is None or len(g) == 0:
        return pd.DataFrame(columns=[c.key for c in ANNEX_COLS])
    return pairing_annex(
        _level_sorted(g), result.schools, result.rules.groups, start_year=ft.start_year(result),
        lang=lang,
    )  # fmt: skip


def _annex_sheet(wb: Workbook, result, lang: str) -> Worksheet:
    """附件1 in the seed's form: no 序号, 共建形式 merged (and centred) over its rows."""
    frame = annex_frame(result, lang)
    ws = _sheet(wb, "annex1", ANNEX_COLS, frame, result, lang, number=False)
    first = TITLE_ROWS + 2
    forms = list(frame["共建形式"]) if len(frame) else []
    i = 0
    while i < len(forms):
        j = i
        while j + 1 < len(forms) and forms[j + 1] == forms[i]:
            j += 1
        ws.cell(first + i, 1).alignment = CENTER
        if j > i:
            ws.merge_cells(start_row=first + i, start_column=1, end_row=first + j, end_column=1)
        i = j + 1
    ws.auto_filter.ref = None  # a filter over merged cells hides rows of a merged form
    return ws


def summary_frame(result, lang: str) -> pd.DataFrame:
    """The summary sheet: every figure of ``planning.figures`` once (figures_text.headline),
    with its state and level."""
    county = "County" if lang == "en" else "全县"
    rows = [
        {
            "state": ft.STATE_LABEL[f.state][1 if lang == "en" else 0],
            "level": sym.level_name(f.level, lang) if f.level else county,
            "label": f.label(lang),
            "value": f.text(lang),
        }
        for f in ft.headline(result)
    ]
    return pd.DataFrame(rows, columns=[c.key for c in SUMMARY_COLS])


def schedule_frame(schedule, names: dict[str, str], lang: str) -> pd.DataFrame:
    """The schedule's steps in the order a plan lists them (build, close, transitional; then
    year, level, school id), with the receiving school's name and the reason in ``lang``."""
    steps = schedule.steps
    if steps is None or len(steps) == 0:
        return pd.DataFrame(columns=[c.key for c in SCHEDULE_COLS])
    order = {code: i for i, code in enumerate(SCHEDULE_ACTION.codes)}
    f = pd.DataFrame(steps).assign(_o=steps["action"].map(order))
    f = f.sort_values(["_o", "year", "level", "school_id"], na_position="last", kind="stable")
    f["year"] = [None if pd.isna(y) else int(y) for y in f["year"]]
    f["receiving"] = [names.get(str(r), "") for r in f["receiving_school_id"]]
    f["reason_text"] = f["reason_en" if lang == "en" else "reason"]
    return f.drop(columns="_o")


def technical_frame(result, lang: str) -> pd.DataFrame:
    """The engines' own figures under their keys (also in summary.json): nothing is lost."""
    meta = result.meta or {}
    rows = [("status", result.status)] + [(f"meta.{k}", v) for k, v in meta.items()]
    for section, value in (result.summary or {}).items():
        rows += list(_flatten(value, str(section)))
    return pd.DataFrame(
        [{"key": k, "value": sym.fmt_num(v, 2) if isinstance(v, float) else v} for k, v in rows],
        columns=["key", "value"],
    )


def _flatten(value: Any, prefix: str):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flatten(v, f"{prefix}.{k}")
    elif isinstance(value, (list, tuple)):
        yield prefix, ", ".join(str(v) for v in value)
    elif isinstance(value, bool):
        yield prefix, str(value)
    else:
        yield prefix, value


def _schools_frame(result, lang: str) -> pd.DataFrame:
    sf = pd.DataFrame(result.schools.drop(columns="geometry", errors="ignore"))
    if lang == "en":  # engines give English reasons beside the Chinese ones
        for col in ("group_reason", "layout_reason", "zone_reason"):
            if f"{col}_en" in sf:
                sf[col] = sf[f"{col}_en"]
    cap = pd.to_numeric(sf["capacity"], errors="coerce")
    sf["utilization"] = pd.to_numeric(sf["students"], errors="coerce") / cap.where(cap > 0)
    # The pipeline's 现状 stage put the present on the schools (plan.gpkg keeps it); only a plan
    # written before that stage existed is diagnosed here.
    if not set(PRESENT_COLUMNS) <= set(sf.columns):
        pr = ft.present(result).schools
        for col in PRESENT_COLUMNS:
            sf[col] = pr[col].to_numpy()
    k = 1 if lang == "en" else 0
    sep = ", " if lang == "en" else "、"
    sf["present_flags"] = [
        sep.join(w[k] for f, w in FLAG_WORDS.items() if bool(r[f]))
        for r in sf[list(FLAG_WORDS)].to_dict("records")
    ]
    return sf


def write_tables(result, path: str | Path, *, lang: str = "zh") -> Path:
    """Write tables.xlsx; returns its path."""
    wb = Workbook()
    wb.remove(wb.active)
    _sheet(wb, "summary", SUMMARY_COLS, summary_frame(result, lang), result, lang)
    _annex_sheet(wb, result, lang)
    _sheet(wb, "groups", GROUP_COLS, groups_frame(result, lang), result, lang)

    ns = result.new_schools
    nf = (
        pd.DataFrame(ns.drop(columns="geometry", errors="ignore"))
        if ns is not None
        else pd.DataFrame()
    )
    if len(nf):
        rule_col = "rule_en" if lang == "en" and "rule_en" in nf else "rule"
        nf["rule_text"] = nf.get(rule_col, "")
    _sheet(wb, "new_schools", NEW_COLS, nf, result, lang)

    cz = result.catchments
    cf = (
        pd.DataFrame(cz.drop(columns="geometry", errors="ignore"))
        if cz is not None
        else pd.DataFrame()
    )
    if len(cf):
        names = _names(result)
        cf["name"] = [names.get(str(s), "") for s in cf["school_id"]]
    _sheet(wb, "catchments", CATCH_COLS, cf, result, lang)
    _sheet(wb, "far_units", FAR_COLS, ft.far_units(result, lang), result, lang)
    sf = _schools_frame(result, lang)
    assumed = (Col("capacity_assumed", "学位为假定值", "Capacity assumed", width=10, codes="bool"),)
    cols = SCHOOL_COLS + (assumed if "capacity_assumed" in sf else ())
    _sheet(wb, "schools", cols, sf, result, lang)
    if getattr(result, "schedule", None) is not None:
        frame = schedule_frame(result.schedule, _names(result), lang)
        _sheet(wb, "schedule", SCHEDULE_COLS, frame, result, lang)
    _sheet(wb, "technical", TECH_COLS, technical_frame(result, lang), result, lang)

    path = Path(path)
    wb.save(path)
    return path
