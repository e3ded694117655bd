"""`schoolplan plan` on the sample county keeps the output contract other tools rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest

from app.cli import main

LEVELS = {"primary", "junior", "senior"}


@pytest.mark.slow
def test_plan_writes_the_contract(sample_plan):
    result, out = sample_plan
    layers = {name for name, _ in pyogrio.list_layers(out / "plan.gpkg")}
    assert {"schools", "groups", "new_schools", "catchments", "demand", "boundary"} <= layers
    schools = pyogrio.read_dataframe(out / "plan.gpkg", layer="schools")
    for col in ("school_id", "level", "group_id", "group_role", "group_reason", "layout_status"):
        assert col in schools.columns, col
    assert set(schools["level"]) <= LEVELS
    assert set(schools["group_role"]) <= {"core", "member", "none"}
    assert (schools.loc[schools["group_role"] == "none", "group_reason"] != "").all()
    groups = pyogrio.read_dataframe(out / "plan.gpkg", layer="groups")
    for col in (
        "group_id",
        "core_id",
        "member_ids",
        "level",
        "pattern",
        "mode",
        "n_members",
        "max_distance_km",
        "teacher_exchange_min",
        "funding_min_yuan",
    ):
        assert col in groups.columns, col
    new = pyogrio.read_dataframe(out / "plan.gpkg", layer="new_schools")
    for col in ("school_id", "name", "level", "classes", "capacity", "unit_id", "rule"):
        assert col in new.columns, col
    catch = pyogrio.read_dataframe(out / "plan.gpkg", layer="catchments")
    for col in (
        "school_id",
        "level",
        "students",
        "capacity",
        "utilization",
        "mean_distance_km",
        "max_distance_km",
        "oversized",
    ):
        assert col in catch.columns, col
    demand = pyogrio.read_dataframe(out / "plan.gpkg", layer="demand")
    for level in LEVELS:
        for col in (
            f"students_{level}",
            f"school_id_{level}",
            f"distance_{level}_km",
            f"status_{level}",
        ):
            assert col in demand.columns, col
        assert set(demand[f"status_{level}"]) <= {"assigned", "too_far", "unserved"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {"groups", "new_schools", "catchments", "meta"} <= set(summary)
    for key in ("count", "coverage_pct", "target_pct", "members_unplaced", "solve_seconds"):
        assert key in summary["groups"], key
    for key in ("primary", "junior", "senior", "classes_total", "by_rule"):
        assert key in summary["new_schools"], key
    for level in LEVELS:
        for key in (
            "students",
            "assigned",
            "too_far",
            "unserved",
            "over_capacity_schools",
            "oversized_schools",
            "solve_seconds",
        ):
            assert key in summary["catchments"][level], (level, key)


def test_rules_command_prints_loadable_toml(capsys, tmp_path):
    from planning.rules import Rules, load_rules

    assert main(["rules", "--groups.radius-km", "15"]) == 0
    text = capsys.readouterr().out
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    rules = load_rules(path)
    assert rules.groups.radius_km == 15.0
    assert rules.standards == Rules().standards


def test_bad_rule_flag_is_a_message_not_a_traceback(capsys):
    assert main(["rules", "--groups.radius-km", "-3"]) == 2
    err = capsys.readouterr().err
    assert "radius" in err.lower() and "Traceback" not in err


@pytest.mark.slow  # the CLI in a subprocess
def test_plan_refuses_unusable_data_with_exit_2(tmp_path):
    bad = tmp_path / "schools.csv"
    bad.write_text(
        "学校代码,学校名称,学段,班级数,在校生数,经度,纬度\nA,甲小学,小学,abc,10,111.6,25.5\n",
        encoding="utf-8",
    )
    exe = Path(sys.executable).parent / "schoolplan"
    sample = Path(__file__).resolve().parents[1] / "sample_maps" / "daoxian" / "daoxian.gpkg"
    run = subprocess.run(
        [
            str(exe),
            "plan",
            "--schools",
            str(bad),
            "--population",
            f"{sample}:population",
            "--boundary",
            f"{sample}:boundary",
            "--out",
            str(tmp_path / "o"),
            "--formats",
            "none",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "abc" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "o" / "plan.gpkg").exists()


@pytest.mark.parametrize(
    "command",
    ["check", "plan", "rules", "export", "compare", "gui", "batch", "scenario", "forecast"],
)
def test_help_of_every_command(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage" in capsys.readouterr().out


@pytest.mark.parametrize(
    "module", ["app.cli.compare", "app.cli.scenario", "app.cli.batch", "app.cli.forecast"]
)
def test_python_m_app_cli_and_each_command_module_imports_alone(module):
    """`python -m app.cli` works (scripts/compare_outputs.py uses it), and a command module
    imported first needs no other command module (no circle through app.cli)."""
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-c", f"import {module}; import sys; sys.argv[1:] = ['--version'];"
         "import runpy; runpy.run_module('app.cli', run_name='__main__')"],
        cwd=root, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("schoolplan ")


def test_a_failing_write_names_the_file_and_the_fix(tmp_path, monkeypatch, capsys):
    """Disk full or a file locked by another program: a message, not 'internal error'."""
    import errno

    import store.plan

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o" / "plan.gpkg"))

    monkeypatch.setattr(store.plan, "write_layers_atomic", full)
    rc = main(["plan", "--out", str(tmp_path / "o"), "--formats", "none"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "plan.gpkg" in err and "No space left" in err and "free some disk space" in err
    assert "internal error" not in err
