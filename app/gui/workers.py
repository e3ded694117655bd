"""The only module of SchoolPlan that starts threads.

A planning job is a plain function ``fn(progress) -> value`` run on a ``QThread``; ``QtProgress``
implements ``core.progress.Progress`` with Qt signals, so engines report to the progress bar
and poll the cancel flag without knowing about Qt. One job runs at a time: submitting while busy
cancels the running job and runs the newest request next (older pending requests are dropped,
they would be stale anyway). ``run_beside`` runs a plain function next to the caller (the print
map encodes its PNG while it draws the PDF pages); ``run_apart`` runs one in a forked process, so
the command line draws the PDF pages on the second core while it writes the other exports.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QObject, QThread, pyqtSignal

from core.errors import Canceled, SchoolPlanError


class QtProgress(QObject):
    """Progress protocol over Qt signals; safe to call from the worker thread."""

    progressed = pyqtSignal(float, str)
    noted = pyqtSignal(str)

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()

    def update(self, fraction: float, message: str = "") -> None:
        self.progressed.emit(float(min(max(fraction, 0.0), 1.0)), str(message))

    def is_canceled(self) -> bool:
        return self._cancel.is_set()

    def info(self, message: str) -> None:
        self.noted.emit(str(message))

    def cancel(self) -> None:
        self._cancel.set()


@dataclass
class Job:
    name: str  # what the job does, e.g. "plan", "catchments", "export"
    fn: Callable[[QtProgress], Any]
    tag: Any = None  # caller data handed back with the outcome (e.g. document revision)
    done: Callable[[Job, Any], None] | None = None  # called with the value when it succeeded


def run_beside(fn: Callable[[], None]) -> Callable[[], None]:
    """Start ``fn`` on a thread of its own; the returned ``join()`` waits for it and re-raises
    its exception in the caller's thread."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # re-raised by join(), in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name=getattr(fn, "__name__", "beside"), daemon=True)
    thread.start()

    def join() -> None:
        thread.join()
        if errors:
            raise errors[0]

    return join


def run_apart(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Start ``fn`` in a forked child process; the returned ``join()`` waits for it and returns
    ``fn``'s (picklable) value or re-raises its error in the caller.

    matplotlib and most of the stack hold the GIL, so only a process uses the second core. A fork
    copies the caller's memory (the plan is not serialised); where there is no fork (Windows,
    macOS), or where other threads run (the window: a fork would copy their locks), ``fn`` runs
    at once in the caller instead."""
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        value = fn()
        return lambda: value
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            outcome: tuple[str, Any] = ("value", fn())
        except BaseException as exc:  # sent to the parent, re-raised there
            outcome = ("error", exc)
        try:
            send.send(outcome)
        except (pickle.PicklingError, TypeError, AttributeError):
            send.send(("error", SchoolPlanError(f"{type(outcome[1]).__name__}: {outcome[1]}")))

    process = ctx.Process(target=child, name=getattr(fn, "__name__", "apart"), daemon=True)
    process.start()
    send.close()  # the child holds the only writing end: its death reads as EOF

    def join() -> Any:
        try:
            kind, payload = receive.recv()
        except EOFError:
            kind, payload = "error", None
        finally:
            receive.close()
            process.join()
        if kind == "value":
            return payload
        if payload is None:
            payload = SchoolPlanError(
                f"导出子进程意外结束 (退出码 {process.exitcode}) / the export process ended "
                f"unexpectedly (exit code {process.exitcode})",
                fix="再导出一次;仍失败时用 --formats 逐个导出 / export again; if it fails "
                "again, export one format at a time with --formats",
            )
        raise payload

    return join


class _JobThread(QThread):
    # Outcome of the job; emitted from the worker thread, delivered queued to the runner.
    succeeded = pyqtSignal(object)
    failed = pyqtSignal(object)  # SchoolPlanError
    crashed = pyqtSignal(str)  # traceback of an unexpected exception (a bug)
    stopped = pyqtSignal()

    def __init__(self, job: Job, progress: QtProgress):
        super().__init__()
        self.job, self.progress = job, progress

    def run(self) -> None:
        try:
            value = self.job.fn(self.progress)
        except Canceled:
            self.stopped.emit()
        except SchoolPlanError as exc:
            self.failed.emit(exc)
        except Exception:  # a bug: show it instead of killing the window
            self.crashed.emit(traceback.format_exc())
        else:
            if self.progress.is_canceled():
                self.stopped.emit()
            else:
                self.succeeded.emit(value)


class JobRunner(QObject):
    """Runs jobs one at a time off the GUI thread and reports their outcome with signals."""

    started = pyqtSignal(str)
    progressed = pyqtSignal(float, str)
    noted = pyqtSignal(str)
    finished = pyqtSignal(object, object)  # Job, value
    failed = pyqtSignal(object, object)  # Job, SchoolPlanError
    crashed = pyqtSignal(object, str)  # Job, traceback
    canceled = pyqtSignal(object)  # Job
    idle = pyqtSignal()

    def __init__(self, parent: QObject | None = None, *, supersede: bool = True):
        super().__init__(parent)
        # supersede: a new job cancels the running one (planning, map building);
        # otherwise jobs queue in order (saving, exporting).
        self.supersede = supersede
        self._thread: _JobThread | None = None
        self._pending: Job | None = None
        self._queue: list[Job] = []
        self._done: list[_JobThread] = []  # finished threads kept alive until Qt is done with them

    @property
    def busy(self) -> bool:
        return self._thread is not None

    @property
    def current(self) -> Job | None:
        return self._thread.job if self._thread else None

    def submit(self, job: Job) -> None:
        """Run ``job`` now, or after canceling the running one."""
        if self._thread is None:
            self._start(job)
        elif self.supersede:
            self._pending = job
            self._thread.progress.cancel()
        else:
            self._queue.append(job)

    def cancel(self) -> None:
        """Stop the running job (engines stop at their next check) and drop any pending one."""
        self._pending = None
        self._queue.clear()
        if self._thread is not None:
            self._thread.progress.cancel()

    def wait(self, ms: int = 30000) -> bool:
        """Block until the running job's thread ends (for shutdown)."""
        return self._thread.wait(ms) if self._thread is not None else True

    def _start(self, job: Job) -> None:
        progress = QtProgress()
        progress.progressed.connect(self.progressed)
        progress.noted.connect(self.noted)
        thread = _JobThread(job, progress)
        thread.succeeded.connect(lambda v, t=thread: self._end(t, "ok", v))
        thread.failed.connect(lambda e, t=thread: self._end(t, "failed", e))
        thread.crashed.connect(lambda tb, t=thread: self._end(t, "crashed", tb))
        thread.stopped.connect(lambda t=thread: self._end(t, "canceled", None))
        self._thread = thread
        self.started.emit(job.name)
        thread.start()

    def _end(self, thread: _JobThread, outcome: str, value: Any) -> None:
        thread.wait()
        # The outcome arrives queued: the window owning this runner may have been deleted
        # meanwhile (closed, or rebuilt for a language switch). Nobody is left to tell.
        if sip.isdeleted(self):
            return
        self._done = [t for t in self._done if t.isRunning()] + [thread]
        self._thread = None
        job = thread.job
        superseded = self._pending is not None
        if outcome == "ok" and not superseded:
            self.finished.emit(job, value)
        elif outcome == "failed":
            self.failed.emit(job, value)
        elif outcome == "crashed":
            self.crashed.emit(job, value)
        else:
            self.canceled.emit(job)
        pending, self._pending = self._pending, None
        if pending is None and self._queue:
            pending = self._queue.pop(0)
        if pending is not None:
            self._start(pending)
        else:
            self.idle.emit()
