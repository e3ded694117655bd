"""Projection of school-age children: the generated prefecture (5 counties, ≈ 15,000 units) over
11 years (base year to the horizon), every unit, level and year.

Target (issue 19): under 1 s. The roads and candidate sites are not read (the projection does not
use them); reading the layers is not timed.

Run:  .venv/bin/python bench/bench_projection.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import median_time, row  # noqa: E402
from bench.instances import cached_project  # noqa: E402
from geo.project import load_layers, make_config  # noqa: E402
from planning.projection.engine import run_projection  # noqa: E402
from planning.rules import Rules  # noqa: E402


def load_units(kind: str = "prefecture"):
    cfg = make_config(cached_project(kind))
    for key in ("roads", "candidates"):
        cfg.sources.pop(key, None)
    rules = Rules()
    layers, report = load_layers(cfg, rules.standards)
    if layers is None:
        raise SystemExit("\n".join(str(p) for p in report.errors))
    return layers, rules


def run(quick: bool = False) -> list[dict]:
    layers, rules = load_units("county" if quick else "prefecture")
    p = rules.projection
    years = list(range(p.base_year, p.base_year + 11))

    def project():
        return run_projection(layers.units, layers.schools, p, rules.standards, years=years)

    ours_s, res = median_time(project, repeat=7)
    cpu = []
    for _ in range(5):  # CPU time too: wall time on a shared 2-core machine swings
        t = time.process_time()
        project()
        cpu.append(time.process_time() - t)
    n = len(layers.units)
    totals = res.totals()
    return [
        row(
            "projection: children per unit, level and year",
            f"{'county' if quick else 'prefecture'} {n:,} units × 3 levels × {len(years)} years",
            ours_s,
            target="< 1 s",
            max_s=1.0,
            note=f"{res.children.size:,} values; primary {totals.iloc[0, 0]:,.0f} → "
            f"{totals.iloc[-1, 0]:,.0f}; CPU time median {statistics.median(cpu):.4f} s; "
            f"load average {os.getloadavg()[0]:.1f}",
        )
    ]


def main() -> int:
    rows = run("--quick" in sys.argv)
    for r in rows:
        print(f"{r['stage']}  [{r['size']}]")
        print(
            f"  ours {r['ours_s']:.4f} s; target: {r['target']} → {'met' if r['met'] else r['met']}"
        )
        print(f"  {r['note']}")
    return 0 if all(r["met"] is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
