"""Rules: POLICY.md defaults, declarations, TOML round trip, refusals with a fix, CLI flags."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cli import main
from core.errors import RulesError
from core.params import coerce
from core.vocab import ROAD_CLASS
from planning.rules import (
    SECTIONS,
    OldRulesLayout,
    Rules,
    flag_name,
    iter_specs,
    load_rules,
    rules_to_toml,
)
from tests import builders

ALL_SPECS = list(iter_specs())


def test_defaults_are_the_policy_digest_values():
    r = Rules()
    g, n, s = r.groups, r.new_schools, r.standards
    # POLICY.md §1 education groups
    assert g.radius_km == 20.0
    assert (g.min_members, g.max_members) == (1, 3)
    assert g.coverage_target_pct == 80.0
    assert g.cycle_years == 3
    assert g.teacher_exchange_pct == 10.0
    assert g.backbone_share_pct == 40.0
    assert g.funding_entrusted_weak_yuan == 300_000
    assert g.funding_township_yuan == 100_000
    assert g.cross_level is False  # only "downward compatible", off by default
    # §2 layout and new schools
    assert n.primary_min_population == 4_000
    assert n.primary_single_max_population == 10_000
    assert (n.primary_small_min_classes, n.primary_small_max_classes) == (6, 12)
    assert n.primary_per_population == 10_000
    assert (n.primary_large_min_classes, n.primary_large_max_classes) == (18, 24)
    assert n.junior_per_population == 20_000
    assert n.junior_min_classes == 18
    assert n.senior_max_students == 3_000
    # §3 class sizes
    assert (s.class_size_primary, s.class_size_junior, s.class_size_senior) == (45, 50, 50)
    assert s.oversized_class == 56


@pytest.mark.parametrize(
    ("section", "spec", "value"), ALL_SPECS, ids=lambda x: getattr(x, "name", "")
)
def test_every_parameter_is_declared_completely(section, spec, value):
    info = spec.info
    assert info.zh and info.en, "labels in Chinese and English"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.zh)
    assert info.en.isascii()
    assert info.source, "every value says where it comes from"
    assert spec.kind in (bool, int, float, str)
    if spec.kind in (int, float):
        assert info.unit or info.choices, "numbers carry a unit"
        assert info.lo is not None and info.hi is not None, "and a valid range"
        assert info.lo <= value <= info.hi
    if info.choices:
        assert value in info.choices
    if info.help_zh or info.help_en:
        assert info.help_zh and info.help_en, "help in both languages or neither"


def test_rules_cover_every_section():
    assert [f.name for f in dataclasses.fields(Rules)] == list(SECTIONS)
    assert {s for s, _, _ in ALL_SPECS} == set(SECTIONS)


def test_printed_rules_round_trip(tmp_path):
    changed = Rules().with_values(
        {
            "groups": {"radius_km": 12.5, "max_members": 5, "mode_private": "alliance"},
            "standards": {"class_size_primary": 40},
            "catchments": {"allow_split": True},
        }
    )
    text = rules_to_toml(changed)
    tomllib.loads(text)  # valid TOML
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    assert load_rules(path) == changed
    assert load_rules(path) != Rules()


def test_schoolplan_rules_output_round_trips(tmp_path, capsys):
    assert main(["rules", "--groups.radius-km", "15", "--catchments.mode", "nearest"]) == 0
    out = capsys.readouterr().out
    path = tmp_path / "rules.toml"
    path.write_text(out, encoding="utf-8")
    loaded = load_rules(path)
    assert loaded.groups.radius_km == 15.0
    assert loaded.catchments.mode == "nearest"
    assert loaded == Rules().with_values(
        {"groups": {"radius_km": 15}, "catchments": {"mode": "nearest"}}
    )
    # every parameter is printed, each under its section with its label
    data = tomllib.loads(out)
    for section, spec, _ in ALL_SPECS:
        assert spec.name in data[section]
        assert spec.info.zh in out


def test_rules_file_is_used_by_check_and_flags_override_it(tmp_path, capsys):
    toml = builders.write_project(tmp_path)
    rules = tmp_path / "county_rules.toml"
    rules.write_text("[groups]\nradius_km = 25\nmax_members = 4\n", encoding="utf-8")
    assert main(["rules", str(toml), "--rules", str(rules), "--groups.radius-km", "15"]) == 0
    data = tomllib.loads(capsys.readouterr().out)
    assert data["groups"]["radius_km"] == 15.0  # the flag wins over the file
    assert data["groups"]["max_members"] == 4  # the file wins over the default
    # the same file named in project.toml
    text = toml.read_text(encoding="utf-8").replace(
        'name = "测试县"', 'name = "测试县"\nrules = "county_rules.toml"'
    )
    toml.write_text(text, encoding="utf-8")
    assert main(["rules", str(toml)]) == 0
    data = tomllib.loads(capsys.readouterr().out)
    assert (data["groups"]["radius_km"], data["groups"]["max_members"]) == (25.0, 4)
    assert main(["check", str(toml)]) == 0


def test_cli_flag_changes_the_rule(capsys):
    assert main(["rules", "--groups.radius-km", "15"]) == 0
    data = tomllib.loads(capsys.readouterr().out)
    assert data["groups"]["radius_km"] == 15.0
    assert data["groups"]["max_members"] == 3  # untouched
    assert main(["rules", "--catchments.allow-split", "是"]) == 0
    assert tomllib.loads(capsys.readouterr().out)["catchments"]["allow_split"] is True


def test_every_parameter_has_a_cli_flag():
    from app.cli import build_parser

    parser = build_parser()
    check = parser._subparsers._group_actions[0].choices["check"]  # noqa: SLF001
    flags = {opt for a in check._actions for opt in a.option_strings}  # noqa: SLF001
    for section, spec, _ in ALL_SPECS:
        assert flag_name(section, spec) in flags


def _write(tmp_path, text: str):
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[groups]\nradius_km = 500\n", ("radius_km", "500", "0.5", "200")),
        ("[groups]\nradius_km = -1\n", ("radius_km", "valid range")),
        ("[standards]\nclass_size_primary = 10\n", ("class_size_primary", "20", "70")),
        ("[groups]\ncoverage_target_pct = 120\n", ("coverage_target_pct", "100")),
        ("[groups]\nradius_km = nan\n", ("radius_km", "float")),
        ('[groups]\nradius_km = "twenty"\n', ("radius_km", "twenty", "float")),
        ("[groups]\nradius_km = true\n", ("radius_km", "float")),
        ("[groups]\nmax_members = 2.5\n", ("max_members", "int")),
        ('[groups]\nmax_members = "三"\n', ("max_members", "int")),
        ("[groups]\ncross_level = 1\n", ("cross_level", "bool")),
        ("[groups]\npattern_priority = 5\n", ("pattern_priority", "str")),
        ("[groups]\nradius_km = [15, 20]\n", ("radius_km", "float")),
        ('[catchments]\nmode = "fastest"\n', ("mode", "nearest", "capacity")),
        ("[groups]\nradius = 15\n", ("unknown parameter 'radius'", "radius_km")),
        ("[group]\nradius_km = 15\n", ("unknown section", "groups")),
        ("[groups]\nmin_members = 4\nmax_members = 3\n", ("min_members", "max_members", "≤")),
        (
            "[new_schools]\nprimary_small_min_classes = 13\n",
            ("primary_small_min_classes", "primary_small_max_classes"),
        ),
        ("[groups\nradius_km = 15\n", ("not valid TOML",)),
    ],
)
def test_bad_rules_file_gives_rules_error_with_a_fix(tmp_path, text, words):
    path = _write(tmp_path, text)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    msg = str(err.value)
    assert err.value.fix, "says how to fix it"
    assert str(path) in msg, "names the file"
    for w in words:
        assert w in msg, w


def test_missing_rules_file(tmp_path):
    with pytest.raises(RulesError) as err:
        load_rules(tmp_path / "nope.toml")
    assert "not found" in str(err.value) and "schoolplan rules" in err.value.fix


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--groups.radius-km", "abc"], ("radius_km", "abc")),
        (["--groups.radius-km", "0.1"], ("radius_km", "0.5")),
        (["--groups.min-members", "5"], ("min_members", "max_members")),
        (["--catchments.mode", "fastest"], ("mode", "capacity")),
        (["--groups.cross-level", "maybe"], ("cross_level", "bool")),
        (["--groups.radius-km", "inf"], ("radius_km",)),
    ],
)
def test_bad_cli_rule_values_exit_2_with_a_fix(capsys, argv, words):
    assert main(["rules", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("schoolplan: ") and "fix:" in err and "Traceback" not in err
    for w in words:
        assert w in err


def test_rules_path_that_is_a_folder_exits_2(tmp_path, capsys):
    assert main(["rules", "--rules", str(tmp_path)]) == 2
    assert "folder" in capsys.readouterr().err


NUMERIC = [(s, p) for s, p, _ in ALL_SPECS if p.kind in (int, float)]


@settings(max_examples=300, deadline=None)
@given(item=st.sampled_from(NUMERIC), x=st.floats(-1e9, 1e9, allow_nan=False))
def test_coerce_accepts_exactly_the_declared_range(item, x):
    section, spec = item
    info = spec.info
    value = round(x) if spec.kind is int else x
    inside = info.lo <= value <= info.hi
    if inside:
        assert coerce(spec, value, "t") == value
    else:
        with pytest.raises(RulesError) as err:
            coerce(spec, value, "t")
        assert err.value.fix


def test_distance_settings_have_their_own_section(capsys):
    r = Rules()
    assert (r.distance.model, r.distance.snap_max_m) == ("auto", 5000.0)
    assert not hasattr(r.catchments, "distance") and not hasattr(r.catchments, "snap_max_m")
    assert main(["rules", "--distance.model", "straight", "--distance.snap-max-m", "800"]) == 0
    data = tomllib.loads(capsys.readouterr().out)
    speeds = {k: v for k, v in data["distance"].items() if k.startswith("speed_")}
    assert {k: v for k, v in data["distance"].items() if k not in speeds} == {
        "model": "straight",
        "snap_max_m": 800.0,
        "offroad_detour": 1.3,
    }
    # a speed per road class of the vocabulary (declared; distances are still road lengths)
    assert set(speeds) == {f"speed_{c}_kmh" for c in ROAD_CLASS.codes}
    assert "distance" not in data["catchments"]


def test_old_rules_file_with_distance_under_catchments_still_reads(tmp_path):
    path = _write(
        tmp_path, '[catchments]\nmode = "nearest"\ndistance = "straight"\nsnap_max_m = 800.0\n'
    )
    with pytest.warns(OldRulesLayout, match=r"\[catchments\] distance is now \[distance\] model"):
        r = load_rules(path)
    assert r.catchments.mode == "nearest"
    assert (r.distance.model, r.distance.snap_max_m) == ("straight", 800.0)
    # scenarios and summary.json of before the move hold the old layout too
    old = {"catchments": {"distance": "road"}}
    assert Rules().with_values(old).distance.model == "road"


def test_a_distance_setting_given_twice_is_refused(tmp_path):
    path = _write(tmp_path, '[catchments]\ndistance = "road"\n[distance]\nmodel = "straight"\n')
    with pytest.raises(RulesError, match="same setting"):
        load_rules(path)
