"""``schoolplan scenario save|show``: save a project (planned with the given rules and choices)
as a scenario folder, or print one."""

from __future__ import annotations

import argparse

from app.cli.flags import EXIT_OK, add_baseline_flag, add_rule_flags, rule_overrides
from app.cli.forecast import add_year_flag, year_overrides
from app.cli.progress import TerminalProgress
from core.errors import InputError
from planning.compare import plan_metrics
from planning.grouping import GroupChoices
from planning.rules import Rules, iter_specs
from planning.scenario import Scenario, plan_scenario, scenario_from_project
from store.baseline import read_baseline
from store.scenario import load_scenario, save_scenario


def add_parsers(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("scenario", help="save a project as a scenario folder, or show one")
    ssub = s.add_subparsers(dest="scenario_command", required=True)
    sv = ssub.add_parser(
        "save", help="load a project, plan it with the given rules and save it as a scenario"
    )
    sv.add_argument(
        "project",
        nargs="?",
        default=None,
        help="project.toml or its folder (default: the sample county)",
    )
    sv.add_argument("--name", required=True, help="scenario name, e.g. 半径15公里")
    sv.add_argument("--out", metavar="DIR", required=True, help="scenario folder to write")
    sv.add_argument("--notes", default="", help="free text kept with the scenario")
    sv.add_argument("--rules", metavar="FILE", help="rules TOML over the project's rules")
    sv.add_argument(
        "--drop-school",
        action="append",
        default=[],
        metavar="ID",
        help="leave this school out (all its levels); repeatable",
    )
    sv.add_argument(
        "--drop-candidate",
        action="append",
        default=[],
        metavar="ID",
        help="leave this candidate site out; repeatable",
    )
    sv.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="ID[:LEVEL]",
        help="keep this school out of every group; repeatable",
    )
    sv.add_argument(
        "--lock",
        action="append",
        default=[],
        metavar="CORE:MEMBER:LEVEL",
        help="pair this member with this core; repeatable",
    )
    sv.add_argument("--no-plan", action="store_true", help="save the inputs only, without planning")
    add_baseline_flag(sv)
    add_year_flag(sv)
    add_rule_flags(sv)
    sh = ssub.add_parser(
        "show",
        help="print a scenario's name, dates, rules that differ from the defaults and its figures",
    )
    sh.add_argument("folder")
    sh.add_argument("--lang", choices=("zh", "en"), default="zh")  # fmt: skip
    s.set_defaults(run=cmd_scenario)


def cmd_scenario(args: argparse.Namespace) -> int:
    if args.scenario_command == "show":
        return _show(args)
    sc = scenario_from_project(
        args.project,
        name=args.name,
        overrides=year_overrides(rule_overrides(args), args.year) or None,
        notes=args.notes,
        rules_path=args.rules,
        choices=_choices(args),
    )
    _drop(sc, "schools", "school_id", args.drop_school)
    _drop(sc, "candidates", "candidate_id", args.drop_candidate)
    if not args.no_plan:
        progress = TerminalProgress()
        baseline = read_baseline(args.baseline) if args.baseline else None
        if args.baseline:
            sc.notes = (sc.notes + "\n" if sc.notes else "") + f"baseline: {args.baseline}"
        plan_scenario(sc, progress=progress, baseline=baseline)
        progress.close()
    files = save_scenario(sc, args.out)
    print(f"scenario '{sc.name}' saved: {files['json'].parent}")
    return EXIT_OK


def _choices(args: argparse.Namespace) -> GroupChoices:
    excluded = []
    for text in args.exclude:
        sid, _, level = text.partition(":")
        excluded.append((sid, level))
    locks = []
    for text in args.lock:
        parts = text.split(":")
        if len(parts) != 3:
            raise InputError(
                f"--lock {text}: expected CORE:MEMBER:LEVEL",
                fix="e.g. --lock 4311241001:4311241050:primary",
            )
        locks.append(tuple(parts))
    return GroupChoices(locked_pairs=tuple(locks), excluded=tuple(excluded))


def _drop(sc: Scenario, layer: str, column: str, ids: list[str]) -> None:
    if not ids:
        return
    gdf = getattr(sc.layers, layer)
    known = set() if gdf is None else set(gdf[column].astype(str))
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise InputError(
            f"no {layer} with id {', '.join(unknown)}", fix=f"check the ids in the {layer} layer"
        )
    keep = ~gdf[column].astype(str).isin(ids)
    setattr(sc.layers, layer, gdf[keep].reset_index(drop=True))
    sc.log_edit(f"drop_{layer}", ids=list(ids))


def _show(args: argparse.Namespace) -> int:
    sc = load_scenario(args.folder)
    print(f"{sc.name}  (saved {sc.modified}, created {sc.created}, SchoolPlan {sc.app_version})")
    if sc.migrated_from is not None:
        print(
            f"  read from schema_version {sc.migrated_from}; saving again writes the current layout"
        )
    if sc.notes:
        print(f"  {sc.notes}")
    defaults = {(s, spec.name): v for s, spec, v in iter_specs(Rules())}
    for section, spec, value in iter_specs(sc.rules):
        if defaults[(section, spec.name)] != value:
            label = spec.info.zh if args.lang == "zh" else spec.info.en
            print(
                f"  {section}.{spec.name} = {value}  ({label}; default {defaults[(section, spec.name)]})"
            )
    for e in sc.edits:
        print(f"  edit {e.get('time', '')}: {e.get('action', '')}")
    if sc.result is not None:
        for k, v in plan_metrics(sc.result).items():
            if v is not None:
                print(f"  {k}: {v:,.2f}")
    else:
        print("  (not planned)")
    return EXIT_OK
