"""A batch's outcome: the report of every county and OUT/batch_summary.csv."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batch.worker import CountyOutcome
from store.atomic import replacing

# status -> (zh, en) as shown on the terminal
STATUS_LABELS = {
    "done": ("完成", "done"),
    "skipped": ("跳过(已完成)", "skipped (already done)"),
    "failed": ("失败", "failed"),
}


@dataclass
class BatchReport:
    outcomes: list[CountyOutcome]
    seconds: float
    out_dir: Path
    canceled: bool = False  # stopped by the user: counties not started are not in ``outcomes``

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0 and not self.canceled


def status_label(status: str, lang: str = "zh") -> str:
    zh, en = STATUS_LABELS.get(status, (status, status))
    return zh if lang == "zh" else en


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
    with replacing(path) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS)
        w.writeheader()
        w.writerows(summary_rows(report))
    return path
