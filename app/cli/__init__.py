"""The ``schoolplan`` command line.

Contract (kept stable for other tools): ``schoolplan check|plan [PROJECT]`` with PROJECT a
project.toml or a folder holding one (default: the sample county), or layers given with
``--schools FILE[:LAYER] --population … --boundary … [--roads …] [--candidates …]``;
``--rules FILE``; ``plan --out DIR`` writes plan.gpkg, summary.json and the exports.
Bad input exits 2 with a plain message, never a traceback; so does a file that cannot be written.

One module per command group (``plan``: check/plan/rules/export, ``forecast``, ``compare``,
``scenario``, ``batch``, ``gui``); each adds its parsers with ``add_parsers`` and sets ``run``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from app import __version__
from app.cli import batch, compare, forecast, gui, plan, scenario
from app.cli.flags import EXIT_BUG, EXIT_CANCELED, EXIT_UNUSABLE
from core.errors import Canceled, SchoolPlanError
from store.atomic import os_fix


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="schoolplan", description="学校布局规划 SchoolPlan")
    parser.add_argument("--version", action="version", version=f"schoolplan {__version__}")
    sub = parser.add_subparsers(dest="command")
    for module in (plan, forecast, gui, batch, compare, scenario):
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui"] if _has_display() else ["plan"])
    try:
        return args.run(args)
    except Canceled:
        print("已取消 / canceled", file=sys.stderr)
        return EXIT_CANCELED
    except KeyboardInterrupt:
        print("\n已中断 / interrupted", file=sys.stderr)
        return EXIT_CANCELED
    except SchoolPlanError as exc:
        print(f"schoolplan: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except OSError as exc:
        if exc.filename is None:
            return _internal_error()
        # A file that cannot be written or read (permission, disk full, locked): the planner can
        # act on it, so name the file and the fix instead of reporting a bug.
        print(
            f"schoolplan: {exc.filename}: {exc.strerror or exc} — fix: {os_fix(exc)}",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
    except Exception:  # noqa: BLE001 - a bug: keep the traceback in a log, not on the planner's screen
        return _internal_error()


def _internal_error() -> int:
    log = Path.home() / ".schoolplan" / "crash.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(traceback.format_exc(), encoding="utf-8")
    print(
        f"schoolplan: internal error (details written to {log}); please report it", file=sys.stderr
    )
    return EXIT_BUG


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in (
        "win32",
        "darwin",
    )
