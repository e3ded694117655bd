"""Shared helpers of the benchmark scripts: the result row, timing, peak memory, the writers.

Convention: every ``bench/bench_*.py`` exposes ``run(quick: bool = False) -> list[dict]`` and
returns rows made with ``row(...)``. ``bench/run_all.py`` gathers them and writes
``bench/RESULTS.md`` and ``bench/results.json`` with ``write_results``.

Row fields:
    stage    what is timed ("catchments: road nearest", "plan (no exports)", ...)
    size     the instance ("county 3,000 villages × 300 schools", ...)
    ours_s   our time in seconds (median of several runs)
    peer     the peer tool ("networkx multi_source_dijkstra", ...) or ""
    peer_s   the peer's time in the same process, or None
    ratio    peer_s / ours_s (how many times faster we are), or None
    target   the issue's target in words ("< 0.05 s and ≥ 20× networkx")
    met      True / False, or None when the row states no target
    gap_pct  objective gap in % ((ours - peer) / |peer| × 100), or None
    note     anything a reader needs (peak memory, objective values, why a peer was skipped)

Import it as ``from bench.common import row, median_time`` (``bench/run_all.py`` puts the
repository root on ``sys.path``; a script run directly does
``sys.path.insert(0, str(Path(__file__).resolve().parents[1]))`` first).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_MD = BENCH_DIR / "RESULTS.md"
RESULTS_JSON = BENCH_DIR / "results.json"
FIELDS = (
    "stage",
    "size",
    "ours_s",
    "peer",
    "peer_s",
    "ratio",
    "target",
    "met",
    "gap_pct",
    "note",
)


@dataclass
class Row:
    stage: str
    size: str
    ours_s: float | None
    peer: str = ""
    peer_s: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    gap_pct: float | None = None
    note: str = ""


def row(
    stage: str,
    size: str,
    ours_s: float | None,
    *,
    peer: str = "",
    peer_s: float | None = None,
    target: str = "",
    max_s: float | None = None,
    min_ratio: float | None = None,
    max_gap_pct: float | None = None,
    ours_obj: float | None = None,
    peer_obj: float | None = None,
    met: bool | None = None,
    note: str = "",
) -> dict:
    """One result row as a dict. ``met`` is computed from the limits given (all must hold) unless
    passed explicitly; the ratio and the objective gap are computed from the figures."""
    ratio = peer_s / ours_s if (peer_s is not None and ours_s) else None
    gap = None
    if ours_obj is not None and peer_obj is not None:
        gap = 0.0 if ours_obj == peer_obj else (ours_obj - peer_obj) / max(abs(peer_obj), 1e-12)
        gap *= 100.0
    if met is None:
        checks: list[bool] = []
        if max_s is not None:
            checks.append(ours_s is not None and ours_s < max_s)
        if min_ratio is not None:
            checks.append(ratio is not None and ratio >= min_ratio)
        if max_gap_pct is not None:
            checks.append(gap is not None and gap <= max_gap_pct)
        met = all(checks) if checks else None
    return asdict(Row(stage, size, ours_s, peer, peer_s, ratio, target, met, gap, note))


def normalise(r: dict) -> dict:
    """A row from a script that did not use ``row``: keep known fields, fill the others."""
    out = {k: r.get(k) for k in FIELDS}
    out["stage"] = str(out["stage"] or "?")
    out["size"] = str(out["size"] or "")
    out["peer"] = str(out["peer"] or "")
    out["target"] = str(out["target"] or "")
    out["note"] = str(out["note"] or "")
    if out["ratio"] is None and out["peer_s"] and out["ours_s"]:
        out["ratio"] = out["peer_s"] / out["ours_s"]
    extra = {k: v for k, v in r.items() if k not in FIELDS}
    if extra:
        text = ", ".join(f"{k}={_fmt_any(v)}" for k, v in extra.items())
        out["note"] = f"{out['note']}; {text}" if out["note"] else text
    return out


# ---------------------------------------------------------------- timing


def median_time(
    fn: Callable[[], Any], *, repeat: int = 5, warmup: int = 1, max_total_s: float = 30.0
) -> tuple[float, Any]:
    """Median wall time of ``fn()`` over ``repeat`` runs after ``warmup`` untimed ones, and the
    last result. Stops early (keeping at least one timed run) once ``max_total_s`` is spent, so a
    slow peer cannot hold the whole suite."""
    result = None
    for _ in range(warmup):
        result = fn()
    times: list[float] = []
    spent = 0.0
    for _ in range(max(1, repeat)):
        gc.collect()
        t = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t
        times.append(dt)
        spent += dt
        if spent > max_total_s:
            break
    return statistics.median(times), result


def once(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of a single run (for peers that take tens of seconds)."""
    gc.collect()
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def traced_peak(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Peak bytes allocated through Python's allocators (numpy included) while ``fn`` runs.
    Misses memory that C libraries (GDAL, OR-tools) allocate themselves: see ``RssSampler``."""
    gc.collect()
    was = tracemalloc.is_tracing()
    if not was:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not was:
            tracemalloc.stop()
    return peak, result


class RssSampler:
    """Peak resident memory of this process (all allocators) sampled every ``interval`` s.

    >>> with RssSampler() as s:
    ...     work()
    >>> s.peak_bytes
    """

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak_bytes = 0
        self.start_bytes = 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._proc.memory_info().rss)
            self._stop.wait(self._interval)

    def __enter__(self) -> RssSampler:
        self.start_bytes = self.peak_bytes = self._proc.memory_info().rss
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self._proc.memory_info().rss)


def max_rss_bytes() -> int:
    """Peak resident memory of this whole process so far (Linux: ru_maxrss in KiB)."""
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kb) * (1 if sys.platform == "darwin" else 1024)


def mb(nbytes: float | None) -> str:
    return "?" if nbytes is None else f"{nbytes / 2**20:,.0f} MB"


# ---------------------------------------------------------------- writing


def machine() -> dict:
    info: dict[str, Any] = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
        info["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    except Exception:  # noqa: BLE001 - optional detail
        pass
    try:
        info["cpu"] = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except Exception:  # noqa: BLE001 - not Linux
        info["cpu"] = platform.processor()
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        info["commit"] = ""
    return info


def _fmt_s(v: float | None) -> str:
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 1:
        return f"{v:.2f}"
    if v >= 0.01:
        return f"{v:.3f}"
    return f"{v:.4f}"


def _fmt_any(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Iterable[dict]) -> str:
    head = "| stage | size | ours (s) | peer | peer (s) | ratio | target | met | gap % | note |"
    lines = [head, "|---|---|---:|---|---:|---:|---|:---:|---:|---|"]
    for r in rows:
        met = {True: "✅ met", False: "❌ missed", None: "—"}[r.get("met")]
        ratio = "—" if r.get("ratio") is None else f"{r['ratio']:,.1f}×"
        gap = "—" if r.get("gap_pct") is None else f"{r['gap_pct']:+.3f}"
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    r["stage"],
                    r["size"],
                    _fmt_s(r.get("ours_s")),
                    r.get("peer") or "—",
                    _fmt_s(r.get("peer_s")),
                    ratio,
                    r.get("target") or "—",
                    met,
                    gap,
                    r.get("note") or "",
                )
            )
            + " |"
        )
    return "\n".join(lines)


def write_results(
    sections: dict[str, list[dict]],
    *,
    command: str,
    extra_md: str = "",
    meta: dict | None = None,
    md_path: Path = RESULTS_MD,
    json_path: Path = RESULTS_JSON,
) -> None:
    """``sections``: title → rows (in order). Writes the Markdown page and the JSON."""
    info = machine() | (meta or {})
    all_rows = [r for rows in sections.values() for r in rows]
    targeted = [r for r in all_rows if r.get("met") is not None]
    n_met = sum(1 for r in targeted if r["met"])
    md = [
        "# SchoolPlan benchmark results",
        "",
        f"Produced by `{command}` on {info['date']} — {info.get('cpu', '?')}, "
        f"{info.get('cpus', '?')} cores, {info.get('memory_gb', '?')} GB, Python {info['python']}, "
        f"commit {info.get('commit', '?')}.",
        "",
        "Times are medians of several runs (wall clock, seconds) unless the note says otherwise; "
        "`ratio` = peer time / our time, measured in the same process on the same data; "
        "`gap %` = (our objective − peer objective) / peer objective. "
        "The machine is shared: load average at start "
        f"{info.get('load_avg', '?')}.",
        "",
        f"**Targets: {n_met} of {len(targeted)} met.**",
        "",
    ]
    for title, rows in sections.items():
        md += [f"## {title}", "", markdown_table(rows) if rows else "_no rows_", ""]
    if extra_md:
        md += [extra_md.rstrip(), ""]
    md_path.write_text("\n".join(md), encoding="utf-8")
    data = {"meta": info, "command": command, "sections": sections}
    json_path.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8"
    )


def _json_default(v: Any) -> Any:
    try:
        import numpy as np

        if isinstance(v, np.generic):
            return v.item()
    except ImportError:
        pass
    return str(v)
