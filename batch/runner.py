"""Run a batch: every county on a local process pool or on a Dask distributed cluster.

Outputs go to ``OUT/<code>/`` (plan.gpkg, summary.json, optional exports) with a ``done.json``
marker holding the hash of the county's input and rules: a rerun skips every county whose marker
matches, and redoes one whose data or rules changed. A failing county is written up in
``OUT/<code>/error.txt`` and in the summary; the others finish.

Progress goes through ``core.progress``: ``update`` after each county, ``info`` for a failure.
``is_canceled`` is asked before each county is handed out: once it holds no county is started,
the ones queued on a local pool are dropped, the ones already running finish and are saved, and
batch_summary.csv lists what was done; a rerun then plans only the rest.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from batch.jobs import CountyJob
from batch.summary import BatchReport, status_label, write_summary
from batch.tasks import CountyTask, ExportFn, make_tasks, safe_name
from batch.worker import CountyOutcome, plan_county
from core.errors import SchoolPlanError
from core.progress import Progress, ensure
from store.atomic import write_bytes_atomic, write_json_atomic, write_text_atomic

DONE = "done.json"
ERROR = "error.txt"
OUTPUT_FILES = ("plan.gpkg", "summary.json")


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
        write_text_atomic(d / ERROR, f"{o.code} {o.name}\n{o.message}\n\n{o.detail}")
        return
    for name, data in o.files.items():
        target = d / name
        target.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(target, data)
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
    write_json_atomic(d / DONE, marker)


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
    export: ExportFn | None = None,
    lang: str = "zh",
    force: bool = False,
    progress: Progress | None = None,
) -> BatchReport:
    """Plan every county; returns every county's outcome in the order of ``jobs``.

    ``scheduler`` (a Dask scheduler address) or ``client`` (a ``dask.distributed.Client``) runs
    the counties on that cluster; otherwise a local process pool of ``workers`` processes
    (default: the CPU count; 1 runs them in this process)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    run = _Run(jobs, out, ensure(progress), lang)
    pending = run.pending(rules_path, formats=formats, export=export, force=force)
    if client is not None or scheduler:
        _run_dask(pending, run.finish, client=client, scheduler=scheduler)
    else:
        n = workers or os.cpu_count() or 1
        if n <= 1:
            for task in pending:
                run.finish(plan_county(task))
        else:
            _run_pool(pending, run.finish, n, run.canceled)
    ordered = [run.outcomes[j.code] for j in jobs if j.code in run.outcomes]
    report = BatchReport(ordered, time.perf_counter() - t0, out, canceled=run.stopped)
    write_summary(report)
    return report


class _Run:
    """One batch run's state: the outcomes so far and whether it was cancelled, shared by the
    task feed and the callbacks of whichever executor runs the counties."""

    def __init__(self, jobs: list[CountyJob], out: Path, progress: Progress, lang: str) -> None:
        self.jobs, self.out, self.progress, self.lang = jobs, out, progress, lang
        self.outcomes: dict[str, CountyOutcome] = {}
        self.stopped = False

    def canceled(self) -> bool:
        self.stopped = self.stopped or self.progress.is_canceled()
        return self.stopped

    def finish(self, o: CountyOutcome) -> None:
        if o.status != "skipped":
            save_outcome(self.out, o)
        o.files = {}  # the bytes are on disk now; keep the report small
        self.outcomes[o.code] = o
        total = len(self.jobs)
        line = (
            f"[{len(self.outcomes)}/{total}] {o.code} {o.name} {status_label(o.status, self.lang)}"
        )
        if o.status == "done":
            line += f" ({o.seconds:.1f} s)"
        self.progress.update(len(self.outcomes) / total, line)
        if o.status == "failed":
            self.progress.info(f"{o.code} {o.name}: {o.message}")

    def bad_input(self, job: CountyJob, exc: SchoolPlanError) -> None:
        self.finish(CountyOutcome(job.code, job.name, "failed", str(exc)))

    def pending(
        self,
        rules_path: str | Path | None,
        *,
        formats: tuple[str, ...],
        export: ExportFn | None,
        force: bool,
    ) -> Iterator[CountyTask]:
        out = self.out
        done = None if force else (lambda code, h: is_done(out, code, h))
        tasks = make_tasks(
            self.jobs,
            rules_path,
            formats=formats,
            export=export,
            lang=self.lang,
            on_error=self.bad_input,
            skip=done,
        )
        try:
            while not self.canceled():
                task = next(tasks, None)
                if task is None:
                    return
                if task.skip:
                    self.finish(_skipped(out, task))
                else:
                    yield task
        finally:
            tasks.close()  # removes the bundles' temporary folder at once, also on cancel


def _run_pool(
    tasks: Iterator[CountyTask],
    finish: Callable[[CountyOutcome], None],
    n: int,
    canceled: Callable[[], bool],
) -> None:
    """A bounded window of tasks in flight, so bundles are built only as workers free up."""
    # spawn: forking a process that already holds OR-tools/GDAL threads is not safe
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
        running: dict[Any, CountyTask] = {}
        it = iter(tasks)
        exhausted = False
        while True:
            while not exhausted and len(running) < 2 * n:
                task = next(it, None)
                if task is None:
                    exhausted = True
                else:
                    running[pool.submit(plan_county, task)] = task
            if canceled():
                for fut in [f for f in running if f.cancel()]:
                    del running[fut]  # queued, not started: dropped; the running ones finish
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
    tasks: Iterator[CountyTask],
    finish: Callable[[CountyOutcome], None],
    *,
    client: Any,
    scheduler: str | None,
) -> None:
    """Counties on a Dask cluster; on cancel no new county is submitted and the ones submitted
    finish (a cluster cannot tell a queued task from a running one)."""
    # dask.distributed takes a second to import and only a cluster run needs it
    from dask.distributed import Client, as_completed

    own = client is None
    if own:
        client = Client(scheduler, timeout="30s")  # type: ignore[no-untyped-call]  # distributed leaves it unannotated
    try:
        n = max(1, sum(client.nthreads().values()))
        running: dict[str, CountyTask] = {}
        it = iter(tasks)
        ac = as_completed()  # type: ignore[no-untyped-call]  # distributed leaves it unannotated

        def feed() -> bool:
            task = next(it, None)
            if task is None:
                return False
            # pure=False: a rerun must really run, and two counties never share a key
            fut = client.submit(
                plan_county, task, pure=False, key=f"plan-{task.code}-{time.time_ns()}"
            )
            running[fut.key] = task
            ac.add(fut)  # type: ignore[no-untyped-call]  # distributed leaves it unannotated
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
