"""The county list of a batch: one project per county, or one set of layers split by a county
code column (see ``read_counties``)."""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ProjectError
from geo.project import read_project_file
from geo.read import read_layer

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
        names: dict[str, str] = {}
        if not codes:
            codes, names = split_codes(project, column)
        jobs += [CountyJob(c, names.get(c, ""), project, column) for c in codes]
    return jobs


def _project_path(p: Path) -> Path:
    return p / "project.toml" if p.is_dir() else p


def split_codes(project: Path, column: str) -> tuple[list[str], dict[str, str]]:
    """The county codes (and names) found in the boundary layer's ``column``."""
    cfg = read_project_file(project)
    if "boundary" not in cfg.sources:
        raise ProjectError(f"{project}: no boundary layer to list the counties from")
    gdf = read_layer(cfg.sources["boundary"], [])
    if column not in gdf.columns:
        raise ProjectError(
            f"{project}: the boundary layer has no column '{column}'",
            fix=f"columns are: {', '.join(map(str, gdf.columns))}",
        )
    codes = [code_text(v) for v in gdf[column]]
    name_col = _pick(map(str, gdf.columns), ("名称", "name", "县名"))
    names = {c: str(n) for c, n in zip(codes, gdf[name_col])} if name_col else {}
    return sorted(dict.fromkeys(codes)), names


def code_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()
