"""What the population thresholds require of one planning area, and how big the new schools are.

POLICY.md §2 (002 §二.3, 004 §(四)1): 4,000–10,000 people → one complete primary of 6–12
classes; above 10,000, one primary of 18–24 classes per 10,000; one junior of ≥ 18 classes per
20,000; a new senior high school of at most 3,000 students. Numbers and codes only: the words
come from ``explain.threshold_text``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planning.rules import NewSchoolParams, Standards


@dataclass(frozen=True)
class Requirement:
    """What the thresholds require of one planning area at one level."""

    level: str
    rule: str  # "" when below the threshold; else primary_small | primary_large | junior | senior
    schools: int  # schools the rule calls for (0: none)
    min_classes: int  # class range of each school
    max_classes: int
    classes: int  # total classes: children / class size clamped to schools x range
    reason: str  # the threshold that fired or not (core.vocab.NEW_SCHOOL_RULE code)
    adjust: str = ""  # "" | over_top | raised (NEW_SCHOOL_RULE suffix code)
    population: float = 0.0
    children: float = 0.0
    need: int = 0  # classes the children need
    per: int = 0  # people per school of the rule (0: the rule has none)
    by_population: int = 0  # schools the population alone calls for, before ``adjust``
    class_size: int = 0


def _count(x: float, rounding: str) -> int:
    if rounding == "ceil":
        return math.ceil(x - 1e-9)
    if rounding == "floor":
        return math.floor(x + 1e-9)
    return math.floor(x + 0.5)  # half up, not banker's rounding


def _none(level: str, reason: str, lo: int, hi: int, pop: float, children: float) -> Requirement:
    return Requirement(level, "", 0, lo, hi, 0, reason, population=pop, children=children)


def requirement(
    level: str,
    population: float,
    children: float,
    params: NewSchoolParams,
    standards: Standards,
) -> Requirement:
    """Schools and classes the thresholds require for ``population`` with ``children`` of age.

    Above 10,000 people (primary) and for junior schools the count is population / per-school
    population rounded by ``params.count_rounding`` (default half up, so each school serves the
    population closest to the norm: 10,001 people → 1, 15,000 → 2, 40,001 → 4), raised whenever the
    children need more classes than that many schools may hold.
    """
    pop = float(population)
    cs = standards.class_size(level)
    need = math.ceil(max(children, 0.0) / cs - 1e-9)
    p = params
    per = 0
    if level == "primary":
        if pop < p.primary_min_population:
            return _none(level, "primary_below", 0, 0, pop, children)
        if pop <= p.primary_single_max_population:
            lo, hi = p.primary_small_min_classes, p.primary_small_max_classes
            n, rule = 1, "primary_small"
        else:
            lo, hi = p.primary_large_min_classes, p.primary_large_max_classes
            per = p.primary_per_population
            n, rule = max(1, _count(pop / per, p.count_rounding)), "primary_large"
    elif level == "junior":
        lo, hi = p.junior_min_classes, p.junior_max_classes
        if pop < p.junior_min_population:
            return _none(level, "junior_below", lo, hi, pop, children)
        per = p.junior_per_population
        n, rule = max(1, _count(pop / per, p.count_rounding)), "junior"
    elif level == "senior":
        lo = p.senior_min_classes
        hi = max(lo, p.senior_max_students // cs)
        if children <= 0:
            return _none(level, "senior_none", lo, hi, pop, children)
        n, rule = max(1, math.ceil(children / p.senior_max_students - 1e-9)), "senior"
    else:
        raise ValueError(f"unknown level {level!r}")
    by_population, adjust = n, ""
    by_classes = math.ceil(need / hi - 1e-9) if hi > 0 else n
    if rule == "primary_small" and need > hi:
        # The rule asks for ONE complete primary here: keep one school at the top of its range
        # and say how many children it leaves to nearby schools, rather than a second school.
        adjust = "over_top"
    elif by_classes > n:
        adjust, n = "raised", by_classes
    classes = min(max(need, n * lo), n * hi)
    return Requirement(
        level,
        rule,
        n,
        lo,
        hi,
        classes,
        reason=rule,
        adjust=adjust,
        population=pop,
        children=children,
        need=need,
        per=per,
        by_population=by_population,
        class_size=cs,
    )


def requires_none(level: str, population: float, children: float, params: NewSchoolParams) -> bool:
    """Whether ``requirement`` surely calls for no school in an area of these sums.

    Its only branches without a school: primary or junior population under the level's
    threshold, senior without children. ``population`` may differ from the area's own sum in
    the last bits (another summation order), so it must lie a relative 1e-9 under the
    threshold (summation error is ~1e-16 per unit); ``children`` are whole numbers, exact."""
    if level == "primary":
        return population < params.primary_min_population * (1 - 1e-9)
    if level == "junior":
        return population < params.junior_min_population * (1 - 1e-9)
    return level == "senior" and children <= 0


def size_new_schools(
    req: Requirement, unserved: float, children: float, min_fill_share: float, class_size: int
) -> list[int]:
    """Classes of each new school for a gap of ``unserved`` of ``children`` (empty: none).

    No school where the rule requires none; none either when the gap is under
    ``min_fill_share`` of the rule's smallest school (expanding a nearby school is the answer
    then). Otherwise the rule's count of schools in proportion to the unserved share of the
    children (all of them when nothing nearby serves the area; at least one; more if the gap
    needs more classes than that many schools may hold), the gap's classes split evenly and each
    school clamped to the rule's class range.
    """
    if req.schools <= 0 or unserved <= 0:
        return []
    if unserved < min_fill_share * req.min_classes * class_size:
        return []
    need = math.ceil(unserved / class_size - 1e-9)
    share = unserved / children if children > 0 else 1.0
    k = max(1, min(req.schools, _count(req.schools * share, "round")))
    k = max(k, math.ceil(need / req.max_classes - 1e-9)) if req.rule != "primary_small" else 1
    base, extra = divmod(need, k)
    sizes = [base + (1 if i < extra else 0) for i in range(k)]
    return [min(max(c, req.min_classes), req.max_classes) for c in sizes]


__all__ = ["Requirement", "requirement", "requires_none", "size_new_schools"]
