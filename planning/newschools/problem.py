"""The plain objects between the three parts: the problem ``build`` makes of the layers, and the
solution ``siting`` makes of the problem. Arrays and numbers only: no frames, no words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from planning.newschools.thresholds import Requirement


@dataclass(frozen=True)
class UnitArrays:
    """Per population unit (positions 0..n-1)."""

    xy: np.ndarray  # (n, 2) representative point; NaN where the unit has no usable geometry
    valid: np.ndarray  # bool: xy is finite
    population: np.ndarray  # float, ≥ 0
    not_point: np.ndarray  # bool: the geometry is not a single point (it may be sampled)
    # Regular grid of about n points inside unit i (``samples(i, n)``; empty unless a polygon
    # with area), asked for lazily: only the few areas that get several schools need it.
    samples: Callable[[int, int], np.ndarray]
    # Labels, read only by ``explain``.
    ids: np.ndarray
    names: np.ndarray
    towns: np.ndarray
    kinds: np.ndarray


@dataclass(frozen=True)
class CandidateArrays:
    """The project's candidate sites (none when not used)."""

    xy: np.ndarray  # (m, 2)
    level: np.ndarray  # level code, "" = any level
    names: np.ndarray  # for ``explain``
    proposed: np.ndarray  # bool: proposed from the population (planning.proposals), not data

    @classmethod
    def none(cls) -> CandidateArrays:
        return cls(
            np.zeros((0, 2)),
            np.zeros(0, dtype=object),
            np.zeros(0, dtype=object),
            np.zeros(0, dtype=bool),
        )


@dataclass(frozen=True)
class LevelProblem:
    """One level: children, the places existing schools give them, and the planning areas."""

    level: str
    class_size: int
    service_km: float
    mode: str  # planning area: unit | town | county
    children: np.ndarray  # whole children per unit (0 where the unit has no point)
    served: np.ndarray  # of them, placed in existing schools within the service distance
    area_keys: np.ndarray  # planning-area key per unit
    area_names: dict[str, str]  # display name per key, for ``explain``


@dataclass(frozen=True)
class NewSchoolProblem:
    units: UnitArrays
    candidates: CandidateArrays
    levels: tuple[LevelProblem, ...]
    schools_xy: np.ndarray  # every school row (all levels)
    schools_location: np.ndarray | None  # their location codes; None when the layer has none
    supply_seconds: float  # time spent sharing existing places (reported as solve time)


class Site(NamedTuple):
    """Where one new school goes: a candidate (its position), a demand point or a centre."""

    x: float
    y: float
    how: str  # core.vocab.NEW_SCHOOL_SITE code
    candidate: int = -1  # candidate position when ``how`` is "candidate" or "proposed"


@dataclass(frozen=True)
class AreaOutcome:
    """One planning area at one level with a requirement or a gap (the requirements table)."""

    area: str
    level: str
    population: float
    children: float
    supplied: float  # places of existing schools within reach
    absorbed: float  # spare places of new schools already proposed nearby
    gap: float
    req: Requirement
    sizes: tuple[int, ...]  # classes of each new school (empty: none)
    note: str  # "" | below_min | below_threshold (core.vocab.NEW_SCHOOL_NOTE code)


@dataclass(frozen=True)
class NewSite:
    """One proposed new school."""

    area: int  # position in ``Solution.areas``
    site: Site
    classes: int
    capacity: int
    unit: int  # the area's unit nearest to the site (names the school, gives its kind)


@dataclass
class Solution:
    areas: list[AreaOutcome] = field(default_factory=list)
    sites: list[NewSite] = field(default_factory=list)  # in level order, then area order
    unserved_after: dict[str, int] = field(default_factory=dict)
    below_min: int = 0  # areas whose gap is left to expanding nearby schools
    seconds: float = 0.0


__all__ = [
    "UnitArrays",
    "CandidateArrays",
    "LevelProblem",
    "NewSchoolProblem",
    "Site",
    "AreaOutcome",
    "NewSite",
    "Solution",
]
