"""附件2: the pairing agreement (结对共建协议书) each lead and member school sign, one per page.

The wording is seed 003's 附件2 (a county may edit resources/documents/agreement_zh.toml); the
schools, cycle years, exchange quotas and funding floor are filled from the plan, so the
agreements and the pairing table (附件1) always say the same thing.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources as ilr
from pathlib import Path

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

BODY_FONT = "宋体"
TITLE_FONT = "黑体"


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
    text = ilr.files("resources").joinpath("documents", "agreement_zh.toml").read_text("utf-8")
    return tomllib.loads(text)


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


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    # Word picks the East Asian font from w:eastAsia, not from w:ascii.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _para(doc, text: str, *, size: float = 12, bold=False, font=BODY_FONT, align=None, indent=True):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    p.paragraph_format.space_after = Pt(4)
    p.paragraph_format.line_spacing = 1.35
    _font(p.add_run(text), font, size, bold)
    return p


def _fields(p: Pairing, start_year: int, cycle_years: int) -> dict[str, object]:
    member = p.member + ("(待建)" if p.member_planned else "")
    return {
        "lead": p.lead,
        "member": member,
        "form": p.form,
        "cycle_years": cycle_years,
        "start_year": start_year,
        "end_year": start_year + cycle_years,
        "exchange_min": "—" if p.exchange_min is None else p.exchange_min,
        "backbone_min": "—" if p.backbone_min is None else p.backbone_min,
        "funding_yuan": "—" if p.funding_yuan is None else f"{p.funding_yuan:,}",
        "payer": p.payer,
    }


def _agreement(doc, p: Pairing, texts: dict, start_year: int, cycle_years: int) -> None:
    f = _fields(p, start_year, cycle_years)
    _para(doc, texts["title"].format(**f), size=16, font=TITLE_FONT, bold=True,
          align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)  # fmt: skip
    _para(doc, texts["preamble"].format(**f))
    _para(doc, texts["contents_heading"], bold=True, font=TITLE_FONT, indent=False)
    for i, line in enumerate(texts["contents"], 1):
        _para(doc, f"{i}.{line.format(**f)}")
    _para(doc, texts["cycle"].format(**f), bold=True, font=TITLE_FONT, indent=False)
    _para(doc, texts["exchange_heading"], bold=True, font=TITLE_FONT, indent=False)
    for i, line in enumerate(texts["exchange"], 1):
        _para(doc, f"{i}.{line.format(**f)}")
    _para(doc, texts["requirements_heading"], bold=True, font=TITLE_FONT, indent=False)
    for i, line in enumerate(texts["requirements"], 1):
        _para(doc, f"{i}.{line.format(**f)}")
    _para(doc, texts["copies"])
    table = doc.add_table(rows=len(texts["signature_left"]), cols=2)
    for r, (left, right) in enumerate(
        zip(texts["signature_left"], texts["signature_right"], strict=True)
    ):
        for c, text in enumerate((left, right)):
            cell = table.cell(r, c)
            cell.paragraphs[0].paragraph_format.space_before = Pt(10)
            _font(cell.paragraphs[0].add_run(text.format(**f)), BODY_FONT, 12)


def write_agreements(
    pairings: Iterable[Pairing], path: str | Path, *, start_year: int, cycle_years: int
) -> Path:
    """One .docx with one agreement per page (A4 portrait), in pairing order."""
    texts = agreement_texts()
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin = sec.right_margin = Cm(2.6)
    sec.top_margin, sec.bottom_margin = Cm(3.0), Cm(2.5)
    first = True
    for p in pairings:
        if not first:
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _agreement(doc, p, texts, start_year, cycle_years)
        first = False
    if first:
        _para(doc, "本方案没有结对共建学校。", indent=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path
