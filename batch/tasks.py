"""A county as a self-contained task: its input files travel inside the task as bytes, so a Dask
worker needs only the schoolplan package installed, not the driver's disk. Each task carries the
hash of its input and rules, which marks a county as done for reruns."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tempfile
from collections.abc import Callable, Generator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from batch.jobs import CountyJob, code_text
from core.errors import ProjectError, SchoolPlanError
from geo.project import read_project_file
from geo.read import read_layer
from planning.project import load_rules_for
from planning.rules import rules_to_toml

SCHEMA = 1


# export(result, out_dir, formats), run on the worker; what it returns is not used.
ExportFn = Callable[[Any, Path, tuple[str, ...]], object]


@dataclass
class CountyTask:
    """Everything a worker needs, with no reference to the driver's files."""

    code: str
    name: str
    config: Any  # geo.project.ProjectConfig with file paths relative to the bundle
    files: dict[str, bytes]
    rules: Any  # planning.rules.Rules
    input_hash: str
    formats: tuple[str, ...] = ()
    export: ExportFn | None = None
    lang: str = "zh"
    skip: bool = False  # already done with this input: not sent to a worker


def safe_name(code: str) -> str:
    return re.sub(r"[^\w.-]", "_", code) or "_"


def _bundle_project(job: CountyJob) -> tuple[Any, dict[str, bytes]]:
    """The county's config with paths made relative, and its files' bytes (a Shapefile's
    sidecar files included)."""
    cfg = read_project_file(job.project)
    files: dict[str, bytes] = {}
    names: dict[Path, str] = {}
    sources = {}
    for key, src in sorted(cfg.sources.items()):
        p = Path(src.file).resolve()
        if p not in names:
            names[p] = f"{len(names):02d}_{p.name}"
            for f in sorted(p.parent.glob(p.stem + ".*")) if p.suffix.lower() == ".shp" else [p]:
                if f.is_file():
                    files[f"{len(names) - 1:02d}_{f.name}"] = f.read_bytes()
            if not p.exists():
                files.pop(names[p], None)  # the worker reports the missing file
        sources[key] = dataclasses.replace(src, file=Path(names[p]))
    cfg = dataclasses.replace(cfg, sources=sources, rules_file=None, path=None)
    return cfg, files


def _split_frames(project: Path, column: str) -> tuple[Any, dict[str, Any]]:
    """Every layer of a shared project read once; later cut per county."""
    cfg = read_project_file(project)
    frames = {}
    for key, src in cfg.sources.items():
        gdf = read_layer(src, [])
        # row positions of each county, found once: a province's layers are cut a hundred times
        by_code = None
        if column in gdf.columns:
            codes = pd.Series(gdf[column].map(code_text).to_numpy())
            by_code = codes.groupby(codes).indices
        frames[key] = (gdf, by_code)
    if "boundary" in frames and frames["boundary"][1] is None:
        raise ProjectError(
            f"{project}: the boundary layer has no county column '{column}'",
            fix="add the county code column to the boundary layer, or list one project per county",
        )
    return cfg, frames


def _split_bundle(
    job: CountyJob, cfg: Any, frames: dict[str, Any], tmp: Path
) -> tuple[Any, Callable[[], dict[str, bytes]], str]:
    """The county's config, a function writing its rows of every layer as one GeoPackage (not
    called for a county already done), and a content hash of those rows. A layer without the
    county column is cut by the county's boundary polygon."""
    bnd, bnd_rows = frames["boundary"]
    mine = bnd.iloc[bnd_rows.get(job.code, [])]
    if mine.empty:
        raise ProjectError(
            f"county {job.code} is not in the boundary layer's column '{job.split_column}'"
        )
    gpkg = tmp / f"{safe_name(job.code)}.gpkg"
    digest = hashlib.sha256()
    sources, parts = {}, {}
    for key, (gdf, by_code) in sorted(frames.items()):
        if by_code is not None:
            part = gdf.iloc[by_code.get(job.code, [])]
        else:
            shape = mine.to_crs(gdf.crs).union_all() if gdf.crs else mine.union_all()
            part = gdf[gdf.intersects(shape)]
        part = gpd.GeoDataFrame(part.reset_index(drop=True), geometry=gdf.geometry.name)
        digest.update(key.encode())
        digest.update(
            pd.util.hash_pandas_object(part.drop(columns=part.geometry.name)).to_numpy().tobytes()
        )
        digest.update(b"".join(part.geometry.to_wkb(hex=False).fillna(b"").tolist()))
        parts[key] = part
        src = cfg.sources[key]
        # the table's coordinates are geometry now, in the CRS read_layer gave them
        sources[key] = dataclasses.replace(
            src, file=Path(gpkg.name), layer=key, x=None, y=None, sheet=None, crs=None
        )

    def write() -> dict[str, bytes]:
        gpkg.unlink(missing_ok=True)
        for key, part in parts.items():
            part.to_file(gpkg, layer=key, driver="GPKG", engine="pyogrio")
        data = gpkg.read_bytes()
        gpkg.unlink()
        return {gpkg.name: data}

    county_cfg = dataclasses.replace(cfg, sources=sources, rules_file=None, path=None)
    return county_cfg, write, digest.hexdigest()


def _hash(cfg: Any, files: dict[str, bytes], rules: Any, extra: str) -> str:
    h = hashlib.sha256()
    h.update(f"schema {SCHEMA} {_version()} {extra}".encode())
    h.update(rules_to_toml(rules).encode())
    for _key, src in sorted(cfg.sources.items()):
        h.update(repr(dataclasses.replace(src, file=Path(src.file).name)).encode())
    h.update(repr((cfg.crs, cfg.name)).encode())
    for name in sorted(files):
        h.update(name.encode())
        h.update(hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def _version() -> str:
    try:
        return version("schoolplan")
    except PackageNotFoundError:  # running from a source tree
        return "dev"


def make_tasks(
    jobs: list[CountyJob],
    rules_path: str | Path | None = None,
    *,
    formats: tuple[str, ...] = (),
    export: ExportFn | None = None,
    lang: str = "zh",
    on_error: Callable[[CountyJob, SchoolPlanError], None] | None = None,
    skip: Callable[[str, str], bool] | None = None,
) -> Generator[CountyTask, None, None]:
    """One task per county, built lazily (a province's bundles need not all sit in memory).
    A county whose input cannot even be bundled goes to ``on_error`` and is not yielded; one for
    which ``skip(code, input_hash)`` holds comes with ``skip`` set and no files."""
    shared: dict[tuple[Path, str], tuple[Any, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="schoolplan-batch-") as tmp:
        for job in jobs:
            try:
                rules = load_rules_for(read_project_file(job.project), rules_path)
                if job.split_column:
                    key = (job.project.resolve(), job.split_column)
                    if key not in shared:
                        shared[key] = _split_frames(job.project, job.split_column)
                    cfg, write, content = _split_bundle(job, *shared[key], Path(tmp))
                    digest = _hash(cfg, {}, rules, f"split {content} {formats}")
                    skipped = skip is not None and skip(job.code, digest)
                    files = {} if skipped else write()
                else:
                    cfg, files = _bundle_project(job)
                    digest = _hash(cfg, files, rules, f"{formats}")
                    skipped = skip is not None and skip(job.code, digest)
            except SchoolPlanError as exc:
                if on_error is None:
                    raise
                on_error(job, exc)
                continue
            cfg = dataclasses.replace(cfg, name=cfg.name or job.name)
            yield CountyTask(
                job.code, job.name, cfg, files, rules, digest, formats, export, lang, skipped
            )
