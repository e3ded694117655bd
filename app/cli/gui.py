"""``schoolplan gui [PROJECT]``: open the desktop window."""

from __future__ import annotations

import argparse
import sys

from app.cli.flags import EXIT_BUG


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the desktop window")
    p.add_argument("project", nargs="?", default=None)
    p.set_defaults(run=cmd_gui)


def cmd_gui(args: argparse.Namespace) -> int:
    # Qt is imported only here: the other commands run on servers without Qt's libraries.
    try:
        from app.gui.main import run_gui
    except ImportError as exc:
        print(f"schoolplan: the desktop window is not available ({exc})", file=sys.stderr)
        return EXIT_BUG
    return run_gui(args.project)
