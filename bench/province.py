"""A whole province planned with `schoolplan batch`: 湖南 (Hunan), every county of it.

Real county boundaries and 2020 census populations from ``../shared/data/china_counties/``;
synthetic villages, schools, roads and candidate sites inside each county, sized from its
population (``bench/instances.py``, kind ``hunan``), seeded. All counties sit in one set of layers
with the county code column ``县代码``; the batch splits them by it.

    .venv/bin/python bench/province.py                 # whole province, local pool of 2 processes
    .venv/bin/python bench/province.py --quick         # 4 counties
    .venv/bin/python bench/province.py --scheduler tcp://host:8786

`bench/run_all.py` calls ``run_province`` and puts its rows into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import RssSampler, mb, row  # noqa: E402
from bench.instances import CODE_COL, cached_project, instance_spec  # noqa: E402

QUICK_COUNTIES = 4
DASK_COUNTIES = 4


def county_list(folder: Path, codes: list[int] | None = None) -> Path:
    """A TOML county list splitting the cached Hunan project by its county code column."""
    toml = cached_project("hunan")
    lines = ["[split]", f'project = "{toml.as_posix()}"', f'column = "{CODE_COL}"']
    if codes is not None:
        lines.append("codes = [" + ", ".join(f'"{c}"' for c in codes) + "]")
    path = folder / "counties.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_province(
    quick: bool = False, *, workers: int = 2, scheduler: str | None = None, echo: bool = False
) -> list[dict]:
    from app.cli.progress import LineProgress
    from batch.jobs import read_counties
    from batch.runner import run_batch

    t = time.perf_counter()
    cached_project("hunan")
    gen_s = time.perf_counter() - t
    codes, sizes = instance_spec("hunan")
    chosen = codes[:QUICK_COUNTIES] if quick else codes
    units = sum(s.units for c, s in zip(codes, sizes) if c in set(chosen))
    schools = sum(s.schools for c, s in zip(codes, sizes) if c in set(chosen))
    size = f"湖南 {len(chosen)} counties, {units:,} units, ~{schools:,} schools (real boundaries)"

    progress = LineProgress() if echo else None  # a line per county, failures on stderr

    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="province-") as tmp:
        tmp = Path(tmp)
        jobs = read_counties(county_list(tmp, chosen if quick else None))
        out = tmp / "out"
        where = f"Dask {scheduler}" if scheduler else f"local pool, {workers} processes"
        with RssSampler() as mem:
            t = time.perf_counter()
            rep = run_batch(jobs, out, workers=workers, scheduler=scheduler, progress=progress)
            wall = time.perf_counter() - t
        done, failed = rep.count("done"), rep.count("failed")
        per = [o.seconds for o in rep.outcomes if o.status == "done"]
        fails = "; ".join(
            f"{o.code}: {o.message[:120]}" for o in rep.outcomes if o.status == "failed"
        )
        rows.append(
            row(
                f"batch: whole plan of every county ({where})",
                size,
                wall,
                target="every county planned or its failure reported",
                met=done + failed == len(jobs) and done > 0,
                note=f"{done} planned, {failed} failed; per county median "
                f"{statistics.median(per) if per else 0:.2f} s, max {max(per, default=0):.2f} s; "
                f"{len(jobs) / wall * 60:.0f} counties/min; driver peak RSS {mb(mem.peak_bytes)}; "
                f"input built in {gen_s:.0f} s (cached after the first run)"
                + (f"; failures: {fails}" if fails else ""),
            )
        )
        t = time.perf_counter()
        again = run_batch(jobs, out, workers=workers, scheduler=scheduler)
        rerun = time.perf_counter() - t
        rows.append(
            row(
                "batch: rerun (counties already done are skipped)",
                size,
                rerun,
                target="every done county skipped",
                met=again.count("skipped") == done and again.count("done") == 0,
                note=f"{again.count('skipped')} skipped, {again.count('failed')} failed again",
            )
        )
        if not quick and not scheduler:
            rows.append(_dask_rows(jobs[:DASK_COUNTIES], rep, tmp))
    return rows


def _dask_rows(jobs, pool_report, tmp: Path) -> dict:
    """The same counties on a Dask LocalCluster of 2 worker processes (1 thread each)."""
    from dask.distributed import LocalCluster

    from batch.runner import run_batch

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        t = time.perf_counter()
        rep = run_batch(jobs, tmp / "dask", scheduler=cluster.scheduler_address)
        wall = time.perf_counter() - t
    same = sum(
        1
        for o in rep.outcomes
        if o.status == "done"
        and (pool_report.out_dir / o.code / "plan.gpkg").exists()
        and _same_layers(pool_report.out_dir / o.code, rep.out_dir / o.code)
    )
    return row(
        "batch on Dask (LocalCluster, 2 worker processes × 1 thread)",
        f"first {len(jobs)} counties of 湖南",
        wall,
        target="same outputs as the local pool",
        met=same == len(jobs),
        note=f"{rep.count('done')} planned, {rep.count('failed')} failed; "
        f"{same} of {len(jobs)} plan.gpkg identical to the pool run; includes cluster start-up",
    )


def _same_layers(a: Path, b: Path) -> bool:
    import pyogrio

    from store.plan import PLAN_LAYERS

    for layer in PLAN_LAYERS:
        da = pyogrio.read_dataframe(a / "plan.gpkg", layer=layer)
        db = pyogrio.read_dataframe(b / "plan.gpkg", layer=layer)
        if da.geometry.to_wkb().tolist() != db.geometry.to_wkb().tolist():
            return False
        if not da.drop(columns="geometry").equals(db.drop(columns="geometry")):
            return False
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler")
    args = ap.parse_args()
    for r in run_province(args.quick, workers=args.workers, scheduler=args.scheduler, echo=True):
        print(f"{r['stage']}: {r['ours_s']:.1f} s — {r['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
