"""tables.xlsx (sheets, headers, formats, no formula injection) and QGIS styles in plan.gpkg."""

from __future__ import annotations

import dataclasses
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

SHEETS = ["summary", "groups", "new_schools", "catchments", "schools"]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = write_tables(make_plan(), tmp_path_factory.mktemp("x") / "tables.xlsx")
    return path, openpyxl.load_workbook(path)


def test_sheets_headers_frozen_rows(book):
    _, wb = book
    assert wb.sheetnames == SHEETS
    groups = wb["groups"]
    assert [c.value for c in groups[1][:3]] == ["共建形式", "牵头学校", "成员学校"]
    for ws in wb:
        assert ws.freeze_panes == "A2"
    cz = wb["catchments"]
    heads = [c.value for c in cz[1]]
    util = heads.index("学位利用率") + 1
    assert cz.cell(2, util).number_format == "0%"
    assert wb["schools"].column_dimensions["B"].width >= 20


def test_group_rows_name_lead_and_members(book):
    plan = make_plan()
    _, wb = book
    heads = [c.value for c in wb["groups"][1]]
    assert heads[3:] == [
        "集团编号", "学段", "成员校数", "最远距离(公里)", "年度交流教师不少于(人)",
        "其中骨干教师不少于(人)", "年度经费不少于(元)",
        "出资", "核心校年度输出教师不少于(人)", "新建学校骨干教师不少于(人)", "结对起止年份",
    ]  # fmt: skip
    rows = list(wb["groups"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(plan.groups)
    s = plan.schools
    names = dict(zip(s["school_id"], s["name"]))
    planned = set(s.loc[s["status"] == "planned", "school_id"])
    by_lead = {r[1]: r for r in rows}
    for g in plan.groups.itertuples():
        r = by_lead[names[g.core_id]]
        want = [names[m] + ("(待建)" if m in planned else "") for m in g.member_ids.split(",")]
        assert r[2].split("、") == want
        assert r[0].startswith(
            "核心校+新建学校(" if g.pattern == "core_new" else "核心校+薄弱学校("
        )
        assert r[heads.index("其中骨干教师不少于(人)")] == g.teacher_backbone_min
        assert r[heads.index("年度经费不少于(元)")] == g.funding_min_yuan
    assert sum("(待建)" in r[2] for r in rows) == 1  # the planned primary school


def _sheet_values(path, name="groups"):
    return [list(r) for r in openpyxl.load_workbook(path)[name].iter_rows(values_only=True)]


def test_groups_sheet_from_a_reread_plan_is_the_same(tmp_path):
    # export re-renders from plan.gpkg: the 附件1 form must not lose the quota or the (待建) mark.
    plan = make_plan()
    write_plan(plan, tmp_path)
    again = read_plan(tmp_path)
    a = _sheet_values(write_tables(plan, tmp_path / "a.xlsx"))
    b = _sheet_values(write_tables(again, tmp_path / "b.xlsx"))
    assert a == b
    assert any("(待建)" in str(r[2]) for r in b[1:])
    assert all(r[8] == 2 for r in b[1:])  # backbone quota read back from the groups layer
    en = _sheet_values(write_tables(again, tmp_path / "en.xlsx", lang="en"))
    assert any(" (to be built)" in str(r[2]) for r in en[1:])
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


def test_a_name_that_already_says_planned_gets_no_second_mark():
    rows = [
        core("C", 0, 0),
        {"id": "N", "x": 1, "y": 0, "status": "planned", "name": "新区小学(规划)"},
    ]
    schools, res = _grouped(rows, GroupingParams())
    assert (
        pairing_table_from_layers(res.groups, joined(schools, res)).loc[0, "成员学校"]
        == "新区小学(规划)"
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
    assert [c.value for c in wb["groups"][1][:3]] == ["Form", "Lead school", "Member schools"]


def test_qgis_styles_in_geopackage(tmp_path):
    plan = make_plan()
    write_plan(plan, tmp_path)
    gpkg = tmp_path / "plan.gpkg"
    assert write_qgis_styles(gpkg, plan) == 6
    assert write_qgis_styles(gpkg, plan) == 6  # idempotent: replaces, does not duplicate
    con = sqlite3.connect(gpkg)
    rows = con.execute(
        "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault FROM layer_styles"
    ).fetchall()
    assert sorted(r[0] for r in rows) == [
        "boundary",
        "catchments",
        "demand",
        "groups",
        "new_schools",
        "schools",
    ]
    for _, geom, qml, default in rows:
        assert geom and default == 1
        xml.dom.minidom.parseString(qml.split(">", 1)[1])  # well-formed after the DOCTYPE
    assert con.execute(
        "SELECT data_type FROM gpkg_contents WHERE table_name='layer_styles'"
    ).fetchone() == ("attributes",)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("layer", STYLED_LAYERS)
def test_qgis_templates_filled_with_symbols_and_vocabulary_labels(layer, lang):
    qml = layer_qml(layer, lang, "junior")
    assert "$" not in qml and "<!--" not in qml and "\n" not in qml
    doc = xml.dom.minidom.parseString(qml.split(">", 1)[1])
    labels = [
        e.getAttribute("label")
        for tag in ("category", "rule")
        for e in doc.getElementsByTagName(tag)
    ]
    if layer == "schools":
        assert labels == [
            LEVEL.label(lv, lang).capitalize() if lang == "en" else LEVEL.label(lv) for lv in LEVELS
        ]
    if layer == "demand":
        assert all(
            '"status_junior"' in e.getAttribute("filter") for e in doc.getElementsByTagName("rule")
        )
        assert labels[0].startswith(
            LEVEL.label("junior", lang).capitalize() if lang == "en" else "初中"
        )


def test_coded_cells_use_the_vocabulary_and_blank_for_ungrouped(book):
    _, wb = book
    rows = list(wb["schools"].iter_rows(values_only=True))
    col = {h: i for i, h in enumerate(rows[0])}
    levels = {r[col["学段"]] for r in rows[1:]}
    roles = {r[col["集团角色"]] for r in rows[1:]}
    assert levels <= set(LEVEL.labels("zh").values())
    assert roles <= {GROUP_ROLE.label("core"), GROUP_ROLE.label("member"), None, ""}
    assert GROUP_ROLE.label("none") not in roles
