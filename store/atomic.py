"""Atomic writes: a file is written in full under a temporary name beside its target, flushed to
disk and made current by one rename, so a stop at any moment leaves the old file or the new one,
never half of either. A failing write or rename becomes a ``StoreError`` naming the file and what
the planner can do about it.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import SchoolPlanError
from core.jsonable import jsonable


class StoreError(SchoolPlanError):
    """A file could not be written or renamed (permission, disk full, locked by a program)."""


def os_fix(exc: OSError) -> str:
    """What the planner can do about a failed write or rename."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "free some disk space, or write to another disk"
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EBUSY):
        return (
            "close programs that may hold the file (QGIS, Excel; antivirus or sync software such "
            "as OneDrive may lock it for a moment) or check the folder's permissions, then try again"
        )
    if exc.errno == errno.EROFS:
        return "the disk is read-only: write to another folder"
    return "check the folder, then try again"


def store_error(what: str, path: Path | str, exc: OSError) -> StoreError:
    """A ``StoreError`` for ``exc`` raised while doing ``what`` (e.g. 'write') to ``path``."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return StoreError(f"cannot {what} {path}: {reason}", fix=os_fix(exc))


def temp_name(target: Path, suffix: str = "") -> Path:
    """A unique temporary path beside ``target`` (hidden, recognisable by ``.tmp``)."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp{suffix}")


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def fsync_dir(folder: Path) -> None:
    """Make renames inside ``folder`` durable (POSIX; Windows has no directory handles)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(target: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; when the block ends without error the file
    written there is flushed and renamed over ``target``, when it fails the file is removed."""
    target = Path(target)
    tmp = temp_name(target, suffix)
    try:
        yield tmp
        fsync_file(tmp)
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise store_error("replace", target, exc) from None
    except OSError as exc:
        raise store_error("write", target, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with replacing(Path(path)) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    with replacing(Path(path)) as tmp:
        tmp.write_text(text, encoding=encoding)


def write_json_atomic(path: Path, data: Any) -> None:
    with replacing(Path(path)) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(jsonable(data), fh, ensure_ascii=False, indent=2)
