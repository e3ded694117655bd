"""Education groups (教育集团): one quality core school leading member schools, POLICY.md §1.

``run_grouping`` runs the three parts: ``problem.build_problem`` (schools + rules + cost model →
arrays), ``solver.solve`` (exact: most members placed, then least total distance) and the
explanation (groups with their pattern, mode and floors; a reason for every school in Chinese and
English; the summary).

Modelling choices (say them to the planner, they are the "rules" the optimum is proven within):
- Every row (school_id, level) is one school here; a combined school's levels group separately.
- Roles are fixed before solving: a school that qualifies to lead is a core candidate and never a
  member; every other school of a member type (weak, rural/township, planned, relocation site) is
  a member candidate. A core candidate that gets no member is simply not a group.
- Locked pairs are the planner's decision: they bypass radius and member type but not levels,
  exclusion, capacity or "a core is never a member".
- ``min_members`` > 1 is solved exactly by MILP (see the solver); a core opened by a locked pair
  keeps its group even below the minimum and the summary says so.
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np

from core.progress import Progress, check_canceled, ensure
from geo.distance import CostModel
from planning.grouping.explain import GroupingResult, groups_frames, school_frame
from planning.grouping.groups import form_groups, links
from planning.grouping.problem import GroupChoices, build_problem
from planning.grouping.reasons import placement, school_reasons
from planning.grouping.solver import solve
from planning.grouping.summary import Frames, summarize
from planning.rules import GroupingParams, Standards


def run_grouping(
    schools: gpd.GeoDataFrame,
    params: GroupingParams,
    standards: Standards,
    *,
    costs: CostModel,
    choices: GroupChoices | None = None,
    progress: Progress | None = None,
) -> GroupingResult:
    """Propose education groups that are optimal within ``params`` (see the module docstring);
    ``costs`` is the distance model (geo.distance.make_cost_model) every distance comes from."""
    t_start = time.perf_counter()
    progress = ensure(progress)
    model = build_problem(schools, params, costs, choices or GroupChoices(), progress=progress)
    check_canceled(progress)
    progress.update(0.4, "教育集团:求解最优分组 / groups: solving")
    sol = solve(model.flow)
    check_canceled(progress)
    progress.update(0.8, "教育集团:整理结果 / groups: writing results")

    groups = form_groups(model, links(model, sol), params)
    layer, pairs, details = groups_frames(model, groups)
    placed = placement(groups)
    work_sg = school_frame(model, placed, school_reasons(model, sol, placed, params))
    # Back to the caller's row order and index (positions, so a repeated label cannot misalign).
    school_groups = work_sg.iloc[np.argsort(model.order, kind="stable")].set_index(schools.index)
    frames = Frames(groups=layer, details=details, schools=work_sg)
    summary = summarize(model, frames, sol, params, time.perf_counter() - t_start)
    progress.update(1.0, f"教育集团:{len(layer)} 个 / groups: {len(layer)}")
    return GroupingResult(
        groups=layer,
        school_groups=school_groups,
        summary=summary,
        status=summary.status,
        pairs=pairs,
        details=details,
    )
