"""Who may lead a group and who may join one, as boolean arrays over the schools (POLICY.md §1).

Roles are fixed before solving: a school that qualifies to lead is a core candidate and never a
member; every other school of a member type (weak, rural/township, planned, relocation site) is a
member candidate. The planner's choices (excluded rows, forced cores, locked pairs) arrive here
already resolved to positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.vocab import LEVELS
from planning.rules import GroupingParams

LEVEL_RANK = {lv: k for k, lv in enumerate(LEVELS)}
QUALITY_RANK = {"weak": 0, "ordinary": 1, "core": 2}
# Distances are compared with this slack so a member exactly at the radius is in reach.
EPS = 1e-9


@dataclass(frozen=True)
class Roles:
    """One boolean per school row, in the engine's work order."""

    excluded: np.ndarray
    private_blocked: np.ndarray
    core: np.ndarray  # core candidate
    core_rural_only: np.ndarray  # admitted only as a township central school: leads rural only
    member: np.ndarray  # member candidate (incl. locked members)
    ruralish: np.ndarray
    weak: np.ndarray
    planned: np.ndarray
    relocation: np.ndarray
    central: np.ndarray
    private: np.ndarray
    urban: np.ndarray


def assign_roles(
    df: pd.DataFrame,
    params: GroupingParams,
    excluded: np.ndarray,
    forced: np.ndarray,
    locks: list[tuple[int, int]],
) -> Roles:
    """Core and member candidates of ``df`` (canonical school columns) under ``params``;
    ``locks`` are (core position, member position) pairs the planner fixed."""
    quality = df["quality"].map(QUALITY_RANK).fillna(1).to_numpy()
    classes = pd.to_numeric(df["classes"], errors="coerce").fillna(0).to_numpy()
    private = (df["ownership"] == "private").to_numpy()
    existing = (df["status"] == "existing").to_numpy()
    stype = df["school_type"].to_numpy()
    loc = df["location"].to_numpy()
    central = stype == "central"
    ruralish = np.isin(loc, ("rural", "town")) | (stype == "teaching_point")
    weak = quality == 0
    planned = (df["status"] == "planned").to_numpy()
    relocation = stype == "relocation_site"
    private_blocked = private & (not params.private_may_join)
    big_enough = classes >= params.core_min_classes
    quality_ok = quality >= QUALITY_RANK[params.core_min_quality]
    may_lead = ~excluded & ~private_blocked & existing & (~private | params.private_may_lead)
    by_quality = may_lead & quality_ok & big_enough
    by_central = may_lead & params.central_may_lead & central & ~weak & big_enough
    lock_cores = np.zeros(len(df), bool)
    lock_members = np.zeros(len(df), bool)
    for c, m in locks:
        lock_cores[c] = True
        lock_members[m] = True
    core = by_quality | by_central | forced | lock_cores
    core_rural_only = core & by_central & ~by_quality & ~forced & ~lock_cores
    member_type = (
        (weak & params.member_weak)
        | (ruralish & params.member_rural)
        | (planned & params.member_new)
        | (relocation & params.member_relocation)
    )
    member = (~core & ~excluded & ~private_blocked & member_type) | lock_members
    return Roles(
        excluded=excluded,
        private_blocked=private_blocked & ~lock_members & ~lock_cores & ~forced,
        core=core,
        core_rural_only=core_rural_only,
        member=member,
        ruralish=ruralish,
        weak=weak,
        planned=planned,
        relocation=relocation,
        central=central,
        private=private,
        urban=loc == "urban",
    )
