"""The worker side of a batch: plan one county from its task; never raises."""

from __future__ import annotations

import dataclasses
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batch.tasks import CountyTask, safe_name
from core.errors import SchoolPlanError
from planning.pipeline import run_plan
from planning.project import load_planning_layers
from store.plan import write_plan


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


def plan_county(task: CountyTask) -> CountyOutcome:
    """Plan one county from its bundle; never raises (a failure is an outcome)."""
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
            layers, report = load_planning_layers(cfg, task.rules)
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
