"""``schoolplan batch``: plan many counties on a local process pool or a Dask cluster.

    schoolplan batch --counties counties.csv --out out/province [--workers 2]
    schoolplan batch --counties counties.toml --out out/province --scheduler tcp://host:8786

The county list is a CSV (code,name,project[,split_column]) or a TOML (``[[county]]`` entries,
or a ``[split]`` table naming one project and its county code column): see planning/batch.py.
Exit 0 when every county is planned or already was, 2 when any county failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED = 0, 2
STATUS_ZH = {"done": "完成", "skipped": "跳过(已完成)", "failed": "失败"}


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
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
    return p


def export_formats(result, out_dir: Path, formats: tuple[str, ...]) -> dict:
    """Runs on the worker: the per-county exports (a module-level function, so it pickles)."""
    from app.export import export_all

    return export_all(result, out_dir, lang=result.meta.get("lang", "zh"), formats=tuple(formats))


def run(args) -> int:
    from planning.batch import read_counties, run_batch, summary_rows

    jobs = read_counties(args.counties)
    formats = tuple(f for f in args.formats.split(",") if f and f != "none")
    zh = args.lang == "zh"
    width = max(len(j.code) for j in jobs)

    def echo(o, i, n) -> None:
        status = STATUS_ZH[o.status] if zh else o.status
        line = f"[{i}/{n}] {o.code:<{width}} {o.name} {status}"
        if o.status == "done":
            line += f" ({o.seconds:.1f} s)"
        print(line, flush=True)
        if o.status == "failed":
            print(f"    {o.message}", file=sys.stderr, flush=True)

    where = args.scheduler or (f"{args.workers} local processes" if args.workers else "local pool")
    print(f"{'规划' if zh else 'planning'} {len(jobs)} {'个县' if zh else 'counties'} — {where}")
    report = run_batch(
        jobs,
        Path(args.out),
        rules_path=args.rules,
        workers=args.workers,
        scheduler=args.scheduler,
        formats=formats,
        export=export_formats if formats else None,
        lang=args.lang,
        force=args.force,
        on_outcome=echo,
    )
    print_table(summary_rows(report), zh)
    done, skipped, failed = (report.count(s) for s in ("done", "skipped", "failed"))
    print(
        f"\n{'完成' if zh else 'done'} {done}, {'跳过' if zh else 'skipped'} {skipped}, "
        f"{'失败' if zh else 'failed'} {failed} — {report.seconds:.1f} s; "
        f"{report.out_dir / 'batch_summary.csv'}"
    )
    return EXIT_OK if report.ok else EXIT_FAILED


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
    widths = [max(_w(h), *(_w(b[i]) for b in body)) for i, h in enumerate(head)]
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
