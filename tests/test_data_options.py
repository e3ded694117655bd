"""The batch worker and the forecast command load a project as `plan` does: with the rules'
[data] options (here the capacity assumed for schools that give only a level and a place)."""

from __future__ import annotations

import pandas as pd
import pyogrio
from openpyxl import load_workbook

from app.cli import main
from batch.jobs import CountyJob
from batch.tasks import make_tasks
from batch.worker import plan_county
from tests import builders

ASSUMED = 777  # not the rules' default capacity_primary


def _project(tmp):
    """Schools with only a name, a place and a level; a rules file assuming 777 places."""
    tmp.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "name": ["Alpha Elementary", "Beta Middle"],
            "longitude": [111.55, 111.62],
            "latitude": [25.45, 25.52],
            "level": ["Elementary", "Middle School"],
        }
    ).to_csv(tmp / "schools.csv", index=False)
    builders.write_layers(tmp)
    (tmp / "rules.toml").write_text(f"[data]\ncapacity_primary = {ASSUMED}\n", encoding="utf-8")
    toml = tmp / "project.toml"
    toml.write_text(
        '[project]\nname = "测试县"\nrules = "rules.toml"\n'
        '[layers.schools]\nfile = "schools.csv"\n'
        '[layers.population]\nfile = "county.gpkg"\nlayer = "population"\n'
        '[layers.boundary]\nfile = "county.gpkg"\nlayer = "boundary"\n',
        encoding="utf-8",
    )
    return toml


def test_batch_worker_loads_with_the_rules_data_options(tmp_path):
    toml = _project(tmp_path / "p")
    (task,) = make_tasks([CountyJob("1", "测试县", toml)])
    assert task.rules.data.capacity_primary == ASSUMED
    out = plan_county(task)
    assert out.status == "done", out.message
    (tmp_path / "plan.gpkg").write_bytes(out.files["plan.gpkg"])
    schools = pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="schools")
    primary = schools[(schools["level"] == "primary") & (schools["status"] == "existing")]
    assert len(primary) and (primary["capacity"] == ASSUMED).all()


def test_forecast_command_loads_with_the_rules_data_options(tmp_path, capsys):
    toml = _project(tmp_path / "p")
    out = tmp_path / "out"
    assert main(["forecast", str(toml), "--out", str(out), "--lang", "en"]) == 0
    rows = list(load_workbook(out / "forecast.xlsx")["Zones"].iter_rows(values_only=True))
    head = rows[0]
    level, sid, cap = head.index("Level"), head.index("School id"), head.index("Places now")
    primary = [
        r[cap]
        for r in rows[1:]
        if r[level] in ("primary", "小学", "Primary") and not str(r[sid]).startswith("NEW")
    ]
    assert primary and all(c == ASSUMED for c in primary)
