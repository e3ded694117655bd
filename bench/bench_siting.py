"""Siting: our p-median (greedy + vertex substitution) against PySAL spopt's PMedian solved
exactly by CBC through PuLP, on the same generated instance.

Targets (issue 4): at ~1,000 demand points × 200 candidates, p = 20, objective within 0.5 % of
spopt's optimum and at least 100× faster; at county size (3,000 × 500, p = 20) under 0.1 s.

Run:  .venv/bin/python bench/bench_siting.py [--quick]
(--quick skips spopt and uses a smaller first instance.)
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from scipy.spatial.distance import cdist  # noqa: E402

from bench.common import median_time, once, row  # noqa: E402
from planning.newschools.pmedian import objective, solve_pmedian  # noqa: E402

SEED = 20240904


def instance(n: int, m: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Villages clustered around 20 towns plus a uniform rural spread in a 60 km square;
    candidate sites likewise; weights are school-age children (30–1,500). Costs in km."""
    rng = np.random.default_rng(seed)
    towns = rng.uniform(0, 60_000, (20, 2))

    def points(k: int) -> np.ndarray:
        near = k * 2 // 3
        c = towns[rng.integers(0, len(towns), near)]
        clustered = c + rng.normal(0, 2_500, (near, 2))
        spread = rng.uniform(0, 60_000, (k - near, 2))
        return np.vstack([clustered, spread])

    demand, sites = points(n), points(m)
    weights = rng.integers(30, 1_500, n).astype(float)
    return cdist(demand, sites) / 1000.0, weights


def spopt_pmedian(cost: np.ndarray, weights: np.ndarray, p: int) -> tuple[list[int], float]:
    import pulp
    from spopt.locate import PMedian

    model = PMedian.from_cost_matrix(cost, weights, p_facilities=p, name="bench")
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    chosen = [j for j, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]
    return chosen, float(pulp.value(model.problem.objective))


def run(quick: bool = False) -> list[dict]:
    rows = []
    n, m, p = (300, 60, 10) if quick else (1_000, 200, 20)
    cost, w = instance(n, m)
    ours_s, sol = median_time(lambda: solve_pmedian(cost, w, p), repeat=7)
    size = f"{n:,} demand × {m} candidates, p = {p}"
    if quick:
        rows.append(row("siting: p-median", size, ours_s, note="quick: spopt skipped"))
    else:
        peer_s, (chosen, _) = once(lambda: spopt_pmedian(cost, w, p))
        peer_obj = objective(cost, w, chosen)  # same formula for both, from the chosen sites
        rows.append(
            row(
                "siting: p-median vs exact",
                size,
                ours_s,
                peer="spopt PMedian + CBC (PuLP)",
                peer_s=peer_s,
                target="objective ≤ 0.5 % above optimum and ≥ 100× faster",
                min_ratio=100.0,
                max_gap_pct=0.5,
                ours_obj=sol.objective,
                peer_obj=peer_obj,
                note=f"ours {sol.objective:,.1f} (greedy {sol.greedy_objective:,.1f}, "
                f"{sol.swaps} swaps), optimum {peer_obj:,.1f}",
            )
        )
    n, m, p = 3_000, 500, 20
    cost, w = instance(n, m, SEED + 1)
    ours_s, sol = median_time(lambda: solve_pmedian(cost, w, p), repeat=9)
    cpu = []
    for _ in range(5):  # CPU time too: wall time on a shared 2-core machine swings 3-5x
        t = time.process_time()
        solve_pmedian(cost, w, p)
        cpu.append(time.process_time() - t)
    rows.append(
        row(
            "siting: p-median, county size",
            f"{n:,} demand × {m} candidates, p = {p}",
            ours_s,
            target="< 0.1 s",
            max_s=0.1,
            note=f"objective {sol.objective:,.1f}, {sol.swaps} swaps; CPU time median "
            f"{statistics.median(cpu):.4f} s; load average {os.getloadavg()[0]:.1f}; spopt not "
            "run (> 60 s here, STACK.md)",
        )
    )
    return rows


def main() -> int:
    quick = "--quick" in sys.argv
    rows = run(quick)
    for r in rows:
        print(f"{r['stage']}  [{r['size']}]")
        print(f"  ours {r['ours_s']:.4f} s", end="")
        if r["peer_s"] is not None:
            print(f" | {r['peer']} {r['peer_s']:.2f} s | ratio {r['ratio']:.0f}×", end="")
        if r["gap_pct"] is not None:
            print(f" | gap {r['gap_pct']:+.3f} %", end="")
        print(f"\n  target: {r['target'] or '-'} → {'met' if r['met'] else r['met']}")
        print(f"  {r['note']}")
    return 0 if all(r["met"] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
