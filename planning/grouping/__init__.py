"""Education groups, in three parts: build (``problem``, ``roles``) → solve (``solver``) →
explain (``groups``, ``reasons``, ``explain``, ``summary``); ``engine.run_grouping`` runs them."""

from planning.grouping.engine import run_grouping
from planning.grouping.explain import (
    GROUP_COLUMNS,
    PAIRING_COLUMNS,
    SCHOOL_GROUP_COLUMNS,
    GroupingResult,
    pairing_table,
    pairing_table_from_layers,
)
from planning.grouping.groups import MODES, PATTERNS
from planning.grouping.problem import GroupChoices, build_problem
from planning.grouping.summary import GroupingSummary

__all__ = [
    "GROUP_COLUMNS",
    "MODES",
    "PAIRING_COLUMNS",
    "PATTERNS",
    "SCHOOL_GROUP_COLUMNS",
    "GroupChoices",
    "GroupingResult",
    "GroupingSummary",
    "build_problem",
    "pairing_table",
    "pairing_table_from_layers",
    "run_grouping",
]
