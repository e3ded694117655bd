"""附件2: the pairing agreement (结对共建协议书) each lead and member school sign, one per page.

The wording is seed 003's 附件2 (a county may edit resources/documents/agreement_zh.toml); the
schools, cycle years, exchange quotas and funding floor are filled from the plan, so the
agreements and the pairing table (附件1) always say the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from app.export.figures_text import start_year as plan_start_year
from app.resources import read_toml
from core.vocab import PAIRING_FORM
from planning.grouping.explain import pairing_form, planned_name

FILE_NAME = "结对共建协议书.docx"

BODY_FONT = "宋体"
TITLE_FONT = "黑体"
AGREEMENT_PT = 10.5  # 五号


@dataclass(frozen=True)
class Pairing:
    """One lead school and one member school of a group, as the agreement names them."""

    group_id: str
    lead: str
    member: str
    member_planned: bool
    form: str
    exchange_min: int | None
    backbone_min: int | None
    funding_yuan: int | None
    payer: str


def agreement_texts() -> dict:
    return read_toml("documents", "agreement_zh.toml")


def _int(value: object) -> int | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else int(round(v))


def pairings_from_layers(
    groups: pd.DataFrame,
    schools: pd.DataFrame,
    *,
    form_of: dict[str, str] | None = None,
    payer_of: dict[str, str] | None = None,
) -> list[Pairing]:
    """One ``Pairing`` per core–member link of the plan's groups layer, in group order.

    ``form_of``: group_id -> 共建形式 (default "区内共建"); ``payer_of``: member school_id -> the
    budget that pays (000 §七(二): the weak school's affiliation; default "县级").
    """
    names = dict(zip(schools["school_id"].astype(str), schools["name"].astype(str), strict=False))
    status = dict(
        zip(schools["school_id"].astype(str), schools["status"].astype(str), strict=False)
    )
    out = []
    for g in groups.sort_values("group_id", kind="stable").itertuples(index=False):
        gid = str(g.group_id)
        members = [m for m in str(g.member_ids).replace(";", ",").split(",") if m.strip()]
        for m in (s.strip() for s in members):
            out.append(
                Pairing(
                    group_id=gid,
                    lead=names.get(str(g.core_id), str(g.core_id)),
                    member=names.get(m, m),
                    member_planned=status.get(m) == "planned",
                    form=(form_of or {}).get(gid, "区内共建"),
                    exchange_min=_int(getattr(g, "teacher_exchange_min", None)),
                    backbone_min=_int(getattr(g, "teacher_backbone_min", None)),
                    funding_yuan=_int(getattr(g, "funding_min_yuan", None)),
                    payer=(payer_of or {}).get(m, "县级"),
                )
            )
    return out


def set_font(run, name: str, size: float, bold: bool = False) -> None:
    """A run's font, East Asian included."""
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    # Word picks the East Asian font from w:eastAsia, not from w:ascii.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def para(
    doc, text: str, *, size: float = 12, bold=False, font=BODY_FONT, align=None, indent=True,
    spacing: float = 1.35, after: float = 4,
):  # fmt: skip
    """A body paragraph (first line indented two characters, as official documents are set)."""
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.space_after = Pt(after)
    p.paragraph_format.line_spacing = spacing
    set_font(p.add_run(text), font, size, bold)
    return p


def _fields(p: Pairing, start_year: int, cycle_years: int) -> dict[str, object]:
    member = planned_name(p.member) if p.member_planned else p.member
    return {
        "lead": p.lead,
        "member": member,
        "form": p.form,
        # The seed's title: "…学校与…学校区内结对共建协议书" (the form without its 共建).
        "form_prefix": p.form.removesuffix("共建"),
        "cycle_years": cycle_years,
        "start_year": start_year,
        "end_year": start_year + cycle_years,
        "exchange_min": "—" if p.exchange_min is None else p.exchange_min,
        "backbone_min": "—" if p.backbone_min is None else p.backbone_min,
        "funding_yuan": "—" if p.funding_yuan is None else f"{p.funding_yuan:,}",
        "payer": p.payer,
    }


def _agreement(doc, texts: dict) -> None:
    """One agreement with its {placeholders} unfilled (五号 type: one agreement fits a page)."""

    def body(text: str, **kw) -> None:
        para(doc, text, size=AGREEMENT_PT, spacing=1.15, after=1, **kw)

    def head(text: str) -> None:
        body(text, bold=True, font=TITLE_FONT, indent=False)

    para(doc, texts["title"], size=15, font=TITLE_FONT, bold=True,
         align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, after=8)  # fmt: skip
    body(texts["preamble"])
    head(texts["contents_heading"])
    for i, line in enumerate(texts["contents"], 1):
        body(f"{i}.{line}")
    head(texts["cycle"])
    head(texts["exchange_heading"])
    for i, line in enumerate(texts["exchange"], 1):
        body(f"{i}.{line}")
    head(texts["requirements_heading"])
    for i, line in enumerate(texts["requirements"], 1):
        body(f"{i}.{line}")
    body(texts["copies"])
    table = doc.add_table(rows=len(texts["signature_left"]), cols=2)
    for r, (left, right) in enumerate(
        zip(texts["signature_left"], texts["signature_right"], strict=True)
    ):
        for c, text in enumerate((left, right)):
            cell = table.cell(r, c)
            cell.paragraphs[0].paragraph_format.space_before = Pt(8)
            set_font(cell.paragraphs[0].add_run(text), BODY_FONT, AGREEMENT_PT)


def write_agreements(
    pairings: Iterable[Pairing], path: str | Path, *, start_year: int, cycle_years: int
) -> Path:
    """One .docx with one agreement per page (A4 portrait), in pairing order."""
    texts = agreement_texts()
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.4)
    sec.top_margin, sec.bottom_margin = Cm(2.2), Cm(2.0)
    # The agreement is laid out once with its placeholders, then copied and filled per pair:
    # a county's hundred pairs take a fraction of the time python-docx needs per paragraph.
    _agreement(doc, texts)
    body = doc.element.body
    end = body[-1]  # the section properties stay last
    template = [el for el in body if el is not end]
    for el in template:
        body.remove(el)
    n = 0
    for p in pairings:
        f = _fields(p, start_year, cycle_years)
        parts = [deepcopy(el) for el in template]
        if n:  # each agreement after the first starts a page (no empty paragraph to spill over)
            parts[0].get_or_add_pPr().append(OxmlElement("w:pageBreakBefore"))
        for el in parts:
            for t in el.iter(qn("w:t")):
                if t.text and "{" in t.text:
                    t.text = t.text.format(**f)
            end.addprevious(el)
        n += 1
    if not n:
        para(doc, "本方案没有结对共建学校。", indent=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def plan_pairings(result) -> list[Pairing]:
    """The plan's pairings, each with the 共建形式 the rules give its group (as 附件1 shows it)."""
    g = result.groups
    if g is None or len(g) == 0:
        return []
    params = result.rules.groups
    form_of = {
        str(gid): PAIRING_FORM.label(pairing_form(str(pat), str(mode), params), "zh")
        for gid, pat, mode in zip(g["group_id"], g["pattern"], g["mode"], strict=True)
    }
    return pairings_from_layers(g, result.schools, form_of=form_of)


def write_plan_agreements(result, out_dir: str | Path) -> Path:
    """agreements/结对共建协议书.docx beside the plan: one agreement per pair, cycle from the rules."""
    return write_agreements(
        plan_pairings(result),
        Path(out_dir) / "agreements" / FILE_NAME,
        start_year=plan_start_year(result),
        cycle_years=int(result.rules.groups.cycle_years),
    )
