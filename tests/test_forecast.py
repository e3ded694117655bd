"""forecast.xlsx / forecast.png, the ``forecast`` command and ``plan --year``, through
``app.cli.main``."""

from __future__ import annotations

import json

import numpy as np
import pyogrio
import pytest
from openpyxl import load_workbook
from PIL import Image

from app.cli import main
from app.cli.forecast import apply_year, year_overrides
from app.export.forecast import write_forecast
from planning.pipeline import for_plan_year, run_plan
from planning.projection.engine import run_projection
from planning.schedule import phased_schedule
from store.scenario import load_scenario


@pytest.fixture(scope="module")
def projection(sample_layers):
    layers, rules, _ = sample_layers
    return run_projection(layers.units, layers.schools, rules.projection, rules.standards)


def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def _year_cols(header: tuple) -> list[int]:
    return [i for i, h in enumerate(header) if h and str(h)[:4].isdigit() and "较" not in str(h)]


def test_forecast_files_agree_with_the_projection(sample_layers, sample_plan, projection, tmp_path):
    layers, rules, _ = sample_layers
    plan, _ = sample_plan
    schedule = phased_schedule(plan, projection, rules)
    files = write_forecast(
        projection,
        layers.units,
        tmp_path,
        params=rules.projection,
        plan=plan,
        schedule=schedule,
        title="道县",
    )
    wb = load_workbook(files["xlsx"])
    sheets = ["全县", "分乡镇", "分学区", "分村社区", "预测参数", "分期实施", "分年班级"]
    assert wb.sheetnames == sheets
    steps = _rows(wb["分期实施"])
    assert len(steps) == len(schedule.steps) + 1
    assert {r[3] for r in steps[1:]} == {"新建", "撤并", "过渡性保留"}
    classes = _rows(wb["分年班级"])
    assert classes[1][5].split()[1] in {"扩班", "维持", "减班"}
    county = _rows(wb["全县"])
    assert county[0][1] == "2024(现状)" and county[0][-1] == "2035年较现状"
    assert [r[0] for r in county[1:]] == ["小学", "初中", "高中"]
    totals = projection.totals()
    cols = _year_cols(county[0])
    np.testing.assert_allclose([[r[c] for c in cols] for r in county[1:]], totals.T.to_numpy())
    # Townships and zones each add up to the county, every year and level.
    for sheet, level_col in (("分乡镇", 1), ("分学区", 0)):
        rows = _rows(wb[sheet])
        cols = _year_cols(rows[0])
        for i, zh in enumerate(["小学", "初中", "高中"]):
            sums = np.sum([[r[c] for c in cols] for r in rows[1:] if r[level_col] == zh], axis=0)
            np.testing.assert_allclose(sums, totals.iloc[:, i].to_numpy())
    zones = _rows(wb["分学区"])
    served = {str(s) for s in plan.schools["school_id"]}
    assert {r[1] for r in zones[1:]} <= served | {"(无学位)"}
    params = _rows(wb["预测参数"])
    assert ("全国出生人口 2016 年", 17.86) in [r[:2] for r in params]
    img = Image.open(files["png"])
    assert img.size[0] > 2000 and img.size[1] > 1200
    pixels = np.asarray(img.convert("L"))
    assert (pixels < 128).mean() > 0.005  # lines and labels were drawn


def test_forecast_command_writes_both_files(sample_project, tmp_path, capsys):
    argv = ["forecast", str(sample_project), "--to", "2033", "--out", str(tmp_path), "--no-zones"]
    assert main(argv) == 0
    assert (tmp_path / "forecast.xlsx").is_file() and (tmp_path / "forecast.png").is_file()
    wb = load_workbook(tmp_path / "forecast.xlsx")
    assert "分学区" not in wb.sheetnames
    assert wb["全县"].cell(1, 11).value == "2033"
    assert "分期实施" not in wb.sheetnames
    assert "forecast.png" in capsys.readouterr().out


def test_forecast_command_refuses_bad_rules(sample_project, tmp_path, capsys):
    assert main(["forecast", str(sample_project), "--to", "2020", "--out", str(tmp_path)]) == 2
    assert "horizon" in capsys.readouterr().err
    assert not (tmp_path / "forecast.xlsx").exists()


def test_plan_year_rules(sample_layers):
    layers, rules, _ = sample_layers
    assert apply_year(rules, None) is rules
    r35 = apply_year(rules, 2035)
    assert r35.projection.plan_year == 2035 and r35.projection.with_schedule
    assert for_plan_year(layers, rules) == (layers, rules)
    l35, s35 = for_plan_year(layers, r35)
    assert s35.standards.class_size_primary == 40 and s35.groups == rules.groups
    assert l35.units["students_primary"].sum() < 0.6 * (layers.units["population"].sum() * 0.085)
    assert year_overrides({"groups": {"radius_km": "9"}}, 2030) == {
        "groups": {"radius_km": "9"},
        "projection": {"plan_year": "2030"},
    }
    with pytest.raises(Exception, match="plan_year 2040"):
        apply_year(rules, 2040)


def test_plan_year_through_the_cli(sample_project, sample_plan, tmp_path, capsys):
    """``plan --year 2030``: that year's children and class sizes, and the phased schedule in
    plan.gpkg (layer schedule) and tables.xlsx (sheet 分期实施)."""
    base, _ = sample_plan
    out = tmp_path / "p2030"
    argv = ["plan", str(sample_project), "--year", "2030", "--out", str(out), "--formats", "xlsx"]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["rules"]["projection"]["plan_year"] == 2030
    assert summary["rules"]["standards"]["class_size_primary"] == 45  # near term, 建标109-2008
    students = {lv: summary["catchments"][lv]["students"] for lv in ("primary", "junior")}
    base_students = {lv: base.summary["catchments"][lv]["students"] for lv in students}
    assert students["primary"] < 0.85 * base_students["primary"]
    layers = {name for name, _ in pyogrio.list_layers(out / "plan.gpkg")}
    assert {"schedule", "schedule_classes"} <= layers
    steps = pyogrio.read_dataframe(out / "plan.gpkg", layer="schedule")
    assert set(steps["action"]) <= {"build", "close", "transitional"} and len(steps)
    assert steps.geometry.notna().all()
    wb = load_workbook(out / "tables.xlsx")
    ws = wb["分期实施"]  # a sheet like the others: title, date, 序号, header, print setup
    assert "分期实施计划表" in ws["A1"].value and "编制日期" in ws["A2"].value
    assert [c.value for c in ws[3]][:4] == ["序号", "措施", "年份", "分期"]
    assert ws.max_row == len(steps) + 3 and ws.cell(ws.max_row, 1).value == len(steps)
    assert ws.print_title_rows == "$3:$3" and ws.page_setup.orientation == "landscape"
    shown = [r[1] for r in ws.iter_rows(min_row=4, values_only=True)]
    assert shown == sorted(shown, key=["新建", "撤并", "过渡性保留"].index)  # builds first
    assert wb.sheetnames.index("分期实施") == wb.sheetnames.index("技术说明") - 1
    # The plan of the data as it is has no schedule: its outputs are as before.
    assert base.schedule is None


def test_plan_2035_needs_no_primary_school_2030_did_not(sample_layers):
    """Issue 19: fewer children by 2035, so no new primary school beyond 2030's (the county seat
    grows by urbanisation, but the sample's seat keeps within the places planned for 2030)."""
    layers, rules, _ = sample_layers
    new = {}
    for year in (2030, 2035):
        result = run_plan(layers, apply_year(rules, year))
        ns = result.new_schools
        new[year] = set(ns.loc[ns["level"] == "primary", "unit_id"].astype(str))
    assert new[2035] <= new[2030]


def test_forecast_command_reads_a_birth_table(sample_project, tmp_path, capsys):
    good = tmp_path / "births.csv"
    rows = ["乡镇,年份,出生人数"] + [
        f"濂溪街道,{y},{300 - 10 * (y - 2007)}" for y in range(2007, 2025)
    ]
    good.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["forecast", str(sample_project), "--out", str(out), "--no-zones", "--births"]
    assert main([*argv, str(good)]) == 0
    assert (out / "forecast.xlsx").is_file()
    bad = tmp_path / "bad.csv"
    bad.write_text("乡镇,年份,出生人数\n濂溪街道,2020,5\n濂溪街道,2021,-3\n", encoding="utf-8")
    capsys.readouterr()
    assert main([*argv, str(bad)]) == 2
    err = capsys.readouterr().err
    assert "row 3" in err and "negative" in err


def test_forecast_command_takes_zones_from_a_saved_plan(sample_project, sample_plan, tmp_path):
    _, plan_dir = sample_plan
    argv = ["forecast", str(sample_project), "--out", str(tmp_path), "--plan", str(plan_dir)]
    assert main([*argv, "--lang", "en"]) == 0
    wb = load_workbook(tmp_path / "forecast.xlsx")
    assert wb.sheetnames == [
        "County", "Townships", "Zones", "Units", "Parameters", "Phasing", "Classes",
    ]  # fmt: skip
    assert wb["County"].cell(1, 2).value == "2024 (data)"
    assert {r[3] for r in wb["Phasing"].iter_rows(min_row=2, values_only=True)} == {
        "build", "close / merge", "keep as transitional",
    }  # fmt: skip


def test_scenario_save_year_keeps_the_plan_year(sample_project, sample_plan, tmp_path, capsys):
    argv = ["scenario", "save", str(sample_project), "--name", "2035年", "--year", "2035"]
    assert main([*argv, "--groups.radius-km", "15", "--out", str(tmp_path / "sc")]) == 0
    sc = load_scenario(tmp_path / "sc")
    assert sc.rules.projection.plan_year == 2035 and sc.rules.groups.radius_km == 15
    # Saved with the plan of 2035's children (the scenario keeps its input rules: planning it
    # again applies the year again).
    students = sc.result.summary["catchments"]["primary"]["students"]
    base = sample_plan[0].summary["catchments"]["primary"]["students"]
    assert students < 0.7 * base
