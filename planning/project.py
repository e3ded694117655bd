"""A project for planning: its layers (geo.project) with the rules it names, loaded together."""

from __future__ import annotations

from pathlib import Path

from core.errors import InputError, RulesError
from geo.checks import AssumedCapacity
from geo.layers import Layers
from geo.project import (  # noqa: F401
    CheckReport,
    LoadOptions,
    ProjectConfig,
    load_layers,
    make_config,
)
from planning.proposals import with_proposed_candidates
from planning.rules import Rules, load_rules


def load_options(rules: Rules) -> LoadOptions:
    """How loading fills what the data lacks, from the rules' [data] section."""
    d = rules.data
    return LoadOptions(
        raster_cell_m=d.raster_cell_m,
        grid_cell_m=rules.catchments.grid_cell_m,
        osm_margin_m=d.osm_margin_m,
        edge_tolerance_m=d.edge_tolerance_m,
        capacity=AssumedCapacity(
            primary=d.capacity_primary,
            junior=d.capacity_junior,
            senior=d.capacity_senior,
            per_student=d.capacity_per_student,
        ),
        limits=rules.checks,
        snap_max_m=rules.distance.snap_max_m,
    )


def load_rules_for(cfg: ProjectConfig, rules_path: str | Path | None = None) -> Rules:
    rules = Rules()
    for path in (cfg.rules_file, rules_path):
        if not path:
            continue
        path = Path(path)
        # load_rules reads the file itself; a folder or an unreadable file must not crash it.
        if path.exists() and not path.is_file():
            raise RulesError(
                f"rules file {path} is a folder, not a file",
                fix="name the TOML file, e.g. --rules my_rules.toml",
            )
        try:
            rules = load_rules(path, rules)
        except OSError as exc:
            raise RulesError(
                f"rules file {path} cannot be read ({exc.strerror or exc})",
                fix="check the file's permissions",
            ) from None
    return rules


def load_planning_layers(cfg: ProjectConfig, rules: Rules) -> tuple[Layers | None, CheckReport]:
    """The one loading path of every command: the layers with the rules' ``[data]`` options, and
    candidate sites proposed from the population when the project has none (the report says so).
    ``None`` layers when unusable, as ``geo.project.load_layers``."""
    layers, report = load_layers(cfg, rules.standards, load_options(rules))
    if layers is not None:
        layers, note = with_proposed_candidates(layers, rules.new_schools)
        if note is not None:
            report.problems.append(note)
    return layers, report


def load_project(
    project: str | Path | None = None,
    *,
    layer_args: dict[str, str] | None = None,
    rules_path: str | Path | None = None,
) -> tuple[Layers, Rules, CheckReport]:
    """Load a project for planning; raises ``InputError`` listing every error when unusable."""
    cfg = make_config(project, layer_args)
    rules = load_rules_for(cfg, rules_path)
    layers, report = load_planning_layers(cfg, rules)
    if layers is None:
        raise InputError(
            f"the input data cannot be used: {len(report.errors)} error(s)",
            problems=report.errors,
            fix="run 'schoolplan check' for the full report",
        )
    return layers, rules, report
