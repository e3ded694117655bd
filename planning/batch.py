"""Plan many counties at once: on a local process pool, or on a Dask distributed cluster.

The counties come from a list (CSV or TOML, see ``read_counties``): either one project per county,
or one set of layers split by a county code column. Each county becomes a self-contained task —
its input files travel inside the task as bytes and its outputs come back as bytes — so a Dask
worker needs only the schoolplan package installed, not the driver's disk.

Outputs go to ``OUT/<code>/`` (plan.gpkg, summary.json, optional exports) with a ``done.json``
marker holding the hash of the county's input and rules: a rerun skips every county whose marker
matches, and redoes one whose data or rules changed. A failing county is written up in
``OUT/<code>/error.txt`` and in the summary; the others finish.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import re
import tempfile
import time
import tomllib
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ProjectError, SchoolPlanError

SCHEMA = 1
DONE = "done.json"
ERROR = "error.txt"
OUTPUT_FILES = ("plan.gpkg", "summary.json")
CODE_HEADINGS = ("code", "county_code", "县代码", "行政区划代码", "区划代码", "代码")
NAME_HEADINGS = ("name", "county", "名称", "县名", "县")
PROJECT_HEADINGS = ("project", "项目", "project_file")
SPLIT_HEADINGS = ("split_column", "split", "拆分列", "代码列")


@dataclass(frozen=True)
class CountyJob:
    """One county to plan: a project of its own, or the rows of a shared project whose
    ``split_column`` equals ``code``."""

    code: str
    name: str
    project: Path
    split_column: str | None = None


@dataclass
class CountyTask:
    """Everything a worker needs, with no reference to the driver's files."""

    code: str
    name: str
    config: Any  # geo.project.ProjectConfig with file paths relative to the bundle
    files: dict[str, bytes]
    rules: Any  # planning.rules.Rules
    input_hash: str
    formats: tuple[str, ...] = ()
    export: Callable | None = None  # export(result, out_dir, formats) -> dict, run on the worker
    lang: str = "zh"
    skip: bool = False  # already done with this input: not sent to a worker


@dataclass
class CountyOutcome:
    code: str
    name: str
    status: str  # done | failed | skipped
    message: str = ""
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    input_hash: str = ""
    detail: str = ""  # traceback of an internal error, for error.txt


@dataclass
class BatchReport:
    outcomes: list[CountyOutcome]
    seconds: float
    out_dir: Path

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0


# ---------------------------------------------------------------- the county list


def read_counties(path: str | Path) -> list[CountyJob]:
    """Counties from a CSV (columns code, name, project[, split_column]; Chinese headings too)
    or a TOML (``[[county]]`` tables with code/name/project, and/or a ``[split]`` table with
    project, column and optional codes). Project paths are relative to the list's folder."""
    path = Path(path)
    if not path.exists():
        raise ProjectError(
            f"county list not found: {path}", fix="give a CSV or TOML file listing the counties"
        )
    base = path.parent
    if path.suffix.lower() == ".toml":
        jobs = _read_toml(path, base)
    else:
        jobs = _read_csv(path, base)
    if not jobs:
        raise ProjectError(f"{path}: lists no county", fix="add one row or [[county]] per county")
    seen: set[str] = set()
    for j in jobs:
        if j.code in seen:
            raise ProjectError(
                f"{path}: county {j.code} is listed twice", fix="keep one entry per county code"
            )
        seen.add(j.code)
    return jobs


def _pick(headings: Iterable[str], names: tuple[str, ...]) -> str | None:
    low = {h.strip().lower(): h for h in headings}
    return next((low[n] for n in names if n in low), None)


def _read_csv(path: Path, base: Path) -> list[CountyJob]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        heads = reader.fieldnames or []
        code_h, name_h = _pick(heads, CODE_HEADINGS), _pick(heads, NAME_HEADINGS)
        proj_h, split_h = _pick(heads, PROJECT_HEADINGS), _pick(heads, SPLIT_HEADINGS)
        if not code_h or not proj_h:
            raise ProjectError(
                f"{path}: needs the columns code and project (found: {', '.join(heads)})",
                fix="header line: code,name,project[,split_column]",
            )
        jobs = []
        for i, r in enumerate(reader, start=2):
            code = (r.get(code_h) or "").strip()
            proj = (r.get(proj_h) or "").strip()
            if not code and not proj:
                continue
            if not code or not proj:
                raise ProjectError(f"{path} row {i}: code and project are both needed")
            split = (r.get(split_h) or "").strip() if split_h else ""
            jobs.append(
                CountyJob(
                    code=code,
                    name=(r.get(name_h) or "").strip() if name_h else "",
                    project=_project_path(base / proj),
                    split_column=split or None,
                )
            )
    return jobs


def _read_toml(path: Path, base: Path) -> list[CountyJob]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path}: not valid TOML ({exc})") from None
    jobs = []
    for i, c in enumerate(data.get("county", []), start=1):
        if "code" not in c or "project" not in c:
            raise ProjectError(f"{path}: [[county]] number {i} needs code and project")
        jobs.append(
            CountyJob(
                code=str(c["code"]),
                name=str(c.get("name", "")),
                project=_project_path(base / str(c["project"])),
                split_column=c.get("split_column") or None,
            )
        )
    split = data.get("split")
    if split:
        if "project" not in split or "column" not in split:
            raise ProjectError(f"{path}: [split] needs project and column")
        project = _project_path(base / str(split["project"]))
        column = str(split["column"])
        codes = [str(c) for c in split.get("codes", [])]
        names = {}
        if not codes:
            codes, names = split_codes(project, column)
        jobs += [CountyJob(c, names.get(c, ""), project, column) for c in codes]
    return jobs


def _project_path(p: Path) -> Path:
    return p / "project.toml" if p.is_dir() else p


def split_codes(project: Path, column: str) -> tuple[list[str], dict[str, str]]:
    """The county codes (and names) found in the boundary layer's ``column``."""
    from geo.project import read_project_file
    from geo.read import read_layer

    cfg = read_project_file(project)
    if "boundary" not in cfg.sources:
        raise ProjectError(f"{project}: no boundary layer to list the counties from")
    gdf = read_layer(cfg.sources["boundary"], [])
    if column not in gdf.columns:
        raise ProjectError(
            f"{project}: the boundary layer has no column '{column}'",
            fix=f"columns are: {', '.join(map(str, gdf.columns))}",
        )
    codes = [_code_text(v) for v in gdf[column]]
    name_col = _pick(map(str, gdf.columns), ("名称", "name", "县名"))
    names = {c: str(n) for c, n in zip(codes, gdf[name_col])} if name_col else {}
    return sorted(dict.fromkeys(codes)), names


def _code_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


# ---------------------------------------------------------------- tasks


def safe_name(code: str) -> str:
    return re.sub(r"[^\w.-]", "_", code) or "_"


def _bundle_project(job: CountyJob) -> tuple[Any, dict[str, bytes]]:
    """The county's config with paths made relative, and its files' bytes (a Shapefile's
    sidecar files included)."""
    from geo.project import read_project_file

    cfg = read_project_file(job.project)
    files: dict[str, bytes] = {}
    names: dict[Path, str] = {}
    sources = {}
    for key, src in sorted(cfg.sources.items()):
        p = Path(src.file).resolve()
        if p not in names:
            names[p] = f"{len(names):02d}_{p.name}"
            for f in sorted(p.parent.glob(p.stem + ".*")) if p.suffix.lower() == ".shp" else [p]:
                if f.is_file():
                    files[f"{len(names) - 1:02d}_{f.name}"] = f.read_bytes()
            if not p.exists():
                files.pop(names[p], None)  # the worker reports the missing file
        sources[key] = dataclasses.replace(src, file=Path(names[p]))
    cfg = dataclasses.replace(cfg, sources=sources, rules_file=None, path=None)
    return cfg, files


def _split_frames(project: Path, column: str) -> tuple[Any, dict[str, Any]]:
    """Every layer of a shared project read once; later cut per county."""
    import pandas as pd

    from geo.project import read_project_file
    from geo.read import read_layer

    cfg = read_project_file(project)
    frames = {}
    for key, src in cfg.sources.items():
        gdf = read_layer(src, [])
        # row positions of each county, found once: a province's layers are cut a hundred times
        by_code = None
        if column in gdf.columns:
            codes = pd.Series(gdf[column].map(_code_text).to_numpy())
            by_code = codes.groupby(codes).indices
        frames[key] = (gdf, by_code)
    if "boundary" in frames and frames["boundary"][1] is None:
        raise ProjectError(
            f"{project}: the boundary layer has no county column '{column}'",
            fix="add the county code column to the boundary layer, or list one project per county",
        )
    return cfg, frames


def _split_bundle(
    job: CountyJob, cfg: Any, frames: dict[str, Any], tmp: Path
) -> tuple[Any, Callable[[], dict[str, bytes]], str]:
    """The county's config, a function writing its rows of every layer as one GeoPackage (not
    called for a county already done), and a content hash of those rows. A layer without the
    county column is cut by the county's boundary polygon."""
    import geopandas as gpd
    import pandas as pd

    bnd, bnd_rows = frames["boundary"]
    mine = bnd.iloc[bnd_rows.get(job.code, [])]
    if mine.empty:
        raise ProjectError(
            f"county {job.code} is not in the boundary layer's column '{job.split_column}'"
        )
    gpkg = tmp / f"{safe_name(job.code)}.gpkg"
    digest = hashlib.sha256()
    sources, parts = {}, {}
    for key, (gdf, by_code) in sorted(frames.items()):
        if by_code is not None:
            part = gdf.iloc[by_code.get(job.code, [])]
        else:
            shape = mine.to_crs(gdf.crs).union_all() if gdf.crs else mine.union_all()
            part = gdf[gdf.intersects(shape)]
        part = gpd.GeoDataFrame(part.reset_index(drop=True), geometry=gdf.geometry.name)
        digest.update(key.encode())
        digest.update(pd.util.hash_pandas_object(part.drop(columns=part.geometry.name)).values)
        digest.update(b"".join(part.geometry.to_wkb(hex=False).fillna(b"").tolist()))
        parts[key] = part
        src = cfg.sources[key]
        # the table's coordinates are geometry now, in the CRS read_layer gave them
        sources[key] = dataclasses.replace(
            src, file=Path(gpkg.name), layer=key, x=None, y=None, sheet=None, crs=None
        )

    def write() -> dict[str, bytes]:
        gpkg.unlink(missing_ok=True)
        for key, part in parts.items():
            part.to_file(gpkg, layer=key, driver="GPKG", engine="pyogrio")
        data = gpkg.read_bytes()
        gpkg.unlink()
        return {gpkg.name: data}

    county_cfg = dataclasses.replace(cfg, sources=sources, rules_file=None, path=None)
    return county_cfg, write, digest.hexdigest()


def _hash(cfg: Any, files: dict[str, bytes], rules: Any, extra: str) -> str:
    from planning.rules import rules_to_toml

    h = hashlib.sha256()
    h.update(f"schema {SCHEMA} {_version()} {extra}".encode())
    h.update(rules_to_toml(rules).encode())
    for _key, src in sorted(cfg.sources.items()):
        h.update(repr(dataclasses.replace(src, file=Path(src.file).name)).encode())
    h.update(repr((cfg.crs, cfg.name)).encode())
    for name in sorted(files):
        h.update(name.encode())
        h.update(hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("schoolplan")
    except Exception:  # noqa: BLE001 - running from a source tree
        return "dev"


def make_tasks(
    jobs: list[CountyJob],
    rules_path: str | Path | None = None,
    *,
    formats: tuple[str, ...] = (),
    export: Callable | None = None,
    lang: str = "zh",
    on_error: Callable[[CountyJob, SchoolPlanError], None] | None = None,
    skip: Callable[[str, str], bool] | None = None,
) -> Iterator[CountyTask]:
    """One task per county, built lazily (a province's bundles need not all sit in memory).
    A county whose input cannot even be bundled goes to ``on_error`` and is not yielded; one for
    which ``skip(code, input_hash)`` holds comes with ``skip`` set and no files."""
    from geo.project import read_project_file
    from planning.project import load_rules_for

    shared: dict[tuple[Path, str], tuple[Any, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="schoolplan-batch-") as tmp:
        for job in jobs:
            try:
                rules = load_rules_for(read_project_file(job.project), rules_path)
                if job.split_column:
                    key = (job.project.resolve(), job.split_column)
                    if key not in shared:
                        shared[key] = _split_frames(job.project, job.split_column)
                    cfg, write, content = _split_bundle(job, *shared[key], Path(tmp))
                    digest = _hash(cfg, {}, rules, f"split {content} {formats}")
                    skipped = skip is not None and skip(job.code, digest)
                    files = {} if skipped else write()
                else:
                    cfg, files = _bundle_project(job)
                    digest = _hash(cfg, files, rules, f"{formats}")
                    skipped = skip is not None and skip(job.code, digest)
            except SchoolPlanError as exc:
                if on_error is None:
                    raise
                on_error(job, exc)
                continue
            cfg = dataclasses.replace(cfg, name=cfg.name or job.name)
            yield CountyTask(
                job.code, job.name, cfg, files, rules, digest, formats, export, lang, skipped
            )


# ---------------------------------------------------------------- the worker


def plan_county(task: CountyTask) -> CountyOutcome:
    """Plan one county from its bundle; never raises (a failure is an outcome)."""
    from geo.project import load_layers
    from planning.outputs import write_plan
    from planning.pipeline import run_plan

    t0 = time.perf_counter()
    out = CountyOutcome(task.code, task.name, "failed", input_hash=task.input_hash)
    try:
        with tempfile.TemporaryDirectory(prefix=f"schoolplan-{safe_name(task.code)}-") as tmp:
            base = Path(tmp)
            for name, data in task.files.items():
                (base / name).write_bytes(data)
            sources = {
                k: dataclasses.replace(s, file=base / s.file)
                for k, s in task.config.sources.items()
            }
            cfg = dataclasses.replace(task.config, sources=sources)
            layers, report = load_layers(cfg, task.rules.standards)
            if layers is None:
                errs = report.errors
                out.message = f"input not usable: {len(errs)} error(s): " + "; ".join(
                    str(p) for p in errs[:5]
                )
                return out
            if not out.name and "name" in layers.boundary.columns and len(layers.boundary):
                out.name = str(layers.boundary["name"].iloc[0])
            # the same meta as `schoolplan plan`, so a county's outputs equal a single run's
            meta = {
                "project": cfg.name or out.name,
                "project_en": cfg.name_en,
                "project_file": "",
                "lang": task.lang,
                "county_code": task.code,
            }
            result = run_plan(layers, task.rules, meta=meta)
            od = base / "_out"
            write_plan(result, od)
            if task.export and task.formats:
                task.export(result, od, task.formats)
            out.files = {
                str(p.relative_to(od)): p.read_bytes() for p in sorted(od.rglob("*")) if p.is_file()
            }
            out.figures = _figures(result, report)
            out.status = "done"
            out.message = result.status
    except SchoolPlanError as exc:
        out.message = str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug in one county must not stop the others
        out.message = f"internal error: {type(exc).__name__}: {exc}"[:500]
        out.detail = traceback.format_exc()
    finally:
        out.seconds = time.perf_counter() - t0
    return out


def _figures(result: Any, report: Any) -> dict[str, Any]:
    s = result.summary
    g, n, c = s.get("groups", {}), s.get("new_schools", {}), s.get("catchments", {})
    fig: dict[str, Any] = {
        "schools": report.counts.get("schools", 0),
        "units": report.counts.get("population", 0),
        "groups": g.get("count", 0),
        "coverage_pct": g.get("coverage_pct"),
        "new_schools": sum(int(n.get(k, 0) or 0) for k in ("primary", "junior", "senior")),
    }
    for level in ("primary", "junior", "senior"):
        figs = c.get(level) if isinstance(c, dict) else None
        if isinstance(figs, dict):
            fig[f"unserved_{level}"] = figs.get("unserved", 0)
    return fig


# ---------------------------------------------------------------- the driver


def is_done(out_dir: Path, code: str, input_hash: str) -> bool:
    d = Path(out_dir) / safe_name(code)
    try:
        marker = json.loads((d / DONE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    files = marker.get("files", list(OUTPUT_FILES))
    return marker.get("input_hash") == input_hash and all((d / f).exists() for f in files)


def save_outcome(out_dir: Path, o: CountyOutcome) -> None:
    """Write a county's files (each renamed into place), then its marker last."""
    d = Path(out_dir) / safe_name(o.code)
    d.mkdir(parents=True, exist_ok=True)
    (d / DONE).unlink(missing_ok=True)
    if o.status != "done":
        (d / ERROR).write_text(f"{o.code} {o.name}\n{o.message}\n\n{o.detail}", encoding="utf-8")
        return
    for name, data in o.files.items():
        target = d / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    (d / ERROR).unlink(missing_ok=True)
    marker = {
        "code": o.code,
        "name": o.name,
        "input_hash": o.input_hash,
        "seconds": round(o.seconds, 3),
        "figures": o.figures,
        "files": sorted(o.files),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    tmp = d / f".{DONE}.tmp"
    tmp.write_text(json.dumps(marker, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, d / DONE)


def _skipped(out_dir: Path, task: CountyTask) -> CountyOutcome:
    d = Path(out_dir) / safe_name(task.code)
    marker = json.loads((d / DONE).read_text(encoding="utf-8"))
    return CountyOutcome(
        task.code,
        task.name,
        "skipped",
        "already planned with the same input and rules",
        figures=marker.get("figures", {}),
        input_hash=task.input_hash,
    )


def run_batch(
    jobs: list[CountyJob],
    out_dir: str | Path,
    *,
    rules_path: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    formats: tuple[str, ...] = (),
    export: Callable | None = None,
    lang: str = "zh",
    force: bool = False,
    on_outcome: Callable[[CountyOutcome, int, int], None] | None = None,
) -> BatchReport:
    """Plan every county; returns every county's outcome in the order of ``jobs``.

    ``scheduler`` (a Dask scheduler address) or ``client`` (a ``dask.distributed.Client``) runs
    the counties on that cluster; otherwise a local process pool of ``workers`` processes
    (default: the CPU count; 1 runs them in this process)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    total = len(jobs)
    outcomes: dict[str, CountyOutcome] = {}

    def finish(o: CountyOutcome) -> None:
        if o.status != "skipped":
            save_outcome(out, o)
        o.files = {}  # the bytes are on disk now; keep the report small
        outcomes[o.code] = o
        if on_outcome:
            on_outcome(o, len(outcomes), total)

    def bad_input(job: CountyJob, exc: SchoolPlanError) -> None:
        finish(CountyOutcome(job.code, job.name, "failed", str(exc)))

    def pending() -> Iterator[CountyTask]:
        done = None if force else (lambda code, h: is_done(out, code, h))
        for task in make_tasks(
            jobs,
            rules_path,
            formats=formats,
            export=export,
            lang=lang,
            on_error=bad_input,
            skip=done,
        ):
            if task.skip:
                finish(_skipped(out, task))
            else:
                yield task

    if client is not None or scheduler:
        _run_dask(pending(), finish, client=client, scheduler=scheduler)
    else:
        n = workers or os.cpu_count() or 1
        if n <= 1:
            for task in pending():
                finish(plan_county(task))
        else:
            _run_pool(pending(), finish, n)
    ordered = [outcomes[j.code] for j in jobs if j.code in outcomes]
    report = BatchReport(ordered, time.perf_counter() - t0, out)
    write_summary(report)
    return report


def _run_pool(tasks: Iterator[CountyTask], finish: Callable, n: int) -> None:
    """A bounded window of tasks in flight, so bundles are built only as workers free up."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # spawn: forking a process that already holds OR-tools/GDAL threads is not safe
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
        running: dict[Any, CountyTask] = {}
        it = iter(tasks)
        exhausted = False
        while running or not exhausted:
            while not exhausted and len(running) < 2 * n:
                task = next(it, None)
                if task is None:
                    exhausted = True
                else:
                    running[pool.submit(plan_county, task)] = task
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                task = running.pop(fut)
                try:
                    finish(fut.result())
                except BrokenProcessPool as exc:
                    finish(_lost(task, f"the worker process died ({exc})"))
                    raise
                except Exception as exc:  # noqa: BLE001 - e.g. a task that cannot be pickled
                    finish(_lost(task, f"{type(exc).__name__}: {exc}"))


def _run_dask(
    tasks: Iterator[CountyTask], finish: Callable, *, client: Any, scheduler: str | None
) -> None:
    from dask.distributed import Client, as_completed

    own = client is None
    if own:
        client = Client(scheduler, timeout="30s")
    try:
        n = max(1, sum(client.nthreads().values()))
        running: dict[str, CountyTask] = {}
        it = iter(tasks)
        ac = as_completed()

        def feed() -> bool:
            task = next(it, None)
            if task is None:
                return False
            # pure=False: a rerun must really run, and two counties never share a key
            fut = client.submit(
                plan_county, task, pure=False, key=f"plan-{task.code}-{time.time_ns()}"
            )
            running[fut.key] = task
            ac.add(fut)
            return True

        more = True
        while more and len(running) < 2 * n:
            more = feed()
        for fut in ac:
            task = running.pop(fut.key)
            try:
                finish(fut.result())
            except Exception as exc:  # noqa: BLE001 - a lost worker or a serialisation failure
                finish(_lost(task, f"{type(exc).__name__}: {exc}"))
            finally:
                fut.release()
            if more:
                more = feed()
    finally:
        if own:
            client.close()


def _lost(task: CountyTask, why: str) -> CountyOutcome:
    return CountyOutcome(task.code, task.name, "failed", why, input_hash=task.input_hash)


# ---------------------------------------------------------------- summary


SUMMARY_COLUMNS = (
    "code",
    "name",
    "status",
    "seconds",
    "schools",
    "units",
    "groups",
    "coverage_pct",
    "new_schools",
    "unserved_primary",
    "unserved_junior",
    "unserved_senior",
    "message",
)


def summary_rows(report: BatchReport) -> list[dict[str, Any]]:
    rows = []
    for o in report.outcomes:
        r = {"code": o.code, "name": o.name, "status": o.status, "seconds": round(o.seconds, 2)}
        r.update({k: o.figures.get(k, "") for k in SUMMARY_COLUMNS if k in o.figures})
        r["message"] = o.message.splitlines()[0] if o.message else ""
        rows.append({k: r.get(k, "") for k in SUMMARY_COLUMNS})
    return rows


def write_summary(report: BatchReport) -> Path:
    """OUT/batch_summary.csv (UTF-8 with BOM, so Excel shows the Chinese names)."""
    path = report.out_dir / "batch_summary.csv"
    tmp = path.with_name(".batch_summary.csv.tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS)
        w.writeheader()
        w.writerows(summary_rows(report))
    os.replace(tmp, path)
    return path
