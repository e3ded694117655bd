"""New schools from population thresholds, sized in classes and sited where they serve most.

POLICY.md §2 (002 §二.3, 004 §(四)1). For every planning area (a unit, a town, or the county for
senior high schools) and level:

1. requirement — how many schools of which class range the population calls for
   (``thresholds.requirement``);
2. shortfall — school-age children minus the places existing and planned schools within the
   service distance can give them, shared by a maximum-flow/minimum-distance assignment
   (``supply.allocate_supply``): each place goes to one child, the nearest ones first, so one
   school's places are never counted for two areas;
3. sizing — only the shortfall becomes new schools (``thresholds.size_new_schools``), each
   clamped to the rule's class range; a gap smaller than ``min_fill_share`` of the rule's
   smallest school is left to expanding nearby schools and reported, not built;
4. siting — p-median (``pmedian``) on children-weighted distance among the project's candidate
   sites, else the population-weighted centre of the area (``siting``).

In three parts: ``build`` (layers → ``NewSchoolProblem``), ``siting.solve`` (problem →
``Solution``, arrays and codes) and ``explain`` (codes → words and frames). Every proposal
carries a ``rule`` text (zh and en) with the threshold and the numbers that fired it. Layout
status of existing schools comes from ``layout``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from core.progress import Progress, ensure
from core.vocab import LEVEL
from geo.distance import CostModel, as_xy
from planning.newschools import explain
from planning.newschools.build import build_problem, check_inputs, check_params
from planning.newschools.layout import layout_status
from planning.newschools.problem import Solution
from planning.newschools.result import NewSchoolResult
from planning.newschools.siting import nearest_within, solve
from planning.rules import NewSchoolParams, Standards


def _result(layout: pd.DataFrame, **parts: Any) -> NewSchoolResult:
    return NewSchoolResult(
        layout_status=layout["layout_status"],
        layout_reason=layout["layout_reason"],
        layout_reason_en=layout["layout_reason_en"],
        merge_into=layout["merge_into"],
        **parts,
    )


def run_new_schools(
    schools: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    params: NewSchoolParams,
    standards: Standards,
    *,
    costs: CostModel,
    candidates: gpd.GeoDataFrame | None = None,
    progress: Progress | None = None,
) -> NewSchoolResult:
    """New schools required by the population thresholds, and layout status of ``schools``.

    ``schools`` and ``units`` are canonical layers (ARCHITECTURE.md) in one metric CRS;
    ``candidates`` optional candidate sites (level "" = any); ``costs`` the project's
    ``geo.distance`` cost model (``make_cost_model``).
    """
    progress = ensure(progress)
    check_inputs(schools, units, candidates)
    check_params(params)
    crs = schools.crs if schools.crs is not None else units.crs

    layout = layout_status(schools, params, costs)
    if len(units) == 0:
        return _result(
            layout,
            new_schools=explain.empty_new_frame(crs),
            requirements=pd.DataFrame(),
            summary=explain.summary(Solution(), layout, params),
            status="empty",
        )

    problem = build_problem(
        schools, units, params, standards, costs=costs, candidates=candidates, progress=progress
    )
    n_levels = len(problem.levels)

    def on_level(i: int, level: str) -> None:
        progress.update(i / n_levels, f"新建学校:{LEVEL.label(level, 'zh')} / new schools: {level}")

    solution = solve(problem, params, standards, costs, progress=progress, on_level=on_level)
    progress.update(1.0, "新建学校完成 / new schools done")

    new = explain.new_frame(problem, solution, params, crs)
    near = np.full(len(new), -1, dtype=np.int64)
    if problem.schools_location is not None and len(new):
        near = nearest_within(
            costs, as_xy(new.geometry), problem.schools_xy, params.service_km_primary
        )
    return _result(
        layout,
        new_schools=new,
        requirements=explain.requirements_frame(problem, solution, params),
        summary=explain.summary(solution, layout, params),
        status="ok",
        context=explain.context_frame(problem, solution, new, near),
    )


__all__ = ["run_new_schools"]
