"""report.docx: the plan report a county layout plan has, from the same run as the maps and tables.

Chapters: 一 现状, 二 学龄人口与需求, 三 新建学校 (the rule behind each), 四 布局调整
(保留/过渡/撤并), 五 集团化办学, 六 学区划片 (with map.png), 附件 (附件1 the pairing table;
附件2 the agreements file). Headline figures come from ``app.export.figures_text`` and the table
rows from the same frames tables.xlsx writes, so report and workbook cannot disagree.
``report_pdf`` converts with LibreOffice when it is installed.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from copy import deepcopy
from pathlib import Path

import numpy as np
import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from PIL import Image

from app.export import figures_text as ft
from app.export import symbology as sym
from app.export import tables as tb
from app.export.agreements import BODY_FONT, FILE_NAME, TITLE_FONT, para, set_font
from core.vocab import LAYOUT_STATUS, LEVELS
from planning.present import PRESENT_COLUMNS

CHAPTERS = (
    "一、现状",
    "二、学龄人口与需求",
    "三、新建学校",
    "四、布局调整",
    "五、集团化办学",
    "六、学区划片",
    "附件",
)
SMALL = 9.0
TEXT_CM = 16.6  # A4 less the margins
REPORT_MAP_PX = 1600


def _heading(doc, text: str, level: int = 1) -> None:
    p = doc.add_heading(level=level)
    p.paragraph_format.space_before = Pt(12 if level == 1 else 6)
    set_font(p.add_run(text), TITLE_FONT, 15 if level == 1 else 12.5, bold=True)
    for r in p.runs:
        r.font.color.rgb = RGBColor(0, 0, 0)


_RPR: dict[tuple[str, float, bool], object] = {}


def _run_props(font: str, size: float, bold: bool):
    """The run properties (w:rPr) ``set_font`` gives, built once per font, size and weight."""
    key = (font, size, bold)
    if key not in _RPR:
        run = Document().add_paragraph().add_run("")
        set_font(run, font, size, bold)
        _RPR[key] = run._r.rPr
    return _RPR[key]


def _cell(cell, text: str, *, bold: bool = False, align=None, fresh: bool = False) -> None:
    """One cell's text in the table font; ``fresh``: the cell still has only its empty paragraph
    (a new table's cell), which then takes the run (a copy of cached run properties)."""
    if not fresh:
        cell.text = ""
    p = cell.paragraphs[0]
    if align is not None:
        p.alignment = align
    run = p.add_run(text)
    run._r.insert(0, deepcopy(_run_props(BODY_FONT, SMALL, bold)))


def _repeat_header(row) -> None:
    # Word and LibreOffice repeat a row flagged tblHeader on every page the table spans.
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _table(doc, head: list[str], rows: list[list[str]], widths_cm: list[float] | None = None):
    """A bordered table with a repeated header row; every cell text."""
    if not widths_cm:
        # Widths from the content (a CJK character counts two), long texts capped, page-wide.
        need = [
            max([min(tb.text_width(h), 12), 5] + [min(tb.text_width(r[j]), 40) for r in rows]) + 2
            for j, h in enumerate(head)
        ]
        widths_cm = [TEXT_CM * n / sum(need) for n in need]
    widths = [Cm(w) for w in widths_cm]
    t = doc.add_table(rows=1 + len(rows), cols=len(head))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    for j, w in enumerate(widths):
        t.columns[j].width = w
    for i, row in enumerate(t.rows):
        values = head if i == 0 else rows[i - 1]
        for j, cell in enumerate(row.cells):
            cell.width = widths[j]
            if i == 0:
                _cell(cell, values[j], bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, fresh=True)
            else:
                _cell(cell, values[j], fresh=True)
    _repeat_header(t.rows[0])
    doc.add_paragraph()
    return t


def _s(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return str(v)


def _figures_table(doc, figures: list[ft.Figure], state: str) -> None:
    """Figures of one state as a matrix: rows = figure, columns = levels (and county)."""
    mine = [f for f in figures if f.state == state]
    levels = [lv for lv in (*LEVELS, "") if any(f.level == lv for f in mine)]
    rows_of: list[str] = []
    for f in mine:
        if f.short_zh not in rows_of:
            rows_of.append(f.short_zh)
    val = {(f.short_zh, f.level): f.text("zh") for f in mine}
    head = ["指标"] + [sym.level_name(lv, "zh") if lv else "全县" for lv in levels]
    rows = [[k] + [val.get((k, lv), "") for lv in levels] for k in rows_of]
    _table(doc, head, rows)


def _present_flags(result) -> pd.DataFrame:
    """The present flags per school: the pipeline's 现状 stage put them on the schools layer;
    only a plan written before that stage is diagnosed here."""
    s = result.schools
    if set(PRESENT_COLUMNS) <= set(s.columns):
        return s
    return ft.present(result).schools


def _present_chapter(doc, result, figures) -> None:
    _heading(doc, CHAPTERS[0])
    para(doc, "以下为按学校上报数据计算的现状(规划前),在校学生数与学位数均为学校实际数据。")
    _figures_table(doc, figures, "present")
    s = result.schools
    flags = _present_flags(result)
    rows = []
    for i in range(len(s)):
        words = [w[0] for f, w in tb.FLAG_WORDS.items() if bool(flags[f].iat[i])]
        if words:
            rows.append(
                [
                    _s(s["name"].iat[i]),
                    sym.level_name(s["level"].iat[i], "zh"),
                    sym.fmt_num(s["students"].iat[i]),
                    sym.fmt_num(s["capacity"].iat[i]),
                    sym.fmt_num(flags["students_per_class"].iat[i], 1),
                    "、".join(words),
                ]
            )
    if rows:
        para(doc, f"现状存在问题的学校共{len(rows)}所:")
        _table(doc, ["学校", "学段", "在校生", "学位", "班均人数", "问题"], rows)
    short_now = next((f.value for f in figures if f.key == "junior_short_now"), None)
    if short_now:  # the areas by name (the figure counts them)
        short = [a for a in ft.present(result).junior_areas if a.short]
        para(
            doc,
            "初中班级数不足的规划片区:"
            + "、".join(
                f"{a.area or '全县'}(需{a.required_classes}班,现{a.classes}班)" for a in short
            )
            + "。",
        )


def _demand_chapter(doc, result, figures) -> None:
    _heading(doc, CHAPTERS[1])
    d = result.demand
    pop = float(pd.to_numeric(d["population"], errors="coerce").sum()) if len(d) else 0.0
    para(doc, f"全县人口单元{len(d)}个,人口{sym.fmt_num(pop)}人。各学段学龄人口与就学距离如下。")
    rows = []
    for lv in LEVELS:
        col = f"students_{lv}"
        if col not in d:
            continue
        kids = pd.to_numeric(d[col], errors="coerce").fillna(0)
        far = d[f"status_{lv}"] == "too_far"
        limit = getattr(result.rules.catchments, f"max_km_{lv}", float("nan"))
        rows.append(
            [
                sym.level_name(lv, "zh"),
                sym.fmt_num(kids.sum()),
                sym.fmt_num(limit, 1),
                str(int(far.sum())),
                sym.fmt_num(kids[far].sum()),
            ]
        )
    _table(doc, ["学段", "学龄人口", "最远就学距离(公里)", "超距离单元", "超距离学生"], rows)
    far = ft.far_units(result, "zh")
    if len(far):
        para(doc, "超出就学距离学生最多的村庄(社区)(全部见 tables.xlsx「超距离村庄」):")
        top = far.sort_values("pupils", ascending=False, kind="stable").head(10)
        _table(
            doc,
            ["村庄/社区", "乡镇(街道)", "学段", "学龄人数", "距离(公里)", "最近学校"],
            [[r.unit, r.town, r.level, sym.fmt_num(r.pupils), sym.fmt_num(r.distance_km, 1),
              r.nearest] for r in top.itertuples()],
        )  # fmt: skip


def _new_chapter(doc, result) -> None:
    _heading(doc, CHAPTERS[2])
    ns = result.new_schools
    if ns is None or len(ns) == 0:
        para(doc, "本方案不新建学校。")
        return
    para(
        doc,
        f"规划新建学校{len(ns)}所,新增学位{sym.fmt_num(ns['capacity'].sum())}个。每所学校的依据如下。",
    )
    rows = [
        [_s(r.name), sym.level_name(r.level, "zh"), sym.fmt_num(r.classes), sym.fmt_num(r.capacity),
         _s(getattr(r, "rule", ""))]
        for r in ns.itertuples()
    ]  # fmt: skip
    _table(doc, ["学校", "学段", "班级", "学位", "规划依据"], rows, [3.5, 1.2, 1.2, 1.4, 9.2])


def _layout_chapter(doc, result, figures) -> None:
    _heading(doc, CHAPTERS[3])
    para(doc, "规划后主要指标(学位利用率与超容量按规划划片后的学区计算):")
    _figures_table(doc, figures, "plan")
    s = result.schools
    st = s["layout_status"].astype(str)
    counts = "、".join(
        f"{LAYOUT_STATUS.label(c, 'zh')}{int((st == c).sum())}所" for c in LAYOUT_STATUS.codes
        if (st == c).any()
    )  # fmt: skip
    para(doc, f"规划后各校布局:{counts}。撤并与过渡学校及理由如下。")
    for code in ("to_merge", "transitional"):
        sub = s[st == code]
        if not len(sub):
            continue
        _heading(doc, f"{LAYOUT_STATUS.label(code, 'zh')}学校({len(sub)}所)", 2)
        rows = [
            [_s(r["name"]), sym.level_name(r["level"], "zh"), sym.fmt_num(r["students"]),
             _s(r.get("layout_reason", ""))]
            for _, r in sub.iterrows()
        ]  # fmt: skip
        _table(doc, ["学校", "学段", "在校生", "理由"], rows, [4.0, 1.2, 1.4, 9.9])


def _groups_chapter(doc, result, figures) -> None:
    _heading(doc, CHAPTERS[4])
    cov = next((f for f in figures if f.key == "coverage_pct"), None)
    n = next((f for f in figures if f.key == "groups"), None)
    text = f"规划组建教育集团(结对){n.text('zh') if n else 0}个"
    if cov is not None and cov.value is not None:
        text += f",集团化覆盖率{cov.text('zh')}"
    para(doc, text + "。各集团的模式、成员与交流、经费要求如下;结对共建安排见附件1。")
    g = tb.groups_frame(result, "zh")
    rows = [
        [_s(r["集团编号"]), _s(r["共建形式"]), _s(r["牵头学校"]), _s(r["成员学校"]),
         sym.fmt_num(r["年度交流教师不少于(人)"]), sym.fmt_num(r["年度经费不少于(元)"])]
        for _, r in g.iterrows()
    ]  # fmt: skip
    _table(doc, ["集团", "模式", "牵头学校", "成员学校", "年交流教师≥", "年经费≥(元)"], rows,
           [1.2, 3.2, 3.0, 5.6, 1.6, 2.1])  # fmt: skip


def _zones_chapter(doc, result, map_png: Path | None, map_image=None) -> None:
    _heading(doc, CHAPTERS[5])
    z = result.catchments
    rows = []
    for lv in LEVELS:
        sub = z[z["level"] == lv] if len(z) else z
        if not len(sub):
            continue
        util = pd.to_numeric(sub["utilization"], errors="coerce")
        rows.append(
            [sym.level_name(lv, "zh"), str(len(sub)), sym.fmt_num(sub["students"].sum()),
             sym.fmt_num(sub["mean_distance_km"].mean(), 1), sym.fmt_num(sub["max_distance_km"].max(), 1),
             str(int((util > 1).sum()))]
        )  # fmt: skip
    para(doc, "各学段学区划片结果如下(规划后);每个学区的学生数与距离见 tables.xlsx「学区」。")
    _table(
        doc, ["学段", "学区数", "学区学生", "平均距离(公里)", "最远距离(公里)", "超容量学区"], rows
    )
    picture = map_image if map_image is not None else map_png
    if map_image is not None or (map_png is not None and Path(map_png).exists()):
        doc.add_picture(_page_image(picture), width=Cm(16.5))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        para(doc, "图1 学校布局规划图(map.png,与本报告同一次规划生成)", size=10,
             align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)  # fmt: skip


def _page_image(png, width_px: int = REPORT_MAP_PX) -> io.BytesIO:
    """The print map at the report's resolution (16.5 cm at ~250 dpi): a 300-dpi A3 page would
    make the report ten times larger for detail no A4 page shows. ``png``: map.png's path, or
    the page as the RGB array it was encoded from (no reading and decoding it again)."""
    im = Image.fromarray(np.asarray(png)) if not isinstance(png, (str, Path)) else Image.open(png)
    with im:
        im = im if im.mode == "RGB" else im.convert("RGB")
        if im.width > width_px:  # reduce (box filter on whole pixels) is much faster than resize
            im = im.reduce(max(1, im.width // width_px))
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=88)
    buf.seek(0)
    return buf


def _annex(doc, result) -> None:
    doc.add_page_break()
    _heading(doc, CHAPTERS[6])
    meta = result.meta or {}
    _heading(doc, "附件1:" + sym.county_name(meta) + "中小学结对共建安排表", 2)
    a = tb.annex_frame(result, "zh")
    rows = [[_s(r[c.key]) for c in tb.ANNEX_COLS] for _, r in a.iterrows()]
    t = _table(doc, [c.zh for c in tb.ANNEX_COLS], rows, [2.4, 4.0, 7.2, 3.0])
    forms = [r[0] for r in rows]
    i = 0
    while i < len(forms):  # 共建形式 merged over its rows, as the seed's form
        j = i
        while j + 1 < len(forms) and forms[j + 1] == forms[i]:
            j += 1
        if j > i:
            merged = t.cell(i + 1, 0).merge(t.cell(j + 1, 0))
            _cell(merged, forms[i], align=WD_ALIGN_PARAGRAPH.CENTER)
            merged.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        i = j + 1
    _heading(doc, "附件2:结对共建协议书", 2)
    para(doc, f"每对牵头学校与共建学校一份协议,见 agreements/{FILE_NAME}(每页一份)。")


def write_report(
    result, path: str | Path, *, map_png: str | Path | None = None, map_image=None
) -> Path:
    """Write report.docx (A4 portrait, Chinese); ``map_png`` is embedded in chapter 六
    (``map_image``, the same page as an RGB array, saves reading the file back)."""
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.2)
    sec.top_margin = sec.bottom_margin = Cm(2.2)
    meta = result.meta or {}
    figures = ft.headline(result)
    title = sym.plan_title(meta, "zh").replace("规划图", "规划报告")
    para(doc, title, size=20, font=TITLE_FONT, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
         indent=False)  # fmt: skip
    date = sym.plan_date(meta)
    if date:
        para(doc, f"编制日期:{date}", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _present_chapter(doc, result, figures)
    _demand_chapter(doc, result, figures)
    _new_chapter(doc, result)
    _layout_chapter(doc, result, figures)
    _groups_chapter(doc, result, figures)
    _zones_chapter(doc, result, Path(map_png) if map_png else None, map_image)
    _annex(doc, result)
    path = Path(path)
    doc.save(path)
    return path


def to_pdf(docx: str | Path, timeout: float = 120) -> Path | None:
    """Convert a .docx to PDF beside it with LibreOffice; None when soffice is not installed."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    docx = Path(docx)
    # A private profile: a LibreOffice the user has open would otherwise swallow the job.
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
             "pdf", "--outdir", str(docx.parent), str(docx)],
            check=False, capture_output=True, timeout=timeout,
        )  # fmt: skip
    pdf = docx.with_suffix(".pdf")
    return pdf if pdf.exists() else None
