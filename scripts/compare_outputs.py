"""Are two runs of `schoolplan plan` the same? Compares plan.gpkg layers, summary.json and tables.xlsx.

Used to show that a refactor changes no output:

    python scripts/compare_outputs.py run OUT          # plan the sample and the generated county into OUT/
    python scripts/compare_outputs.py diff A B         # compare two such folders (exit 1 when they differ)

Run ``run`` once on the old commit (e.g. a ``git worktree`` of it, with ``PYTHONPATH=.``) and once on
the new one. Timings, dates and versions are left out of the comparison: they differ on every run.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# summary.json keys whose values change on every run (or with the machine), never with the plan.
VOLATILE = (
    "seconds",
    "timings_s",
    "created",
    "modified",
    "app_version",
    "update_time",
    "project_file",
)
# tables.xlsx rows whose first cell names a value of the run, not of the plan.
VOLATILE_ROWS = ("生成时间", "生成日期", "项目文件")


def run(out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.instances import cached_project

    projects = {
        "sample": ROOT / "sample_maps" / "daoxian",
        "county": cached_project("county").parent,
    }
    for name, project in projects.items():
        cmd = [sys.executable, "-m", "app.cli", "plan", str(project), "--out", str(out / name)]
        print(" ".join(cmd), flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)


def _volatile(key: str) -> bool:
    return any(part.endswith(VOLATILE) for part in key.lower().split("."))


def _flat(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not _volatile(str(k)):
                yield from _flat(v, f"{prefix}{k}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _flat(v, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), obj


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def diff_summary(a: Path, b: Path) -> list[str]:
    fa = dict(_flat(json.loads(a.read_text(encoding="utf-8"))))
    fb = dict(_flat(json.loads(b.read_text(encoding="utf-8"))))
    out = []
    for key in sorted(set(fa) | set(fb)):
        if key not in fa or key not in fb:
            out.append(f"summary.json {key}: only in {'B' if key not in fa else 'A'}")
        elif not _same(fa[key], fb[key]):
            out.append(f"summary.json {key}: {fa[key]!r} != {fb[key]!r}")
    return out


def diff_gpkg(a: Path, b: Path) -> list[str]:
    import pyogrio

    out = []
    la = {n for n, _ in pyogrio.list_layers(a)}
    lb = {n for n, _ in pyogrio.list_layers(b)}
    if la != lb:
        out.append(f"plan.gpkg layers: {sorted(la)} != {sorted(lb)}")
    for layer in sorted(la & lb):
        ga = pyogrio.read_dataframe(a, layer=layer)
        gb = pyogrio.read_dataframe(b, layer=layer)
        if list(ga.columns) != list(gb.columns):
            out.append(f"plan.gpkg {layer}: columns {list(ga.columns)} != {list(gb.columns)}")
            continue
        if len(ga) != len(gb):
            out.append(f"plan.gpkg {layer}: {len(ga)} rows != {len(gb)} rows")
            continue
        for col in ga.columns:
            if _volatile(col):
                continue
            if col == "geometry":
                na, nb = ga.geometry.isna(), gb.geometry.isna()
                eq = ga.geometry.geom_equals_exact(gb.geometry, tolerance=1e-6) | (na & nb)
                if not bool(eq.all()):
                    out.append(f"plan.gpkg {layer}: geometry differs")
                continue
            sa, sb = ga[col], gb[col]
            same = (sa == sb) | (sa.isna() & sb.isna())
            if not bool(same.all()):
                i = int((~same).to_numpy().nonzero()[0][0])
                out.append(
                    f"plan.gpkg {layer}.{col}: {int((~same).sum())} rows differ "
                    f"(first row {i}: {sa.iloc[i]!r} != {sb.iloc[i]!r})"
                )
    return out


def diff_xlsx(a: Path, b: Path) -> list[str]:
    from openpyxl import load_workbook

    wa, wb = load_workbook(a, read_only=True), load_workbook(b, read_only=True)
    out = []
    if wa.sheetnames != wb.sheetnames:
        return [f"tables.xlsx sheets: {wa.sheetnames} != {wb.sheetnames}"]
    for name in wa.sheetnames:
        ra = [tuple(r) for r in wa[name].iter_rows(values_only=True)]
        rb = [tuple(r) for r in wb[name].iter_rows(values_only=True)]
        n = 0
        for i, (x, y) in enumerate(zip(ra, rb, strict=False)):
            if x != y and not any(_volatile(str(c)) or str(c) in VOLATILE_ROWS for c in x[:1]):
                n += 1
                if n <= 3:
                    out.append(f"tables.xlsx {name} row {i + 1}: {x} != {y}")
        if len(ra) != len(rb):
            out.append(f"tables.xlsx {name}: {len(ra)} rows != {len(rb)} rows")
        elif n > 3:
            out.append(f"tables.xlsx {name}: {n} rows differ in all")
    return out


def diff(a: Path, b: Path) -> list[str]:
    problems: list[str] = []
    for sub in sorted(p.name for p in a.iterdir() if p.is_dir()):
        pa, pb = a / sub, b / sub
        if not pb.is_dir():
            problems.append(f"{sub}: missing in {b}")
            continue
        for d in (
            diff_gpkg(pa / "plan.gpkg", pb / "plan.gpkg"),
            diff_summary(pa / "summary.json", pb / "summary.json"),
            diff_xlsx(pa / "tables.xlsx", pb / "tables.xlsx"),
        ):
            problems += [f"{sub}: {line}" for line in d]
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run").add_argument("out", type=Path)
    d = sub.add_parser("diff")
    d.add_argument("a", type=Path)
    d.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "run":
        run(args.out)
        return 0
    problems = diff(args.a, args.b)
    for line in problems:
        print(line)
    print("identical" if not problems else f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
