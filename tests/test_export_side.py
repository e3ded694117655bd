"""The HTML map and the tables written in a forked process beside the print map give the same
files as one after the other, and an error there reaches the caller with its message."""

from __future__ import annotations

import hashlib
import re

import openpyxl
import pytest
from test_export_fixture import make_plan

from app.export import export_all
from app.export.side import can_fork, start_beside
from core.errors import SchoolPlanError


@pytest.fixture(autouse=True)
def _forkable():
    if not can_fork():  # at run time: GUI tests before may have left threads
        pytest.skip("no safe fork here (threads in the process, or one core)")


def _cells(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb}


def test_forked_side_stages_write_the_same_files(tmp_path):
    plan = make_plan((12, 4, 2), size_km=20, zone_vertices=20)
    formats = ("html", "png", "xlsx")
    one = export_all(plan, tmp_path / "one", formats=formats, parallel=False)
    timings: dict[str, float] = {}
    two = export_all(plan, tmp_path / "two", formats=formats, parallel=True, timings=timings)
    assert set(one) == set(two) and {"html", "xlsx", "print"} <= set(timings)
    assert two["html"].parent == tmp_path / "two"

    def text(p):  # folium names its map element with a random id
        return re.sub(r"map_[0-9a-f]{32}", "map_", p.read_text(encoding="utf-8"))

    assert (
        hashlib.sha1(text(one["html"]).encode()).digest()
        == hashlib.sha1(text(two["html"]).encode()).digest()
    )
    assert _cells(one["xlsx"]) == _cells(two["xlsx"])


def test_an_error_beside_comes_back_with_its_message():
    def fails():
        raise SchoolPlanError("tables.xlsx is open in Excel", fix="close it and export again")

    with pytest.raises(SchoolPlanError, match="open in Excel") as err:
        start_beside(fails)()
    assert err.value.fix == "close it and export again"

    def crashes():
        raise ValueError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        start_beside(crashes)()
