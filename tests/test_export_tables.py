"""tables.xlsx (sheets, headers, formats, no formula injection) and QGIS styles in plan.gpkg."""

from __future__ import annotations

import sqlite3
import xml.dom.minidom
import zipfile

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_export_fixture import FORMULA_NAME, XSS_NAME, make_plan

from app.export.styles import write_qgis_styles
from app.export.tables import put, write_tables
from planning.outputs import write_plan

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
    rows = list(wb["groups"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(plan.groups)
    names = dict(zip(plan.schools["school_id"], plan.schools["name"]))
    by_lead = {r[1]: r for r in rows}
    for g in plan.groups.itertuples():
        r = by_lead[names[g.core_id]]
        assert r[2].split("、") == [names[m] for m in g.member_ids.split(",")]
        assert r[-1] == g.funding_min_yuan


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
