"""Catchment zones for nearby enrolment (划片就近入学), in three parts as every engine:

- build (``problem``): layers, rules and the cost model → pupils per unit, places per school,
  candidate schools per unit;
- solve (``assign``, ``assign_whole``, ``assign_lns``): arrays in, arrays out;
- explain (``explain``, ``result``): demand columns with status codes, zones, a typed summary;

``engine.run_catchments`` runs them per level.
"""

from planning.catchments.engine import run_catchments, zoning_of
from planning.catchments.result import (
    CatchmentResult,
    CatchmentSummary,
    LevelSummary,
    NoSchoolLevel,
    RoadNetworkSummary,
)

__all__ = [
    "CatchmentResult",
    "CatchmentSummary",
    "LevelSummary",
    "NoSchoolLevel",
    "RoadNetworkSummary",
    "run_catchments",
    "zoning_of",
]
