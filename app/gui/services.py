"""What a part of the window may ask of the window: speak to the planner and show state.

The controllers (``docio``, ``editing``, ``jobs``) and the scenario panel get one of these
instead of the window itself, so none of them knows the window's class or its private methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PyQt6.QtWidgets import QMainWindow


@dataclass(frozen=True)
class WindowServices:
    parent: QMainWindow  # the parent of the dialogs a part opens
    say: Callable[[str], None]  # status line and the Messages tab
    status: Callable[[str], None]  # the status line only (a job's progress)
    note: Callable[[str], None]  # the Messages tab only
    tech_note: Callable[[str], None]  # the engines' own notes (English), in the technical log
    show_message: Callable[..., Any]  # (title, text[, icon]) -> a non-blocking message box
    confirm: Callable[[str, str], bool]  # (title, question) -> yes
    record_error: Callable[[str], None]  # the last error, for the planner's report and tests
    show_report: Callable[[Any, bool], None]  # (check report, bring the Data check tab up)
    refresh: Callable[[], None]  # title and "results up to date" label
