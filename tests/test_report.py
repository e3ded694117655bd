"""report.docx and the agreements written by export_all: chapters, figures, annexes, one per pair."""

from __future__ import annotations

import pytest
from docx import Document
from test_export_fixture import make_plan

from app.export import export_all
from app.export import figures_text as ft
from app.export.agreements import plan_pairings
from app.export.report import CHAPTERS


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    plan = make_plan()
    return plan, export_all(plan, out, formats=("png", "docx"), paper="A4")


def test_report_has_the_chapters_of_a_layout_plan_and_the_map(written):
    plan, files = written
    doc = Document(files["report"])
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading 1")]
    assert heads == list(CHAPTERS)
    assert len(doc.inline_shapes) == 1  # map.png of the same run
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "示范县学校布局规划报告" in text


def test_report_figures_are_the_headline_figures(written):
    plan, files = written
    doc = Document(files["report"])
    cells = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    for f in ft.headline(plan):
        assert ft.fmt(f) in cells or ft.fmt(f) in "\n".join(p.text for p in doc.paragraphs), f
    # the new school with the rule behind it
    assert "城南新区小学" in cells
    assert any("每1万人设18-24班小学" in c for c in cells)


def test_report_annex1_merges_the_form_over_its_rows(written):
    _, files = written
    annex = Document(files["report"]).tables[-1]
    assert [c.text for c in annex.rows[0].cells] == ["共建形式", "牵头学校", "共建学校", "共建周期"]
    col = [c.text for c in annex.columns[0].cells][1:]
    assert col == ["集团校共建", "区内共建", "区内共建"]  # merged cells repeat their text
    assert annex.cell(2, 0)._tc is annex.cell(3, 0)._tc


def test_one_agreement_per_pair_beside_the_plan(written):
    plan, files = written
    path = files["agreements"]
    assert path.parent.name == "agreements" and path.name == "结对共建协议书.docx"
    pairs = sum(len(m.split(",")) for m in plan.groups["member_ids"])
    assert len(plan_pairings(plan)) == pairs
    doc = Document(path)
    titles = [p.text for p in doc.paragraphs if p.text.endswith("结对共建协议书")]
    assert len(titles) == pairs
    assert sum("集团校结对共建协议书" in t for t in titles) == 3  # core_new group: 集团校共建
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "二、共建周期:3年(2025年9月至2028年8月)" in text  # plan year 2025, rules cycle 3
