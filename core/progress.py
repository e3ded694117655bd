"""One progress and cancel protocol for every long job.

The CLI implements it with a terminal bar, the GUI with Qt signals; engines only call
``update``, ``info`` and ``check_canceled``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from core.errors import Canceled


@runtime_checkable
class Progress(Protocol):
    def update(self, fraction: float, message: str = "") -> None:
        """Report the share done, 0..1, of the whole job, with what is being done."""

    def is_canceled(self) -> bool:
        """True once the user asked to stop."""

    def info(self, message: str) -> None:
        """A note for the user that is not an error (e.g. 'widened k to 20')."""


class NullProgress:
    """Progress that shows nothing and never cancels."""

    def update(self, fraction: float, message: str = "") -> None:
        pass

    def is_canceled(self) -> bool:
        return False

    def info(self, message: str) -> None:
        pass


class RecordingProgress(NullProgress):
    """Keeps every report; for tests and for logs."""

    def __init__(self, cancel_after: int | None = None):
        self.updates: list[tuple[float, str]] = []
        self.infos: list[str] = []
        self._cancel_after = cancel_after

    def update(self, fraction: float, message: str = "") -> None:
        self.updates.append((fraction, message))

    def is_canceled(self) -> bool:
        return self._cancel_after is not None and len(self.updates) >= self._cancel_after

    def info(self, message: str) -> None:
        self.infos.append(message)


class SubProgress:
    """Maps a stage's own 0..1 onto [start, end] of its parent's range."""

    def __init__(self, parent: Progress, start: float, end: float):
        self.parent, self.start, self.end = parent, start, end

    def update(self, fraction: float, message: str = "") -> None:
        f = min(max(fraction, 0.0), 1.0)
        self.parent.update(self.start + (self.end - self.start) * f, message)

    def is_canceled(self) -> bool:
        return self.parent.is_canceled()

    def info(self, message: str) -> None:
        self.parent.info(message)


def ensure(progress: Progress | None) -> Progress:
    return NullProgress() if progress is None else progress


def sub(progress: Progress | None, start: float, end: float) -> Progress:
    return SubProgress(ensure(progress), start, end)


def check_canceled(progress: Progress | None) -> None:
    """Raise ``Canceled`` when the user asked to stop; call between steps."""
    if progress is not None and progress.is_canceled():
        raise Canceled()
