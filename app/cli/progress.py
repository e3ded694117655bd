"""Terminal implementations of the progress protocol (``core.progress``): one redrawn bar on
stderr for a plan, one line per step for a batch."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class TerminalProgress:
    def __init__(self, stream=None, width: int = 30, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.width = width
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = 0.0
        self._message = ""
        self._start = time.perf_counter()

    def update(self, fraction: float, message: str = "") -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if message and message != self._message:
            self._message = message
            if not self.enabled:
                print(f"[{fraction * 100:5.1f}%] {message}", file=self.stream, flush=True)
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < 0.05 and fraction < 1.0:
            return
        self._last = now
        filled = int(round(self.width * fraction))
        bar = "█" * filled + "·" * (self.width - filled)
        self.stream.write(f"\r{bar} {fraction * 100:5.1f}%  {self._message[:60]:<60}")
        if fraction >= 1.0:
            self.stream.write("\n")
        self.stream.flush()

    def is_canceled(self) -> bool:
        return False  # Ctrl-C raises KeyboardInterrupt, handled by the CLI

    def info(self, message: str) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (self.width + 70) + "\r")
        print(f"  · {message}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class LineProgress:
    """One printed line per message (a batch: a line per county), notes on stderr."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def update(self, fraction: float, message: str = "") -> None:
        if message:
            print(message, file=self.out, flush=True)

    def is_canceled(self) -> bool:
        return False  # Ctrl-C raises KeyboardInterrupt, handled by the CLI

    def info(self, message: str) -> None:
        print(f"    {message}", file=self.err, flush=True)
