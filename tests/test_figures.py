"""Every headline figure is computed once (planning.figures) and every output shows that value:
summary.json, tables.xlsx, compare.xlsx and the window's overview, on the planned sample county."""

from __future__ import annotations

import html
import json
import re
from types import SimpleNamespace

import openpyxl
import pytest

from planning.figures import HEADLINE, plan_figures

pytestmark = pytest.mark.slow  # plans the sample county

# compare.xlsx row (planning.compare.metric_specs key) → the figure it shows
COMPARE = {
    "groups": "groups",
    "coverage_pct": "coverage_pct",
    "members_unplaced": "members_not_placed",
    "over_capacity_now": "over_capacity_now",
    "oversized_now": "oversized_now",
    "over_capacity": "over_capacity_after",
    "oversized": "oversized_after",
    "funding_min_yuan": "funding_min_yuan",
    "served_primary": "placed_primary",
    "too_far_junior": "too_far_junior",
    "no_capacity_senior": "no_place_senior",
    "mean_km_primary": "mean_km_primary",
    "p95_km_junior": "p95_km_junior",
    "max_km_senior": "max_km_senior",
    "new_schools_junior": "new_schools_junior",
    "new_classes_senior": "new_classes_senior",
}


@pytest.fixture(scope="module")
def figures(sample_plan):
    result, _ = sample_plan
    return plan_figures(result)


def test_summary_json_holds_the_figures(sample_plan, figures):
    _, out = sample_plan
    saved = json.loads((out / "summary.json").read_text(encoding="utf-8"))["figures"]
    assert saved == json.loads(json.dumps(figures.to_dict()))
    # read back from disk, the plan gives the same figures
    from store.plan import read_plan

    again = plan_figures(read_plan(out))
    for key in figures.keys():
        assert again.value(key) == pytest.approx(figures.value(key)), key


def test_tables_xlsx_shows_the_same_figures(sample_plan, figures, tmp_path):
    from app.export.tables import write_tables

    result, _ = sample_plan
    ws = openpyxl.load_workbook(write_tables(result, tmp_path / "t.xlsx"))["汇总"]
    head = [c.value for c in ws[3]]
    at_label, at_value = head.index("指标"), head.index("数值")
    cells = {
        str(r[at_label]).lstrip("'"): r[at_value]
        for r in ws.iter_rows(min_row=4, values_only=True)
        if r[at_label] is not None
    }
    for key, label, _value, _unit in figures.rows("zh"):
        shown = cells.get(label, cells.get(f"{label} (%)"))
        assert str(shown).lstrip("'") == figures.text(key, "zh"), key
    # the coverage's definition is beside its value, not on a row of its own
    assert figures.coverage_text("zh") in str(cells[figures.label("coverage_pct", "zh")])
    assert not [k for k in cells if k.endswith("口径")]


def _number(text: str) -> float:
    """The leading number of a summary cell ("56,034", "92.9 %", "2.36 km", "77.8 % (…)")."""
    m = re.match(r"-?[\d,]+(\.\d+)?", text)
    assert m, text
    return float(m.group(0).replace(",", ""))


def test_summary_sheet_is_plan_figures_once_each(sample_plan, figures, tmp_path):
    """Issue 17: every number on 汇总 is the plan_figures value of its row, and no label (so
    no figure) is shown twice."""
    from app.export.tables import write_tables

    result, _ = sample_plan
    ws = openpyxl.load_workbook(write_tables(result, tmp_path / "t.xlsx"))["汇总"]
    head = [c.value for c in ws[3]]
    at_label, at_value = head.index("指标"), head.index("数值")
    rows = [
        (str(r[at_label]).lstrip("'"), str(r[at_value]).lstrip("'"))
        for r in ws.iter_rows(min_row=4, values_only=True)
        if r[at_label] is not None
    ]
    labels = [label for label, _ in rows]
    assert len(labels) == len(set(labels)), [x for x in labels if labels.count(x) > 1]
    by_label = dict(rows)
    keys = [key for _, key in figures.all_keys()]
    assert set(by_label) == {figures.label(k, "zh") for k in keys}
    assert len(keys) == len(set(keys))
    for key in keys:
        shown, value = by_label[figures.label(key, "zh")], figures.value(key)
        if value is None:
            assert shown == "—", key
            continue
        decimals = len(shown.split(" ")[0].partition(".")[2])
        assert _number(shown) == pytest.approx(round(value, decimals)), key
    # the figures the old sheet showed twice (its own and planning.figures') are there once
    assert sum("教育集团" in lb and "数" in lb for lb in labels) == 1
    assert sum("覆盖率" in lb and "目标" not in lb for lb in labels) == 1
    assert sum(lb.startswith("小学新建学校") for lb in labels) == 1


def test_compare_xlsx_shows_the_same_figures(sample_plan, figures, tmp_path):
    from app.compare_report import write_compare_xlsx
    from planning.compare import compare_plans, metric_specs
    from store.plan import read_plan

    result, out = sample_plan
    cmp = compare_plans([("a", result), ("b", read_plan(out))])
    wb = openpyxl.load_workbook(write_compare_xlsx(cmp, tmp_path / "c.xlsx"))
    ws = wb.worksheets[0]
    labels = {s.label("zh"): s.key for s in metric_specs(list(figures.levels))}
    seen = {}
    for row in ws.iter_rows(min_row=5, values_only=True):
        key = labels.get(str(row[0]).lstrip("'"))
        if key in COMPARE:
            seen[key] = (row[3], row[4])
    assert set(seen) == set(COMPARE)
    for key, fkey in COMPARE.items():
        assert seen[key][0] == pytest.approx(figures.value(fkey)), key
        assert seen[key][1] == pytest.approx(figures.value(fkey)), key


def test_the_overview_shows_the_same_figures(sample_plan, sample_layers, figures):
    from app.gui.summary import summary_html

    result, _ = sample_plan
    doc = SimpleNamespace(layers=sample_layers[0], result=result)
    page = summary_html(doc, "zh")
    for key in HEADLINE:
        cell = f"{html.escape(figures.label(key, 'zh'))}</td><td align='right'><b>"
        assert cell + html.escape(figures.text(key, "zh")) + "</b>" in page, key
    for lv in figures.levels:  # the level rows are the figures module's too
        for code in ("mean_km", "too_far", "no_place"):
            key = f"{code}_{lv}"
            cell = f"{html.escape(figures.label(key, 'zh'))}</td><td align='right'><b>"
            assert cell + html.escape(figures.text(key, "zh")) + "</b>" in page, key
    assert "126 / 162 所开办学校" in figures.text("coverage_pct", "zh")


def test_coverage_is_one_value_everywhere(sample_plan, figures):
    """The issue's case: 86.9 %, 72.4 % and 77.8 % were three definitions of one figure."""
    result, _ = sample_plan
    g = result.summary["groups"]
    assert figures.coverage_pct == g["coverage_pct"]
    assert (figures.in_groups, figures.coverage_base) == (g["in_groups"], g["coverage_base"])
    # open schools of the grouped levels: existing ones not marked to merge, plus new ones
    s = result.schools
    open_ = s[s["layout_status"] != "to_merge"]
    assert figures.coverage_base == len(open_)
    assert figures.in_groups == int(open_["group_role"].isin(["core", "member"]).sum())
    assert figures.coverage_pct == round(100 * figures.in_groups / figures.coverage_base, 1)
