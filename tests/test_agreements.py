"""附件2 agreements: one per core–member pair, filled from the plan, readable by python-docx."""

from __future__ import annotations

import pandas as pd
from docx import Document

from app.export.agreements import agreement_texts, pairings_from_layers, write_agreements


def _layers():
    groups = pd.DataFrame(
        {
            "group_id": ["G002", "G001"],
            "core_id": ["C2", "C1"],
            "member_ids": ["M3", "M1,M2"],
            "teacher_exchange_min": [4, 9],
            "teacher_backbone_min": [2, float("nan")],
            "funding_min_yuan": [300000, 700000],
        }
    )
    schools = pd.DataFrame(
        {
            "school_id": ["C1", "C2", "M1", "M2", "M3"],
            "name": ["一中", "二中", "甲村小学", "乙村小学", "新区小学"],
            "status": ["existing", "existing", "existing", "existing", "planned"],
        }
    )
    return groups, schools


def test_one_pairing_per_member_in_group_order():
    ps = pairings_from_layers(*_layers())
    assert [(p.group_id, p.lead, p.member) for p in ps] == [
        ("G001", "一中", "甲村小学"),
        ("G001", "一中", "乙村小学"),
        ("G002", "二中", "新区小学"),
    ]
    assert ps[2].member_planned and not ps[0].member_planned
    assert ps[0].backbone_min is None and ps[2].backbone_min == 2


def test_document_has_one_agreement_per_page(tmp_path):
    ps = pairings_from_layers(*_layers())
    path = write_agreements(ps, tmp_path / "结对共建协议书.docx", start_year=2026, cycle_years=3)
    doc = Document(path)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert text.count("结对共建协议书") == 3
    assert "一中与甲村小学区内结对共建协议书" in text  # the seed's title: 区内共建 by default
    assert "新区小学(待建)" in text  # planned schools marked one way, as in 附件1
    assert "二、共建周期:3年(2026年9月至2029年8月)" in text
    # the six 共建 contents of seed 003 附件2, in every agreement
    assert text.count("校园文化共建") == 3
    assert len(agreement_texts()["contents"]) == 6
    breaks = sum(p.paragraph_format.page_break_before is True for p in doc.paragraphs)
    assert breaks == 2
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "牵头学校(盖章):一中" in cells and "共建学校(盖章):甲村小学" in cells
