"""Running a part of an export in a forked process, beside the print map.

The print map (matplotlib) holds the GIL for seconds; the HTML map and the Excel tables do not
need it. On a machine with two or more cores a forked child writes those while the parent
draws the print map: the child shares the plan's memory (nothing is pickled in), returns only
file paths and timings, and an error in it comes back as the same error, with its message.

Only where forking is safe: a POSIX system and a process with one thread (the command line).
The window exports from a worker thread, where a fork could copy a held lock; it runs the
stages one after another instead.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import SchoolPlanError


def can_fork() -> bool:
    """A fork is safe and pays: POSIX, one thread in the process, two or more cores."""
    return (
        sys.platform != "win32"
        and "fork" in mp.get_all_start_methods()
        and threading.active_count() == 1
        and (os.cpu_count() or 1) >= 2
    )


def start_beside(job: Callable[[], tuple[dict[str, Path], dict[str, float]]]) -> Callable[[], Any]:
    """Run ``job`` in a forked child; the returned ``join()`` gives its (files, timings) or
    raises its error."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(("ok", job()))
        except SchoolPlanError as exc:
            send.send(("error", (exc.message, exc.fix)))
        except BaseException:  # noqa: BLE001 - everything goes back to the parent
            send.send(("crash", traceback.format_exc(limit=8)))
        finally:
            send.close()

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()

    def join() -> tuple[dict[str, Path], dict[str, float]]:
        try:
            kind, value = recv.recv()
        except EOFError:
            kind, value = "crash", f"the export process stopped (exit code {proc.exitcode})"
        finally:
            proc.join()
            recv.close()
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        if kind == "error":
            raise SchoolPlanError(value[0], fix=value[1])
        raise RuntimeError(value)

    return join
