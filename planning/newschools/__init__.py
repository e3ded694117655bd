"""New schools and the layout status of existing schools (POLICY.md §2), in three parts.

``build`` turns the layers, rules and cost model into a ``NewSchoolProblem`` of arrays
(``thresholds``, ``supply``); ``siting.solve`` turns it into a ``Solution`` of numbers and codes
(``pmedian``, ``reach``); ``explain`` turns that into words (core.vocab) and result frames.
``engine.run_new_schools`` runs the three; ``layout`` gives the layout status.
"""

from planning.newschools.engine import run_new_schools
from planning.newschools.explain import as_school_rows
from planning.newschools.result import NEW_COLUMNS, NewSchoolResult, NewSchoolSummary
from planning.newschools.supply import allocate_supply
from planning.newschools.thresholds import Requirement, requirement, size_new_schools

__all__ = [
    "NEW_COLUMNS",
    "NewSchoolResult",
    "NewSchoolSummary",
    "Requirement",
    "allocate_supply",
    "as_school_rows",
    "requirement",
    "run_new_schools",
    "size_new_schools",
]
