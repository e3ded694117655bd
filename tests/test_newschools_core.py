"""The numeric core of new schools (``siting.solve``) on hand-made arrays, no layers; and the
words ``explain`` gives its codes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from geo.distance import StraightLine
from planning.newschools.explain import note_text, threshold_text
from planning.newschools.pmedian import objective
from planning.newschools.problem import (
    CandidateArrays,
    LevelProblem,
    NewSchoolProblem,
    NewSite,
    Site,
    UnitArrays,
)
from planning.newschools.siting import solve
from planning.newschools.thresholds import requirement
from planning.rules import NewSchoolParams, Standards

PARAMS, STD = NewSchoolParams(), Standards()


def no_samples(i: int, n: int = 60) -> np.ndarray:
    return np.zeros((0, 2))


def make_problem(level, xy, population, children, served, keys, mode="unit", candidates=None):
    n = len(xy)
    units = UnitArrays(
        xy=np.asarray(xy, float),
        valid=np.ones(n, dtype=bool),
        population=np.asarray(population, float),
        not_point=np.zeros(n, dtype=bool),
        samples=no_samples,
        ids=np.array([f"u{i}" for i in range(n)]),
        names=np.array([f"u{i}" for i in range(n)]),
        towns=np.full(n, ""),
        kinds=np.full(n, ""),
    )
    lp = LevelProblem(
        level=level,
        class_size=STD.class_size(level),
        service_km=float(getattr(PARAMS, f"service_km_{level}")),
        mode=mode,
        children=np.asarray(children, float),
        served=np.asarray(served, float),
        area_keys=np.asarray(keys),
        area_names={k: k for k in keys},
    )
    cands = CandidateArrays.none()
    if candidates:
        cxy, clevel = zip(*candidates)
        names = np.array([f"c{i}" for i in range(len(cxy))], dtype=object)
        cands = CandidateArrays(
            np.asarray(cxy, float),
            np.asarray(clevel, dtype=object),
            names,
            np.zeros(len(cxy), bool),
        )
    return NewSchoolProblem(units, cands, (lp,), np.zeros((0, 2)), None, 0.0)


def test_gap_candidate_and_spare_places_for_the_neighbour():
    # A: 510 children, none placed; B (1 km away): 510 children, 400 placed by existing schools.
    # c0 is for any level and next to A; c1 is too far; c2 is for junior schools only.
    problem = make_problem(
        "primary",
        xy=[(0, 0), (1000, 0)],
        population=[6000, 6000],
        children=[510, 510],
        served=[0, 400],
        keys=["A", "B"],
        candidates=[((100, 0), ""), ((50_000, 0), ""), ((1100, 0), "junior")],
    )
    sol = solve(problem, PARAMS, STD, StraightLine())
    # A (largest gap) first: one complete primary of 12 classes on c0, 30 places to spare.
    assert sol.sites == [NewSite(0, Site(100.0, 0.0, "candidate", 0), 12, 540, 0)]
    a, b = sol.areas
    assert (a.area, a.gap, a.sizes, a.req.rule) == ("A", 510, (12,), "primary_small")
    # B takes the 30 spare places; its gap of 80 is under half a 6-class school: no school.
    assert (b.area, b.supplied, b.absorbed, b.gap, b.sizes) == ("B", 400, 30, 80, ())
    assert b.note == "below_min" and sol.below_min == 1
    assert sol.unserved_after == {"primary": 510 + 110 - 540}


def test_no_candidate_gives_the_weighted_centre_of_the_area():
    # Two villages of one town pooled: 5,000 people, 400 children → one school of 9 classes.
    problem = make_problem(
        "primary",
        xy=[(0, 0), (3000, 0)],
        population=[2500, 2500],
        children=[300, 100],
        served=[0, 0],
        keys=["town:甲", "town:甲"],
        mode="town",
    )
    sol = solve(problem, PARAMS, STD, StraightLine())
    assert sol.sites == [NewSite(0, Site(750.0, 0.0, "centre"), 9, 405, 0)]
    assert sol.areas[0].population == 5000 and sol.areas[0].children == 400
    assert sol.unserved_after == {"primary": 0}


def test_several_schools_take_the_best_candidates_once_each():
    # 4,000 senior-age children county-wide, in two towns 20 km apart: two schools of 40
    # classes, on the candidates next to the towns rather than the one halfway.
    problem = make_problem(
        "senior",
        xy=[(0, 0), (20_000, 0)],
        population=[50_000, 50_000],
        children=[2000, 2000],
        served=[0, 0],
        keys=["*", "*"],
        mode="county",
        candidates=[((100, 0), ""), ((19_900, 0), "senior"), ((10_000, 0), "")],
    )
    sol = solve(problem, PARAMS, STD, StraightLine())
    assert sorted(s.site.candidate for s in sol.sites) == [0, 1]
    assert [(s.classes, s.capacity) for s in sol.sites] == [(40, 2000), (40, 2000)]
    assert {s.site.candidate: s.unit for s in sol.sites} == {0: 0, 1: 1}
    # The p-median choice is the brute-force best pair of the three candidates.
    cost = StraightLine().dense_km(problem.units.xy, problem.candidates.xy)
    w = np.array([2000.0, 2000.0])
    best = min(objective(cost, w, c) for c in itertools.combinations(range(3), 2))
    assert objective(cost, w, [s.site.candidate for s in sol.sites]) == pytest.approx(best)


def test_nothing_required_nothing_reported():
    problem = make_problem("primary", [(0, 0)], [3000], [250], [0], ["A"])
    sol = solve(problem, PARAMS, STD, StraightLine())
    assert sol.sites == [] and sol.areas[0].note == "below_threshold"
    problem = make_problem("primary", [(0, 0)], [3000], [250], [250], ["A"])
    sol = solve(problem, PARAMS, STD, StraightLine())
    assert sol.sites == [] and sol.areas == []  # no requirement, no gap: skipped


def test_words_of_the_codes():
    req = requirement("primary", 4_000, 340, PARAMS, STD)
    assert threshold_text(req, PARAMS, "zh") == (
        "常住人口 4,000 人,在 4,000–10,000 人之间,设 1 所 6–12 班完全小学"
    )
    assert threshold_text(req, PARAMS, "en") == (
        "population 4,000 in 4,000–10,000: one complete primary of 6–12 classes"
    )
    req = requirement("primary", 10_000, 850, PARAMS, STD)
    assert threshold_text(req, PARAMS, "en").endswith(
        "; the children need 19 classes, over 12: about 310 left to nearby schools"
    )
    req = requirement("junior", 19_999, 860, PARAMS, STD)
    assert threshold_text(req, PARAMS, "zh") == "常住人口 19,999 人 < 20,000 人,不单设初中"
    problem = make_problem(
        "primary", [(0, 0), (900, 0)], [6000, 10], [510, 0], [450, 0], ["A", "B"]
    )
    area = solve(problem, PARAMS, STD, StraightLine()).areas[0]
    assert note_text(area, PARAMS, "zh") == (
        "缺口 60 人,不足规则最小学校(6 班)的 50%,建议附近学校扩容"
    )
