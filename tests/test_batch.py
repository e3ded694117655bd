"""`schoolplan batch`: three counties on a Dask LocalCluster (and split from one set of layers on
the local runner) give exactly the outputs of single-county `schoolplan plan` runs; a failing
county is reported while the others finish; a rerun skips counties already done."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from app.cli import main
from batch import runner
from batch.jobs import CountyJob, read_counties
from batch.runner import is_done, run_batch
from batch.worker import CountyOutcome
from bench.instances import TEST_COUNTY, concat, county_layers, shared_dir, write_project
from core.errors import ProjectError
from core.progress import RecordingProgress
from store.plan import PLAN_LAYERS

CODES = ("431124", "431125", "431126")
COUNTIES_FILE = shared_dir() / "data" / "china_counties" / "counties_wgs84.geojson"
needs_data = pytest.mark.skipif(
    not COUNTIES_FILE.exists(), reason=f"real county boundaries not found at {COUNTIES_FILE}"
)


@pytest.fixture(scope="module")
def counties(tmp_path_factory) -> Path:
    """Three small synthetic counties (real boundaries), each as its own project and all
    together as one project split by 县代码; plus each county planned alone."""
    root = tmp_path_factory.mktemp("batch")
    parts = [county_layers(int(c), TEST_COUNTY) for c in CODES]
    for code, layers in zip(CODES, parts):
        write_project(layers, root / "projects" / code, f"county {code}")
        rc = main(
            ["plan", str(root / "projects" / code), "--out", str(root / "single" / code),
             "--formats", "none"]
        )  # fmt: skip
        assert rc == 0
    write_project(concat(parts), root / "combined", "three counties")
    return root


def _strip_volatile(obj):
    """Summary without wall-clock figures and creation times, which differ run to run."""
    if isinstance(obj, dict):
        return {
            k: _strip_volatile(v)
            for k, v in obj.items()
            if k not in ("timings_s", "created", "project", "county_code", "project_file")
            and not k.endswith("seconds")
        }
    if isinstance(obj, list):
        return [_strip_volatile(v) for v in obj]
    return obj


def assert_same_plan(a: Path, b: Path) -> None:
    for layer in PLAN_LAYERS:
        da = pyogrio.read_dataframe(a / "plan.gpkg", layer=layer)
        db = pyogrio.read_dataframe(b / "plan.gpkg", layer=layer)
        geom_a, geom_b = da.geometry.to_wkb(), db.geometry.to_wkb()
        assert geom_a.tolist() == geom_b.tolist(), f"{layer}: geometries differ"
        pd.testing.assert_frame_equal(
            pd.DataFrame(da.drop(columns="geometry")),
            pd.DataFrame(db.drop(columns="geometry")),
            obj=f"{a.name} {layer}",
        )
    sa = json.loads((a / "summary.json").read_text(encoding="utf-8"))
    sb = json.loads((b / "summary.json").read_text(encoding="utf-8"))
    assert _strip_volatile(sa) == _strip_volatile(sb)


def _summary(out: Path) -> dict[str, dict]:
    with (out / "batch_summary.csv").open(encoding="utf-8-sig") as fh:
        return {r["code"]: r for r in csv.DictReader(fh)}


@pytest.mark.slow  # a dask cluster and several plans
@needs_data
def test_dask_batch_equals_single_runs_reports_failure_and_skips_on_rerun(counties, capsys):
    distributed = pytest.importorskip("dask.distributed")
    broken = counties / "projects" / "999999"
    broken.mkdir(parents=True, exist_ok=True)
    (broken / "project.toml").write_text(
        '[project]\nname = "broken"\n[layers.schools]\nfile = "missing.gpkg"\n'
        '[layers.population]\nfile = "missing.gpkg"\n[layers.boundary]\nfile = "missing.gpkg"\n',
        encoding="utf-8",
    )
    listing = counties / "counties.csv"
    listing.write_text(
        "code,name,project\n"
        + "".join(f"{c},县{c},projects/{c}\n" for c in CODES)
        + "999999,坏县,projects/999999\n",
        encoding="utf-8",
    )
    out = counties / "batch_dask"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        args = ["batch", "--counties", str(listing), "--out", str(out)]
        rc = main([*args, "--scheduler", cluster.scheduler_address])
        text = capsys.readouterr()
        assert rc == 2  # one county failed
        rows = _summary(out)
        assert [rows[c]["status"] for c in CODES] == ["done"] * 3
        assert rows["999999"]["status"] == "failed"
        assert "missing.gpkg" in rows["999999"]["message"]
        assert "999999" in text.err and "missing.gpkg" in text.err
        assert "missing.gpkg" in (out / "999999" / "error.txt").read_text(encoding="utf-8")
        assert not (out / "999999" / "done.json").exists()
        for c in CODES:
            assert_same_plan(out / c, counties / "single" / c)

        # rerun: nothing planned again, files untouched
        stamps = {c: (out / c / "plan.gpkg").stat().st_mtime_ns for c in CODES}
        rc = main([*args, "--scheduler", cluster.scheduler_address])
        assert rc == 2
        rows = _summary(out)
        assert [rows[c]["status"] for c in CODES] == ["skipped"] * 3
        assert rows["999999"]["status"] == "failed"
        assert {c: (out / c / "plan.gpkg").stat().st_mtime_ns for c in CODES} == stamps


@pytest.mark.slow  # plans several counties
@needs_data
def test_split_by_county_column_equals_single_runs_and_redoes_only_changed_county(counties):
    listing = counties / "split.toml"
    listing.write_text('[split]\nproject = "combined"\ncolumn = "县代码"\n', encoding="utf-8")
    jobs = read_counties(listing)
    assert [j.code for j in jobs] == list(CODES)
    assert jobs[0].name == "道县"
    out = counties / "batch_split"
    args = ["batch", "--counties", str(listing), "--out", str(out), "--workers", "1"]
    assert main(args) == 0
    for c in CODES:
        assert_same_plan(out / c, counties / "single" / c)

    # a rules change is a new input for every county; unchanged rules skip them all
    assert main(args) == 0
    assert {r["status"] for r in _summary(out).values()} == {"skipped"}
    rules = counties / "rules.toml"
    rules.write_text("[groups]\nradius_km = 12\n", encoding="utf-8")
    marker = json.loads((out / CODES[0] / "done.json").read_text(encoding="utf-8"))
    assert is_done(out, CODES[0], marker["input_hash"])
    assert main([*args, "--rules", str(rules)]) == 0
    assert {r["status"] for r in _summary(out).values()} == {"done"}
    assert not is_done(out, CODES[0], marker["input_hash"])


def test_county_list_formats(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "project.toml").write_text("[project]\n", encoding="utf-8")
    (tmp_path / "list.csv").write_text(
        "县代码,名称,项目\n431124,道县,a\n431125,江永县,a/project.toml\n", encoding="utf-8-sig"
    )
    jobs = read_counties(tmp_path / "list.csv")
    assert jobs == [
        CountyJob("431124", "道县", tmp_path / "a" / "project.toml"),
        CountyJob("431125", "江永县", tmp_path / "a" / "project.toml"),
    ]
    (tmp_path / "list.toml").write_text(
        '[[county]]\ncode = "1"\nproject = "a"\n'
        '[split]\nproject = "a"\ncolumn = "县代码"\ncodes = ["2", "3"]\n',
        encoding="utf-8",
    )
    jobs = read_counties(tmp_path / "list.toml")
    assert [(j.code, j.split_column) for j in jobs] == [
        ("1", None),
        ("2", "县代码"),
        ("3", "县代码"),
    ]
    (tmp_path / "dup.csv").write_text("code,project\n1,a\n1,a\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="twice"):
        read_counties(tmp_path / "dup.csv")
    (tmp_path / "bad.csv").write_text("county,where\n1,a\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="code and project"):
        read_counties(tmp_path / "bad.csv")


def _fake_plan(task):
    """A county planned in no time: the cancel test is about the runner, not the plan."""
    return CountyOutcome(
        task.code,
        task.name,
        "done",
        "ok",
        files={"plan.gpkg": b"gpkg", "summary.json": b"{}"},
        input_hash=task.input_hash,
    )


@pytest.mark.parametrize("where", ["in-process", "dask"])
def test_cancel_stops_between_counties_and_a_rerun_does_the_rest(tmp_path, monkeypatch, where):
    project = Path(__file__).resolve().parents[1] / "sample_maps" / "daoxian" / "project.toml"
    jobs = [CountyJob(code, f"县{code}", project) for code in ("1", "2", "3")]
    monkeypatch.setattr(runner, "plan_county", _fake_plan)
    out = tmp_path / "out"

    def run(progress):
        if where == "in-process":
            return run_batch(jobs, out, workers=1, progress=progress)
        distributed = pytest.importorskip("dask.distributed")
        with (
            distributed.LocalCluster(
                n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            return run_batch(jobs, out, client=client, progress=progress)

    # the planner cancels once the first county is reported
    progress = RecordingProgress(cancel_after=1)
    report = run(progress)
    assert report.canceled and not report.ok
    finished = [o.code for o in report.outcomes]
    # in-process nothing starts after the cancel; a cluster of one thread was handed two
    # counties at once (a window of 2 per thread) and finishes both, but gets no third
    assert finished == (["1"] if where == "in-process" else ["1", "2"])
    assert sorted(p.parent.name for p in out.glob("*/done.json")) == sorted(finished)
    assert list(_summary(out)) == finished
    assert progress.updates[0][1].startswith("[1/3] 1 县1")

    # a rerun skips what was done and plans the rest
    report = run(RecordingProgress())
    assert not report.canceled and report.ok
    assert {o.code: o.status for o in report.outcomes} == {
        c: "skipped" if c in finished else "done" for c in ("1", "2", "3")
    }
