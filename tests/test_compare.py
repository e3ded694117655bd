"""Scenario comparison: figures, best per row, differences, and the xlsx/html/CLI outputs."""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point
from test_export_fixture import FORMULA_NAME, XSS_NAME, make_plan

from planning.compare import (
    HIGHER,
    LOWER,
    compare_plans,
    diff_plans,
    plan_metrics,
    rank,
    weighted_quantile,
)
from planning.rules import Rules


@pytest.fixture(scope="module")
def base():
    return make_plan()


def variant(plan):
    """A copy with known changes: P004 moved 800 m, P002 (a group member) removed, a school added,
    P005 to merge, P003 out of its group, two villages sent to another primary school, and a
    higher group coverage."""
    b = copy.deepcopy(plan)
    s = b.schools
    i4 = s.index[(s["school_id"] == "P004") & (s["level"] == "primary")][0]
    s.loc[i4, "geometry"] = Point(s.at[i4, "geometry"].x + 800, s.at[i4, "geometry"].y)
    i5 = s.index[(s["school_id"] == "P005") & (s["level"] == "primary")][0]
    s.loc[i5, "layout_status"] = "to_merge"
    i3 = s.index[(s["school_id"] == "P003") & (s["level"] == "primary")][0]
    s.loc[i3, ["group_id", "group_role"]] = ["", "none"]
    new = s.loc[[i4]].copy()
    new["school_id"], new["name"], new["layout_status"] = "N900", "开发区小学", "new"
    new["group_id"], new["group_role"], new["group_reason"] = "", "none", ""
    s = s[s["school_id"] != "P002"]
    b.schools = type(s)(
        pd_concat([s, new]).reset_index(drop=True), geometry="geometry", crs=plan.schools.crs
    )
    d = b.demand
    d.loc[d.index[:2], "school_id_primary"] = "N900"
    b.summary = dict(b.summary, groups={"coverage_pct": 70.0})
    return b


def pd_concat(frames):
    import pandas as pd

    return pd.concat(frames)


# --------------------------------------------------------------------------- helpers
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 50, allow_nan=False), st.integers(1, 20)), min_size=1, max_size=30
    ),
    st.sampled_from([0.5, 0.9, 0.95, 1.0]),
)
def test_weighted_quantile_equals_quantile_of_pupils(pairs, q):
    values = np.array([v for v, _ in pairs])
    weights = np.array([w for _, w in pairs], dtype=float)
    pupils = np.repeat(values, weights.astype(int))  # one entry per pupil
    assert weighted_quantile(values, weights, q) == np.quantile(pupils, q, method="inverted_cdf")


def test_rank_marks_best_by_direction_and_not_ties_of_all():
    assert rank([3.0, 1.0, 2.0], HIGHER) == [0]
    assert rank([3.0, 1.0, 1.0], LOWER) == [1, 2]
    assert rank([2.0, 2.0], LOWER) == []  # all equal: nothing to choose
    assert rank([2.0, None, 1.0], LOWER) == [2]
    assert rank([5.0, 1.0], None) == []  # not ranked (a choice, not a score)
    assert rank([None, 1.0], HIGHER) == []


# --------------------------------------------------------------------------- figures
def test_metrics_recounted_from_layers(base):
    m = plan_metrics(base)
    d = base.demand
    served = d.loc[d["status_primary"] == "assigned", "students_primary"].sum()
    far = d.loc[d["status_primary"] == "too_far", "students_primary"].sum()
    none = d.loc[d["status_primary"] == "unserved", "students_primary"].sum()
    assert m["served_primary"] == pytest.approx(served)
    assert m["too_far_primary"] == pytest.approx(far)
    assert m["no_capacity_primary"] == pytest.approx(none)
    placed = d[d["status_primary"].isin(["assigned", "too_far"])]
    mean = np.average(placed["distance_primary_km"], weights=placed["students_primary"])
    assert m["mean_km_primary"] == pytest.approx(mean)
    assert m["max_km_primary"] == placed["distance_primary_km"].max()
    assert m["groups"] == len(base.groups) and m["coverage_pct"] == 62.5
    assert m["new_schools_primary"] == 1 and m["new_classes_primary"] == 24
    assert m["new_schools_junior"] == 0
    c = base.catchments
    assert m["over_capacity"] == int((c["students"] > c["capacity"]).sum()) > 0
    assert m["funding_min_yuan"] == base.groups["funding_min_yuan"].sum()
    assert m["members_unplaced"] is None  # only the grouping engine knows eligibility


def test_metrics_prefer_the_engine_summary(base):
    plan = copy.deepcopy(base)
    plan.summary["catchments"] = {
        lv: {
            "students": 100.0,
            "assigned": 70.0,
            "too_far": 20.0,
            "unserved": 10.0,
            "mean_distance_km": 1.5,
            "p95_distance_km": 4.0,
            "max_distance_km": 9.0,
            "over_capacity_schools": 1,
            "oversized_schools": 2,
        }
        for lv in ("primary", "junior", "senior")
    }
    plan.summary["groups"] = {"count": 3, "coverage_pct": 81.0, "members_unplaced": 4}
    m = plan_metrics(plan)
    assert (m["served_junior"], m["too_far_junior"], m["no_capacity_junior"]) == (70, 20, 10)
    assert (m["mean_km_senior"], m["p95_km_senior"], m["max_km_senior"]) == (1.5, 4.0, 9.0)
    assert (m["over_capacity"], m["oversized"]) == (3, 6)
    assert (m["coverage_pct"], m["members_unplaced"]) == (81.0, 4)


# --------------------------------------------------------------------------- differences
def test_identical_plans_differ_in_nothing(base):
    cmp = compare_plans([("A", base), ("B", copy.deepcopy(base))])
    assert all(not r.best for r in cmp.rows)
    assert not any(cmp.diffs[0].counts.values())
    assert cmp.rules.empty


def test_known_changes_are_found_exactly(base):
    d = diff_plans(base, variant(base), name_a="A", name_b="B")
    by = {c: set(d.schools.loc[d.schools["change"] == c, "school_id"]) for c in d.schools["change"]}
    assert by == {"moved": {"P004"}, "removed": {"P002"}, "added": {"N900"}, "status": {"P005"}}
    moved = d.schools[d.schools["change"] == "moved"].iloc[0]
    assert moved["moved_m"] == pytest.approx(800.0)
    # P003 left its group; P002 (a member) is gone; N900 is in no group: not a group change.
    g = d.groups.set_index("school_id")
    assert set(g.index) == {"P002", "P003"}
    assert g.loc["P003", "role_before"] == "member" and g.loc["P003", "role_after"] == "none"
    assert g.loc["P003", "core_before"] == "P001"
    assert g.loc["P002", "role_after"] == "absent"
    v = d.villages
    assert list(v["school_after"]) == ["N900", "N900"] and set(v["level"]) == {"primary"}
    assert d.counts["villages_changed"] == 2
    # units and pupils that change school, per level (issue 15: what a decision moves)
    b = variant(base)
    moved = set(v["unit_id"])
    pupils = b.demand.set_index("unit_id").loc[sorted(moved), "students_primary"].sum()
    assert d.moved() == {"primary": (2, pytest.approx(float(pupils)))}
    assert pupils > 0


def test_groups_are_matched_by_core_not_by_renumbered_id(base):
    b = copy.deepcopy(base)
    b.groups["group_id"] = "X-" + b.groups["group_id"]
    b.schools["group_id"] = b.schools["group_id"].map(lambda g: f"X-{g}" if g else "")
    assert diff_plans(base, b).groups.empty


def test_best_values_and_rule_differences(base):
    b = copy.deepcopy(base)
    b.rules = Rules().with_values({"groups": {"radius_km": 15}})
    b.summary = dict(b.summary, groups={"coverage_pct": 50.0})
    b.demand.loc[b.demand["status_primary"] == "too_far", "status_primary"] = "assigned"
    cmp = compare_plans([("r20", base), ("r15", b)])
    rows = {r.spec.key: r for r in cmp.rows}
    assert rows["coverage_pct"].best == [0]  # higher is better
    assert rows["too_far_primary"].best == [1]  # lower is better
    assert rows["groups"].best == []  # not ranked
    assert list(cmp.rules["name"]) == ["radius_km"]
    assert list(cmp.rules[["r20", "r15"]].iloc[0]) == [20.0, 15]
    table = cmp.table()
    assert list(table.columns[:4]) == ["key", "label", "unit", "better"]
    assert "集团覆盖率" in set(table["label"])


def test_same_names_are_made_distinct(base):
    cmp = compare_plans([("plan", base), ("plan", base), ("plan", base)])
    assert cmp.names == ["plan", "plan (2)", "plan (3)"]
    assert len(cmp.diffs) == 2


# --------------------------------------------------------------------------- outputs
def _cells(path: Path):
    from openpyxl import load_workbook

    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                yield ws.title, c


def test_xlsx_marks_best_and_never_holds_a_formula(base, tmp_path):
    from app.compare_report import write_compare_xlsx

    b = variant(base)
    cmp = compare_plans([("基准", base), ("=cmd|' /C calc'!A0", b)])
    path = write_compare_xlsx(cmp, tmp_path / "compare.xlsx")
    cells = list(_cells(path))
    assert not [c.coordinate for _, c in cells if c.data_type == "f"]
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert all(b"<f>" not in z.read(n) for n in sheets)
    values = {c.value for _, c in cells}
    assert FORMULA_NAME in values and "=cmd|' /C calc'!A0" in values  # kept, as text
    assert {"指标", "单位", "优劣方向", "最优方案", "学校变化", "集团变化"} & values
    best = [
        c
        for t, c in cells
        if t == "方案对比" and c.fill is not None and c.fill.fgColor.rgb.endswith("C6EFCE")
    ]
    assert best and all(isinstance(c.value, float | int) for c in best)
    titles = {t for t, _ in cells}
    assert {"方案对比", "参数差异", "学校变化", "集团变化", "村庄(社区)就读学校变化"} <= titles


def test_html_is_offline_escaped_and_has_change_maps(base, tmp_path):
    from app.compare_report import write_compare_html
    from app.export.offline import external_refs

    cmp = compare_plans([("A", base), ("B", variant(base)), ("C", copy.deepcopy(base))])
    html = write_compare_html(cmp, tmp_path / "compare.html").read_text(encoding="utf-8")
    assert external_refs(html) == []
    assert "<script" not in html.lower()  # the XSS school name is text, not markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS_NAME not in html
    assert html.count('src="data:image/png;base64,') == 1  # B changed; C equals the baseline
    assert "与基准方案相比无变化" in html
    assert 'class="n best"' in html


@pytest.mark.slow  # plans in a subprocess
def test_cli_compare_plan_and_scenario_folders(base, tmp_path, capsys):
    from test_scenario import tiny_layers

    from app.cli import main
    from store.plan import write_plan
    from store.scenario import load_scenario, save_scenario

    write_plan(base, tmp_path / "planA")
    sc_b = load_scenario_like(variant(base), tiny_layers())
    save_scenario(sc_b, tmp_path / "scB")
    assert load_scenario(tmp_path / "scB").result is not None
    out = tmp_path / "cmp"
    rc = main(["compare", str(tmp_path / "planA"), str(tmp_path / "scB"), "--out", str(out)])
    assert rc == 0
    assert (out / "compare.xlsx").stat().st_size > 0 and (out / "compare.html").stat().st_size > 0
    text = capsys.readouterr().out
    assert "集团覆盖率" in text and "B方案" in text
    assert "moved 1" in text and "+1 -1" in text


def load_scenario_like(result, layers):
    from planning.scenario import scenario_from_layers

    sc = scenario_from_layers(layers, result.rules, name="B方案")
    sc.result = result
    return sc


def test_cli_compare_errors(tmp_path, capsys):
    from app.cli import main

    (tmp_path / "empty").mkdir()
    assert (
        main(
            [
                "compare",
                str(tmp_path / "empty"),
                str(tmp_path / "empty"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "not a scenario folder, a plan folder or a project" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    assert "at least two" in capsys.readouterr().err


def test_cli_compare_year_variants_of_one_project(sample_project, tmp_path, capsys):
    """``compare dx@2025 dx@2030 dx@2035``: the same county planned for each year."""
    from openpyxl import load_workbook

    from app.cli import main
    from app.cli.compare import split_year

    assert split_year(f"{sample_project}@2030") == (str(sample_project), 2030)
    assert split_year(str(sample_project)) == (str(sample_project), None)
    out = tmp_path / "years"
    variants = [f"{sample_project}@{y}" for y in (2025, 2030, 2035)]
    assert main(["compare", *variants, "--out", str(out), "--no-maps"]) == 0
    printed = capsys.readouterr().out
    assert all(f"daoxian@{y}" in printed for y in (2025, 2030, 2035))
    wb = load_workbook(out / "compare.xlsx")
    cells = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert "daoxian@2035" in cells
    placed = []
    for line in printed.splitlines():
        if line.startswith("小学已安排学位学生"):
            placed = [float(v.rstrip("*").replace(",", "")) for v in line.split()[1:]]
    # Fewer primary children each year (births fell from 2016 on).
    assert len(placed) == 3 and placed[0] > placed[1] > placed[2]


def test_cli_compare_refuses_a_year_on_a_saved_plan(base, tmp_path, capsys):
    from app.cli import main
    from store.plan import write_plan

    write_plan(base, tmp_path / "planA")
    argv = ["compare", f"{tmp_path / 'planA'}@2030", str(tmp_path / "planA")]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    assert "cannot be planned again for 2030" in capsys.readouterr().err
