"""The ``schoolplan`` command line.

Contract (kept stable for other tools): ``schoolplan check|plan [PROJECT]`` with PROJECT a
project.toml or a folder holding one (default: the sample county), or layers given with
``--schools FILE[:LAYER] --population … --boundary … [--roads …] [--candidates …]``;
``--rules FILE``; ``plan --out DIR`` writes plan.gpkg, summary.json and the exports.
Bad input exits 2 with a plain message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from app import __version__
from app.cli_progress import TerminalProgress
from core.errors import Canceled, Problem, SchoolPlanError
from geo.layers import LAYER_KEYS

EXIT_OK, EXIT_BUG, EXIT_UNUSABLE, EXIT_CANCELED = 0, 1, 2, 130
SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


def _add_layer_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "project",
        nargs="?",
        default=None,
        help="project.toml or a folder holding one (default: the sample county 道县)",
    )
    for key in LAYER_KEYS:
        p.add_argument(
            f"--{key}", metavar="FILE[:LAYER]", help=f"{key} layer file (instead of a project)"
        )
    p.add_argument(
        "--rules", metavar="FILE", help="rules TOML, in the format 'schoolplan rules' prints"
    )
    p.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="language of messages and exports"
    )


def _add_rule_flags(p: argparse.ArgumentParser) -> None:
    """One flag per declared rules parameter, e.g. --groups.radius-km 15."""
    from planning.rules import flag_name, iter_specs

    g = p.add_argument_group("rules (each overrides the rules file)")
    for section, spec, value in iter_specs():
        info = spec.info
        unit = f" [{info.unit}]" if info.unit else ""
        choices = f" {{{','.join(info.choices)}}}" if info.choices else ""
        g.add_argument(
            flag_name(section, spec),
            dest=f"rule:{section}:{spec.name}",
            metavar="V",
            # argparse formats help with %: a unit like [%] must be escaped.
            help=f"{info.zh} / {info.en}{unit}{choices} (default {value})".replace("%", "%%"),
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="schoolplan", description="学校布局规划 SchoolPlan")
    parser.add_argument("--version", action="version", version=f"schoolplan {__version__}")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser(
        "check", help="check the layers and print a report (exit 0 usable, 2 not usable)"
    )
    _add_layer_args(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_rule_flags(p)

    p = sub.add_parser("plan", help="check, then plan new schools, groups and catchments")
    _add_layer_args(p)
    p.add_argument("--out", metavar="DIR", help="output folder (default: ./out/<project>)")
    p.add_argument(
        "--formats",
        default="html,png,pdf,xlsx,docx",
        help="exports besides plan.gpkg and summary.json: any of html,png,pdf,xlsx,docx, or 'none'",
    )
    p.add_argument(
        "--paper", choices=("A3", "A4"), default="A3", help="paper size of map.png/map.pdf"
    )
    _add_rule_flags(p)

    p = sub.add_parser("rules", help="print the effective rules as TOML")
    _add_layer_args(p)
    _add_rule_flags(p)

    p = sub.add_parser("export", help="re-render the exports of a saved plan without solving again")
    p.add_argument("plan_dir", help="folder written by 'schoolplan plan --out DIR'")
    p.add_argument("--out", metavar="DIR", help="where to write (default: the plan folder)")
    p.add_argument("--formats", default="html,png,pdf,xlsx,docx")
    p.add_argument("--paper", choices=("A3", "A4"), default="A3")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")

    p = sub.add_parser("gui", help="open the desktop window")
    p.add_argument("project", nargs="?", default=None)

    from app import cli_batch

    cli_batch.add_parser(sub)

    from app import cli_compare

    cli_compare.add_parser(sub)
    return parser


def _layer_args(args) -> dict[str, str]:
    return {k: getattr(args, k) for k in LAYER_KEYS if getattr(args, k, None)}


def _rule_overrides(args) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for key, value in vars(args).items():
        if key.startswith("rule:") and value is not None:
            _, section, name = key.split(":")
            out.setdefault(section, {})[name] = value
    return out


def _rules(args):
    from geo.project import make_config
    from planning.project import load_rules_for

    cfg = make_config(args.project, _layer_args(args))
    rules = load_rules_for(cfg, args.rules)
    overrides = _rule_overrides(args)
    if overrides:
        rules = rules.with_values(overrides, where="command line")
    return cfg, rules


def format_problem(p: Problem, lang: str = "zh") -> str:
    sev = SEVERITY_ZH[p.severity] if lang == "zh" else p.severity
    text = f"[{sev}] {p.where() + ': ' if p.where() else ''}{p.problem}"
    if p.fix:
        text += f"\n        {'修改' if lang == 'zh' else 'fix'}: {p.fix}"
    return text


def print_report(report, lang: str = "zh", stream=None) -> None:
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


def cmd_check(args) -> int:
    from geo.project import load_layers

    cfg, rules = _rules(args)
    layers, report = load_layers(cfg, rules.standards)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(report, args.lang)
    return EXIT_OK if report.usable else EXIT_UNUSABLE


def cmd_rules(args) -> int:
    from planning.rules import rules_to_toml

    _, rules = _rules(args)
    sys.stdout.write(rules_to_toml(rules))
    return EXIT_OK


def _default_out(cfg) -> Path:
    name = cfg.path.parent.name if cfg.path else "plan"
    return Path.cwd() / "out" / name


def cmd_plan(args) -> int:
    from geo.project import load_layers
    from planning.outputs import write_plan
    from planning.pipeline import run_plan

    cfg, rules = _rules(args)
    progress = TerminalProgress()
    progress.update(0.0, "读取并检查图层 / reading and checking layers")
    layers, report = load_layers(cfg, rules.standards)
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
    result = run_plan(layers, rules, progress=progress, meta=meta)
    out = Path(args.out) if args.out else _default_out(cfg)
    files = write_plan(result, out)
    formats = [f for f in args.formats.split(",") if f and f != "none"]
    if formats:
        files.update(_export(result, out, formats, args.paper, args.lang))
    progress.close()
    _print_summary(result, files, args.lang)
    return EXIT_OK


def _export(result, out: Path, formats, paper: str, lang: str) -> dict:
    from app.export import export_all

    return export_all(result, out, lang=lang, paper=paper, formats=tuple(formats))


def cmd_export(args) -> int:
    from planning.outputs import read_plan

    result = read_plan(args.plan_dir)
    out = Path(args.out) if args.out else Path(args.plan_dir)
    out.mkdir(parents=True, exist_ok=True)
    formats = [f for f in args.formats.split(",") if f and f != "none"]
    files = _export(result, out, formats, args.paper, args.lang)
    for kind, path in files.items():
        print(f"{kind}: {path}")
    return EXIT_OK


def _print_summary(result, files: dict, lang: str) -> None:
    s = result.summary
    g, n, c = s.get("groups", {}), s.get("new_schools", {}), s.get("catchments", {})
    zh = lang == "zh"
    print("规划完成 / plan done" if zh else "Plan done")
    if g:
        print(
            f"  教育集团 {g.get('count', 0)} 个, 覆盖率 {g.get('coverage_pct', 0):.1f}% (目标 {g.get('target_pct', 0):.0f}%)"
            if zh
            else f"  groups {g.get('count', 0)}, coverage {g.get('coverage_pct', 0):.1f}% (target {g.get('target_pct', 0):.0f}%)"
        )
    if n:
        print(
            f"  新建学校: 小学 {n.get('primary', 0)}, 初中 {n.get('junior', 0)}, 高中 {n.get('senior', 0)}, 共 {n.get('classes_total', 0)} 班"
            if zh
            else f"  new schools: primary {n.get('primary', 0)}, junior {n.get('junior', 0)}, senior {n.get('senior', 0)}, {n.get('classes_total', 0)} classes"
        )
    for level, figs in c.items() if isinstance(c, dict) else []:
        if isinstance(figs, dict) and "students" in figs:
            print(
                f"  {level}: students {figs.get('students', 0):,.0f}, unserved {figs.get('unserved', 0):,.0f}, "
                f"too far {figs.get('too_far', 0):,.0f}, mean {figs.get('mean_km', figs.get('mean_distance_km', 0)) or 0:.2f} km"
            )
    print("输出文件:" if zh else "Files written:")
    for kind, path in files.items():
        print(f"  {kind}: {path}")


def cmd_gui(args) -> int:
    try:
        from app.gui.main import run_gui
    except ImportError as exc:
        print(f"schoolplan: the desktop window is not available ({exc})", file=sys.stderr)
        return EXIT_BUG
    return run_gui(args.project)


COMMANDS = {
    "check": cmd_check,
    "plan": cmd_plan,
    "rules": cmd_rules,
    "export": cmd_export,
    "gui": cmd_gui,
    "batch": lambda args: __import__("app.cli_batch").cli_batch.run(args),
    "compare": lambda args: __import__("app.cli_compare").cli_compare.run(args),
    "scenario": lambda args: __import__("app.cli_compare").cli_compare.run(args),
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui"] if _has_display() else ["plan"])
    try:
        return COMMANDS[args.command](args)
    except Canceled:
        print("已取消 / canceled", file=sys.stderr)
        return EXIT_CANCELED
    except KeyboardInterrupt:
        print("\n已中断 / interrupted", file=sys.stderr)
        return EXIT_CANCELED
    except SchoolPlanError as exc:
        print(f"schoolplan: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception:  # noqa: BLE001 - a bug: keep the traceback in a log, not on the planner's screen
        log = Path.home() / ".schoolplan" / "crash.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(traceback.format_exc(), encoding="utf-8")
        print(
            f"schoolplan: internal error (details written to {log}); please report it",
            file=sys.stderr,
        )
        return EXIT_BUG


def _has_display() -> bool:
    import os

    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in (
        "win32",
        "darwin",
    )


if __name__ == "__main__":
    sys.exit(main())
