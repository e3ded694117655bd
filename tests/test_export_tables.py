"""tables.xlsx (sheets, headers, formats, no formula injection) and QGIS styles in plan.gpkg."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import xml.dom.minidom
import zipfile

import openpyxl
import pandas as pd
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_export_fixture import FORMULA_NAME, XSS_NAME, make_plan
from test_grouping_rules import core, joined, make_schools, member

from app.export.styles import STYLED_LAYERS, layer_qml, write_qgis_styles
from app.export.tables import put, write_tables
from core.vocab import GROUP_ROLE, LEVEL, LEVELS
from geo.distance import StraightLine
from planning.grouping import pairing_table, pairing_table_from_layers, run_grouping
from planning.rules import GroupingParams, Standards
from store.plan import read_plan, write_plan

SHEETS = [
    "汇总",
    "结对共建安排表",
    "集团化办学",
    "新建学校",
    "学区",
    "超距离村庄",
    "学校",
    "技术说明",
]
HEAD = 3  # title row, date row, then the header


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = write_tables(make_plan(), tmp_path_factory.mktemp("x") / "tables.xlsx")
    return path, openpyxl.load_workbook(path)


def _records(ws) -> list[dict]:
    rows = list(ws.iter_rows(min_row=HEAD, values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_sheets_are_titled_numbered_and_print_on_landscape_page_width(book):
    _, wb = book
    assert wb.sheetnames == SHEETS
    for ws in wb:
        assert "示范县" in ws.cell(1, 1).value, ws.title  # title row
        assert "2025-03-01" in ws.cell(2, 1).value  # date row
        assert ws.print_title_rows == f"${HEAD}:${HEAD}"
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        if ws.title != "结对共建安排表":  # the seed's form has no 序号
            assert ws.cell(HEAD, 1).value == "序号" and ws.cell(HEAD + 1, 1).value == 1
    cz = wb["学区"]
    heads = [c.value for c in cz[HEAD]]
    assert cz.cell(HEAD + 1, heads.index("学位利用率") + 1).number_format == "0%"
    assert wb["学校"].column_dimensions["C"].width >= 20  # 学校名称 shows the names


def test_summary_sheet_has_headline_figures_and_no_raw_keys(book):
    _, wb = book
    rows = _records(wb["汇总"])
    assert {r["类别"] for r in rows} == {"现状", "规划后"}
    text = " ".join(str(v) for r in rows for v in r.values())
    assert not re.search(r"[a-z_]+\.[a-z_]+", text), "a dotted engine key on the summary sheet"
    keys = [r["项目"] for r in _records(wb["技术说明"])]
    assert "groups.coverage_pct" in keys  # the technical figures kept on their own sheet


def test_summary_sheet_words_plan_figures_each_once(book):
    """Every row of 汇总 is one figure of planning.figures, with that figure's text; none twice."""
    from planning.figures import plan_figures

    _, wb = book
    rows = _records(wb["汇总"])
    labels = [str(r["指标"]) for r in rows]
    assert len(labels) == len(set(labels))
    figures = plan_figures(make_plan())
    expected = {figures.label(k, "zh"): figures.text(k, "zh") for _, k in figures.all_keys()}
    assert {lb: str(r["数值"]).lstrip("'") for lb, r in zip(labels, rows, strict=True)} == expected


def test_annex1_in_the_seed_form_with_merged_forms(book):
    plan = make_plan()
    _, wb = book
    ws = wb["结对共建安排表"]
    assert ws.cell(1, 1).value == "示范县中小学结对共建安排表"
    assert [c.value for c in ws[HEAD]] == ["共建形式", "牵头学校", "共建学校", "共建周期"]
    rows = list(ws.iter_rows(min_row=HEAD + 1, values_only=True))
    assert len(rows) == len(plan.groups)
    # core_new → 集团校共建 (one row), core_weak → 区内共建 merged over its two rows
    assert rows[0][0] == "集团校共建" and rows[1][0] == "区内共建" and rows[2][0] is None
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert f"A{HEAD + 2}:A{HEAD + 3}" in merged
    assert all(r[3] == "3年(2025—2028)" for r in rows)
    assert sum("(待建)" in r[2] for r in rows) == 1 and "(规划)" not in str(rows)


def test_units_beyond_the_distance_limit_are_listed_with_village_and_township(book):
    plan = make_plan()
    _, wb = book
    rows = _records(wb["超距离村庄"])
    d = plan.demand
    assert len(rows) == sum(int((d[f"status_{lv}"] == "too_far").sum()) for lv in LEVELS)
    assert all(r["村庄/社区"].endswith("村") and r["乡镇(街道)"] for r in rows)
    assert all(r["最近学校(直线)"] for r in rows)


def test_group_rows_name_lead_and_members(book):
    plan = make_plan()
    _, wb = book
    rows = _records(wb["集团化办学"])
    assert list(rows[0])[1:] == [
        "集团编号", "集团模式", "牵头学校", "成员学校", "学段", "成员校数", "最远距离(公里)",
        "年度交流教师不少于(人)", "其中骨干教师不少于(人)", "年度经费不少于(元)",
        "出资", "核心校年度输出教师不少于(人)", "新建学校骨干教师不少于(人)", "结对起止年份",
    ]  # fmt: skip
    assert len(rows) == len(plan.groups)
    s = plan.schools
    names = dict(zip(s["school_id"], s["name"]))
    planned = set(s.loc[s["status"] == "planned", "school_id"])
    by_lead = {r["牵头学校"]: r for r in rows}
    for g in plan.groups.itertuples():
        r = by_lead[names[g.core_id]]
        want = [names[m] + ("(待建)" if m in planned else "") for m in g.member_ids.split(",")]
        assert r["成员学校"].split("、") == want
        assert r["集团模式"].startswith(
            "核心校+新建学校(" if g.pattern == "core_new" else "核心校+薄弱学校("
        )
        assert r["其中骨干教师不少于(人)"] == g.teacher_backbone_min
        assert r["年度经费不少于(元)"] == g.funding_min_yuan
    assert sum("(待建)" in r["成员学校"] for r in rows) == 1  # the planned primary school


def _sheet_values(path, name="集团化办学"):
    return [list(r) for r in openpyxl.load_workbook(path)[name].iter_rows(values_only=True)]


def test_groups_sheet_from_a_reread_plan_is_the_same(tmp_path):
    # export re-renders from plan.gpkg: the 附件1 form must not lose the quota or the (待建) mark.
    plan = make_plan()
    write_plan(plan, tmp_path)
    again = read_plan(tmp_path)
    a = _sheet_values(write_tables(plan, tmp_path / "a.xlsx"))
    b = _sheet_values(write_tables(again, tmp_path / "b.xlsx"))
    assert a == b
    assert _sheet_values(tmp_path / "a.xlsx", "结对共建安排表") == _sheet_values(
        tmp_path / "b.xlsx", "结对共建安排表"
    )
    body = b[HEAD:]
    assert any("(待建)" in str(r[4]) for r in body)
    assert all(r[9] == 2 for r in body)  # backbone quota read back from the groups layer
    en = _sheet_values(write_tables(again, tmp_path / "en.xlsx", lang="en"), "Groups")
    assert any(" (to be built)" in str(r[4]) for r in en[HEAD:])
    assert "(待建)" not in str(en) and "核心校" not in str(en)


def _grouped(rows, params):
    schools = make_schools(rows)
    res = run_grouping(schools, params, Standards(), costs=StraightLine())
    return schools, res


TABLE_CASE = [
    core("C", 0, 0),
    member("W", 1, 0),
    {"id": "N", "x": 2, "y": 0, "status": "planned", "location": "urban"},
    core("J", 0, 1, level="junior"),
    member("P", 0, 2),  # nearer the junior core than C: joins it across levels
    member("Q", 0.5, 1.5, level="junior", teachers=float("nan")),
]


def test_table_from_layers_equals_the_engine_table_also_after_a_gpkg_round_trip(tmp_path):
    params = dataclasses.replace(GroupingParams(), cross_level=True, max_members=2)
    schools, res = _grouped(TABLE_CASE, params)
    want = pairing_table(res, schools)
    assert want["成员学校"].str.contains("(待建)", regex=False).any()
    assert want["成员学校"].str.contains("(小学)", regex=False).any()  # cross-level member
    assert want["其中骨干教师不少于(人)"].notna().any()
    layer = joined(schools, res)
    pd.testing.assert_frame_equal(pairing_table_from_layers(res.groups, layer), want)
    # The same through plan.gpkg (pyogrio round trip: dtypes and empty strings may change).
    gpkg = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(res.groups, gpkg, layer="groups", promote_to_multi=True)
    pyogrio.write_dataframe(layer, gpkg, layer="schools")
    got = pairing_table_from_layers(
        pyogrio.read_dataframe(gpkg, layer="groups"), pyogrio.read_dataframe(gpkg, layer="schools")
    )
    pd.testing.assert_frame_equal(got, want)


def test_a_name_that_already_says_planned_is_marked_one_way():
    rows = [
        core("C", 0, 0),
        {"id": "N", "x": 1, "y": 0, "status": "planned", "name": "新区小学(规划)"},
    ]
    schools, res = _grouped(rows, GroupingParams())
    assert (
        pairing_table_from_layers(res.groups, joined(schools, res)).loc[0, "成员学校"]
        == "新区小学(待建)"
    )


def test_table_from_an_old_groups_layer_without_the_quota_column():
    schools, res = _grouped(TABLE_CASE, GroupingParams())
    old = res.groups.drop(columns="teacher_backbone_min")
    table = pairing_table_from_layers(old, joined(schools, res))
    assert table["其中骨干教师不少于(人)"].isna().all()
    assert list(table["成员学校"]) == list(pairing_table(res, schools)["成员学校"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.floats(0, 20), st.floats(0, 20), st.sampled_from(["primary", "junior"]),
            st.sampled_from(["core", "weak", "planned", "ordinary"]),
        ),
        min_size=2, max_size=14,
    ),
    st.booleans(),
)  # fmt: skip
def test_table_from_layers_equals_the_engine_table(specs, cross):
    rows = []
    for k, (x, y, lv, kind) in enumerate(specs):
        if kind == "core":
            rows.append(core(f"S{k}", x, y, level=lv))
        elif kind == "planned":
            rows.append({"id": f"S{k}", "x": x, "y": y, "level": lv, "status": "planned"})
        else:
            rows.append(member(f"S{k}", x, y, level=lv, quality=kind))
    params = dataclasses.replace(GroupingParams(), cross_level=cross)
    schools, res = _grouped(rows, params)
    pd.testing.assert_frame_equal(
        pairing_table_from_layers(res.groups, joined(schools, res)), pairing_table(res, schools)
    )


def test_formula_and_script_names_stay_text(book):
    path, wb = book
    values = [
        c for ws in wb for row in ws.iter_rows() for c in row if c.value in (FORMULA_NAME, XSS_NAME)
    ]
    assert {c.value for c in values} == {FORMULA_NAME, XSS_NAME}
    assert all(c.data_type == "s" for c in values)
    with zipfile.ZipFile(path) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert not any("<f>" in s for s in sheets), "a formula was written"


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_any_text_is_written_as_text(text):
    wb = openpyxl.Workbook()
    cell = put(wb.active, 1, 1, text)
    assert cell.data_type == "s"
    if text[0] in "=+-@":
        assert cell.quotePrefix


def test_english_headers(tmp_path):
    wb = openpyxl.load_workbook(write_tables(make_plan(), tmp_path / "t.xlsx", lang="en"))
    assert wb.sheetnames[:2] == ["Summary", "Pairing arrangement"]
    heads = [c.value for c in wb["Pairing arrangement"][HEAD]]
    assert heads == ["Form", "Lead school", "Partner schools", "Cycle"]


def test_qgis_styles_in_geopackage(tmp_path):
    plan = make_plan()
    write_plan(plan, tmp_path)
    gpkg = tmp_path / "plan.gpkg"
    # plan.gpkg always holds a townships layer (empty when the units name no township)
    assert write_qgis_styles(gpkg, plan) == 7
    assert write_qgis_styles(gpkg, plan) == 7  # idempotent: replaces, does not duplicate
    con = sqlite3.connect(gpkg)
    rows = con.execute(
        "SELECT f_table_name, f_geometry_column, styleName, styleQML, useAsDefault FROM layer_styles"
    ).fetchall()
    # One style per layer, and one per level for the zones (the first level's the default).
    assert sorted((r[0], r[2]) for r in rows) == sorted(
        [
            (t, "SchoolPlan")
            for t in ("boundary", "demand", "groups", "new_schools", "schools", "townships")
        ]
        + [("catchments", f"SchoolPlan {LEVEL.label(lv)}") for lv in LEVELS]
    )
    defaults = {r[0]: r[2] for r in rows if r[4] == 1}
    assert len(defaults) == 7 and defaults["catchments"] == "SchoolPlan 小学"
    for _, geom, _, qml, _ in rows:
        assert geom
        xml.dom.minidom.parseString(qml.split(">", 1)[1])  # well-formed after the DOCTYPE
    assert con.execute(
        "SELECT data_type FROM gpkg_contents WHERE table_name='layer_styles'"
    ).fetchone() == ("attributes",)
    schools_qml = next(r[3] for r in rows if r[0] == "schools")
    doc = xml.dom.minidom.parseString(schools_qml.split(">", 1)[1])
    aliases = {
        e.getAttribute("field"): e.getAttribute("name") for e in doc.getElementsByTagName("alias")
    }
    assert aliases["name"] == "学校名称" and aliases["layout_status"] == "布局规划"
    value_maps = {
        f.getAttribute("name"): {
            o.getAttribute("value"): o.getAttribute("name")
            for o in f.getElementsByTagName("Option")
            if o.getAttribute("value")
        }
        for f in doc.getElementsByTagName("field")
    }
    assert value_maps["level"] == {lv: LEVEL.label(lv) for lv in LEVELS}
    assert value_maps["group_role"]["core"] == GROUP_ROLE.label("core")


def _qml(layer, lang, level="junior"):
    return xml.dom.minidom.parseString(layer_qml(layer, lang, level).split(">", 1)[1])


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("layer", STYLED_LAYERS)
def test_qgis_templates_filled_with_symbols_and_vocabulary_labels(layer, lang):
    qml = layer_qml(layer, lang, "junior")
    assert "$" not in qml and "<!--" not in qml and "\n" not in qml
    doc = _qml(layer, lang)
    labels = [
        e.getAttribute("label")
        for tag in ("category", "rule")
        for e in doc.getElementsByTagName(tag)
    ]
    if layer == "schools":
        levels = [
            LEVEL.label(lv, lang).capitalize() if lang == "en" else LEVEL.label(lv) for lv in LEVELS
        ]
        assert labels[:3] == levels
        # cores distinct from members; the layout decisions marked
        assert labels[3] == (
            GROUP_ROLE.label("core", lang).capitalize() if lang == "en" else "核心校"
        )
        filters = [e.getAttribute("filter") for e in doc.getElementsByTagName("rule")]
        assert any("to_merge" in f for f in filters) and any("transitional" in f for f in filters)
    if layer == "catchments":
        top = doc.getElementsByTagName("rule")[0]
        assert top.getAttribute("filter") == "\"level\" = 'junior'"  # one level per style
        assert len(top.getElementsByTagName("rule")) == 6  # five utilisation bands + over capacity
    if layer == "demand":
        assert all(
            '"status_junior"' in e.getAttribute("filter") for e in doc.getElementsByTagName("rule")
        )
        assert labels[0].startswith(
            LEVEL.label("junior", lang).capitalize() if lang == "en" else "初中"
        )


def test_coded_cells_use_the_vocabulary_and_blank_for_ungrouped(book):
    _, wb = book
    rows = list(wb["学校"].iter_rows(min_row=HEAD, values_only=True))
    col = {h: i for i, h in enumerate(rows[0])}
    levels = {r[col["学段"]] for r in rows[1:]}
    roles = {r[col["集团角色"]] for r in rows[1:]}
    assert levels <= set(LEVEL.labels("zh").values())
    assert roles <= {GROUP_ROLE.label("core"), GROUP_ROLE.label("member"), None, ""}
    assert GROUP_ROLE.label("none") not in roles
