"""``schoolplan batch``: plan many counties on a local process pool or a Dask cluster.

    schoolplan batch --counties counties.csv --out out/province [--workers 2]
    schoolplan batch --counties counties.toml --out out/province --scheduler tcp://host:8786

The county list is a CSV (code,name,project[,split_column]) or a TOML (``[[county]]`` entries,
or a ``[split]`` table naming one project and its county code column): see batch/jobs.py.
Exit 0 when every county is planned or already was, 2 when any county failed, 130 when
interrupted (Ctrl-C stops at once, as for a single plan; a rerun skips the counties finished).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli.flags import EXIT_CANCELED, EXIT_OK, EXIT_UNUSABLE, formats
from app.cli.progress import LineProgress
from app.export import export_all
from batch.jobs import read_counties
from batch.runner import run_batch
from batch.summary import summary_rows
from planning.pipeline import PlanResult


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="plan many counties (one project each, or one set of layers split by a county code column)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "--counties",
        required=True,
        metavar="FILE",
        help="CSV (code,name,project[,split_column]) or TOML ([[county]] or [split]) listing the counties",
    )
    p.add_argument(
        "--out", required=True, metavar="DIR", help="output folder; one subfolder per county"
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address (e.g. tcp://10.0.0.5:8786); default: a local process pool",
    )
    p.add_argument(
        "--workers", type=int, metavar="N", help="local worker processes (default: CPU count)"
    )
    p.add_argument("--rules", metavar="FILE", help="rules TOML applied to every county")
    p.add_argument(
        "--formats",
        default="none",
        help="exports per county besides plan.gpkg and summary.json: any of html,png,pdf,xlsx,docx, or 'none'",
    )
    p.add_argument("--force", action="store_true", help="plan again even counties already done")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.set_defaults(run=cmd_batch)


def export_formats(result: PlanResult, out_dir: Path, wanted: tuple[str, ...]) -> dict:
    """Runs on the worker: the per-county exports (a module-level function, so it pickles)."""
    return export_all(result, out_dir, lang=result.meta.get("lang", "zh"), formats=tuple(wanted))


def cmd_batch(args: argparse.Namespace) -> int:
    jobs = read_counties(args.counties)
    wanted = formats(args.formats)
    zh = args.lang == "zh"
    where = args.scheduler or (f"{args.workers} local processes" if args.workers else "local pool")
    print(f"{'规划' if zh else 'planning'} {len(jobs)} {'个县' if zh else 'counties'} — {where}")
    report = run_batch(
        jobs,
        Path(args.out),
        rules_path=args.rules,
        workers=args.workers,
        scheduler=args.scheduler,
        formats=wanted,
        export=export_formats if wanted else None,
        lang=args.lang,
        force=args.force,
        progress=LineProgress(),
    )
    print_table(summary_rows(report), zh)
    done, skipped, failed = (report.count(s) for s in ("done", "skipped", "failed"))
    print(
        f"\n{'完成' if zh else 'done'} {done}, {'跳过' if zh else 'skipped'} {skipped}, "
        f"{'失败' if zh else 'failed'} {failed} — {report.seconds:.1f} s; "
        f"{report.out_dir / 'batch_summary.csv'}"
    )
    if report.canceled:
        return EXIT_CANCELED
    return EXIT_OK if report.ok else EXIT_UNUSABLE


def print_table(rows: list[dict], zh: bool = True) -> None:
    cols = [
        ("code", "代码", "code"),
        ("name", "名称", "name"),
        ("status", "状态", "status"),
        ("seconds", "秒", "s"),
        ("schools", "学校", "schools"),
        ("units", "人口单元", "units"),
        ("groups", "集团", "groups"),
        ("coverage_pct", "覆盖率%", "cover %"),
        ("new_schools", "新建", "new"),
        ("unserved_primary", "小学无学位", "unserved P"),
        ("unserved_junior", "初中无学位", "unserved J"),
    ]

    def fmt(v) -> str:
        if isinstance(v, float):
            return f"{v:,.1f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    head = [c[1] if zh else c[2] for c in cols]
    body = [[fmt(r.get(c[0], "")) for c in cols] for r in rows]
    widths = [max([_w(h), *(_w(b[i]) for b in body)]) for i, h in enumerate(head)]
    print()
    print("  ".join(_pad(h, w) for h, w in zip(head, widths)))
    for b in body:
        print("  ".join(_pad(x, w) for x, w in zip(b, widths)))
    for r in rows:
        if r["status"] == "failed":
            print(f"{'失败' if zh else 'failed'} {r['code']} {r['name']}: {r['message']}")


def _w(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _w(text))
