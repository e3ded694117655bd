"""``schoolplan compare A B [C …] --out DIR``: compare.xlsx and compare.html.

Each of A, B, … may be
- a scenario folder (holds ``scenario.json``, written by ``schoolplan scenario save`` or the
  GUI): its saved result is used; it is planned again when it was saved without one or with
  ``--replan``;
- a plan output folder (holds ``plan.gpkg`` and ``summary.json``, written by ``schoolplan plan``):
  read as it is;
- a project (``project.toml`` or a folder holding one): loaded and planned now with its rules.
A project or scenario folder followed by ``@YEAR`` (``dx@2030``) is planned for that year:
projected children and that year's class sizes (rules ``[projection] plan_year``), so
``compare dx@2025 dx@2030 dx@2035`` sets the same county side by side across the years.
The first one is the baseline: differences are reported from it to each of the others.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from app.cli.flags import EXIT_OK
from app.cli.progress import TerminalProgress
from app.compare_report import (
    compare_html,
    fmt_value,
    moved_lines,
    write_compare_html,
    write_compare_xlsx,
)
from core.errors import InputError
from core.progress import Progress
from planning.compare import Comparison, compare_plans
from planning.pipeline import PlanResult, run_plan
from planning.project import load_project
from planning.scenario import plan_scenario
from store.plan import read_plan
from store.scenario import is_scenario_folder, load_scenario

YEAR_SUFFIX = re.compile(r"^(?P<path>.+)@(?P<year>\d{4})$")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare scenarios side by side: compare.xlsx and compare.html",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="A",
        help="scenario folder, plan output folder or project, a project or scenario with @YEAR "
        "planned for that year (at least two; the first is the baseline)",
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
    p.set_defaults(run=cmd_compare)


def split_year(text: str) -> tuple[str, int | None]:
    """``dx@2030`` → ("dx", 2030); a path without the suffix (or one that exists as written)
    → (text, None)."""
    m = YEAR_SUFFIX.match(text)
    if m is None or Path(text).exists():
        return text, None
    return m["path"], int(m["year"])


def load_input(
    path: str, *, replan: bool = False, progress: Progress | None = None
) -> tuple[str, PlanResult, dict[str, Any]]:
    """(name, PlanResult, source info) from a scenario folder, a plan folder or a project,
    each optionally ``@YEAR`` (see the module docstring)."""
    text, year = split_year(path)
    p = Path(text)
    at = {} if year is None else {"projection": {"plan_year": year}}
    suffix = "" if year is None else f"@{year}"
    if is_scenario_folder(p):
        sc = load_scenario(p)
        if at:
            sc.rules = sc.rules.with_values(at, where=path)
        if sc.result is None or replan or at:
            plan_scenario(sc, progress=progress)
        info = {"kind": "scenario", "path": str(p), "created": sc.modified, "year": year}
        return sc.name + suffix, sc.result, info
    if at and ((p / "plan.gpkg").is_file() or (p / "summary.json").is_file()):
        raise InputError(
            f"{path}: a saved plan cannot be planned again for {year}",
            fix="give the project or a scenario folder with @YEAR",
        )
    if (p / "plan.gpkg").is_file() or (p / "summary.json").is_file():
        result = read_plan(p)
        name = str(result.meta.get("scenario") or p.name)
        return (
            name,
            result,
            {"kind": "plan", "path": str(p), "created": str(result.meta.get("created", ""))},
        )
    if p.suffix == ".toml" or (p / "project.toml").is_file():
        layers, rules, _ = load_project(p)
        if at:
            rules = rules.with_values(at, where=path)
        name = (
            p.stem
            if p.suffix == ".toml" and p.stem != "project"
            else (p if p.is_dir() else p.parent).name
        ) + suffix
        result = run_plan(
            layers, rules, progress=progress, meta={"project": layers.name, "scenario": name}
        )
        created = str(result.meta.get("created", ""))
        return name, result, {"kind": "project", "path": str(p), "created": created, "year": year}
    raise InputError(
        f"{p}: not a scenario folder, a plan folder or a project",
        fix="give a folder with scenario.json (schoolplan scenario save), one with plan.gpkg "
        "(schoolplan plan --out), or a project.toml",
    )


def cmd_compare(args: argparse.Namespace) -> int:
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
        htm = out / "compare.html"
        htm.write_text(
            compare_html(cmp, lang=args.lang, sources=sources, maps=False), encoding="utf-8"
        )
    else:
        htm = write_compare_html(cmp, out / "compare.html", lang=args.lang, sources=sources)
    _print_table(cmp, args.lang)
    print(f"xlsx: {xlsx}\nhtml: {htm}")
    return EXIT_OK


def _print_table(cmp: Comparison, lang: str) -> None:
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
        for line in moved_lines(d, lang):
            print(f"  {line}")
