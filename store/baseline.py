"""The baseline of a re-zoning (issue 15) read from disk: the zones of a saved plan (a plan
folder or its ``plan.gpkg``) or of a scenario folder's saved result, per level unit_id ->
school_id (``planning.catchments.zoning_of`` of its demand layer)."""

from __future__ import annotations

from pathlib import Path

import pyogrio

from core.errors import InputError
from planning.catchments import zoning_of
from store.scenario import is_scenario_folder, load_scenario

FIX = (
    "give a scenario folder saved with its result, a folder written by 'schoolplan plan', or "
    "its plan.gpkg"
)


def read_baseline(path: str | Path) -> dict[str, dict[str, str]]:
    """Per level, unit_id -> the school the plan or scenario at ``path`` zones it to."""
    p = Path(path)
    if is_scenario_folder(p):
        sc = load_scenario(p)
        if sc.result is None or not len(sc.result.demand):
            raise InputError(f"{p}: the scenario was saved without a result", fix=FIX)
        zones = zoning_of(sc.result.demand)
    else:
        gpkg = p / "plan.gpkg" if p.is_dir() else p
        if not gpkg.is_file():
            raise InputError(f"{p}: no plan or scenario found there", fix=FIX)
        try:
            demand = pyogrio.read_dataframe(gpkg, layer="demand", read_geometry=False)
        except Exception as exc:  # noqa: BLE001 - any failure: not a readable plan
            raise InputError(
                f"{gpkg}: its demand layer cannot be read ({str(exc)[:200]})", fix=FIX
            ) from None
        zones = zoning_of(demand)
    if not any(zones.values()):
        raise InputError(f"{p}: the plan zones no unit to a school", fix=FIX)
    return zones
