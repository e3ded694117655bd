"""tables.xlsx: the plan as tables for colleagues who work in Excel.

Sheets ``summary``, ``groups`` (the seed 003 attachment form: 共建形式 | 牵头学校 | 成员学校, with
quota and funding columns), ``new_schools``, ``catchments`` and ``schools``; Chinese headers
(English with lang="en"), frozen header row, column widths and number formats. Every text cell is
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
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.export import symbology as sym
from core.vocab import (
    GROUP_ROLE,
    LAYOUT_STATUS,
    LEVEL,
    LOCATION,
    OWNERSHIP,
    QUALITY,
    SCHOOL_TYPE,
    STATUS,
    Vocab,
    yes_no,
)
from planning.grouping import pairing_table_from_layers

INT = "#,##0"
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
    Col("quality", "办学质量", "Quality", width=9, codes="quality"),
    Col("location", "城乡", "Location", width=8, codes="location"),
    Col("ownership", "办学性质", "Ownership", width=9, codes="ownership"),
    Col("school_type", "学校类型", "Type", width=12, codes="school_type"),
    Col("layout_status", "布局规划", "Layout", width=11, codes="layout_status"),
    Col("group_id", "集团编号", "Group", width=10),
    Col("group_role", "集团角色", "Group role", width=9, codes="group_role"),
    Col("group_reason", "分组理由", "Grouping reason", width=36),
    Col("layout_reason", "布局理由", "Layout reason", width=36),
)
# The seed 003 附件1 form, built by planning.grouping.pairing_table_from_layers (keys are its
# Chinese column names): pattern with mode, lead, members ((待建) marks planned schools), quotas.
GROUP_COLS = (
    Col("共建形式", "共建形式", "Form", width=30),
    Col("牵头学校", "牵头学校", "Lead school", width=26),
    Col("成员学校", "成员学校", "Member schools", width=56),
    Col("集团编号", "集团编号", "Group", width=10),
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
)
NEW_COLS = (
    Col("school_id", "学校编号", "School id", width=11),
    Col("name", "学校名称", "Name", width=26),
    Col("level", "学段", "Level", width=8, codes="level"),
    Col("classes", "班级数", "Classes", INT, 8),
    Col("capacity", "学位数", "Capacity", INT, 9),
    Col("unit_id", "所在人口单元", "Population unit", width=14),
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

HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
HEADER_FONT = Font(bold=True)


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
            cell.number_format = fmt
        return cell
    text = _clean_text(value)
    cell.value = text
    cell.data_type = "s"  # openpyxl turns "=..." into a formula otherwise
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True  # stays text when a user edits the cell or saves as CSV
    return cell


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


def _sheet(wb: Workbook, title: str, cols: tuple[Col, ...], frame: pd.DataFrame, lang: str):
    ws = wb.create_sheet(title)
    for j, c in enumerate(cols, start=1):
        cell = put(ws, 1, j, c.en if lang == "en" else c.zh)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = c.width
    records = frame.to_dict("records") if len(frame) else []
    for i, rec in enumerate(records, start=2):
        for j, c in enumerate(cols, start=1):
            value = _translate(rec.get(c.key), c.codes, lang)
            put(ws, i, j, value, c.fmt)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 30
    if records:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(records) + 1}"
    return ws


def _names(result) -> dict[str, str]:
    s = result.schools
    return {str(a): str(b) for a, b in zip(s["school_id"], s["name"])}


def groups_frame(result, lang: str = "zh") -> pd.DataFrame:
    """The pairing arrangement table (seed 003 附件1) with quotas and funding, one row per group,
    in (level, group_id) order; derived from the plan's layers alone, so a re-read plan.gpkg
    gives the same sheet as the run that wrote it."""
    g = result.groups
    if g is None or len(g) == 0:
        return pd.DataFrame(columns=[c.key for c in GROUP_COLS])
    lv = {k: i for i, k in enumerate(sym.LEVELS)}
    order = sorted(
        range(len(g)), key=lambda i: (lv.get(str(g["level"].iat[i]), 9), str(g["group_id"].iat[i]))
    )
    return pairing_table_from_layers(g.iloc[order], result.schools, lang=lang)


def _summary_rows(result, lang: str) -> list[tuple[str, Any, str | None]]:
    t = sym.texts(lang)
    meta = result.meta or {}
    en = lang == "en"
    rows: list[tuple[str, Any, str | None]] = [
        ("Project" if en else "项目", meta.get("project", ""), None),
        ("Scenario" if en else "方案", meta.get("scenario", ""), None),
        ("Created" if en else "生成时间", meta.get("created", ""), None),
        ("Status" if en else "状态", result.status, None),
    ]
    s = result.schools
    for lv in sym.level_order(s["level"].unique()):
        sub = s[s["level"] == lv]
        name = sym.level_name(lv, lang)
        rows.append((f"{name} · {'schools' if en else '学校数'}", len(sub), INT))
        rows.append(
            (
                f"{name} · {t['students']}",
                float(pd.to_numeric(sub["students"], errors="coerce").fillna(0).sum()),
                INT,
            )
        )
        rows.append(
            (
                f"{name} · {t['capacity']}",
                float(pd.to_numeric(sub["capacity"], errors="coerce").fillna(0).sum()),
                INT,
            )
        )
        if "layout_status" in sub:
            for st in ("to_merge", "new"):
                label = LAYOUT_STATUS.label(st, lang)
                rows.append((f"{name} · {label}", int((sub["layout_status"] == st).sum()), INT))
    rows.append(
        (
            "Groups" if en else "教育集团数",
            len(result.groups) if result.groups is not None else 0,
            INT,
        )
    )
    if "group_role" in s:
        in_group = int(s["group_role"].isin(["core", "member"]).sum())
        rows.append(("Schools in groups" if en else "参加集团学校数", in_group, INT))
        rows.append(
            ("Group coverage" if en else "集团化覆盖率", in_group / len(s) if len(s) else 0.0, PCT)
        )
    z = result.catchments
    if z is not None and len(z):
        rows.append(
            (
                t["over_capacity"],
                int((pd.to_numeric(z["utilization"], errors="coerce") > 1).sum()),
                INT,
            )
        )
    d = result.demand
    if d is not None and len(d):
        for lv in sym.LEVELS:
            col = f"status_{lv}"
            if col in d and f"students_{lv}" in d:
                pupils = pd.to_numeric(d[f"students_{lv}"], errors="coerce").fillna(0)
                for st, label in (("too_far", t["too_far"]), ("unserved", t["not_served"])):
                    rows.append(
                        (
                            f"{sym.level_name(lv, lang)} · {label} ({t['pupils']})",
                            float(pupils[d[col] == st].sum()),
                            DEC1,
                        )
                    )
    # Engine summaries as they come (their keys are the engines' own): nothing is lost.
    for section, value in (result.summary or {}).items():
        for key, v in _flatten(value, str(section)):
            rows.append(
                (key, v, DEC2 if isinstance(v, float) else (INT if isinstance(v, int) else None))
            )
    return rows


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


def write_tables(result, path: str | Path, *, lang: str = "zh") -> Path:
    """Write tables.xlsx; returns its path."""
    wb = Workbook()
    wb.remove(wb.active)

    ws = wb.create_sheet("summary")
    for j, head in enumerate(("Item", "Value") if lang == "en" else ("项目", "数值"), start=1):
        c = put(ws, 1, j, head)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
    for i, (label, value, fmt) in enumerate(_summary_rows(result, lang), start=2):
        put(ws, i, 1, label)
        put(ws, i, 2, value, fmt)
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 24
    ws.freeze_panes = "A2"

    _sheet(wb, "groups", GROUP_COLS, groups_frame(result, lang), lang)

    ns = result.new_schools
    nf = (
        pd.DataFrame(ns.drop(columns="geometry", errors="ignore"))
        if ns is not None
        else pd.DataFrame()
    )
    if len(nf):
        rule_col = "rule_en" if lang == "en" and "rule_en" in nf else "rule"
        nf["rule_text"] = nf.get(rule_col, "")
    _sheet(wb, "new_schools", NEW_COLS, nf, lang)

    cz = result.catchments
    cf = (
        pd.DataFrame(cz.drop(columns="geometry", errors="ignore"))
        if cz is not None
        else pd.DataFrame()
    )
    if len(cf):
        names = _names(result)
        cf["name"] = [names.get(str(s), "") for s in cf["school_id"]]
    _sheet(wb, "catchments", CATCH_COLS, cf, lang)

    sf = pd.DataFrame(result.schools.drop(columns="geometry", errors="ignore"))
    if lang == "en":  # engines give English reasons beside the Chinese ones
        for col in ("group_reason", "layout_reason"):
            if f"{col}_en" in sf:
                sf[col] = sf[f"{col}_en"]
    cap = pd.to_numeric(sf["capacity"], errors="coerce")
    sf["utilization"] = pd.to_numeric(sf["students"], errors="coerce") / cap.where(cap > 0)
    _sheet(wb, "schools", SCHOOL_COLS, sf, lang)
    # Imported here: forecast.py builds its sheets on this module's cell helpers.
    from app.export.forecast import write_schedule_sheet

    write_schedule_sheet(wb, result, lang)

    path = Path(path)
    wb.save(path)
    return path
