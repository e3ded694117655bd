"""``schoolplan compare A B [C …] --out DIR`` and ``schoolplan scenario save|show``.

Each of A, B, … may be
- a scenario folder (holds ``scenario.json``, written by ``schoolplan scenario save`` or the
  GUI): its saved result is used; it is planned again when it was saved without one or with
  ``--replan``;
- a plan output folder (holds ``plan.gpkg`` and ``summary.json``, written by ``schoolplan plan``):
  read as it is;
- a project (``project.toml`` or a folder holding one): loaded and planned now with its rules.
The first one is the baseline: differences are reported from it to each of the others.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.errors import InputError

EXIT_OK = 0


def add_parser(subparsers) -> None:
    """Register ``compare`` and ``scenario`` (called from app.cli.build_parser)."""
    from app.cli import _add_rule_flags

    p = subparsers.add_parser(
        "compare",
        help="compare scenarios side by side: compare.xlsx and compare.html",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="A",
        help="scenario folder, plan output folder or project (at least two; the first is the baseline)",
    )
    p.add_argument(
        "--out", metavar="DIR", required=True, help="folder for compare.xlsx and compare.html"
    )
    p.add_argument("--names", metavar="N1,N2,…", help="names of the scenarios in the tables")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument(
        "--replan",
        action="store_true",
        help="plan saved scenarios again instead of using their saved result",
    )
    p.add_argument(
        "--moved-m",
        type=float,
        default=1.0,
        metavar="M",
        help="a school counts as moved beyond this many metres (default 1)",
    )
    p.add_argument(
        "--no-maps", action="store_true", help="leave the change maps out of compare.html"
    )

    s = subparsers.add_parser("scenario", help="save a project as a scenario folder, or show one")
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
    _add_rule_flags(sv)
    for action in sv._actions:  # units such as [%] would break argparse's help formatting
        if action.help and "%" in action.help and "%%" not in action.help:
            action.help = action.help.replace("%", "%%")
    sh = ssub.add_parser(
        "show",
        help="print a scenario's name, dates, rules that differ from the defaults and its figures",
    )
    sh.add_argument("folder")
    sh.add_argument("--lang", choices=("zh", "en"), default="zh")  # fmt: skip


# --------------------------------------------------------------------------- inputs
def load_input(path: str, *, replan: bool = False, progress=None) -> tuple[str, object, dict]:
    """(name, PlanResult, source info) from a scenario folder, a plan folder or a project."""
    from planning.scenario import is_scenario_folder, load_scenario, plan_scenario

    p = Path(path)
    if is_scenario_folder(p):
        sc = load_scenario(p)
        if sc.result is None or replan:
            plan_scenario(sc, progress=progress)
        return sc.name, sc.result, {"kind": "scenario", "path": str(p), "created": sc.modified}
    if (p / "plan.gpkg").is_file() or (p / "summary.json").is_file():
        from planning.outputs import read_plan

        result = read_plan(p)
        name = str(result.meta.get("scenario") or p.name)
        return (
            name,
            result,
            {"kind": "plan", "path": str(p), "created": str(result.meta.get("created", ""))},
        )
    if p.suffix == ".toml" or (p / "project.toml").is_file():
        from planning.pipeline import run_plan
        from planning.project import load_project

        layers, rules, _ = load_project(p)
        name = (
            p.stem
            if p.suffix == ".toml" and p.stem != "project"
            else (p if p.is_dir() else p.parent).name
        )
        result = run_plan(
            layers, rules, progress=progress, meta={"project": layers.name, "scenario": name}
        )
        return (
            name,
            result,
            {"kind": "project", "path": str(p), "created": str(result.meta.get("created", ""))},
        )
    raise InputError(
        f"{p}: not a scenario folder, a plan folder or a project",
        fix="give a folder with scenario.json (schoolplan scenario save), one with plan.gpkg "
        "(schoolplan plan --out), or a project.toml",
    )


def run(args) -> int:
    if args.command == "scenario":
        return run_scenario(args)
    from app.cli_progress import TerminalProgress
    from app.compare_report import write_compare_html, write_compare_xlsx
    from planning.compare import compare_plans

    if len(args.inputs) < 2:
        raise InputError(
            "compare needs at least two scenarios", fix="schoolplan compare A B --out DIR"
        )
    names = [n.strip() for n in args.names.split(",")] if args.names else None
    if names is not None and len(names) != len(args.inputs):
        raise InputError(
            f"--names gives {len(names)} names for {len(args.inputs)} scenarios",
            fix="one name per scenario, separated by commas",
        )
    progress = TerminalProgress()
    plans, sources = [], []
    for i, path in enumerate(args.inputs):
        name, result, info = load_input(path, replan=args.replan, progress=progress)
        if names:
            name = names[i]
        plans.append((name, result))
        sources.append({"name": name, **info})
    progress.close()
    cmp = compare_plans(plans, moved_m=args.moved_m)
    for s, n in zip(sources, cmp.names):
        s["name"] = n
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create {out}: {exc.strerror}", fix="choose another --out"
        ) from None
    xlsx = write_compare_xlsx(cmp, out / "compare.xlsx", lang=args.lang, sources=sources)
    if args.no_maps:
        from app.compare_report import compare_html

        htm = out / "compare.html"
        htm.write_text(
            compare_html(cmp, lang=args.lang, sources=sources, maps=False), encoding="utf-8"
        )
    else:
        htm = write_compare_html(cmp, out / "compare.html", lang=args.lang, sources=sources)
    _print_table(cmp, args.lang)
    print(f"xlsx: {xlsx}\nhtml: {htm}")
    return EXIT_OK


def _print_table(cmp, lang: str) -> None:
    from app.compare_report import fmt_value

    width = max(len(r.spec.label(lang)) for r in cmp.rows) + 2
    print(" " * width + "".join(f"{n[:14]:>16}" for n in cmp.names))
    for r in cmp.rows:
        cells = []
        for k, v in enumerate(r.values):
            mark = "*" if k in r.best else " "
            cells.append(f"{fmt_value(v, r.spec.digits) + mark:>16}")
        print(f"{r.spec.label(lang):<{width}}" + "".join(cells))
    for d in cmp.diffs:
        c = d.counts
        print(
            f"{d.base} → {d.other}: schools +{c['schools_added']} -{c['schools_removed']} "
            f"moved {c['schools_moved']} status {c['schools_status']}, groups {c['groups_changed']}, "
            f"villages {c['villages_changed']}"
        )


# --------------------------------------------------------------------------- scenario
def run_scenario(args) -> int:
    if args.scenario_command == "show":
        return _show(args)
    from app.cli import _rule_overrides
    from app.cli_progress import TerminalProgress
    from planning.grouping import GroupChoices
    from planning.scenario import plan_scenario, save_scenario, scenario_from_project

    sc = scenario_from_project(
        args.project,
        name=args.name,
        overrides=_rule_overrides(args) or None,
        notes=args.notes,
        rules_path=args.rules,
        choices=_choices(args, GroupChoices),
    )
    _drop(sc, "schools", "school_id", args.drop_school)
    _drop(sc, "candidates", "candidate_id", args.drop_candidate)
    if not args.no_plan:
        progress = TerminalProgress()
        plan_scenario(sc, progress=progress)
        progress.close()
    files = save_scenario(sc, args.out)
    print(f"scenario '{sc.name}' saved: {files['json'].parent}")
    return EXIT_OK


def _choices(args, cls):
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
    return cls(locked_pairs=tuple(locks), excluded=tuple(excluded))


def _drop(sc, layer: str, column: str, ids: list[str]) -> None:
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


def _show(args) -> int:
    from planning.compare import plan_metrics
    from planning.rules import Rules, iter_specs
    from planning.scenario import load_scenario

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


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - use `schoolplan compare`
    from app.cli import main as cli_main

    return cli_main(["compare", *(argv if argv is not None else sys.argv[1:])])
