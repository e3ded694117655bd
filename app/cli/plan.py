"""``schoolplan check|plan|rules|export``: check the layers, plan, print the rules, re-export."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import TextIO

from app.cli.flags import (
    EXIT_OK,
    EXIT_UNUSABLE,
    add_baseline_flag,
    add_layer_args,
    add_rule_flags,
    formats,
    layer_args,
    rule_overrides,
)
from app.cli.forecast import add_year_flag, apply_year
from app.cli.progress import TerminalProgress
from app.export import export_all
from core.errors import Problem
from core.vocab import LEVEL, LEVELS
from geo.project import CheckReport, ProjectConfig, make_config
from planning.figures import HEADLINE, plan_figures
from planning.pipeline import PlanResult, run_plan
from planning.project import load_planning_layers, load_rules_for
from planning.rules import OUTPUT_CRS_KEYWORDS, Rules, rules_to_toml
from store.baseline import read_baseline
from store.plan import read_plan, write_plan

SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def english(message: str) -> str:
    """The English half of a bilingual 'zh / en' progress message."""
    head, sep, tail = message.partition(" / ")
    return tail if sep and CJK.search(head) else message


class EnglishProgress(TerminalProgress):
    """Progress under --lang en: the engines' 'zh / en' messages shown in English only."""

    def update(self, fraction: float, message: str = "") -> None:
        super().update(fraction, english(message))


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="check the layers and print a report (exit 0 usable, 2 not usable)"
    )
    add_layer_args(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    add_rule_flags(p)
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("plan", help="check, then plan new schools, groups and catchments")
    add_layer_args(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: ./out/<project>)")
    p.add_argument(
        "--formats",
        default="html,png,pdf,xlsx,docx",
        help="exports besides plan.gpkg and summary.json: any of html,png,pdf,xlsx,docx, or 'none'",
    )
    p.add_argument(
        "--paper", choices=("A3", "A4"), default="A3", help="paper size of map.png/map.pdf"
    )
    add_year_flag(p)
    add_baseline_flag(p)
    add_rule_flags(p)
    _add_out_crs(p, "--output.crs")
    p.set_defaults(run=cmd_plan)

    p = sub.add_parser("rules", help="print the effective rules as TOML")
    add_layer_args(p)
    add_rule_flags(p)
    p.set_defaults(run=cmd_rules)

    p = sub.add_parser("export", help="re-render the exports of a saved plan without solving again")
    p.add_argument("plan_dir", help="folder written by 'schoolplan plan --out DIR'")
    p.add_argument("--out", metavar="DIR", help="where to write (default: the plan folder)")
    p.add_argument("--formats", default="html,png,pdf,xlsx,docx")
    p.add_argument("--paper", choices=("A3", "A4"), default="A3")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    _add_out_crs(p)
    p.set_defaults(run=cmd_export)


def _add_out_crs(p: argparse.ArgumentParser, same_as: str = "") -> None:
    """``--out-crs``: the CRS of plan.gpkg (``[output] crs``); on ``plan`` it writes the same
    setting as the generated rule flag ``same_as``."""
    dest = "rule:output:crs" if same_as else "out_crs"
    keywords = ", ".join(OUTPUT_CRS_KEYWORDS)
    p.add_argument(
        "--out-crs",
        dest=dest,
        metavar="CRS",
        help=f"CRS of plan.gpkg: {keywords}, or a code like EPSG:4547"
        + (f" (same as {same_as}; default auto)" if same_as else "; rewrites plan.gpkg in it"),
    )


def config_and_rules(args: argparse.Namespace) -> tuple[ProjectConfig, Rules]:
    """The project (or layer files) named on the command line and its rules with the flags."""
    cfg = make_config(args.project, layer_args(args))
    rules = load_rules_for(cfg, args.rules)
    overrides = rule_overrides(args)
    if overrides:
        rules = rules.with_values(overrides, where="command line")
    return cfg, rules


def format_problem(p: Problem, lang: str = "zh") -> str:
    sev = SEVERITY_ZH[p.severity] if lang == "zh" else p.severity
    text = f"[{sev}] {p.where() + ': ' if p.where() else ''}{p.problem}"
    if p.fix:
        text += f"\n        {'修改' if lang == 'zh' else 'fix'}: {p.fix}"
    return text


def print_report(report: CheckReport, lang: str = "zh", stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    for p in sorted(
        report.problems,
        key=lambda p: (
            {"error": 0, "warning": 1, "info": 2}[p.severity],
            p.file,
            p.layer,
            p.row or 0,
        ),
    ):
        print(format_problem(p, lang), file=stream)
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    if lang == "zh":
        verdict = "可以使用" if report.usable else "不能使用"
        print(
            f"\n检查结果: {verdict} — 错误 {len(report.errors)} 个, 警告 {len(report.warnings)} 个。{counts}  坐标系 {report.crs}",
            file=stream,
        )
    else:
        verdict = "usable" if report.usable else "NOT usable"
        print(
            f"\nCheck: {verdict} — {len(report.errors)} error(s), {len(report.warnings)} warning(s). {counts}  CRS {report.crs}",
            file=stream,
        )


def cmd_check(args: argparse.Namespace) -> int:
    cfg, rules = config_and_rules(args)
    layers, report = load_planning_layers(cfg, rules)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(report, args.lang)
    return EXIT_OK if report.usable else EXIT_UNUSABLE


def cmd_rules(args: argparse.Namespace) -> int:
    _, rules = config_and_rules(args)
    sys.stdout.write(rules_to_toml(rules))
    return EXIT_OK


def _default_out(cfg: ProjectConfig) -> Path:
    name = cfg.path.parent.name if cfg.path else "plan"
    return Path.cwd() / "out" / name


def cmd_plan(args: argparse.Namespace) -> int:
    cfg, rules = config_and_rules(args)
    rules = apply_year(rules, args.year)
    progress = EnglishProgress() if args.lang == "en" else TerminalProgress()
    progress.update(0.0, "读取并检查图层 / reading and checking layers")
    layers, report = load_planning_layers(cfg, rules)
    if not report.usable:
        print_report(report, args.lang, stream=sys.stderr)
        return EXIT_UNUSABLE
    for p in report.warnings:
        progress.info(format_problem(p, args.lang))
    meta = {
        "project": cfg.name or (cfg.path.parent.name if cfg.path else ""),
        "project_en": cfg.name_en,
        "project_file": str(cfg.path) if cfg.path else "",
        "lang": args.lang,
    }
    notes = data_notes(report)
    if notes:  # only then: complete data keeps its summary.json as it was
        meta["data_notes"] = notes
    baseline = read_baseline(args.baseline) if args.baseline else None
    if args.baseline:
        meta["baseline"] = str(args.baseline)
    result = run_plan(layers, rules, progress=progress, meta=meta, baseline=baseline)
    out = Path(args.out) if args.out else _default_out(cfg)
    files = write_plan(result, out)
    wanted = formats(args.formats)
    if wanted:
        files.update(export(result, out, wanted, args.paper, args.lang))
    progress.close()
    _print_summary(result, files, args.lang)
    return EXIT_OK


# Assumptions loading made that change what the plan means: repeated in summary.json and at
# the end of the run, not only among the warnings.
NOTE_CODES = (
    "no_population",
    "capacity_assumed",
    "needs_attributes",
    "raster_population",
    "candidates_proposed",
)


def data_notes(report: CheckReport) -> list[str]:
    return [p.problem for p in report.problems if p.code in NOTE_CODES]


def export(result: PlanResult, out: Path, wanted: tuple[str, ...], paper: str, lang: str) -> dict:
    # The one module that starts threads and processes; the PDF pages and the tables are written
    # by a second process while this one writes the rest.
    from app.gui.workers import run_apart, run_beside

    return export_all(
        result, out, lang=lang, paper=paper, formats=wanted, beside=run_beside, apart=run_apart
    )


def cmd_export(args: argparse.Namespace) -> int:
    result = read_plan(args.plan_dir)
    out = Path(args.out) if args.out else Path(args.plan_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict = {}
    if args.out_crs is not None:
        rules = result.rules.with_values({"output": {"crs": args.out_crs}}, where="--out-crs")
        files.update(write_plan(dataclasses.replace(result, rules=rules), out))
    files.update(export(result, out, formats(args.formats), args.paper, args.lang))
    for kind, path in files.items():
        print(f"{kind}: {path}")
    return EXIT_OK


def _print_summary(result: PlanResult, files: dict, lang: str) -> None:
    s = result.summary
    n = s.get("new_schools", {})
    zh = lang == "zh"
    print("规划完成 / plan done" if zh else "Plan done")
    # The headline figures as every output shows them (planning.figures).
    fig = plan_figures(result)
    for key in HEADLINE:
        print(f"  {fig.label(key, lang)}: {fig.text(key, lang)}")
    if n:
        print(
            f"  新建学校: 小学 {n.get('primary', 0)}, 初中 {n.get('junior', 0)}, 高中 {n.get('senior', 0)}, 共 {n.get('classes_total', 0)} 班"
            if zh
            else f"  new schools: primary {n.get('primary', 0)}, junior {n.get('junior', 0)}, senior {n.get('senior', 0)}, {n.get('classes_total', 0)} classes"
        )
    for level in fig.levels:
        keys = [f"{code}_{level}" for code in ("placed", "too_far", "no_place", "mean_km")]
        print("  " + " · ".join(f"{fig.label(k, lang)} {fig.text(k, lang)}" for k in keys))
    _print_moved(result, lang)
    for note in result.meta.get("data_notes", []):
        print(f"  {'注意' if zh else 'note'}: {note}")
    print("输出文件:" if zh else "Files written:")
    for kind, path in files.items():
        print(f"  {kind}: {path}")


def _print_moved(result: PlanResult, lang: str) -> None:
    """Against a baseline: units and pupils per level that change school."""
    catchments = result.summary.get("catchments", {})
    for level in LEVELS:
        s = catchments.get(level) or {}
        if "units_moved" not in s:
            continue
        name = LEVEL.label(level, lang)
        units, pupils = s["units_moved"], s.get("pupils_moved") or 0.0
        print(
            f"  {name}换校: {units} 个村(社区), {pupils:,.0f} 名学生"
            if lang == "zh"
            else f"  {name}: {units} units ({pupils:,.0f} pupils) change school"
        )
