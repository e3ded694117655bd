"""``schoolplan forecast`` and the ``--year`` flag of ``plan``, ``scenario save`` and ``compare``.

    schoolplan forecast [PROJECT] --to 2035 --out DIR [--plan PLAN_DIR | --no-zones]
    schoolplan plan [PROJECT] --year 2030

``forecast`` writes forecast.xlsx (county, townships, each school's current zone, units, the
rules used, and with zones the phased schedule 分期实施 and classes per school and year) and
forecast.png. The zones are those of a saved plan (``--plan``), else of a plan
of the base year run now. ``--year`` is the rule ``[projection] plan_year``: the pipeline plans
with that year's projected children and class sizes and adds the phased schedule
(``planning.pipeline.for_plan_year``). Bad input exits 2 with a plain message.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from app.cli.flags import EXIT_OK, EXIT_UNUSABLE
from core.errors import InputError
from geo.project import make_config
from planning.pipeline import run_plan
from planning.project import load_planning_layers, load_rules_for
from planning.projection.engine import run_projection
from planning.rules import Rules
from planning.schedule import phased_schedule
from store.plan import read_plan


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "forecast",
        help="project school-age children per year and write forecast.xlsx and forecast.png",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "project",
        nargs="?",
        default=None,
        help="project.toml or a folder holding one (default: the sample county 道县)",
    )
    p.add_argument("--to", type=int, metavar="YEAR", help="last year (default: the rules' horizon)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: ./out/<project>)")
    p.add_argument("--rules", metavar="FILE", help="rules TOML ([projection] section)")
    p.add_argument(
        "--births",
        metavar="FILE",
        help="birth table, CSV or Excel: unit_id (or town), year, births — one row per place "
        "and year",
    )
    zones = p.add_mutually_exclusive_group()
    zones.add_argument(
        "--plan", metavar="PLAN_DIR", help="take the school zones from this saved plan folder"
    )
    zones.add_argument(
        "--no-zones", action="store_true", help="leave out the per-school zone sheet"
    )
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.set_defaults(run=cmd_forecast)


def add_year_flag(parser: argparse.ArgumentParser) -> None:
    """``--year YEAR``: plan with that year's projection and class sizes."""
    parser.add_argument(
        "--year",
        type=int,
        metavar="YEAR",
        help="plan for this year: projected school-age children, that year's class sizes "
        "(建标109-2008 near/long term) and the phased schedule; the same as "
        "--projection.plan-year YEAR (default: the data as it is)",
    )


def apply_year(rules: Rules, year: int | None) -> Rules:
    """``rules`` planning for ``year`` (unchanged when ``year`` is None)."""
    if year is None:
        return rules
    return rules.with_values({"projection": {"plan_year": year}}, where="--year")


def year_overrides(overrides: dict[str, dict[str, str]], year: int | None) -> dict:
    """Rule overrides (``{section: {name: text}}``) with ``--year`` as ``projection.plan_year``."""
    if year is None:
        return overrides
    projection = {**overrides.get("projection", {}), "plan_year": str(year)}
    return {**overrides, "projection": projection}


def read_birth_table(path: str | Path) -> pd.DataFrame:
    """A birth table file as text cells (checked by the projection), rows numbered as in the file."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            table = pd.read_excel(path, dtype=str, engine="openpyxl")
        else:
            table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise InputError(
            f"the birth table {path} cannot be read ({exc})",
            fix="give a CSV (UTF-8) or .xlsx file with columns unit_id (or town), year, births",
        ) from None
    return table.assign(src_row=np.arange(2, len(table) + 2))


def _say(lang: str, zh: str, en: str) -> None:
    print(zh if lang == "zh" else en)


def cmd_forecast(args: argparse.Namespace) -> int:
    """The ``forecast`` command; exit 0 done, 2 when the input or the rules cannot be used."""
    from app.export.forecast import write_forecast  # matplotlib and openpyxl: only when writing

    cfg = make_config(args.project, {})
    rules = load_rules_for(cfg, args.rules)
    if args.to is not None:
        rules = rules.with_values({"projection": {"horizon": args.to}}, where="--to")
    layers, report = load_planning_layers(cfg, rules)
    if not report.usable:
        for p in report.errors:
            print(f"schoolplan: {p}", file=sys.stderr)
        return EXIT_UNUSABLE
    births = read_birth_table(args.births) if args.births else None
    result = run_projection(
        layers.units, layers.schools, rules.projection, rules.standards, births=births
    )
    plan = None
    if args.plan:
        plan = read_plan(args.plan)
    elif not args.no_zones:
        _say(args.lang, "划分现状学区…", "zoning the present schools…")
        plan = run_plan(layers, rules)
    name = cfg.path.parent.name if cfg.path else "forecast"
    out = Path(args.out) if args.out else Path.cwd() / "out" / name
    title = (cfg.name_en if args.lang == "en" else cfg.name) or ""
    # Always recomputed: --to may reach past the plan's own schedule, --births may change it.
    schedule = phased_schedule(plan, result, rules) if plan is not None else None
    files = write_forecast(
        result,
        layers.units,
        out,
        params=rules.projection,
        plan=plan,
        schedule=schedule,
        title=title,
        lang=args.lang,
    )
    totals = result.totals()
    first, last = int(result.years[0]), int(result.years[-1])
    for level in totals.columns:
        a, b = totals.loc[first, level], totals.loc[last, level]
        print(f"  {level}: {first} {a:,.0f} → {last} {b:,.0f} ({(b / a - 1) if a else 0:+.0%})")
    _say(args.lang, "输出文件:", "Files written:")
    for kind, path in files.items():
        print(f"  {kind}: {path}")
    return EXIT_OK
