"""What the catchment engine returns: the result frames and a typed summary.

``CatchmentSummary.to_dict()`` is the ``catchments`` block of summary.json, key for key and in
the same order; callers read the fields, summary.json reads the dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import geopandas as gpd


@dataclass(frozen=True)
class LevelSummary:
    """Figures of one level that has schools. Pupil figures are 0 with a uniform grid (no
    population layer); distances are then cell (area) weighted."""

    students: float
    assigned: float
    too_far: float
    unserved: float
    mean_distance_km: float | None
    p95_distance_km: float | None
    max_distance_km: float | None
    over_capacity_schools: int
    oversized_schools: int
    solve_seconds: float
    schools: int
    units: int
    units_too_far: int
    units_unserved: int
    method: str
    k_used: int
    # 000 §七(八): units whose nearest school is a group member without room for them (they are
    # not zoned to the group's core; demand column feeder_<level>).
    units_member_full: int = 0
    # Whole units: the flow (LP) bound and the gap to it; None when exact or not bounded.
    lower_bound_pupil_km: float | None = None
    gap_to_bound_pct: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.lower_bound_pupil_km is None:
            del out["lower_bound_pupil_km"], out["gap_to_bound_pct"]
        return out


@dataclass(frozen=True)
class NoSchoolLevel:
    """A level with pupils but no school of it: every pupil is unserved."""

    students: float
    unserved: float
    note: str = "no school of this level"

    def to_dict(self) -> dict[str, Any]:
        return {"students": self.students, "unserved": self.unserved, "note": self.note}


@dataclass(frozen=True)
class RoadNetworkSummary:
    """The road graph the distances ran on (road distance only)."""

    nodes: int
    edges: int
    pieces: int
    largest_piece_share: float
    units_off_network: int

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class CatchmentSummary:
    """``distance``: the cost model's kind; ``mode``: nearest | capacity; ``demand_source``:
    population | uniform_grid; ``levels``: per level in ``LEVELS`` order, the levels with
    schools or with pupils."""

    distance: str
    mode: str
    demand_source: str
    levels: Mapping[str, LevelSummary | NoSchoolLevel]
    road_network: RoadNetworkSummary | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "distance": self.distance,
            "mode": self.mode,
            "demand_source": self.demand_source,
        }
        out.update({level: s.to_dict() for level, s in self.levels.items()})
        if self.road_network is not None:
            out["road_network"] = self.road_network.to_dict()
        out["notes"] = list(self.notes)
        return out


@dataclass
class CatchmentResult:
    """``catchments``: one zone row per school (school_id, level, students, capacity, utilization,
    distances, classes, oversized); ``demand``: one row per unit with per level its pupils,
    school, distance and status code (``core.vocab.DEMAND_STATUS``)."""

    catchments: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    summary: CatchmentSummary
    status: str  # ok | empty
    notes: list[str] = field(default_factory=list)
